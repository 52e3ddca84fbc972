use actix_web::http::StatusCode;
use actix_web::test::TestRequest;

use crate::helpers::{TestApp, PASSWORD, REFRESH_COOKIE};

#[actix_web::test]
async fn signing_in_on_a_second_device_leaves_the_first_signed_in() {
    let app = TestApp::spawn().await;
    let laptop = app.browser_with_agent("Laptop Browser");
    laptop.signup("ada@example.com", PASSWORD).await;
    let phone = app.browser_with_agent("Phone Browser");
    phone.login("ada@example.com", PASSWORD).await;

    assert_eq!(laptop.refresh().await.status, StatusCode::OK);
    let token = phone.access_token().await;
    let sessions = app.get_bearer("/api/sessions", &token).await.json();
    let list = sessions.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let current: Vec<_> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Phone Browser");
    for field in ["id", "created_at", "last_used_at", "expires_at", "ip"] {
        assert!(list[0][field].is_string(), "{field} in {}", list[0]);
    }
}

#[actix_web::test]
async fn logout_ends_this_device_only_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    laptop.signup("ada@example.com", PASSWORD).await;
    let phone = app.browser();
    phone.login("ada@example.com", PASSWORD).await;
    let laptop_access = laptop.access_token().await;
    let old_cookie = laptop.cookie(REFRESH_COOKIE).unwrap();

    let resp = laptop.logout().await;

    resp.assert_redirect_to("/login");
    let cleared = resp.raw_set_cookie(REFRESH_COOKIE).unwrap();
    assert!(cleared.contains("Max-Age=0") && cleared.contains("Path=/auth"));
    assert_eq!(laptop.refresh().await.status, StatusCode::UNAUTHORIZED);
    let replay = app.browser();
    replay.signup("other@example.com", PASSWORD).await;
    replay.set_cookie_value(REFRESH_COOKIE, &old_cookie);
    assert_eq!(
        replay.refresh().await.status,
        StatusCode::UNAUTHORIZED,
        "revoked forever"
    );
    assert_eq!(
        app.get_bearer("/api/me", &laptop_access).await.status,
        StatusCode::UNAUTHORIZED,
        "its access token stops at once"
    );
    assert_eq!(
        phone.refresh().await.status,
        StatusCode::OK,
        "the phone stays signed in"
    );
    assert_eq!(app.audit("logout").len(), 1);
}

#[actix_web::test]
async fn logout_everywhere_ends_every_device() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    laptop.signup("ada@example.com", PASSWORD).await;
    let phone = app.browser();
    phone.login("ada@example.com", PASSWORD).await;
    let (_, api_refresh) = {
        let resp = app.api_signin("ada@example.com", PASSWORD).await;
        let body = resp.json();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    };
    let bystander = app.browser();
    bystander.signup("grace@example.com", PASSWORD).await;

    laptop
        .logout_everywhere()
        .await
        .assert_redirect_to("/login");

    assert_eq!(laptop.refresh().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(phone.refresh().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.api_refresh(&api_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        bystander.refresh().await.status,
        StatusCode::OK,
        "other users untouched"
    );
    assert_eq!(app.audit("logout_all").len(), 1);
}

#[actix_web::test]
async fn logout_without_a_cookie_still_redirects_to_login() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.logout().await.assert_redirect_to("/login");
}

#[actix_web::test]
async fn logout_from_another_origin_is_refused() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let csrf = browser.csrf_token("/account").await;

    let resp = browser
        .send(
            TestRequest::post()
                .insert_header(("origin", "https://evil.example"))
                .set_form([("csrf_token", csrf.as_str())]),
            "/auth/logout",
        )
        .await;

    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

#[actix_web::test]
async fn api_logout_answers_204_and_ends_that_device() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.api_user("ada@example.com").await;

    let resp = app
        .call(
            TestRequest::post()
                .uri("/api/auth/logout")
                .insert_header(("authorization", format!("Bearer {access}"))),
        )
        .await;

    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_refresh(&refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bearer("/api/me", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_user_can_revoke_their_other_device_but_not_someone_elses() {
    let app = TestApp::spawn().await;
    let (ada_access, _) = app.api_user("ada@example.com").await;
    let phone = app.api_signin("ada@example.com", PASSWORD).await.json();
    let phone_refresh = phone["refresh_token"].as_str().unwrap();
    let phone_access = phone["access_token"].as_str().unwrap();
    let phone_sid = app.get_bearer("/api/me", phone_access).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (grace_access, grace_refresh) = app.api_user("grace@example.com").await;
    let grace_sid = app.get_bearer("/api/me", &grace_access).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();

    app.delete_bearer(&format!("/api/sessions/{grace_sid}"), &ada_access)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete_bearer("/api/sessions/no-such-session", &ada_access)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.api_refresh(&grace_refresh).await.status, StatusCode::OK);

    let resp = app
        .delete_bearer(&format!("/api/sessions/{phone_sid}"), &ada_access)
        .await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_refresh(phone_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bearer("/api/me", phone_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let left = app.get_bearer("/api/sessions", &ada_access).await.json();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(app.audit("session_revoked").len(), 1);
}
