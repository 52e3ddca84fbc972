//! Sessions revoked recently, remembered until their access tokens would have expired, so the
//! access-token guard refuses them without a database query per request. Revokes made here are
//! added at once; revokes made by other instances arrive by polling the database.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::AnyConnection;

/// Session ids revoked here, each kept until no access token issued for it can still be valid.
#[derive(Default)]
pub struct RevokedSessions {
    until: Mutex<HashMap<String, NaiveDateTime>>,
    /// When this instance last polled (its own clock).
    last_poll: Mutex<Option<NaiveDateTime>>,
}

/// Revokes by other instances are stamped with their clocks; each poll looks this far behind the
/// previous one so that a clock up to a minute slow elsewhere is not missed.
const OVERLAP: TimeDelta = TimeDelta::seconds(60);

impl RevokedSessions {
    /// Remembers `session_ids` as revoked until `until` (now plus the access-token lifetime).
    pub fn insert<I: IntoIterator<Item = String>>(&self, session_ids: I, until: NaiveDateTime) {
        let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        for id in session_ids {
            map.insert(id, until);
        }
    }

    /// Reads sessions revoked since the last poll (on first use: within `keep`) and remembers
    /// each until its `revoked_at + keep`. Returns how many rows were read.
    pub fn poll(
        &self,
        conn: &mut AnyConnection,
        now: NaiveDateTime,
        keep: TimeDelta,
    ) -> QueryResult<usize> {
        let since = {
            let mut last = self.last_poll.lock().unwrap_or_else(|e| e.into_inner());
            let since = last.map_or(now - keep, |at| at - OVERLAP);
            *last = Some(now);
            since
        };
        let revoked: Vec<(String, Option<NaiveDateTime>)> = sessions::table
            .filter(sessions::revoked_at.ge(since))
            .select((sessions::id, sessions::revoked_at))
            .load(conn)?;
        let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        for (id, at) in &revoked {
            if let Some(at) = at {
                map.insert(id.clone(), *at + keep);
            }
        }
        Ok(revoked.len())
    }

    /// Whether access tokens of this session must be refused; forgets entries that have lapsed.
    pub fn contains(&self, session_id: &str, now: NaiveDateTime) -> bool {
        let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 1024 {
            map.retain(|_, until| *until > now);
        }
        map.get(session_id).is_some_and(|until| *until > now)
    }
}
