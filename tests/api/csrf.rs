use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use crate::helpers::{csrf_in, TestApp, PASSWORD};

#[actix_web::test]
async fn signup_without_a_csrf_token_is_refused_with_a_403_page_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.get("/signup").await;

    let resp = browser
        .post_form(
            "/signup",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;

    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        resp.text().contains("did not come from this site"),
        "{}",
        resp.text()
    );
    assert_eq!(app.count("users"), 0);
}

#[actix_web::test]
async fn a_token_from_another_browser_is_refused() {
    let app = TestApp::spawn().await;
    let attacker = app.browser();
    let stolen = attacker.csrf_token("/login").await;
    app.api_user("ada@example.com").await;
    let victim = app.browser();
    victim.get("/login").await;

    let resp = victim
        .post_form(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &stolen),
            ],
        )
        .await;

    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("sessions"), 1, "no session was opened");
}

#[actix_web::test]
async fn a_form_post_without_the_session_cookie_is_refused() {
    let app = TestApp::spawn().await;
    let html = app.browser().get("/login").await.text();
    let token = csrf_in(&html).unwrap();

    let resp = app
        .call(TestRequest::post().uri("/login").set_form([
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ]))
        .await;

    assert_eq!(resp.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn logout_without_a_valid_csrf_token_keeps_the_session() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;

    let resp = browser
        .post_form("/auth/logout", &[("csrf_token", "forged")])
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = browser.post_form("/auth/logout-all", &[]).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);

    assert_eq!(
        browser.refresh().await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[actix_web::test]
async fn the_csrf_cookie_is_host_prefixed_httponly_secure_and_strict() {
    let app = TestApp::spawn().await;
    let resp = app.browser().get("/login").await;
    let raw = resp
        .raw_set_cookie("__Host-latchkey_csrf")
        .expect("csrf session cookie");
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(raw.contains(flag), "{flag} missing from {raw}");
    }
    assert!(!raw.to_ascii_lowercase().contains("domain="));
}
