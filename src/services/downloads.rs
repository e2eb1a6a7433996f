//! What a reader needs to download a version: its files (path, size, SHA-256), a page
//! at a time, each with the mirrors that hold a verified copy and a URL there. The
//! archive's own URLs are the web edge's to write.

use super::public::PublicDataset;
use super::{ServiceError, ServiceResult};
use crate::db;
use crate::model::MirrorPolicy;
use crate::storage::mirror::{Mirror, Readers};
use std::time::Duration;

/// Files read per page of a manifest.
pub const MANIFEST_PAGE: i64 = 1_000;

/// A version's manifest, before its files: what it lists and where else they are.
#[derive(Clone)]
pub struct Manifest {
    pub dataset: PublicDataset,
    pub file_count: i64,
    pub total_size: i64,
    /// Mirrors open to readers for this version (only trusted ones signing URLs, for a
    /// version not yet released).
    mirrors: Vec<Mirror>,
    /// When signed mirror URLs stop working (ms); None when none are signed.
    pub urls_expire_at: Option<i64>,
    valid_for: Duration,
}

/// One file of a manifest.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub size: i64,
    pub sha256: String,
    /// (mirror, URL) for each mirror open to readers with a verified copy.
    pub mirrors: Vec<(String, String)>,
}

super::capability!(downloads);

impl Service<'_> {
    /// The manifest of a released version (the latest when `version` is None). Withdrawn
    /// versions are gone (410), held ones not found.
    pub async fn released(
        &self,
        dataset_id: &str,
        version: Option<i64>,
    ) -> ServiceResult<Manifest> {
        let d = self.public().version(dataset_id, version).await?;
        // A withdrawn or held version lists nothing.
        self.public().files(&d, "", 1).await?;
        self.manifest(d, |_, readers| !matches!(readers, Readers::None))
            .await
    }

    /// The manifest a reviewer link opens: mirror URLs only from mirrors trusted with
    /// unreleased data, and only signed ones (a public bucket would publish it).
    pub async fn for_reviewer(&self, token: &str) -> ServiceResult<Manifest> {
        let d = self.reviewers().dataset(token, "manifest").await?;
        self.manifest(d, |policy, readers| {
            policy == MirrorPolicy::All && *readers == Readers::Presigned
        })
        .await
    }

    async fn manifest(
        &self,
        dataset: PublicDataset,
        open_to: impl Fn(MirrorPolicy, &Readers) -> bool,
    ) -> ServiceResult<Manifest> {
        let mut conn = self.db.conn().await?;
        let (file_count, total_size) = db::files::totals(&mut conn, dataset.version_id()).await?;
        let specs = db::mirrors::mirrors(&mut conn).await?;
        drop(conn);
        let part_size = self.config.mirrors.part_size;
        let mut mirrors = Vec::new();
        for spec in specs.iter().filter(|m| open_to(m.policy, &m.readers)) {
            match Mirror::open(spec, part_size) {
                Ok(m) => mirrors.push(m),
                // A mirror whose credentials are gone is left out; readers still have
                // the archive.
                Err(e) => tracing::warn!(mirror = %spec.name, "left out of a manifest: {e}"),
            }
        }
        let hours = self.config.mirrors.presigned_url_hours;
        let valid_for = Duration::from_secs(hours * 3600);
        let urls_expire_at = specs
            .iter()
            .any(|m| m.readers == Readers::Presigned && mirrors.iter().any(|o| o.name == m.name))
            .then(|| db::now_ms() + valid_for.as_millis() as i64);
        Ok(Manifest {
            dataset,
            file_count,
            total_size,
            mirrors,
            urls_expire_at,
            valid_for,
        })
    }

    /// The manifest's files after `after`, in path order, a page at a time.
    pub async fn page(&self, m: &Manifest, after: &str) -> ServiceResult<Vec<Entry>> {
        let mut conn = self.db.conn().await?;
        let files =
            db::files::list(&mut conn, m.dataset.version_id(), after, MANIFEST_PAGE).await?;
        let names: Vec<String> = m.mirrors.iter().map(|x| x.name.clone()).collect();
        let hashes: Vec<&str> = files.iter().map(|f| f.sha256.as_str()).collect();
        let held: std::collections::HashSet<(String, String)> =
            db::mirrors::replicas_among(&mut conn, &names, &hashes)
                .await?
                .into_iter()
                .collect();
        drop(conn);
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let mut mirrors = Vec::new();
            for mirror in &m.mirrors {
                if !held.contains(&(mirror.name.clone(), f.sha256.clone())) {
                    continue;
                }
                if let Some(url) = mirror
                    .reader_url(&f.sha256, m.valid_for)
                    .await
                    .map_err(ServiceError::from)?
                {
                    mirrors.push((mirror.name.clone(), url));
                }
            }
            out.push(Entry {
                path: f.path,
                size: f.size,
                sha256: f.sha256,
                mirrors,
            });
        }
        Ok(out)
    }
}
