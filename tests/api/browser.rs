//! The user's view: real headless Chromium against the real server on 127.0.0.1. Each test ends
//! with a screenshot under target/screenshots/.

use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::helpers::{LiveServer, PASSWORD};
use crate::webdriver::{click, fill, screenshot, wait_for_path, wait_for_text, Driver};

async fn sign_up(client: &Client, server: &LiveServer, email: &str) {
    client
        .goto(&format!("{}/signup", server.url))
        .await
        .unwrap();
    fill(client, "#email", email).await;
    fill(client, "#password", PASSWORD).await;
    fill(client, "#password_confirm", PASSWORD).await;
    click(client, "button[type=submit]").await;
    wait_for_path(client, "/account").await;
    wait_for_text(client, "#account-email", email).await;
}

async fn sign_in(client: &Client, server: &LiveServer, email: &str) {
    client.goto(&format!("{}/login", server.url)).await.unwrap();
    fill(client, "#email", email).await;
    fill(client, "#password", PASSWORD).await;
    click(client, "button[type=submit]").await;
    wait_for_path(client, "/account").await;
    wait_for_text(client, "#account-email", email).await;
}

async fn open_account(client: &Client, server: &LiveServer) {
    client
        .goto(&format!("{}/account", server.url))
        .await
        .unwrap();
    wait_for_text(client, "#account-email", "@").await;
}

async fn devices(client: &Client) -> usize {
    client
        .find_all(Locator::Css(".device"))
        .await
        .unwrap()
        .len()
}

