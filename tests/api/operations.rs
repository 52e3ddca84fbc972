//! Operations: metrics, request ids, health.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::TimeDelta;

use crate::helpers::{TestApp, PASSWORD};

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status_and_outcomes_of_sign_ins_and_refreshes() {
    let app = TestApp::spawn().await;
    let (_, first) = app.api_user("ada@example.com").await;
    app.api_signin("ada@example.com", "wrong password").await;
    app.api_signin("ada@example.com", PASSWORD).await;
    let second = app.api_rotate(&first).await;
    app.api_refresh(&first).await; // grace
    app.clock.advance(TimeDelta::seconds(30));
    app.api_refresh(&first).await; // reuse
    app.api_refresh("junk").await; // invalid
    let _ = second;

    let resp = app.call(TestRequest::get().uri("/metrics")).await;

    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text();
    for line in [
        "latchkey_http_requests_total{method=\"POST\",route=\"/api/auth/signin\",status=\"401\"} 1",
        "latchkey_http_requests_total{method=\"POST\",route=\"/api/auth/signin\",status=\"200\"} 1",
        "latchkey_http_requests_total{method=\"POST\",route=\"/api/auth/signup\",status=\"201\"} 1",
        "latchkey_sign_ins_total{outcome=\"success\"} 1",
        "latchkey_sign_ins_total{outcome=\"failure\"} 1",
        "latchkey_refreshes_total{outcome=\"rotated\"} 1",
        "latchkey_refreshes_total{outcome=\"grace\"} 1",
        "latchkey_refreshes_total{outcome=\"reuse\"} 1",
        "latchkey_refreshes_total{outcome=\"invalid\"} 1",
        "latchkey_active_sessions 1",
        "# TYPE latchkey_http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(text.contains(
        "latchkey_http_request_duration_seconds_count{method=\"POST\",route=\"/api/auth/refresh\",status=\"401\"} 2"
    ));
}

#[actix_web::test]
async fn every_answer_carries_its_own_request_id() {
    let app = TestApp::spawn().await;
    let a = app.call(TestRequest::get().uri("/livez")).await;
    let b = app.call(TestRequest::get().uri("/api/me")).await;
    let (a, b) = (
        a.header("x-request-id").unwrap().to_owned(),
        b.header("x-request-id").unwrap().to_owned(),
    );
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
}

#[actix_web::test]
async fn livez_needs_nothing_and_healthz_checks_the_database() {
    let app = TestApp::spawn().await;
    let live = app.call(TestRequest::get().uri("/livez")).await;
    assert_eq!((live.status, live.text().as_str()), (StatusCode::OK, "ok"));
    assert_eq!(
        app.call(TestRequest::get().uri("/healthz")).await.status,
        StatusCode::OK
    );
}
