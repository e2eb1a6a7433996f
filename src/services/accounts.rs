//! Accounts an operator runs: list and show people, disable and enable them, change
//! their role. Disabling ends a person's sessions and tokens in the same transaction,
//! so nothing they hold works a moment later, on any server.

use super::{ServiceError, ServiceResult};
use crate::db::{self, now_ms, users::AccountRow};
use crate::model::Role;

/// How many people one listing shows at most.
pub const ACCOUNTS_PER_PAGE: i64 = 1000;

/// A person with what they hold now.
#[derive(Debug, Clone)]
pub struct Account {
    pub account: AccountRow,
    /// Tokens neither revoked nor expired.
    pub live_tokens: usize,
}

/// What disabling a person ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disabled {
    pub sessions: u64,
    pub tokens: u64,
}

super::capability!(accounts);

impl Service<'_> {
    /// People by e-mail address after `after`, of one role or all.
    pub async fn list(&self, role: Option<Role>, after: &str) -> ServiceResult<Vec<AccountRow>> {
        let mut conn = self.db.conn().await?;
        Ok(db::users::accounts(&mut conn, role, after, ACCOUNTS_PER_PAGE).await?)
    }

    pub async fn show(&self, email: &str) -> ServiceResult<Account> {
        let mut conn = self.db.conn().await?;
        let account = find(&mut conn, email).await?;
        let live_tokens = self.users().live_tokens(&account.user).await?.len();
        Ok(Account {
            account,
            live_tokens,
        })
    }

    /// Disable a person: their sessions end and their tokens are revoked at once, and
    /// they cannot sign in until enabled (their revoked tokens stay revoked).
    pub async fn disable(&self, email: &str) -> ServiceResult<Disabled> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let account = find(&mut tx, email).await?;
        if account.user.role == Role::Admin {
            keep_an_admin(&mut tx, "disabled").await?;
        }
        if !db::users::disable(&mut tx, &account.user.id, now).await? {
            return Err(ServiceError::Conflict(format!(
                "{} is disabled already",
                account.user.email
            )));
        }
        let sessions = db::sessions::delete_of_user(&mut tx, &account.user.id).await?;
        let tokens = db::users::revoke_tokens_of(&mut tx, &account.user.id, now).await?;
        tx.commit().await?;
        tracing::info!(email = %account.user.email, sessions, tokens, "account disabled");
        Ok(Disabled { sessions, tokens })
    }

    /// Let a disabled person sign in again.
    pub async fn enable(&self, email: &str) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        let account = find(&mut tx, email).await?;
        if !db::users::enable(&mut tx, &account.user.id).await? {
            return Err(ServiceError::Conflict(format!(
                "{} is enabled already",
                account.user.email
            )));
        }
        tx.commit().await?;
        tracing::info!(email = %account.user.email, "account enabled");
        Ok(())
    }

    /// Change a person's role; it holds for their next request.
    pub async fn set_role(&self, email: &str, role: Role) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        let account = find(&mut tx, email).await?;
        if account.user.role == Role::Admin && role != Role::Admin {
            keep_an_admin(&mut tx, "made anything but an admin").await?;
        }
        db::users::set_role(&mut tx, &account.user.id, role).await?;
        tx.commit().await?;
        tracing::info!(email = %account.user.email, role = %role, "role changed");
        Ok(())
    }
}

async fn find(conn: &mut db::Conn, email: &str) -> ServiceResult<AccountRow> {
    db::users::account(conn, &email.trim().to_lowercase())
        .await?
        .ok_or(ServiceError::NotFound("user"))
}

/// An archive keeps at least one admin who can sign in.
async fn keep_an_admin(conn: &mut db::Conn, what: &str) -> ServiceResult<()> {
    if db::users::enabled_admins(conn).await? <= 1 {
        return Err(ServiceError::Conflict(format!(
            "the archive's last enabled admin cannot be {what}: make another admin first"
        )));
    }
    Ok(())
}
