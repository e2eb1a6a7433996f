//! Released versions as the public and harvesters see them: kept forever, withdrawn ones
//! marked deleted. Every list here pages by key, never by OFFSET, so the millionth
//! record costs what the first does.

use super::versions::{VersionRow, from_row, version_columns};
use super::{Conn, DbResult};
use crate::oai::token::Cursor;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct Published {
    pub version: VersionRow,
    /// When the record last changed for harvesters (release, then withdrawal), ms.
    pub datestamp: i64,
    pub released_at: i64,
    pub deleted: bool,
}

const FROM_PUBLISHED: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", p.datestamp, p.released_at, p.deleted
     FROM published p JOIN dataset_versions v ON v.id = p.version_id
     JOIN datasets d ON d.id = v.dataset_id"
);

fn published_row(row: &sqlx::any::AnyRow) -> DbResult<Published> {
    Ok(Published {
        version: from_row(row)?,
        datestamp: row.try_get("datestamp")?,
        released_at: row.try_get("released_at")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
    })
}

/// Record a release, with the OAI-PMH sets (spec, name) the version belongs to.
pub async fn publish(
    conn: &mut Conn,
    v: &VersionRow,
    sets: &[(String, String)],
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO published (version_id, dataset_id, datestamp, released_at, deleted)
         VALUES ($1, $2, $3, $3, 0)",
    )
    .bind(v.id.as_str())
    .bind(v.dataset_id.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for (spec, name) in sets {
        sqlx::query(
            "INSERT INTO oai_sets (spec, name) VALUES ($1, $2)
             ON CONFLICT (spec) DO UPDATE SET name = excluded.name",
        )
        .bind(spec)
        .bind(name)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO published_sets (set_spec, datestamp, version_id) VALUES ($1, $2, $3)",
        )
        .bind(spec)
        .bind(now)
        .bind(v.id.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Mark a released version withdrawn; it stays listed as deleted.
pub async fn withdraw(conn: &mut Conn, version_id: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE published SET deleted = 1, datestamp = $1 WHERE version_id = $2")
        .bind(now)
        .bind(version_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE published_sets SET datestamp = $1 WHERE version_id = $2")
        .bind(now)
        .bind(version_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, version_id: &str) -> DbResult<Option<Published>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{FROM_PUBLISHED} WHERE p.version_id = $1"
    )))
    .bind(version_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(published_row).transpose()
}

/// The dataset's latest released version that is not withdrawn.
pub async fn latest_public_of_dataset(
    conn: &mut Conn,
    dataset_id: &str,
) -> DbResult<Option<Published>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{FROM_PUBLISHED} WHERE p.dataset_id = $1 AND p.deleted = 0 ORDER BY p.released_at DESC LIMIT 1"
    )))
    .bind(dataset_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(published_row).transpose()
}

/// Every released version of a dataset (withdrawn ones too), oldest first.
pub async fn of_dataset(conn: &mut Conn, dataset_id: &str) -> DbResult<Vec<Published>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{FROM_PUBLISHED} WHERE p.dataset_id = $1 ORDER BY v.version_number"
    )))
    .bind(dataset_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(published_row).collect()
}

/// One page of records changed in `[from, until]` (ms), after `cursor`, optionally in one
/// set; in datestamp order.
pub async fn changed(
    conn: &mut Conn,
    set: Option<&str>,
    from: i64,
    until: i64,
    cursor: &Cursor,
    limit: i64,
) -> DbResult<Vec<Published>> {
    // The two shapes walk different indexes: (datestamp, version_id) on published, or
    // the (set_spec, datestamp, version_id) primary key of published_sets.
    let (source, key) = match set {
        None => ("", "p"),
        Some(_) => (
            " JOIN published_sets s ON s.version_id = p.version_id AND s.set_spec = $6",
            "s",
        ),
    };
    // One lower bound only: given two, SQLite may seek by the looser one and scan
    // every earlier record, which makes deep pages slow.
    let sql = format!(
        "{FROM_PUBLISHED}{source}
         WHERE {key}.datestamp >= $1 AND {key}.datestamp <= $2
           AND ({key}.datestamp > $3 OR {key}.version_id > $4)
         ORDER BY {key}.datestamp, {key}.version_id LIMIT $5"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(from.max(cursor.datestamp))
        .bind(until)
        .bind(cursor.datestamp)
        .bind(cursor.version_id.as_str())
        .bind(limit);
    if let Some(set) = set {
        q = q.bind(set);
    }
    let rows = q.fetch_all(conn).await?;
    rows.iter().map(published_row).collect()
}

/// How many records a harvest with these arguments covers (for `completeListSize`),
/// when at most `at_most`: counting stops there, so a harvest of the whole archive costs
/// no more than one of a day. `None`: more than that.
pub async fn count_changed(
    conn: &mut Conn,
    set: Option<&str>,
    from: i64,
    until: i64,
    at_most: i64,
) -> DbResult<Option<i64>> {
    let row = match set {
        None => {
            sqlx::query(
                "SELECT COUNT(*) AS n FROM (SELECT 1 FROM published
                 WHERE datestamp >= $1 AND datestamp <= $2 LIMIT $3) AS found",
            )
            .bind(from)
            .bind(until)
            .bind(at_most + 1)
            .fetch_one(conn)
            .await?
        }
        Some(set) => {
            sqlx::query(
                "SELECT COUNT(*) AS n FROM (SELECT 1 FROM published_sets
                 WHERE set_spec = $4 AND datestamp >= $1 AND datestamp <= $2 LIMIT $3) AS found",
            )
            .bind(from)
            .bind(until)
            .bind(at_most + 1)
            .bind(set)
            .fetch_one(conn)
            .await?
        }
    };
    let n: i64 = row.try_get("n")?;
    Ok((n <= at_most).then_some(n))
}

