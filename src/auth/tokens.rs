//! JWT access and refresh tokens: separate keys, a type marker, a pinned algorithm, and expiry
//! checked against the injectable clock.

use std::fmt;

use chrono::{NaiveDateTime, TimeDelta};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::TokenSettings;
use crate::error::AppError;

/// `typ` of access tokens (RFC 9068).
pub const ACCESS_TYP: &str = "at+jwt";
/// `typ` of refresh tokens: a marker of our own so one kind is never taken for the other.
pub const REFRESH_TYP: &str = "rt+jwt";
/// The only algorithm accepted; it is never read from the token.
const ALGORITHM: Algorithm = Algorithm::HS256;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub role: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
}

/// Claims of a refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub sub: String,
    pub sid: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// An encoded refresh token; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

/// Signs and verifies both kinds of token.
pub struct TokenKeys {
    access_encoding: EncodingKey,
    access_decoding: DecodingKey,
    refresh_encoding: EncodingKey,
    refresh_decoding: DecodingKey,
    validation: Validation,
    settings: TokenSettings,
}

/// Why a token was refused; never shown in detail to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    WrongType,
    Expired,
    NotYetValid,
}

impl TokenKeys {
    pub fn new(
        access_key: &[u8],
        refresh_key: &[u8],
        settings: TokenSettings,
    ) -> Result<Self, AppError> {
        if access_key == refresh_key {
            return Err(AppError::unexpected("access and refresh keys must differ"));
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Time claims are checked against the application clock below, so tests can move it.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self {
            access_encoding: EncodingKey::from_secret(access_key).map_err(AppError::unexpected)?,
            access_decoding: DecodingKey::from_secret(access_key).map_err(AppError::unexpected)?,
            refresh_encoding: EncodingKey::from_secret(refresh_key)
                .map_err(AppError::unexpected)?,
            refresh_decoding: DecodingKey::from_secret(refresh_key)
                .map_err(AppError::unexpected)?,
            validation,
            settings,
        })
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    /// Issues an access token for a device session; returns it and its lifetime in seconds.
    pub fn issue_access(
        &self,
        user_id: &str,
        session_id: &str,
        role: &str,
        now: NaiveDateTime,
    ) -> Result<(String, i64), AppError> {
        let iat = now.and_utc().timestamp();
        let ttl = self.settings.access_ttl.num_seconds();
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            role: role.to_owned(),
            iat,
            nbf: iat,
            exp: iat + ttl,
            jti: super::random_token(16),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
        };
        let token = jsonwebtoken::encode(&header(ACCESS_TYP), &claims, &self.access_encoding)
            .map_err(AppError::unexpected)?;
        Ok((token, ttl))
    }

    /// Issues a refresh token expiring at `expires_at`; its `jti` carries 128 random bits.
    pub fn issue_refresh(
        &self,
        user_id: &str,
        session_id: &str,
        now: NaiveDateTime,
        expires_at: NaiveDateTime,
    ) -> Result<RefreshToken, AppError> {
        let iat = now.and_utc().timestamp();
        let claims = RefreshClaims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            jti: super::random_token(16),
            iat,
            nbf: iat,
            exp: expires_at.and_utc().timestamp(),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
        };
        jsonwebtoken::encode(&header(REFRESH_TYP), &claims, &self.refresh_encoding)
            .map(RefreshToken)
            .map_err(AppError::unexpected)
    }

    /// Verifies an access token: signature with the access key, `typ`, `iss`, `aud`, `nbf`, `exp`.
    pub fn verify_access(
        &self,
        token: &str,
        now: NaiveDateTime,
    ) -> Result<AccessClaims, TokenError> {
        let claims: AccessClaims = self.decode(token, &self.access_decoding, ACCESS_TYP)?;
        self.check_time(claims.nbf, claims.exp, now)?;
        Ok(claims)
    }

    /// Verifies a refresh token: signature with the refresh key, `typ`, `iss`, `aud`, `nbf`, `exp`.
    pub fn verify_refresh(
        &self,
        token: &str,
        now: NaiveDateTime,
    ) -> Result<RefreshClaims, TokenError> {
        let claims: RefreshClaims = self.decode(token, &self.refresh_decoding, REFRESH_TYP)?;
        self.check_time(claims.nbf, claims.exp, now)?;
        Ok(claims)
    }

    /// `exp` and `nbf` against the application clock, with the configured leeway (≤ 60 s,
    /// RFC 8725 §3.8 asks for little).
    fn check_time(&self, nbf: i64, exp: i64, now: NaiveDateTime) -> Result<(), TokenError> {
        let now = now.and_utc().timestamp();
        let leeway = self.settings.clock_leeway.num_seconds();
        if exp + leeway <= now {
            return Err(TokenError::Expired);
        }
        if nbf - leeway > now {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        key: &DecodingKey,
        typ: &str,
    ) -> Result<T, TokenError> {
        // Tokens are a few hundred bytes; refuse anything absurd before parsing it.
        if token.len() > 4096 {
            return Err(TokenError::Malformed);
        }
        let data = jsonwebtoken::decode::<T>(token, key, &self.validation)
            .map_err(|_| TokenError::Malformed)?;
        let header = data.header;
        if header.typ.as_deref() != Some(typ) {
            return Err(TokenError::WrongType);
        }
        // Keys are local only: a token that names where to fetch one is refused outright.
        if header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some() {
            return Err(TokenError::Malformed);
        }
        Ok(data.claims)
    }
}

fn header(typ: &str) -> Header {
    let mut header = Header::new(ALGORITHM);
    header.typ = Some(typ.to_owned());
    header
}

/// The number of whole seconds from `now` until `at`, never negative.
pub fn seconds_until(at: NaiveDateTime, now: NaiveDateTime) -> i64 {
    (at - now).max(TimeDelta::zero()).num_seconds()
}
