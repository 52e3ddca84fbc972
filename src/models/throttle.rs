//! `sign_in_throttles`: failed attempts per key ("account:<email>", "ip:<address>"), shared by
//! every instance through the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::sign_in_throttles;
use crate::db::AnyConnection;

/// Failures counted for one key.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = sign_in_throttles)]
pub struct ThrottleRow {
    pub key: String,
    pub failures: i64,
    pub last_failure_at: NaiveDateTime,
}

impl ThrottleRow {
    pub fn find_all(conn: &mut AnyConnection, keys: &[String]) -> QueryResult<Vec<ThrottleRow>> {
        sign_in_throttles::table
            .filter(sign_in_throttles::key.eq_any(keys))
            .select(ThrottleRow::as_select())
            .load(conn)
    }

    /// Counts one more failure. Failures older than `fresh_since` are forgotten first. Each
    /// statement is atomic, so concurrent failures on several instances all count.
    pub fn record_failure(
        conn: &mut AnyConnection,
        key: &str,
        now: NaiveDateTime,
        fresh_since: NaiveDateTime,
    ) -> QueryResult<()> {
        for _ in 0..3 {
            let counted = diesel::update(
                sign_in_throttles::table
                    .filter(sign_in_throttles::key.eq(key))
                    .filter(sign_in_throttles::last_failure_at.ge(fresh_since)),
            )
            .set((
                sign_in_throttles::failures.eq(sign_in_throttles::failures + 1),
                sign_in_throttles::last_failure_at.eq(now),
            ))
            .execute(conn)?;
            if counted > 0 {
                return Ok(());
            }
            let restarted = diesel::update(sign_in_throttles::table.find(key))
                .set((
                    sign_in_throttles::failures.eq(1),
                    sign_in_throttles::last_failure_at.eq(now),
                ))
                .execute(conn)?;
            if restarted > 0 {
                return Ok(());
            }
            match diesel::insert_into(sign_in_throttles::table)
                .values((
                    sign_in_throttles::key.eq(key),
                    sign_in_throttles::failures.eq(1),
                    sign_in_throttles::last_failure_at.eq(now),
                ))
                .execute(conn)
            {
                Ok(_) => return Ok(()),
                // Another instance inserted it a moment ago: count on top of theirs.
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => continue,
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    pub fn clear(conn: &mut AnyConnection, key: &str) -> QueryResult<usize> {
        diesel::delete(sign_in_throttles::table.find(key)).execute(conn)
    }

    /// Removes keys whose last failure is older than `before`.
    pub fn forget_before(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(
            sign_in_throttles::table.filter(sign_in_throttles::last_failure_at.lt(before)),
        )
        .execute(conn)
    }
}
