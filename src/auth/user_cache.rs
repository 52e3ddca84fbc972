//! A short-lived in-process cache of account summaries, so `GET /api/me` needs no database query.
//! Safe because an email never changes, a role change shows in the next access token anyway, and
//! a disabled account's sessions are refused by the revocation set before the cache is asked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::sessions::UserSummary;

/// How long a summary is trusted.
const TTL: Duration = Duration::from_secs(30);
/// Entries kept at most; the cache is emptied when it would grow past this.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct UserCache {
    entries: Mutex<HashMap<String, (UserSummary, Instant)>>,
}

impl UserCache {
    pub fn get(&self, user_id: &str) -> Option<UserSummary> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(user_id)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(user, _)| user.clone())
    }

    pub fn put(&self, user: UserSummary) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(user.id.clone(), (user, Instant::now()));
    }
}
