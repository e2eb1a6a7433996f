//! Whether a person's address reaches them. An open sign-up, while the archive sends
//! mail, gets a link to confirm the address; until it is followed no notification is
//! mailed there (so nobody can make the archive write to an address that is not
//! theirs). Operators' and invited accounts, and providers' verified addresses, count
//! as confirmed.

use super::jobs::{self, Job};
use super::users::{new_secret, token_hash};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, now_ms, users::UserRow};
use crate::mail::compose::Letter;
use crate::model::LinkPurpose;

/// A confirmation link works this long.
pub const CHECK_HOURS: i64 = 48;
const CHECK_PREFIX: &str = "adr_";
const CHECK: LinkPurpose = LinkPurpose::AddressCheck;

super::capability!(addresses);

impl Service<'_> {
    /// Mark `user`'s address unconfirmed and mail them a link to confirm it, in `tx`.
    /// Without mail nothing can be confirmed: the address stays as it was.
    pub(super) async fn ask(
        &self,
        tx: &mut db::Tx,
        user: &UserRow,
        now: i64,
    ) -> ServiceResult<bool> {
        if self.mailer.is_none() {
            return Ok(false);
        }
        db::users::set_address_verified(tx, &user.id, None).await?;
        let (token, hash) = new_secret(CHECK_PREFIX);
        db::mailed_links::void_older(tx, CHECK, &user.id, now).await?;
        let expires = now + CHECK_HOURS * 3_600_000;
        db::mailed_links::insert(tx, CHECK, &hash, &user.id, now, expires).await?;
        let link = format!("{}/confirm-address/{token}", self.config.public_base());
        let body = format!(
            "Welcome, {}. Confirm that {} is your address: the archive then mails you what happens \
             to your deposits. The link works for {CHECK_HOURS} hours.",
            user.name, user.email
        );
        let letter = Letter {
            archive: &self.config.repository.name,
            subject: "confirm your address",
            body: &body,
            action: ("Confirm my address", &link),
            footer: "You get this mail because an account was made with this address. If it was \
                     not you, ignore it.",
            items: &[],
        };
        let mail_id = db::mail::insert(tx, &letter.to(&user.email, Some(&user.name)), now).await?;
        jobs::enqueue(tx, &Job::Mail { mail_id }, now).await?;
        Ok(true)
    }

    /// Follow a confirmation link; returns the address confirmed.
    pub async fn confirm(&self, token: &str) -> ServiceResult<String> {
        let spent = || {
            ServiceError::invalid(
                "link",
                "this link has been used or has expired: sign in and ask for a new one",
            )
        };
        if !token.starts_with(CHECK_PREFIX) {
            return Err(spent());
        }
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let user_id = db::mailed_links::take(&mut tx, CHECK, &token_hash(token), now)
            .await?
            .ok_or_else(spent)?;
        db::users::set_address_verified(&mut tx, &user_id, Some(now)).await?;
        let user = db::users::get(&mut tx, &user_id).await?.ok_or_else(spent)?;
        tx.commit().await?;
        Ok(user.email)
    }

    /// Whether the actor's address is confirmed.
    pub async fn confirmed(&self, actor: &Actor) -> ServiceResult<bool> {
        let mut conn = self.db.conn().await?;
        Ok(db::users::address_verified(&mut conn, &actor.id).await?)
    }

    /// Send the actor a new confirmation link (counted like sign-in attempts).
    pub async fn ask_again(&self, actor: &Actor) -> ServiceResult<()> {
        self.guesses.attempt_on(&actor.email)?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        if db::users::address_verified(&mut tx, &actor.id).await? {
            return Err(ServiceError::Conflict(format!(
                "{} is confirmed already",
                actor.email
            )));
        }
        let enqueued = self.ask(&mut tx, actor, now).await?;
        tx.commit().await?;
        if enqueued {
            self.jobs_enqueued();
        }
        Ok(())
    }
}
