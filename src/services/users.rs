//! People and their API tokens. Passwords are hashed with argon2; tokens are random and
//! stored only as their SHA-256.

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, now_ms, users::UserRow};
use crate::model::checksum::{Algorithm, Checksum};
use crate::model::{Role, ids::new_id};
use argon2::PasswordHasher;
use base64::Engine;

/// Tokens carry this prefix so a leaked one is easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "arca_";

pub(super) fn token_hash(token: &str) -> String {
    Checksum::of(Algorithm::Sha256, token.as_bytes()).hex
}

/// A new secret with `prefix` (256 random bits), and the hash that is stored instead.
pub(super) fn new_secret(prefix: &str) -> (String, String) {
    let token = format!("{prefix}{}", random_token());
    let hash = token_hash(&token);
    (token, hash)
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// A password as it is stored: argon2, after the length rule.
pub(super) fn password_hash(password: &str) -> ServiceResult<String> {
    if password.chars().count() < 8 {
        return Err(ServiceError::invalid(
            "password",
            "must be at least 8 characters",
        ));
    }
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("argon2: {e}")))
}

/// A new person's row, once the address and name are acceptable.
pub(super) fn new_user(email: &str, name: &str, role: Role) -> ServiceResult<UserRow> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(ServiceError::invalid("email", "is not an e-mail address"));
    }
    if name.trim().is_empty() {
        return Err(ServiceError::invalid("name", "is required"));
    }
    Ok(UserRow {
        id: new_id(),
        email,
        name: name.trim().to_owned(),
        role,
    })
}

/// Insert a person in `tx`; an address already taken is a conflict.
pub(super) async fn insert_user(
    tx: &mut db::Tx,
    user: &UserRow,
    password_hash: Option<&str>,
) -> ServiceResult<()> {
    match db::users::insert(tx, user, password_hash, now_ms()).await {
        Err(e) if e.is_unique_violation() => Err(ServiceError::Conflict(format!(
            "a user with e-mail {} already exists",
            user.email
        ))),
        r => Ok(r?),
    }
}

/// How long a token may live, in days (ten years); the default is a year.
pub const MAX_TOKEN_DAYS: u32 = 3650;
pub const DEFAULT_TOKEN_DAYS: u32 = 365;
super::capability!(users);

impl Service<'_> {
    pub async fn add(
        &self,
        email: &str,
        name: &str,
        role: Role,
        password: Option<&str>,
    ) -> ServiceResult<UserRow> {
        let user = new_user(email, name, role)?;
        let hash = match password {
            Some(pw) => {
                let pw = pw.to_owned();
                Some(self.argon2(move || password_hash(&pw)).await??)
            }
            None => None,
        };
        let mut tx = self.db.begin_write().await?;
        insert_user(&mut tx, &user, hash.as_deref()).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A new API token for the user; the token itself is shown once and never stored.
    /// A new API token for the person at `email`, valid `days` days; printed once.
    pub async fn create_token(
        &self,
        email: &str,
        days: u32,
        name: Option<&str>,
    ) -> ServiceResult<String> {
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(ServiceError::invalid(
                "days",
                format!("a token lives 1 to {MAX_TOKEN_DAYS} days"),
            ));
        }
        let email = email.trim().to_lowercase();
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let account = db::users::account(&mut tx, &email)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if account.disabled_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "{email} is disabled: enable the account first"
            )));
        }
        let user = account.user;
        let (token, hash) = new_secret(TOKEN_PREFIX);
        let expires = now + i64::from(days) * 86_400_000;
        db::users::insert_token(&mut tx, &new_id(), &user.id, &hash, name, now, expires).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The tokens of the person at `email`, newest first.
    pub async fn tokens(&self, email: &str) -> ServiceResult<Vec<db::users::TokenRow>> {
        let mut conn = self.db.conn().await?;
        let user = db::users::find_by_email(&mut conn, &email.trim().to_lowercase())
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        Ok(db::users::tokens_of(&mut conn, &user.id, 1000).await?)
    }

    /// Revoke a token by its id: it stops working at once.
    pub async fn revoke_token(&self, id: &str) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        if !db::users::revoke_token(&mut tx, id, now_ms()).await? {
            return Err(ServiceError::NotFound("live token"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The actor's own tokens that still work, newest first.
    pub async fn live_tokens(&self, actor: &Actor) -> ServiceResult<Vec<db::users::TokenRow>> {
        let mut conn = self.db.conn().await?;
        let now = now_ms();
        Ok(db::users::tokens_of(&mut conn, &actor.id, 1000)
            .await?
            .into_iter()
            .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))
            .collect())
    }

    /// Revoke one of the actor's own tokens: it stops working at once.
    pub async fn revoke_own_token(&self, actor: &Actor, id: &str) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        if !db::users::revoke_own_token(&mut tx, id, &actor.id, now_ms()).await? {
            return Err(ServiceError::NotFound("live token"));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn authenticate(&self, token: &str) -> ServiceResult<Actor> {
        let mut conn = self.db.conn().await?;
        db::users::find_by_token_hash(&mut conn, &token_hash(token), now_ms())
            .await?
            .ok_or(ServiceError::Unauthenticated)
    }
}
