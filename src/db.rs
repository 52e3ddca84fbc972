//! The connection pool over either backend, embedded migrations, and the bridge that runs
//! database work off the async workers.

pub mod connection;
pub mod schema;

use std::time::Duration;

use actix_web::web;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;
use crate::error::AppError;
pub use connection::{AnyConnection, BackendManager};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The pool every query goes through.
pub type DbPool = Pool<BackendManager>;
/// A connection checked out of the pool.
pub type DbConn = PooledConnection<BackendManager>;

/// Opens a pool and checks that one connection can be made, so a bad URL fails at start-up with
/// the backend's own message.
pub fn connect(url: &DatabaseUrl, size: u32, wait: Duration) -> Result<DbPool, String> {
    if let DatabaseUrl::Sqlite(path) = url {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
    }
    let manager = BackendManager::new(url.clone());
    // One connection first: it creates the SQLite file and switches it to WAL before the pool
    // opens the others in parallel.
    manager
        .connect()
        .map_err(|e| format!("cannot open database {}: {e}", url.describe()))?;
    Pool::builder()
        .max_size(size)
        .min_idle(Some(size.min(2)))
        .connection_timeout(wait)
        .build(manager)
        .map_err(|e| format!("cannot open database {}: {e}", url.describe()))
}

/// Applies pending migrations of the connection's backend; safe to run on every start.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, String> {
    let applied = match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| format!("migration failed: {e}"))?;
    Ok(applied.len())
}

/// Runs `work` with a pooled connection on the blocking thread pool.
pub async fn run<T, F>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        work(&mut conn)
    })
    .await
    .map_err(AppError::unexpected)?
}
