//! The test harness: the real app on a fresh database per test (SQLite in a temporary directory,
//! or a fresh PostgreSQL database when LATCHKEY_TEST_DATABASE_URL is set), a cookie-keeping
//! browser, and JSON API helpers.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderMap, LOCATION, SET_COOKIE};
use actix_web::http::StatusCode;
use actix_web::test::{self as atest, TestRequest};
use actix_web::web::{self, Bytes};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use futures_util::future::LocalBoxFuture;
use latchkey::clock::Clock;
use latchkey::config::{Config, SettingsArgs};
use latchkey::db::AnyConnection;
use latchkey::startup::{build_app, AppState};
use serde_json::Value;

pub const ACCESS_KEY: &str = "test-access-key-0123456789abcdef-0123456789";
pub const REFRESH_KEY: &str = "test-refresh-key-0123456789abcdef-012345678";
pub const PASSWORD: &str = "correct horse battery staple";
pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) LatchkeyTest/1.0";

/// A database that exists for one test and is removed afterwards.
pub enum TestDatabase {
    Sqlite,
    /// Another test app's database: that app removes it.
    Borrowed,
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDatabase {
    /// Makes a fresh database and returns it with its URL.
    pub fn create(dir: &std::path::Path) -> (Self, String) {
        match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("latchkey_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("LATCHKEY_TEST_DATABASE_URL is set but PostgreSQL refused: {e}")
                });
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create the test database");
                let (base, query) = match admin_url.split_once('?') {
                    Some((base, query)) => (base, format!("?{query}")),
                    None => (admin_url.as_str(), String::new()),
                };
                let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
                let url = format!("{server}/{name}{query}");
                (TestDatabase::Postgres { admin_url, name }, url)
            }
            _ => {
                static NOTICE: std::sync::Once = std::sync::Once::new();
                NOTICE.call_once(|| {
                    eprintln!(
                        "NOTE: LATCHKEY_TEST_DATABASE_URL is not set: this run uses SQLite only. \
                         Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run the suite on PostgreSQL."
                    )
                });
                (
                    TestDatabase::Sqlite,
                    dir.join("latchkey.db").to_string_lossy().into_owned(),
                )
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

type Call = Rc<dyn Fn(TestRequest) -> LocalBoxFuture<'static, ServiceResponse<BoxBody>>>;

/// The real application, in process, on its own database.
pub struct TestApp {
    call: Call,
    pub state: web::Data<AppState>,
    pub clock: Clock,
    pub settings: SettingsArgs,
    /// Dropped after the state, so the database goes after its last connection.
    _db: TestDatabase,
    pub dir: tempfile::TempDir,
}

/// Settings every test starts from: fixed keys and a cheap argon2 profile (real argon2id, small
/// memory) so the suite is quick.
pub fn test_settings(dir: &std::path::Path, database_url: String) -> SettingsArgs {
    SettingsArgs {
        database_url: Some(database_url),
        data_dir: Some(dir.to_string_lossy().into_owned()),
        access_key: Some(ACCESS_KEY.into()),
        refresh_key: Some(REFRESH_KEY.into()),
        password_m_cost: Some("256".into()),
        password_t_cost: Some("1".into()),
        token_m_cost: Some("64".into()),
        db_pool_size: Some("8".into()),
        ..Default::default()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with settings adjusted by `adjust` (e.g. short lifetimes).
    pub async fn spawn_with(adjust: impl FnOnce(&mut SettingsArgs)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, url) = TestDatabase::create(dir.path());
        let mut settings = test_settings(dir.path(), url);
        adjust(&mut settings);
        Self::spawn_on(settings, db, dir).await
    }

    /// A second instance on this instance's database, with its own state and caches (as another
    /// process would have).
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// The same, with settings adjusted by `adjust` (e.g. a restart with stronger parameters).
    pub async fn another_instance_with(&self, adjust: impl FnOnce(&mut SettingsArgs)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = self.settings.clone();
        settings.data_dir = Some(dir.path().to_string_lossy().into_owned());
        adjust(&mut settings);
        Self::spawn_on(settings, TestDatabase::Borrowed, dir).await
    }

    async fn spawn_on(settings: SettingsArgs, db: TestDatabase, dir: tempfile::TempDir) -> TestApp {
        let clock = Clock::system();
        let state = Self::state(&settings, clock.clone());
        latchkey::startup::start_background_tasks(&state);
        let service = Rc::new(atest::init_service(build_app(state.clone())).await);
        let call: Call = Rc::new(move |req: TestRequest| {
            let service = service.clone();
            Box::pin(async move {
                atest::call_service(&*service, req.to_request())
                    .await
                    .map_into_boxed_body()
            })
        });
        TestApp {
            call,
            state,
            clock,
            settings,
            _db: db,
            dir,
        }
    }

    /// Builds application state the way `main` does.
    pub fn state(settings: &SettingsArgs, clock: Clock) -> web::Data<AppState> {
        let config = Config::from_args(settings).expect("valid test settings");
        web::Data::new(AppState::build(config, clock).expect("app state"))
    }

    /// Sends a request from 127.0.0.1 with the test user agent unless the request sets its own.
    pub async fn call(&self, req: TestRequest) -> Resp {
        let req = req.peer_addr("127.0.0.1:40000".parse().unwrap());
        let response = (self.call)(req).await;
        Resp::read(response).await
    }

    pub fn conn(&self) -> latchkey::db::DbConn {
        self.state.pool.get().expect("pooled connection")
    }

    pub fn count(&self, table: &str) -> i64 {
        use diesel::sql_types::BigInt;
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.conn();
        let conn: &mut AnyConnection = &mut conn;
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(conn)
            .expect("count")
            .n
    }

    /// Audit events of one kind, oldest first.
    pub fn audit(&self, kind: &str) -> Vec<latchkey::models::audit::AuditEventRow> {
        let mut conn = self.conn();
        let mut rows =
            latchkey::models::audit::AuditEventRow::latest(&mut conn, Some(kind), None, 1000, 0)
                .unwrap();
        rows.reverse();
        rows
    }

    /// Every audit row as text, to search for anything that must never be recorded.
    pub fn audit_dump(&self) -> String {
        let mut conn = self.conn();
        latchkey::models::audit::AuditEventRow::latest(&mut conn, None, None, 100_000, 0)
            .unwrap()
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            jar: RefCell::new(Vec::new()),
            user_agent: USER_AGENT.into(),
        }
    }

    pub fn browser_with_agent(&self, user_agent: &str) -> Browser<'_> {
        Browser {
            app: self,
            jar: RefCell::new(Vec::new()),
            user_agent: user_agent.into(),
        }
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Resp {
        self.call(
            TestRequest::post()
                .uri(path)
                .insert_header(("user-agent", USER_AGENT))
                .set_json(body),
        )
        .await
    }

    pub async fn api_signup(&self, email: &str, password: &str) -> Resp {
        self.post_json(
            "/api/auth/signup",
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn api_signin(&self, email: &str, password: &str) -> Resp {
        self.post_json(
            "/api/auth/signin",
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs up through the API and returns (access token, refresh token).
    pub async fn api_user(&self, email: &str) -> (String, String) {
        let resp = self.api_signup(email, PASSWORD).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
        let body = resp.json();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn api_refresh(&self, refresh_token: &str) -> Resp {
        self.call(
            TestRequest::post()
                .uri("/api/auth/refresh")
                .insert_header(("user-agent", USER_AGENT))
                .insert_header(("authorization", format!("Bearer {refresh_token}"))),
        )
        .await
    }

    /// Refreshes through the API and returns the new refresh token, failing the test otherwise.
    pub async fn api_rotate(&self, refresh_token: &str) -> String {
        let resp = self.api_refresh(refresh_token).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        resp.json()["refresh_token"]
            .as_str()
            .expect("a rotated refresh token")
            .to_owned()
    }

    /// Posts a form with a bearer token and a CSRF token, as the page script does for forms
    /// inside fragments (from a fresh browser, whose session cookie carries the CSRF secret).
    pub async fn post_form_bearer(&self, path: &str, token: &str, form: &[(&str, &str)]) -> Resp {
        let browser = self.browser();
        let csrf = browser.csrf_token("/account").await;
        let mut fields = form.to_vec();
        fields.push(("csrf_token", &csrf));
        browser
            .send(
                TestRequest::post()
                    .insert_header(("authorization", format!("Bearer {token}")))
                    .set_form(&fields),
                path,
            )
            .await
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> Resp {
        self.call(
            TestRequest::get()
                .uri(path)
                .insert_header(("user-agent", USER_AGENT))
                .insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await
    }

    pub async fn delete_bearer(&self, path: &str, token: &str) -> Resp {
        self.call(
            TestRequest::delete()
                .uri(path)
                .insert_header(("user-agent", USER_AGENT))
                .insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await
    }
}

/// A fully read response.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    async fn read(response: ServiceResponse<BoxBody>) -> Resp {
        let status = response.status();
        let headers = response.headers().clone();
        let body = atest::read_body(response).await;
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header(LOCATION.as_str())
    }

    /// Every `Set-Cookie`, parsed.
    pub fn set_cookies(&self) -> Vec<Cookie<'static>> {
        self.headers
            .get_all(SET_COOKIE)
            .filter_map(|v| v.to_str().ok())
            .map(|v| Cookie::parse_encoded(v.to_owned()).expect("valid Set-Cookie"))
            .collect()
    }

    pub fn set_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.set_cookies().into_iter().find(|c| c.name() == name)
    }

    /// The raw `Set-Cookie` line for a cookie, to check flags as sent.
    pub fn raw_set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// Asserts a JSON error of this status and code.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        let body = self.json();
        assert_eq!(body["error"], code, "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }

    pub fn assert_redirect_to(&self, location: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.text());
        assert_eq!(self.location(), Some(location));
    }
}

pub const REFRESH_COOKIE: &str = "__Secure-latchkey_rt";

/// A browser: keeps cookies by name and path, sends them where their path applies.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    jar: RefCell<Vec<Cookie<'static>>>,
    user_agent: String,
}

impl Browser<'_> {
    fn with_cookies(&self, mut req: TestRequest, path: &str) -> TestRequest {
        for cookie in self.jar.borrow().iter() {
            let scope = cookie.path().unwrap_or("/");
            let applies = scope == "/"
                || path == scope
                || path.starts_with(&format!("{}/", scope.trim_end_matches('/')));
            if applies {
                req = req.cookie(Cookie::new(
                    cookie.name().to_owned(),
                    cookie.value().to_owned(),
                ));
            }
        }
        req.insert_header(("user-agent", self.user_agent.clone()))
    }

    fn keep(&self, resp: &Resp) {
        let mut jar = self.jar.borrow_mut();
        for cookie in resp.set_cookies() {
            jar.retain(|c| !(c.name() == cookie.name() && c.path() == cookie.path()));
            let expired = cookie.max_age().is_some_and(|age| age.whole_seconds() <= 0);
            if !expired {
                jar.push(cookie);
            }
        }
    }

    /// Sends `req` to `path` with this browser's cookies and keeps what comes back.
    pub async fn send(&self, req: TestRequest, path: &str) -> Resp {
        let req = self.with_cookies(req.uri(path), path);
        let resp = self.app.call(req).await;
        self.keep(&resp);
        resp
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(TestRequest::get(), path).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send(TestRequest::post().set_form(fields), path).await
    }

    /// The CSRF token of the form on `page`.
    pub async fn csrf_token(&self, page: &str) -> String {
        let html = self.get(page).await.text();
        csrf_in(&html).unwrap_or_else(|| panic!("no csrf_token on {page}: {html}"))
    }

    pub async fn signup(&self, email: &str, password: &str) -> Resp {
        let csrf = self.csrf_token("/signup").await;
        self.post_form(
            "/signup",
            &[
                ("email", email),
                ("password", password),
                ("password_confirm", password),
                ("csrf_token", &csrf),
            ],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        let csrf = self.csrf_token("/login").await;
        self.post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
            ],
        )
        .await
    }

    /// What the page script does on load: `POST /auth/refresh` with the custom header.
    pub async fn refresh(&self) -> Resp {
        self.send(
            TestRequest::post().insert_header(("x-latchkey-refresh", "1")),
            "/auth/refresh",
        )
        .await
    }

    /// Refreshes and returns the access token, failing the test if refresh fails.
    pub async fn access_token(&self) -> String {
        let resp = self.refresh().await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        resp.json()["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn logout(&self) -> Resp {
        let csrf = self.csrf_token("/account").await;
        self.post_form("/auth/logout", &[("csrf_token", &csrf)])
            .await
    }

    pub async fn logout_everywhere(&self) -> Resp {
        let csrf = self.csrf_token("/account").await;
        self.post_form("/auth/logout-all", &[("csrf_token", &csrf)])
            .await
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .borrow()
            .iter()
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }

    pub fn set_cookie_value(&self, name: &str, value: &str) {
        let mut jar = self.jar.borrow_mut();
        for cookie in jar.iter_mut().filter(|c| c.name() == name) {
            cookie.set_value(value.to_owned());
        }
    }
}

/// The value of the first `csrf_token` hidden input in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let re = regex_lite::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    re.captures(html).map(|c| c[1].to_owned())
}

/// The real HTTP server on 127.0.0.1 (an ephemeral port), for browser tests.
pub struct LiveServer {
    pub url: String,
    pub state: web::Data<AppState>,
    pub settings: SettingsArgs,
    handle: actix_web::dev::ServerHandle,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl LiveServer {
    /// Starts the server as `main` does, on a fresh database, with settings adjusted by `adjust`.
    pub async fn start(adjust: impl FnOnce(&mut SettingsArgs)) -> LiveServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, url) = TestDatabase::create(dir.path());
        let mut settings = test_settings(dir.path(), url);
        settings.workers = Some("2".into());
        adjust(&mut settings);
        let state = TestApp::state(&settings, Clock::system());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let server = latchkey::startup::serve(state.clone(), listener).expect("server");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        LiveServer {
            url: format!("http://127.0.0.1:{port}"),
            state,
            settings,
            handle,
            _db: db,
            _dir: dir,
        }
    }

    /// Stops the server and waits for its workers.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    /// The `DATABASE_URL` this server uses, for running the `latchkey` binary against it.
    pub fn database_url(&self) -> String {
        self.settings.database_url.clone().unwrap()
    }

    pub fn audit_count(&self, kind: &str) -> i64 {
        let mut conn = self.state.pool.get().unwrap();
        latchkey::models::audit::AuditEventRow::count(&mut conn, Some(kind), None).unwrap()
    }
}
