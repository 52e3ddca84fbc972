//! The JSON API for native clients: tokens travel in bodies and the Authorization header.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::admin::{SessionsQuery, PAGE_SIZE};
use crate::auth::guard::{AdminUser, BearerRefreshToken, CurrentUser};
use crate::auth::sessions::{self, IssuedTokens, UserSummary};
use crate::db;
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::models::audit::RequestMeta;
use crate::models::session::{RevokeReason, SessionRow};
use crate::models::user::UserRow;
use crate::startup::AppState;

/// Email and password, as native clients send them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsRequest {
    email: String,
    password: String,
}

/// The tutorial's token pair. `refresh_token` is absent after a grace-window refresh, where the
/// client's previous refresh has already produced the successor.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: i64,
}

impl From<IssuedTokens> for TokenResponse {
    fn from(issued: IssuedTokens) -> Self {
        Self {
            access_token: issued.access_token,
            refresh_token: issued.refresh.map(|r| r.token.expose().to_owned()),
            token_type: "Bearer",
            expires_in: issued.expires_in,
        }
    }
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /api/auth/signup` → 201 with a token pair.
pub async fn sign_up(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let email = Email::parse(&body.email).map_err(AppError::Validation)?;
    let password = Password::new_for_signup(body.password, state.config.password_min_length)
        .map_err(AppError::Validation)?;
    let issued = sessions::sign_up(&state, email, password, meta).await?;
    Ok(no_store(
        HttpResponse::Created().json(TokenResponse::from(issued)),
    ))
}

/// `POST /api/auth/signin` → 200 with a token pair; 401 for any wrong credentials.
pub async fn sign_in(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let email = Email::parse(&body.email).map_err(AppError::Validation)?;
    let password = Password::for_signin(body.password).map_err(AppError::Validation)?;
    let issued = sessions::sign_in(&state, email, password, meta).await?;
    Ok(no_store(
        HttpResponse::Ok().json(TokenResponse::from(issued)),
    ))
}

/// `POST /api/auth/refresh` with `Authorization: Bearer <refresh token>` → a new pair.
pub async fn refresh(
    state: web::Data<AppState>,
    meta: RequestMeta,
    token: BearerRefreshToken,
) -> Result<HttpResponse, AppError> {
    let issued = sessions::refresh(&state, &token.0, meta).await?;
    Ok(no_store(
        HttpResponse::Ok().json(TokenResponse::from(issued)),
    ))
}

/// `POST /api/auth/logout` with the access token → 204; ends this device's session.
pub async fn log_out(
    state: web::Data<AppState>,
    meta: RequestMeta,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    match sessions::revoke_own_session(
        &state,
        &user.user_id,
        &user.session_id,
        RevokeReason::Logout,
        meta,
    )
    .await
    {
        Ok(()) | Err(AppError::NotFound) => Ok(HttpResponse::NoContent().finish()),
        Err(error) => Err(error),
    }
}

#[derive(Serialize)]
pub struct MeResponse {
    pub id: String,
    pub email: String,
    pub role: String,
    pub session_id: String,
}

/// `GET /api/me`: the current user and device session (from a short-lived cache when it can).
pub async fn me(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let account = match state.users.get(&user.user_id) {
        Some(account) => account,
        None => {
            let id = user.user_id.clone();
            let account = db::run(&state.pool, move |conn| Ok(UserRow::find(conn, &id)?))
                .await?
                .filter(|u| !u.is_disabled())
                .ok_or(AppError::Unauthorized("This account no longer exists."))?;
            let summary = UserSummary::from(&account);
            state.users.put(summary.clone());
            summary
        }
    };
    Ok(no_store(HttpResponse::Ok().json(MeResponse {
        id: account.id,
        email: account.email,
        role: user.role,
        session_id: user.session_id,
    })))
}

/// A device session as listed by the API; times are RFC 3339 UTC.
#[derive(Serialize)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl SessionView {
    fn new(session: SessionRow, current_session: &str, email: Option<String>) -> Self {
        Self {
            current: session.id == current_session,
            created_at: rfc3339(session.created_at),
            last_used_at: rfc3339(session.last_used_at),
            expires_at: rfc3339(session.idle_expires_at.min(session.absolute_expires_at)),
            id: session.id,
            user_agent: session.user_agent,
            ip: session.ip,
            email,
        }
    }
}

/// `GET /api/sessions`: the caller's active device sessions.
pub async fn list_sessions(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let id = user.user_id.clone();
    let rows = db::run(&state.pool, move |conn| {
        Ok(SessionRow::active_for_user(conn, &id, now)?)
    })
    .await?;
    let views: Vec<SessionView> = rows
        .into_iter()
        .map(|s| SessionView::new(s, &user.session_id, None))
        .collect();
    Ok(no_store(HttpResponse::Ok().json(views)))
}

/// `DELETE /api/sessions/{id}`: ends one of the caller's sessions; 404 for anyone else's.
pub async fn revoke_session(
    state: web::Data<AppState>,
    meta: RequestMeta,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    sessions::revoke_own_session(
        &state,
        &user.user_id,
        &path.into_inner(),
        RevokeReason::RevokedByUser,
        meta,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/admin/sessions?page=N&email=…`: every active session of every user, or of those
/// whose email contains the search (admins only); the same paging as the admin page.
pub async fn admin_list_sessions(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<SessionsQuery>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let (offset, search) = ((query.page() - 1) * PAGE_SIZE, query.search());
    let rows = db::run(&state.pool, move |conn| {
        Ok(SessionRow::search_active(
            conn,
            now,
            search.as_deref(),
            PAGE_SIZE,
            offset,
        )?)
    })
    .await?;
    let views: Vec<SessionView> = rows
        .into_iter()
        .map(|(s, email)| SessionView::new(s, &admin.0.session_id, Some(email)))
        .collect();
    Ok(no_store(HttpResponse::Ok().json(views)))
}

/// `DELETE /api/admin/sessions/{id}`: an admin ends any session; audited.
pub async fn admin_revoke_session(
    state: web::Data<AppState>,
    meta: RequestMeta,
    admin: AdminUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    sessions::admin_revoke_session(&state, &admin.0.user_id, &path.into_inner(), meta).await?;
    Ok(HttpResponse::NoContent().finish())
}
