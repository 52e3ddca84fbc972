//! `sessions`: one row per signed-in device, holding only hashes of its refresh tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{sessions, users};
use crate::db::AnyConnection;

/// A device session.
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub previous_token_hash: Option<String>,
    pub rotated_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub idle_expires_at: NaiveDateTime,
    pub absolute_expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// A new device session, ready to insert.
#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub idle_expires_at: NaiveDateTime,
    pub absolute_expires_at: NaiveDateTime,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

/// Why a session ended; stored in `revoked_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeReason {
    Logout,
    LogoutAll,
    RevokedByUser,
    RevokedByAdmin,
    PasswordChanged,
    Disabled,
    Reuse,
    Expired,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::LogoutAll => "logout_all",
            RevokeReason::RevokedByUser => "revoked_by_user",
            RevokeReason::RevokedByAdmin => "revoked_by_admin",
            RevokeReason::PasswordChanged => "password_changed",
            RevokeReason::Disabled => "account_disabled",
            RevokeReason::Reuse => "refresh_token_reuse",
            RevokeReason::Expired => "expired",
        }
    }
}

/// Counts shown at the top of the admin sessions page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    pub active: i64,
    pub users: i64,
    pub started: i64,
}

type Backend = <AnyConnection as diesel::Connection>::Backend;
type ActiveWithUsers<'a> =
    diesel::dsl::IntoBoxed<'a, diesel::dsl::InnerJoin<sessions::table, users::table>, Backend>;

/// Live sessions joined to their users, optionally filtered by a substring of the email.
fn active_with_users(now: NaiveDateTime, email_search: Option<&str>) -> ActiveWithUsers<'static> {
    let mut query = sessions::table
        .inner_join(users::table)
        .into_boxed()
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::idle_expires_at.gt(now))
        .filter(sessions::absolute_expires_at.gt(now));
    if let Some(search) = email_search {
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(users::email.like(format!("%{escaped}%")).escape('\\'));
    }
    query
}

/// The new state of a session after a successful rotation.
pub struct Rotation<'a> {
    pub new_hash: &'a str,
    pub now: NaiveDateTime,
    pub idle_expires_at: NaiveDateTime,
}

impl SessionRow {
    pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<SessionRow>> {
        sessions::table
            .find(id)
            .select(SessionRow::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut AnyConnection, new: &NewSession<'_>) -> QueryResult<()> {
        diesel::insert_into(sessions::table)
            .values(new)
            .execute(conn)
            .map(|_| ())
    }

    /// Compare-and-swap: moves the current hash to `previous_token_hash` and installs the new one,
    /// only if the current hash is still `expected_hash` and the session is live. Returns whether
    /// this call won; of many concurrent rotations with one token exactly one does.
    pub fn rotate(
        conn: &mut AnyConnection,
        id: &str,
        expected_hash: &str,
        rotation: Rotation<'_>,
    ) -> QueryResult<bool> {
        let updated = diesel::update(
            sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::token_hash.eq(expected_hash))
                .filter(sessions::revoked_at.is_null()),
        )
        .set((
            sessions::previous_token_hash.eq(expected_hash),
            sessions::token_hash.eq(rotation.new_hash),
            sessions::rotated_at.eq(rotation.now),
            sessions::last_used_at.eq(rotation.now),
            sessions::idle_expires_at.eq(rotation.idle_expires_at),
        ))
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// Records activity without rotating (a grace-window refresh).
    pub fn touch(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
        diesel::update(sessions::table.find(id))
            .set(sessions::last_used_at.eq(now))
            .execute(conn)
    }

    /// Revokes one live session; with `owner`, only if it belongs to that user. Returns whether a
    /// live session was revoked.
    pub fn revoke(
        conn: &mut AnyConnection,
        id: &str,
        owner: Option<&str>,
        reason: RevokeReason,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let live = sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::revoked_at.is_null());
        let ended = (
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason.as_str()),
        );
        let updated = match owner {
            Some(owner) => diesel::update(live.filter(sessions::user_id.eq(owner)))
                .set(ended)
                .execute(conn)?,
            None => diesel::update(live).set(ended).execute(conn)?,
        };
        Ok(updated > 0)
    }

    /// Revokes every live session of a user, optionally sparing one; returns the ids it ended.
    pub fn revoke_all_for_user(
        conn: &mut AnyConnection,
        user_id: &str,
        except: Option<&str>,
        reason: RevokeReason,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<String>> {
        let mut target = sessions::table
            .filter(sessions::user_id.eq(user_id.to_owned()))
            .filter(sessions::revoked_at.is_null())
            .into_boxed();
        if let Some(except) = except {
            target = target.filter(sessions::id.ne(except.to_owned()));
        }
        let ids: Vec<String> = target.select(sessions::id).load(conn)?;
        if !ids.is_empty() {
            diesel::update(
                sessions::table
                    .filter(sessions::id.eq_any(&ids))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set((
                sessions::revoked_at.eq(now),
                sessions::revoked_reason.eq(reason.as_str()),
            ))
            .execute(conn)?;
        }
        Ok(ids)
    }

    /// The user's live sessions, most recently used first.
    pub fn active_for_user(
        conn: &mut AnyConnection,
        user_id: &str,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<SessionRow>> {
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::idle_expires_at.gt(now))
            .filter(sessions::absolute_expires_at.gt(now))
            .order(sessions::last_used_at.desc())
            .select(SessionRow::as_select())
            .load(conn)
    }

    /// Live sessions with their user's email, most recently used first; optionally only users
    /// whose email contains `email_search`.
    pub fn search_active(
        conn: &mut AnyConnection,
        now: NaiveDateTime,
        email_search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> QueryResult<Vec<(SessionRow, String)>> {
        active_with_users(now, email_search)
            .order((sessions::last_used_at.desc(), sessions::id))
            .limit(limit)
            .offset(offset)
            .select((SessionRow::as_select(), users::email))
            .load(conn)
    }

    /// How many sessions `search_active` would list in all.
    pub fn count_active(
        conn: &mut AnyConnection,
        now: NaiveDateTime,
        email_search: Option<&str>,
    ) -> QueryResult<i64> {
        active_with_users(now, email_search)
            .count()
            .get_result(conn)
    }

    /// Live sessions, users with at least one, and sessions started since `since`.
    pub fn stats(
        conn: &mut AnyConnection,
        now: NaiveDateTime,
        since: NaiveDateTime,
    ) -> QueryResult<SessionStats> {
        let active = Self::count_active(conn, now, None)?;
        let users = active_with_users(now, None)
            .select(diesel::dsl::count(sessions::user_id).aggregate_distinct())
            .get_result(conn)?;
        let started = sessions::table
            .filter(sessions::created_at.ge(since))
            .count()
            .get_result(conn)?;
        Ok(SessionStats {
            active,
            users,
            started,
        })
    }

    /// Whether the session can still be used at `now`.
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.idle_expires_at > now && self.absolute_expires_at > now
    }
}
