//! Password resets by mail. The answer to "reset my password" is the same whether or
//! not the address has an account; the link is single-use, expires, is stored only as
//! a hash, and a new one voids the old. Setting the password through it ends every
//! session of the account.

use super::jobs::{self, Job};
use super::sessions::Session;
use super::users::{new_secret, password_hash, token_hash};
use super::{ServiceError, ServiceResult};
use crate::db::{self, now_ms};
use crate::mail::compose::Letter;
use crate::model::LinkPurpose;

/// A reset link works this long.
pub const RESET_MINUTES: i64 = 60;
const RESET_PREFIX: &str = "pwr_";
const RESET: LinkPurpose = LinkPurpose::PasswordReset;

super::capability!(passwords);

impl Service<'_> {
    /// Mail a reset link to `email` if it has a password account. Says nothing about
    /// whether it has; refused only when the archive sends no mail at all.
    pub async fn request_reset(&self, email: &str) -> ServiceResult<()> {
        self.sessions().passwords_on()?;
        if self.mailer.is_none() {
            return Err(ServiceError::Conflict(
                "this archive sends no mail: ask its operators to reset your password".into(),
            ));
        }
        let email = email.trim().to_lowercase();
        // Per address, whether or not it exists: nobody floods an inbox with resets.
        self.guesses.attempt_on(&email)?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let Some(account) = db::users::account(&mut tx, &email).await? else {
            return Ok(());
        };
        if account.disabled_at.is_some() || !account.has_password {
            return Ok(());
        }
        let (token, hash) = new_secret(RESET_PREFIX);
        db::mailed_links::void_older(&mut tx, RESET, &account.user.id, now).await?;
        let expires = now + RESET_MINUTES * 60_000;
        db::mailed_links::insert(&mut tx, RESET, &hash, &account.user.id, now, expires).await?;
        let link = format!("{}/reset/{token}", self.config.public_base());
        let body = format!(
            "Someone (we hope you) asked to reset the password of the account {email}. The link \
             below works once, for {RESET_MINUTES} minutes. If it was not you, ignore this mail: \
             the password stays as it is."
        );
        let letter = Letter {
            archive: &self.config.repository.name,
            subject: "reset your password",
            body: &body,
            action: ("Choose a new password", &link),
            footer: "You get this mail because a password reset was asked for this address.",
            items: &[],
        };
        let mail_id =
            db::mail::insert(&mut tx, &letter.to(&email, Some(&account.user.name)), now).await?;
        jobs::enqueue(&mut tx, &Job::Mail { mail_id }, now).await?;
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(())
    }

    /// Whether a reset link can still be used (to show its form).
    pub async fn reset_is_live(&self, token: &str) -> ServiceResult<bool> {
        if !token.starts_with(RESET_PREFIX) {
            return Ok(false);
        }
        let mut conn = self.db.conn().await?;
        Ok(db::mailed_links::is_live(&mut conn, RESET, &token_hash(token), now_ms()).await?)
    }

    /// Set a new password with a reset link: the link is used up, every session of
    /// the account ends, and a new one starts.
    pub async fn reset(&self, token: &str, password: &str) -> ServiceResult<Session> {
        self.sessions().passwords_on()?;
        let pw = password.to_owned();
        let hash = self.argon2(move || password_hash(&pw)).await??;
        let used_up = || {
            ServiceError::invalid(
                "link",
                "this reset link has been used or has expired: ask for a new one",
            )
        };
        if !token.starts_with(RESET_PREFIX) {
            return Err(used_up());
        }
        let mut tx = self.db.begin_write().await?;
        let user_id = db::mailed_links::take(&mut tx, RESET, &token_hash(token), now_ms())
            .await?
            .ok_or_else(used_up)?;
        let user = db::users::get(&mut tx, &user_id)
            .await?
            .ok_or_else(used_up)?;
        let disabled = db::users::account(&mut tx, &user.email)
            .await?
            .is_none_or(|a| a.disabled_at.is_some());
        if disabled {
            return Err(ServiceError::Forbidden(
                "this account is disabled: ask the archive's operators to enable it".into(),
            ));
        }
        db::users::set_password(&mut tx, &user.id, &hash).await?;
        // The link came by mail to the address: it reaches them.
        db::users::set_address_verified(&mut tx, &user.id, Some(now_ms())).await?;
        db::sessions::delete_of_user(&mut tx, &user.id).await?;
        tx.commit().await?;
        tracing::info!(email = %user.email, "password reset");
        self.sessions().start_session(user).await
    }
}
