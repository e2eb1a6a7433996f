//! The audit trail: every state change writes one row in the same transaction.

use super::{Conn, DbResult};
use crate::model::ids::new_id;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Event {
    pub subject_type: String,
    pub subject_id: String,
    pub actor_id: Option<String>,
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
}

pub async fn insert(conn: &mut Conn, e: &Event) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO events (id, subject_type, subject_id, actor_id, kind, from_state, to_state, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(&e.subject_type)
    .bind(&e.subject_id)
    .bind(&e.actor_id)
    .bind(&e.kind)
    .bind(&e.from_state)
    .bind(&e.to_state)
    .bind(&e.reason)
    .bind(e.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A subject's history, oldest first (ids sort by creation time).
/// An event with the name of who acted (None: the archive itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    #[sqlx(flatten)]
    pub event: Event,
    pub actor_name: Option<String>,
}

/// A subject's events, oldest first, each with who acted.
pub async fn history(conn: &mut Conn, subject_id: &str) -> DbResult<Vec<HistoryRow>> {
    Ok(sqlx::query_as(
        "SELECT e.subject_type, e.subject_id, e.actor_id, e.kind, e.from_state, e.to_state,
                e.reason, e.created_at, u.name AS actor_name
         FROM events e LEFT JOIN users u ON u.id = e.actor_id
         WHERE e.subject_id = $1 ORDER BY e.id",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await?)
}

pub async fn for_subject(conn: &mut Conn, subject_id: &str) -> DbResult<Vec<Event>> {
    Ok(sqlx::query_as(
        "SELECT subject_type, subject_id, actor_id, kind, from_state, to_state, reason, created_at
         FROM events WHERE subject_id = $1 ORDER BY id",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await?)
}
