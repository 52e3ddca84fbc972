//! The account page: a shell, the fragment it fetches with the access token, and the forms inside
//! that fragment (sign out a device, sign out the others, change password).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::{render, CsrfForm, Flash, FragmentError, HtmlError, ShellPage};
use crate::auth::csrf;
use crate::auth::guard::CurrentUser;
use crate::auth::sessions::{self, PasswordChangeError, RevokeAll};
use crate::db;
use crate::domain::{Device, Password};
use crate::error::AppError;
use crate::models::audit::RequestMeta;
use crate::models::session::{RevokeReason, SessionRow};
use crate::models::user::UserRow;
use crate::startup::AppState;

/// One device as shown to its owner or to an admin.
pub struct DeviceView {
    pub id: String,
    pub device: String,
    pub user_agent: String,
    pub ip: String,
    pub signed_in: String,
    pub last_active: String,
    pub expires: String,
    pub current: bool,
}

/// Formats a stored UTC time for people.
pub fn when(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl DeviceView {
    pub fn new(session: &SessionRow, current_session: &str) -> Self {
        Self {
            id: session.id.clone(),
            device: Device::describe(session.user_agent.as_deref()),
            user_agent: session.user_agent.clone().unwrap_or_default(),
            ip: session.ip.clone().unwrap_or_else(|| "unknown".into()),
            signed_in: when(session.created_at),
            last_active: when(session.last_used_at),
            expires: when(session.idle_expires_at.min(session.absolute_expires_at)),
            current: session.id == current_session,
        }
    }
}

#[derive(Template)]
#[template(path = "account_fragment.html")]
pub struct AccountFragment<'a> {
    pub csrf_token: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub devices: Vec<DeviceView>,
    pub flash: Option<Flash>,
}

/// `GET /account`: the shell; its script gets an access token and loads the fragment.
pub async fn show_account(session: Session) -> Result<HttpResponse, HtmlError> {
    let csrf_token = csrf::token(&session)?;
    Ok(render(
        StatusCode::OK,
        &ShellPage {
            title: "Your account",
            fragment: "/fragments/account",
            csrf_token: &csrf_token,
            account_actions: true,
        },
    ))
}

/// The fragment, rendered with a status and an optional message.
async fn account_view(
    state: &web::Data<AppState>,
    session: &Session,
    user: &CurrentUser,
    status: StatusCode,
    flash: Option<Flash>,
) -> Result<HttpResponse, AppError> {
    let csrf_token = csrf::token(session)?;
    let now = state.clock.now();
    let user_id = user.user_id.clone();
    let (account, devices) = db::run(&state.pool, move |conn| {
        let account = UserRow::find(conn, &user_id)?
            .ok_or(AppError::Unauthorized("This account no longer exists."))?;
        let devices = SessionRow::active_for_user(conn, &user_id, now)?;
        Ok((account, devices))
    })
    .await?;
    Ok(render(
        status,
        &AccountFragment {
            csrf_token: &csrf_token,
            email: &account.email,
            role: &account.role,
            devices: devices
                .iter()
                .map(|s| DeviceView::new(s, &user.session_id))
                .collect(),
            flash,
        },
    ))
}

/// `GET /fragments/account` (bearer): email, role and devices.
pub async fn account_fragment(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
) -> Result<HttpResponse, FragmentError> {
    Ok(account_view(&state, &session, &user, StatusCode::OK, None).await?)
}

/// `POST /fragments/account/sessions/{id}/revoke` (bearer): signs out one of the user's devices.
pub async fn revoke_device(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, FragmentError> {
    csrf::verify(&session, &form.csrf_token)?;
    let (status, flash) = match sessions::revoke_own_session(
        &state,
        &user.user_id,
        &path.into_inner(),
        RevokeReason::RevokedByUser,
        meta,
    )
    .await
    {
        Ok(()) => (
            StatusCode::OK,
            Flash::info("That device has been signed out."),
        ),
        Err(AppError::NotFound) => (
            StatusCode::NOT_FOUND,
            Flash::error("That device is not signed in to your account."),
        ),
        Err(error) => return Err(error.into()),
    };
    Ok(account_view(&state, &session, &user, status, Some(flash)).await?)
}

/// `POST /fragments/account/sessions/revoke-others` (bearer): signs out every other device.
pub async fn revoke_other_devices(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, FragmentError> {
    csrf::verify(&session, &form.csrf_token)?;
    let ended = sessions::revoke_all_for_user(
        &state,
        &user.user_id,
        Some(user.session_id.clone()),
        RevokeAll::OtherDevices,
        meta,
    )
    .await?;
    let flash = Flash::info(match ended {
        0 => "There were no other devices to sign out.".to_owned(),
        1 => "Signed out 1 other device.".to_owned(),
        n => format!("Signed out {n} other devices."),
    });
    Ok(account_view(&state, &session, &user, StatusCode::OK, Some(flash)).await?)
}

/// Fields of the password-change form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: String,
}

/// `POST /fragments/account/password` (bearer): changes the password and signs out every other
/// session of the user. Refusals answer 400 (never 401, which the page script reads as an
/// expired token).
pub async fn change_password(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, FragmentError> {
    let form = form.into_inner();
    csrf::verify(&session, &form.csrf_token)?;
    let refuse = |message: String| Some(Flash::error(message));
    let refusal = if form.new_password != form.new_password_confirm {
        refuse("The two new passwords do not match.".into())
    } else {
        match (
            Password::for_signin(form.current_password),
            Password::new_for_signup(form.new_password, state.config.password_min_length),
        ) {
            (Err(_), _) => refuse("Enter your current password.".into()),
            (_, Err(message)) => refuse(message),
            (Ok(current), Ok(new)) => match sessions::change_password(
                &state,
                &user.user_id,
                &user.session_id,
                current,
                new,
                meta,
            )
            .await
            {
                Ok(ended) => {
                    let others = match ended {
                        1 => "1 other session was signed out".to_owned(),
                        n => format!("{n} other sessions were signed out"),
                    };
                    let flash = Flash::info(format!("Your password has been changed; {others}."));
                    return Ok(
                        account_view(&state, &session, &user, StatusCode::OK, Some(flash)).await?,
                    );
                }
                Err(PasswordChangeError::WrongCurrentPassword) => {
                    refuse("The current password is incorrect.".into())
                }
                Err(PasswordChangeError::Invalid(message)) => refuse(message),
                Err(PasswordChangeError::App(error)) => return Err(error.into()),
            },
        }
    };
    Ok(account_view(&state, &session, &user, StatusCode::BAD_REQUEST, refusal).await?)
}
