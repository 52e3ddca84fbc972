//! Typed settings from flags, the environment and `.env`, validated once at start-up.

use std::fmt;
use std::path::PathBuf;

use chrono::TimeDelta;
use clap::Args;

/// Raw settings as given on the command line or in the environment; every field is optional and
/// `Config::from_args` applies the defaults, so tests and `main` share one parsing path.
#[derive(Args, Debug, Clone, Default)]
pub struct SettingsArgs {
    /// Address to serve on [default: 127.0.0.1:8080]
    #[arg(long, env = "LATCHKEY_ADDR", global = true)]
    pub addr: Option<String>,
    /// `postgres://…` for PostgreSQL; a path or `sqlite://path` for SQLite [default: <data dir>/latchkey.db]
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the SQLite database and generated keys [default: data]
    #[arg(long, env = "LATCHKEY_DATA_DIR", global = true)]
    pub data_dir: Option<String>,
    /// Signing key for access tokens (at least 32 bytes); generated under the data dir when unset
    #[arg(
        long,
        env = "LATCHKEY_ACCESS_KEY",
        global = true,
        hide_env_values = true
    )]
    pub access_key: Option<String>,
    /// Signing key for refresh tokens (at least 32 bytes, different from the access key)
    #[arg(
        long,
        env = "LATCHKEY_REFRESH_KEY",
        global = true,
        hide_env_values = true
    )]
    pub refresh_key: Option<String>,
    /// Key of the encrypted CSRF cookie (at least 64 bytes); generated under the data dir when unset
    #[arg(
        long,
        env = "LATCHKEY_SESSION_KEY",
        global = true,
        hide_env_values = true
    )]
    pub session_key: Option<String>,
    /// Public origin, e.g. https://auth.example.com; when set, only this `Origin` may refresh
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Access-token lifetime, at most 15m [default: 15m]
    #[arg(long, env = "LATCHKEY_ACCESS_TTL", global = true)]
    pub access_ttl: Option<String>,
    /// Refresh-token idle lifetime, renewed by every rotation [default: 7d]
    #[arg(long, env = "LATCHKEY_REFRESH_TTL", global = true)]
    pub refresh_ttl: Option<String>,
    /// Absolute lifetime of a device session [default: 30d]
    #[arg(long, env = "LATCHKEY_SESSION_MAX_AGE", global = true)]
    pub session_max_age: Option<String>,
    /// How long the previous refresh token still buys an access token [default: 20s]
    #[arg(long, env = "LATCHKEY_REFRESH_GRACE", global = true)]
    pub refresh_grace: Option<String>,
    /// Clock skew tolerated on token `exp`/`nbf`, 0s to 60s [default: 30s]
    #[arg(long, env = "LATCHKEY_CLOCK_LEEWAY", global = true)]
    pub clock_leeway: Option<String>,
    /// JWT `iss` claim [default: latchkey]
    #[arg(long, env = "LATCHKEY_ISSUER", global = true)]
    pub issuer: Option<String>,
    /// JWT `aud` claim [default: latchkey]
    #[arg(long, env = "LATCHKEY_AUDIENCE", global = true)]
    pub audience: Option<String>,
    /// Argon2id memory for passwords in KiB [default: 19456]
    #[arg(long, env = "LATCHKEY_PASSWORD_M_COST", global = true)]
    pub password_m_cost: Option<String>,
    /// Argon2id iterations for passwords [default: 2]
    #[arg(long, env = "LATCHKEY_PASSWORD_T_COST", global = true)]
    pub password_t_cost: Option<String>,
    /// Argon2id lanes for passwords [default: 1]
    #[arg(long, env = "LATCHKEY_PASSWORD_P_COST", global = true)]
    pub password_p_cost: Option<String>,
    /// Argon2id memory for refresh-token hashes in KiB [default: 256]
    #[arg(long, env = "LATCHKEY_TOKEN_M_COST", global = true)]
    pub token_m_cost: Option<String>,
    /// Argon2id iterations for refresh-token hashes [default: 1]
    #[arg(long, env = "LATCHKEY_TOKEN_T_COST", global = true)]
    pub token_t_cost: Option<String>,
    /// Argon2id lanes for refresh-token hashes [default: 1]
    #[arg(long, env = "LATCHKEY_TOKEN_P_COST", global = true)]
    pub token_p_cost: Option<String>,
    /// Password hashes computed at once, at most [default: number of cores]
    #[arg(long, env = "LATCHKEY_ARGON2_CONCURRENCY", global = true)]
    pub argon2_concurrency: Option<String>,
    /// Database connections in the pool [default: 10]
    #[arg(long, env = "LATCHKEY_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<String>,
    /// Fewest characters in a new password, 8 to 128 [default: 8]
    #[arg(long, env = "LATCHKEY_PASSWORD_MIN_LENGTH", global = true)]
    pub password_min_length: Option<String>,
    /// How often to learn of sessions revoked by other instances [default: 2s]
    #[arg(long, env = "LATCHKEY_REVOCATION_POLL", global = true)]
    pub revocation_poll: Option<String>,
    /// Failed sign-ins of one account before backoff starts [default: 5]
    #[arg(long, env = "LATCHKEY_THROTTLE_ACCOUNT_LIMIT", global = true)]
    pub throttle_account_limit: Option<String>,
    /// Failed sign-ins from one IP before backoff starts [default: 20]
    #[arg(long, env = "LATCHKEY_THROTTLE_IP_LIMIT", global = true)]
    pub throttle_ip_limit: Option<String>,
    /// First backoff, doubled with every further failure [default: 2s]
    #[arg(long, env = "LATCHKEY_THROTTLE_BASE_DELAY", global = true)]
    pub throttle_base_delay: Option<String>,
    /// Longest backoff [default: 15m]
    #[arg(long, env = "LATCHKEY_THROTTLE_MAX_DELAY", global = true)]
    pub throttle_max_delay: Option<String>,
    /// Failures are forgotten after this long without another [default: 15m]
    #[arg(long, env = "LATCHKEY_THROTTLE_RESET", global = true)]
    pub throttle_reset: Option<String>,
    /// Comma-separated proxy IPs whose X-Forwarded-For is believed [default: none]
    #[arg(long, env = "LATCHKEY_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// Log format: text or json (JSON lines) [default: text]
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// Longest wait for a database connection before answering 503 [default: 2s]
    #[arg(long, env = "LATCHKEY_DB_TIMEOUT", global = true)]
    pub db_timeout: Option<String>,
    /// HTTP worker threads [default: number of cores]
    #[arg(long, env = "LATCHKEY_WORKERS", global = true)]
    pub workers: Option<String>,
}

