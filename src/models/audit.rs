//! `audit_events`: an append-only record of security-relevant events. Never holds a secret.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::AnyConnection;

/// The kinds of event recorded (SECURITY.md line 23).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKind {
    SignUp,
    SignInSuccess,
    SignInFailure,
    SignInThrottled,
    RefreshGrace,
    RefreshReuse,
    SessionExpired,
    Logout,
    LogoutAll,
    SessionRevoked,
    AdminSessionRevoked,
    AdminUserSessionsRevoked,
    AdminCreated,
    PasswordChanged,
    UserDisabled,
    UserEnabled,
}

impl AuditKind {
    /// Every kind, for filters.
    pub const ALL: [AuditKind; 16] = [
        AuditKind::SignUp,
        AuditKind::SignInSuccess,
        AuditKind::SignInFailure,
        AuditKind::SignInThrottled,
        AuditKind::RefreshGrace,
        AuditKind::RefreshReuse,
        AuditKind::SessionExpired,
        AuditKind::Logout,
        AuditKind::LogoutAll,
        AuditKind::SessionRevoked,
        AuditKind::AdminSessionRevoked,
        AuditKind::AdminUserSessionsRevoked,
        AuditKind::AdminCreated,
        AuditKind::PasswordChanged,
        AuditKind::UserDisabled,
        AuditKind::UserEnabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignUp => "signup",
            AuditKind::SignInSuccess => "signin_success",
            AuditKind::SignInFailure => "signin_failure",
            AuditKind::SignInThrottled => "signin_throttled",
            AuditKind::RefreshGrace => "refresh_grace",
            AuditKind::RefreshReuse => "refresh_reuse",
            AuditKind::SessionExpired => "session_expired",
            AuditKind::Logout => "logout",
            AuditKind::LogoutAll => "logout_all",
            AuditKind::SessionRevoked => "session_revoked",
            AuditKind::AdminSessionRevoked => "admin_session_revoked",
            AuditKind::AdminUserSessionsRevoked => "admin_user_sessions_revoked",
            AuditKind::AdminCreated => "admin_created",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::UserDisabled => "user_disabled",
            AuditKind::UserEnabled => "user_enabled",
        }
    }
}

/// Who made the request: recorded with every event.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A stored event.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub kind: String,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent<'a> {
    occurred_at: NaiveDateTime,
    kind: &'a str,
    user_id: Option<&'a str>,
    session_id: Option<&'a str>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    detail: Option<&'a str>,
}

/// One event to record.
pub struct AuditEvent<'a> {
    pub kind: AuditKind,
    pub user_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl AuditEvent<'_> {
    pub fn record(
        &self,
        conn: &mut AnyConnection,
        meta: &RequestMeta,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(audit_events::table)
            .values(NewAuditEvent {
                occurred_at: now,
                kind: self.kind.as_str(),
                user_id: self.user_id,
                session_id: self.session_id,
                ip: meta.ip.as_deref(),
                user_agent: meta.user_agent.as_deref(),
                detail: self.detail,
            })
            .execute(conn)
            .map(|_| ())
    }
}

type Backend = <AnyConnection as diesel::Connection>::Backend;

fn filtered<'a>(
    kind: Option<&str>,
    user_id: Option<&str>,
) -> audit_events::BoxedQuery<'a, Backend> {
    let mut query = audit_events::table.into_boxed();
    if let Some(kind) = kind {
        query = query.filter(audit_events::kind.eq(kind.to_owned()));
    }
    if let Some(user_id) = user_id {
        query = query.filter(audit_events::user_id.eq(user_id.to_owned()));
    }
    query
}

impl AuditEventRow {
    /// Latest events first, optionally of one kind and one user.
    pub fn latest(
        conn: &mut AnyConnection,
        kind: Option<&str>,
        user_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> QueryResult<Vec<AuditEventRow>> {
        filtered(kind, user_id)
            .select(AuditEventRow::as_select())
            .order(audit_events::id.desc())
            .limit(limit)
            .offset(offset)
            .load(conn)
    }

    /// How many events `latest` would list in all.
    pub fn count(
        conn: &mut AnyConnection,
        kind: Option<&str>,
        user_id: Option<&str>,
    ) -> QueryResult<i64> {
        filtered(kind, user_id).count().get_result(conn)
    }
}
