//! The landing page's read model: everything a dataset's page shows, in one row of the
//! catalogue. It is rebuilt by a job after each change the public can see (release,
//! withdrawal, hold, new version, a mirror's copies) and used only while it was built
//! from the dataset's current `public_rev`, which those changes raise in their own
//! transactions: an uncached page is one read, and never an out-of-date one.

use super::public::PublicDataset;
use super::{ServiceError, ServiceResult};
use crate::db::landing::Current;
pub use crate::db::landing::{PageRow, Shown};
use crate::db::{self, Conn};
use crate::metadata::datacite::Resource;
use crate::metadata::profile::Facility;
use crate::model::ids::DatasetId;
use serde::{Deserialize, Serialize};

/// Files listed per page (and as Signposting items); the model holds one more, to know
/// whether another page follows.
pub const FILES_PER_PAGE: i64 = 200;

/// What a landing page shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Landing {
    pub dataset_id: String,
    pub version_id: String,
    pub version_number: i64,
    /// None while unreleased (a reviewer's or a held page).
    pub released_at: Option<i64>,
    pub record: Resource,
    pub facility: Facility,
    pub withdrawn_because: Option<String>,
    /// Every released version of the dataset: (number, DOI, withdrawn).
    pub versions: Vec<(i64, Option<String>, bool)>,
    pub held: Option<String>,
    /// The page of files asked for, with one more when another page follows.
    pub files: Vec<LandingFile>,
    pub file_count: i64,
    pub total_size: i64,
    /// Mirrors holding verified copies of every file, and when the oldest was checked.
    pub mirrors: Vec<(String, i64)>,
    /// The schema.org JSON-LD of the record.
    pub json_ld: String,
    /// Files pictured on the page's first view, each with the file drawn for it.
    #[serde(default)]
    pub pictures: Vec<(String, String)>,
}

/// How the web edge renders a page's default view. It sets one at start
/// (`services.landing().set_renderer`), and the job that rebuilds a model after a
/// change renders the page with it too.
pub trait RenderLanding: Send + Sync + std::fmt::Debug {
    /// What a page is rendered for (template version, public URL); a kept page with
    /// another key is rendered again.
    fn key(&self) -> String;
    fn render(&self, landing: &Landing) -> Result<PageRow, String>;
}

