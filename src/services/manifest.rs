//! A depositor's checksum manifest: the checksums verification holds the files to.

use super::deposits::{load_visible, require_editable};
use super::events::{DepositEvent, record_event};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, now_ms};
use crate::model::Algorithm;
use crate::model::manifest::{Manifest, ManifestFormat};

/// Manifest entries written per transaction while staging.
const STAGE_ROWS_PER_TRANSACTION: usize = 10_000;

/// What a manifest upload did.
/// What a manifest says, as it was adopted.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ManifestSummary {
    /// sha256, sha512, sha1 or md5.
    pub algorithm: String,
    /// How many files it lists.
    pub entries: usize,
    /// Listed paths with no file yet: upload them before submitting.
    pub not_yet_uploaded: Vec<String>,
}
super::capability!(manifest);

impl Service<'_> {
    /// Replace the deposit's manifest for the manifest's algorithm.
    pub async fn put(
        &self,
        actor: &Actor,
        id: &str,
        text: &str,
        algorithm: Option<Algorithm>,
        format: ManifestFormat,
    ) -> ServiceResult<ManifestSummary> {
        let manifest = Manifest::parse(text, algorithm, format)
            .map_err(|e| ServiceError::invalid("manifest", e.to_string()))?;
        // Checked before anything is written, and again in the transaction that adopts it.
        {
            let mut conn = self.db.conn().await?;
            let v = load_visible(&mut conn, actor, id).await?;
            require_editable(&v)?;
        }
        // Staged in short transactions, so other writers get their turn between them.
        let staging_id = crate::model::ids::new_id();
        let rows: Vec<(&str, &str, &str)> = manifest
            .entries
            .iter()
            .map(|(p, c)| (p.as_str(), c.algorithm.as_str(), c.hex.as_str()))
            .collect();
        let staged = async {
            for batch in rows.chunks(STAGE_ROWS_PER_TRANSACTION) {
                let mut tx = self.db.begin_write().await?;
                db::files::stage_manifest(&mut tx, &staging_id, id, batch, now_ms()).await?;
                tx.commit().await?;
            }
            ServiceResult::Ok(())
        }
        .await;
        let result = async {
            staged?;
            let mut tx = self.db.begin_write().await?;
            let v = load_visible(&mut tx, actor, id).await?;
            require_editable(&v)?;
            db::files::adopt_staged_manifest(&mut tx, &staging_id, id).await?;
            let not_yet_uploaded = db::files::expected_without_file(&mut tx, id, 100).await?;
            ServiceResult::Ok((tx, not_yet_uploaded))
        }
        .await;
        let (mut tx, not_yet_uploaded) = match result {
            Ok(r) => r,
            Err(e) => {
                let mut conn = self.db.conn().await?;
                db::files::drop_staged_manifest(&mut conn, &staging_id).await?;
                return Err(e);
            }
        };
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
