//! Reviewer links: secret, expiring, revocable read access to one version.

use super::{Conn, DbResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkRow {
    pub id: String,
    pub version_id: String,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, version_id, note, created_by, created_at, expires_at, revoked_at";

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<LinkRow> {
    Ok(<LinkRow as sqlx::FromRow<sqlx::any::AnyRow>>::from_row(r)?)
}

pub async fn insert(conn: &mut Conn, l: &LinkRow, token_hash: &str) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO reviewer_links (id, version_id, token_hash, note, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&l.id)
    .bind(&l.version_id)
    .bind(token_hash)
    .bind(&l.note)
    .bind(&l.created_by)
    .bind(l.created_at)
    .bind(l.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_token_hash(conn: &mut Conn, token_hash: &str) -> DbResult<Option<LinkRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reviewer_links WHERE token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn for_version(conn: &mut Conn, version_id: &str) -> DbResult<Vec<LinkRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reviewer_links WHERE version_id = $1 ORDER BY id"
    )))
    .bind(version_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn revoke(conn: &mut Conn, version_id: &str, id: &str, now: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE reviewer_links SET revoked_at = $1
         WHERE id = $2 AND version_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(version_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Mark the link used; true the first time.
pub async fn mark_first_use(conn: &mut Conn, id: &str, now: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE reviewer_links SET first_used_at = $1 WHERE id = $2 AND first_used_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