async fn wait_for_devices(client: &Client, expected: usize) {
    for _ in 0..100 {
        if devices(client).await == expected {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {expected} devices, saw {}", devices(client).await);
}

async fn script(client: &Client, js: &str) -> serde_json::Value {
    client.execute(js, vec![]).await.unwrap()
}

#[actix_web::test]
async fn browser_1_sign_up_through_the_form_shows_the_account_with_this_device() {
    let Some(mut driver) = Driver::start("browser_1").await else {
        return;
    };
    let server = LiveServer::start(|_| {}).await;
    let client = driver.profile().await;

    sign_up(&client, &server, "ada@example.com").await;

    wait_for_devices(&client, 1).await;
    wait_for_text(&client, ".device.current", "this device").await;
    wait_for_text(
        &client,
        ".device.current .device-name",
        "Headless Chrome on Linux",
    )
    .await;
    wait_for_text(&client, "#nav-email", "ada@example.com").await;
    screenshot(&client, "browser_1_signup_account").await;
    client.close().await.unwrap();
    server.stop().await;
}

#[actix_web::test]
async fn browser_2_a_reload_stays_signed_in_and_no_token_is_reachable_from_scripts() {
    let Some(mut driver) = Driver::start("browser_2").await else {
        return;
    };
    let server = LiveServer::start(|_| {}).await;
    let client = driver.profile().await;
    sign_up(&client, &server, "ada@example.com").await;

    client.refresh().await.unwrap();
    wait_for_text(&client, "#account-email", "ada@example.com").await;

    let cookie = script(&client, "return document.cookie").await;
    let cookie = cookie.as_str().unwrap();
    assert!(
        !cookie.contains("latchkey_rt"),
        "refresh cookie visible to scripts: {cookie}"
    );
    assert!(
        !cookie.contains("eyJ"),
        "a JWT in a script-visible cookie: {cookie}"
    );
    let storage = script(
        &client,
        "return [localStorage.length, sessionStorage.length, JSON.stringify(localStorage) + JSON.stringify(sessionStorage)]",
    )
    .await;
    assert_eq!(storage[0], 0, "localStorage: {storage}");
    assert_eq!(storage[1], 0, "sessionStorage: {storage}");
    assert!(!client.current_url().await.unwrap().as_str().contains("eyJ"));
    screenshot(&client, "browser_2_reloaded").await;

    // WebDriver sees HttpOnly cookies: the refresh cookie is there, scoped to /auth.
    client
        .goto(&format!("{}/auth/refresh", server.url))
        .await
        .unwrap();
    let cookies = client.get_all_cookies().await.unwrap();
    let refresh = cookies
        .iter()
        .find(|c| c.name() == "__Secure-latchkey_rt")
        .expect("the refresh cookie exists");
    assert_eq!(refresh.http_only(), Some(true));
    assert_eq!(refresh.secure(), Some(true));
    assert_eq!(refresh.path(), Some("/auth"));
    client.close().await.unwrap();
    server.stop().await;
}

#[actix_web::test]
async fn browser_3_a_second_profile_signs_in_and_both_list_two_devices() {
    let Some(mut driver) = Driver::start("browser_3").await else {
        return;
    };
    let server = LiveServer::start(|_| {}).await;
    let laptop = driver.profile().await;
    let phone = driver.profile().await;
    sign_up(&laptop, &server, "ada@example.com").await;

    sign_in(&phone, &server, "ada@example.com").await;
    open_account(&laptop, &server).await;

    wait_for_devices(&phone, 2).await;
    wait_for_devices(&laptop, 2).await;
    assert_eq!(
        laptop
            .find_all(Locator::Css(".device.current"))
            .await
            .unwrap()
            .len(),
        1
    );
    screenshot(&laptop, "browser_3_two_devices").await;
    laptop.close().await.unwrap();
    phone.close().await.unwrap();
    server.stop().await;
}

#[actix_web::test]
async fn browser_4_signing_out_another_device_sends_it_to_login_on_its_next_action() {
    let Some(mut driver) = Driver::start("browser_4").await else {
        return;
    };
    let server = LiveServer::start(|_| {}).await;
    let a = driver.profile().await;
    let b = driver.profile().await;
    sign_up(&a, &server, "ada@example.com").await;
    sign_in(&b, &server, "ada@example.com").await;
    wait_for_devices(&b, 2).await;
    open_account(&a, &server).await;
    wait_for_devices(&a, 2).await;

    click(&a, ".device:not(.current) form button").await;
    wait_for_text(&a, "[data-flash]", "That device has been signed out.").await;
    wait_for_devices(&a, 1).await;
    screenshot(&a, "browser_4_signed_out_other_device").await;

    click(&b, "#sign-out-others").await;
    wait_for_path(&b, "/login").await;
    a.close().await.unwrap();
    b.close().await.unwrap();
    server.stop().await;
}

#[actix_web::test]
async fn browser_5_five_tabs_opened_at_once_all_load_and_stay_signed_in() {
    let Some(mut driver) = Driver::start("browser_5").await else {
        return;
    };
    let server = LiveServer::start(|_| {}).await;
    let client = driver.profile().await;
    sign_up(&client, &server, "ada@example.com").await;
    let first = client.window().await.unwrap();

    script(
        &client,
        "for (let i = 0; i < 5; i++) window.open('/account', '_blank'); return null",
    )
    .await;

    let windows = client.windows().await.unwrap();
    assert_eq!(windows.len(), 6);
    for window in windows.iter().filter(|w| **w != first) {
        client.switch_to_window(window.clone()).await.unwrap();
        wait_for_text(&client, "#account-email", "ada@example.com").await;
    }
    assert_eq!(
        server.audit_count("refresh_reuse"),
        0,
        "no tab tripped reuse detection"
    );
    client.switch_to_window(first).await.unwrap();
    client.refresh().await.unwrap();
    wait_for_text(&client, "#account-email", "ada@example.com").await;
    wait_for_devices(&client, 1).await;
    screenshot(&client, "browser_5_five_tabs").await;
    client.close().await.unwrap();
    server.stop().await;
}

#[actix_web::test]
async fn browser_6_an_admin_revokes_a_session_and_a_user_is_refused_the_admin_page() {
    let Some(mut driver) = Driver::start("browser_6").await else {
        return;
    };
    let server = LiveServer::start(|_| {}).await;
    let data = tempfile::tempdir().unwrap();
    let made = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["create-admin", "--email", "root@example.com"])
        .env("DATABASE_URL", server.database_url())
        .env("LATCHKEY_DATA_DIR", data.path())
        .env("LATCHKEY_ADMIN_PASSWORD", PASSWORD)
        .env("LATCHKEY_PASSWORD_M_COST", "256")
        .env("LATCHKEY_PASSWORD_T_COST", "1")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let user = driver.profile().await;
    let admin = driver.profile().await;
    sign_up(&user, &server, "user@example.com").await;

    user.goto(&format!("{}/admin/sessions", server.url))
        .await
        .unwrap();
    wait_for_text(&user, "#content", "Not allowed").await;
    wait_for_text(&user, "#content", "403").await;
    let admin_links = user
        .find_all(Locator::Css("[data-admin-link]"))
        .await
        .unwrap();
    for link in admin_links {
        assert!(
            !link.is_displayed().await.unwrap(),
            "admin links hidden from users"
        );
    }
    screenshot(&user, "browser_6_user_refused").await;

    sign_in(&admin, &server, "root@example.com").await;
    assert!(admin
        .find(Locator::Css("[data-admin-link]"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    admin
        .goto(&format!("{}/admin/sessions", server.url))
        .await
        .unwrap();
    wait_for_text(&admin, "#content", "user@example.com").await;
    admin
        .find(Locator::XPath(
            "//tr[td[text()='user@example.com']]//button[text()='Revoke']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&admin, "[data-flash]", "The session has been revoked.").await;
    screenshot(&admin, "browser_6_admin_revoked").await;
    assert_eq!(server.audit_count("admin_session_revoked"), 1);

    user.goto(&format!("{}/account", server.url)).await.unwrap();
    wait_for_path(&user, "/login").await;
    user.close().await.unwrap();
    admin.close().await.unwrap();
    server.stop().await;
}

#[actix_web::test]
async fn browser_7_sign_out_everywhere_sends_every_profile_to_login() {
    let Some(mut driver) = Driver::start("browser_7").await else {
        return;
    };
    let server = LiveServer::start(|_| {}).await;
    let a = driver.profile().await;
    let b = driver.profile().await;
    sign_up(&a, &server, "ada@example.com").await;
    sign_in(&b, &server, "ada@example.com").await;

    click(&a, "#sign-out-everywhere").await;
    wait_for_path(&a, "/login").await;
    wait_for_text(&a, "main", "You have signed out on every device.").await;
    screenshot(&a, "browser_7_signed_out_everywhere").await;

    b.refresh().await.unwrap();
    wait_for_path(&b, "/login").await;
    a.close().await.unwrap();
    b.close().await.unwrap();
    server.stop().await;
}

#[actix_web::test]
async fn browser_8_an_expiring_access_token_is_renewed_silently() {
    let Some(mut driver) = Driver::start("browser_8").await else {
        return;
    };
    let server = LiveServer::start(|s| {
        s.access_ttl = Some("4s".into());
        s.clock_leeway = Some("0s".into());
    })
    .await;
    let client = driver.profile().await;
    sign_up(&client, &server, "ada@example.com").await;
    let created = chrono::Utc::now().naive_utc();

    // Two access-token lifetimes pass with no user action.
    actix_web::rt::time::sleep(Duration::from_secs(9)).await;

    let rotated_at = {
        use diesel::prelude::*;
        use latchkey::db::schema::sessions;
        let mut conn = server.state.pool.get().unwrap();
        sessions::table
            .select(sessions::rotated_at)
            .first::<Option<chrono::NaiveDateTime>>(&mut *conn)
            .unwrap()
            .expect("the page refreshed")
    };
    assert!(
        rotated_at > created + chrono::TimeDelta::seconds(2),
        "the page renewed its token on its own before it expired ({rotated_at} vs {created})"
    );
    fill(&client, "#current_password", "not my password").await;
    fill(&client, "#new_password", "another long password").await;
    fill(&client, "#new_password_confirm", "another long password").await;
    click(&client, "form[action='/fragments/account/password'] button").await;
    wait_for_text(
        &client,
        "[data-flash]",
        "The current password is incorrect.",
    )
    .await;
    assert_eq!(client.current_url().await.unwrap().path(), "/account");
    assert_eq!(server.audit_count("refresh_reuse"), 0);
    screenshot(&client, "browser_8_renewed").await;
    client.close().await.unwrap();
    server.stop().await;
}
