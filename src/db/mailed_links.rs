//! Links mailed to a person (a password reset, an address to confirm): single-use,
//! expiring, kept only as the hashes of their tokens.

use super::{Conn, DbResult};
use crate::model::LinkPurpose;

pub async fn insert(
    conn: &mut Conn,
    purpose: LinkPurpose,
    token_hash: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO mailed_links (token_hash, purpose, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Use a link: the person it is for, if it is live and unused (and now used).
pub async fn take(
    conn: &mut Conn,
    purpose: LinkPurpose,
    token_hash: &str,
    now: i64,
) -> DbResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE mailed_links SET used_at = $1
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
         RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(conn)
    .await?)
}

/// Whether a link is live and unused (to show its form), without using it.
pub async fn is_live(
    conn: &mut Conn,
    purpose: LinkPurpose,
    token_hash: &str,
    now: i64,
) -> DbResult<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM mailed_links
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// A new link for a purpose voids the person's older unused ones.
pub async fn void_older(
    conn: &mut Conn,
    purpose: LinkPurpose,
    user_id: &str,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE mailed_links SET used_at = $1
         WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
