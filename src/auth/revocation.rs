//! Sessions revoked on this instance, remembered until their access tokens would have expired,
//! so the access-token guard refuses them at once without a database query per request.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDateTime;

/// Session ids revoked here, each kept until no access token issued for it can still be valid.
#[derive(Default)]
pub struct RevokedSessions {
    until: Mutex<HashMap<String, NaiveDateTime>>,
}

impl RevokedSessions {
    /// Remembers `session_ids` as revoked until `until` (now plus the access-token lifetime).
    pub fn insert<I: IntoIterator<Item = String>>(&self, session_ids: I, until: NaiveDateTime) {
        let mut map = self.until.lock().unwrap_or_else(|e| e.into_inner());
        for id in session_ids {
            map.insert(id, until);
        }
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
