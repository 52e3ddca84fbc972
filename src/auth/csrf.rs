//! Cross-site request defences: synchroniser tokens for every HTML form (kept in the encrypted
//! session cookie), and an `Origin` / `Sec-Fetch-Site` check on every state-changing browser
//! request.

use actix_session::Session;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpRequest, ResponseError};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::startup::AppState;
use crate::web::HtmlError;

const KEY: &str = "csrf";

/// The form token for this browser, created on first use.
pub fn token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(token)) = session.get::<String>(KEY) {
        return Ok(token);
    }
    let token = super::random_token(32);
    session.insert(KEY, &token).map_err(AppError::unexpected)?;
    Ok(token)
}

/// Accepts the submitted token only if it equals the one in this browser's session.
pub fn verify(session: &Session, submitted: &str) -> Result<(), AppError> {
    let expected = session
        .get::<String>(KEY)
        .ok()
        .flatten()
        .ok_or(AppError::Csrf)?;
    if !submitted.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// Refuses requests that a browser marks as coming from another site, or whose `Origin` is not
/// this service's (the configured public URL, else the `Host` the request was sent to).
pub fn check_same_origin(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    const CROSS: &str = "Cross-site requests are not accepted here.";
    if let Some(site) = req.headers().get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin") | Ok("none")) {
            return Err(AppError::Forbidden(CROSS));
        }
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| AppError::Forbidden(CROSS))?
        .to_ascii_lowercase();
    let allowed = match &state.config.public_origin {
        Some(public) => origin == *public,
        None => {
            let host = req.connection_info().host().to_ascii_lowercase();
            origin == format!("http://{host}") || origin == format!("https://{host}")
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(CROSS))
    }
}

/// Middleware: every state-changing request outside the JSON API (which takes no cookies) must
/// come from this site. Answers 403 — JSON for `/auth/refresh`, a page elsewhere.
pub async fn reject_cross_site(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !req.path().starts_with("/api/") {
        let checked = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::unexpected("application state missing"))
            .and_then(|state| check_same_origin(req.request(), state));
        if let Err(error) = checked {
            let response = if req.path() == "/auth/refresh" {
                error.error_response()
            } else {
                HtmlError(error).error_response()
            };
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
