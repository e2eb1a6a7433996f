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
        "INSERT INTO users (id, email, name, role, password_hash, created_at, email_verified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
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

/// A user's password hash (PHC string), if they have a password, and whether the
/// account is disabled.
pub async fn password_of(
    conn: &mut Conn,
    email: &str,
) -> DbResult<Option<(UserRow, String, bool)>> {
    let row = sqlx::query(
        "SELECT id, email, name, role, password_hash, disabled_at FROM users
         WHERE email = $1 AND password_hash IS NOT NULL",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let disabled: Option<i64> = r.try_get("disabled_at")?;
        Ok((
            user_from_row(&r)?,
            r.try_get("password_hash")?,
            disabled.is_some(),
        ))
    })
    .transpose()
}

/// A person as an operator sees them.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub user: UserRow,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub has_password: bool,
}

/// The columns of an [`AccountRow`] (a macro: SQL stays a literal).
macro_rules! account_columns {
    () => {
        "id, email, name, role, created_at, disabled_at,
         CAST(CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_password"
    };
}

fn account_from_row(r: &sqlx::any::AnyRow) -> DbResult<AccountRow> {
    let has_password: i64 = r.try_get("has_password")?;
    Ok(AccountRow {
        user: user_from_row(r)?,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
        has_password: has_password == 1,
    })
}

/// People by e-mail address after `after` (at most `limit`), of one role or all.
pub async fn accounts(
    conn: &mut Conn,
    role: Option<Role>,
    after: &str,
    limit: i64,
) -> DbResult<Vec<AccountRow>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM users WHERE email > $1 AND ($2 = '' OR role = $2) ORDER BY email LIMIT $3"
    ))
    .bind(after)
    .bind(role.map_or("", |r| r.as_str()))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(account_from_row).collect()
}

pub async fn account(conn: &mut Conn, email: &str) -> DbResult<Option<AccountRow>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM users WHERE email = $1"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(account_from_row).transpose()
}

/// Disable a person from `now`; false if they were disabled already.
pub async fn disable(conn: &mut Conn, id: &str, now: i64) -> DbResult<bool> {
    let done =
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Enable a disabled person; false if they were enabled already.
pub async fn enable(conn: &mut Conn, id: &str) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_role(conn: &mut Conn, id: &str, role: Role) -> DbResult<()> {
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Admins who can still sign in.
pub async fn enabled_admins(conn: &mut Conn) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL",
    )
    .fetch_one(conn)
    .await?)
}

/// Revoke every live token of a person; returns how many.
pub async fn revoke_tokens_of(conn: &mut Conn, user_id: &str, now: i64) -> DbResult<u64> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
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

/// Revoke one of `user_id`'s own tokens; false if they have no such live token.
pub async fn revoke_own_token(
    conn: &mut Conn,
    id: &str,
    user_id: &str,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
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
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > $2)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Where a person's notifications go by mail: their address and name, when they are
/// enabled and want them.
pub async fn mail_target(conn: &mut Conn, user_id: &str) -> DbResult<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT email, name FROM users
         WHERE id = $1 AND disabled_at IS NULL AND mail_notices = 'all'
           AND email_verified_at IS NOT NULL",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("email")?, r.try_get("name")?)))
        .transpose()
}

/// Curators and admins who want notifications by mail (at most `limit`): id, address,
/// name.
pub async fn curators_to_mail(
    conn: &mut Conn,
    limit: i64,
) -> DbResult<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "SELECT id, email, name FROM users
         WHERE role IN ('curator', 'admin') AND disabled_at IS NULL AND mail_notices = 'all'
           AND email_verified_at IS NOT NULL
         ORDER BY email LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("email")?, r.try_get("name")?)))
        .collect()
}

pub async fn mail_notices(conn: &mut Conn, user_id: &str) -> DbResult<crate::model::MailNotices> {
    super::get_parsed(
        &sqlx::query("SELECT mail_notices FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(conn)
            .await?,
        "mail_notices",
    )
}

pub async fn set_mail_notices(
    conn: &mut Conn,
    user_id: &str,
    wanted: crate::model::MailNotices,
) -> DbResult<()> {
    sqlx::query("UPDATE users SET mail_notices = $1 WHERE id = $2")
        .bind(wanted.as_str())
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_password(conn: &mut Conn, user_id: &str, hash: &str) -> DbResult<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A person by id.
pub async fn get(conn: &mut Conn, id: &str) -> DbResult<Option<UserRow>> {
    let row = sqlx::query("SELECT id, email, name, role FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Whether the person's address is verified.
pub async fn address_verified(conn: &mut Conn, user_id: &str) -> DbResult<bool> {
    let at: Option<Option<i64>> =
        sqlx::query_scalar("SELECT email_verified_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(at.flatten().is_some())
}

/// Mark the address verified (`Some(now)`) or not yet (`None`).
pub async fn set_address_verified(conn: &mut Conn, user_id: &str, at: Option<i64>) -> DbResult<()> {
    sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2")
        .bind(at)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
