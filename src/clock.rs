//! The one source of "now" for token and session logic, movable by tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{NaiveDateTime, SubsecRound, TimeDelta, Utc};

/// Wall-clock UTC time plus an offset that only tests move, so expiry, idle timeouts and grace
/// windows are tested without sleeping. Times are truncated to microseconds because that is what
/// PostgreSQL stores; both backends then hold identical values.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    /// The real clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The current UTC time as stored in the database.
    pub fn now(&self) -> NaiveDateTime {
        let offset = TimeDelta::microseconds(self.offset_micros.load(Ordering::Relaxed));
        (Utc::now().naive_utc() + offset).trunc_subsecs(6)
    }

    /// Moves this clock (and every clone of it) forward; used by tests.
    pub fn advance(&self, by: TimeDelta) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }
}