/// A setting that failed validation; the message names the setting so start-up errors are clear.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

fn invalid(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        message: message.into(),
    }
}

/// A string that never prints: keys and passwords in configuration.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where the data lives: chosen at run time by the URL, one binary for both.
#[derive(Clone)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(Secret),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(_) => f.write_str("postgres://[redacted]"),
        }
    }
}

impl DatabaseUrl {
    /// Parses `postgres://…`/`postgresql://…`, `sqlite://path` or a plain path.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(invalid("DATABASE_URL", "is empty"));
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(Secret::new(value.to_owned())));
        }
        let path = value.strip_prefix("sqlite://").unwrap_or(value);
        if path.contains("://") {
            return Err(invalid(
                "DATABASE_URL",
                "use postgres://…, sqlite://path or a file path",
            ));
        }
        if path.is_empty() || path == ":memory:" {
            return Err(invalid(
                "DATABASE_URL",
                "SQLite needs a file path (an in-memory database is not shared between connections)",
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// A description safe for logs (no password).
    pub fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

/// Lifetimes and claims of tokens and device sessions.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub access_ttl: TimeDelta,
    pub refresh_idle_ttl: TimeDelta,
    pub session_max_age: TimeDelta,
    pub refresh_grace: TimeDelta,
    /// Skew tolerated between instances' clocks when checking `exp` and `nbf`.
    pub clock_leeway: TimeDelta,
    pub issuer: String,
    pub audience: String,
}

/// Limits on failed sign-ins (SECURITY.md line 18).
#[derive(Clone, Debug)]
pub struct ThrottleSettings {
    pub account_limit: i64,
    pub ip_limit: i64,
    pub base_delay: TimeDelta,
    pub max_delay: TimeDelta,
    pub reset_after: TimeDelta,
}

/// Validated settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: String,
    pub database_url: DatabaseUrl,
    pub data_dir: PathBuf,
    pub access_key: Option<Secret>,
    pub refresh_key: Option<Secret>,
    pub session_key: Option<Secret>,
    /// Scheme, host and port only, e.g. `https://auth.example.com`.
    pub public_origin: Option<String>,
    pub tokens: TokenSettings,
    pub password_cost: HashCost,
    /// Refresh tokens carry 128 random bits, so guessing one from a leaked hash is hopeless at any
    /// cost; the hash only keeps a database leak from yielding usable tokens. The cost is therefore
    /// set for throughput (every refresh verifies one and computes one), not for brute-force
    /// resistance as the password cost is.
    pub token_cost: HashCost,
    pub argon2_concurrency: usize,
    pub db_pool_size: u32,
    pub db_timeout: TimeDelta,
    pub workers: usize,
    pub password_min_length: usize,
    pub revocation_poll: TimeDelta,
    pub throttle: ThrottleSettings,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The most an access token may live (SECURITY.md line 7).
pub const MAX_ACCESS_TTL: TimeDelta = TimeDelta::minutes(15);

impl Config {
    /// Applies defaults and validates; every error names its setting.
    pub fn from_args(args: &SettingsArgs) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let data_dir = PathBuf::from(args.data_dir.as_deref().unwrap_or("data"));
        let database_url = match &args.database_url {
            Some(url) => DatabaseUrl::parse(url)?,
            None => DatabaseUrl::Sqlite(data_dir.join("latchkey.db")),
        };
        let addr = args.addr.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
        addr.parse::<std::net::SocketAddr>()
            .map_err(|e| invalid("LATCHKEY_ADDR", format!("{addr:?} is not host:port ({e})")))?;

        let access_key = key(&args.access_key, "LATCHKEY_ACCESS_KEY")?;
        let refresh_key = key(&args.refresh_key, "LATCHKEY_REFRESH_KEY")?;
        let session_key = key(&args.session_key, "LATCHKEY_SESSION_KEY")?;
        if session_key.as_ref().is_some_and(|k| k.expose().len() < 64) {
            return Err(invalid("LATCHKEY_SESSION_KEY", "must be at least 64 bytes"));
        }
        if let (Some(a), Some(r)) = (&access_key, &refresh_key) {
            if a.expose() == r.expose() {
                return Err(invalid(
                    "LATCHKEY_REFRESH_KEY",
                    "must differ from LATCHKEY_ACCESS_KEY",
                ));
            }
        }

        let tokens = TokenSettings {
            access_ttl: duration(&args.access_ttl, "LATCHKEY_ACCESS_TTL", "15m")?,
            refresh_idle_ttl: duration(&args.refresh_ttl, "LATCHKEY_REFRESH_TTL", "7d")?,
            session_max_age: duration(&args.session_max_age, "LATCHKEY_SESSION_MAX_AGE", "30d")?,
            refresh_grace: duration(&args.refresh_grace, "LATCHKEY_REFRESH_GRACE", "20s")?,
            clock_leeway: match args.clock_leeway.as_deref().map(str::trim) {
                Some("0") | Some("0s") => TimeDelta::zero(),
                _ => duration(&args.clock_leeway, "LATCHKEY_CLOCK_LEEWAY", "30s")?,
            },
            issuer: text(&args.issuer, "LATCHKEY_ISSUER", "latchkey")?,
            audience: text(&args.audience, "LATCHKEY_AUDIENCE", "latchkey")?,
        };
        if tokens.access_ttl > MAX_ACCESS_TTL {
            return Err(invalid("LATCHKEY_ACCESS_TTL", "must be at most 15m"));
        }
        if tokens.clock_leeway > TimeDelta::seconds(60) {
            return Err(invalid("LATCHKEY_CLOCK_LEEWAY", "must be at most 60s"));
        }
        if tokens.refresh_grace > TimeDelta::minutes(5) {
            return Err(invalid("LATCHKEY_REFRESH_GRACE", "must be at most 5m"));
        }
        if tokens.refresh_idle_ttl > tokens.session_max_age {
            return Err(invalid(
                "LATCHKEY_REFRESH_TTL",
                "must not exceed LATCHKEY_SESSION_MAX_AGE",
            ));
        }

        let password_cost = HashCost {
            m_kib: number(&args.password_m_cost, "LATCHKEY_PASSWORD_M_COST", 19456)?,
            t: number(&args.password_t_cost, "LATCHKEY_PASSWORD_T_COST", 2)?,
            p: number(&args.password_p_cost, "LATCHKEY_PASSWORD_P_COST", 1)?,
        };
        check_cost(password_cost, "LATCHKEY_PASSWORD_M_COST")?;
        let token_cost = HashCost {
            m_kib: number(&args.token_m_cost, "LATCHKEY_TOKEN_M_COST", 256)?,
            t: number(&args.token_t_cost, "LATCHKEY_TOKEN_T_COST", 1)?,
            p: number(&args.token_p_cost, "LATCHKEY_TOKEN_P_COST", 1)?,
        };
        check_cost(token_cost, "LATCHKEY_TOKEN_M_COST")?;

        let password_min_length = number(
            &args.password_min_length,
            "LATCHKEY_PASSWORD_MIN_LENGTH",
            crate::domain::password::MIN_CHARS,
        )?;
        if !(crate::domain::password::MIN_CHARS..=crate::domain::password::MAX_CHARS)
            .contains(&password_min_length)
        {
            return Err(invalid(
                "LATCHKEY_PASSWORD_MIN_LENGTH",
                "must be between 8 and 128",
            ));
        }
        let throttle = ThrottleSettings {
            account_limit: number(
                &args.throttle_account_limit,
                "LATCHKEY_THROTTLE_ACCOUNT_LIMIT",
                5,
            )?,
            ip_limit: number(&args.throttle_ip_limit, "LATCHKEY_THROTTLE_IP_LIMIT", 20)?,
            base_delay: duration(
                &args.throttle_base_delay,
                "LATCHKEY_THROTTLE_BASE_DELAY",
                "2s",
            )?,
            max_delay: duration(
                &args.throttle_max_delay,
                "LATCHKEY_THROTTLE_MAX_DELAY",
                "15m",
            )?,
            reset_after: duration(&args.throttle_reset, "LATCHKEY_THROTTLE_RESET", "15m")?,
        };
        if throttle.max_delay < throttle.base_delay {
            return Err(invalid(
                "LATCHKEY_THROTTLE_MAX_DELAY",
                "must not be shorter than LATCHKEY_THROTTLE_BASE_DELAY",
            ));
        }

        Ok(Config {
            addr,
            database_url,
            data_dir,
            access_key,
            refresh_key,
            session_key,
            public_origin: origin(&args.public_url)?,
            tokens,
            password_cost,
            token_cost,
            argon2_concurrency: number(
                &args.argon2_concurrency,
                "LATCHKEY_ARGON2_CONCURRENCY",
                cores,
            )?,
            db_pool_size: number(&args.db_pool_size, "LATCHKEY_DB_POOL_SIZE", 10)?,
            db_timeout: duration(&args.db_timeout, "LATCHKEY_DB_TIMEOUT", "2s")?,
            workers: number(&args.workers, "LATCHKEY_WORKERS", cores)?,
            password_min_length,
            revocation_poll: duration(&args.revocation_poll, "LATCHKEY_REVOCATION_POLL", "2s")?,
            throttle,
            trusted_proxies: proxies(&args.trusted_proxies)?,
        })
    }
}

fn key(value: &Option<String>, name: &'static str) -> Result<Option<Secret>, ConfigError> {
    match value {
        None => Ok(None),
        Some(v) if v.len() < 32 => Err(invalid(name, "must be at least 32 bytes")),
        Some(v) => Ok(Some(Secret::new(v.clone()))),
    }
}

fn text(value: &Option<String>, name: &'static str, default: &str) -> Result<String, ConfigError> {
    let v = value.as_deref().unwrap_or(default).trim();
    if v.is_empty() {
        return Err(invalid(name, "must not be empty"));
    }
    Ok(v.to_owned())
}

fn number<T>(value: &Option<String>, name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    let n = match value {
        None => default,
        Some(v) => v
            .trim()
            .parse::<T>()
            .map_err(|_| invalid(name, format!("{v:?} is not a positive whole number")))?,
    };
    if n < T::from(1) {
        return Err(invalid(name, "must be at least 1"));
    }
    Ok(n)
}

fn check_cost(cost: HashCost, name: &'static str) -> Result<(), ConfigError> {
    argon2::Params::new(cost.m_kib, cost.t, cost.p, None)
        .map(|_| ())
        .map_err(|e| invalid(name, format!("argon2 rejects these parameters: {e}")))
}

fn duration(
    value: &Option<String>,
    name: &'static str,
    default: &str,
) -> Result<TimeDelta, ConfigError> {
    let raw = value.as_deref().unwrap_or(default);
    parse_duration(raw).ok_or_else(|| {
        invalid(
            name,
            format!("{raw:?} is not a duration like 90s, 15m, 12h or 7d"),
        )
    })
}

fn proxies(value: &Option<String>) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    value
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse().map_err(|_| {
                invalid(
                    "LATCHKEY_TRUSTED_PROXIES",
                    format!("{p:?} is not an IP address"),
                )
            })
        })
        .collect()
}

