use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::TimeDelta;
use latchkey::models::session::SessionRow;

use crate::helpers::{TestApp, PASSWORD, REFRESH_COOKIE};

#[actix_web::test]
async fn browser_refresh_answers_an_access_token_and_rotates_the_cookie() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let first = browser.cookie(REFRESH_COOKIE).unwrap();

    let resp = browser.refresh().await;

    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = resp.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["role"], "user");
    assert!(body["user"]["id"].is_string());
    let raw = resp.raw_set_cookie(REFRESH_COOKIE).expect("rotated cookie");
    for flag in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/auth",
        "Max-Age=",
    ] {
        assert!(raw.contains(flag), "{flag} missing from {raw}");
    }
    let second = browser.cookie(REFRESH_COOKIE).unwrap();
    assert_ne!(first, second, "the refresh token rotated");

    let me = app
        .get_bearer("/api/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.json()["email"], "ada@example.com");
}

#[actix_web::test]
async fn browser_refresh_without_the_custom_header_is_403_and_consumes_nothing() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;

    let resp = browser.send(TestRequest::post(), "/auth/refresh").await;
    resp.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let resp = browser
        .send(
            TestRequest::post().insert_header(("x-latchkey-refresh", "yes")),
            "/auth/refresh",
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);

    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

#[actix_web::test]
async fn browser_refresh_from_another_origin_is_403() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;

    let foreign = browser
        .send(
            TestRequest::post()
                .insert_header(("x-latchkey-refresh", "1"))
                .insert_header(("origin", "https://evil.example")),
            "/auth/refresh",
        )
        .await;
    foreign.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let cross_site = browser
        .send(
            TestRequest::post()
                .insert_header(("x-latchkey-refresh", "1"))
                .insert_header(("sec-fetch-site", "cross-site")),
            "/auth/refresh",
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);

    let own = browser
        .send(
            TestRequest::post()
                .insert_header(("x-latchkey-refresh", "1"))
                .insert_header(("host", "localhost:8080"))
                .insert_header(("origin", "http://localhost:8080"))
                .insert_header(("sec-fetch-site", "same-origin")),
            "/auth/refresh",
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
}

#[actix_web::test]
async fn public_url_pins_the_allowed_origin() {
    let app = TestApp::spawn_with(|s| s.public_url = Some("https://auth.example.com".into())).await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let send = |origin: &'static str| {
        browser.send(
            TestRequest::post()
                .insert_header(("x-latchkey-refresh", "1"))
                .insert_header(("host", "localhost"))
                .insert_header(("origin", origin)),
            "/auth/refresh",
        )
    };
    assert_eq!(send("http://localhost").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        send("https://auth.example.com").await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn browser_refresh_failures_answer_401_json_and_clear_the_cookie() {
    let app = TestApp::spawn().await;

    let no_cookie = app.browser().refresh().await;
    no_cookie.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");

    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    browser.set_cookie_value(REFRESH_COOKIE, "garbage.not.ajwt");
    let resp = browser.refresh().await;
    resp.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    let cleared = resp.raw_set_cookie(REFRESH_COOKIE).expect("cookie cleared");
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("Path=/auth"),
        "{cleared}"
    );
    assert!(browser.cookie(REFRESH_COOKIE).is_none());
}