/// What the web edge gets for a page: the page as rendered before, or the model to
/// render (with the count its rendering may be kept under).
#[derive(Debug, Clone)]
pub enum LandingView {
    Page(PageRow, Shown),
    Model(Box<Landing>, Option<i64>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LandingFile {
    pub path: String,
    pub size: i64,
    pub sha256: String,
}

/// The public face of `dataset_id` changed in this transaction: models built before
/// are no longer used, and a job builds the new one. Returns true (a job was queued).
pub(super) async fn changed(
    conn: &mut Conn,
    dataset_id: &DatasetId,
    now: i64,
) -> ServiceResult<bool> {
    db::landing::bump(conn, dataset_id).await?;
    let job = super::jobs::Job::Landing {
        dataset_id: dataset_id.clone(),
    };
    super::jobs::enqueue(conn, &job, now).await?;
    Ok(true)
}
super::capability!(landing);

impl Service<'_> {
    /// A dataset's landing page (the latest release when `number` is None, falling
    /// back to the held page its registered DOI resolves to), files after `after`.
    pub async fn get(
        &self,
        dataset_id: &str,
        number: Option<i64>,
        after: &str,
    ) -> ServiceResult<Landing> {
        match self.view(dataset_id, number, after, "").await? {
            LandingView::Model(l, _) => Ok(*l),
            LandingView::Page(..) => Err(ServiceError::Internal(
                "a rendered page was given where its model was asked for".into(),
            )),
        }
    }

    /// A landing page as the web edge serves it: the page rendered for `page_key` (the
    /// Arca version and public URL it was rendered for) when one is kept and current,
    /// else its model, with the count to keep the rendering under when there is one.
    pub async fn view(
        &self,
        dataset_id: &str,
        number: Option<i64>,
        after: &str,
        page_key: &str,
    ) -> ServiceResult<LandingView> {
        if !crate::model::ids::looks_like_id(dataset_id) {
            return Err(ServiceError::NotFound("dataset"));
        }
        let slot = number.unwrap_or(0);
        if !after.is_empty() {
            let l = self.build_landing(dataset_id, number, after).await?;
            return Ok(LandingView::Model(Box::new(l), None));
        }
        let rev = {
            let mut conn = self.db.conn().await?;
            match db::landing::current(&mut conn, dataset_id, slot, page_key).await? {
                Some(Current::Page(p, shown)) if !page_key.is_empty() => {
                    return Ok(LandingView::Page(p, shown));
                }
                // A model that no longer parses (an older shape) is built again.
                Some(Current::Model { model, rev }) => {
                    if let Ok(l) = serde_json::from_str(&model) {
                        return Ok(LandingView::Model(Box::new(l), Some(rev)));
                    }
                    Some(rev)
                }
                // Read before building: a change made meanwhile raises it, and the
                // model kept below is not used.
                _ => db::landing::rev(&mut conn, dataset_id).await?,
            }
        };
        let landing = self.build_landing(dataset_id, number, after).await?;
        if let Some(rev) = rev {
            let model = serde_json::to_string(&landing)
                .map_err(|e| ServiceError::Internal(format!("landing model: {e}")))?;
            let mut tx = self.db.begin_write().await?;
            db::landing::put(&mut tx, dataset_id, slot, rev, &model, &landing.version_id).await?;
            tx.commit().await?;
        }
        Ok(LandingView::Model(Box::new(landing), rev))
    }

    /// Keep the page rendered from the model of count `rev` (from [`Self::landing_view`]).
    pub async fn keep_page(
        &self,
        dataset_id: &str,
        number: Option<i64>,
        rev: i64,
        page_key: &str,
        page: &PageRow,
    ) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        db::landing::keep_page(
            &mut tx,
            dataset_id,
            number.unwrap_or(0),
            rev,
            page_key,
            page,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub fn set_renderer(&self, renderer: std::sync::Arc<dyn RenderLanding>) {
        let _ = self.landing_renderer.set(renderer);
    }

    /// The job: build the dataset's page after a change (its model, and the page
    /// itself when a renderer is set), so the first reader (often a crawler) gets it in
    /// one read.
    pub async fn refresh(&self, dataset_id: &str) -> ServiceResult<()> {
        let renderer = self.landing_renderer.get();
        let key = renderer.map(|r| r.key()).unwrap_or_default();
        match self.view(dataset_id, None, "", &key).await {
            Ok(LandingView::Model(l, Some(rev))) => {
                if let Some(r) = renderer {
                    let page = r.render(&l).map_err(ServiceError::Internal)?;
                    self.keep_page(dataset_id, None, rev, &key, &page).await?;
                }
                Ok(())
            }
            Ok(_) | Err(ServiceError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn build_landing(
        &self,
        dataset_id: &str,
        number: Option<i64>,
        after: &str,
    ) -> ServiceResult<Landing> {
        // A version asked for by number is that version or nothing.
        let d = match self.public().version(dataset_id, number).await {
            Err(ServiceError::NotFound(_)) if number.is_none() => {
                self.public().held_dataset(dataset_id).await?
            }
            found => found?,
        };
        self.of(d, after, true).await
    }

    /// The page of a version as given (a reviewer's view passes `mirrors` false).
    pub async fn of(&self, d: PublicDataset, after: &str, mirrors: bool) -> ServiceResult<Landing> {
        let shows_files = d.withdrawn_because.is_none() && d.held.is_none();
        let mut conn = self.db.conn().await?;
        let (files, (file_count, total_size)) = if shows_files {
            let files =
                db::files::list(&mut conn, d.version_id(), after, FILES_PER_PAGE + 1).await?;
            (files, db::files::totals(&mut conn, d.version_id()).await?)
        } else {
            (Vec::new(), (0, 0))
        };
        let mirrors = if mirrors && shows_files {
            db::mirrors::verified_holders(&mut conn, d.version_id()).await?
        } else {
            Vec::new()
        };
        drop(conn);
        let pictures = if shows_files && after.is_empty() {
            let found = self.extraction().of_version(d.version_id()).await?;
            found
                .pictures()
                .map(|(p, drawn)| (p.to_owned(), drawn.to_owned()))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Landing {
            pictures,
            json_ld: crate::metadata::schema_org::schema_org(&d.record).to_string(),
            dataset_id: d.dataset_id().to_owned(),
            version_id: d.version_id().to_owned(),
            version_number: d.version.version_number,
            released_at: d.released_at,
            record: d.record,
            facility: d.facility,
            withdrawn_because: d.withdrawn_because,
            versions: d.versions,
            held: d.held,
            files: files
                .into_iter()
                .map(|f| LandingFile {
                    path: f.path,
                    size: f.size,
                    sha256: f.sha256,
                })
                .collect(),
            file_count,
            total_size,
            mirrors,
        })
    }
}

impl Service<'_> {
    /// The dataset's page changes when the deposit enters or leaves a state that has
    /// one: its read model is rebuilt.
    pub(super) async fn follows(
        &self,
        tx: &mut db::Tx,
        t: &mut super::transitions::Transition<'_, '_>,
    ) -> ServiceResult<super::transitions::Reacted> {
        let enqueued = if t.from.has_public_page() || t.to.has_public_page() {
            changed(tx, &t.version.dataset_id, t.now).await?
        } else {
            false
        };
        Ok(super::transitions::Reacted::enqueued(enqueued))
    }
}
