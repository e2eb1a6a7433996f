//! What people are told: to one person, or to every curator.

use super::{Conn, DbResult};
use crate::model::ids::new_id;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    /// None: for every curator.
    pub user_id: Option<String>,
    pub version_id: Option<String>,
    pub message: String,
    pub created_at: i64,
}

pub async fn insert(
    conn: &mut Conn,
    user_id: Option<&str>,
    version_id: Option<&str>,
    message: &str,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO notifications (id, user_id, version_id, message, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(version_id)
    .bind(message)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest notifications for a person (and, for curators, those to every curator),
/// older than `before`.
pub async fn for_user(
    conn: &mut Conn,
    user_id: &str,
    curator: bool,
    before: &str,
    limit: i64,
) -> DbResult<Vec<Notification>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, version_id, message, created_at FROM notifications
         WHERE (user_id = $1 OR ($2 = 1 AND user_id IS NULL)) AND ($3 = '' OR id < $3)
         ORDER BY id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(i64::from(curator))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}
