//! tus uploads in progress.

use super::{Conn, DbResult};
use sqlx::{AssertSqlSafe, Row};

#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: String,
    pub version_id: String,
    pub user_id: String,
    pub path: String,
    pub length: i64,
    pub offset: i64,
    pub hash_state: Vec<u8>,
    /// The raw `Upload-Metadata` header, echoed back on HEAD as tus asks.
    pub metadata: String,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, version_id, user_id, path, length, upload_offset, hash_state, metadata, created_at, expires_at";

fn from_row(row: &sqlx::any::AnyRow) -> DbResult<UploadRow> {
    Ok(UploadRow {
        id: row.try_get("id")?,
        version_id: row.try_get("version_id")?,
        user_id: row.try_get("user_id")?,
        path: row.try_get("path")?,
        length: row.try_get("length")?,
        offset: row.try_get("upload_offset")?,
        hash_state: row.try_get("hash_state")?,
        metadata: row.try_get("metadata")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub async fn insert(conn: &mut Conn, u: &UploadRow) -> DbResult<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO uploads ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(&u.id)
    .bind(&u.version_id)
    .bind(&u.user_id)
    .bind(&u.path)
    .bind(u.length)
    .bind(u.offset)
    .bind(&u.hash_state)
    .bind(&u.metadata)
    .bind(u.created_at)
    .bind(u.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &str) -> DbResult<Option<UploadRow>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM uploads WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn exists_for_path(conn: &mut Conn, version_id: &str, path: &str) -> DbResult<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM uploads WHERE version_id = $1 AND path = $2")
        .bind(version_id)
        .bind(path)
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

pub async fn list_for_version(conn: &mut Conn, version_id: &str) -> DbResult<Vec<UploadRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM uploads WHERE version_id = $1 ORDER BY path"
    )))
    .bind(version_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Record newly acknowledged bytes, guarded on the offset they were appended at so two
/// racing PATCH requests cannot both advance it. Activity pushes the expiry back.
pub async fn advance(
    conn: &mut Conn,
    id: &str,
    from_offset: i64,
    to_offset: i64,
    hash_state: &[u8],
    expires_at: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE uploads SET upload_offset = $1, hash_state = $2, expires_at = $3
         WHERE id = $4 AND upload_offset = $5",
    )
    .bind(to_offset)
    .bind(hash_state)
    .bind(expires_at)
    .bind(id)
    .bind(from_offset)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut Conn, id: &str) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn expired(conn: &mut Conn, now: i64, limit: i64) -> DbResult<Vec<UploadRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM uploads WHERE expires_at < $1 ORDER BY expires_at LIMIT $2"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}
