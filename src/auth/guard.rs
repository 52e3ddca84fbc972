//! The access-token guard (every route unless declared public) and the extractors that hand
//! handlers the current user, the admin, a bearer refresh token and the request's origin details.

use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, AUTHORIZATION, USER_AGENT};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, ResponseError};

use super::tokens::AccessClaims;
use crate::error::AppError;
use crate::models::audit::RequestMeta;
use crate::models::user::ROLE_ADMIN;
use crate::routes;
use crate::startup::AppState;

const MISSING: &str = "Sign in to continue: this route needs an access token.";
const INVALID: &str = "The access token is invalid or expired.";

/// The signed-in user and device, from a verified access token (the tutorial's
/// `@GetCurrentUser`).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: String,
    pub session_id: String,
    pub role: String,
}

impl From<AccessClaims> for CurrentUser {
    fn from(claims: AccessClaims) -> Self {
        Self {
            user_id: claims.sub,
            session_id: claims.sid,
            role: claims.role,
        }
    }
}

/// A `CurrentUser` whose role is admin; anyone else is answered 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

/// Middleware: verifies the bearer access token on every matched route that `routes::PUBLIC`
/// does not list, and stores the claims for the extractors. Unmatched paths fall through to 404.
pub async fn require_access_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let guarded = req
        .match_pattern()
        .is_some_and(|pattern| !routes::is_public(&pattern));
    if guarded {
        let verified = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::unexpected("application state missing"))
            .and_then(|state| authenticate(state, req.headers()));
        match verified {
            Ok(claims) => {
                req.extensions_mut().insert(claims);
            }
            Err(error) => {
                let response = error.error_response();
                return Ok(req.into_response(response).map_into_right_body());
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<AccessClaims, AppError> {
    let token = bearer(headers).ok_or(AppError::Unauthorized(MISSING))?;
    let now = state.clock.now();
    let claims = state
        .tokens
        .verify_access(token, now)
        .map_err(|_| AppError::Unauthorized(INVALID))?;
    if state.revoked.contains(&claims.sid, now) {
        return Err(AppError::Unauthorized(
            "This session has ended. Sign in again.",
        ));
    }
    Ok(claims)
}

fn current_user(req: &HttpRequest) -> Result<CurrentUser, AppError> {
    if let Some(claims) = req.extensions().get::<AccessClaims>() {
        return Ok(claims.clone().into());
    }
    // A public route that still asks for the user: verify here rather than trust nothing.
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::unexpected("application state missing"))?;
    authenticate(state, req.headers()).map(CurrentUser::from)
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(current_user(req))
    }
}

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(current_user(req).and_then(|user| {
            if user.role == ROLE_ADMIN {
                Ok(AdminUser(user))
            } else {
                Err(AppError::Forbidden("This needs an administrator."))
            }
        }))
    }
}

/// A refresh token sent as `Authorization: Bearer …` by a native client (the tutorial's
/// `RtGuard`).
pub struct BearerRefreshToken(pub String);

impl FromRequest for BearerRefreshToken {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            bearer(req.headers())
                .map(|t| BearerRefreshToken(t.to_owned()))
                .ok_or(AppError::InvalidRefreshToken(
                    "Send the refresh token as Authorization: Bearer <token>.",
                )),
        )
    }
}

/// The client's address: the socket peer, unless that peer is a trusted proxy, in which case the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            // A malformed hop: stop at the proxy rather than trust what lies beyond it.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// Longest user agent kept in the database.
const MAX_USER_AGENT: usize = 512;

impl FromRequest for RequestMeta {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user_agent = req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect::<String>())
            .filter(|ua| !ua.is_empty());
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.config.trusted_proxies.as_slice())
            .unwrap_or_default();
        ready(Ok(RequestMeta {
            ip: client_ip(req, trusted).map(|ip| ip.to_string()),
            user_agent,
        }))
    }
}
