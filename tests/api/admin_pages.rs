use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use latchkey::admin::create_admin;
use latchkey::domain::{Email, Password};

use crate::helpers::{TestApp, PASSWORD};

pub async fn admin_token(app: &TestApp) -> String {
    create_admin(
        &app.state,
        &Email::parse("root@example.com").unwrap(),
        || Password::new_for_signup(PASSWORD.into(), 8),
    )
    .unwrap();
    app.api_signin("root@example.com", PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn rows(html: &str) -> usize {
    html.matches("<tr data-session-id=").count()
}

fn stat(html: &str, id: &str) -> i64 {
    let re = regex_lite::Regex::new(&format!(r#"id="{id}">(\d+)<"#)).unwrap();
    re.captures(html).unwrap()[1].parse().unwrap()
}

#[actix_web::test]
async fn admin_pages_are_401_anonymous_403_for_users_and_200_for_admins() {
    let app = TestApp::spawn().await;
    let (user, _) = app.api_user("ada@example.com").await;
    let admin = admin_token(&app).await;

    for path in ["/fragments/admin/sessions", "/fragments/admin/audit"] {
        let anonymous = app.call(TestRequest::get().uri(path)).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{path}");
        let forbidden = app.get_bearer(path, &user).await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{path}");
        assert!(forbidden
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        assert!(forbidden.text().contains("Not allowed"));
        assert_eq!(
            app.get_bearer(path, &admin).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let (_, grace_refresh) = app.api_user("grace@example.com").await;
    let grace_sid = app.get_bearer("/api/sessions", &user).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .post_form_bearer(
            &format!("/fragments/admin/sessions/{grace_sid}/revoke"),
            &user,
            &[],
        )
        .await;
    assert_eq!(
        resp.status,
        StatusCode::FORBIDDEN,
        "a user cannot revoke through the admin form"
    );
    assert_eq!(app.api_refresh(&grace_refresh).await.status, StatusCode::OK);
    for shell in ["/admin/sessions", "/admin/audit"] {
        let page = app.call(TestRequest::get().uri(shell)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text().contains("data-fragment=\"/fragments"));
    }
}

#[actix_web::test]
async fn the_sessions_page_counts_lists_newest_activity_first_and_searches_by_email() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    app.api_signin("ada@example.com", PASSWORD).await;
    let (_, grace_refresh) = app.api_user("grace@example.com").await;
    let (_, revoked_refresh) = app.api_user("gone@example.com").await;
    let (gone_access, _) = (app.api_signin("gone@example.com", PASSWORD).await, ());
    let gone_token = gone_access.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(
        TestRequest::post()
            .uri("/api/auth/logout")
            .insert_header(("authorization", format!("Bearer {gone_token}"))),
    )
    .await;
    let admin = admin_token(&app).await;
    app.clock.advance(chrono::TimeDelta::seconds(5));
    app.api_refresh(&grace_refresh).await;
    let _ = revoked_refresh;

    let html = app
        .get_bearer("/fragments/admin/sessions", &admin)
        .await
        .text();

    assert_eq!(
        stat(&html, "stat-active"),
        5,
        "ada×2, grace, gone×1 live, root"
    );
    assert_eq!(stat(&html, "stat-users"), 4);
    assert_eq!(stat(&html, "stat-today"), 6, "every session started today");
    assert_eq!(rows(&html), 5);
    let first_row = html.split("<tr data-session-id=").nth(1).unwrap();
    assert!(
        first_row.contains("grace@example.com"),
        "most recent activity first"
    );

    let found = app
        .get_bearer("/fragments/admin/sessions?email=ADA", &admin)
        .await
        .text();
    assert_eq!(rows(&found), 2);
    assert!(!found.contains("grace@example.com"));
    assert!(found.contains("value=\"ada\""), "the search is kept");
    let wildcard = app
        .get_bearer("/fragments/admin/sessions?email=%25", &admin)
        .await
        .text();
    assert_eq!(rows(&wildcard), 0, "% is matched literally");
}

#[actix_web::test]
async fn the_sessions_page_shows_fifty_rows_a_page() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    for _ in 0..53 {
        app.api_signin("ada@example.com", PASSWORD).await;
    }
    let admin = admin_token(&app).await;

    let first = app
        .get_bearer("/fragments/admin/sessions", &admin)
        .await
        .text();
    let second = app
        .get_bearer("/fragments/admin/sessions?page=2", &admin)
        .await
        .text();

    assert_eq!(rows(&first), 50);
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains("href=\"/admin/sessions?page=2\""));
    assert_eq!(rows(&second), 5);
    assert!(second.contains("href=\"/admin/sessions?page=1\""));
    let past = app
        .get_bearer("/fragments/admin/sessions?page=9", &admin)
        .await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(rows(&past.text()), 0);
    let bad = app
        .get_bearer("/fragments/admin/sessions?page=-1", &admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn an_admin_revokes_one_session_or_all_of_a_user_with_a_flash_and_an_audit_record() {
    let app = TestApp::spawn().await;
    let (ada_access, ada_refresh) = app.api_user("ada@example.com").await;
    let ada_sid = app.get_bearer("/api/me", &ada_access).await.json()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (grace_access, grace_refresh) = app.api_user("grace@example.com").await;
    let second = app.api_signin("grace@example.com", PASSWORD).await.json();
    let grace_id = app.get_bearer("/api/me", &grace_access).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = admin_token(&app).await;

    let resp = app
        .post_form_bearer(
            &format!("/fragments/admin/sessions/{ada_sid}/revoke"),
            &admin,
            &[("page", "1"), ("email", "")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.text().contains("The session has been revoked."));
    assert_eq!(
        app.api_refresh(&ada_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_bearer("/api/me", &ada_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.audit("admin_session_revoked").len(), 1);

    let again = app
        .post_form_bearer(
            &format!("/fragments/admin/sessions/{ada_sid}/revoke"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.text().contains("already ended"));

    let resp = app
        .post_form_bearer(
            &format!("/fragments/admin/users/{grace_id}/revoke-all"),
            &admin,
            &[("page", "1"), ("email", "grace")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(
        resp.text()
            .contains("Revoked 2 session(s) of grace@example.com."),
        "{}",
        resp.text()
    );
    assert!(
        resp.text().contains("value=\"grace\""),
        "the search is kept after the action"
    );
    assert_eq!(
        app.api_refresh(&grace_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api_refresh(second["refresh_token"].as_str().unwrap())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let audit = app.audit("admin_user_sessions_revoked");
    assert_eq!(audit.len(), 1);
    assert!(audit[0].detail.as_deref().unwrap().contains(&grace_id));
    let unknown = app
        .post_form_bearer("/fragments/admin/users/nobody/revoke-all", &admin, &[])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_audit_page_filters_by_kind_and_user_and_pages() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    app.api_signin("ada@example.com", "wrong password").await;
    app.api_user("grace@example.com").await;
    let admin = admin_token(&app).await;

    let all = app
        .get_bearer("/fragments/admin/audit", &admin)
        .await
        .text();
    for kind in [
        "signup",
        "signin_failure",
        "admin_created",
        "signin_success",
    ] {
        assert!(
            all.contains(&format!("<span class=\"badge\">{kind}</span>")),
            "{kind}"
        );
    }
    let failures = app
        .get_bearer("/fragments/admin/audit?kind=signin_failure", &admin)
        .await
        .text();
    assert_eq!(failures.matches("<span class=\"badge\">").count(), 1);
    assert!(failures.contains("ada@example.com"));
    let grace = app
        .get_bearer("/fragments/admin/audit?email=grace@example.com", &admin)
        .await
        .text();
    assert!(grace.contains("<span class=\"badge\">signup</span>"));
    assert!(!grace.contains("ada@example.com"));
    let nobody = app
        .get_bearer("/fragments/admin/audit?email=nobody@example.com", &admin)
        .await
        .text();
    assert!(nobody.contains("No account has that email."));
    assert!(all.contains("Page 1 of 1"));
}

#[actix_web::test]
async fn the_audit_page_shows_fifty_events_a_page_newest_first() {
    let app = TestApp::spawn_with(|s| {
        s.throttle_account_limit = Some("1000".into());
        s.throttle_ip_limit = Some("1000".into());
    })
    .await;
    app.api_user("ada@example.com").await;
    for _ in 0..55 {
        app.api_signin("ada@example.com", "wrong password").await;
    }
    let admin = admin_token(&app).await;

    let first = app
        .get_bearer("/fragments/admin/audit", &admin)
        .await
        .text();
    let second = app
        .get_bearer("/fragments/admin/audit?page=2", &admin)
        .await
        .text();

    let events = |html: &str| html.matches("<span class=\"badge\">").count();
    assert_eq!(events(&first), 50);
    assert!(
        first.contains("Page 1 of 2"),
        "58 events: signup, 55 failures, admin, sign-in"
    );
    let newest = first.split("<tbody>").nth(1).unwrap();
    assert!(
        newest.find("signin_success").unwrap() < newest.find("signin_failure").unwrap(),
        "newest first"
    );
    assert_eq!(events(&second), 8);
    assert!(second.contains("href=\"/admin/audit?page=1\""));
    let kind_page = app
        .get_bearer("/fragments/admin/audit?kind=signin_failure&page=2", &admin)
        .await
        .text();
    assert_eq!(events(&kind_page), 5);
    let pager = kind_page.split("class=\"pager\"").nth(1).unwrap();
    assert!(
        pager.contains("href=\"/admin/audit?page=1&#38;kind=signin_failure\""),
        "{pager}"
    );
}
