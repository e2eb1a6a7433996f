//! Read models of one deposit, for its author or a curator: what the API shows (the
//! version, its file totals, its DOI's registration and its open hold) and what its page
//! shows (that, its files, uploads and history, what the visitor may do now, and the
//! manuscript kit). Each is one service call that checks visibility first, so no caller
//! reads a deposit's parts without authorising.

use super::deposits::load_visible;
use super::extraction::Report;
use super::manuscript_kit::ManuscriptKit;
use super::{Actor, ServiceResult};
use crate::db::events::HistoryRow;
use crate::db::files::FileRow;
use crate::db::releases::BatchRow;
use crate::db::uploads::UploadRow;
use crate::db::{self, dois::DoiRow, holds::HoldRow, versions::VersionRow};
use crate::model::{Action, BatchState, DepositState, HoldKind};

#[derive(Debug, Clone)]
pub struct DepositView {
    pub version: VersionRow,
    pub file_count: i64,
    pub total_bytes: i64,
    /// The DOI's registration, once one is reserved.
    pub doi: Option<DoiRow>,
    /// The hold in force, while the deposit is on hold.
    pub hold: Option<HoldRow>,
}
super::capability!(deposit_view);

impl Service<'_> {
    pub async fn get(&self, actor: &Actor, id: &str) -> ServiceResult<DepositView> {
        let mut conn = self.db.conn().await?;
        let version = load_visible(&mut conn, actor, id).await?;
        let (file_count, total_bytes) = db::files::totals(&mut conn, &version.id).await?;
        let doi = match &version.doi {
            Some(doi) => db::dois::get(&mut conn, doi).await?,
            None => None,
        };
        let hold = db::holds::open_for(&mut conn, &version.id).await?;
        Ok(DepositView {
            version,
            file_count,
            total_bytes,
            doi,
            hold,
        })
    }
}

impl Service<'_> {
    /// The deposit to edit, and what its files suggest for the form.
    pub async fn edit(&self, actor: &Actor, id: &str) -> ServiceResult<EditView> {
        let version = {
            let mut conn = self.db.conn().await?;
            load_visible(&mut conn, actor, id).await?
        };
        let found = self.extraction().of_version(&version.id).await?;
        Ok(EditView { version, found })
    }
}

/// Something a visitor of a deposit's page may do now, besides nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A state change (submit, approve, hold, …).
    Act(Action),
    /// "My paper is out": an author of a deposit held until an article's publication.
    ClaimPublication,
    /// Reserve the DOI, while the deposit is still a draft.
    ReserveDoi,
    /// Start the next version of a released dataset (its owner).
    NewVersion,
    /// Make a reviewer link: verified and not yet public.
    ShareWithReviewers,
}

impl Offer {
    /// The name forms and page sections use for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Act(a) => a.request_name().unwrap_or_else(|| a.as_str()),
            Self::ClaimPublication => "published",
            Self::ReserveDoi => "doi",
            Self::NewVersion => "new-version",
            Self::ShareWithReviewers => "share",
        }
    }
}

/// Everything a deposit's page shows, for one visitor, from one service call.
#[derive(Debug, Clone)]
pub struct DepositPageView {
    pub deposit: DepositView,
    /// The first files in path order (at most [`FILES_SHOWN`]).
    pub files: Vec<FileRow>,
    pub uploads: Vec<UploadRow>,
    /// The history, each event with who acted.
    pub events: Vec<HistoryRow>,
    pub is_owner: bool,
    pub offers: Vec<Offer>,
    /// Open release batches, when the visitor may schedule the deposit.
    pub open_batches: Vec<BatchRow>,
    /// The references and data-availability paragraph, once the description is
    /// complete enough to cite.
    pub kit: Option<ManuscriptKit>,
    /// What the files' headers and names say.
    pub found: Report,
    /// Reviewer links made for it, newest first (their secrets are never kept).
    pub reviewer_links: Vec<crate::db::reviewers::LinkRow>,
    /// Who deposited it (their name; empty for a removed account).
    pub depositor: String,
    /// Its copies to mirror sites, newest first (one per mirror and release).
    pub transfers: Vec<crate::db::mirrors::TransferRow>,
}

/// Transfers a deposit's page lists: far more than there are mirrors.
pub const TRANSFERS_SHOWN: i64 = 50;

/// The deposit's form with what its files suggest for it.
#[derive(Debug)]
pub struct EditView {
    pub version: VersionRow,
    pub found: Report,
}

/// Files a deposit's page lists; the rest are in the API's pages.
pub const FILES_SHOWN: i64 = 1000;

impl Service<'_> {
    pub async fn page(&self, actor: &Actor, id: &str) -> ServiceResult<DepositPageView> {
        let deposit = self.get(actor, id).await?;
        let v = &deposit.version;
        let mut conn = self.db.conn().await?;
        let files = db::files::list(&mut conn, &v.id, "", FILES_SHOWN).await?;
        let uploads = db::uploads::list_for_version(&mut conn, &v.id).await?;
        let events = db::events::history(&mut conn, &v.id).await?;
        let reviewer_links = db::reviewers::for_version(&mut conn, &v.id).await?;
        let transfers =
            db::mirrors::transfers(&mut conn, Some(v.id.as_str()), "", TRANSFERS_SHOWN).await?;
        let depositor = db::users::get(&mut conn, &v.owner_id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        drop(conn);
        let is_owner = v.owner_id == actor.id;
        let waits_for_article = deposit
            .hold
            .as_ref()
            .is_some_and(|h| h.kind == HoldKind::Article);
        let offers = self
            .deposits()
            .actions_open_to(actor, v)
            .into_iter()
            .map(Offer::Act)
            .chain(
                (is_owner && v.state == DepositState::OnHold && waits_for_article)
                    .then_some(Offer::ClaimPublication),
            )
            .chain((v.doi.is_none() && v.state.files_editable()).then_some(Offer::ReserveDoi))
            .chain((is_owner && v.state == DepositState::Released).then_some(Offer::NewVersion))
            .chain(super::reviewers::reviewable(v.state).then_some(Offer::ShareWithReviewers))
            .collect::<Vec<_>>();
        let open_batches = if offers.contains(&Offer::Act(Action::Schedule)) {
            self.releases()
                .batches(Some(BatchState::Open), 0, 20)
                .await?
        } else {
            Vec::new()
        };
        // A description not yet complete enough to cite has no kit: not an error here.
        let kit = self
            .manuscript_kit()
            .get(actor, &[v.id.to_string()], "apa", None)
            .await
            .ok();
        let found = self.extraction().of_version(&v.id).await?;
        Ok(DepositPageView {
            found,
            reviewer_links,
            depositor,
            transfers,
            deposit,
            files,
            uploads,
            events,
            is_owner,
            offers,
            open_batches,
            kit,
        })
    }
}
