//! Every migration file in either folder runs: a file added to
//! migrations/sqlite or migrations/postgres is applied by `migrate`, and
//! the two folders keep the same versions.

use crate::common;

use chatbill::store::Backend;
use sqlx::Row;
use std::collections::BTreeSet;
use std::path::Path;

fn versions_on_disk(dialect: &str) -> BTreeSet<i64> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".sql")?;
            stem.split_once('_')?.0.parse().ok()
        })
        .collect()
}

#[test]
fn both_dialects_have_the_same_migrations() {
    let sqlite = versions_on_disk("sqlite");
    let postgres = versions_on_disk("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "a migration exists for one dialect only");
}

#[tokio::test]
async fn every_migration_file_is_applied() {
    let test_db = common::fresh_db().await;
    let db = &test_db.db;
    let dialect = match db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let applied: BTreeSet<i64> = sqlx::query("select version from _sqlx_migrations where success")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>("version"))
        .collect();
    let on_disk = versions_on_disk(dialect);
    assert_eq!(
        applied, on_disk,
        "files in migrations/{dialect} that did not run"
    );
    let embedded: BTreeSet<i64> = chatbill::store::embedded_migrations(db.backend)
        .into_iter()
        .collect();
    assert_eq!(embedded, on_disk);
}
