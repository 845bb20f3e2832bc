//! Storage on SQLite (embedded default) and PostgreSQL (scale-out) through
//! one code path: sqlx's `Any` driver with SQL both engines parse.
//!
//! Schema rules that make one code path possible (see migrations/): money and
//! instants are 64-bit integers, booleans are integers, enums and JSON are
//! text, placeholders are `$N`, new ids come from `returning id`. The few
//! statements that must differ (claiming work with `for update skip
//! locked`) branch on [`Backend`] where they live.
//!
//! Multi-instance safety comes from the database: conditional updates on a
//! version column, unique keys, and row locks on PostgreSQL. Nothing here
//! relies on an in-process lock.

pub mod assignments;
pub mod audit;
pub mod books;
pub mod carriers;
pub mod cart;
pub mod catalog;
pub mod claims;
pub mod conversations;
pub mod customers;
pub mod dashboard;
pub mod idempotency;
pub mod inbox;
pub mod listing;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod pictures;
pub mod profiles;
pub mod queues;
pub mod reconcile;
pub mod seller_inbox;
pub mod send_budgets;
pub mod shops;
pub mod timers;
pub mod tokens;
pub mod undelivered;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::borrow::Cow;
use std::time::Duration;

pub type Tx = Transaction<'static, Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// Where transactions and hot writes go. On SQLite one connection: the
    /// file has one writer anyway, and waiting in this pool's FIFO queue
    /// beats SQLite's busy handler, which sleeps up to 100 ms between
    /// tries. On PostgreSQL the same pool as `pool`.
    writer: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Someone else changed the row first; the caller may retry.
    #[error("changed concurrently, try again")]
    Stale,
    #[error("{0}")]
    Conflict(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

// `SQLITE` and `POSTGRES`: (version, description, SQL) of every file in
// migrations/<dialect>/, found by build.rs.
include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Migrations are embedded, one folder per dialect with the same versions.
fn migrator(backend: Backend) -> Migrator {
    let files = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let migrations = files
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

/// The versions each dialect's build embedded, for the test that checks
/// every migration file on disk is applied.
pub fn embedded_migrations(backend: Backend) -> Vec<i64> {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
    .iter()
    .map(|m| m.0)
    .collect()
}

impl Db {
    /// Connects and, for a SQLite file, creates its folder first.
    pub async fn connect(url: &str) -> Result<Db> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let pool = match backend {
            Backend::Sqlite => {
                let (path, rest) = match url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:")
                    .split_once('?')
                {
                    Some((p, q)) => (p.to_string(), Some(q.to_string())),
                    None => (
                        url.trim_start_matches("sqlite://")
                            .trim_start_matches("sqlite:")
                            .to_string(),
                        None,
                    ),
                };
                if path == ":memory:" || query_is_memory(rest.as_deref()) {
                    return Err(StoreError::Database(sqlx::Error::Configuration(
                        "an in-memory SQLite database cannot be shared by the server's connections; give a file path, e.g. sqlite://chatbill.db".into(),
                    )));
                }
                if let Some(parent) = std::path::Path::new(&path).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        StoreError::Database(sqlx::Error::Configuration(
                            format!("cannot create {}: {e}", parent.display()).into(),
                        ))
                    })?;
                }
                let query = rest.unwrap_or_else(|| "mode=rwc".into());
                let full = format!("sqlite://{path}?{query}");
                let options = |max| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .min_connections(1)
                        .acquire_timeout(Duration::from_secs(10))
                        // A local file cannot go stale; a ping per acquire
                        // would be one more trip to the connection's thread.
                        .test_before_acquire(false)
                        .after_connect(|conn, _meta| {
                            Box::pin(async move {
                                // WAL lets readers run beside the one writer; FULL
                                // makes every acknowledged commit survive power loss.
                                conn.execute("pragma journal_mode = wal").await?;
                                conn.execute("pragma synchronous = full").await?;
                                conn.execute("pragma foreign_keys = on").await?;
                                conn.execute("pragma busy_timeout = 10000").await?;
                                Ok(())
                            })
                        })
                };
                // Readers share a pool; the one writer keeps its own
                // connection, whose page cache no other writer invalidates.
                let pool = options(8).connect(&full).await?;
                let writer = options(1).connect(&full).await?;
                return Ok(Db {
                    pool,
                    writer,
                    backend,
                });
            }
            Backend::Postgres => {
                // One direct attempt first: it fails fast with the real cause
                // (refused, unknown host, bad password) instead of a pool timeout.
                use sqlx::Connection;
                sqlx::AnyConnection::connect(url).await?.close().await?;
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?
            }
        };
        Ok(Db {
            writer: pool.clone(),
            pool,
            backend,
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// Write transactions take SQLite's write lock up front, so a read that
    /// later upgrades never fails with "database is locked".
    pub async fn begin(&self) -> Result<Tx> {
        let stmt = match self.backend {
            Backend::Sqlite => "begin immediate",
            Backend::Postgres => "begin",
        };
        Ok(self.writer.begin_with(stmt).await?)
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// `for update` on PostgreSQL; SQLite's single writer already serialises.
    pub(crate) fn lock_clause(&self) -> &'static str {
        lock_clause(self.backend)
    }

    /// What an operator should know about this kind of database.
    pub fn deployment_note(&self) -> Option<&'static str> {
        match self.backend {
            Backend::Sqlite => Some(
                "SQLite database: run exactly one chatbill process on it; use PostgreSQL to scale out",
            ),
            Backend::Postgres => None,
        }
    }

    /// The read pool, for tests and benchmarks that look at rows directly.
    /// The product itself reaches the database only through this module.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs the next statements of `tx` so they can be undone alone: the
    /// caller ends it with [`Db::savepoint_end`].
    pub async fn savepoint(tx: &mut Tx, name: &str) -> Result<()> {
        sqlx::query(&format!("savepoint {name}"))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn savepoint_end(tx: &mut Tx, name: &str, keep: bool) -> Result<()> {
        if !keep {
            sqlx::query(&format!("rollback to savepoint {name}"))
                .execute(&mut **tx)
                .await?;
        }
        sqlx::query(&format!("release savepoint {name}"))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// See [`placeholders`].
    pub(crate) fn placeholders(&self, start: usize, rows: usize, cols: usize) -> String {
        placeholders(self.backend, start, rows, cols)
    }

    pub(crate) fn skip_locked_clause(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " for update skip locked",
        }
    }
}

/// Commits a transaction opened with [`Db::begin`].
pub async fn commit(tx: Tx) -> Result<()> {
    Ok(tx.commit().await?)
}

/// `for update` on PostgreSQL; SQLite's single writer already serialises.
pub(crate) fn lock_clause(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " for update",
    }
}

