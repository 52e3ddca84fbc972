//! The one route table, and the list of routes that need no access token.

use actix_web::web;

use crate::web::{account, admin, api, auth, pages};

/// Route patterns reachable without an access token (the tutorial's `@Public()`). Every other
/// route is guarded by `auth::guard::require_access_token`. The `/auth/*` routes authenticate with
/// the refresh cookie instead; `/account` is a shell whose content needs the token.
pub const PUBLIC: &[&str] = &[
    "/",
    "/healthz",
    "/livez",
    "/metrics",
    "/static/{dir}/{file}",
    "/signup",
    "/login",
    "/account",
    "/admin/sessions",
    "/admin/audit",
    "/auth/refresh",
    "/auth/logout",
    "/auth/logout-all",
    "/api/auth/signup",
    "/api/auth/signin",
    "/api/auth/refresh",
];

/// Whether a matched route pattern is declared public.
pub fn is_public(pattern: &str) -> bool {
    PUBLIC.contains(&pattern)
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::home))
        .route("/healthz", web::get().to(pages::health))
        .route("/livez", web::get().to(pages::live))
        .route("/metrics", web::get().to(pages::metrics))
        .route("/static/{dir}/{file}", web::get().to(pages::static_file))
        // Browser: forms and the cookie-authenticated refresh endpoint.
        .service(
            web::resource("/signup")
                .route(web::get().to(auth::show_signup))
                .route(web::post().to(auth::submit_signup)),
        )
        .service(
            web::resource("/login")
                .route(web::get().to(auth::show_login))
                .route(web::post().to(auth::submit_login)),
        )
        .route("/auth/refresh", web::post().to(auth::refresh))
        .route("/auth/logout", web::post().to(auth::log_out))
        .route("/auth/logout-all", web::post().to(auth::log_out_everywhere))
        // Page shells (public) and the fragments they fetch with the access token.
        .route("/account", web::get().to(account::show_account))
        .route("/admin/sessions", web::get().to(admin::show_sessions))
        .route("/admin/audit", web::get().to(admin::show_audit))
        .route(
            "/fragments/account",
            web::get().to(account::account_fragment),
        )
        .route(
            "/fragments/account/sessions/revoke-others",
            web::post().to(account::revoke_other_devices),
        )
        .route(
            "/fragments/account/sessions/{id}/revoke",
            web::post().to(account::revoke_device),
        )
        .route(
            "/fragments/account/password",
            web::post().to(account::change_password),
        )
        .route(
            "/fragments/admin/sessions",
            web::get().to(admin::sessions_fragment),
        )
        .route(
            "/fragments/admin/sessions/{id}/revoke",
            web::post().to(admin::revoke_session),
        )
        .route(
            "/fragments/admin/users/{id}/revoke-all",
            web::post().to(admin::revoke_user_sessions),
        )
        .route(
            "/fragments/admin/users/{id}/disable",
            web::post().to(admin::disable_user),
        )
        .route(
            "/fragments/admin/audit",
            web::get().to(admin::audit_fragment),
        )
        // JSON API for native clients.
        .route("/api/auth/signup", web::post().to(api::sign_up))
        .route("/api/auth/signin", web::post().to(api::sign_in))
        .route("/api/auth/refresh", web::post().to(api::refresh))
        .route("/api/auth/logout", web::post().to(api::log_out))
        .route("/api/me", web::get().to(api::me))
        .route("/api/sessions", web::get().to(api::list_sessions))
        .route("/api/sessions/{id}", web::delete().to(api::revoke_session))
        .route(
            "/api/admin/sessions",
            web::get().to(api::admin_list_sessions),
        )
        .route(
            "/api/admin/sessions/{id}",
            web::delete().to(api::admin_revoke_session),
        );
}
