//! The only place cookie flags are set: the refresh-token cookie and the CSRF session cookie.

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, Key, SameSite};

/// Name of the refresh-token cookie. `__Secure-` makes browsers insist on `Secure`; `__Host-`
/// would force `Path=/` and defeat scoping the token to `/auth` (SECURITY.md line 1).
pub const REFRESH_COOKIE: &str = "__Secure-latchkey_rt";
/// Path the refresh cookie is sent to: only the cookie-authenticated `/auth/*` endpoints.
pub const REFRESH_COOKIE_PATH: &str = "/auth";
/// Name of the cookie holding the CSRF secret (an encrypted actix-session cookie).
pub const CSRF_SESSION_COOKIE: &str = "__Host-latchkey_csrf";

/// The refresh cookie: HttpOnly, Secure, SameSite=Strict, Path=/auth, no Domain.
pub fn refresh_cookie(token: &str, max_age_seconds: i64) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, token.to_owned())
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(REFRESH_COOKIE_PATH)
        .max_age(Duration::seconds(max_age_seconds.max(0)))
        .finish()
}

/// Tells the browser to drop the refresh cookie (same name, path and flags, `Max-Age=0`).
pub fn cleared_refresh_cookie() -> Cookie<'static> {
    refresh_cookie("", 0)
}

/// The actix-session middleware that carries only the CSRF secret (and flash messages), never
/// authentication state. Encrypted, `__Host-` prefixed, HttpOnly, Secure, SameSite=Strict.
pub fn csrf_session_middleware(key: Key) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name(CSRF_SESSION_COOKIE.to_owned())
        .cookie_secure(true)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        .cookie_path("/".to_owned())
        .cookie_domain(None)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(Duration::hours(12)))
        .build()
}
