//! The audit trail: every state change writes one row in the same transaction.

use super::{Conn, DbResult};
use crate::model::ids::new_id;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
pub async fn for_subject(conn: &mut Conn, subject_id: &str) -> DbResult<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT subject_type, subject_id, actor_id, kind, from_state, to_state, reason, created_at
         FROM events WHERE subject_id = $1 ORDER BY id",
    )
    .bind(subject_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                subject_type: r.try_get("subject_type")?,
                subject_id: r.try_get("subject_id")?,
                actor_id: r.try_get("actor_id")?,
                kind: r.try_get("kind")?,
                from_state: r.try_get("from_state")?,
                to_state: r.try_get("to_state")?,
                reason: r.try_get("reason")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