#[actix_web::test]
async fn api_refresh_with_the_current_token_rotates_the_pair() {
    let app = TestApp::spawn().await;
    let (_, refresh) = app.api_user("ada@example.com").await;

    let resp = app.api_refresh(&refresh).await;

    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let body = resp.json();
    let next = body["refresh_token"].as_str().expect("a new refresh token");
    assert_ne!(next, refresh);
    assert!(body["access_token"].is_string());
    assert_eq!(app.api_refresh(next).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn api_refresh_without_a_bearer_token_is_401() {
    let app = TestApp::spawn().await;
    app.call(TestRequest::post().uri("/api/auth/refresh"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

#[actix_web::test]
async fn the_previous_token_within_the_grace_window_gets_an_access_token_only() {
    let app = TestApp::spawn().await;
    let (_, first) = app.api_user("ada@example.com").await;
    let second = app.api_rotate(&first).await;
    app.clock.advance(TimeDelta::seconds(10));

    let grace = app.api_refresh(&first).await;

    assert_eq!(grace.status, StatusCode::OK, "{}", grace.text());
    let body = grace.json();
    assert!(body["access_token"].is_string());
    assert!(
        body.get("refresh_token").is_none(),
        "no new refresh token: {body}"
    );
    assert_eq!(app.audit("refresh_grace").len(), 1);
    assert_eq!(
        app.api_refresh(&second).await.status,
        StatusCode::OK,
        "session intact"
    );
}

#[actix_web::test]
async fn the_previous_token_after_the_grace_window_revokes_the_session() {
    let app = TestApp::spawn().await;
    let (access, first) = app.api_user("ada@example.com").await;
    let second = app.api_rotate(&first).await;
    app.clock.advance(TimeDelta::seconds(21));

    app.api_refresh(&first)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");

    app.api_refresh(&second)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    let reuse = app.audit("refresh_reuse");
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0].ip.as_deref(), Some("127.0.0.1"));
    let me = app.get_bearer("/api/me", &access).await;
    assert_eq!(
        me.status,
        StatusCode::UNAUTHORIZED,
        "its access tokens stop at once"
    );
}

#[actix_web::test]
async fn a_token_two_rotations_old_revokes_the_session_even_inside_the_grace_window() {
    let app = TestApp::spawn().await;
    let (_, first) = app.api_user("ada@example.com").await;
    let second = app.api_rotate(&first).await;
    let third = app.api_rotate(&second).await;

    let resp = app.api_refresh(&first).await;

    resp.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    assert_eq!(
        app.api_refresh(&third).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut conn = app.conn();
    let sessions: Vec<SessionRow> = {
        use diesel::prelude::*;
        use latchkey::db::schema::sessions;
        sessions::table
            .select(SessionRow::as_select())
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        sessions[0].revoked_reason.as_deref(),
        Some("refresh_token_reuse")
    );
}

#[actix_web::test]
async fn reuse_through_the_browser_endpoint_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let stolen = browser.cookie(REFRESH_COOKIE).unwrap();
    browser.refresh().await;
    app.clock.advance(TimeDelta::seconds(30));

    let thief = app.browser();
    thief.signup("thief@example.com", PASSWORD).await;
    thief.set_cookie_value(REFRESH_COOKIE, &stolen);
    let resp = thief.refresh().await;

    resp.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    assert!(resp
        .raw_set_cookie(REFRESH_COOKIE)
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        browser.refresh().await.status,
        StatusCode::UNAUTHORIZED,
        "victim's session ended"
    );
}

#[actix_web::test]
async fn twenty_parallel_refreshes_with_one_token_rotate_exactly_once() {
    let app = TestApp::spawn().await;
    let (_, token) = app.api_user("ada@example.com").await;

    let results = futures_util::future::join_all((0..20).map(|_| app.api_refresh(&token))).await;

    let statuses: Vec<u16> = results.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "all answered within grace: {statuses:?}"
    );
    let rotated: Vec<String> = results
        .iter()
        .filter_map(|r| r.json()["refresh_token"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(rotated.len(), 1, "exactly one rotation");
    assert_eq!(app.audit("refresh_grace").len(), 19);
    assert_eq!(app.count("sessions"), 1, "no fork");
    assert_eq!(app.api_refresh(&rotated[0]).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_refresh_token_survives_a_restart_because_keys_are_kept() {
    let app = TestApp::spawn_with(|s| {
        s.access_key = None;
        s.refresh_key = None;
    })
    .await;
    let (_, refresh) = app.api_user("ada@example.com").await;

    for file in ["access.key", "refresh.key", "session.key"] {
        let meta = std::fs::metadata(app.dir.path().join(file)).expect("key persisted");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
    }
    let restarted = TestApp::state(&app.settings, app.clock.clone());
    let claims = restarted
        .tokens
        .verify_refresh(&refresh, restarted.clock.now())
        .expect("the restarted instance accepts the token");
    assert!(!claims.sid.is_empty());
}
