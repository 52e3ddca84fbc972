use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use crate::helpers::{TestApp, PASSWORD};

const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

fn session_ids(html: &str) -> Vec<String> {
    let re = regex_lite::Regex::new(r#"data-session-id="([^"]+)""#).unwrap();
    re.captures_iter(html).map(|c| c[1].to_owned()).collect()
}

#[actix_web::test]
async fn the_account_fragment_names_devices_and_marks_this_one() {
    let app = TestApp::spawn().await;
    let laptop = app.browser_with_agent(FIREFOX_WINDOWS);
    laptop.signup("ada@example.com", PASSWORD).await;
    let phone = app.browser_with_agent(SAFARI_IPHONE);
    phone.login("ada@example.com", PASSWORD).await;

    let token = laptop.access_token().await;
    let resp = app.get_bearer("/fragments/account", &token).await;

    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let html = resp.text();
    assert!(html.contains("Firefox on Windows"), "{html}");
    assert!(html.contains("Safari on iOS"));
    assert_eq!(
        html.matches("<span class=\"badge this\">this device</span>")
            .count(),
        1
    );
    assert_eq!(session_ids(&html).len(), 2);
    assert_eq!(
        html.matches("Sign out this device").count(),
        1,
        "not offered for this device"
    );
    assert!(html.contains("Sign out all other devices"));
    assert!(html.contains("name=\"current_password\""));
    for label in ["IP", "Signed in", "Last active", "Expires"] {
        assert!(html.contains(&format!("<dt>{label}</dt>")), "{label}");
    }
}

#[actix_web::test]
async fn signing_out_another_device_from_the_fragment_ends_it_and_says_so() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    laptop.signup("ada@example.com", PASSWORD).await;
    let phone = app.browser_with_agent(SAFARI_IPHONE);
    phone.login("ada@example.com", PASSWORD).await;
    let phone_token = phone.access_token().await;
    let token = laptop.access_token().await;
    let phone_sid = app.get_bearer("/api/me", &phone_token).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let resp = app
        .post_form_bearer(
            &format!("/fragments/account/sessions/{phone_sid}/revoke"),
            &token,
            &[],
        )
        .await;

    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.text().contains("That device has been signed out."));
    assert_eq!(session_ids(&resp.text()).len(), 1);
    assert_eq!(phone.refresh().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get_bearer("/api/me", &phone_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(laptop.refresh().await.status, StatusCode::OK);
}

#[actix_web::test]
async fn another_users_device_cannot_be_signed_out_from_the_fragment() {
    let app = TestApp::spawn().await;
    let (ada, _) = app.api_user("ada@example.com").await;
    let (grace, grace_refresh) = app.api_user("grace@example.com").await;
    let grace_sid = app.get_bearer("/api/me", &grace).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let resp = app
        .post_form_bearer(
            &format!("/fragments/account/sessions/{grace_sid}/revoke"),
            &ada,
            &[],
        )
        .await;

    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(resp.text().contains("not signed in to your account"));
    assert_eq!(app.api_refresh(&grace_refresh).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn sign_out_all_other_devices_keeps_only_this_one() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    laptop.signup("ada@example.com", PASSWORD).await;
    let phone = app.browser();
    phone.login("ada@example.com", PASSWORD).await;
    let (_, api_refresh) = {
        let body = app.api_signin("ada@example.com", PASSWORD).await.json();
        ((), body["refresh_token"].as_str().unwrap().to_owned())
    };
    let token = laptop.access_token().await;

    let resp = app
        .post_form_bearer("/fragments/account/sessions/revoke-others", &token, &[])
        .await;

    assert_eq!(resp.status, StatusCode::OK);
    assert!(
        resp.text().contains("Signed out 2 other devices."),
        "{}",
        resp.text()
    );
    assert_eq!(phone.refresh().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.api_refresh(&api_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(laptop.refresh().await.status, StatusCode::OK);
}

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_other_sessions() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    laptop.signup("ada@example.com", PASSWORD).await;
    let phone = app.browser();
    phone.login("ada@example.com", PASSWORD).await;
    let token = laptop.access_token().await;
    let new = "a brand new passphrase";

    let wrong = app
        .post_form_bearer(
            "/fragments/account/password",
            &token,
            &[
                ("current_password", "not it at all"),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.text().contains("current password is incorrect"));
    let mismatch = app
        .post_form_bearer(
            "/fragments/account/password",
            &token,
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", "other"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let short = app
        .post_form_bearer(
            "/fragments/account/password",
            &token,
            &[
                ("current_password", PASSWORD),
                ("new_password", "short"),
                ("new_password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.text().contains("at least 8"));
    assert_eq!(
        phone.refresh().await.status,
        StatusCode::OK,
        "refusals change nothing"
    );

    let done = app
        .post_form_bearer(
            "/fragments/account/password",
            &token,
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;

    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.text()
            .contains("Your password has been changed; 1 other session was signed out."),
        "{}",
        done.text()
    );
    assert_eq!(phone.refresh().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        laptop.refresh().await.status,
        StatusCode::OK,
        "this device stays"
    );
    assert_eq!(
        app.api_signin("ada@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api_signin("ada@example.com", new).await.status,
        StatusCode::OK
    );
    assert_eq!(app.audit("password_changed").len(), 1);
}

#[actix_web::test]
async fn the_account_shell_works_without_a_token_and_says_it_needs_javascript() {
    let app = TestApp::spawn().await;
    let resp = app.call(TestRequest::get().uri("/account")).await;
    assert_eq!(resp.status, StatusCode::OK);
    let html = resp.text();
    assert!(html.contains("<noscript>"));
    assert!(html.contains("needs JavaScript"));
    assert!(html.contains("action=\"/auth/logout\""));
    assert!(html.contains("action=\"/auth/logout-all\""));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(
        html.contains("data-admin-link hidden"),
        "admin links hidden until the role is known"
    );
}
