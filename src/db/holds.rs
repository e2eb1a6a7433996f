//! Holds until publication.

use super::{Conn, DbResult};
use crate::model::HoldKind;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HoldRow {
    pub id: String,
    pub version_id: String,
    #[sqlx(try_from = "String")]
    pub kind: HoldKind,
    /// YYYY-MM-DD, the article's DOI, or the PDB id.
    pub target: String,
    pub placed_by: String,
    pub placed_at: i64,
    pub lapses_at: i64,
    pub reminded_at: Option<i64>,
    pub claimed_doi: Option<String>,
    pub published_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub ended_at: Option<i64>,
}

const COLUMNS: &str = "id, version_id, kind, target, placed_by, placed_at, lapses_at, reminded_at,
    claimed_doi, published_at, last_checked_at, ended_at";

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<HoldRow> {
    Ok(<HoldRow as sqlx::FromRow<sqlx::any::AnyRow>>::from_row(r)?)
}

pub async fn insert(conn: &mut Conn, h: &HoldRow) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO holds (id, version_id, kind, target, placed_by, placed_at, lapses_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&h.id)
    .bind(&h.version_id)
    .bind(h.kind.as_str())
    .bind(&h.target)
    .bind(&h.placed_by)
    .bind(h.placed_at)
    .bind(h.lapses_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The version's open hold, if any.
pub async fn open_for(conn: &mut Conn, version_id: &str) -> DbResult<Option<HoldRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM holds WHERE version_id = $1 AND ended_at IS NULL"
    )))
    .bind(version_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Close the version's open hold (released, scheduled, or lifted).
pub async fn end(conn: &mut Conn, version_id: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE holds SET ended_at = $1 WHERE version_id = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(version_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Open holds whose publication is not yet known and that were not looked at since
/// `checked_before`, oldest check first.
pub async fn due_for_check(
    conn: &mut Conn,
    checked_before: i64,
    limit: i64,
) -> DbResult<Vec<HoldRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM holds
         WHERE ended_at IS NULL AND (last_checked_at IS NULL OR last_checked_at < $1)
         ORDER BY last_checked_at, id LIMIT $2"
    )))
    .bind(checked_before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn mark_checked(conn: &mut Conn, id: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE holds SET last_checked_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Record publication once; false if it was already recorded.
pub async fn mark_published(conn: &mut Conn, id: &str, now: i64) -> DbResult<bool> {
    let done =
        sqlx::query("UPDATE holds SET published_at = $1 WHERE id = $2 AND published_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_reminded(conn: &mut Conn, id: &str, now: i64) -> DbResult<bool> {
    let done =
        sqlx::query("UPDATE holds SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_claim(conn: &mut Conn, id: &str, doi: &str) -> DbResult<()> {
    sqlx::query("UPDATE holds SET claimed_doi = $1 WHERE id = $2")
        .bind(doi)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
