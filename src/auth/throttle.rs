//! Exponential backoff for failed sign-ins, per account and per client IP.

use chrono::{NaiveDateTime, TimeDelta};

use crate::config::ThrottleSettings;
use crate::models::throttle::ThrottleRow;

/// The keys a sign-in attempt is counted under.
pub fn keys(email: &str, ip: Option<&str>) -> Vec<String> {
    let mut keys = vec![account_key(email)];
    if let Some(ip) = ip {
        keys.push(ip_key(ip));
    }
    keys
}

pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// How long the key is locked out at `now`, if at all: after `limit` fresh failures, the wait is
/// `base × 2^(failures − limit)`, at most `max`, counted from the last failure. Failures older
/// than `reset_after` no longer count.
pub fn lockout(
    row: &ThrottleRow,
    settings: &ThrottleSettings,
    now: NaiveDateTime,
) -> Option<TimeDelta> {
    if now - row.last_failure_at >= settings.reset_after {
        return None;
    }
    let limit = if row.key.starts_with("ip:") {
        settings.ip_limit
    } else {
        settings.account_limit
    };
    if row.failures < limit {
        return None;
    }
    let doublings = u32::try_from(row.failures - limit)
        .unwrap_or(u32::MAX)
        .min(30);
    let delay = settings
        .base_delay
        .checked_mul(1 << doublings)
        .unwrap_or(settings.max_delay)
        .min(settings.max_delay);
    let until = row.last_failure_at + delay;
    (until > now).then(|| until - now)
}

/// The longest lockout among `rows`, in whole seconds rounded up (for `Retry-After`).
pub fn retry_after(
    rows: &[ThrottleRow],
    settings: &ThrottleSettings,
    now: NaiveDateTime,
) -> Option<i64> {
    rows.iter()
        .filter_map(|row| lockout(row, settings, now))
        .max()
        .map(|wait| (wait.num_milliseconds() + 999) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ThrottleSettings {
        ThrottleSettings {
            account_limit: 3,
            ip_limit: 10,
            base_delay: TimeDelta::seconds(2),
            max_delay: TimeDelta::seconds(60),
            reset_after: TimeDelta::minutes(15),
        }
    }

    fn row(key: &str, failures: i64, at: NaiveDateTime) -> ThrottleRow {
        ThrottleRow {
            key: key.into(),
            failures,
            last_failure_at: at,
        }
    }

    #[test]
    fn backoff_starts_at_the_limit_doubles_and_is_capped() {
        let now = chrono::Utc::now().naive_utc();
        let s = settings();
        assert_eq!(lockout(&row("account:a", 2, now), &s, now), None);
        assert_eq!(
            lockout(&row("account:a", 3, now), &s, now),
            Some(TimeDelta::seconds(2))
        );
        assert_eq!(
            lockout(&row("account:a", 4, now), &s, now),
            Some(TimeDelta::seconds(4))
        );
        assert_eq!(
            lockout(&row("account:a", 5, now), &s, now),
            Some(TimeDelta::seconds(8))
        );
        assert_eq!(
            lockout(&row("account:a", 40, now), &s, now),
            Some(TimeDelta::seconds(60))
        );
        assert_eq!(
            lockout(&row("ip:1.2.3.4", 5, now), &s, now),
            None,
            "IPs have their own limit"
        );
    }

    #[test]
    fn backoff_expires() {
        let now = chrono::Utc::now().naive_utc();
        let s = settings();
        let last = now - TimeDelta::seconds(3);
        assert_eq!(
            lockout(&row("account:a", 3, last), &s, now),
            None,
            "2 s wait has passed"
        );
        let stale = now - TimeDelta::minutes(16);
        assert_eq!(
            lockout(&row("account:a", 40, stale), &s, now),
            None,
            "forgotten after reset"
        );
        assert_eq!(
            retry_after(
                &[row("account:a", 4, now - TimeDelta::milliseconds(500))],
                &s,
                now
            ),
            Some(4)
        );
    }
}
