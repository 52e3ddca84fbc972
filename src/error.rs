//! The one application error, and how it becomes a JSON answer or an HTML page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Everything a handler can fail with; the variants carry only what a client may see, except
/// `Unexpected`, which is logged and answered with an opaque 500.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Validation(String),
    #[error("Email or password is incorrect.")]
    InvalidCredentials,
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    InvalidRefreshToken(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("The form has expired or did not come from this site. Reload the page and try again.")]
    Csrf,
    #[error("Not found.")]
    NotFound,
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    #[error("Too many attempts. Try again in {0} seconds.")]
    Throttled(i64),
    #[error("This account has been disabled. Contact an administrator.")]
    Disabled,
    #[error("The service is temporarily unavailable. Try again shortly.")]
    Unavailable(String),
    #[error("Something went wrong on our side.")]
    Unexpected(String),
}

/// The body of every JSON error.
#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub message: String,
}

impl AppError {
    /// Wraps a cause the client must not see; it is logged when the answer is built.
    pub fn unexpected(cause: impl std::fmt::Display) -> Self {
        AppError::Unexpected(cause.to_string())
    }

    /// The stable machine-readable code in `{"error": …}`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "invalid_input",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::EmailTaken => "email_taken",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::InvalidRefreshToken(_) => "invalid_refresh_token",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf_failed",
            AppError::NotFound => "not_found",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Throttled(_) => "too_many_attempts",
            AppError::Disabled => "account_disabled",
            AppError::Unavailable(_) => "unavailable",
            AppError::Unexpected(_) => "internal_error",
        }
    }

    /// Headers that belong with this error: `WWW-Authenticate` on 401, `Retry-After` on 429.
    pub fn add_headers(&self, response: &mut actix_web::HttpResponseBuilder) {
        match self {
            AppError::Unauthorized(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            AppError::Throttled(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.max(&1).to_string()));
            }
            _ => {}
        }
    }

    /// Logs causes that are ours to fix, once, where the answer is built.
    pub fn log(&self) {
        match self {
            AppError::Unexpected(cause) => tracing::error!(cause = %cause, "unexpected error"),
            AppError::Unavailable(cause) => tracing::warn!(cause = %cause, "database unavailable"),
            _ => {}
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::BAD_REQUEST,
            AppError::InvalidCredentials
            | AppError::Unauthorized(_)
            | AppError::InvalidRefreshToken(_) => StatusCode::UNAUTHORIZED,
            AppError::EmailTaken => StatusCode::CONFLICT,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Disabled => StatusCode::FORBIDDEN,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        self.add_headers(&mut response);
        response
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .json(ErrorBody {
                error: self.code(),
                message: self.to_string(),
            })
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::Unavailable(info.message().to_owned())
            }
            Error::DatabaseError(_, info) if database_unavailable(info.message()) => {
                AppError::Unavailable(info.message().to_owned())
            }
            Error::BrokenTransactionManager => {
                AppError::Unavailable("the connection broke inside a transaction".into())
            }
            other => AppError::unexpected(other),
        }
    }
}

/// Whether a database error means "the database cannot serve right now" (connection lost, server
/// shutting down, file locked, read-only or full) rather than a bug: those answer 503.
fn database_unavailable(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "connection",
        "terminating",
        "server closed",
        "shutting down",
        "could not connect",
        "the database system is",
        "database is locked",
        "readonly",
        "read-only",
        "disk",
        "database or disk is full",
        "i/o error",
        "unable to open",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}
