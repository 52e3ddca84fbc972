use actix_web::http::StatusCode;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{TestApp, ACCESS_KEY, REFRESH_KEY};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn sign(claims: &Value, key: &str, typ: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn assert_access_refused(app: &TestApp, token: &str, why: &str) {
    let resp = app.get_bearer("/api/me", token).await;
    assert_eq!(
        resp.status,
        StatusCode::UNAUTHORIZED,
        "{why}: {}",
        resp.text()
    );
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"), "{why}");
    assert_eq!(resp.json()["error"], "unauthorized", "{why}");
}

#[actix_web::test]
async fn the_access_token_carries_the_documented_claims() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.api_user("ada@example.com").await;

    let header = jsonwebtoken::decode_header(&access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::HS256);
    let claims = claims_of(&access);
    for claim in ["sub", "sid", "role", "iat", "exp", "jti", "iss", "aud"] {
        assert!(!claims[claim].is_null(), "{claim} in {claims}");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let refresh_claims = claims_of(&refresh);
    assert_eq!(refresh_claims["sid"], claims["sid"]);
    assert!(refresh_claims.get("role").is_none());
    let jti = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(refresh_claims["jti"].as_str().unwrap())
        .unwrap();
    assert!(jti.len() >= 16, "at least 128 random bits");
}

#[actix_web::test]
async fn tampered_truncated_and_unsigned_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    let mut claims = claims_of(&access);
    claims["role"] = json!("admin");
    let parts: Vec<&str> = access.split('.').collect();

    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_access_refused(&app, &tampered, "tampered payload").await;
    assert_access_refused(&app, &access[..access.len() - 5], "truncated").await;
    let none_header = b64(br#"{"alg":"none","typ":"at+jwt"}"#);
    let unsigned = format!("{none_header}.{}.", b64(claims.to_string().as_bytes()));
    assert_access_refused(&app, &unsigned, "alg none").await;
    assert_access_refused(&app, "not-a-token", "garbage").await;
    assert_access_refused(&app, &"a".repeat(10_000), "huge").await;
}

#[actix_web::test]
async fn tokens_signed_with_the_wrong_key_or_for_another_audience_are_refused() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    let claims = claims_of(&access);

    let forged = sign(
        &claims,
        "some-other-key-that-is-long-enough-000",
        Some("at+jwt"),
    );
    assert_access_refused(&app, &forged, "wrong key").await;

    let resigned = sign(&claims, ACCESS_KEY, Some("at+jwt"));
    assert_eq!(
        app.get_bearer("/api/me", &resigned).await.status,
        StatusCode::OK,
        "control"
    );

    for (claim, value) in [("iss", "someone-else"), ("aud", "another-app")] {
        let mut other = claims.clone();
        other[claim] = json!(value);
        assert_access_refused(&app, &sign(&other, ACCESS_KEY, Some("at+jwt")), claim).await;
    }
    assert_access_refused(&app, &sign(&claims, ACCESS_KEY, None), "missing typ").await;

    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.jku = Some("https://evil.example/keys".into());
    let jku = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(ACCESS_KEY.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_access_refused(&app, &jku, "jku header").await;

    let mut future = claims.clone();
    let now = app.clock.now().and_utc().timestamp();
    future["nbf"] = json!(now + 3600);
    future["iat"] = json!(now + 3600);
    future["exp"] = json!(now + 4000);
    assert_access_refused(
        &app,
        &sign(&future, ACCESS_KEY, Some("at+jwt")),
        "not yet valid",
    )
    .await;
}

#[actix_web::test]
async fn a_refresh_token_is_never_an_access_token_and_vice_versa() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.api_user("ada@example.com").await;

    assert_access_refused(&app, &refresh, "refresh token as access token").await;
    app.api_refresh(&access)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");

    // Same claims, right key for the other kind, wrong type marker: still refused.
    let claims = claims_of(&refresh);
    let typed_as_access = sign(&claims, REFRESH_KEY, Some("at+jwt"));
    app.api_refresh(&typed_as_access)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    assert_eq!(
        app.api_refresh(&refresh).await.status,
        StatusCode::OK,
        "the real one works"
    );
}

#[actix_web::test]
async fn an_access_token_of_a_deleted_account_is_refused_by_me() {
    let app = TestApp::spawn().await;
    let (access, _) = app.api_user("ada@example.com").await;
    {
        use diesel::prelude::*;
        use latchkey::db::schema::users;
        let mut conn = app.conn();
        diesel::delete(users::table).execute(&mut *conn).unwrap();
    }
    app.get_bearer("/api/me", &access)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}
