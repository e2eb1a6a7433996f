//! What anyone may read without signing in: released datasets, their files and their
//! records (invariant 4: nothing of an unreleased version, and no bytes of a withdrawn
//! one).

use super::records::record_and_profile;
use super::{ServiceError, ServiceResult};
use crate::db::{self, files::FileRow, published::Published, versions::VersionRow};
use crate::metadata::datacite::Resource;
use crate::metadata::profile::Facility;

/// A version as readers see it: released (or withdrawn) for everyone, or unreleased
/// for holders of a reviewer link.
#[derive(Debug, Clone)]
pub struct PublicDataset {
    pub version: VersionRow,
    /// None while unreleased (a reviewer's view).
    pub released_at: Option<i64>,
    pub record: Resource,
    pub facility: Facility,
    /// Why it was withdrawn, for the tombstone.
    pub withdrawn_because: Option<String>,
    /// Every released version of the dataset: (number, DOI, withdrawn).
    pub versions: Vec<(i64, Option<String>, bool)>,
    /// For a dataset on hold: what it waits for. Its DOI is registered and resolves to
    /// a page that says so, with no files.
    pub held: Option<String>,
}

impl PublicDataset {
    pub(super) fn unreleased(version: VersionRow) -> ServiceResult<Self> {
        let (record, facility) = record_and_profile(&version)?;
        Ok(PublicDataset {
            version,
            released_at: None,
            record,
            facility,
            withdrawn_because: None,
            versions: Vec::new(),
            held: None,
        })
    }

    pub fn version_id(&self) -> &str {
        &self.version.id
    }

    pub fn dataset_id(&self) -> &str {
        &self.version.dataset_id
    }

    fn require_files_served(&self) -> ServiceResult<()> {
        if self.held.is_some() {
            return Err(ServiceError::NotFound("file"));
        }
        match &self.withdrawn_because {
            Some(why) => Err(ServiceError::Withdrawn(why.clone())),
            None => Ok(()),
        }
    }
}

/// A month of releases in the sitemap: (year, month).
pub type Month = (i32, u32);
super::capability!(public);