pub async fn earliest_datestamp(conn: &mut Conn) -> DbResult<Option<i64>> {
    let row = sqlx::query("SELECT MIN(datestamp) AS d FROM published")
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("d")?)
}

/// Every set any record was ever in: (spec, name), by spec.
pub async fn sets(conn: &mut Conn) -> DbResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT spec, name FROM oai_sets ORDER BY spec")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("spec")?, r.try_get("name")?)))
        .collect()
}

pub async fn set_exists(conn: &mut Conn, spec: &str) -> DbResult<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM oai_sets WHERE spec = $1")
        .bind(spec)
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// The first and last release times of records still public, for the sitemap index.
pub async fn release_span(conn: &mut Conn) -> DbResult<Option<(i64, i64)>> {
    let row = sqlx::query(
        "SELECT MIN(released_at) AS lo, MAX(released_at) AS hi FROM published WHERE deleted = 0",
    )
    .fetch_one(conn)
    .await?;
    let lo: Option<i64> = row.try_get("lo")?;
    let hi: Option<i64> = row.try_get("hi")?;
    Ok(lo.zip(hi))
}

/// Public (not withdrawn) records released in `[from, to)` ms, by release time, at most
/// `limit`.
pub async fn released_between(
    conn: &mut Conn,
    from: i64,
    to: i64,
    limit: i64,
) -> DbResult<Vec<Published>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{FROM_PUBLISHED} WHERE p.released_at >= $1 AND p.released_at < $2 AND p.deleted = 0
         ORDER BY p.released_at, p.version_id LIMIT $3"
    )))
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(published_row).collect()
}

/// A release that went through no batch ("release now"), with who made it.
#[derive(Debug, Clone)]
pub struct DirectRelease {
    pub published: Published,
    pub released_by: Option<String>,
}

/// Releases the direct-release history looks among: the latest this many, so the query
/// costs the same however many datasets batches have released before.
pub const DIRECT_RELEASES_SCANNED: i64 = 1000;

/// The releases made outside any batch among the latest [`DIRECT_RELEASES_SCANNED`],
/// newest first, at most `limit`, each with the name of whoever made it public (the
/// latest event that did); withdrawn ones included (marked), so the history has no gaps.
pub async fn released_outside_batches(conn: &mut Conn, limit: i64) -> DbResult<Vec<DirectRelease>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        concat!(
            "SELECT ",
            version_columns!(),
            ", p.datestamp, p.released_at, p.deleted,
             (SELECT u.name FROM events e JOIN users u ON u.id = e.actor_id
               WHERE e.subject_id = p.version_id AND e.to_state = 'released'
               ORDER BY e.id DESC LIMIT 1) AS released_by
             FROM (SELECT * FROM published ORDER BY released_at DESC, version_id DESC
                   LIMIT {scanned}) p
             JOIN dataset_versions v ON v.id = p.version_id
             JOIN datasets d ON d.id = v.dataset_id
             WHERE NOT EXISTS (
               SELECT 1 FROM release_items i WHERE i.version_id = p.version_id
                 AND i.state = 'released')
             ORDER BY p.released_at DESC, p.version_id DESC LIMIT $1"
        ),
        scanned = DIRECT_RELEASES_SCANNED
    )))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DirectRelease {
                published: published_row(r)?,
                released_by: r.try_get("released_by")?,
            })
        })
        .collect()
}
