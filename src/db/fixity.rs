//! The fixity audit's records: each check of a stored copy (primary or mirror) and its
//! outcome, and which copies are due, least recently checked first.

use super::{Conn, DbResult};
use crate::model::FixityOutcome;
use sqlx::Row;

/// One check of a copy at `location` (`primary` or a mirror's name).
pub async fn record_check(
    conn: &mut Conn,
    location: &str,
    sha256: &str,
    outcome: FixityOutcome,
    detail: Option<&str>,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO fixity_checks (id, location, sha256, outcome, detail, checked_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::model::ids::new_id())
    .bind(location)
    .bind(sha256)
    .bind(outcome.as_str())
    .bind(detail)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many checks at one location had one outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct FixityCount {
    /// `primary` or a mirror's name.
    pub location: String,
    #[sqlx(try_from = "String")]
    pub outcome: FixityOutcome,
    #[sqlx(rename = "n")]
    pub count: i64,
}

/// One check that found a copy missing or damaged.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FixityProblem {
    pub location: String,
    pub sha256: String,
    #[sqlx(try_from = "String")]
    pub outcome: FixityOutcome,
    pub detail: Option<String>,
    pub checked_at: i64,
}

/// Checks since `since`, counted by location and outcome.
pub async fn check_summary(conn: &mut Conn, since: i64) -> DbResult<Vec<FixityCount>> {
    Ok(sqlx::query_as(
        "SELECT location, outcome, COUNT(*) AS n FROM fixity_checks WHERE checked_at >= $1
         GROUP BY location, outcome ORDER BY location, outcome",
    )
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// Problems found since `since` (at most 1,000), oldest first.
pub async fn problems_since(conn: &mut Conn, since: i64) -> DbResult<Vec<FixityProblem>> {
    Ok(sqlx::query_as(
        "SELECT location, sha256, outcome, detail, checked_at FROM fixity_checks
         WHERE checked_at >= $1 AND outcome <> 'ok' ORDER BY checked_at, id LIMIT 1000",
    )
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// Stored objects not checked since `before`, never-checked first, then the least
/// recently checked: the fixity audit's next round.
pub async fn objects_due_for_fixity(
    conn: &mut Conn,
    before: i64,
    limit: i64,
) -> DbResult<Vec<(String, i64)>> {
    let mut rows = sqlx::query(
        "SELECT sha256, size FROM objects WHERE fixity_at IS NULL AND deleting = 0 LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    if (rows.len() as i64) < limit {
        rows.extend(
            sqlx::query(
                "SELECT sha256, size FROM objects WHERE fixity_at < $1 AND deleting = 0
                 ORDER BY fixity_at LIMIT $2",
            )
            .bind(before)
            .bind(limit - rows.len() as i64)
            .fetch_all(conn)
            .await?,
        );
    }
    rows.iter()
        .map(|r| Ok((r.try_get("sha256")?, r.try_get("size")?)))
        .collect()
}

/// The audit looked at an object now, whatever it found.
pub async fn mark_fixity(conn: &mut Conn, sha256: &str, now: i64) -> DbResult<()> {
    sqlx::query("UPDATE objects SET fixity_at = $1 WHERE sha256 = $2")
        .bind(now)
        .bind(sha256)
        .execute(conn)
        .await?;
    Ok(())
}

/// A mirror's copies not found intact since `before`, the least recently first.
pub async fn replicas_due_for_fixity(
    conn: &mut Conn,
    mirror: &str,
    before: i64,
    limit: i64,
) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT sha256 FROM replicas WHERE mirror = $1 AND verified_at < $2
         ORDER BY verified_at LIMIT $3",
    )
    .bind(mirror)
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("sha256")?)).collect()
}