/// Which database a transaction runs on.
pub fn backend_of(tx: &Tx) -> Backend {
    use std::ops::Deref;
    if tx.deref().backend_name().eq_ignore_ascii_case("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// Placeholders for `rows` rows of `cols` values, after `start` values
/// already bound: `(?,?),(?,?)` on SQLite, where values bind in the order
/// they appear (sqlx resolves each `$N` there by a linear scan, quadratic
/// over a big statement), `($3,$4),($5,$6)` on PostgreSQL. One column
/// gives a bare list for `in (...)`.
pub fn placeholders(backend: Backend, start: usize, rows: usize, cols: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(rows * (cols * 4 + 3));
    let mut n = start;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        if cols > 1 {
            sql.push('(');
        }
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${n}");
                }
            }
        }
        if cols > 1 {
            sql.push(')');
        }
    }
    sql
}

fn query_is_memory(query: Option<&str>) -> bool {
    query.is_some_and(|q| q.split('&').any(|kv| kv == "mode=memory"))
}

pub(crate) fn col<'r, T>(row: &'r sqlx::any::AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name).map_err(StoreError::Database)
}

/// Parses a stored enum, treating an unknown value as corruption.
pub(crate) fn parse_enum<T>(raw: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(raw).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {raw:?}")))
}

#[cfg(test)]
mod tests {
    /// Table name → column names, from a migration file.
    fn shape(sql: &str) -> Vec<(String, Vec<String>)> {
        let mut tables = Vec::new();
        let mut current: Option<(String, Vec<String>)> = None;
        for line in sql.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("alter table ") {
                let mut words = rest.split_whitespace();
                let table = words.next().unwrap_or("").to_string();
                let column = words.nth(2).unwrap_or("").to_string();
                tables.push((table, vec![column]));
            } else if let Some(rest) = line
                .strip_prefix("create index ")
                .or_else(|| line.strip_prefix("create unique index "))
            {
                // Indexes count too: a query plan must not differ by dialect.
                tables.push(("index".to_string(), vec![rest.to_string()]));
            } else if let Some(rest) = line.strip_prefix("create table ") {
                current = Some((rest.trim_end_matches(" (").to_string(), Vec::new()));
            } else if line.starts_with(");") {
                tables.extend(current.take());
            } else if let Some((_, cols)) = current.as_mut() {
                let first = line.split_whitespace().next().unwrap_or("");
                if !first.is_empty() && !matches!(first, "unique" | "check" | "primary" | "--") {
                    cols.push(first.to_string());
                }
            }
        }
        tables
    }

    #[tokio::test]
    async fn sqlite_writes_go_through_one_connection_of_their_own() {
        let dir = std::env::temp_dir().join(format!("chatbill-writer-{}", std::process::id()));
        let url = format!("sqlite://{}/w.db", dir.display());
        let db = super::Db::connect(&url).await.unwrap();
        assert_eq!(db.writer.options().get_max_connections(), 1);
        assert_eq!(db.pool.options().get_max_connections(), 8);
        db.pool.close().await;
        db.writer.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn an_in_memory_sqlite_url_is_refused_with_the_reason() {
        for url in ["sqlite::memory:", "sqlite://x.db?mode=memory&cache=shared"] {
            let err = super::Db::connect(url).await.unwrap_err().to_string();
            assert!(err.contains("give a file path"), "{url}: {err}");
        }
    }

    #[test]
    fn both_dialects_have_the_same_migrations_and_columns() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let list = |d: &str| {
            let mut v: Vec<String> = std::fs::read_dir(dir.join(d))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect();
            v.sort();
            v
        };
        let (lite, pg) = (list("sqlite"), list("postgres"));
        assert_eq!(lite, pg, "migration folders must list the same versions");
        for file in &lite {
            let a = std::fs::read_to_string(dir.join("sqlite").join(file)).unwrap();
            let b = std::fs::read_to_string(dir.join("postgres").join(file)).unwrap();
            assert_eq!(shape(&a), shape(&b), "{file}: tables and columns differ");
            assert!(!shape(&a).is_empty());
        }
    }
}
