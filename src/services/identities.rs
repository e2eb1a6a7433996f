//! Sign-in through OpenID Connect providers (the facility's identity provider, ORCID):
//! start a login, finish it, and link provider accounts to people. A provider account
//! whose verified address matches an existing account is never joined to it silently:
//! the person proves the account (its password) first. The provider's answer is
//! verified in `crate::oidc`; here the login's secrets are kept single-use, expiring,
//! and bound to the browser that started it.

use super::sessions::Session;
use super::users::{insert_user, new_secret, new_user, token_hash};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, identities::LoginRow, now_ms};
use crate::model::Role;
use crate::oidc::{Identity, OidcError, Provider};

/// A login must come back within this long.
const LOGIN_MINUTES: i64 = 10;
/// A pending link must be confirmed within this long.
const PENDING_MINUTES: i64 = 30;
const LINK_PREFIX: &str = "lnk_";

impl From<OidcError> for ServiceError {
    fn from(e: OidcError) -> Self {
        match e {
            OidcError::Settings(_) => ServiceError::Internal(e.to_string()),
            OidcError::Unavailable(_) => ServiceError::Upstream(e.to_string()),
            OidcError::Refused(_) | OidcError::Invalid(_) => {
                ServiceError::invalid("sign-in", e.to_string())
            }
        }
    }
}

/// A provider as the sign-in page shows it.
#[derive(Debug, Clone)]
pub struct ProviderButton {
    pub name: String,
    pub display_name: String,
}

/// How a login ended.
#[derive(Debug)]
pub enum Finished {
    /// Signed in; go on to `next`.
    SignedIn { session: Session, next: String },
    /// The provider account is now linked to the signed-in person.
    Linked { next: String },
    /// An account with the provider's verified address exists: the person proves it
    /// at `/signin/link/<token>` before the two are linked.
    ProveAccount { token: String },
}

/// What a pending link page shows.
#[derive(Debug, Clone)]
pub struct PendingLink {
    pub email: String,
    pub provider: String,
}

super::capability!(identities);

