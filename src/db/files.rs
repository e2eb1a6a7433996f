//! Stored objects, the files of a version that point at them, and the checksums the
//! depositor supplied for them.

use super::{Conn, DbResult};
use crate::model::FileStatus;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRow {
    pub id: String,
    pub version_id: String,
    pub path: String,
    pub size: i64,
    pub sha256: String,
    #[sqlx(try_from = "String")]
    pub status: FileStatus,
    pub problem: Option<String>,
    pub verified_at: Option<i64>,
}

/// Claim an object for a file about to refer to it: record it, or clear an "unreferenced"
/// mark on it. False when a garbage collector is deleting it right now (the caller waits
/// and tries again). Both databases take the same upsert.
pub async fn claim_object(conn: &mut Conn, sha256: &str, size: i64, now: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO objects (sha256, size, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (sha256) DO UPDATE SET unreferenced_since = NULL WHERE objects.deleting = 0",
    )
    .bind(sha256)
    .bind(size)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Garbage collection, step 1: note when objects became unreferenced (and forget the
/// note for objects referenced again). At most `limit` objects each way per call.
pub async fn mark_unreferenced(conn: &mut Conn, now: i64, limit: i64) -> DbResult<u64> {
    sqlx::query(
        "UPDATE objects SET unreferenced_since = NULL WHERE sha256 IN (
             SELECT o.sha256 FROM objects o WHERE o.unreferenced_since IS NOT NULL AND o.deleting = 0
               AND EXISTS (SELECT 1 FROM files f WHERE f.sha256 = o.sha256) LIMIT $1)",
    )
    .bind(limit)
    .execute(&mut *conn)
    .await?;
    let marked = sqlx::query(
        "UPDATE objects SET unreferenced_since = $1 WHERE sha256 IN (
             SELECT o.sha256 FROM objects o WHERE o.unreferenced_since IS NULL AND o.deleting = 0
               AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = o.sha256) LIMIT $2)",
    )
    .bind(now)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(marked.rows_affected())
}

/// Step 2: take objects unreferenced since before `cutoff` for deletion (and any a
/// crashed collector left half-deleted). Once taken, no upload can claim them.
pub async fn doom(conn: &mut Conn, cutoff: i64, limit: i64) -> DbResult<Vec<String>> {
    sqlx::query(
        "UPDATE objects SET deleting = 1 WHERE sha256 IN (
             SELECT o.sha256 FROM objects o WHERE o.deleting = 0 AND o.unreferenced_since < $1
               AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = o.sha256) LIMIT $2)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(&mut *conn)
    .await?;
    let rows =
        sqlx::query("SELECT sha256 FROM objects WHERE deleting = 1 ORDER BY sha256 LIMIT $1")
            .bind(limit)
            .fetch_all(conn)
            .await?;
    rows.iter().map(|r| Ok(r.try_get("sha256")?)).collect()
}

