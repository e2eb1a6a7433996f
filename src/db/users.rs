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

pub async fn insert_token(
    conn: &mut Conn,
    id: &str,
    user_id: &str,
    token_hash: &str,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(user_id)
    .bind(token_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_by_token_hash(conn: &mut Conn, token_hash: &str) -> DbResult<Option<UserRow>> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}
