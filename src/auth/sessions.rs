//! Device sessions: sign-up, sign-in, rotation with grace and reuse detection, and revocation.

use actix_web::web;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::Connection;
use serde::Serialize;

use super::throttle;
use super::tokens::{seconds_until, RefreshToken};
use crate::db;
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::metrics::{RefreshOutcome, SignInOutcome};
use crate::models::audit::{AuditEvent, AuditKind, RequestMeta};
use crate::models::session::{NewSession, RevokeReason, Rotation, SessionRow};
use crate::models::throttle::ThrottleRow;
use crate::models::user::{NewUser, UserRow, ROLE_USER};
use crate::startup::AppState;

/// The public view of an account, as answered to its owner.
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub role: String,
}

impl From<&UserRow> for UserSummary {
    fn from(user: &UserRow) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            role: user.role.clone(),
        }
    }
}

/// A refresh token for the client to keep, and how long it (and its cookie) lives.
#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    pub token: RefreshToken,
    pub max_age_seconds: i64,
}

/// What a successful sign-in, sign-up or refresh hands to the client.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub user: UserSummary,
    pub session_id: String,
    pub access_token: String,
    pub expires_in: i64,
    /// `None` for a grace-window refresh: the client already holds the successor token.
    pub refresh: Option<IssuedRefresh>,
}

/// A session row computed before touching the database, so no pooled connection is held while
/// hashing.
struct PreparedSession {
    id: String,
    refresh: RefreshToken,
    token_hash: String,
    now: NaiveDateTime,
    idle_expires_at: NaiveDateTime,
    absolute_expires_at: NaiveDateTime,
}

impl PreparedSession {
    fn insert(
        &self,
        conn: &mut db::AnyConnection,
        user_id: &str,
        meta: &RequestMeta,
    ) -> diesel::QueryResult<()> {
        SessionRow::insert(
            conn,
            &NewSession {
                id: &self.id,
                user_id,
                token_hash: &self.token_hash,
                created_at: self.now,
                last_used_at: self.now,
                idle_expires_at: self.idle_expires_at,
                absolute_expires_at: self.absolute_expires_at,
                user_agent: meta.user_agent.as_deref(),
                ip: meta.ip.as_deref(),
            },
        )
    }
}

async fn prepare_session(
    state: &web::Data<AppState>,
    user_id: &str,
) -> Result<PreparedSession, AppError> {
    let now = state.clock.now();
    let settings = state.tokens.settings();
    let absolute_expires_at = now + settings.session_max_age;
    let idle_expires_at = (now + settings.refresh_idle_ttl).min(absolute_expires_at);
    let id = uuid::Uuid::new_v4().to_string();
    let refresh = state
        .tokens
        .issue_refresh(user_id, &id, now, idle_expires_at)?;
    let hashing = state.clone();
    let token = refresh.clone();
    let token_hash = state
        .hasher
        .run_token_work(move || hashing.hasher.hash_token(token.expose()))
        .await?;
    Ok(PreparedSession {
        id,
        refresh,
        token_hash,
        now,
        idle_expires_at,
        absolute_expires_at,
    })
}

fn issue(
    state: &AppState,
    user: UserSummary,
    session_id: String,
    refresh: Option<IssuedRefresh>,
) -> Result<IssuedTokens, AppError> {
    let (access_token, expires_in) =
        state
            .tokens
            .issue_access(&user.id, &session_id, &user.role, state.clock.now())?;
    Ok(IssuedTokens {
        user,
        session_id,
        access_token,
        expires_in,
        refresh,
    })
}

fn issued_refresh(prepared: &PreparedSession) -> IssuedRefresh {
    IssuedRefresh {
        token: prepared.refresh.clone(),
        max_age_seconds: seconds_until(prepared.idle_expires_at, prepared.now),
    }
}

