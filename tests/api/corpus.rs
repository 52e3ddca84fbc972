//! SECURITY.md line 24: a corpus of bad input run against every route. Every answer is a 4xx
//! with the route's error shape (never a 5xx), and the database is unchanged afterwards.

use std::io::{Read, Write};
use std::net::TcpStream;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{
    LiveServer, Resp, TestApp, ACCESS_KEY, PASSWORD, REFRESH_COOKIE, REFRESH_KEY,
};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn sign(claims: &Value, key: &str, typ: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(typ.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Bad versions of a valid token of type `typ` signed with `key`.
fn bad_tokens(valid: &str, key: &str, typ: &str, other: &str) -> Vec<(&'static str, String)> {
    let claims = claims_of(valid);
    let parts: Vec<&str> = valid.split('.').collect();
    let mut tampered = claims.clone();
    tampered["sub"] = json!("someone-else");
    let mut expired = claims.clone();
    expired["exp"] = json!(claims["iat"].as_i64().unwrap() - 3600);
    let mut future = claims.clone();
    let far = claims["iat"].as_i64().unwrap() + 10 * 365 * 86_400;
    future["iat"] = json!(far);
    future["nbf"] = json!(far);
    future["exp"] = json!(far + 900);
    vec![
        (
            "tampered",
            format!(
                "{}.{}.{}",
                parts[0],
                b64(tampered.to_string().as_bytes()),
                parts[2]
            ),
        ),
        ("truncated", valid[..valid.len() / 2].to_owned()),
        ("no signature", format!("{}.{}.", parts[0], parts[1])),
        (
            "alg none",
            format!("{}.{}.", b64(br#"{"alg":"none","typ":"at+jwt"}"#), parts[1]),
        ),
        (
            "wrong key",
            sign(&claims, "a-key-that-is-not-ours-0123456789abcdef", typ),
        ),
        ("wrong type", other.to_owned()),
        ("expired", sign(&expired, key, typ)),
        ("far future", sign(&future, key, typ)),
        ("garbage", "%%%not-a-token%%%".to_owned()),
        ("huge", "e".repeat(64 * 1024)),
        ("empty parts", "..".to_owned()),
        ("bad base64", "!!!.@@@.###".to_owned()),
    ]
}

/// Row counts of every table, to show nothing changed.
fn snapshot(app: &TestApp) -> Vec<i64> {
    ["users", "sessions", "audit_events", "sign_in_throttles"]
        .iter()
        .map(|t| app.count(t))
        .chain(std::iter::once(revoked(app)))
        .collect()
}

fn revoked(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use latchkey::db::schema::sessions;
    let mut conn = app.conn();
    sessions::table
        .filter(sessions::revoked_at.is_not_null())
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

fn assert_json_4xx(resp: &Resp, what: &str) {
    assert!(
        resp.status.is_client_error(),
        "{what}: {} {}",
        resp.status,
        resp.text()
    );
    let body: Value = serde_json::from_slice(&resp.body)
        .unwrap_or_else(|_| panic!("{what}: not JSON: {}", resp.text()));
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{what}: {body}"
    );
}

fn assert_page_4xx(resp: &Resp, what: &str) {
    assert!(
        resp.status.is_client_error(),
        "{what}: {} {}",
        resp.status,
        resp.text()
    );
    assert!(
        resp.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{what}"
    );
}

const GUARDED: &[(&str, &str)] = &[
    ("GET", "/api/me"),
    ("GET", "/api/sessions"),
    ("DELETE", "/api/sessions/some-id"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/admin/sessions"),
    ("DELETE", "/api/admin/sessions/some-id"),
    ("GET", "/fragments/account"),
    ("POST", "/fragments/account/password"),
    ("POST", "/fragments/account/sessions/revoke-others"),
    ("POST", "/fragments/account/sessions/some-id/revoke"),
    ("GET", "/fragments/admin/sessions"),
    ("POST", "/fragments/admin/sessions/some-id/revoke"),
    ("POST", "/fragments/admin/users/some-id/revoke-all"),
    ("POST", "/fragments/admin/users/some-id/disable"),
    ("GET", "/fragments/admin/audit"),
];

fn request(method: &str, path: &str) -> TestRequest {
    match method {
        "GET" => TestRequest::get(),
        "POST" => TestRequest::post(),
        "DELETE" => TestRequest::delete(),
        other => panic!("{other}"),
    }
    .uri(path)
}

#[actix_web::test]
async fn sec_24_bad_tokens_on_every_guarded_route_answer_401_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.api_user("ada@example.com").await;
    let before = snapshot(&app);

    for (what, token) in bad_tokens(&access, ACCESS_KEY, "at+jwt", &refresh) {
        for (method, path) in GUARDED {
            let resp = app
                .call(
                    request(method, path)
                        .insert_header(("authorization", format!("Bearer {token}"))),
                )
                .await;
            assert_eq!(
                resp.status,
                StatusCode::UNAUTHORIZED,
                "{what} on {method} {path}"
            );
            assert_json_4xx(&resp, what);
            assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        }
    }
    assert_eq!(snapshot(&app), before);
}

#[actix_web::test]
async fn sec_24_bad_refresh_tokens_answer_401_on_both_refresh_endpoints_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.api_user("ada@example.com").await;
    let before = snapshot(&app);
    let browser = app.browser();
    browser.get("/login").await;

    for (what, token) in bad_tokens(&refresh, REFRESH_KEY, "rt+jwt", &access) {
        let api = app.api_refresh(&token).await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_json_4xx(&api, what);
        let cookie = app
            .call(
                TestRequest::post()
                    .uri("/auth/refresh")
                    .insert_header(("x-latchkey-refresh", "1"))
                    .cookie(actix_web::cookie::Cookie::new(
                        REFRESH_COOKIE,
                        token.clone(),
                    )),
            )
            .await;
        assert_eq!(
            cookie.status,
            StatusCode::UNAUTHORIZED,
            "{what} as a cookie"
        );
        assert_json_4xx(&cookie, what);
    }
    assert_eq!(snapshot(&app), before, "no session was revoked by junk");
    assert_eq!(app.api_refresh(&refresh).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn sec_24_bad_json_bodies_answer_4xx_json_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    let before = snapshot(&app);
    let big = format!(
        r#"{{"email":"a@example.com","password":"{}"}}"#,
        "p".repeat(20_000)
    );
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("malformed", b"{\"email\": ".to_vec()),
        ("not an object", b"[1, 2, 3]".to_vec()),
        (
            "wrong types",
            br#"{"email": ["a"], "password": {"x": 1}}"#.to_vec(),
        ),
        ("missing field", br#"{"email": "ada@example.com"}"#.to_vec()),
        (
            "unknown field",
            br#"{"email": "ada@example.com", "password": "x", "role": "admin"}"#.to_vec(),
        ),
        (
            "duplicate field",
            br#"{"email": "ada@example.com", "email": "b@example.com", "password": "x"}"#.to_vec(),
        ),
        (
            "invalid UTF-8",
            b"{\"email\": \"\xff\xfe@example.com\", \"password\": \"x\"}".to_vec(),
        ),
        (
            "null bytes",
            b"{\"email\": \"ada\\u0000@example.com\", \"password\": \"x\"}".to_vec(),
        ),
        ("oversized", big.into_bytes()),
        ("empty", Vec::new()),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        ),
    ];
    let odd_emails = [
        "ada\u{202E}moc.elpmaxe@example.com",
        "a\u{200B}da@example.com",
        "ada\u{FF20}example.com",
        "ada@example.com\u{FEFF}",
        "ａｄａ",
        "@",
        "ada@-example-.com",
        &format!("{}@example.com", "a".repeat(300)),
    ];
    for path in ["/api/auth/signup", "/api/auth/signin"] {
        for (what, body) in &bodies {
            let resp = app
                .call(
                    TestRequest::post()
                        .uri(path)
                        .insert_header(("content-type", "application/json"))
                        .set_payload(body.clone()),
                )
                .await;
            assert_json_4xx(&resp, &format!("{what} on {path}"));
        }
        for email in odd_emails {
            let resp = app
                .post_json(path, json!({"email": email, "password": PASSWORD}))
                .await;
            assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{email:?} on {path}");
            assert_json_4xx(&resp, email);
        }
        let wrong_type = app
            .call(
                TestRequest::post()
                    .uri(path)
                    .insert_header(("content-type", "text/xml"))
                    .set_payload("<a/>"),
            )
            .await;
        assert_json_4xx(&wrong_type, "content type");
    }
    assert_eq!(snapshot(&app), before);
}

#[actix_web::test]
async fn sec_24_bad_forms_answer_4xx_pages_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.api_user("ada@example.com").await;
    let before = snapshot(&app);
    let browser = app.browser();
    let csrf = browser.csrf_token("/signup").await;
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("oversized", format!("csrf_token={csrf}&email={}", "a".repeat(20_000)).into_bytes()),
        ("invalid UTF-8", format!("csrf_token={csrf}&email=%ff%fe%40example.com&password=x").into_bytes()),
        ("broken escape", format!("csrf_token={csrf}&email=%&password=%zz").into_bytes()),
        ("duplicate fields", format!("csrf_token={csrf}&email=a@example.com&email=b@example.com&password=x&password_confirm=x").into_bytes()),
        ("missing fields", format!("csrf_token={csrf}").into_bytes()),
        ("odd unicode email", format!("csrf_token={csrf}&email=a%E2%80%8Bda%40example.com&password={PASSWORD}&password_confirm={PASSWORD}").into_bytes()),
        ("no csrf", b"email=ada%40example.com&password=x".to_vec()),
    ];
    for path in ["/signup", "/login"] {
        for (what, body) in &forms {
            let resp = browser
                .send(
                    TestRequest::post()
                        .insert_header(("content-type", "application/x-www-form-urlencoded"))
                        .set_payload(body.clone()),
                    path,
                )
                .await;
            assert_page_4xx(&resp, &format!("{what} on {path}"));
        }
    }
    for path in ["/auth/logout", "/auth/logout-all"] {
        let resp = browser
            .send(
                TestRequest::post()
                    .insert_header(("content-type", "application/json"))
                    .set_payload("{}"),
                path,
            )
            .await;
        assert_page_4xx(&resp, path);
    }
    assert_eq!(snapshot(&app), before);
}

#[actix_web::test]
async fn sec_24_huge_headers_and_cookies_are_refused_by_the_server() {
    let server = LiveServer::start(|_| {}).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let huge_cookie = format!("Cookie: {REFRESH_COOKIE}={}\r\n", "x".repeat(100_000));
    let huge_header = format!("X-Junk: {}\r\n", "y".repeat(100_000));
    let many_headers: String = (0..200).map(|n| format!("X-H{n}: v\r\n")).collect();
    for (what, extra, path) in [
        ("huge cookie", huge_cookie.as_str(), "/auth/refresh"),
        ("huge header", huge_header.as_str(), "/login"),
        ("many headers", many_headers.as_str(), "/api/me"),
    ] {
        let status = actix_web::web::block({
            let (addr, extra, path) = (addr.clone(), extra.to_owned(), path.to_owned());
            move || raw_status(&addr, &path, &extra)
        })
        .await
        .unwrap();
        assert!((400..500).contains(&status), "{what}: {status}");
    }
    server.stop().await;
}

/// Sends one POST by hand and returns the status code (0 if the server closed the connection
/// without answering, which counts as a refusal too only if nothing else came back).
fn raw_status(addr: &str, path: &str, extra_headers: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-Latchkey-Refresh: 1\r\nContent-Length: 0\r\n{extra_headers}Connection: close\r\n\r\n"
    );
    let _ = stream.write_all(request.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer to an oversized request: {text:?}"))
}
