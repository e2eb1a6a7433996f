//! Signing in with a browser: sessions, sign-up and invitations. A session is a random
//! token in a cookie (only its hash is stored) with a CSRF token of its own.

use super::users::{insert_user, new_secret, new_user, password_hash, token_hash};
use super::{Actor, ServiceError, ServiceResult, require_curator};
use crate::db::{self, now_ms, sessions::Invitation};
use crate::model::Role;
use argon2::{PasswordHash, PasswordVerifier};

pub const SESSION_PREFIX: &str = "ses_";
pub const INVITATION_PREFIX: &str = "inv_";

/// A signed-in browser: the cookie's token and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub csrf: String,
    pub user: Actor,
}

/// Said the same way whatever was wrong, so the form does not tell strangers which
/// e-mail addresses have accounts.
const BAD_SIGN_IN: &str = "that e-mail address and password do not match an account";

/// A valid argon2 hash of nothing anyone knows: unknown addresses are checked against
/// it, so the answer takes as long as for a real account.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$LKHdm0eaU0YfrqhR6YNhHYm8yBfNmoP1kUt5TRxOUVo";

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}
super::capability!(sessions);

impl Service<'_> {
    pub async fn sign_in(&self, email: &str, password: &str) -> ServiceResult<Session> {
        self.passwords_on()?;
        let email = email.trim().to_lowercase();
        self.guesses.attempt_on(&email)?;
        let found = {
            let mut conn = self.db.conn().await?;
            db::users::password_of(&mut conn, &email).await?
        };
        let (user, hash, disabled) = match found {
            Some((u, h, disabled)) => (Some(u), h, disabled),
            None => (None, DUMMY_HASH.to_owned(), false),
        };
        let password = password.to_owned();
        let verified = self.argon2(move || verify(&password, &hash)).await?;
        match user {
            // Said only to someone who knows the password.
            Some(_) if verified && disabled => Err(ServiceError::Forbidden(
                "this account is disabled: ask the archive's operators to enable it".into(),
            )),
            Some(u) if verified => self.start_session(u).await,
            _ => Err(ServiceError::invalid("password", BAD_SIGN_IN)),
        }
    }

    /// `[web] local_passwords = false`: people sign in only through the providers.
    pub(super) fn passwords_on(&self) -> ServiceResult<()> {
        if self.config.web.local_passwords {
            return Ok(());
        }
        let names: Vec<&str> = self
            .oidc
            .values()
            .map(|p| p.settings.display_name.as_str())
            .collect();
        Err(ServiceError::Forbidden(format!(
            "passwords are off at this archive: sign in with {}",
            names.join(" or ")
        )))
    }

    pub(super) async fn start_session(&self, user: Actor) -> ServiceResult<Session> {
        let (token, hash) = new_secret(SESSION_PREFIX);
        let csrf = super::users::random_token();
        let now = now_ms();
        let expires = now + self.config.web.session_hours as i64 * 3_600_000;
        let mut tx = self.db.begin_write().await?;
        db::sessions::insert(&mut tx, &hash, &user.id, &csrf, now, expires).await?;
        tx.commit().await?;
        Ok(Session { token, csrf, user })
    }

    /// The user and CSRF token of a live session, or None for a stale or unknown cookie.
    pub async fn session(&self, token: &str) -> ServiceResult<Option<(Actor, String)>> {
        if !token.starts_with(SESSION_PREFIX) {
            return Ok(None);
        }
        let mut conn = self.db.conn().await?;
        Ok(db::sessions::find(&mut conn, &token_hash(token), now_ms()).await?)
    }

    pub async fn sign_out(&self, token: &str) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        db::sessions::delete(&mut tx, &token_hash(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Housekeeping: sessions past their end are useless; remove them.
    pub async fn end_expired(&self) -> ServiceResult<u64> {
        let mut tx = self.db.begin_write().await?;
        let n = db::sessions::delete_expired(&mut tx, now_ms()).await?
            + db::identities::delete_expired(&mut tx, now_ms()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Create an account and sign it in. Without an invitation this needs open sign-up
    /// and makes an author; an invitation fixes the address and the role. The
    /// invitation is used up in the transaction that creates the account, so an account
    /// that cannot be made leaves it usable.
    pub async fn sign_up(
        &self,
        email: &str,
        name: &str,
        password: &str,
        invitation: Option<&str>,
    ) -> ServiceResult<Session> {
        self.passwords_on()?;
        let invitation = invitation.filter(|t| !t.is_empty());
        if invitation.is_none() && !self.config.web.open_signup {
            return Err(ServiceError::Forbidden(
                "this archive takes new accounts by invitation only".into(),
            ));
        }
        let pw = password.to_owned();
        let hash = self.argon2(move || password_hash(&pw)).await??;
        let mut tx = self.db.begin_write().await?;
        let user = match invitation {
            Some(token) => {
                let inv = db::sessions::take_invitation(&mut tx, &token_hash(token), now_ms())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::invalid(
                            "invitation",
                            "this invitation has been used or has expired; ask for a new one",
                        )
                    })?;
                new_user(&inv.email, name, inv.role.parse().unwrap_or(Role::Author))?
            }
            None => new_user(email, name, Role::Author)?,
        };
        insert_user(&mut tx, &user, Some(&hash)).await?;
        // An invitation came to the address; an open sign-up must show it is theirs.
        let asked = match invitation {
            Some(_) => false,
            None => self.addresses().ask(&mut tx, &user, now_ms()).await?,
        };
        tx.commit().await?;
        if asked {
            self.jobs_enqueued();
        }
        self.start_session(user).await
    }

    /// An invitation link's token for `email`; only curators invite.
    pub async fn invite(&self, actor: &Actor, email: &str, role: Role) -> ServiceResult<String> {
        require_curator(actor, "invite people")?;
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(ServiceError::invalid("email", "is not an e-mail address"));
        }
        if role == Role::Admin {
            return Err(ServiceError::invalid(
                "role",
                "administrators are made with `arca user add`",
            ));
        }
        let (token, hash) = new_secret(INVITATION_PREFIX);
        let now = now_ms();
        let expires = now + self.config.web.invitation_days as i64 * 86_400_000;
        let inv = Invitation {
            email,
            role: role.as_str().to_owned(),
        };
        let mut tx = self.db.begin_write().await?;
        db::sessions::insert_invitation(&mut tx, &hash, &inv, &actor.id, now, expires).await?;
        // With mail on, the invitation also goes to the person (the curator still gets
        // the link, to pass on another way).
        let mailed = self.mailer.is_some();
        if mailed {
            let link = format!("{}/signup?invitation={token}", self.config.public_base());
            let body = format!(
                "{} invites you to deposit data at this archive as {}. The link works once, for \
                 {} days.",
                actor.name, inv.role, self.config.web.invitation_days
            );
            let letter = crate::mail::compose::Letter {
                archive: &self.config.repository.name,
                subject: "you are invited",
                body: &body,
                action: ("Create your account", &link),
                footer: "You get this mail because a curator of the archive invited this address.",
                items: &[],
            };
            let mail_id = db::mail::insert(&mut tx, &letter.to(&inv.email, None), now).await?;
            super::jobs::enqueue(&mut tx, &super::jobs::Job::Mail { mail_id }, now).await?;
        }
        tx.commit().await?;
        if mailed {
            self.jobs_enqueued();
        }
        Ok(token)
    }

    /// The address an invitation is for, to show on the sign-up form.
    pub async fn invitation_email(&self, token: &str) -> ServiceResult<Option<String>> {
        let mut conn = self.db.conn().await?;
        Ok(
            db::sessions::peek_invitation(&mut conn, &token_hash(token), now_ms())
                .await?
                .map(|i| i.email),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_is_a_real_hash_that_matches_nothing_typed() {
        assert!(argon2::PasswordHash::new(super::DUMMY_HASH).is_ok());
        assert!(!super::verify("password", super::DUMMY_HASH));
    }
}
