//! New versions of released datasets, and the concept DOI that always names the latest.
//! A new version starts as a draft holding the same files (the same stored objects:
//! nothing is uploaded or stored again) and the same metadata, linked to the previous
//! version (IsNewVersionOf) and to the concept DOI (IsVersionOf).

use super::deposits::load_visible;
use super::events::{DepositEvent, record_event};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, Tx, files::FileRow, now_ms, versions::VersionRow};
use crate::model::{DepositState, ids};
use serde_json::{Value, json};

/// Add a related DOI to DataCite JSON metadata unless it is there already.
fn add_related(metadata: &mut Value, doi: &str, relation: &str) {
    if !metadata.is_object() {
        *metadata = json!({});
    }
    let list = metadata
        .as_object_mut()
        .expect("an object")
        .entry("relatedIdentifiers")
        .or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    let list = list.as_array_mut().expect("an array");
    let present = list.iter().any(|r| {
        r["relatedIdentifier"]
            .as_str()
            .is_some_and(|d| d.eq_ignore_ascii_case(doi))
            && r["relationType"] == relation
    });
    if !present {
        list.push(json!({
            "relatedIdentifier": doi,
            "relatedIdentifierType": "DOI",
            "relationType": relation,
        }));
    }
}
super::capability!(versions);

impl Service<'_> {
    /// Start a new version of a released dataset.
    pub async fn create(&self, actor: &Actor, id: &str) -> ServiceResult<VersionRow> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let prev = load_visible(&mut tx, actor, id).await?;
        if prev.state != DepositState::Released {
            return Err(ServiceError::Conflict(
                "only a released version can get a new version".into(),
            ));
        }
        let all = db::versions::of_dataset(&mut tx, &prev.dataset_id).await?;
        if let Some(open) = all
            .iter()
            .find(|v| !matches!(v.state, DepositState::Released | DepositState::Withdrawn))
        {
            return Err(ServiceError::Conflict(format!(
                "version {} ({}) is already being prepared: finish or withdraw it first",
                open.version_number, open.id
            )));
        }
        let number = all.iter().map(|v| v.version_number).max().unwrap_or(0) + 1;
        let concept = self.ensure_concept(&mut tx, &prev, actor, now).await?;
        let mut metadata = prev.metadata.clone();
        if let Some(doi) = &prev.doi {
            add_related(&mut metadata, doi, "IsNewVersionOf");
        }
        add_related(&mut metadata, &concept, "IsVersionOf");
        metadata["version"] = json!(number.to_string());
        let v = VersionRow {
            id: crate::model::ids::DepositId::generate(),
            dataset_id: prev.dataset_id.clone(),
            owner_id: prev.owner_id.clone(),
            version_number: number,
            state: DepositState::Draft,
            metadata,
            facility: prev.facility.clone(),
            doi: None,
            verification: None,
            created_at: now,
            updated_at: now,
        };
        db::versions::insert_version(&mut tx, &v).await?;
        let mut after = String::new();
        let mut copied = 0usize;
        loop {
            let page = db::files::list(&mut tx, &prev.id, &after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.path.clone();
            for f in page {
                // The same stored object: claimed again, never copied (and read for its
                // header only if no version has been yet).
                db::files::claim_object(&mut tx, &f.sha256, f.size, now).await?;
                super::extraction::queue(&mut tx, &f.sha256, now).await?;
                db::files::insert(
                    &mut tx,
                    &FileRow {
                        id: ids::new_id(),
                        version_id: v.id.to_string(),
                        status: crate::model::FileStatus::Received,
                        problem: None,
                        verified_at: None,
                        ..f
                    },
                    now,
                )
                .await?;
                copied += 1;
            }
        }
        for (subject, kind, reason) in [
            (
                v.id.as_str(),
                "create",
                format!(
                    "version {number} of the dataset, from version {} ({} carried over)",
                    prev.version_number,
                    crate::model::words::count(copied as u64, "file", "files")
                ),
            ),
            (
                prev.id.as_str(),
                "new_version",
                format!("version {number} started: {}", v.id),
            ),
        ] {
            let event = DepositEvent {
                version_id: subject,
                actor_id: Some(&actor.id),
                kind,
                states: (kind == "create").then_some((None, DepositState::Draft)),
                reason: Some(reason),
            };
            record_event(&mut tx, event, now).await?;
        }
        tx.commit().await?;
        self.jobs_enqueued();
        Ok(v)
    }

    /// The dataset's concept DOI, reserved (and made to follow the latest release) the
    /// first time the dataset gets a second version.
    async fn ensure_concept(
        &self,
        tx: &mut Tx,
        latest: &VersionRow,
        actor: &Actor,
        now: i64,
    ) -> ServiceResult<String> {
        if let Some(doi) = db::versions::concept_doi(tx, &latest.dataset_id).await? {
            return Ok(doi);
        }
        let (doi, _) = self
            .dois()
            .reserve_in_tx(tx, latest, Some(&actor.id), now, true)
            .await?;
        db::versions::set_concept_doi(tx, &latest.dataset_id, &doi).await?;
        self.dois()
            .point_concept(tx, &latest.dataset_id, now)
            .await?;
        // The earlier versions' DOIs now land on their own version pages.
        for p in db::published::of_dataset(tx, &latest.dataset_id).await? {
            if let Some(d) = &p.version.doi {
                self.dois().enqueue_sync(tx, d, now).await?;
            }
        }
        Ok(doi)
    }
}
