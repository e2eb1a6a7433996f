//! Sign-in through other providers: linked identities, logins between their two legs,
//! and links waiting for the person to prove their account.

use super::users::{UserRow, user_from_row};
use super::{Conn, DbResult};

/// A provider account linked to a person.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityRow {
    pub provider: String,
    pub subject: String,
    pub created_at: i64,
}

/// The person a provider account is linked to.
pub async fn user_of(conn: &mut Conn, provider: &str, subject: &str) -> DbResult<Option<UserRow>> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role FROM user_identities i JOIN users u ON u.id = i.user_id
         WHERE i.provider = $1 AND i.subject = $2",
    )
    .bind(provider)
    .bind(subject)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Link; false when this provider account is linked already (to anyone).
pub async fn link(
    conn: &mut Conn,
    provider: &str,
    subject: &str,
    user_id: &str,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO user_identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider, subject) DO NOTHING",
    )
    .bind(provider)
    .bind(subject)
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn of_user(conn: &mut Conn, user_id: &str) -> DbResult<Vec<IdentityRow>> {
    Ok(sqlx::query_as(
        "SELECT provider, subject, created_at FROM user_identities WHERE user_id = $1
         ORDER BY provider LIMIT 100",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// One login between its legs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    pub provider: String,
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
    pub link_user_id: Option<String>,
}

pub async fn insert_login(
    conn: &mut Conn,
    state_hash: &str,
    login: &LoginRow,
    now: i64,
    expires_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO oidc_logins (state_hash, provider, browser_hash, nonce, pkce_verifier, next,
                                  link_user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(state_hash)
    .bind(&login.provider)
    .bind(&login.browser_hash)
    .bind(&login.nonce)
    .bind(&login.pkce_verifier)
    .bind(&login.next)
    .bind(&login.link_user_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Use a login: it is gone whether or not it is still live.
pub async fn take_login(conn: &mut Conn, state_hash: &str, now: i64) -> DbResult<Option<LoginRow>> {
    Ok(sqlx::query_as(
        "DELETE FROM oidc_logins WHERE state_hash = $1 AND expires_at > $2
         RETURNING provider, browser_hash, nonce, pkce_verifier, next, link_user_id",
    )
    .bind(state_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

pub async fn insert_pending(
    conn: &mut Conn,
    token_hash: &str,
    provider: &str,
    subject: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO oidc_pending_links (token_hash, provider, subject, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(provider)
    .bind(subject)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A pending link: provider, subject, and the account it would join.
pub async fn pending(
    conn: &mut Conn,
    token_hash: &str,
    now: i64,
) -> DbResult<Option<(String, String, UserRow)>> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT p.provider, p.subject, u.id, u.email, u.name, u.role FROM oidc_pending_links p
         JOIN users u ON u.id = p.user_id WHERE p.token_hash = $1 AND p.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("provider")?,
            r.try_get("subject")?,
            user_from_row(&r)?,
        ))
    })
    .transpose()
}

pub async fn delete_pending(conn: &mut Conn, token_hash: &str) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM oidc_pending_links WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Housekeeping: logins and pending links past their end.
pub async fn delete_expired(conn: &mut Conn, now: i64) -> DbResult<u64> {
    let a = sqlx::query("DELETE FROM oidc_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let b = sqlx::query("DELETE FROM oidc_pending_links WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(a + b)
}

pub async fn set_orcid(conn: &mut Conn, user_id: &str, orcid: &str) -> DbResult<()> {
    sqlx::query("UPDATE users SET orcid = $1 WHERE id = $2")
        .bind(orcid)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn orcid_of(conn: &mut Conn, user_id: &str) -> DbResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT orcid FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .flatten())
}
