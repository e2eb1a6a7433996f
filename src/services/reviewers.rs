//! Reviewer links: a secret, expiring, revocable link that lets a journal's reviewers
//! read one unreleased dataset (metadata and files). Every use is logged.

use super::deposits::load_visible;
use super::events::{DepositEvent, record_event};
use super::notices::{Notice, To};
use super::public::PublicDataset;
use super::users::{new_secret, token_hash};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, files::FileRow, now_ms, reviewers::LinkRow};
use crate::model::NoticeKind;
use crate::model::{DepositState, ids};

const TOKEN_PREFIX: &str = "rev_";
const MAX_DAYS: u32 = 730;

/// States in which a dataset can be shown to reviewers: verified, and not yet public.
pub fn reviewable(state: DepositState) -> bool {
    matches!(
        state,
        DepositState::Verified
            | DepositState::Approved
            | DepositState::OnHold
            | DepositState::Scheduled
    )
}

fn no_access() -> ServiceError {
    // Expired, revoked and unknown links look the same: a link reveals nothing.
    ServiceError::NotFound("reviewer link")
}
super::capability!(reviewers);

impl Service<'_> {
    /// Create a link; the token is returned once and stored only as a hash.
    pub async fn create_link(
        &self,
        actor: &Actor,
        id: &str,
        days: u32,
        note: Option<String>,
    ) -> ServiceResult<(LinkRow, String)> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(ServiceError::invalid(
                "days",
                format!("a link lasts 1 to {MAX_DAYS} days"),
            ));
        }
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let v = load_visible(&mut tx, actor, id).await?;
        if !reviewable(v.state) {
            return Err(ServiceError::Conflict(format!(
                "a {} deposit cannot be shared with reviewers: it must be verified and not yet public",
                v.state
            )));
        }
        let (token, hash) = new_secret(TOKEN_PREFIX);
        let link = LinkRow {
            id: ids::new_id(),
            version_id: v.id.to_string(),
            note: note.filter(|n| !n.trim().is_empty()),
            created_by: actor.id.clone(),
            created_at: now,
            expires_at: now + i64::from(days) * 86_400_000,
            revoked_at: None,
        };
        db::reviewers::insert(&mut tx, &link, &hash).await?;
        let event = DepositEvent {
            version_id: &v.id,
            actor_id: Some(&actor.id),
            kind: "reviewer_link_created",
            states: None,
            reason: Some(format!(
                "link {} until {}",
                link.id,
                crate::model::date::utc_day(link.expires_at)
            )),
        };
        record_event(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok((link, token))
    }

    pub async fn links(&self, actor: &Actor, id: &str) -> ServiceResult<Vec<LinkRow>> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await?;
        Ok(db::reviewers::for_version(&mut conn, id).await?)
    }

    pub async fn revoke_link(&self, actor: &Actor, id: &str, link: &str) -> ServiceResult<()> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        load_visible(&mut tx, actor, id).await?;
        if !db::reviewers::revoke(&mut tx, id, link, now).await? {
            return Err(ServiceError::NotFound("reviewer link"));
        }
        let event = DepositEvent {
            version_id: id,
            actor_id: Some(&actor.id),
            kind: "reviewer_link_revoked",
            states: None,
            reason: Some(link.to_owned()),
        };
        record_event(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a live link shows, logging the use (`what`: the page or the file read).
    pub async fn dataset(&self, token: &str, what: &str) -> ServiceResult<PublicDataset> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(no_access());
        }
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let link = db::reviewers::by_token_hash(&mut tx, &token_hash(token))
            .await?
            .filter(|l| l.revoked_at.is_none() && l.expires_at > now)
            .ok_or_else(no_access)?;
        let v = db::versions::get(&mut tx, &link.version_id)
            .await?
            .ok_or_else(no_access)?;
        // Once released the public pages serve it; once withdrawn nobody does.
        if !reviewable(v.state) {
            return Err(no_access());
        }
        let event = DepositEvent {
            version_id: &v.id,
            actor_id: None,
            kind: "reviewer_access",
            states: None,
            reason: Some(format!("link {}: {what}", link.id)),
        };
        record_event(&mut tx, event, now).await?;
        let mut enqueued = false;
        if db::reviewers::mark_first_use(&mut tx, &link.id, now).await? {
            let notice = Notice {
                to: To::Person(&v.owner_id),
                kind: NoticeKind::ReviewerLinkUsed,
                deposit: Some(&*v.id),
                message: format!(
                    "'{}': a reviewer opened the private link {} for the first time",
                    super::records::title_of(&v),
                    link.id
                ),
            };
            enqueued = self.notices().notify(&mut tx, notice, now).await?;
        }
        tx.commit().await?;
        if enqueued {
            self.jobs_enqueued();
        }
        PublicDataset::unreleased(v)
    }

    /// A file of the dataset a live link opens.
    pub async fn file(&self, token: &str, path: &str) -> ServiceResult<FileRow> {
        let d = self.dataset(token, path).await?;
        let mut conn = self.db.conn().await?;
        db::files::get_by_path(&mut conn, d.version_id(), path)
            .await?
            .ok_or(ServiceError::NotFound("file"))
    }
}