impl Service<'_> {
    fn provider(&self, name: &str) -> ServiceResult<&Provider> {
        self.oidc
            .get(name)
            .map(|p| &**p)
            .ok_or(ServiceError::NotFound("sign-in provider"))
    }

    /// The configured providers, for the sign-in page.
    pub fn providers(&self) -> Vec<ProviderButton> {
        self.oidc
            .values()
            .map(|p| ProviderButton {
                name: p.name.clone(),
                display_name: p.settings.display_name.clone(),
            })
            .collect()
    }

    /// Start a login with `provider` from the browser holding `browser` (a secret in
    /// its cookie); `link` when a signed-in person links the provider to their account.
    /// Returns where to send the browser.
    pub async fn start(
        &self,
        provider: &str,
        browser: &str,
        next: &str,
        link: Option<&Actor>,
    ) -> ServiceResult<String> {
        let p = self.provider(provider)?;
        let start = p.start().await?;
        let now = now_ms();
        let login = LoginRow {
            provider: provider.to_owned(),
            browser_hash: token_hash(browser),
            nonce: start.nonce,
            pkce_verifier: start.pkce_verifier,
            next: next.to_owned(),
            link_user_id: link.map(|a| a.id.clone()),
        };
        let mut tx = self.db.begin_write().await?;
        db::identities::insert_login(
            &mut tx,
            &token_hash(&start.state),
            &login,
            now,
            now + LOGIN_MINUTES * 60_000,
        )
        .await?;
        tx.commit().await?;
        Ok(start.url)
    }

    /// The browser came back from `provider` with `code` and `state`.
    pub async fn finish(
        &self,
        provider: &str,
        browser: &str,
        code: &str,
        state: &str,
    ) -> ServiceResult<Finished> {
        let p = self.provider(provider)?;
        let refused = |why: &str| ServiceError::invalid("sign-in", why.to_owned());
        let login = {
            let mut tx = self.db.begin_write().await?;
            let login = db::identities::take_login(&mut tx, &token_hash(state), now_ms()).await?;
            tx.commit().await?;
            login.ok_or_else(|| {
                refused(
                    "this sign-in is unknown, used or expired: start again from the sign-in page",
                )
            })?
        };
        // The state must come back to the provider and the browser that started it: a
        // link to someone else's half-done login signs nobody in.
        if login.provider != provider || login.browser_hash != token_hash(browser) {
            return Err(refused(
                "this sign-in was started in another browser: start again from the sign-in page",
            ));
        }
        let id = p.finish(code, &login.nonce, &login.pkce_verifier).await?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        if let Some(user_id) = &login.link_user_id {
            if !db::identities::link(&mut tx, provider, &id.subject, user_id, now).await? {
                let owner = db::identities::user_of(&mut tx, provider, &id.subject).await?;
                if owner.is_none_or(|u| &u.id != user_id) {
                    return Err(ServiceError::Conflict(format!(
                        "this {} account is linked to another account here",
                        p.settings.display_name
                    )));
                }
            }
            if p.settings.orcid {
                db::identities::set_orcid(&mut tx, user_id, &id.subject).await?;
            }
            tx.commit().await?;
            return Ok(Finished::Linked { next: login.next });
        }
        let user = match db::identities::user_of(&mut tx, provider, &id.subject).await? {
            Some(user) => user,
            None => match self.new_identity(&mut tx, p, &id, now).await? {
                Ok(user) => user,
                Err(token) => {
                    tx.commit().await?;
                    return Ok(Finished::ProveAccount { token });
                }
            },
        };
        let user = self.follow_provider(&mut tx, p, &id, user).await?;
        tx.commit().await?;
        let session = self.sessions().start_session(user).await?;
        Ok(Finished::SignedIn {
            session,
            next: login.next,
        })
    }

    /// A provider account seen for the first time: a new account, or (its verified
    /// address being taken) a pending link the person must confirm.
    async fn new_identity(
        &self,
        tx: &mut db::Tx,
        p: &Provider,
        id: &Identity,
        now: i64,
    ) -> ServiceResult<Result<Actor, String>> {
        let verified = id.email.as_deref().filter(|_| id.email_verified);
        if let Some(email) = verified
            && let Some(existing) = db::users::account(tx, email).await?
        {
            if !existing.has_password || !self.config.web.local_passwords {
                return Err(ServiceError::Conflict(format!(
                    "an account with the address {email} exists here: sign in to it and link {} from \
                     the account page, or ask the archive's operators",
                    p.settings.display_name
                )));
            }
            let (token, hash) = new_secret(LINK_PREFIX);
            db::identities::insert_pending(
                tx,
                &hash,
                &p.name,
                &id.subject,
                &existing.user.id,
                now,
                now + PENDING_MINUTES * 60_000,
            )
            .await?;
            return Ok(Err(token));
        }
        if !p.settings.create_accounts {
            return Err(ServiceError::Forbidden(format!(
                "no account here is linked to this {} sign-in: ask the curators for an invitation",
                p.settings.display_name
            )));
        }
        let Some(email) = verified else {
            return Err(ServiceError::invalid(
                "sign-in",
                format!(
                    "{} shared no verified e-mail address: sign in another way, then link {} \
                     from your account page",
                    p.settings.display_name, p.settings.display_name
                ),
            ));
        };
        let name = id.name.clone().unwrap_or_else(|| email.to_owned());
        let role = p.role_of(id).unwrap_or(Role::Author);
        let user = new_user(email, &name, role)?;
        insert_user(tx, &user, None).await?;
        db::identities::link(tx, &p.name, &id.subject, &user.id, now).await?;
        tracing::info!(email, provider = %p.name, "account created at first sign-in");
        Ok(Ok(user))
    }

    /// At each sign-in: a disabled account stays out, the role follows the provider's
    /// claim when configured, and ORCID keeps the verified iD.
    async fn follow_provider(
        &self,
        tx: &mut db::Tx,
        p: &Provider,
        id: &Identity,
        mut user: Actor,
    ) -> ServiceResult<Actor> {
        let account = db::users::account(tx, &user.email)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if account.disabled_at.is_some() {
            return Err(ServiceError::Forbidden(
                "this account is disabled: ask the archive's operators to enable it".into(),
            ));
        }
        if let Some(role) = p.role_of(id)
            && role != user.role
        {
            db::users::set_role(tx, &user.id, role).await?;
            tracing::info!(email = %user.email, %role, provider = %p.name, "role from the provider");
            user.role = role;
        }
        if p.settings.orcid {
            db::identities::set_orcid(tx, &user.id, &id.subject).await?;
        }
        Ok(user)
    }

    /// What the page confirming a pending link shows.
    pub async fn pending(&self, token: &str) -> ServiceResult<PendingLink> {
        let mut conn = self.db.conn().await?;
        let (provider, _, user) = db::identities::pending(&mut conn, &token_hash(token), now_ms())
            .await?
            .ok_or(ServiceError::NotFound("link to confirm"))?;
        Ok(PendingLink {
            email: user.email,
            provider: self.provider(&provider)?.settings.display_name.clone(),
        })
    }

    /// The person proves the existing account with its password: the provider account
    /// is linked to it, and they are signed in.
    pub async fn confirm_link(&self, token: &str, password: &str) -> ServiceResult<Session> {
        let (provider, subject, user) = {
            let mut conn = self.db.conn().await?;
            db::identities::pending(&mut conn, &token_hash(token), now_ms())
                .await?
                .ok_or(ServiceError::NotFound("link to confirm"))?
        };
        let session = self.sessions().sign_in(&user.email, password).await?;
        let p = self.provider(&provider)?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        if !db::identities::delete_pending(&mut tx, &token_hash(token)).await? {
            return Err(ServiceError::NotFound("link to confirm"));
        }
        if !db::identities::link(&mut tx, &provider, &subject, &user.id, now).await? {
            return Err(ServiceError::Conflict(format!(
                "this {} account is linked to another account here",
                p.settings.display_name
            )));
        }
        if p.settings.orcid {
            db::identities::set_orcid(&mut tx, &user.id, &subject).await?;
        }
        tx.commit().await?;
        Ok(session)
    }

    /// The providers linked to the actor's account, and their verified ORCID iD.
    pub async fn linked(&self, actor: &Actor) -> ServiceResult<(Vec<String>, Option<String>)> {
        let mut conn = self.db.conn().await?;
        let linked = db::identities::of_user(&mut conn, &actor.id)
            .await?
            .into_iter()
            .map(|i| i.provider)
            .collect();
        Ok((
            linked,
            db::identities::orcid_of(&mut conn, &actor.id).await?,
        ))
    }
}
