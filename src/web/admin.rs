//! Admin pages: every active session (search, paging, revoke) and the audit log.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::NaiveTime;
use serde::Deserialize;

use super::account::{when, DeviceView};
use super::{render, Flash, FragmentError, HtmlError, ShellPage};
use crate::auth::csrf;
use crate::auth::guard::CurrentUser;
use crate::auth::sessions::{self, RevokeAll};
use crate::db;
use crate::domain::Device;
use crate::error::AppError;
use crate::models::audit::{AuditEventRow, AuditKind, RequestMeta};
use crate::models::session::{SessionRow, SessionStats};
use crate::models::user::{UserRow, ROLE_ADMIN};
use crate::startup::AppState;

/// Rows per page in admin lists.
pub const PAGE_SIZE: i64 = 50;

/// Admin fragments answer a 403 panel (not JSON) to everyone else.
fn require_admin(user: &CurrentUser) -> Result<(), FragmentError> {
    if user.role == ROLE_ADMIN {
        Ok(())
    } else {
        Err(AppError::Forbidden("This page is for administrators.").into())
    }
}

async fn shell(session: Session, title: &str, fragment: &str) -> Result<HttpResponse, HtmlError> {
    let csrf_token = csrf::token(&session)?;
    Ok(render(
        StatusCode::OK,
        &ShellPage {
            title,
            fragment,
            csrf_token: &csrf_token,
            account_actions: false,
        },
    ))
}

/// `GET /admin/sessions`: the shell.
pub async fn show_sessions(session: Session) -> Result<HttpResponse, HtmlError> {
    shell(session, "Active sessions", "/fragments/admin/sessions").await
}

/// `GET /admin/audit`: the shell.
pub async fn show_audit(session: Session) -> Result<HttpResponse, HtmlError> {
    shell(session, "Audit log", "/fragments/admin/audit").await
}

/// Page and search of the sessions list; also sent back by its forms to keep the view.
#[derive(Deserialize, Default)]
pub struct SessionsQuery {
    #[serde(default)]
    page: Option<u32>,
    /// Only in the forms' posts.
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: Option<String>,
}

impl SessionsQuery {
    /// The page asked for, from 1.
    pub fn page(&self) -> i64 {
        page_number(self.page)
    }
    /// The email search, normalised, or `None` for all.
    pub fn search(&self) -> Option<String> {
        self.email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .map(|e| e.chars().take(254).collect())
    }
}

/// One row of the admin sessions table.
pub struct AdminSessionView {
    pub email: String,
    pub user_id: String,
    pub device: DeviceView,
}

#[derive(Template)]
#[template(path = "admin_sessions_fragment.html")]
pub struct AdminSessionsFragment {
    pub csrf_token: String,
    pub stats: SessionStats,
    pub rows: Vec<AdminSessionView>,
    pub search: String,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub noun: &'static str,
    pub flash: Option<Flash>,
}

impl AdminSessionsFragment {
    /// A link to another page of the same search.
    pub fn page_link(&self, page: i64) -> String {
        page_link("/admin/sessions", page, &[("email", &self.search)])
    }
}

/// A page number from a query, from 1 (and not so large that its offset overflows).
fn page_number(page: Option<u32>) -> i64 {
    i64::from(page.unwrap_or(1).clamp(1, 1_000_000))
}

/// `path?page=N` plus the non-empty filters, so paging keeps the search.
fn page_link(path: &str, page: i64, filters: &[(&str, &str)]) -> String {
    let mut link = format!("{path}?page={page}");
    for (name, value) in filters.iter().filter(|(_, v)| !v.is_empty()) {
        link.push_str(&format!("&{name}={}", encode_query_value(value)));
    }
    link
}

fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn pages(total: i64) -> i64 {
    ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
}

