//! One connection type for SQLite and PostgreSQL, picked from the URL scheme.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::ManageConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

use crate::config::DatabaseUrl;

/// Either backend behind one type, so queries are written once.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// An r2d2 manager that connects to the backend the URL names and reports that backend's own
/// error (the derived `establish` tries both and hides the cause).
#[derive(Debug)]
pub struct BackendManager {
    url: DatabaseUrl,
}

impl BackendManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

/// Settings every SQLite connection needs: WAL so readers never block the writer, a busy timeout
/// so concurrent writers wait instead of failing, and enforced foreign keys.
/// `busy_timeout` comes first so that the WAL switch itself waits for other connections.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

impl ManageConnection for BackendManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url.expose())
                .map(AnyConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    diesel::r2d2::Error::ConnectionError(ConnectionError::InvalidConnectionUrl(
                        "the SQLite path is not valid UTF-8".into(),
                    ))
                })?;
                let mut conn = SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        // A connection returned mid-panic may be inside a transaction; checkout tests the rest.
        std::thread::panicking()
    }
}
