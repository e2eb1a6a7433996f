use super::{Conn, DbError, DbResult};
use crate::model::Role;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
}

pub(super) fn user_from_row(row: &sqlx::any::AnyRow) -> DbResult<UserRow> {
    let role: String = row.try_get("role")?;
    Ok(UserRow {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: role.parse().map_err(|e| DbError::Corrupt(format!("{e}")))?,
    })
}

pub async fn insert(
    conn: &mut Conn,
    user: &UserRow,
    password_hash: Option<&str>,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(password_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_by_email(conn: &mut Conn, email: &str) -> DbResult<Option<UserRow>> {
    let row = sqlx::query("SELECT id, email, name, role FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// A user's password hash (PHC string), if they have a password.
pub async fn password_of(conn: &mut Conn, email: &str) -> DbResult<Option<(UserRow, String)>> {
    let row = sqlx::query(
        "SELECT id, email, name, role, password_hash FROM users
         WHERE email = $1 AND password_hash IS NOT NULL",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
        .transpose()
}

/// An API token as its owner and operators see it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert_token(
    conn: &mut Conn,
    id: &str,
    user_id: &str,
    token_hash: &str,
    name: Option<&str>,
    now: i64,
    expires_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, name, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(user_id)
    .bind(token_hash)
    .bind(name)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A person's tokens, newest first (at most `limit`).
pub async fn tokens_of(conn: &mut Conn, user_id: &str, limit: i64) -> DbResult<Vec<TokenRow>> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, expires_at, revoked_at FROM api_tokens
         WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Revoke a token; false if there is no such live token.
pub async fn revoke_token(conn: &mut Conn, id: &str, now: i64) -> DbResult<bool> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The owner of a live token: not revoked, not expired at `now`.
pub async fn find_by_token_hash(
    conn: &mut Conn,
    token_hash: &str,
    now: i64,
) -> DbResult<Option<UserRow>> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}
