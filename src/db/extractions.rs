//! What each stored object's header says: one row per object, queued when the object
//! first becomes a file and filled in by the extraction job.

use super::{Conn, DbResult};
use crate::model::{DataFormat, PreviewSize};
use sqlx::Row;

/// Queue an object for reading; `false` when it already was (its bytes were stored
/// before, under this or another file).
pub async fn queue(conn: &mut Conn, sha256: &str) -> DbResult<bool> {
    let done = sqlx::query("INSERT INTO extractions (sha256) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(sha256)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether an object waits to be read: `false` once read, and once the object is gone
/// (its row goes with it).
pub async fn is_waiting(conn: &mut Conn, sha256: &str) -> DbResult<bool> {
    let row = sqlx::query("SELECT extracted_at FROM extractions WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<i64>, _>("extracted_at")?.is_none(),
        None => false,
    })
}

/// What the job found: the format (none when not recognised), the facts as JSON or why
/// the header could not be read, and how many bytes it read.
pub struct Outcome<'a> {
    pub format: Option<DataFormat>,
    pub facts: Option<&'a str>,
    pub problem: Option<&'a str>,
    pub bytes_read: i64,
}

pub async fn record(conn: &mut Conn, sha256: &str, o: &Outcome<'_>, now: i64) -> DbResult<()> {
    sqlx::query(
        "UPDATE extractions SET format = $2, facts = $3, problem = $4, bytes_read = $5,
             extracted_at = $6 WHERE sha256 = $1",
    )
    .bind(sha256)
    .bind(o.format.map(DataFormat::as_str))
    .bind(o.facts)
    .bind(o.problem)
    .bind(o.bytes_read)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One file of a version with what its header said.
#[derive(Debug, Clone)]
pub struct FileExtraction {
    pub path: String,
    pub sha256: String,
    pub format: Option<DataFormat>,
    /// JSON of [`crate::extract::Facts`].
    pub facts: Option<String>,
    pub problem: Option<String>,
    pub bytes_read: i64,
    /// `false` while the job has yet to read it.
    pub done: bool,
}

/// Every file of a version with its object's extraction, by path.
pub async fn for_version(conn: &mut Conn, version_id: &str) -> DbResult<Vec<FileExtraction>> {
    let rows = sqlx::query(
        "SELECT f.path, f.sha256, e.format, e.facts, e.problem, e.bytes_read, e.extracted_at
         FROM files f LEFT JOIN extractions e ON e.sha256 = f.sha256
         WHERE f.version_id = $1 ORDER BY f.path",
    )
    .bind(version_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let format: Option<String> = r.try_get("format")?;
            Ok(FileExtraction {
                path: r.try_get("path")?,
                sha256: r.try_get("sha256")?,
                format: format
                    .map(DataFormat::try_from)
                    .transpose()
                    .map_err(|e| super::DbError::Corrupt(e.to_string()))?,
                facts: r.try_get("facts")?,
                problem: r.try_get("problem")?,
                bytes_read: r.try_get::<Option<i64>, _>("bytes_read")?.unwrap_or(0),
                done: r.try_get::<Option<i64>, _>("extracted_at")?.is_some(),
            })
        })
        .collect()
}

/// What an object was recognised as: `None` while unread or unrecognised.
pub async fn format_of(conn: &mut Conn, sha256: &str) -> DbResult<Option<DataFormat>> {
    let row = sqlx::query("SELECT format FROM extractions WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let format: Option<String> = row.try_get("format")?;
    format
        .map(DataFormat::try_from)
        .transpose()
        .map_err(|e| super::DbError::Corrupt(e.to_string()))
}

/// A picture drawn before, as PNG.
pub async fn preview(
    conn: &mut Conn,
    sha256: &str,
    size: PreviewSize,
) -> DbResult<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT png FROM previews WHERE sha256 = $1 AND size = $2")
        .bind(sha256)
        .bind(size.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("png")?),
        None => None,
    })
}

/// Keep a picture; one drawn meanwhile by another server is kept instead (the same).
pub async fn keep_preview(
    conn: &mut Conn,
    sha256: &str,
    size: PreviewSize,
    png: &[u8],
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO previews (sha256, size, png, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(sha256)
    .bind(size.as_str())
    .bind(png)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