/// Step 3: the bytes are gone; forget the object.
pub async fn forget_object(conn: &mut Conn, sha256: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM objects WHERE sha256 = $1 AND deleting = 1")
        .bind(sha256)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert(conn: &mut Conn, f: &FileRow, now: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO files (id, version_id, path, size, sha256, status, problem, verified_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&f.id)
    .bind(&f.version_id)
    .bind(&f.path)
    .bind(f.size)
    .bind(&f.sha256)
    .bind(f.status.as_str())
    .bind(&f.problem)
    .bind(f.verified_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

fn from_row(row: &sqlx::any::AnyRow) -> DbResult<FileRow> {
    Ok(<FileRow as sqlx::FromRow<sqlx::any::AnyRow>>::from_row(
        row,
    )?)
}

/// One page of a version's files in path order, after `after` (keyset paging).
pub async fn list(
    conn: &mut Conn,
    version_id: &str,
    after: &str,
    limit: i64,
) -> DbResult<Vec<FileRow>> {
    let rows = sqlx::query(
        "SELECT id, version_id, path, size, sha256, status, problem, verified_at FROM files
         WHERE version_id = $1 AND path > $2 ORDER BY path LIMIT $3",
    )
    .bind(version_id)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get_by_path(
    conn: &mut Conn,
    version_id: &str,
    path: &str,
) -> DbResult<Option<FileRow>> {
    let row = sqlx::query(
        "SELECT id, version_id, path, size, sha256, status, problem, verified_at FROM files
         WHERE version_id = $1 AND path = $2",
    )
    .bind(version_id)
    .bind(path)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn delete(conn: &mut Conn, version_id: &str, path: &str) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM files WHERE version_id = $1 AND path = $2")
        .bind(version_id)
        .bind(path)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_status(
    conn: &mut Conn,
    file_id: &str,
    status: FileStatus,
    problem: Option<&str>,
    verified_at: Option<i64>,
) -> DbResult<()> {
    sqlx::query("UPDATE files SET status = $1, problem = $2, verified_at = $3 WHERE id = $4")
        .bind(status.as_str())
        .bind(problem)
        .bind(verified_at)
        .bind(file_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Count of files and their total size: `(count, bytes)`.
pub async fn totals(conn: &mut Conn, version_id: &str) -> DbResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM files WHERE version_id = $1",
    )
    .bind(version_id)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get("bytes")?))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRow {
    pub path: String,
    pub algorithm: String,
    pub digest: String,
    pub source: String,
}

pub async fn add_expected(conn: &mut Conn, version_id: &str, e: &ExpectedRow) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO expected_checksums (version_id, path, algorithm, digest, source) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(version_id)
    .bind(&e.path)
    .bind(&e.algorithm)
    .bind(&e.digest)
    .bind(&e.source)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rows per INSERT when staging a manifest (5 parameters each: well under both
/// databases' parameter limits).
pub const STAGE_ROWS_PER_STATEMENT: usize = 1000;

/// Stage manifest entries `(path, algorithm, digest)` under `staging_id`.
pub async fn stage_manifest(
    conn: &mut Conn,
    staging_id: &str,
    version_id: &str,
    entries: &[(&str, &str, &str)],
    now: i64,
) -> DbResult<()> {
    for chunk in entries.chunks(STAGE_ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO manifest_staging (staging_id, version_id, path, algorithm, digest, created_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 3;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("($1, $2, ${}, ${}, ${}, $3)", b + 4, b + 5, b + 6));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(staging_id)
            .bind(version_id)
            .bind(now);
        for (path, algorithm, digest) in chunk {
            q = q.bind(*path).bind(*algorithm).bind(*digest);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Replace a version's manifest checksums by the staged ones, and drop the staging.
pub async fn adopt_staged_manifest(
    conn: &mut Conn,
    staging_id: &str,
    version_id: &str,
) -> DbResult<()> {
    clear_expected(conn, version_id, "manifest", None).await?;
    sqlx::query(
        "INSERT INTO expected_checksums (version_id, path, algorithm, digest, source)
         SELECT version_id, path, algorithm, digest, 'manifest' FROM manifest_staging
         WHERE staging_id = $1 AND version_id = $2",
    )
    .bind(staging_id)
    .bind(version_id)
    .execute(&mut *conn)
    .await?;
    drop_staged_manifest(conn, staging_id).await
}

pub async fn drop_staged_manifest(conn: &mut Conn, staging_id: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM manifest_staging WHERE staging_id = $1")
        .bind(staging_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Staged manifests older than `before` (a crash between staging and adoption).
pub async fn drop_stale_staging(conn: &mut Conn, before: i64) -> DbResult<u64> {
    let done = sqlx::query("DELETE FROM manifest_staging WHERE created_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Forget what one source said (a new manifest replaces the old; a removed file takes
/// its upload checksum with it).
pub async fn clear_expected(
    conn: &mut Conn,
    version_id: &str,
    source: &str,
    path: Option<&str>,
) -> DbResult<()> {
    sqlx::query(
        "DELETE FROM expected_checksums WHERE version_id = $1 AND source = $2 AND ($3 IS NULL OR path = $3)",
    )
    .bind(version_id)
    .bind(source)
    .bind(path)
    .execute(conn)
    .await?;
    Ok(())
}

/// Expected checksums for paths in `(after, up_to]`, in path order, for paging
/// alongside [`list`].
pub async fn expected_between(
    conn: &mut Conn,
    version_id: &str,
    after: &str,
    up_to: Option<&str>,
) -> DbResult<Vec<ExpectedRow>> {
    let rows = sqlx::query(
        "SELECT path, algorithm, digest, source FROM expected_checksums
         WHERE version_id = $1 AND path > $2 AND ($3 IS NULL OR path <= $3) ORDER BY path, algorithm, source",
    )
    .bind(version_id)
    .bind(after)
    .bind(up_to)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ExpectedRow {
                path: r.try_get("path")?,
                algorithm: r.try_get("algorithm")?,
                digest: r.try_get("digest")?,
                source: r.try_get("source")?,
            })
        })
        .collect()
}

/// Paths the depositor gave checksums for but never uploaded (at most `limit`).
pub async fn expected_without_file(
    conn: &mut Conn,
    version_id: &str,
    limit: i64,
) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT e.path FROM expected_checksums e
         WHERE e.version_id = $1 AND NOT EXISTS
             (SELECT 1 FROM files f WHERE f.version_id = e.version_id AND f.path = e.path)
         ORDER BY e.path LIMIT $2",
    )
    .bind(version_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("path")?))
        .collect()
}

/// What the depositor said one file's checksum is, from one source and algorithm.
pub async fn expected_for(
    conn: &mut Conn,
    version_id: &str,
    path: &str,
    source: &str,
    algorithm: &str,
) -> DbResult<Option<String>> {
    let row = sqlx::query(
        "SELECT digest FROM expected_checksums
         WHERE version_id = $1 AND path = $2 AND source = $3 AND algorithm = $4",
    )
    .bind(version_id)
    .bind(path)
    .bind(source)
    .bind(algorithm)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok(r.try_get("digest")?)).transpose()
}
