use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use crate::helpers::{TestApp, PASSWORD, REFRESH_COOKIE};

fn raw_json(path: &str, body: &'static [u8]) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
}

#[actix_web::test]
async fn malformed_json_answers_4xx_with_the_error_shape_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    let (users, sessions, audit) = (
        app.count("users"),
        app.count("sessions"),
        app.count("audit_events"),
    );

    let cases: Vec<(TestRequest, StatusCode, &str)> = vec![
        (
            raw_json("/api/auth/signup", b"{not json"),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            raw_json("/api/auth/signup", b"{\"email\": 5, \"password\": []}"),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            raw_json("/api/auth/signup", b"{\"email\": \"x@example.com\"}"),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            raw_json(
                "/api/auth/signin",
                b"{\"email\": \"ada@example.com\", \"password\": \"x\", \"admin\": true}",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            raw_json("/api/auth/signin", b"[]"),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            raw_json("/api/auth/signin", b"\xff\xfe\xfd"),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            raw_json("/api/auth/signin", b""),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            TestRequest::post()
                .uri("/api/auth/signup")
                .insert_header(("content-type", "text/plain"))
                .set_payload("email=x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            TestRequest::post()
                .uri("/api/auth/signup")
                .insert_header(("content-type", "application/json"))
                .set_payload(format!(
                    "{{\"email\":\"a@example.com\",\"password\":\"{}\"}}",
                    "p".repeat(40_000)
                )),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (req, status, code) in cases {
        let resp = app.call(req).await;
        resp.assert_error(status, code);
    }

    assert_eq!(
        (
            app.count("users"),
            app.count("sessions"),
            app.count("audit_events")
        ),
        (users, sessions, audit)
    );
}

#[actix_web::test]
async fn oversized_or_garbled_forms_answer_4xx_pages() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let csrf = browser.csrf_token("/signup").await;
    let huge = "a".repeat(20_000);

    let resp = browser
        .post_form("/signup", &[("email", &huge), ("csrf_token", &csrf)])
        .await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));

    let resp = browser
        .send(
            TestRequest::post()
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(&b"email=%ff%fe&password=%"[..]),
            "/login",
        )
        .await;
    assert!(resp.status.is_client_error(), "{}", resp.status);

    let resp = browser
        .send(
            TestRequest::post()
                .insert_header(("content-type", "application/json"))
                .set_payload("{}"),
            "/login",
        )
        .await;
    assert!(resp.status.is_client_error(), "{}", resp.status);
    assert_eq!(app.count("users"), 0);
}

#[actix_web::test]
async fn odd_authorization_headers_answer_401() {
    let app = TestApp::spawn().await;
    for value in [
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRhOnB3",
        "bearer   ",
        "Token abc",
    ] {
        let resp = app
            .call(
                TestRequest::get()
                    .uri("/api/me")
                    .insert_header(("authorization", value)),
            )
            .await;
        resp.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let resp = app
        .call(
            TestRequest::get()
                .uri("/api/me")
                .insert_header(("authorization", &b"Bearer \xff\xfe"[..])),
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_garbled_or_huge_refresh_cookie_answers_401() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    for value in ["", "x", "a.b.c", &"z".repeat(3000)] {
        browser.signup("ada@example.com", PASSWORD).await;
        browser.set_cookie_value(REFRESH_COOKIE, value);
        let resp = browser.refresh().await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{value:?}");
    }
}

#[actix_web::test]
async fn every_guarded_route_answers_401_without_a_token() {
    let app = TestApp::spawn().await;
    let routes = [
        TestRequest::get().uri("/api/me"),
        TestRequest::get().uri("/api/sessions"),
        TestRequest::delete().uri("/api/sessions/abc"),
        TestRequest::post().uri("/api/auth/logout"),
        TestRequest::get().uri("/fragments/account"),
        TestRequest::post().uri("/fragments/account/password"),
        TestRequest::post().uri("/fragments/account/sessions/abc/revoke"),
        TestRequest::post().uri("/fragments/account/sessions/revoke-others"),
        TestRequest::get().uri("/fragments/admin/sessions"),
        TestRequest::post().uri("/fragments/admin/sessions/abc/revoke"),
        TestRequest::post().uri("/fragments/admin/users/abc/revoke-all"),
        TestRequest::get().uri("/fragments/admin/audit"),
        TestRequest::get().uri("/api/admin/sessions"),
        TestRequest::delete().uri("/api/admin/sessions/abc"),
    ];
    for req in routes {
        let resp = app.call(req).await;
        resp.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
    }
}

#[actix_web::test]
async fn public_pages_answer_without_a_token() {
    let app = TestApp::spawn().await;
    for path in [
        "/login",
        "/signup",
        "/account",
        "/healthz",
        "/static/css/app.css",
        "/static/js/latchkey.js",
    ] {
        let resp = app.call(TestRequest::get().uri(path)).await;
        assert_eq!(resp.status, StatusCode::OK, "{path}");
    }
    let home = app.call(TestRequest::get().uri("/")).await;
    home.assert_redirect_to("/account");
    assert_eq!(
        app.call(TestRequest::get().uri("/healthz")).await.json()["status"],
        "ok"
    );
}

#[actix_web::test]
async fn unknown_paths_answer_404_json_under_api_and_a_page_elsewhere() {
    let app = TestApp::spawn().await;
    app.call(TestRequest::get().uri("/api/nope"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let page = app.call(TestRequest::get().uri("/nope")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.text().contains("Page not found"));
    let missing_static = app.call(TestRequest::get().uri("/static/js/nope.js")).await;
    assert_eq!(missing_static.status, StatusCode::NOT_FOUND);
}
