//! Synchroniser tokens for HTML forms, kept in the encrypted session cookie.

use actix_session::Session;
use subtle::ConstantTimeEq;

use crate::error::AppError;

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
