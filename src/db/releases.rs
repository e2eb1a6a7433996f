//! Release batches and their items.

use super::{Conn, DbResult};
use crate::model::{BatchItemState, BatchState};
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BatchRow {
    pub id: String,
    pub release_at: i64,
    pub cutoff_at: i64,
    #[sqlx(try_from = "String")]
    pub state: BatchState,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRow {
    pub batch_id: String,
    pub version_id: String,
    #[sqlx(try_from = "String")]
    pub state: BatchItemState,
    pub error: Option<String>,
    pub attempts: i64,
    pub added_at: i64,
    pub finished_at: Option<i64>,
}

const BATCH: &str = "id, release_at, cutoff_at, state, created_by, created_at, finished_at";
const ITEM: &str = "batch_id, version_id, state, error, attempts, added_at, finished_at";

fn batch(r: &sqlx::any::AnyRow) -> DbResult<BatchRow> {
    Ok(BatchRow::from_row(r)?)
}

fn item(r: &sqlx::any::AnyRow) -> DbResult<ItemRow> {
    Ok(ItemRow::from_row(r)?)
}

/// Add a batch unless one is already set for that moment. True if added.
pub async fn insert_unless_exists(conn: &mut Conn, b: &BatchRow) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO release_batches (id, release_at, cutoff_at, state, created_by, created_at)
         VALUES ($1, $2, $3, 'open', $4, $5) ON CONFLICT (release_at) DO NOTHING",
    )
    .bind(&b.id)
    .bind(b.release_at)
    .bind(b.cutoff_at)
    .bind(&b.created_by)
    .bind(b.created_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut Conn, id: &str) -> DbResult<Option<BatchRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH} FROM release_batches WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(batch).transpose()
}

/// The next open batch that still takes datasets at `now`.
pub async fn next_open(conn: &mut Conn, now: i64) -> DbResult<Option<BatchRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH} FROM release_batches WHERE state = 'open' AND cutoff_at > $1
         ORDER BY release_at LIMIT 1"
    )))
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(batch).transpose()
}

/// Batches by release time, newest first, before `before` (ms; 0 for the newest).
pub async fn page(
    conn: &mut Conn,
    state: Option<BatchState>,
    before: i64,
    limit: i64,
) -> DbResult<Vec<BatchRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH} FROM release_batches
         WHERE ($1 IS NULL OR state = $1) AND ($2 = 0 OR release_at < $2)
         ORDER BY release_at DESC LIMIT $3"
    )))
    .bind(state.map(BatchState::as_str))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(batch).collect()
}

/// Batches still to run (open or running), soonest first.
pub async fn coming(conn: &mut Conn, limit: i64) -> DbResult<Vec<BatchRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH} FROM release_batches WHERE state IN ('open', 'running')
         ORDER BY release_at LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(batch).collect()
}

/// Open batches whose time has come.
pub async fn due(conn: &mut Conn, now: i64) -> DbResult<Vec<BatchRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH} FROM release_batches WHERE state = 'open' AND release_at <= $1
         ORDER BY release_at"
    )))
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(batch).collect()
}

/// Move a batch from one state to another; false if it was not in `from`.
pub async fn set_state(
    conn: &mut Conn,
    id: &str,
    from: BatchState,
    to: BatchState,
    now: i64,
) -> DbResult<bool> {
    let finished = (to == BatchState::Done).then_some(now);
    let done = sqlx::query(
        "UPDATE release_batches SET state = $1, finished_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(to.as_str())
    .bind(finished)
    .bind(id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_item(conn: &mut Conn, batch_id: &str, version_id: &str, now: i64) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO release_items (batch_id, version_id, state, attempts, added_at)
         VALUES ($1, $2, 'pending', 0, $3)",
    )
    .bind(batch_id)
    .bind(version_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_item(conn: &mut Conn, batch_id: &str, version_id: &str) -> DbResult<bool> {
    let done = sqlx::query(
        "DELETE FROM release_items WHERE batch_id = $1 AND version_id = $2 AND state <> 'released'",
    )
    .bind(batch_id)
    .bind(version_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn items(conn: &mut Conn, batch_id: &str) -> DbResult<Vec<ItemRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ITEM} FROM release_items WHERE batch_id = $1 ORDER BY version_id"
    )))
    .bind(batch_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(item).collect()
}

/// The batch item of a version that is not released yet, if any.
pub async fn pending_item_of(conn: &mut Conn, version_id: &str) -> DbResult<Option<ItemRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ITEM} FROM release_items WHERE version_id = $1 AND state <> 'released'"
    )))
    .bind(version_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(item).transpose()
}

pub async fn finish_item(
    conn: &mut Conn,
    batch_id: &str,
    version_id: &str,
    error: Option<&str>,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE release_items SET state = $1, error = $2, attempts = attempts + 1, finished_at = $3
         WHERE batch_id = $4 AND version_id = $5",
    )
    .bind(
        if error.is_some() {
            BatchItemState::Failed
        } else {
            BatchItemState::Released
        }
        .as_str(),
    )
    .bind(error)
    .bind(now)
    .bind(batch_id)
    .bind(version_id)
    .execute(conn)
    .await?;
    Ok(())
}
