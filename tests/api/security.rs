//! One or more tests for every numbered line of SECURITY.md, named `sec_NN_…` after the line.
//! The table in the project's SECURITY.md maps each line to these and to the other tests that
//! show it.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use base64::Engine;
use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use latchkey::config::{Config, SettingsArgs};
use serde_json::{json, Value};

use crate::helpers::{TestApp, ACCESS_KEY, PASSWORD, REFRESH_COOKIE, USER_AGENT};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn sign_with(header: Header, claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn access_header() -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get_bearer("/api/me", token).await.status
}

// 1 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_01_the_refresh_cookie_is_httponly_secure_strict_scoped_to_auth_with_no_domain() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let signup = browser.signup("ada@example.com", PASSWORD).await;
    let refresh = browser.refresh().await;
    let login = app.browser().login("ada@example.com", PASSWORD).await;
    let logout = browser.logout().await;

    for (what, resp) in [
        ("signup", &signup),
        ("refresh", &refresh),
        ("login", &login),
        ("logout", &logout),
    ] {
        let raw = resp
            .raw_set_cookie(REFRESH_COOKIE)
            .unwrap_or_else(|| panic!("{what}: no cookie"));
        assert!(raw.starts_with("__Secure-latchkey_rt="), "{what}: {raw}");
        for flag in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/auth",
            "Max-Age=",
        ] {
            assert!(raw.contains(flag), "{what}: {flag} missing from {raw}");
        }
        assert!(
            !raw.to_ascii_lowercase().contains("domain"),
            "{what}: {raw}"
        );
    }
}

// 2 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_02_the_access_token_never_rides_a_url_a_cookie_or_web_storage() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let signup = browser.signup("ada@example.com", PASSWORD).await;
    let refresh = browser.refresh().await;
    let access = refresh.json()["access_token"].as_str().unwrap().to_owned();

    for resp in [&signup, &refresh] {
        for cookie in resp.set_cookies() {
            assert!(!cookie.value().contains(&access));
            assert_ne!(
                claims_of_or_none(cookie.value()).and_then(|c| c.get("role").cloned()),
                Some(json!("user")),
                "an access token in a cookie"
            );
        }
        assert!(
            !resp.location().unwrap_or_default().contains("eyJ"),
            "no token in a redirect URL"
        );
    }
    let script = app
        .call(TestRequest::get().uri("/static/js/latchkey.js"))
        .await
        .text();
    let code: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    for forbidden in [
        "localStorage",
        "sessionStorage",
        "document.cookie",
        "indexedDB",
        "?access_token",
        "&access_token",
    ] {
        assert!(
            !code.contains(forbidden),
            "the client script uses {forbidden}"
        );
    }
    // The fragment endpoints take the token from the Authorization header only.
    let via_query = app
        .call(TestRequest::get().uri(&format!("/fragments/account?access_token={access}")))
        .await;
    assert_eq!(via_query.status, StatusCode::UNAUTHORIZED);
}

fn claims_of_or_none(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

// 3 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_03_security_headers_are_on_every_response() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    let requests = vec![
        TestRequest::get().uri("/login"),
        TestRequest::get().uri("/account"),
        TestRequest::get().uri("/static/js/latchkey.js"),
        TestRequest::get().uri("/healthz"),
        TestRequest::get().uri("/nope"),
        TestRequest::get().uri("/api/me"),
        TestRequest::get()
            .uri("/api/me")
            .insert_header(("authorization", format!("Bearer {access}"))),
        TestRequest::get()
            .uri("/fragments/account")
            .insert_header(("authorization", format!("Bearer {access}"))),
        TestRequest::post().uri("/auth/refresh"),
        TestRequest::post()
            .uri("/auth/refresh")
            .insert_header(("x-latchkey-refresh", "1")),
        TestRequest::post()
            .uri("/api/auth/signin")
            .set_json(json!({"email": "x"})),
        TestRequest::post()
            .uri("/login")
            .insert_header(("origin", "https://evil.example")),
    ];
    for req in requests {
        let resp = app.call(req).await;
        let csp = resp.header("content-security-policy").expect("CSP");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(resp.header("referrer-policy"), Some("same-origin"));
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
        assert!(
            resp.header("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    let over_tls =
        TestApp::spawn_with(|s| s.public_url = Some("https://auth.example.com".into())).await;
    let resp = over_tls.call(TestRequest::get().uri("/login")).await;
    assert!(resp
        .header("strict-transport-security")
        .unwrap()
        .contains("max-age="));
}

#[actix_web::test]
async fn sec_03_authenticated_answers_and_refresh_are_never_cached() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let refresh = browser.refresh().await;
    let access = refresh.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh.header("cache-control"), Some("no-store"));
    for path in ["/api/me", "/api/sessions", "/fragments/account"] {
        let resp = app.get_bearer(path, &access).await;
        assert_eq!(resp.header("cache-control"), Some("no-store"), "{path}");
    }
    let logout = browser.logout().await;
    assert_eq!(logout.header("cache-control"), Some("no-store"));
}

