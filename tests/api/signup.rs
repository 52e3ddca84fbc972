use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use crate::helpers::{TestApp, PASSWORD, REFRESH_COOKIE};

#[actix_web::test]
async fn html_signup_redirects_to_account_with_a_scoped_httponly_refresh_cookie() {
    let app = TestApp::spawn().await;
    let browser = app.browser();

    let resp = browser.signup("ada@example.com", PASSWORD).await;

    resp.assert_redirect_to("/account");
    let raw = resp
        .raw_set_cookie(REFRESH_COOKIE)
        .expect("refresh cookie set");
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/auth"] {
        assert!(raw.contains(flag), "{flag} missing from {raw}");
    }
    assert!(!raw.to_ascii_lowercase().contains("domain="), "{raw}");
    let cookie = resp.set_cookie(REFRESH_COOKIE).unwrap();
    let max_age = cookie.max_age().unwrap().whole_seconds();
    assert!(
        (7 * 86_400 - 5..=7 * 86_400).contains(&max_age),
        "Max-Age is the idle lifetime left: {max_age}"
    );
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("sessions"), 1);
}

#[actix_web::test]
async fn html_signup_then_the_account_fragment_shows_the_email_and_this_device() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("  Ada@Example.com ", PASSWORD).await;

    let shell = browser.get("/account").await;
    assert_eq!(shell.status, StatusCode::OK);
    assert!(shell
        .text()
        .contains("data-fragment=\"/fragments/account\""));
    assert!(shell.text().contains("/static/js/latchkey.js"));

    let token = browser.access_token().await;
    let fragment = app.get_bearer("/fragments/account", &token).await;
    assert_eq!(fragment.status, StatusCode::OK);
    let html = fragment.text();
    assert!(
        html.contains("ada@example.com"),
        "email stored trimmed and lower-cased: {html}"
    );
    assert_eq!(html.matches("data-session-id=").count(), 1);
    assert!(html.contains("this device"));
    assert!(
        html.contains("LatchkeyTest/1.0"),
        "device shows its user agent"
    );
}

#[actix_web::test]
async fn html_signup_with_mismatched_passwords_keeps_the_email_but_never_the_password() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let csrf = browser.csrf_token("/signup").await;

    let resp = browser
        .post_form(
            "/signup",
            &[
                ("email", "ada@example.com"),
                ("password", "first-secret-123"),
                ("password_confirm", "second-secret-456"),
                ("csrf_token", &csrf),
            ],
        )
        .await;

    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let html = resp.text();
    assert!(html.contains("do not match"), "{html}");
    assert!(html.contains("value=\"ada@example.com\""));
    assert!(!html.contains("first-secret-123") && !html.contains("second-secret-456"));
    assert!(resp.raw_set_cookie(REFRESH_COOKIE).is_none());
    assert_eq!(app.count("users"), 0);
}

#[actix_web::test]
async fn html_signup_refuses_short_passwords_and_bad_emails_with_400() {
    let app = TestApp::spawn().await;
    let browser = app.browser();

    let short = browser.signup("ada@example.com", "short").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.text().contains("at least 8 characters"));

    let bad_email = browser.signup("not-an-email", PASSWORD).await;
    assert_eq!(bad_email.status, StatusCode::BAD_REQUEST);
    assert!(bad_email.text().contains("valid email"));
    assert!(bad_email.text().contains("value=\"not-an-email\""));

    assert_eq!(app.count("users"), 0);
    assert_eq!(app.count("sessions"), 0);
}

#[actix_web::test]
async fn html_signup_with_a_taken_address_answers_409_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.browser().signup("ada@example.com", PASSWORD).await;

    let resp = app
        .browser()
        .signup("ADA@example.com", "another password")
        .await;

    assert_eq!(resp.status, StatusCode::CONFLICT);
    assert!(resp.text().contains("already exists"));
    assert!(resp.raw_set_cookie(REFRESH_COOKIE).is_none());
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("sessions"), 1);
}

#[actix_web::test]
async fn api_signup_answers_201_with_a_token_pair() {
    let app = TestApp::spawn().await;

    let resp = app.api_signup("grace@example.com", PASSWORD).await;

    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = resp.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let access = body["access_token"].as_str().unwrap();
    assert!(body["refresh_token"].as_str().is_some_and(|t| t != access));
    assert!(
        resp.raw_set_cookie(REFRESH_COOKIE).is_none(),
        "native clients get no cookie"
    );

    let me = app.get_bearer("/api/me", access).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["email"], "grace@example.com");
    assert_eq!(me.json()["role"], "user");
}

#[actix_web::test]
async fn api_signup_answers_400_for_invalid_input_and_409_for_a_taken_address() {
    let app = TestApp::spawn().await;
    app.api_user("grace@example.com").await;

    app.api_signup("grace@", PASSWORD)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    app.api_signup("new@example.com", "1234567")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    app.api_signup("new@example.com", &"x".repeat(129))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    app.api_signup(" Grace@Example.COM", PASSWORD)
        .await
        .assert_error(StatusCode::CONFLICT, "email_taken");

    assert_eq!(app.count("users"), 1);
}

#[actix_web::test]
async fn passwords_are_stored_as_argon2id_phc_strings_and_unicode_is_kept_whole() {
    let app = TestApp::spawn().await;
    let password = "pässwörd mit 🔑 und Leerzeichen";
    app.api_signup("uni@example.com", password).await;

    let mut conn = app.conn();
    let user = latchkey::models::user::UserRow::find_by_email(&mut conn, "uni@example.com")
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.starts_with("$argon2id$v=19$"),
        "{}",
        user.password_hash
    );
    assert!(!user.password_hash.contains(password));

    let resp = app.api_signin("uni@example.com", password).await;
    assert_eq!(resp.status, StatusCode::OK);
    let truncated: String = password.chars().take(20).collect();
    let resp = app.api_signin("uni@example.com", &truncated).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "no truncation");
}

#[actix_web::test]
async fn concurrent_signups_with_one_address_create_exactly_one_account() {
    let app = TestApp::spawn().await;
    let attempts = (0..6).map(|_| {
        app.call(
            TestRequest::post()
                .uri("/api/auth/signup")
                .set_json(serde_json::json!({"email": "race@example.com", "password": PASSWORD})),
        )
    });
    let results = futures_util::future::join_all(attempts).await;

    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 5));
    assert_eq!(app.count("users"), 1);
}
