//! Thin handlers grouped by page, plus how HTML pages and extractor failures are answered.

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod pages;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::error::AppError;

/// Renders a page with a status; pages are never cached (they may carry a CSRF token).
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => AppError::unexpected(format!("template: {e}")).error_response(),
    }
}

/// A form that carries only the CSRF token (sign-out buttons, revoke buttons).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// A one-time message shown at the top of a page or fragment.
pub struct Flash {
    /// `info` or `error`: also the CSS class.
    pub kind: &'static str,
    pub message: String,
}

impl Flash {
    pub fn info(message: impl Into<String>) -> Self {
        Self {
            kind: "info",
            message: message.into(),
        }
    }
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: "error",
            message: message.into(),
        }
    }
}

/// A protected page: the layout and a container that the page script fills with `fragment`,
/// fetched with the in-memory access token.
#[derive(Template)]
#[template(path = "shell.html")]
pub struct ShellPage<'a> {
    pub title: &'a str,
    pub fragment: &'a str,
    pub csrf_token: &'a str,
    /// Whether to show the cookie-authenticated sign-out forms (they work without JavaScript).
    pub account_actions: bool,
}

/// An error inside a fragment: rendered as an HTML panel the page script swaps in.
#[derive(Template)]
#[template(path = "error_fragment.html")]
pub struct ErrorFragment<'a> {
    pub status: u16,
    pub title: &'a str,
    pub message: String,
}

/// An `AppError` answered as an HTML fragment (for content fetched by the page script).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct FragmentError(#[from] pub AppError);

fn error_title(error: &AppError, status: StatusCode) -> &'static str {
    match error {
        AppError::Csrf => "Form expired",
        AppError::NotFound => "Page not found",
        AppError::Forbidden(_) => "Not allowed",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

impl ResponseError for FragmentError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let status = self.status_code();
        let mut response = render(
            status,
            &ErrorFragment {
                status: status.as_u16(),
                title: error_title(&self.0, status),
                message: self.0.to_string(),
            },
        );
        if matches!(self.0, AppError::Unauthorized(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The error page shown for any failure on an HTML route.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub title: &'a str,
    pub message: String,
}

/// An `AppError` answered as an HTML page instead of JSON.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct HtmlError(#[from] pub AppError);

impl ResponseError for HtmlError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let status = self.status_code();
        render(
            status,
            &ErrorPage {
                status: status.as_u16(),
                title: error_title(&self.0, status),
                message: self.0.to_string(),
            },
        )
    }
}

/// Extractor failures mapped to the application's errors: 4xx with a clear message, never a 500.
pub mod extractor_errors {
    use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
    use actix_web::HttpRequest;

    use super::HtmlError;
    use crate::error::AppError;

    pub fn json(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
        match err {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                AppError::PayloadTooLarge
            }
            JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
                "Send a JSON body with Content-Type: application/json.",
            ),
            JsonPayloadError::Deserialize(e) => {
                AppError::Validation(format!("The JSON body is invalid: {e}"))
            }
            _ => AppError::Validation("The request body could not be read.".into()),
        }
        .into()
    }

    pub fn form(err: UrlencodedError, _: &HttpRequest) -> actix_web::Error {
        let error = match err {
            UrlencodedError::Overflow { .. } => AppError::PayloadTooLarge,
            UrlencodedError::ContentType => AppError::UnsupportedMediaType(
                "Send the form as application/x-www-form-urlencoded.",
            ),
            _ => AppError::Validation(
                "The form could not be read. Reload the page and try again.".into(),
            ),
        };
        HtmlError(error).into()
    }

    pub fn path(_: PathError, _: &HttpRequest) -> actix_web::Error {
        AppError::NotFound.into()
    }

    pub fn query(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
        AppError::Validation(format!("The query string is invalid: {err}")).into()
    }
}