impl Service<'_> {
    /// The dataset's latest released version; "not found" for anything never released.
    pub async fn dataset(&self, dataset_id: &str) -> ServiceResult<PublicDataset> {
        self.version(dataset_id, None).await
    }

    /// A dataset never released whose latest version is on hold with a DOI: the page
    /// its registered DOI resolves to. Anything else unreleased is not found.
    pub async fn held_dataset(&self, dataset_id: &str) -> ServiceResult<PublicDataset> {
        if !crate::model::ids::looks_like_id(dataset_id) {
            return Err(ServiceError::NotFound("dataset"));
        }
        let mut conn = self.db.conn().await?;
        let latest = db::versions::of_dataset(&mut conn, dataset_id).await?.pop();
        let v = latest
            .filter(|v| v.state == crate::model::DepositState::OnHold && v.doi.is_some())
            .ok_or(ServiceError::NotFound("dataset"))?;
        let hold = db::holds::open_for(&mut conn, &v.id).await?;
        let mut d = PublicDataset::unreleased(v)?;
        d.held = Some(match hold {
            Some(h) => crate::model::hold::describe_hold(h.kind, &h.target),
            None => "on hold until publication".into(),
        });
        Ok(d)
    }

    /// One released version of a dataset (the latest when `number` is None).
    pub async fn version(
        &self,
        dataset_id: &str,
        number: Option<i64>,
    ) -> ServiceResult<PublicDataset> {
        if !crate::model::ids::looks_like_id(dataset_id) {
            return Err(ServiceError::NotFound("dataset"));
        }
        let mut conn = self.db.conn().await?;
        let all = db::published::of_dataset(&mut conn, dataset_id).await?;
        let versions = all
            .iter()
            .map(|p| (p.version.version_number, p.version.doi.clone(), p.deleted))
            .collect();
        // In version order: the latest release is the last.
        let published = match number {
            Some(n) => all.into_iter().find(|p| p.version.version_number == n),
            None => all.into_iter().last(),
        }
        .ok_or(ServiceError::NotFound("dataset"))?;
        let withdrawn_because = if published.deleted {
            let events = db::events::for_subject(&mut conn, &published.version.id).await?;
            Some(
                events
                    .iter()
                    .rev()
                    .find(|e| e.kind == "withdraw")
                    .and_then(|e| e.reason.clone())
                    .unwrap_or_else(|| "withdrawn by the archive".into()),
            )
        } else {
            None
        };
        let (record, facility) = record_and_profile(&published.version)?;
        Ok(PublicDataset {
            released_at: Some(published.released_at),
            version: published.version,
            record,
            facility,
            withdrawn_because,
            versions,
            held: None,
        })
    }

    /// One page of a public dataset's files, in path order after `after`.
    pub async fn files(
        &self,
        d: &PublicDataset,
        after: &str,
        limit: i64,
    ) -> ServiceResult<Vec<FileRow>> {
        d.require_files_served()?;
        let mut conn = self.db.conn().await?;
        Ok(db::files::list(&mut conn, d.version_id(), after, limit.clamp(1, 10_000)).await?)
    }

    /// A file of a public dataset (of one version, or the latest), ready to stream.
    pub async fn file(
        &self,
        dataset_id: &str,
        version: Option<i64>,
        path: &str,
    ) -> ServiceResult<FileRow> {
        let d = self.version(dataset_id, version).await?;
        d.require_files_served()?;
        let mut conn = self.db.conn().await?;
        db::files::get_by_path(&mut conn, d.version_id(), path)
            .await?
            .ok_or(ServiceError::NotFound("file"))
    }

    /// The months in which public datasets were released, oldest first.
    pub async fn sitemap_months(&self) -> ServiceResult<Vec<Month>> {
        let mut conn = self.db.conn().await?;
        let Some((lo, hi)) = db::published::release_span(&mut conn).await? else {
            return Ok(Vec::new());
        };
        let (mut y, mut m) = month_of(lo);
        let end = month_of(hi);
        let mut months = vec![(y, m)];
        while (y, m) < end {
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            months.push((y, m));
        }
        Ok(months)
    }

    /// Public datasets released in one month (at most 50,000, the sitemap limit).
    pub async fn sitemap_month(&self, (y, m): Month) -> ServiceResult<Vec<Published>> {
        let start = month_start(y, m).ok_or(ServiceError::NotFound("sitemap"))?;
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let end = month_start(ny, nm).ok_or(ServiceError::NotFound("sitemap"))?;
        let mut conn = self.db.conn().await?;
        Ok(db::published::released_between(&mut conn, start, end, 50_000).await?)
    }
}

fn month_of(ms: i64) -> Month {
    let day = crate::model::date::utc_day(ms);
    (
        day[..4].parse().unwrap_or(1970),
        day[5..7].parse().unwrap_or(1),
    )
}

fn month_start(y: i32, m: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1970..=9999).contains(&y) {
        return None;
    }
    crate::model::date::parse_utc_seconds(&format!("{y:04}-{m:02}-01T00:00:00Z"))
}

impl Service<'_> {
    /// A release publishes the version (its OAI-PMH record and sets) and puts it in the
    /// search index; a withdrawal takes it out of both.
    pub(super) async fn follows(
        &self,
        tx: &mut crate::db::Tx,
        t: &mut super::transitions::Transition<'_, '_>,
    ) -> ServiceResult<super::transitions::Reacted> {
        let v = &t.version;
        match t.change.action {
            crate::model::Action::Release => {
                let (record, facility) = record_and_profile(v)?;
                let sets = crate::oai::sets_of(&record, &facility);
                db::published::publish(tx, v, &sets, t.now).await?;
                super::search::reindex(tx, self.db.backend, &v.dataset_id).await?;
            }
            crate::model::Action::Withdraw => {
                db::published::withdraw(tx, &v.id, t.now).await?;
                super::search::reindex(tx, self.db.backend, &v.dataset_id).await?;
            }
            _ => {}
        }
        Ok(super::transitions::Reacted::default())
    }
}
