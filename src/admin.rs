//! Administration shared by the command line and the admin pages: making admins, disabling and
//! enabling accounts.

use diesel::Connection;

use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::models::audit::{AuditEvent, AuditKind, RequestMeta};
use crate::models::session::{RevokeReason, SessionRow};
use crate::models::user::{NewUser, UserRow, ROLE_ADMIN};
use crate::startup::AppState;

/// What `create-admin` did.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    Promoted,
    AlreadyAdmin,
    Created,
}

/// What `create_admin` will write once it has what it needs.
enum Plan {
    Promote(String),
    Create { id: String, hash: String },
}

/// Promotes the account with this email to admin, or creates it as an admin with the password
/// that `ask_password` supplies (asked only when the account does not exist).
pub fn create_admin(
    state: &AppState,
    email: &Email,
    ask_password: impl FnOnce() -> Result<Password, String>,
) -> Result<AdminOutcome, String> {
    let connect = || state.pool.get().map_err(|e| format!("database: {e}"));
    let existing =
        UserRow::find_by_email(&mut *connect()?, email.as_str()).map_err(|e| e.to_string())?;
    if existing.as_ref().is_some_and(UserRow::is_admin) {
        return Ok(AdminOutcome::AlreadyAdmin);
    }
    // The prompt and the hash happen before a connection is taken again: none is held meanwhile.
    let plan = match existing {
        Some(user) => Plan::Promote(user.id),
        None => {
            let password = ask_password()?;
            let hash = state
                .hasher
                .hash_password_blocking(&password)
                .map_err(|e| e.to_string())?;
            Plan::Create {
                id: uuid::Uuid::new_v4().to_string(),
                hash,
            }
        }
    };
    let now = state.clock.now();
    let meta = RequestMeta {
        ip: None,
        user_agent: Some("latchkey create-admin".into()),
    };
    connect()?
        .transaction::<_, AppError, _>(|conn| {
            let (user_id, outcome) = match &plan {
                Plan::Promote(id) => {
                    UserRow::set_role(conn, id, ROLE_ADMIN, now)?;
                    (id.clone(), AdminOutcome::Promoted)
                }
                Plan::Create { id, hash } => {
                    UserRow::insert(
                        conn,
                        &NewUser {
                            id,
                            email: email.as_str(),
                            password_hash: hash,
                            role: ROLE_ADMIN,
                            created_at: now,
                            updated_at: now,
                        },
                    )?;
                    (id.clone(), AdminOutcome::Created)
                }
            };
            AuditEvent {
                kind: AuditKind::AdminCreated,
                user_id: Some(&user_id),
                session_id: None,
                detail: Some(match outcome {
                    AdminOutcome::Created => "created",
                    _ => "promoted",
                }),
            }
            .record(conn, &meta, now)?;
            Ok(outcome)
        })
        .map_err(|e| e.to_string())
}

/// Disables an account and revokes every session of it, in one transaction; `actor` is the admin
/// who did it (`None` from the command line). Returns the revoked session ids; other instances
/// learn of them by polling, the caller's instance should forget them at once.
pub fn disable_user(
    conn: &mut crate::db::AnyConnection,
    user_id: &str,
    actor: Option<&str>,
    meta: &RequestMeta,
    now: chrono::NaiveDateTime,
) -> Result<Vec<String>, AppError> {
    conn.transaction::<_, AppError, _>(|conn| {
        if UserRow::set_disabled(conn, user_id, Some(now), now)? == 0 {
            return Err(AppError::NotFound);
        }
        let ended =
            SessionRow::revoke_all_for_user(conn, user_id, None, RevokeReason::Disabled, now)?;
        let detail = format!("user={user_id} sessions={}", ended.len());
        AuditEvent {
            kind: AuditKind::UserDisabled,
            user_id: Some(actor.unwrap_or(user_id)),
            session_id: None,
            detail: Some(&detail),
        }
        .record(conn, meta, now)?;
        Ok(ended)
    })
}

/// Lets a disabled account sign in again (its old sessions stay revoked).
pub fn enable_user(
    conn: &mut crate::db::AnyConnection,
    user_id: &str,
    actor: Option<&str>,
    meta: &RequestMeta,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    if UserRow::set_disabled(conn, user_id, None, now)? == 0 {
        return Err(AppError::NotFound);
    }
    let detail = format!("user={user_id}");
    AuditEvent {
        kind: AuditKind::UserEnabled,
        user_id: Some(actor.unwrap_or(user_id)),
        session_id: None,
        detail: Some(&detail),
    }
    .record(conn, meta, now)?;
    Ok(())
}

/// The command-line's view: disable or enable by email.
pub fn set_disabled_by_email(
    state: &AppState,
    email: &Email,
    disabled: bool,
) -> Result<usize, String> {
    let mut conn = state.pool.get().map_err(|e| format!("database: {e}"))?;
    let user = UserRow::find_by_email(&mut conn, email.as_str())
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account has the email {email}"))?;
    let meta = RequestMeta {
        ip: None,
        user_agent: Some("latchkey command line".into()),
    };
    let now = state.clock.now();
    if disabled {
        disable_user(&mut conn, &user.id, None, &meta, now)
            .map(|ended| ended.len())
            .map_err(|e| e.to_string())
    } else {
        enable_user(&mut conn, &user.id, None, &meta, now)
            .map(|()| 0)
            .map_err(|e| e.to_string())
    }
}