async fn sessions_view(
    state: &web::Data<AppState>,
    session: &Session,
    admin: &CurrentUser,
    query: &SessionsQuery,
    status: StatusCode,
    flash: Option<Flash>,
) -> Result<HttpResponse, FragmentError> {
    let now = state.clock.now();
    let midnight = now.date().and_time(NaiveTime::MIN);
    let search = query.search();
    let page = query.page();
    let filter = search.clone();
    let (stats, total, rows) = db::run(&state.pool, move |conn| {
        let stats = SessionRow::stats(conn, now, midnight)?;
        let total = SessionRow::count_active(conn, now, filter.as_deref())?;
        let rows = SessionRow::search_active(
            conn,
            now,
            filter.as_deref(),
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )?;
        Ok((stats, total, rows))
    })
    .await?;
    let rows = rows
        .into_iter()
        .map(|(session, email)| AdminSessionView {
            email,
            user_id: session.user_id.clone(),
            device: DeviceView::new(&session, &admin.session_id),
        })
        .collect();
    Ok(render(
        status,
        &AdminSessionsFragment {
            csrf_token: csrf::token(session)?,
            stats,
            rows,
            search: search.unwrap_or_default(),
            page,
            pages: pages(total),
            total,
            noun: "session(s)",
            flash,
        },
    ))
}

/// `GET /fragments/admin/sessions?page=&email=` (admin bearer).
pub async fn sessions_fragment(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    query: web::Query<SessionsQuery>,
) -> Result<HttpResponse, FragmentError> {
    require_admin(&user)?;
    sessions_view(&state, &session, &user, &query, StatusCode::OK, None).await
}

/// `POST /fragments/admin/sessions/{id}/revoke` (admin bearer): ends one session; audited.
pub async fn revoke_session(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<SessionsQuery>,
) -> Result<HttpResponse, FragmentError> {
    require_admin(&user)?;
    csrf::verify(&session, &form.csrf_token)?;
    let (status, flash) =
        match sessions::admin_revoke_session(&state, &user.user_id, &path, meta).await {
            Ok(()) => (StatusCode::OK, Flash::info("The session has been revoked.")),
            Err(AppError::NotFound) => (
                StatusCode::NOT_FOUND,
                Flash::error("That session had already ended."),
            ),
            Err(error) => return Err(error.into()),
        };
    sessions_view(&state, &session, &user, &form, status, Some(flash)).await
}

/// `POST /fragments/admin/users/{id}/revoke-all` (admin bearer): ends every session of a user.
pub async fn revoke_user_sessions(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<SessionsQuery>,
) -> Result<HttpResponse, FragmentError> {
    require_admin(&user)?;
    csrf::verify(&session, &form.csrf_token)?;
    let target = path.into_inner();
    let lookup = target.clone();
    let email = db::run(&state.pool, move |conn| Ok(UserRow::find(conn, &lookup)?))
        .await?
        .map(|u| u.email)
        .ok_or(AppError::NotFound)?;
    let ended = sessions::revoke_all_for_user(
        &state,
        &target,
        None,
        RevokeAll::ByAdmin(user.user_id.clone()),
        meta,
    )
    .await?;
    let flash = Flash::info(format!("Revoked {ended} session(s) of {email}."));
    sessions_view(&state, &session, &user, &form, StatusCode::OK, Some(flash)).await
}

/// `POST /fragments/admin/users/{id}/disable` (admin bearer): disables the account and ends
/// all its sessions; audited.
pub async fn disable_user(
    state: web::Data<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<SessionsQuery>,
) -> Result<HttpResponse, FragmentError> {
    require_admin(&user)?;
    csrf::verify(&session, &form.csrf_token)?;
    let target = path.into_inner();
    if target == user.user_id {
        let flash = Flash::error("You cannot disable your own account.");
        return sessions_view(
            &state,
            &session,
            &user,
            &form,
            StatusCode::BAD_REQUEST,
            Some(flash),
        )
        .await;
    }
    let (actor, now) = (user.user_id.clone(), state.clock.now());
    let (email, ended) = db::run(&state.pool, move |conn| {
        let email = UserRow::find(conn, &target)?
            .ok_or(AppError::NotFound)?
            .email;
        let ended = crate::admin::disable_user(conn, &target, Some(&actor), &meta, now)?;
        Ok((email, ended))
    })
    .await?;
    let count = ended.len();
    sessions::forget_access_tokens(&state, ended);
    let flash = Flash::info(format!(
        "Disabled {email} and revoked {count} session(s). `latchkey enable-user` lets them back in."
    ));
    sessions_view(&state, &session, &user, &form, StatusCode::OK, Some(flash)).await
}

