//! Mirrors, transfers to them, resumable uploads to them, and the replicas they hold.

use super::{Conn, DbError, DbResult};
use crate::model::TransferState;
use crate::storage::mirror::{Credentials, MirrorSpec, Readers};
use sqlx::Row;

fn spec(r: &sqlx::any::AnyRow) -> DbResult<MirrorSpec> {
    let creds: String = r.try_get("credentials")?;
    Ok(MirrorSpec {
        name: r.try_get("name")?,
        endpoint: r.try_get("endpoint")?,
        region: r.try_get("region")?,
        bucket: r.try_get("bucket")?,
        prefix: r.try_get("prefix")?,
        credentials: serde_json::from_str::<Credentials>(&creds)
            .map_err(|e| DbError::Corrupt(format!("mirror credentials reference: {e}")))?,
        policy: super::get_parsed(r, "policy")?,
        readers: Readers::from_stored(
            &r.try_get::<String, _>("readers")?,
            r.try_get("public_url")?,
        )
        .map_err(DbError::Corrupt)?,
    })
}

pub async fn insert_mirror(conn: &mut Conn, m: &MirrorSpec, now: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO mirrors (name, endpoint, region, bucket, prefix, credentials, policy, created_at,
             readers, public_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&m.name)
    .bind(&m.endpoint)
    .bind(&m.region)
    .bind(&m.bucket)
    .bind(&m.prefix)
    .bind(serde_json::to_string(&m.credentials).expect("plain enum"))
    .bind(m.policy.as_str())
    .bind(now)
    .bind(m.readers.stored().0)
    .bind(m.readers.stored().1)
    .execute(conn)
    .await?;
    Ok(())
}

/// Change how readers may fetch a mirror's copies; whether the mirror exists.
pub async fn set_readers(conn: &mut Conn, name: &str, readers: &Readers) -> DbResult<bool> {
    let (kind, url) = readers.stored();
    let done = sqlx::query("UPDATE mirrors SET readers = $1, public_url = $2 WHERE name = $3")
        .bind(kind)
        .bind(url)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn mirrors(conn: &mut Conn) -> DbResult<Vec<MirrorSpec>> {
    let rows = sqlx::query(
        "SELECT name, endpoint, region, bucket, prefix, credentials, policy, readers, public_url
         FROM mirrors ORDER BY name",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(spec).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TransferRow {
    pub id: String,
    pub version_id: String,
    pub mirror: String,
    #[sqlx(try_from = "String")]
    pub state: TransferState,
    pub files_total: i64,
    pub files_done: i64,
    pub bytes_total: i64,
    pub bytes_done: i64,
    pub faults: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl TransferRow {
    /// A transfer of `files` files (`bytes` in all) of a version to a mirror, not begun.
    pub fn queued(version_id: &str, mirror: &str, files: i64, bytes: i64, now: i64) -> Self {
        Self {
            id: crate::model::ids::new_id(),
            version_id: version_id.to_owned(),
            mirror: mirror.to_owned(),
            state: TransferState::Queued,
            files_total: files,
            files_done: 0,
            bytes_total: bytes,
            bytes_done: 0,
            faults: 0,
            last_error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
        }
    }
}

const TRANSFER: &str =
    "id, version_id, mirror, state, files_total, files_done, bytes_total, bytes_done,
    faults, last_error, created_at, started_at, finished_at";

fn transfer(r: &sqlx::any::AnyRow) -> DbResult<TransferRow> {
    Ok(<TransferRow as sqlx::FromRow<sqlx::any::AnyRow>>::from_row(
        r,
    )?)
}

pub async fn insert_transfer(conn: &mut Conn, t: &TransferRow) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO transfers (id, version_id, mirror, state, files_total, files_done, bytes_total,
             bytes_done, faults, created_at)
         VALUES ($1, $2, $3, 'queued', $4, 0, $5, 0, 0, $6)",
    )
    .bind(&t.id)
    .bind(&t.version_id)
    .bind(&t.mirror)
    .bind(t.files_total)
    .bind(t.bytes_total)
    .bind(t.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_transfer(conn: &mut Conn, id: &str) -> DbResult<Option<TransferRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TRANSFER} FROM transfers WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(transfer).transpose()
}

/// Transfers, newest first, older than `before`; of one version when given.
pub async fn transfers(
    conn: &mut Conn,
    version_id: Option<&str>,
    before: &str,
    limit: i64,
) -> DbResult<Vec<TransferRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TRANSFER} FROM transfers WHERE ($1 IS NULL OR version_id = $1)
           AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
    )))
    .bind(version_id)
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(transfer).collect()
}

