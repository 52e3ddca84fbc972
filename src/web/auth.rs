//! Browser sign-up, sign-in, logout (HTML forms) and the cookie-authenticated refresh endpoint.

use actix_session::Session;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::{render, CsrfForm, HtmlError};
use crate::auth::cookies::{cleared_refresh_cookie, refresh_cookie, REFRESH_COOKIE};
use crate::auth::csrf;
use crate::auth::sessions::{self, IssuedTokens, UserSummary};
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::models::audit::RequestMeta;
use crate::startup::AppState;

/// Header a script must send to `/auth/refresh`; a cross-site form cannot set it.
pub const REFRESH_HEADER: &str = "x-latchkey-refresh";

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage<'a> {
    pub csrf_token: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub csrf_token: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

/// Fields of the sign-up form; missing fields arrive empty and are reported as such.
#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    #[serde(default)]
    csrf_token: String,
}

/// Fields of the sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

pub async fn show_signup(session: Session) -> Result<HttpResponse, HtmlError> {
    let csrf_token = csrf::token(&session)?;
    Ok(render(
        StatusCode::OK,
        &SignupPage {
            csrf_token: &csrf_token,
            email: "",
            error: None,
        },
    ))
}

pub async fn submit_signup(
    state: web::Data<AppState>,
    session: Session,
    meta: RequestMeta,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, HtmlError> {
    let form = form.into_inner();
    csrf::verify(&session, &form.csrf_token)?;
    let csrf_token = csrf::token(&session)?;
    let again = |status: StatusCode, error: &str| {
        render(
            status,
            &SignupPage {
                csrf_token: &csrf_token,
                email: &form.email,
                error: Some(error),
            },
        )
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => return Ok(again(StatusCode::BAD_REQUEST, &message)),
    };
    if form.password != form.password_confirm {
        return Ok(again(
            StatusCode::BAD_REQUEST,
            "The two passwords do not match.",
        ));
    }
    let password =
        match Password::new_for_signup(form.password.clone(), state.config.password_min_length) {
            Ok(password) => password,
            Err(message) => return Ok(again(StatusCode::BAD_REQUEST, &message)),
        };
    match sessions::sign_up(&state, email, password, meta).await {
        Ok(issued) => Ok(signed_in(&issued)),
        Err(error @ AppError::EmailTaken) => Ok(again(
            StatusCode::CONFLICT,
            &format!("{error} Sign in instead."),
        )),
        Err(error) => Err(error.into()),
    }
}

pub async fn show_login(session: Session) -> Result<HttpResponse, HtmlError> {
    let csrf_token = csrf::token(&session)?;
    let notice = session.remove_as::<String>(FLASH).and_then(Result::ok);
    Ok(render(
        StatusCode::OK,
        &LoginPage {
            csrf_token: &csrf_token,
            email: "",
            error: None,
            notice: notice.as_deref(),
        },
    ))
}

/// Session key of the one-time message shown on the next page.
const FLASH: &str = "flash";

fn flash(session: &Session, message: &str) {
    // A flash message is a courtesy; failing to store one must not fail the action.
    let _ = session.insert(FLASH, message);
}

pub async fn submit_login(
    state: web::Data<AppState>,
    session: Session,
    meta: RequestMeta,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, HtmlError> {
    let form = form.into_inner();
    csrf::verify(&session, &form.csrf_token)?;
    let csrf_token = csrf::token(&session)?;
    let again = |status: StatusCode, error: &str| {
        render(
            status,
            &LoginPage {
                csrf_token: &csrf_token,
                email: &form.email,
                error: Some(error),
                notice: None,
            },
        )
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => return Ok(again(StatusCode::BAD_REQUEST, &message)),
    };
    let password = match Password::for_signin(form.password.clone()) {
        Ok(password) => password,
        Err(message) => return Ok(again(StatusCode::BAD_REQUEST, &message)),
    };
    match sessions::sign_in(&state, email, password, meta).await {
        Ok(issued) => Ok(signed_in(&issued)),
        Err(error @ AppError::InvalidCredentials) => {
            Ok(again(StatusCode::UNAUTHORIZED, &error.to_string()))
        }
        Err(error @ AppError::Throttled(_)) => Ok(throttled(again, &error)),
        Err(error @ AppError::Disabled) => Ok(again(StatusCode::FORBIDDEN, &error.to_string())),
        Err(error) => Err(error.into()),
    }
}

/// The form again with status 429, the wait in words, and `Retry-After`.
fn throttled(again: impl Fn(StatusCode, &str) -> HttpResponse, error: &AppError) -> HttpResponse {
    let mut response = again(StatusCode::TOO_MANY_REQUESTS, &error.to_string());
    if let AppError::Throttled(seconds) = error {
        if let Ok(value) = HeaderValue::from_str(&seconds.max(&1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// Post/Redirect/Get after signing in: the refresh cookie, then `/account`.
fn signed_in(issued: &IssuedTokens) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, "/account"));
    if let Some(refresh) = &issued.refresh {
        response.cookie(refresh_cookie(
            refresh.token.expose(),
            refresh.max_age_seconds,
        ));
    }
    response.finish()
}

/// Body of a successful browser refresh.
#[derive(Serialize)]
pub struct BrowserRefreshResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub user: UserSummary,
}

/// `POST /auth/refresh`: the refresh cookie buys an access token and a rotated cookie.
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    if req.headers().get(REFRESH_HEADER).map(|v| v.as_bytes()) != Some(b"1") {
        return AppError::Forbidden(
            "Refresh requests must carry the header X-Latchkey-Refresh: 1.",
        )
        .error_response();
    }
    let Some(cookie) = req.cookie(REFRESH_COOKIE) else {
        return refresh_refused(AppError::InvalidRefreshToken(
            "No refresh cookie was sent. Sign in.",
        ));
    };
    match sessions::refresh(&state, cookie.value(), meta).await {
        Ok(issued) => {
            let mut response = HttpResponse::Ok();
            response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
            if let Some(refresh) = &issued.refresh {
                response.cookie(refresh_cookie(
                    refresh.token.expose(),
                    refresh.max_age_seconds,
                ));
            }
            response.json(BrowserRefreshResponse {
                access_token: issued.access_token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                user: issued.user,
            })
        }
        Err(error @ AppError::InvalidRefreshToken(_)) => refresh_refused(error),
        // The database being down is no reason to sign the browser out.
        Err(error) => error.error_response(),
    }
}

fn refresh_refused(error: AppError) -> HttpResponse {
    let mut response = error.error_response();
    // Adding a cookie to a response we built cannot fail for a well-formed cookie.
    let _ = response.add_cookie(&cleared_refresh_cookie());
    response
}

/// `POST /auth/logout`: ends this device's session.
pub async fn log_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    meta: RequestMeta,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(&session, &form.csrf_token)?;
    if let Some(cookie) = req.cookie(REFRESH_COOKIE) {
        sessions::log_out_with_refresh_token(&state, cookie.value(), meta).await?;
    }
    flash(&session, "You have signed out on this device.");
    Ok(signed_out())
}

/// `POST /auth/logout-all`: ends every session of this user, on every device.
pub async fn log_out_everywhere(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    meta: RequestMeta,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, HtmlError> {
    csrf::verify(&session, &form.csrf_token)?;
    if let Some(cookie) = req.cookie(REFRESH_COOKIE) {
        sessions::log_out_everywhere_with_refresh_token(&state, cookie.value(), meta).await?;
    }
    flash(&session, "You have signed out on every device.");
    Ok(signed_out())
}

fn signed_out() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(cleared_refresh_cookie())
        .finish()
}
