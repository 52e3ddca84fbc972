//! Builds the application state and the App; `main` and every test use the same builders.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::cookie::Key;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use base64::Engine;
use chrono::TimeDelta;

use crate::auth::cookies::csrf_session_middleware;
use crate::auth::csrf::reject_cross_site;
use crate::auth::guard::require_access_token;
use crate::auth::password::Hasher;
use crate::auth::revocation::RevokedSessions;
use crate::auth::tokens::TokenKeys;
use crate::auth::user_cache::UserCache;
use crate::clock::Clock;
use crate::config::{Config, Secret};
use crate::db::{self, DbPool};
use crate::metrics::{observe_requests, Metrics};
use crate::models::throttle::ThrottleRow;
use crate::routes;
use crate::web::{extractor_errors, pages};

/// Largest JSON body accepted (credentials are tiny; anything bigger is refused with 413).
pub const JSON_LIMIT: usize = 16 * 1024;
/// Largest form body accepted.
pub const FORM_LIMIT: usize = 16 * 1024;

/// Everything a request handler needs, shared by all workers.
pub struct AppState {
    pub config: Config,
    pub pool: DbPool,
    pub tokens: TokenKeys,
    pub hasher: Hasher,
    pub clock: Clock,
    pub revoked: RevokedSessions,
    pub session_key: Key,
    pub metrics: Metrics,
    pub users: UserCache,
}

/// A start-up failure, said plainly.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

impl AppState {
    /// Connects, migrates, loads or creates keys. Blocking: call before serving.
    pub fn build(config: Config, clock: Clock) -> Result<Self, StartupError> {
        let wait = config.db_timeout.to_std().unwrap_or(Duration::from_secs(2));
        let pool =
            db::connect(&config.database_url, config.db_pool_size, wait).map_err(StartupError)?;
        let mut conn = pool
            .get()
            .map_err(|e| StartupError(format!("cannot connect to the database: {e}")))?;
        db::run_migrations(&mut conn).map_err(StartupError)?;
        drop(conn);

        let access_key = key_material(&config.data_dir, "access.key", config.access_key.as_ref())?;
        let refresh_key =
            key_material(&config.data_dir, "refresh.key", config.refresh_key.as_ref())?;
        let session_key = Key::from(&key_material(
            &config.data_dir,
            "session.key",
            config.session_key.as_ref(),
        )?);
        let tokens = TokenKeys::new(&access_key, &refresh_key, config.tokens.clone())
            .map_err(|e| StartupError(e.to_string()))?;
        let hasher = Hasher::new(
            config.password_cost,
            config.token_cost,
            config.argon2_concurrency,
        )
        .map_err(|e| StartupError(format!("argon2: {e}")))?;
        let state = Self {
            config,
            pool,
            tokens,
            hasher,
            clock,
            revoked: RevokedSessions::default(),
            session_key,
            metrics: Metrics::default(),
            users: UserCache::default(),
        };
        state
            .poll_revocations()
            .map_err(|e| StartupError(format!("cannot read revoked sessions: {e}")))?;
        Ok(state)
    }

    /// Learns of sessions revoked by other instances (see `RevokedSessions::poll`).
    pub fn poll_revocations(&self) -> Result<usize, String> {
        let settings = self.tokens.settings();
        let keep = settings.access_ttl + settings.clock_leeway + TimeDelta::minutes(1);
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        self.revoked
            .poll(&mut conn, self.clock.now(), keep)
            .map_err(|e| e.to_string())
    }

    /// Deletes throttle counters whose failures no longer count.
    pub fn forget_stale_throttles(&self) -> Result<usize, String> {
        let before = self.clock.now() - self.config.throttle.reset_after;
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        ThrottleRow::forget_before(&mut conn, before).map_err(|e| e.to_string())
    }
}

