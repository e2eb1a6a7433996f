//! The catalogue's list of stored objects, read in key order a page at a time (backups
//! and `arca check`): memory stays flat at 10^8 objects.

use super::{Conn, DbResult};
use sqlx::Row;

/// Objects the catalogue holds (not those garbage collection is removing) with SHA-256
/// after `after`, in order: (sha256, size).
pub async fn objects_after(
    conn: &mut Conn,
    after: &str,
    limit: i64,
) -> DbResult<Vec<(String, u64)>> {
    let rows = sqlx::query(
        "SELECT sha256, size FROM objects WHERE sha256 > $1 AND deleting = 0
         ORDER BY sha256 LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("sha256")?, r.try_get::<i64, _>("size")? as u64)))
        .collect()
}

/// Which of `shas` the catalogue knows as objects (at most a page of them).
pub async fn known(
    conn: &mut Conn,
    shas: &[String],
) -> DbResult<std::collections::HashSet<String>> {
    if shas.is_empty() {
        return Ok(Default::default());
    }
    let marks: Vec<String> = (1..=shas.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT sha256 FROM objects WHERE sha256 IN ({})",
        marks.join(", ")
    );
    // Only placeholders are formatted in; the values are bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for s in shas {
        q = q.bind(s);
    }
    let rows = q.fetch_all(conn).await?;
    rows.iter().map(|r| Ok(r.try_get("sha256")?)).collect()
}