/// Creates an account and its first device session in one transaction.
pub async fn sign_up(
    state: &web::Data<AppState>,
    email: Email,
    password: Password,
    meta: RequestMeta,
) -> Result<IssuedTokens, AppError> {
    let ip_key = meta.ip.as_deref().map(throttle::ip_key);
    let now = state.clock.now();
    if let Some(key) = ip_key.clone() {
        let counted = db::run(&state.pool, move |conn| {
            Ok(ThrottleRow::find_all(conn, &[key])?)
        })
        .await?;
        if let Some(seconds) = throttle::retry_after(&counted, &state.config.throttle, now) {
            return Err(AppError::Throttled(seconds));
        }
    }
    let password_hash = state.hasher.hash_password(&password).await?;
    let user_id = uuid::Uuid::new_v4().to_string();
    let prepared = prepare_session(state, &user_id).await?;
    let now = prepared.now;
    let user = UserSummary {
        id: user_id,
        email: email.as_str().to_owned(),
        role: ROLE_USER.to_owned(),
    };
    let (row_user, session_id) = (user.clone(), prepared.id.clone());
    let refresh = issued_refresh(&prepared);
    let created = db::run(&state.pool, move |conn| {
        conn.transaction::<_, AppError, _>(|conn| {
            UserRow::insert(
                conn,
                &NewUser {
                    id: &row_user.id,
                    email: &row_user.email,
                    password_hash: &password_hash,
                    role: ROLE_USER,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            prepared.insert(conn, &row_user.id, &meta)?;
            AuditEvent {
                kind: AuditKind::SignUp,
                user_id: Some(&row_user.id),
                session_id: Some(&prepared.id),
                detail: None,
            }
            .record(conn, &meta, now)?;
            Ok(())
        })
    })
    .await;
    if let (Err(AppError::EmailTaken), Some(key)) = (&created, ip_key) {
        // Sign-up tells whether an address is taken, so probing it counts like a failed sign-in.
        let fresh_since = now - state.config.throttle.reset_after;
        db::run(&state.pool, move |conn| {
            Ok(ThrottleRow::record_failure(conn, &key, now, fresh_since)?)
        })
        .await?;
    }
    created?;
    issue(state, user, session_id, Some(refresh))
}

/// Checks credentials and opens a new device session. Unknown email and wrong password fail the
/// same way, after the same amount of hashing.
pub async fn sign_in(
    state: &web::Data<AppState>,
    email: Email,
    password: Password,
    meta: RequestMeta,
) -> Result<IssuedTokens, AppError> {
    let keys = throttle::keys(email.as_str(), meta.ip.as_deref());
    let lookup = email.clone();
    let (user, counted) = db::run(&state.pool, move |conn| {
        Ok((
            UserRow::find_by_email(conn, lookup.as_str())?,
            ThrottleRow::find_all(conn, &keys)?,
        ))
    })
    .await?;
    let now = state.clock.now();
    // A locked-out account or address is refused before any password is checked, so the right
    // password does not slip through a lockout.
    if let Some(seconds) = throttle::retry_after(&counted, &state.config.throttle, now) {
        let user_id = user.map(|u| u.id);
        let detail = format!("email={} retry_after={seconds}s", email.as_str());
        db::run(&state.pool, move |conn| {
            AuditEvent {
                kind: AuditKind::SignInThrottled,
                user_id: user_id.as_deref(),
                session_id: None,
                detail: Some(&detail),
            }
            .record(conn, &meta, now)?;
            Ok(())
        })
        .await?;
        state.metrics.sign_in(SignInOutcome::Throttled);
        return Err(AppError::Throttled(seconds));
    }
    let matched = state
        .hasher
        .verify_password(&password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let user = match user {
        Some(user) if matched => user,
        other => {
            let user_id = other.map(|u| u.id);
            let detail = format!("email={}", email.as_str());
            let keys = throttle::keys(email.as_str(), meta.ip.as_deref());
            let fresh_since = now - state.config.throttle.reset_after;
            db::run(&state.pool, move |conn| {
                for key in &keys {
                    ThrottleRow::record_failure(conn, key, now, fresh_since)?;
                }
                AuditEvent {
                    kind: AuditKind::SignInFailure,
                    user_id: user_id.as_deref(),
                    session_id: None,
                    detail: Some(&detail),
                }
                .record(conn, &meta, now)?;
                Ok(())
            })
            .await?;
            state.metrics.sign_in(SignInOutcome::Failure);
            return Err(AppError::InvalidCredentials);
        }
    };
    if user.is_disabled() {
        let user_id = user.id.clone();
        db::run(&state.pool, move |conn| {
            AuditEvent {
                kind: AuditKind::SignInFailure,
                user_id: Some(&user_id),
                session_id: None,
                detail: Some("account disabled"),
            }
            .record(conn, &meta, now)?;
            Ok(())
        })
        .await?;
        state.metrics.sign_in(SignInOutcome::Disabled);
        return Err(AppError::Disabled);
    }
    let rehashed = if state.hasher.needs_rehash(&user.password_hash) {
        Some(state.hasher.hash_password(&password).await?)
    } else {
        None
    };
    let account_key = throttle::account_key(email.as_str());
    // Only an account with counted failures has a counter to clear.
    let clear_failures = counted.iter().any(|row| row.key == account_key);
    let prepared = prepare_session(state, &user.id).await?;
    let refresh = issued_refresh(&prepared);
    let session_id = prepared.id.clone();
    let user_id = user.id.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction::<_, AppError, _>(|conn| {
            if clear_failures {
                ThrottleRow::clear(conn, &account_key)?;
            }
            if let Some(hash) = &rehashed {
                UserRow::set_password_hash(conn, &user_id, hash, now)?;
            }
            prepared.insert(conn, &user_id, &meta)?;
            AuditEvent {
                kind: AuditKind::SignInSuccess,
                user_id: Some(&user_id),
                session_id: Some(&prepared.id),
                detail: None,
            }
            .record(conn, &meta, prepared.now)?;
            Ok(())
        })
    })
    .await?;
    state.metrics.sign_in(SignInOutcome::Success);
    issue(state, UserSummary::from(&user), session_id, Some(refresh))
}

/// Makes this instance refuse the sessions' access tokens at once.
pub fn forget_access_tokens(state: &AppState, session_ids: Vec<String>) {
    let until = state.clock.now() + state.tokens.settings().access_ttl + TimeDelta::minutes(1);
    state.revoked.insert(session_ids, until);
}

const ENDED: &str = "This session has ended. Sign in again.";

/// Which stored hash a presented refresh token matched.
enum Presented {
    /// The current token, with its successor and the successor's hash when one was asked for.
    Current(Option<(RefreshToken, String)>),
    /// The token just before the current one.
    Previous,
    /// An older token, or none of this session's.
    Stale,
}

/// Compares `token` with the session's current and previous hashes on the blocking pool; when
/// it is the current one and `successor` is given, also hashes the successor there.
async fn match_token(
    state: &web::Data<AppState>,
    token: &str,
    session: &SessionRow,
    successor: Option<RefreshToken>,
) -> Result<Presented, AppError> {
    let hashing = state.clone();
    let (presented, current, previous) = (
        token.to_owned(),
        session.token_hash.clone(),
        session.previous_token_hash.clone(),
    );
    state
        .hasher
        .run_token_work(move || {
            let hasher = &hashing.hasher;
            if hasher.verify_token(&presented, &current) {
                let next = match successor {
                    Some(next) => {
                        let hash = hasher.hash_token(next.expose())?;
                        Some((next, hash))
                    }
                    None => None,
                };
                Ok(Presented::Current(next))
            } else if previous.is_some_and(|p| hasher.verify_token(&presented, &p)) {
                Ok(Presented::Previous)
            } else {
                Ok(Presented::Stale)
            }
        })
        .await
}

/// Exchanges a refresh token for a new access token, rotating the refresh token. The previous
/// token, within the grace window, gets an access token only; any older token revokes the session.
pub async fn refresh(
    state: &web::Data<AppState>,
    token: &str,
    meta: RequestMeta,
) -> Result<IssuedTokens, AppError> {
    let invalid = |message| {
        state.metrics.refresh(RefreshOutcome::Invalid);
        AppError::InvalidRefreshToken(message)
    };
    let now = state.clock.now();
    let claims = state
        .tokens
        .verify_refresh(token, now)
        .map_err(|_| invalid("The refresh token is invalid or expired."))?;
    let sid = claims.sid.clone();
    let found = db::run(&state.pool, move |conn| {
        let Some(session) = SessionRow::find(conn, &sid)? else {
            return Ok(None);
        };
        Ok(UserRow::find(conn, &session.user_id)?.map(|user| (session, user)))
    })
    .await?;
    let Some((session, user)) = found.filter(|(s, _)| s.user_id == claims.sub) else {
        return Err(invalid(ENDED));
    };
    if session.revoked_at.is_some() || user.is_disabled() {
        return Err(invalid(ENDED));
    }
    if !session.is_live(now) {
        state.metrics.refresh(RefreshOutcome::Expired);
        revoke(
            state,
            &session,
            RevokeReason::Expired,
            AuditKind::SessionExpired,
            None,
            meta,
        )
        .await?;
        return Err(AppError::InvalidRefreshToken(ENDED));
    }

    let settings = state.tokens.settings();
    let idle_expires_at = (now + settings.refresh_idle_ttl).min(session.absolute_expires_at);
    let next = state
        .tokens
        .issue_refresh(&user.id, &session.id, now, idle_expires_at)?;
    let presented = match_token(state, token, &session, Some(next)).await?;

    let within_grace = |rotated_at: Option<NaiveDateTime>| {
        rotated_at.is_some_and(|at| now - at <= settings.refresh_grace)
    };
    match presented {
        Presented::Current(Some((next, next_hash))) => {
            let (sid, expected) = (session.id.clone(), session.token_hash.clone());
            let won = db::run(&state.pool, move |conn| {
                Ok(SessionRow::rotate(
                    conn,
                    &sid,
                    &expected,
                    Rotation {
                        new_hash: &next_hash,
                        now,
                        idle_expires_at,
                    },
                )?)
            })
            .await?;
            if won {
                state.metrics.refresh(RefreshOutcome::Rotated);
                let refresh = IssuedRefresh {
                    token: next,
                    max_age_seconds: seconds_until(idle_expires_at, now),
                };
                return issue(state, UserSummary::from(&user), session.id, Some(refresh));
            }
            // Another request rotated this token a moment ago: it is now the previous token.
            let sid = session.id.clone();
            let latest =
                db::run(&state.pool, move |conn| Ok(SessionRow::find(conn, &sid)?)).await?;
            match latest {
                Some(latest)
                    if latest.is_live(now)
                        && latest.previous_token_hash.as_deref() == Some(&session.token_hash)
                        && within_grace(latest.rotated_at) =>
                {
                    grace(state, &user, &latest, meta).await
                }
                Some(latest) if latest.revoked_at.is_none() => reuse(state, &latest, meta).await,
                _ => Err(AppError::InvalidRefreshToken(ENDED)),
            }
        }
        Presented::Previous if within_grace(session.rotated_at) => {
            grace(state, &user, &session, meta).await
        }
        Presented::Current(None) => Err(AppError::unexpected("no successor token was prepared")),
        Presented::Previous | Presented::Stale => reuse(state, &session, meta).await,
    }
}

async fn grace(
    state: &web::Data<AppState>,
    user: &UserRow,
    session: &SessionRow,
    meta: RequestMeta,
) -> Result<IssuedTokens, AppError> {
    let now = state.clock.now();
    let (sid, user_id) = (session.id.clone(), user.id.clone());
    db::run(&state.pool, move |conn| {
        SessionRow::touch(conn, &sid, now)?;
        AuditEvent {
            kind: AuditKind::RefreshGrace,
            user_id: Some(&user_id),
            session_id: Some(&sid),
            detail: None,
        }
        .record(conn, &meta, now)?;
        Ok(())
    })
    .await?;
    state.metrics.refresh(RefreshOutcome::Grace);
    issue(state, UserSummary::from(user), session.id.clone(), None)
}

async fn reuse(
    state: &web::Data<AppState>,
    session: &SessionRow,
    meta: RequestMeta,
) -> Result<IssuedTokens, AppError> {
    tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reuse: session revoked");
    state.metrics.refresh(RefreshOutcome::Reuse);
    revoke(
        state,
        session,
        RevokeReason::Reuse,
        AuditKind::RefreshReuse,
        None,
        meta,
    )
    .await?;
    Err(AppError::InvalidRefreshToken(
        "This refresh token was already used; the session has been ended for safety.",
    ))
}

/// Revokes one session and records why; `actor` is the admin when one did it.
async fn revoke(
    state: &web::Data<AppState>,
    session: &SessionRow,
    reason: RevokeReason,
    kind: AuditKind,
    actor: Option<String>,
    meta: RequestMeta,
) -> Result<bool, AppError> {
    let now = state.clock.now();
    let (sid, owner) = (session.id.clone(), session.user_id.clone());
    forget_access_tokens(state, vec![session.id.clone()]);
    db::run(&state.pool, move |conn| {
        let revoked = SessionRow::revoke(conn, &sid, None, reason, now)?;
        if revoked {
            let detail = actor.as_ref().map(|_| format!("user={owner}"));
            AuditEvent {
                kind,
                user_id: Some(actor.as_deref().unwrap_or(&owner)),
                session_id: Some(&sid),
                detail: detail.as_deref(),
            }
            .record(conn, &meta, now)?;
        }
        Ok(revoked)
    })
    .await
}

/// The live session a refresh token belongs to, if the token is its current or previous one.
/// Used by logout, where a token that no longer opens its session must not end anything.
async fn session_of_refresh_token(
    state: &web::Data<AppState>,
    token: &str,
) -> Result<Option<SessionRow>, AppError> {
    let now = state.clock.now();
    let Ok(claims) = state.tokens.verify_refresh(token, now) else {
        return Ok(None);
    };
    let sid = claims.sid.clone();
    let session = db::run(&state.pool, move |conn| Ok(SessionRow::find(conn, &sid)?)).await?;
    let Some(session) = session.filter(|s| s.user_id == claims.sub && s.revoked_at.is_none())
    else {
        return Ok(None);
    };
    let belongs = match match_token(state, token, &session, None).await? {
        Presented::Current(_) | Presented::Previous => true,
        Presented::Stale => false,
    };
    Ok(belongs.then_some(session))
}

/// Ends the device session the refresh token belongs to (browser logout).
pub async fn log_out_with_refresh_token(
    state: &web::Data<AppState>,
    token: &str,
    meta: RequestMeta,
) -> Result<(), AppError> {
    if let Some(session) = session_of_refresh_token(state, token).await? {
        revoke(
            state,
            &session,
            RevokeReason::Logout,
            AuditKind::Logout,
            None,
            meta,
        )
        .await?;
    }
    Ok(())
}

/// Ends every device session of the refresh token's user (browser "sign out everywhere").
pub async fn log_out_everywhere_with_refresh_token(
    state: &web::Data<AppState>,
    token: &str,
    meta: RequestMeta,
) -> Result<(), AppError> {
    if let Some(session) = session_of_refresh_token(state, token).await? {
        revoke_all_for_user(
            state,
            &session.user_id,
            None,
            RevokeAll::LogoutEverywhere,
            meta,
        )
        .await?;
    }
    Ok(())
}

/// Who ends a user's sessions, and why: decides the stored reason and the audit record.
#[derive(Debug, Clone)]
pub enum RevokeAll {
    /// The user signed out everywhere.
    LogoutEverywhere,
    /// The user signed out every other device (the current one is spared).
    OtherDevices,
    /// The user changed their password (the current one is spared).
    PasswordChanged,
    /// An admin ended every session of the user; holds the admin's id.
    ByAdmin(String),
}

/// Revokes all of a user's sessions, optionally sparing one; returns how many ended.
pub async fn revoke_all_for_user(
    state: &web::Data<AppState>,
    user_id: &str,
    except: Option<String>,
    why: RevokeAll,
    meta: RequestMeta,
) -> Result<usize, AppError> {
    let now = state.clock.now();
    let user_id = user_id.to_owned();
    let ended = db::run(&state.pool, move |conn| {
        conn.transaction::<_, AppError, _>(|conn| {
            let (reason, kind, actor) = match &why {
                RevokeAll::LogoutEverywhere => {
                    (RevokeReason::LogoutAll, AuditKind::LogoutAll, None)
                }
                RevokeAll::OtherDevices => {
                    (RevokeReason::RevokedByUser, AuditKind::LogoutAll, None)
                }
                RevokeAll::PasswordChanged => (
                    RevokeReason::PasswordChanged,
                    AuditKind::PasswordChanged,
                    None,
                ),
                RevokeAll::ByAdmin(admin) => (
                    RevokeReason::RevokedByAdmin,
                    AuditKind::AdminUserSessionsRevoked,
                    Some(admin.as_str()),
                ),
            };
            let ended =
                SessionRow::revoke_all_for_user(conn, &user_id, except.as_deref(), reason, now)?;
            let detail = match actor {
                Some(_) => format!("user={user_id} sessions={}", ended.len()),
                None => format!("sessions={}", ended.len()),
            };
            AuditEvent {
                kind,
                user_id: Some(actor.unwrap_or(&user_id)),
                session_id: except.as_deref(),
                detail: Some(&detail),
            }
            .record(conn, &meta, now)?;
            Ok(ended)
        })
    })
    .await?;
    let count = ended.len();
    forget_access_tokens(state, ended);
    Ok(count)
}

/// Why a password change was refused; shown to the user.
#[derive(Debug)]
pub enum PasswordChangeError {
    WrongCurrentPassword,
    Invalid(String),
    App(AppError),
}

impl From<AppError> for PasswordChangeError {
    fn from(error: AppError) -> Self {
        PasswordChangeError::App(error)
    }
}

/// Changes a password after checking the current one, then ends every other session of the user.
/// Returns how many other sessions ended.
pub async fn change_password(
    state: &web::Data<AppState>,
    user_id: &str,
    current_session: &str,
    current: Password,
    new: Password,
    meta: RequestMeta,
) -> Result<usize, PasswordChangeError> {
    let id = user_id.to_owned();
    let user = db::run(&state.pool, move |conn| Ok(UserRow::find(conn, &id)?))
        .await?
        .ok_or(AppError::Unauthorized("This account no longer exists."))?;
    if !state
        .hasher
        .verify_password(&current, Some(user.password_hash.clone()))
        .await?
    {
        return Err(PasswordChangeError::WrongCurrentPassword);
    }
    if current.expose() == new.expose() {
        return Err(PasswordChangeError::Invalid(
            "The new password must differ from the current one.".into(),
        ));
    }
    let hash = state.hasher.hash_password(&new).await?;
    let now = state.clock.now();
    let id = user.id.clone();
    db::run(&state.pool, move |conn| {
        UserRow::set_password_hash(conn, &id, &hash, now)?;
        Ok(())
    })
    .await?;
    let ended = revoke_all_for_user(
        state,
        &user.id,
        Some(current_session.to_owned()),
        RevokeAll::PasswordChanged,
        meta,
    )
    .await?;
    Ok(ended)
}

/// Ends one of the caller's own sessions; another user's session answers `NotFound`.
pub async fn revoke_own_session(
    state: &web::Data<AppState>,
    user_id: &str,
    session_id: &str,
    reason: RevokeReason,
    meta: RequestMeta,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let (user_id, sid) = (user_id.to_owned(), session_id.to_owned());
    let kind = if reason == RevokeReason::Logout {
        AuditKind::Logout
    } else {
        AuditKind::SessionRevoked
    };
    let revoked = db::run(&state.pool, move |conn| {
        let revoked = SessionRow::revoke(conn, &sid, Some(&user_id), reason, now)?;
        if revoked {
            AuditEvent {
                kind,
                user_id: Some(&user_id),
                session_id: Some(&sid),
                detail: None,
            }
            .record(conn, &meta, now)?;
        }
        Ok(revoked)
    })
    .await?;
    if revoked {
        forget_access_tokens(state, vec![session_id.to_owned()]);
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// An admin ends any user's session; audited with the admin as the actor.
pub async fn admin_revoke_session(
    state: &web::Data<AppState>,
    admin_id: &str,
    session_id: &str,
    meta: RequestMeta,
) -> Result<(), AppError> {
    let sid = session_id.to_owned();
    let session = db::run(&state.pool, move |conn| Ok(SessionRow::find(conn, &sid)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let revoked = revoke(
        state,
        &session,
        RevokeReason::RevokedByAdmin,
        AuditKind::AdminSessionRevoked,
        Some(admin_id.to_owned()),
        meta,
    )
    .await?;
    if revoked {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
