//! Browser sessions and invitations. Both are found by the SHA-256 of a secret the
//! browser or the invitation link holds.

use super::users::{UserRow, user_from_row};
use super::{Conn, DbResult};
use sqlx::Row;

pub async fn insert(
    conn: &mut Conn,
    token_hash: &str,
    user_id: &str,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user of a live session and the session's CSRF token.
pub async fn find(
    conn: &mut Conn,
    token_hash: &str,
    now: i64,
) -> DbResult<Option<(UserRow, String)>> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((user_from_row(&r)?, r.try_get("csrf")?)))
        .transpose()
}

/// End every session of a person; returns how many.
pub async fn delete_of_user(conn: &mut Conn, user_id: &str) -> DbResult<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete(conn: &mut Conn, token_hash: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_expired(conn: &mut Conn, now: i64) -> DbResult<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected())
}

pub struct Invitation {
    pub email: String,
    pub role: String,
}

fn invitation_row(r: &sqlx::any::AnyRow) -> DbResult<Invitation> {
    Ok(Invitation {
        email: r.try_get("email")?,
        role: r.try_get("role")?,
    })
}

pub async fn insert_invitation(
    conn: &mut Conn,
    token_hash: &str,
    invitation: &Invitation,
    invited_by: &str,
    now: i64,
    expires_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO invitations (token_hash, email, role, invited_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(&invitation.email)
    .bind(&invitation.role)
    .bind(invited_by)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Take an unused, unexpired invitation: it can be used once.
pub async fn take_invitation(
    conn: &mut Conn,
    token_hash: &str,
    now: i64,
) -> DbResult<Option<Invitation>> {
    let row = sqlx::query(
        "UPDATE invitations SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING email, role",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(invitation_row).transpose()
}

/// The invitation behind a link, without using it (to fill in the sign-up form).
pub async fn peek_invitation(
    conn: &mut Conn,
    token_hash: &str,
    now: i64,
) -> DbResult<Option<Invitation>> {
    let row = sqlx::query(
        "SELECT email, role FROM invitations
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(invitation_row).transpose()
}