// 4 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_04_the_algorithm_is_pinned_and_keys_named_by_the_token_are_never_used() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    let claims = claims_of(&access);

    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_eq!(
        me_status(&app, &none).await,
        StatusCode::UNAUTHORIZED,
        "alg none"
    );
    let mut hs512 = Header::new(Algorithm::HS512);
    hs512.typ = Some("at+jwt".into());
    assert_eq!(
        me_status(&app, &sign_with(hs512, &claims, ACCESS_KEY)).await,
        StatusCode::UNAUTHORIZED,
        "an algorithm other than the pinned one, even with the right key"
    );
    for header in ["jku", "x5u", "jwk"] {
        let mut with_remote_key = access_header();
        match header {
            "jku" => with_remote_key.jku = Some("https://evil.example/jwks".into()),
            "x5u" => with_remote_key.x5u = Some("https://evil.example/cert".into()),
            _ => {
                with_remote_key.jwk =
                    serde_json::from_value(json!({"kty": "oct", "k": "c2VjcmV0"})).ok();
            }
        }
        let token = sign_with(with_remote_key, &claims, ACCESS_KEY);
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{header}"
        );
    }
    let mut kid = access_header();
    kid.kid = Some("../../../../dev/null".into());
    assert_eq!(
        me_status(
            &app,
            &sign_with(kid.clone(), &claims, "attacker-chosen-key-000000000000000")
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "a kid never selects a key the attacker controls"
    );
    assert_eq!(
        me_status(&app, &sign_with(kid, &claims, ACCESS_KEY)).await,
        StatusCode::OK,
        "kid is ignored: the local access key is the only key"
    );
}

// 5 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_05_iss_aud_exp_and_nbf_are_checked_with_at_most_sixty_seconds_leeway() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    let claims = claims_of(&access);
    let now = app.clock.now().and_utc().timestamp();
    let variants = [
        ("iss", json!("someone-else")),
        ("aud", json!("another-app")),
        ("exp", json!(now - 61)),
        ("nbf", json!(now + 61)),
    ];
    for (claim, value) in variants {
        let mut bad = claims.clone();
        bad[claim] = value;
        let token = sign_with(access_header(), &bad, ACCESS_KEY);
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{claim}"
        );
    }
    for missing in ["iss", "aud", "exp", "nbf"] {
        let mut bad = claims.clone();
        bad.as_object_mut().unwrap().remove(missing);
        let token = sign_with(access_header(), &bad, ACCESS_KEY);
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "without {missing}"
        );
    }
    let too_lenient = SettingsArgs {
        clock_leeway: Some("61s".into()),
        ..Default::default()
    };
    assert_eq!(
        Config::from_args(&too_lenient).unwrap_err().name,
        "LATCHKEY_CLOCK_LEEWAY"
    );
}