/// Filters of the audit log.
#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// One audit event as shown.
pub struct AuditView {
    pub at: String,
    pub kind: &'static str,
    pub email: String,
    pub session: String,
    pub ip: String,
    pub device: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit_fragment.html")]
pub struct AuditFragment {
    pub events: Vec<AuditView>,
    pub kinds: Vec<&'static str>,
    pub kind: String,
    pub email: String,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub noun: &'static str,
    pub flash: Option<Flash>,
}

impl AuditFragment {
    /// A link to another page of the same filters.
    pub fn page_link(&self, page: i64) -> String {
        page_link(
            "/admin/audit",
            page,
            &[("kind", &self.kind), ("email", &self.email)],
        )
    }
}

/// `GET /fragments/admin/audit?kind=&email=&page=` (admin bearer).
pub async fn audit_fragment(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, FragmentError> {
    require_admin(&user)?;
    let kind = query
        .kind
        .as_deref()
        .and_then(|k| AuditKind::ALL.iter().find(|known| known.as_str() == k))
        .map(|k| k.as_str());
    let email = query
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    let page = page_number(query.page);
    let filter_email = email.clone();
    let found = db::run(&state.pool, move |conn| {
        let user_id = match &filter_email {
            Some(email) => match UserRow::find_by_email(conn, email)? {
                Some(user) => Some(user.id),
                None => return Ok(None),
            },
            None => None,
        };
        let total = AuditEventRow::count(conn, kind, user_id.as_deref())?;
        let events = AuditEventRow::latest(
            conn,
            kind,
            user_id.as_deref(),
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )?;
        let ids: Vec<String> = events.iter().filter_map(|e| e.user_id.clone()).collect();
        let emails = UserRow::emails(conn, &ids)?;
        Ok(Some((total, events, emails)))
    })
    .await?;
    let (total, events, emails, notice) = match found {
        Some((total, events, emails)) => (total, events, emails, None),
        None => (
            0,
            Vec::new(),
            Vec::new(),
            Some(Flash::error("No account has that email.")),
        ),
    };
    let email_of = |id: &Option<String>| {
        id.as_ref()
            .map(|id| {
                emails
                    .iter()
                    .find(|(uid, _)| uid == id)
                    .map_or_else(|| id.clone(), |(_, email)| email.clone())
            })
            .unwrap_or_else(|| "—".into())
    };
    let events = events
        .iter()
        .map(|e| AuditView {
            at: when(e.occurred_at),
            kind: AuditKind::ALL
                .iter()
                .find(|k| k.as_str() == e.kind)
                .map_or("other", |k| k.as_str()),
            email: email_of(&e.user_id),
            session: e
                .session_id
                .as_deref()
                .map(|s| s.chars().take(8).collect())
                .unwrap_or_default(),
            ip: e.ip.clone().unwrap_or_default(),
            device: e
                .user_agent
                .as_deref()
                .map(|ua| Device::describe(Some(ua)))
                .unwrap_or_default(),
            detail: e.detail.clone().unwrap_or_default(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &AuditFragment {
            events,
            kinds: AuditKind::ALL.iter().map(|k| k.as_str()).collect(),
            kind: kind.unwrap_or_default().to_owned(),
            email: email.unwrap_or_default(),
            page,
            pages: pages(total),
            total,
            noun: "event(s)",
            flash: notice,
        },
    ))
}
