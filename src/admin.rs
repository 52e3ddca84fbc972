//! Command-line administration: making the first admin.

use diesel::Connection;

use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::models::audit::{AuditEvent, AuditKind, RequestMeta};
use crate::models::user::{NewUser, UserRow, ROLE_ADMIN};
use crate::startup::AppState;

/// What `create-admin` did.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    Promoted,
    AlreadyAdmin,
    Created,
}

/// Promotes the account with this email to admin, or creates it as an admin with the password
/// that `ask_password` supplies (asked only when the account does not exist).
pub fn create_admin(
    state: &AppState,
    email: &Email,
    ask_password: impl FnOnce() -> Result<Password, String>,
) -> Result<AdminOutcome, String> {
    let mut conn = state.pool.get().map_err(|e| format!("database: {e}"))?;
    let now = state.clock.now();
    let meta = RequestMeta {
        ip: None,
        user_agent: Some("latchkey create-admin".into()),
    };
    let existing = UserRow::find_by_email(&mut conn, email.as_str()).map_err(|e| e.to_string())?;
    let (user_id, outcome) = match existing {
        Some(user) if user.is_admin() => return Ok(AdminOutcome::AlreadyAdmin),
        Some(user) => {
            UserRow::set_role(&mut conn, &user.id, ROLE_ADMIN, now).map_err(|e| e.to_string())?;
            (user.id, AdminOutcome::Promoted)
        }
        None => {
            let password = ask_password()?;
            let hash = state
                .hasher
                .hash_password_blocking(&password)
                .map_err(|e| e.to_string())?;
            let id = uuid::Uuid::new_v4().to_string();
            conn.transaction::<_, AppError, _>(|conn| {
                UserRow::insert(
                    conn,
                    &NewUser {
                        id: &id,
                        email: email.as_str(),
                        password_hash: &hash,
                        role: ROLE_ADMIN,
                        created_at: now,
                        updated_at: now,
                    },
                )
            })
            .map_err(|e| e.to_string())?;
            (id, AdminOutcome::Created)
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
    .record(&mut conn, &meta, now)
    .map_err(|e| e.to_string())?;
    Ok(outcome)
}