// 6 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_06_access_and_refresh_tokens_use_different_keys_and_types() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.api_user("ada@example.com").await;
    assert_eq!(
        jsonwebtoken::decode_header(&access).unwrap().typ.as_deref(),
        Some("at+jwt")
    );
    assert_eq!(
        jsonwebtoken::decode_header(&refresh)
            .unwrap()
            .typ
            .as_deref(),
        Some("rt+jwt")
    );

    assert_eq!(me_status(&app, &refresh).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.api_refresh(&access).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A refresh token's claims under the access key and type are still refused: no role.
    let as_access = sign_with(access_header(), &claims_of(&refresh), ACCESS_KEY);
    assert_eq!(me_status(&app, &as_access).await, StatusCode::UNAUTHORIZED);
    let same_keys = SettingsArgs {
        access_key: Some("k".repeat(40)),
        refresh_key: Some("k".repeat(40)),
        ..Default::default()
    };
    assert!(Config::from_args(&same_keys).is_err());
}

// 7 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_07_access_tokens_live_at_most_15_minutes_carry_sid_and_jti_and_ids_are_random() {
    let app = TestApp::spawn().await;
    let (first, refresh) = app.api_user("ada@example.com").await;
    let second = app.api_refresh(&refresh).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (a, b) = (claims_of(&first), claims_of(&second));
    assert!(a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap() <= 900);
    assert_eq!(a["sid"], b["sid"]);
    assert_ne!(a["jti"], b["jti"]);
    let jti = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims_of(&refresh)["jti"].as_str().unwrap())
        .unwrap();
    assert!(jti.len() * 8 >= 128);
    let longer = SettingsArgs {
        access_ttl: Some("16m".into()),
        ..Default::default()
    };
    assert_eq!(
        Config::from_args(&longer).unwrap_err().name,
        "LATCHKEY_ACCESS_TTL"
    );
}

// 8 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_08_refresh_tokens_are_stored_only_as_argon2id_hashes_and_never_recorded() {
    let app = TestApp::spawn().await;
    let (access, first) = app.api_user("ada@example.com").await;
    let second = app.api_rotate(&first).await;
    let rows: Vec<(String, Option<String>)> = {
        use diesel::prelude::*;
        use latchkey::db::schema::sessions;
        let mut conn = app.conn();
        sessions::table
            .select((sessions::token_hash, sessions::previous_token_hash))
            .load(&mut *conn)
            .unwrap()
    };
    let (current, previous) = rows[0].clone();
    assert!(current.starts_with("$argon2id$"), "{current}");
    assert!(previous.unwrap().starts_with("$argon2id$"));
    let everything_audited = app.audit_dump();
    for secret in [&access, &first, &second, &current] {
        assert!(!current.contains(secret.as_str()) || secret == &current);
        assert!(
            !everything_audited.contains(secret.as_str()),
            "a secret in the audit log"
        );
    }
    let now = app.clock.now();
    let token = app.state.tokens.issue_refresh("u", "s", now, now).unwrap();
    assert_eq!(format!("{token:?}"), "RefreshToken([redacted])");
}

// 9 ─────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_09_parallel_refreshes_with_one_token_rotate_once_and_fork_nothing() {
    let app = TestApp::spawn().await;
    let (_, token) = app.api_user("ada@example.com").await;
    let results = futures_util::future::join_all((0..12).map(|_| app.api_refresh(&token))).await;
    let successors: Vec<String> = results
        .iter()
        .filter_map(|r| r.json()["refresh_token"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(successors.len(), 1);
    assert_eq!(app.count("sessions"), 1);
    assert_eq!(app.api_refresh(&successors[0]).await.status, StatusCode::OK);
}

// 10 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_10_the_previous_token_gets_grace_and_an_older_one_revokes_clears_and_is_audited() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let first = browser.cookie(REFRESH_COOKIE).unwrap();
    browser.refresh().await;
    let thief = app.browser();
    thief.signup("thief@example.com", PASSWORD).await;
    thief.set_cookie_value(REFRESH_COOKIE, &first);

    let grace = thief.refresh().await;
    assert_eq!(grace.status, StatusCode::OK);
    assert!(
        grace.raw_set_cookie(REFRESH_COOKIE).is_none(),
        "no new refresh token in grace"
    );

    app.clock.advance(TimeDelta::seconds(21));
    thief.set_cookie_value(REFRESH_COOKIE, &first);
    let reuse = thief.refresh().await;
    reuse.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    assert!(reuse
        .raw_set_cookie(REFRESH_COOKIE)
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(browser.refresh().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.audit("refresh_reuse").len(), 1);
    assert_eq!(app.audit("refresh_grace").len(), 1);
}

// 11 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_11_idle_and_absolute_expiry_are_enforced_by_the_server() {
    let app = TestApp::spawn().await;
    let (_, idle) = app.api_user("idle@example.com").await;
    let (_, mut active) = app.api_user("active@example.com").await;
    for _ in 0..4 {
        app.clock.advance(TimeDelta::days(6));
        active = app.api_rotate(&active).await;
    }
    assert_eq!(
        app.api_refresh(&idle).await.status,
        StatusCode::UNAUTHORIZED,
        "idle > 7 days"
    );
    app.clock
        .advance(TimeDelta::days(6) + TimeDelta::seconds(1));
    assert_eq!(
        app.api_refresh(&active).await.status,
        StatusCode::UNAUTHORIZED,
        "past 30 days"
    );
}

