//! The account page: a shell, and the fragment the shell fetches with the access token.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;

use super::{render, HtmlError};
use crate::auth::csrf;
use crate::auth::guard::CurrentUser;
use crate::db;
use crate::error::AppError;
use crate::models::session::SessionRow;
use crate::models::user::UserRow;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    pub csrf_token: &'a str,
}

/// One device as shown to its owner.
pub struct DeviceView {
    pub id: String,
    pub user_agent: String,
    pub ip: String,
    pub signed_in: String,
    pub last_active: String,
    pub expires: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account_fragment.html")]
pub struct AccountFragment<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub devices: Vec<DeviceView>,
}

/// Formats a stored UTC time for people.
pub fn when(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl DeviceView {
    pub fn new(session: &SessionRow, current_session: &str) -> Self {
        Self {
            id: session.id.clone(),
            user_agent: session
                .user_agent
                .clone()
                .unwrap_or_else(|| "Unknown device".into()),
            ip: session.ip.clone().unwrap_or_else(|| "unknown".into()),
            signed_in: when(session.created_at),
            last_active: when(session.last_used_at),
            expires: when(session.idle_expires_at.min(session.absolute_expires_at)),
            current: session.id == current_session,
        }
    }
}

/// `GET /account`: the shell; its script gets an access token and loads the fragment.
pub async fn show_account(session: Session) -> Result<HttpResponse, HtmlError> {
    let csrf_token = csrf::token(&session)?;
    Ok(render(
        StatusCode::OK,
        &AccountPage {
            csrf_token: &csrf_token,
        },
    ))
}

/// `GET /fragments/account` (bearer token): the signed-in user's email and devices.
pub async fn account_fragment(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
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
        StatusCode::OK,
        &AccountFragment {
            email: &account.email,
            role: &account.role,
            devices: devices
                .iter()
                .map(|s| DeviceView::new(s, &user.session_id))
                .collect(),
        },
    ))
}
