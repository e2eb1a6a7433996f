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
    /// Where the bytes are staged when they are not in a local file.
    pub staged: Option<MultipartStaging>,
    /// The object holding the bytes after the last whole part (S3 staging only).
    pub tail_key: Option<String>,
}

/// An upload staged in the object store as a multipart upload: every part but the last
/// is `part_size` bytes, so the offset says how many parts there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartStaging {
    pub key: String,
    pub multipart_id: String,
    pub part_size: i64,
}

const COLUMNS: &str = "id, version_id, user_id, path, length, upload_offset, hash_state, metadata, created_at, expires_at, staged_key, multipart_id, part_size, tail_key";

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
        staged: match (
            row.try_get::<Option<String>, _>("staged_key")?,
            row.try_get::<Option<String>, _>("multipart_id")?,
        ) {
            (Some(key), Some(multipart_id)) => Some(MultipartStaging {
                key,
                multipart_id,
                part_size: row.try_get("part_size")?,
            }),
            _ => None,
        },
        tail_key: row.try_get("tail_key")?,
    })
}

pub async fn insert(conn: &mut Conn, u: &UploadRow) -> DbResult<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO uploads ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
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
    .bind(u.staged.as_ref().map(|s| s.key.clone()))
    .bind(u.staged.as_ref().map(|s| s.multipart_id.clone()))
    .bind(u.staged.as_ref().map_or(0, |s| s.part_size))
    .bind(&u.tail_key)
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

/// Take the upload for one writer until `until`, unless another writer holds it.
/// Servers share nothing but the catalogue: this is what keeps two of them from
/// writing the same upload at once.
pub async fn take_lease(
    conn: &mut Conn,
    id: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE uploads SET lease_owner = $1, lease_until = $2
         WHERE id = $3 AND (lease_until IS NULL OR lease_until < $4 OR lease_owner = $1)",
    )
    .bind(owner)
    .bind(until)
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keep a lease; false when it lapsed and another writer took the upload.
pub async fn renew_lease(conn: &mut Conn, id: &str, owner: &str, until: i64) -> DbResult<bool> {
    let done =
        sqlx::query("UPDATE uploads SET lease_until = $1 WHERE id = $2 AND lease_owner = $3")
            .bind(until)
            .bind(id)
            .bind(owner)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn release_lease(conn: &mut Conn, id: &str, owner: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE uploads SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .execute(conn)
    .await?;
    Ok(())
}

/// Newly acknowledged bytes: the offset, the hash state that matches it and, on S3,
/// the tail object holding the bytes after the last whole part.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub from: i64,
    pub to: i64,
    pub hash_state: &'a [u8],
    pub tail_key: Option<&'a str>,
}

/// Record newly acknowledged bytes, guarded on the offset they were appended at and on
/// the writer's lease, so two racing writers cannot both advance it. Activity pushes
/// the expiry back.
pub async fn advance(
    conn: &mut Conn,
    id: &str,
    owner: &str,
    p: Progress<'_>,
    expires_at: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE uploads SET upload_offset = $1, hash_state = $2, expires_at = $3, tail_key = $4
         WHERE id = $5 AND upload_offset = $6 AND lease_owner = $7",
    )
    .bind(p.to)
    .bind(p.hash_state)
    .bind(expires_at)
    .bind(p.tail_key)
    .bind(id)
    .bind(p.from)
    .bind(owner)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A whole part of a multipart-staged upload, recorded with the offset it brings.
pub async fn add_part(conn: &mut Conn, id: &str, number: i64, etag: &str) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO upload_parts (upload_id, part_number, etag) VALUES ($1, $2, $3)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET etag = excluded.etag",
    )
    .bind(id)
    .bind(number)
    .bind(etag)
    .execute(conn)
    .await?;
    Ok(())
}

/// The ETags of the first `count` parts, in order.
pub async fn parts(conn: &mut Conn, id: &str, count: i64) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT etag FROM upload_parts WHERE upload_id = $1 AND part_number < $2 ORDER BY part_number",
    )
    .bind(id)
    .bind(count)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get("etag").map_err(Into::into))
        .collect()
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
