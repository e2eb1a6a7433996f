//! Reserved DOIs and the state the archive wants each one in.

use super::{Conn, DbResult};
use crate::model::DoiProvider;
use crate::model::doi::DoiState;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DoiRow {
    pub doi: String,
    pub version_id: String,
    #[sqlx(try_from = "String")]
    pub provider: DoiProvider,
    #[sqlx(try_from = "String")]
    pub wanted_state: DoiState,
    pub remote_state: Option<String>,
    pub synced_at: Option<i64>,
    pub last_error: Option<String>,
}

const COLUMNS: &str =
    "doi, version_id, provider, wanted_state, remote_state, synced_at, last_error";

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<DoiRow> {
    Ok(<DoiRow as sqlx::FromRow<sqlx::any::AnyRow>>::from_row(r)?)
}

/// Reserve a DOI. Fails with a unique violation if it was ever reserved before.
/// Record a DOI; `attach` also makes it the version's own DOI (a concept DOI is not).
pub async fn insert(conn: &mut Conn, row: &DoiRow, now: i64, attach: bool) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO dois (doi, version_id, provider, wanted_state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&row.doi)
    .bind(&row.version_id)
    .bind(row.provider.as_str())
    .bind(row.wanted_state.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if !attach {
        return Ok(());
    }
    sqlx::query("UPDATE dataset_versions SET doi = $1, updated_at = $2 WHERE id = $3")
        .bind(&row.doi)
        .bind(now)
        .bind(&row.version_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Reserve a DOI unless it was ever reserved before; false when it was. A savepoint keeps
/// the caller's transaction usable after the collision (PostgreSQL refuses every
/// statement after an error otherwise).
pub async fn insert_unless_taken(
    conn: &mut Conn,
    row: &DoiRow,
    now: i64,
    attach: bool,
) -> DbResult<bool> {
    sqlx::query("SAVEPOINT reserve_doi")
        .execute(&mut *conn)
        .await?;
    match insert(conn, row, now, attach).await {
        Err(e) if e.is_unique_violation() => {
            sqlx::query("ROLLBACK TO SAVEPOINT reserve_doi")
                .execute(&mut *conn)
                .await?;
            Ok(false)
        }
        Err(e) => Err(e),
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT reserve_doi")
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }
    }
}

pub async fn get(conn: &mut Conn, doi: &str) -> DbResult<Option<DoiRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM dois WHERE doi = $1"
    )))
    .bind(doi)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn set_wanted(conn: &mut Conn, doi: &str, wanted: DoiState, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE dois SET wanted_state = $1, updated_at = $2 WHERE doi = $3")
        .bind(wanted.as_str())
        .bind(now)
        .bind(doi)
        .execute(conn)
        .await?;
    Ok(())
}

/// Point a concept DOI at another version (the latest released one).
pub async fn repoint(conn: &mut Conn, doi: &str, version_id: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE dois SET version_id = $1, updated_at = $2 WHERE doi = $3")
        .bind(version_id)
        .bind(now)
        .bind(doi)
        .execute(conn)
        .await?;
    Ok(())
}

/// What DataCite showed when last read back, or why the last attempt failed.
pub async fn record_sync(
    conn: &mut Conn,
    doi: &str,
    remote_state: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE dois SET remote_state = COALESCE($1, remote_state), last_error = $2,
             synced_at = CASE WHEN $2 IS NULL THEN $3 ELSE synced_at END, updated_at = $3
         WHERE doi = $4",
    )
    .bind(remote_state)
    .bind(error)
    .bind(now)
    .bind(doi)
    .execute(conn)
    .await?;
    Ok(())
}

/// One page of DOIs of a provider, in DOI order after `after` (for reconciliation).
pub async fn page(
    conn: &mut Conn,
    provider: &str,
    after: &str,
    limit: i64,
) -> DbResult<Vec<DoiRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM dois WHERE provider = $1 AND doi > $2 ORDER BY doi LIMIT $3"
    )))
    .bind(provider)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}
