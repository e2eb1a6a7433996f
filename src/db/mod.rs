//! The catalogue: one set of queries for SQLite (embedded default) and PostgreSQL
//! (production), through sqlx's `Any` driver with `$N` placeholders. Statements that
//! must differ between the two live in [`dialect`].

pub mod dialect;
pub mod dois;
pub mod events;
pub mod extractions;
pub mod files;
pub mod fixity;
pub mod holds;
pub mod identities;
pub mod inventory;
pub mod jobs;
pub mod landing;
pub mod mail;
pub mod mailed_links;
pub mod mirrors;
pub mod notifications;
pub mod notify;
pub mod published;
pub mod releases;
pub mod reviewers;
pub mod search;
pub mod sessions;
pub mod software;
pub mod uploads;
pub mod usage;
pub mod users;
pub mod versions;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// A write transaction. On SQLite it also holds this process's turn to write: writers
/// queue in arrival order instead of polling SQLite's lock, so a long run of short
/// transactions (a large manifest staged in batches) cannot starve another writer.
pub struct Tx {
    // Declared first: dropped (rolled back) before the turn is given up.
    inner: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.inner
    }
}

pub type Conn = sqlx::AnyConnection;

/// A connection for writes made one statement at a time, outside a transaction. On
/// SQLite it holds this process's turn to write, as [`Tx`] does: a single write that
/// met a transaction's lock would wait in SQLite's busy handler, which sleeps up to
/// 100 ms at a time (measured: nine sleeps per uploaded file). On PostgreSQL it is a
/// pooled connection like any other.
pub struct WriteConn {
    // Declared first: back in the pool before the turn is given up.
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl std::ops::DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL must start with sqlite:// or postgres://, got '{0}'")]
    UnsupportedUrl(String),
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored row is damaged: {0}")]
    Corrupt(String),
}

impl DbError {
    /// A unique constraint refused the row: the caller turns this into a conflict.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// A state column of `row`, parsed into its enum: the one place stored text becomes a
/// state, so a damaged row is an error here rather than a surprise in a service.
pub(crate) fn get_parsed<T>(row: &sqlx::any::AnyRow, column: &str) -> DbResult<T>
where
    T: std::str::FromStr<Err = crate::model::status::UnknownValue>,
{
    use sqlx::Row;
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e: crate::model::status::UnknownValue| DbError::Corrupt(e.to_string()))
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite: one writer at a time in this process, first come first served.
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    /// Connect and bring the schema up to date.
    pub async fn connect(url: &str) -> DbResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the one writer; the busy timeout
                            // makes writers queue instead of failing.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; \
                                 PRAGMA mmap_size = 268435456;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?
            }
        };
        let db = Self {
            pool,
            backend,
            write_turn: Default::default(),
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> DbResult<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Begin a transaction that will write. SQLite takes the write lock up front so a
    /// read-then-write transaction cannot fail half-way on a lock upgrade.
    pub async fn begin_write(&self) -> DbResult<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.clone().lock_owned().await;
                Tx {
                    inner: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }
            }
            Backend::Postgres => Tx {
                inner: self.pool.begin().await?,
                _turn: None,
            },
        })
    }

    pub async fn conn(&self) -> DbResult<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// A connection to write through without a transaction; hold it only for the
    /// writes (never across a [`Self::begin_write`]).
    pub async fn write_conn(&self) -> DbResult<WriteConn> {
        let turn = match self.backend {
            Backend::Sqlite => Some(self.write_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        Ok(WriteConn {
            conn: self.pool.acquire().await?,
            _turn: turn,
        })
    }

    /// One round trip through a pooled connection (`/readyz`).
    pub async fn ping(&self) -> DbResult<()> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch: how the catalogue stores time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