// 12 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_12_every_login_makes_a_new_session_row() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    let browser = app.browser();
    browser.login("ada@example.com", PASSWORD).await;
    let before = browser.access_token().await;
    browser.login("ada@example.com", PASSWORD).await;
    let after = browser.access_token().await;
    assert_ne!(
        claims_of(&before)["sid"],
        claims_of(&after)["sid"],
        "a fresh session, never reused"
    );
    assert_eq!(app.count("sessions"), 3);
}

// 13 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_13_logout_stops_access_tokens_at_once_here_and_within_the_poll_on_other_instances() {
    let a = TestApp::spawn_with(|s| s.revocation_poll = Some("200ms".into())).await;
    let b = a.another_instance().await;
    let browser = a.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let access = browser.access_token().await;
    assert_eq!(
        me_status(&b, &access).await,
        StatusCode::OK,
        "instance B accepts it"
    );

    let resp = browser.logout().await;

    resp.assert_redirect_to("/login");
    assert!(resp
        .raw_set_cookie(REFRESH_COOKIE)
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        me_status(&a, &access).await,
        StatusCode::UNAUTHORIZED,
        "at once on A"
    );
    let started = Instant::now();
    while me_status(&b, &access).await != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "B never learned of the revoke"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(browser.refresh().await.status, StatusCode::UNAUTHORIZED);
}