/// Starts an instance's background work on its own thread: polling the database for sessions
/// revoked elsewhere (every `LATCHKEY_REVOCATION_POLL`) and, now and then, forgetting stale
/// throttle counters. The thread ends once the state is dropped.
pub fn start_background_tasks(state: &web::Data<AppState>) {
    let weak = Arc::downgrade(&state.clone().into_inner());
    let period = state
        .config
        .revocation_poll
        .to_std()
        .unwrap_or(Duration::from_secs(2));
    let spawned = std::thread::Builder::new()
        .name("latchkey-poller".into())
        .spawn(move || {
            let mut last_cleanup = Instant::now();
            loop {
                std::thread::sleep(period);
                let Some(state) = weak.upgrade() else { break };
                if let Err(e) = state.poll_revocations() {
                    tracing::warn!(error = %e, "polling revoked sessions failed");
                }
                if last_cleanup.elapsed() > Duration::from_secs(300) {
                    last_cleanup = Instant::now();
                    if let Err(e) = state.forget_stale_throttles() {
                        tracing::warn!(error = %e, "forgetting stale throttles failed");
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the revocation poller");
    }
}

/// Key bytes from configuration, else from `<data dir>/<file>`, else 64 fresh random bytes written
/// there with 0600 permissions, so restarts keep everyone signed in.
fn key_material(
    data_dir: &Path,
    file: &str,
    configured: Option<&Secret>,
) -> Result<Vec<u8>, StartupError> {
    if let Some(secret) = configured {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let path = data_dir.join(file);
    let engine = &base64::engine::general_purpose::STANDARD;
    if let Ok(text) = fs::read_to_string(&path) {
        let bytes = engine
            .decode(text.trim())
            .map_err(|e| StartupError(format!("{} is not valid base64: {e}", path.display())))?;
        if bytes.len() < 64 {
            return Err(StartupError(format!(
                "{} holds {} bytes; at least 64 are needed",
                path.display(),
                bytes.len()
            )));
        }
        return Ok(bytes);
    }
    fs::create_dir_all(data_dir)
        .map_err(|e| StartupError(format!("cannot create {}: {e}", data_dir.display())))?;
    let mut bytes = vec![0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options
        .open(&path)
        .map_err(|e| StartupError(format!("cannot create {}: {e}", path.display())))?;
    out.write_all(engine.encode(&bytes).as_bytes())
        .and_then(|_| out.sync_all())
        .map_err(|e| StartupError(format!("cannot write {}: {e}", path.display())))?;
    tracing::info!(path = %path.display(), "generated a new key");
    Ok(bytes)
}

/// The application: routes, the access-token guard, the CSRF session cookie, body limits.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let session_key = state.session_key.clone();
    let headers = security_headers(&state.config);
    App::new()
        .app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(JSON_LIMIT)
                .error_handler(extractor_errors::json),
        )
        .app_data(
            web::FormConfig::default()
                .limit(FORM_LIMIT)
                .error_handler(extractor_errors::form),
        )
        .app_data(web::PathConfig::default().error_handler(extractor_errors::path))
        .app_data(web::QueryConfig::default().error_handler(extractor_errors::query))
        .wrap(from_fn(require_access_token))
        .wrap(from_fn(reject_cross_site))
        .wrap(csrf_session_middleware(session_key))
        .wrap(headers)
        .wrap(from_fn(observe_requests))
        .configure(routes::configure)
        .default_service(web::to(pages::not_found))
}

/// No inline script or style, nothing from elsewhere, no framing (SECURITY.md line 3).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Headers on every response. `Cache-Control: no-store` is the default for everything (pages carry
/// CSRF tokens, API answers carry tokens); static files set their own caching.
fn security_headers(config: &Config) -> DefaultHeaders {
    let mut headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"));
    if config
        .public_origin
        .as_deref()
        .is_some_and(|origin| origin.starts_with("https://"))
    {
        headers = headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    headers
}

/// Binds and starts the HTTP server; it stops gracefully on SIGINT or SIGTERM.
pub fn serve(
    state: web::Data<AppState>,
    listener: std::net::TcpListener,
) -> std::io::Result<Server> {
    let workers = state.config.workers;
    start_background_tasks(&state);
    let server = HttpServer::new(move || build_app(state.clone()))
        .workers(workers)
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
    Ok(server)
}
