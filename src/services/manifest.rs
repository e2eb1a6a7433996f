//! A depositor's checksum manifest: the checksums verification holds the files to.

use super::deposits::{DepositEvent, load_visible, record_event, require_editable};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::db::{self, files::ExpectedRow, now_ms};
use crate::model::Algorithm;
use crate::model::manifest::{Manifest, ManifestFormat};

/// What a manifest upload did.
#[derive(Debug, serde::Serialize)]
pub struct ManifestSummary {
    pub algorithm: String,
    pub entries: usize,
    /// Listed paths with no file yet: upload them before submitting.
    pub not_yet_uploaded: Vec<String>,
}

impl Services {
    /// Replace the deposit's manifest for the manifest's algorithm.
    pub async fn put_manifest(
        &self,
        actor: &Actor,
        id: &str,
        text: &str,
        algorithm: Option<Algorithm>,
        format: ManifestFormat,
    ) -> ServiceResult<ManifestSummary> {
        let manifest = Manifest::parse(text, algorithm, format)
            .map_err(|e| ServiceError::invalid("manifest", e.to_string()))?;
        let mut tx = self.db.begin_write().await?;
        let v = load_visible(&mut tx, actor, id).await?;
        require_editable(&v)?;
        db::files::clear_expected(&mut tx, id, "manifest", None).await?;
        let mut not_yet_uploaded = Vec::new();
        for (path, checksum) in &manifest.entries {
            db::files::add_expected(
                &mut tx,
                id,
                &ExpectedRow {
                    path: path.as_str().to_owned(),
                    algorithm: checksum.algorithm.as_str().to_owned(),
                    digest: checksum.hex.clone(),
                    source: "manifest".into(),
                },
            )
            .await?;
            if not_yet_uploaded.len() < 100
                && db::files::get_by_path(&mut tx, id, path.as_str())
                    .await?
                    .is_none()
            {
                not_yet_uploaded.push(path.as_str().to_owned());
            }
        }
        let event = DepositEvent {
            version_id: id,
            actor_id: Some(&actor.id),
            kind: "manifest",
            states: None,
            reason: Some(format!(
                "{} manifest with {} entries",
                manifest.algorithm,
                manifest.entries.len()
            )),
        };
        record_event(&mut tx, event, now_ms()).await?;
        tx.commit().await?;
        Ok(ManifestSummary {
            algorithm: manifest.algorithm.as_str().to_owned(),
            entries: manifest.entries.len(),
            not_yet_uploaded,
        })
    }
}