// 14 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_14_users_list_and_revoke_their_devices_and_another_users_sid_is_404() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    let phone = app.api_signin("ada@example.com", PASSWORD).await.json();
    let (other, _) = app.api_user("grace@example.com").await;
    let other_sid = claims_of(&other)["sid"].as_str().unwrap().to_owned();

    let list = app.get_bearer("/api/sessions", &access).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    for field in ["created_at", "last_used_at", "ip", "user_agent", "current"] {
        assert!(list[0].get(field).is_some(), "{field}");
    }
    assert_eq!(
        app.delete_bearer(&format!("/api/sessions/{other_sid}"), &access)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let phone_sid = claims_of(phone["access_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete_bearer(&format!("/api/sessions/{phone_sid}"), &access)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_bearer("/api/sessions", &access)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

// 15 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_15_a_password_change_revokes_other_sessions_and_disabling_revokes_all() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    let (phone_access, phone_refresh) = {
        let body = app.api_signin("ada@example.com", PASSWORD).await.json();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    };
    let new = "a brand new passphrase";
    let changed = app
        .post_form_bearer(
            "/fragments/account/password",
            &access,
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(
        app.api_refresh(&phone_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status(&app, &phone_access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status(&app, &access).await,
        StatusCode::OK,
        "this session stays"
    );

    let (grace_access, grace_refresh) = app.api_user("grace@example.com").await;
    let grace_id = claims_of(&grace_access)["sub"].as_str().unwrap().to_owned();
    let admin = crate::admin_pages::admin_token(&app).await;
    let disabled = app
        .post_form_bearer(
            &format!("/fragments/admin/users/{grace_id}/disable"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text());
    assert!(disabled.text().contains("Disabled grace@example.com"));
    assert_eq!(
        me_status(&app, &grace_access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api_refresh(&grace_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.api_signin("grace@example.com", PASSWORD)
        .await
        .assert_error(StatusCode::FORBIDDEN, "account_disabled");
    assert_eq!(app.audit("user_disabled").len(), 1);
}

// 16 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_16_only_admins_reach_admin_pages_and_apis_and_their_revokes_are_audited() {
    let app = TestApp::spawn().await;
    let (user, _) = app.api_user("ada@example.com").await;
    let admin = crate::admin_pages::admin_token(&app).await;
    for path in [
        "/api/admin/sessions",
        "/fragments/admin/sessions",
        "/fragments/admin/audit",
    ] {
        assert_eq!(
            app.get_bearer(path, &user).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get_bearer(path, &admin).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let sid = claims_of(&user)["sid"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete_bearer(&format!("/api/admin/sessions/{sid}"), &user)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete_bearer(&format!("/api/admin/sessions/{sid}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let audit = app.audit("admin_session_revoked");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0].user_id.as_deref(),
        claims_of(&admin)["sub"].as_str(),
        "the admin is recorded"
    );
}

// 17 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_17_every_state_changing_form_needs_its_csrf_token() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let access = browser.access_token().await;
    let sid = claims_of(&access)["sid"].as_str().unwrap().to_owned();
    let forms = [
        "/signup".to_owned(),
        "/login".to_owned(),
        "/auth/logout".to_owned(),
        "/auth/logout-all".to_owned(),
        "/fragments/account/password".to_owned(),
        "/fragments/account/sessions/revoke-others".to_owned(),
        format!("/fragments/account/sessions/{sid}/revoke"),
    ];
    let (users, sessions) = (app.count("users"), app.count("sessions"));
    for form in &forms {
        for token in ["", "forged"] {
            let resp = browser
                .send(
                    TestRequest::post()
                        .insert_header(("authorization", format!("Bearer {access}")))
                        .set_form([
                            ("csrf_token", token),
                            ("email", "x@example.com"),
                            ("password", PASSWORD),
                        ]),
                    form,
                )
                .await;
            assert_eq!(resp.status, StatusCode::FORBIDDEN, "{form} with {token:?}");
        }
    }
    assert_eq!(
        (app.count("users"), app.count("sessions")),
        (users, sessions)
    );
    assert_eq!(
        browser.refresh().await.status,
        StatusCode::OK,
        "nothing was revoked"
    );
}

#[actix_web::test]
async fn sec_17_cookie_authenticated_and_form_endpoints_refuse_other_origins() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    let csrf = browser.csrf_token("/account").await;
    for path in [
        "/auth/refresh",
        "/auth/logout",
        "/auth/logout-all",
        "/login",
        "/signup",
    ] {
        for (header, value) in [
            ("origin", "https://evil.example"),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
        ] {
            let resp = browser
                .send(
                    TestRequest::post()
                        .insert_header(("x-latchkey-refresh", "1"))
                        .insert_header((header, value))
                        .set_form([("csrf_token", csrf.as_str())]),
                    path,
                )
                .await;
            assert_eq!(
                resp.status,
                StatusCode::FORBIDDEN,
                "{path} with {header}: {value}"
            );
        }
    }
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

// 18 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_18_failed_sign_ins_back_off_per_account_and_the_right_password_waits_too() {
    let app = TestApp::spawn().await;
    let (_, existing) = app.api_user("ada@example.com").await;
    for _ in 0..5 {
        app.api_signin("ada@example.com", "not the password")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }

    let locked = app.api_signin("ada@example.com", PASSWORD).await;
    locked.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert_eq!(locked.header("retry-after"), Some("2"));
    let page = app.browser().login("ada@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.text().contains("Try again in"), "the form says when");
    assert!(page.header("retry-after").is_some());
    assert_eq!(
        app.api_refresh(&existing).await.status,
        StatusCode::OK,
        "existing sessions untouched"
    );
    assert_eq!(app.audit("signin_throttled").len(), 2);

    app.clock.advance(TimeDelta::seconds(3));
    assert_eq!(
        app.api_signin("ada@example.com", PASSWORD).await.status,
        StatusCode::OK,
        "the wait expires"
    );
    for _ in 0..5 {
        app.api_signin("ada@example.com", "not the password").await;
    }
    app.api_signin("ada@example.com", "not the password").await;
    let doubled = app.api_signin("ada@example.com", PASSWORD).await;
    assert!(
        doubled.status == StatusCode::TOO_MANY_REQUESTS,
        "success cleared the count; five more failures lock again"
    );
    app.clock.advance(TimeDelta::minutes(16));
    assert_eq!(
        app.api_signin("ada@example.com", PASSWORD).await.status,
        StatusCode::OK,
        "failures are forgotten"
    );
}

#[actix_web::test]
async fn sec_18_failures_per_ip_add_up_across_accounts_and_instances() {
    let a = TestApp::spawn_with(|s| s.throttle_ip_limit = Some("6".into())).await;
    let b = a.another_instance().await;
    a.api_user("ada@example.com").await;
    for n in 0..6 {
        let instance = if n % 2 == 0 { &a } else { &b };
        let resp = instance
            .api_signin(&format!("nobody{n}@example.com"), "not the password")
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    }
    let resp = b.api_signin("ada@example.com", PASSWORD).await;
    resp.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let signup = a.api_signup("new@example.com", PASSWORD).await;
    signup.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}

#[actix_web::test]
async fn sec_18_the_client_ip_comes_from_the_socket_unless_the_proxy_is_trusted() {
    let plain = TestApp::spawn_with(|s| s.throttle_ip_limit = Some("2".into())).await;
    for n in 0..2 {
        plain
            .call(
                TestRequest::post()
                    .uri("/api/auth/signin")
                    .insert_header(("x-forwarded-for", format!("203.0.113.{n}")))
                    .set_json(
                        json!({"email": format!("x{n}@example.com"), "password": "nope-nope"}),
                    ),
            )
            .await;
    }
    let spoofed = plain
        .call(
            TestRequest::post()
                .uri("/api/auth/signin")
                .insert_header(("x-forwarded-for", "203.0.113.99"))
                .set_json(json!({"email": "y@example.com", "password": "nope-nope"})),
        )
        .await;
    assert_eq!(
        spoofed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header changes nothing"
    );

    let proxied = TestApp::spawn_with(|s| {
        s.throttle_ip_limit = Some("2".into());
        s.trusted_proxies = Some("127.0.0.1".into());
    })
    .await;
    for n in 0..3 {
        let resp = proxied
            .call(
                TestRequest::post()
                    .uri("/api/auth/signin")
                    .insert_header(("x-forwarded-for", format!("198.51.100.7, 203.0.113.{n}")))
                    .set_json(
                        json!({"email": format!("x{n}@example.com"), "password": "nope-nope"}),
                    ),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNAUTHORIZED,
            "each client counted on its own"
        );
    }
    let failures = proxied.audit("signin_failure");
    assert_eq!(failures[0].ip.as_deref(), Some("203.0.113.0"));
}

// 19 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_19_sign_in_answers_alike_for_unknown_accounts_and_sign_up_probing_is_throttled() {
    let app = TestApp::spawn_with(|s| s.throttle_ip_limit = Some("3".into())).await;
    app.api_user("ada@example.com").await;
    let verifications = app.state.hasher.password_verifications();
    let known = app.api_signin("ada@example.com", "wrong password").await;
    let unknown = app.api_signin("nobody@example.com", "wrong password").await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!(
        app.state.hasher.password_verifications() - verifications,
        2,
        "a dummy verify for the unknown account"
    );

    let taken = app.api_signup("ada@example.com", PASSWORD).await;
    taken.assert_error(StatusCode::CONFLICT, "email_taken");
    let probing = app.api_signup("ada@example.com", PASSWORD).await;
    probing.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}

// 20 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_20_hashes_are_argon2id_with_a_salt_each_and_rehashed_when_parameters_rise() {
    let weak = TestApp::spawn().await;
    weak.api_user("ada@example.com").await;
    weak.api_user("grace@example.com").await;
    let hashes = stored_hashes(&weak);
    assert!(
        hashes
            .iter()
            .all(|h| h.starts_with("$argon2id$v=19$m=256,t=1,p=1$")),
        "{hashes:?}"
    );
    assert_ne!(
        hashes[0].split('$').nth(4),
        hashes[1].split('$').nth(4),
        "salts differ"
    );

    let app = weak
        .another_instance_with(|s| {
            s.password_m_cost = Some("512".into());
            s.password_t_cost = Some("2".into());
        })
        .await;
    assert_eq!(
        app.api_signin("ada@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    let hashes = stored_hashes(&app);
    assert!(
        hashes
            .iter()
            .any(|h| h.starts_with("$argon2id$v=19$m=512,t=2,p=1$")),
        "rehashed: {hashes:?}"
    );
    assert!(
        hashes
            .iter()
            .any(|h| h.starts_with("$argon2id$v=19$m=256,t=1,p=1$")),
        "others untouched until they sign in"
    );
    assert_eq!(
        app.api_signin("ada@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    drop(app);
    drop(weak);
}

fn stored_hashes(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    use latchkey::db::schema::users;
    let mut conn = app.conn();
    users::table
        .order(users::email)
        .select(users::password_hash)
        .load(&mut *conn)
        .unwrap()
}

// 21 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_21_passwords_are_8_to_128_characters_of_any_unicode_and_not_common() {
    let app = TestApp::spawn().await;
    let cases = [
        ("seven77", false),
        ("ηλεκτρονικό", true),
        (&"x".repeat(128), true),
        (&"x".repeat(129), false),
        ("password1", false),
        ("Iloveyou", false),
        ("correct horse battery staple", true),
    ];
    for (n, (password, accepted)) in cases.iter().enumerate() {
        let resp = app
            .api_signup(&format!("user{n}@example.com"), password)
            .await;
        let expected = if *accepted {
            StatusCode::CREATED
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(resp.status, expected, "{password:?}: {}", resp.text());
    }
    let common = app.browser().signup("web@example.com", "qwertyuiop").await;
    assert_eq!(common.status, StatusCode::BAD_REQUEST);
    assert!(common.text().contains("most common"));

    let stricter = TestApp::spawn_with(|s| s.password_min_length = Some("12".into())).await;
    stricter
        .api_signup("a@example.com", "eleven-char")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(
        stricter
            .api_signup("b@example.com", "twelve-chars")
            .await
            .status,
        StatusCode::CREATED
    );
}

// 22 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_22_no_more_argon2_hashes_run_at_once_than_the_cap() {
    let app = TestApp::spawn_with(|s| {
        s.argon2_concurrency = Some("2".into());
        s.password_m_cost = Some("4096".into());
        s.throttle_ip_limit = Some("1000".into());
    })
    .await;
    let emails: Vec<String> = (0..8).map(|n| format!("user{n}@example.com")).collect();
    let signups = emails.iter().map(|email| app.api_signup(email, PASSWORD));
    let results = futures_util::future::join_all(signups).await;
    assert!(results.iter().all(|r| r.status == StatusCode::CREATED));
    let peak = app.state.hasher.peak_concurrency();
    assert!((1..=2).contains(&peak), "peak {peak}");
}

// 23 ────────────────────────────────────────────────────────────────────────────────────────────
#[actix_web::test]
async fn sec_23_security_events_are_audited_with_ip_and_user_agent_and_no_secret() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.signup("ada@example.com", PASSWORD).await;
    browser.login("ada@example.com", "wrong password").await;
    let first = browser.cookie(REFRESH_COOKIE).unwrap();
    browser.login("ada@example.com", PASSWORD).await;
    let access = browser.access_token().await;
    let replay = app.browser();
    replay.signup("grace@example.com", PASSWORD).await;
    replay.set_cookie_value(REFRESH_COOKIE, &first);
    replay.refresh().await; // the first session's only token, unrotated: a normal refresh
    replay.set_cookie_value(REFRESH_COOKIE, &first);
    replay.refresh().await; // previous token within grace
    app.clock.advance(TimeDelta::seconds(30));
    replay.set_cookie_value(REFRESH_COOKIE, &first);
    replay.refresh().await; // reuse
    let admin = crate::admin_pages::admin_token(&app).await;
    let (victim, _) = app.api_user("victim@example.com").await;
    let sid = claims_of(&victim)["sid"].as_str().unwrap().to_owned();
    app.delete_bearer(&format!("/api/admin/sessions/{sid}"), &admin)
        .await;
    browser.logout_everywhere().await;

    for kind in [
        "signup",
        "signin_failure",
        "signin_success",
        "refresh_grace",
        "refresh_reuse",
        "admin_session_revoked",
        "logout_all",
        "admin_created",
    ] {
        let events = app.audit(kind);
        assert!(!events.is_empty(), "{kind} not audited");
        if kind != "admin_created" {
            assert!(
                events.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")),
                "{kind}: ip"
            );
            assert!(
                events
                    .iter()
                    .all(|e| e.user_agent.as_deref() == Some(USER_AGENT)),
                "{kind}: user agent"
            );
        }
    }
    let everything = app.audit_dump();
    assert!(
        !everything.contains(&first)
            && !everything.contains(&access)
            && !everything.contains("$argon2")
    );
    assert!(!everything.contains(PASSWORD) && !everything.contains("wrong password"));
}

// 24 ────────────────────────────────────────────────────────────────────────────────────────────
// The bad-input corpus, run against every route, is in corpus.rs (`sec_24_…`).

#[actix_web::test]
async fn sec_18_stale_throttle_counters_are_forgotten() {
    let app = TestApp::spawn().await;
    app.api_signin("nobody@example.com", "not the password")
        .await;
    assert_eq!(
        app.count("sign_in_throttles"),
        2,
        "one for the account, one for the address"
    );

    assert_eq!(
        app.state.forget_stale_throttles().unwrap(),
        0,
        "fresh counters stay"
    );
    app.clock.advance(TimeDelta::minutes(16));
    assert_eq!(app.state.forget_stale_throttles().unwrap(), 2);
    assert_eq!(app.count("sign_in_throttles"), 0);
}

#[actix_web::test]
async fn sec_18_a_malformed_forwarded_hop_is_not_believed() {
    let app = TestApp::spawn_with(|s| s.trusted_proxies = Some("127.0.0.1".into())).await;
    app.call(
        TestRequest::post()
            .uri("/api/auth/signin")
            .insert_header(("x-forwarded-for", "203.0.113.5, not-an-ip"))
            .set_json(json!({"email": "x@example.com", "password": "nope-nope"})),
    )
    .await;
    let failures = app.audit("signin_failure");
    assert_eq!(
        failures[0].ip.as_deref(),
        Some("127.0.0.1"),
        "falls back to the proxy itself"
    );
}

#[actix_web::test]
async fn sec_15_an_admin_cannot_disable_their_own_account() {
    let app = TestApp::spawn().await;
    let admin = crate::admin_pages::admin_token(&app).await;
    let own_id = claims_of(&admin)["sub"].as_str().unwrap().to_owned();

    let resp = app
        .post_form_bearer(
            &format!("/fragments/admin/users/{own_id}/disable"),
            &admin,
            &[],
        )
        .await;

    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert!(resp.text().contains("cannot disable your own account"));
    assert_eq!(me_status(&app, &admin).await, StatusCode::OK);
    assert!(app.audit("user_disabled").is_empty());
}

#[actix_web::test]
async fn sec_17_a_form_from_one_instance_posts_to_another_that_shares_the_session_key() {
    let a = TestApp::spawn_with(|s| s.session_key = Some("k".repeat(64))).await;
    let b = a.another_instance().await;
    a.api_user("ada@example.com").await;
    let page = a.call(TestRequest::get().uri("/login")).await;
    let cookie = page
        .set_cookie("__Host-latchkey_csrf")
        .expect("CSRF cookie");
    let token = crate::helpers::csrf_in(&page.text()).unwrap();

    let resp = b
        .call(TestRequest::post().uri("/login").cookie(cookie).set_form([
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ]))
        .await;

    resp.assert_redirect_to("/account");
}
