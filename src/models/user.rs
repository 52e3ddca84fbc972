//! `users`: accounts with an argon2id password hash and a role.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::users;
use crate::db::AnyConnection;
use crate::error::AppError;

pub const ROLE_USER: &str = "user";
pub const ROLE_ADMIN: &str = "admin";

/// A stored account.
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A new account, ready to insert.
#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UserRow {
    pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<UserRow>> {
        users::table
            .find(id)
            .select(UserRow::as_select())
            .first(conn)
            .optional()
    }

    /// Looks up an account by its normalised email.
    pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<UserRow>> {
        users::table
            .filter(users::email.eq(email))
            .select(UserRow::as_select())
            .first(conn)
            .optional()
    }

    /// Inserts the account; a taken email becomes `AppError::EmailTaken`.
    pub fn insert(conn: &mut AnyConnection, new: &NewUser<'_>) -> Result<(), AppError> {
        diesel::insert_into(users::table)
            .values(new)
            .execute(conn)
            .map(|_| ())
            .map_err(|e| match e {
                DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                    AppError::EmailTaken
                }
                other => other.into(),
            })
    }

    pub fn set_role(
        conn: &mut AnyConnection,
        id: &str,
        role: &str,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((users::role.eq(role), users::updated_at.eq(now)))
            .execute(conn)
    }

    pub fn set_password_hash(
        conn: &mut AnyConnection,
        id: &str,
        hash: &str,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
            .execute(conn)
    }

    /// Emails of the given user ids, as (id, email) pairs.
    pub fn emails(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
        users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::email))
            .load(conn)
    }

    /// Marks the account disabled (or enabled again with `None`).
    pub fn set_disabled(
        conn: &mut AnyConnection,
        id: &str,
        disabled_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::disabled_at.eq(disabled_at),
                users::updated_at.eq(now),
            ))
            .execute(conn)
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    pub fn is_admin(&self) -> bool {
        self.role == ROLE_ADMIN
    }
}
