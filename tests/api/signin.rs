use actix_web::http::StatusCode;

use crate::helpers::{TestApp, PASSWORD, REFRESH_COOKIE, USER_AGENT};

#[actix_web::test]
async fn html_login_redirects_to_account_and_sets_the_refresh_cookie() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    let browser = app.browser();

    let resp = browser.login("ADA@example.com", PASSWORD).await;

    resp.assert_redirect_to("/account");
    assert!(resp
        .raw_set_cookie(REFRESH_COOKIE)
        .unwrap()
        .contains("HttpOnly"));
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

#[actix_web::test]
async fn html_login_with_a_wrong_password_or_unknown_email_gives_the_same_401_page() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    let browser = app.browser();
    let before = app.state.hasher.password_verifications();

    let wrong = browser.login("ada@example.com", "wrong password!").await;
    let unknown = browser.login("nobody@example.com", "wrong password!").await;

    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.text().contains("value=\"ada@example.com\""),
        "email kept"
    );
    assert!(
        !wrong.text().contains("wrong password!"),
        "password never echoed"
    );
    assert_eq!(
        wrong.text().replace("ada@example.com", "EMAIL"),
        unknown.text().replace("nobody@example.com", "EMAIL"),
        "the pages differ only by the email typed"
    );
    assert_eq!(
        app.state.hasher.password_verifications() - before,
        2,
        "the unknown email was verified against the dummy hash, like a real account"
    );
    assert!(wrong.raw_set_cookie(REFRESH_COOKIE).is_none());
    assert_eq!(app.count("sessions"), 1, "only the sign-up session exists");
}

#[actix_web::test]
async fn api_signin_answers_200_with_a_pair_and_401_alike_for_wrong_password_and_unknown_email() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;

    let ok = app.api_signin("ada@example.com", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.json()["refresh_token"].is_string());
    assert!(ok.json()["access_token"].is_string());

    let wrong = app.api_signin("ada@example.com", "not my password").await;
    let unknown = app
        .api_signin("nobody@example.com", "not my password")
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(
        wrong.body, unknown.body,
        "same body whether or not the account exists"
    );
}

#[actix_web::test]
async fn every_login_creates_a_new_device_session() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    app.api_signin("ada@example.com", PASSWORD).await;
    app.browser().login("ada@example.com", PASSWORD).await;

    let sessions = app.get_bearer("/api/sessions", &access).await.json();
    let list = sessions.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let ids: std::collections::HashSet<_> =
        list.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
}

#[actix_web::test]
async fn sign_in_outcomes_are_audited_with_ip_and_user_agent_and_no_secret() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    app.browser()
        .login("ada@example.com", "wrong password!")
        .await;
    app.browser().login("ada@example.com", PASSWORD).await;

    let failures = app.audit("signin_failure");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(failures[0].user_agent.as_deref(), Some(USER_AGENT));
    assert!(failures[0].user_id.is_some());
    let successes = app.audit("signin_success");
    assert_eq!(successes.len(), 1);
    assert!(successes[0].session_id.is_some());
    for row in failures.iter().chain(&successes) {
        let detail = row.detail.clone().unwrap_or_default();
        assert!(!detail.contains("wrong password") && !detail.contains(PASSWORD));
    }
}