pub async fn set_transfer_state(
    conn: &mut Conn,
    id: &str,
    state: TransferState,
    error: Option<&str>,
    now: i64,
) -> DbResult<()> {
    let (started, finished) = match state {
        TransferState::Active => (Some(now), None),
        TransferState::Succeeded | TransferState::Failed => (None, Some(now)),
        TransferState::Queued => (None, None),
    };
    sqlx::query(
        "UPDATE transfers SET state = $1, last_error = COALESCE($2, last_error),
             started_at = COALESCE(started_at, $3), finished_at = $4,
             faults = faults + CASE WHEN $2 IS NULL THEN 0 ELSE 1 END
         WHERE id = $5",
    )
    .bind(state.as_str())
    .bind(error)
    .bind(started)
    .bind(finished)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Progress back to nothing done: each run of a transfer counts afresh.
pub async fn reset_progress(conn: &mut Conn, id: &str) -> DbResult<()> {
    sqlx::query("UPDATE transfers SET files_done = 0, bytes_done = 0 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Count files and bytes done (a part as it is accepted, an object as it completes).
pub async fn add_progress(conn: &mut Conn, id: &str, files: i64, bytes: i64) -> DbResult<()> {
    sqlx::query(
        "UPDATE transfers SET files_done = files_done + $1, bytes_done = bytes_done + $2
         WHERE id = $3",
    )
    .bind(files)
    .bind(bytes)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn add_fault(conn: &mut Conn, id: &str, error: &str) -> DbResult<()> {
    sqlx::query("UPDATE transfers SET faults = faults + 1, last_error = $1 WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A multipart upload to resume: its id and part size, and the parts accepted so far.
pub async fn open_upload(
    conn: &mut Conn,
    mirror: &str,
    sha256: &str,
) -> DbResult<Option<(String, i64, Vec<(i64, String)>)>> {
    let Some(row) = sqlx::query(
        "SELECT upload_id, part_size FROM mirror_uploads WHERE mirror = $1 AND sha256 = $2",
    )
    .bind(mirror)
    .bind(sha256)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let parts = sqlx::query(
        "SELECT part_number, content_id FROM mirror_parts WHERE mirror = $1 AND sha256 = $2
         ORDER BY part_number",
    )
    .bind(mirror)
    .bind(sha256)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("part_number")?, r.try_get("content_id")?)))
    .collect::<DbResult<Vec<_>>>()?;
    Ok(Some((
        row.try_get("upload_id")?,
        row.try_get("part_size")?,
        parts,
    )))
}

pub async fn start_upload(
    conn: &mut Conn,
    mirror: &str,
    sha256: &str,
    upload_id: &str,
    part_size: i64,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO mirror_uploads (mirror, sha256, upload_id, part_size, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(mirror)
    .bind(sha256)
    .bind(upload_id)
    .bind(part_size)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record_part(
    conn: &mut Conn,
    mirror: &str,
    sha256: &str,
    part_number: i64,
    content_id: &str,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO mirror_parts (mirror, sha256, part_number, content_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(mirror)
    .bind(sha256)
    .bind(part_number)
    .bind(content_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forget a finished or abandoned upload and its parts.
pub async fn end_upload(conn: &mut Conn, mirror: &str, sha256: &str) -> DbResult<()> {
    for table in ["mirror_parts", "mirror_uploads"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE mirror = $1 AND sha256 = $2"
        )))
        .bind(mirror)
        .bind(sha256)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Record that a mirror holds a verified copy.
pub async fn record_replica(conn: &mut Conn, mirror: &str, sha256: &str, now: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO replicas (mirror, sha256, stored_at, verified_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (mirror, sha256) DO UPDATE SET verified_at = excluded.verified_at",
    )
    .bind(mirror)
    .bind(sha256)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn forget_replica(conn: &mut Conn, mirror: &str, sha256: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM replicas WHERE mirror = $1 AND sha256 = $2")
        .bind(mirror)
        .bind(sha256)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn has_replica(conn: &mut Conn, mirror: &str, sha256: &str) -> DbResult<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM replicas WHERE mirror = $1 AND sha256 = $2")
        .bind(mirror)
        .bind(sha256)
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Which of `hashes` each of `mirrors` holds a verified copy of: (mirror, sha256) pairs.
/// At most a page of hashes at a time (a manifest page: 1,000).
pub async fn replicas_among(
    conn: &mut Conn,
    mirrors: &[String],
    hashes: &[&str],
) -> DbResult<Vec<(String, String)>> {
    if mirrors.is_empty() || hashes.is_empty() {
        return Ok(Vec::new());
    }
    let marks = |from: usize, n: usize| {
        (from..from + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = format!(
        "SELECT mirror, sha256 FROM replicas WHERE mirror IN ({}) AND sha256 IN ({})",
        marks(1, mirrors.len()),
        marks(1 + mirrors.len(), hashes.len())
    );
    // Only placeholders are formatted in; every value is bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for m in mirrors {
        q = q.bind(m);
    }
    for h in hashes {
        q = q.bind(*h);
    }
    let rows = q.fetch_all(conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("mirror")?, r.try_get("sha256")?)))
        .collect()
}

/// Replicas on one mirror in key order after `after` (for the fixity audit).
pub async fn replicas_after(
    conn: &mut Conn,
    mirror: &str,
    after: &str,
    limit: i64,
) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT sha256 FROM replicas WHERE mirror = $1 AND sha256 > $2 ORDER BY sha256 LIMIT $3",
    )
    .bind(mirror)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("sha256")?)).collect()
}

/// For each mirror: when its copies of a version's files were all last verified (the
/// oldest check), if it holds every one of them.
pub async fn verified_holders(conn: &mut Conn, version_id: &str) -> DbResult<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT r.mirror AS mirror, MIN(r.verified_at) AS oldest, COUNT(*) AS n
         FROM files f JOIN replicas r ON r.sha256 = f.sha256
         WHERE f.version_id = $1 GROUP BY r.mirror ORDER BY r.mirror",
    )
    .bind(version_id)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 =
        sqlx::query("SELECT COUNT(DISTINCT sha256) AS n FROM files WHERE version_id = $1")
            .bind(version_id)
            .fetch_one(conn)
            .await?
            .try_get("n")?;
    let mut out = Vec::new();
    for r in rows {
        if r.try_get::<i64, _>("n")? >= total {
            out.push((r.try_get("mirror")?, r.try_get("oldest")?));
        }
    }
    Ok(out)
}

/// Whether another released, not withdrawn version still has these bytes.
pub async fn still_public(conn: &mut Conn, sha256: &str, except_version: &str) -> DbResult<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM files f JOIN published p ON p.version_id = f.version_id
         WHERE f.sha256 = $1 AND f.version_id <> $2 AND p.deleted = 0",
    )
    .bind(sha256)
    .bind(except_version)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Multipart uploads started before `before`: (mirror, sha256, upload id).
pub async fn stale_uploads(
    conn: &mut Conn,
    before: i64,
) -> DbResult<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT mirror, sha256, upload_id FROM mirror_uploads WHERE created_at < $1 LIMIT 100",
    )
    .bind(before)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("mirror")?,
                r.try_get("sha256")?,
                r.try_get("upload_id")?,
            ))
        })
        .collect()
}
