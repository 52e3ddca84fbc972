use actix_web::http::StatusCode;
use latchkey::admin::{create_admin, AdminOutcome};
use latchkey::domain::{Email, Password};

use crate::helpers::{TestApp, PASSWORD};

fn make_admin(app: &TestApp, email: &str) -> AdminOutcome {
    create_admin(&app.state, &Email::parse(email).unwrap(), || {
        Password::new_for_signup(PASSWORD.into(), 8)
    })
    .unwrap()
}

#[actix_web::test]
async fn create_admin_promotes_an_existing_user_or_creates_one() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;

    assert_eq!(make_admin(&app, "ada@example.com"), AdminOutcome::Promoted);
    assert_eq!(
        make_admin(&app, "ADA@example.com"),
        AdminOutcome::AlreadyAdmin
    );
    assert_eq!(make_admin(&app, "root@example.com"), AdminOutcome::Created);

    let signin = app.api_signin("root@example.com", PASSWORD).await;
    assert_eq!(signin.status, StatusCode::OK);
    let me = app
        .get_bearer("/api/me", signin.json()["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.json()["role"], "admin");
    assert_eq!(app.audit("admin_created").len(), 2);
}

#[actix_web::test]
async fn create_admin_refuses_a_weak_password_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let result = create_admin(
        &app.state,
        &Email::parse("root@example.com").unwrap(),
        || Password::new_for_signup("short".into(), 8),
    );
    assert!(result.unwrap_err().contains("at least 8"));
    assert_eq!(app.count("users"), 0);
}

#[actix_web::test]
async fn admin_routes_answer_403_to_users_and_serve_admins() {
    let app = TestApp::spawn().await;
    let (user_access, user_refresh) = app.api_user("ada@example.com").await;
    make_admin(&app, "root@example.com");
    let admin = app.api_signin("root@example.com", PASSWORD).await.json();
    let admin_access = admin["access_token"].as_str().unwrap();

    app.get_bearer("/api/admin/sessions", &user_access)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.delete_bearer("/api/admin/sessions/whatever", &user_access)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let list = app.get_bearer("/api/admin/sessions", admin_access).await;
    assert_eq!(list.status, StatusCode::OK);
    let sessions = list.json();
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let ada = sessions
        .iter()
        .find(|s| s["email"] == "ada@example.com")
        .expect("every user's sessions are listed");
    let ada_sid = ada["id"].as_str().unwrap();
    let searched = app
        .get_bearer("/api/admin/sessions?email=ADA", admin_access)
        .await
        .json();
    assert_eq!(
        searched.as_array().unwrap().len(),
        1,
        "search by email: {searched}"
    );
    assert_eq!(searched[0]["email"], "ada@example.com");

    let resp = app
        .delete_bearer(&format!("/api/admin/sessions/{ada_sid}"), admin_access)
        .await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_refresh(&user_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bearer("/api/me", &user_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let audit = app.audit("admin_session_revoked");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].session_id.as_deref(), Some(ada_sid));
    app.delete_bearer(&format!("/api/admin/sessions/{ada_sid}"), admin_access)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}
