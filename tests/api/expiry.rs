use actix_web::http::StatusCode;
use chrono::TimeDelta;

use crate::helpers::{TestApp, PASSWORD, REFRESH_COOKIE};

fn refresh_token(resp: &crate::helpers::Resp) -> String {
    resp.json()["refresh_token"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn an_idle_session_expires_after_the_refresh_lifetime() {
    let app = TestApp::spawn().await;
    let (_, refresh) = app.api_user("ada@example.com").await;

    app.clock
        .advance(TimeDelta::days(7) + TimeDelta::seconds(1));

    app.api_refresh(&refresh)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

#[actix_web::test]
async fn the_server_enforces_idle_expiry_even_for_a_token_that_claims_more() {
    // A token minted with a longer `exp` than the row allows (e.g. after the idle setting was
    // shortened) is still refused once the row's idle expiry has passed.
    let app = TestApp::spawn().await;
    let (_, refresh) = app.api_user("ada@example.com").await;
    {
        use diesel::prelude::*;
        use latchkey::db::schema::sessions;
        let mut conn = app.conn();
        let past = app.clock.now() - TimeDelta::seconds(1);
        diesel::update(sessions::table)
            .set(sessions::idle_expires_at.eq(past))
            .execute(&mut *conn)
            .unwrap();
    }

    app.api_refresh(&refresh)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    assert_eq!(app.audit("session_expired").len(), 1);
}

#[actix_web::test]
async fn activity_keeps_a_session_alive_past_the_idle_lifetime() {
    let app = TestApp::spawn().await;
    let (_, mut refresh) = app.api_user("ada@example.com").await;

    for _ in 0..3 {
        app.clock.advance(TimeDelta::days(6));
        let resp = app.api_refresh(&refresh).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        refresh = refresh_token(&resp);
    }
}

#[actix_web::test]
async fn the_absolute_cap_ends_a_session_however_active() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;

    for _ in 0..4 {
        app.clock.advance(TimeDelta::days(6));
        assert_eq!(browser.refresh().await.status, StatusCode::OK);
    }
    // 24 days in: the cookie may live only until the 30-day cap, not 7 more days.
    app.clock.advance(TimeDelta::days(5));
    let resp = browser.refresh().await;
    assert_eq!(resp.status, StatusCode::OK);
    let max_age = resp
        .set_cookie(REFRESH_COOKIE)
        .unwrap()
        .max_age()
        .unwrap()
        .whole_seconds();
    assert!(
        (86_400 - 10..=86_400).contains(&max_age),
        "cookie lives to the absolute cap: {max_age}"
    );

    app.clock
        .advance(TimeDelta::days(1) + TimeDelta::seconds(1));
    browser
        .refresh()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

#[actix_web::test]
async fn an_access_token_stops_working_when_it_expires() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    assert_eq!(
        app.get_bearer("/api/me", &access).await.status,
        StatusCode::OK
    );

    app.clock
        .advance(TimeDelta::minutes(15) + TimeDelta::seconds(61));

    let resp = app.get_bearer("/api/me", &access).await;
    resp.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
}

#[actix_web::test]
async fn lifetimes_follow_the_settings() {
    let app = TestApp::spawn_with(|s| {
        s.access_ttl = Some("2m".into());
        s.refresh_ttl = Some("1h".into());
        s.session_max_age = Some("2h".into());
        s.refresh_grace = Some("5s".into());
    })
    .await;
    let resp = app.api_signup("ada@example.com", PASSWORD).await;
    assert_eq!(resp.json()["expires_in"], 120);
    let first = refresh_token(&resp);
    let second = refresh_token(&app.api_refresh(&first).await);

    app.clock.advance(TimeDelta::seconds(6));
    assert_eq!(
        app.api_refresh(&first).await.status,
        StatusCode::UNAUTHORIZED,
        "grace is 5 s"
    );
    assert_eq!(
        app.api_refresh(&second).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn expiry_allows_the_configured_clock_leeway_and_no_more() {
    let lenient = TestApp::spawn().await;
    let strict = TestApp::spawn_with(|s| s.clock_leeway = Some("0s".into())).await;
    let (lenient_token, _) = lenient.api_user("ada@example.com").await;
    let (strict_token, _) = strict.api_user("ada@example.com").await;

    for app in [&lenient, &strict] {
        app.clock
            .advance(TimeDelta::minutes(15) + TimeDelta::seconds(10));
    }

    assert_eq!(
        lenient.get_bearer("/api/me", &lenient_token).await.status,
        StatusCode::OK,
        "10 s past exp is inside the default 30 s leeway"
    );
    assert_eq!(
        strict.get_bearer("/api/me", &strict_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}