/// Parses `250ms`, `90`, `90s`, `15m`, `12h`, `7d` into a positive duration.
pub fn parse_duration(raw: &str) -> Option<TimeDelta> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: i64 = digits.parse().ok().filter(|n| *n > 0)?;
    if unit == "ms" {
        return TimeDelta::try_milliseconds(n);
    }
    let seconds = match unit {
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    TimeDelta::try_seconds(seconds)
}

fn origin(value: &Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(raw) = value else { return Ok(None) };
    let raw = raw.trim().trim_end_matches('/');
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| invalid("LATCHKEY_PUBLIC_URL", "must start with https:// or http://"))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(invalid(
            "LATCHKEY_PUBLIC_URL",
            "must be an origin like https://auth.example.com (no path)",
        ));
    }
    Ok(Some(raw.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("90"), Some(TimeDelta::seconds(90)));
        assert_eq!(parse_duration("15m"), Some(TimeDelta::minutes(15)));
        assert_eq!(parse_duration("7d"), Some(TimeDelta::days(7)));
        assert_eq!(parse_duration("250ms"), Some(TimeDelta::milliseconds(250)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("-5m"), None);
        assert_eq!(parse_duration("5 weeks"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn bad_settings_name_themselves() {
        let args = SettingsArgs {
            access_ttl: Some("1h".into()),
            ..Default::default()
        };
        let err = Config::from_args(&args).unwrap_err();
        assert_eq!(err.name, "LATCHKEY_ACCESS_TTL");

        let args = SettingsArgs {
            password_m_cost: Some("lots".into()),
            ..Default::default()
        };
        let err = Config::from_args(&args).unwrap_err();
        assert!(
            err.to_string().contains("LATCHKEY_PASSWORD_M_COST"),
            "{err}"
        );

        let args = SettingsArgs {
            clock_leeway: Some("2m".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::from_args(&args).unwrap_err().name,
            "LATCHKEY_CLOCK_LEEWAY"
        );

        for (args, name) in [
            (
                SettingsArgs {
                    password_min_length: Some("6".into()),
                    ..Default::default()
                },
                "LATCHKEY_PASSWORD_MIN_LENGTH",
            ),
            (
                SettingsArgs {
                    trusted_proxies: Some("10.0.0.1, proxy.local".into()),
                    ..Default::default()
                },
                "LATCHKEY_TRUSTED_PROXIES",
            ),
            (
                SettingsArgs {
                    session_key: Some("s".repeat(40)),
                    ..Default::default()
                },
                "LATCHKEY_SESSION_KEY",
            ),
            (
                SettingsArgs {
                    log_format: None,
                    throttle_max_delay: Some("1s".into()),
                    ..Default::default()
                },
                "LATCHKEY_THROTTLE_MAX_DELAY",
            ),
        ] {
            assert_eq!(Config::from_args(&args).unwrap_err().name, name);
        }

        let same = "k".repeat(40);
        let args = SettingsArgs {
            access_key: Some(same.clone()),
            refresh_key: Some(same),
            ..Default::default()
        };
        assert_eq!(
            Config::from_args(&args).unwrap_err().name,
            "LATCHKEY_REFRESH_KEY"
        );
    }

    #[test]
    fn database_url_picks_the_backend_from_the_scheme() {
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://data/x.db"),
            Ok(DatabaseUrl::Sqlite(p)) if p == std::path::Path::new("data/x.db")
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse(":memory:").is_err());
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::from_args(&SettingsArgs::default()).unwrap();
        assert_eq!(config.addr, "127.0.0.1:8080");
        assert_eq!(config.tokens.access_ttl, TimeDelta::minutes(15));
        assert_eq!(config.tokens.refresh_idle_ttl, TimeDelta::days(7));
        assert_eq!(config.tokens.session_max_age, TimeDelta::days(30));
        assert_eq!(config.tokens.refresh_grace, TimeDelta::seconds(20));
        assert_eq!(
            config.password_cost,
            HashCost {
                m_kib: 19456,
                t: 2,
                p: 1
            }
        );
    }
}
