//! DOIs: reserve one for a deposit, make its DataCite state follow the dataset, and
//! converge DataCite to what the archive wants (invariant 5): every remote call runs from
//! the job queue, and each run reads the DOI back and compares.

use super::deposits::load_visible;
use super::events::{DepositEvent, record_event};
use super::jobs::Job;
use super::notices::{Notice, To};
use super::records::record_of;
use super::{Actor, ServiceError, ServiceResult};
use crate::config::DoiProvider;
use crate::datacite::DataciteError;
use crate::db::{self, Tx, dois::DoiRow, now_ms, versions::VersionRow};
use crate::metadata::datacite::Resource;
use crate::metadata::datacite::model::RelatedIdentifier;
use crate::metadata::datacite::vocab::{RelatedIdentifierType, RelationType};
use crate::model::doi::{Doi, DoiState, SuffixScheme};
use crate::model::{Action, DepositState, NoticeKind};
use serde_json::{Value, json};

/// How a DOI's remote state compares with what the archive wants.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Drift {
    pub doi: String,
    pub wanted: DoiState,
    pub remote: Option<String>,
}
super::capability!(dois);

impl Service<'_> {
    fn scheme(&self) -> SuffixScheme {
        SuffixScheme {
            lead: self.config.doi.suffix_lead.clone(),
            random_chars: self.config.doi.random_chars,
        }
    }

    /// Reserve a DOI for `v` inside `tx` (`concept`: the dataset's concept DOI, which
    /// points at `v` without becoming its own). A DOI reserved once is never reserved
    /// again: on the (rare) collision a new suffix is drawn.
    pub(super) async fn reserve_in_tx(
        &self,
        tx: &mut Tx,
        v: &VersionRow,
        actor_id: Option<&str>,
        now: i64,
        concept: bool,
    ) -> ServiceResult<(String, bool)> {
        let scheme = self.scheme();
        for _ in 0..8 {
            let mut random = vec![0u8; scheme.random_chars];
            rand::fill(random.as_mut_slice());
            let doi = format!("{}/{}", self.config.doi.prefix, scheme.make(&random));
            let row = DoiRow {
                doi: doi.clone(),
                version_id: v.id.to_string(),
                provider: self.config.doi.provider,
                wanted_state: DoiState::Draft,
                remote_state: None,
                synced_at: None,
                last_error: None,
            };
            if !db::dois::insert_unless_taken(tx, &row, now, !concept).await? {
                continue;
            }
            let event = DepositEvent {
                version_id: &v.id,
                actor_id,
                kind: "doi_reserved",
                states: None,
                reason: Some(if concept {
                    format!("concept DOI {doi}: always the latest version")
                } else {
                    doi.clone()
                }),
            };
            record_event(tx, event, now).await?;
            let enqueued = self.enqueue_sync(tx, &doi, now).await?;
            return Ok((doi, enqueued));
        }
        Err(ServiceError::Internal(
            "could not draw an unused DOI suffix".into(),
        ))
    }

    pub(super) async fn enqueue_sync(
        &self,
        tx: &mut Tx,
        doi: &str,
        now: i64,
    ) -> ServiceResult<bool> {
        if self.config.doi.provider == DoiProvider::Local {
            return Ok(false);
        }
        let job = Job::DoiSync {
            doi: doi.to_owned(),
        };
        super::jobs::enqueue(tx, &job, now).await?;
        Ok(true)
    }

    /// After `action` moved the deposit, point its DOI at the matching state. Returns
    /// whether a sync job was enqueued.
    pub(super) async fn follow_doi(
        &self,
        tx: &mut Tx,
        doi: &str,
        action: Action,
        now: i64,
    ) -> ServiceResult<bool> {
        let row = db::dois::get(tx, doi)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("DOI {doi} has no record")))?;
        let current = row.wanted_state;
        let next = current.after(action);
        if next == current {
            return Ok(false);
        }
        db::dois::set_wanted(tx, doi, next, now).await?;
        self.enqueue_sync(tx, doi, now).await
    }

    /// `POST /api/v1/deposits/{id}/doi`: reserve the DOI an author can put in the
    /// manuscript. Asking again returns the same DOI.
    pub async fn reserve(&self, actor: &Actor, id: &str) -> ServiceResult<VersionRow> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let mut v = load_visible(&mut tx, actor, id).await?;
        if v.doi.is_some() {
            return Ok(v);
        }
        if matches!(v.state, DepositState::Withdrawn) {
            return Err(ServiceError::Conflict(
                "a withdrawn deposit gets no DOI".into(),
            ));
        }
        let (doi, enqueued) = self
            .reserve_in_tx(&mut tx, &v, Some(&actor.id), now, false)
            .await?;
        tx.commit().await?;
        if enqueued {
            self.jobs_enqueued();
        }
        v.doi = Some(doi);
        Ok(v)
    }

    /// What DataCite should hold for the DOI: the record it stands for and the landing
    /// page URL.
    fn remote_attributes(&self, target: &DoiTarget) -> Value {
        let mut attrs = serde_json::to_value(&target.record).unwrap_or_else(|_| json!({}));
        if !attrs.is_object() {
            attrs = json!({});
        }
        if let Some(o) = attrs.as_object_mut() {
            o.remove("doi");
        }
        let base = self.config.public_base();
        attrs["url"] = json!(format!("{base}{}", target.landing));
        attrs
    }

    /// The `doi_sync` job: make DataCite show the DOI in the wanted state with the
    /// current metadata, then read it back. Safe to run any number of times.
    pub async fn sync(&self, doi: &str) -> Result<(), DataciteError> {
        let Some(client) = &self.datacite else {
            return Ok(());
        };
        let internal = |e: ServiceError| DataciteError::Unavailable(format!("archive: {e}"));
        let mut conn = self.db.conn().await.map_err(|e| internal(e.into()))?;
        let Some(row) = db::dois::get(&mut conn, doi)
            .await
            .map_err(|e| internal(e.into()))?
        else {
            return Ok(());
        };
        let target = self
            .doi_target(&mut conn, &row)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => {
                    DataciteError::Protocol(format!("DOI {doi} points at no deposit"))
                }
                other => internal(other),
            })?;
        drop(conn);
        let wanted = row.wanted_state;
        let attrs = self.remote_attributes(&target);
        let result = async {
            let remote = match client.get(doi).await? {
                Some(r) => r,
                None => match client.create_draft(doi, &json!({})).await {
                    Ok(r) => r,
                    // Created by an earlier attempt whose answer was lost.
                    Err(DataciteError::Rejected(why))
                        if why.iter().any(|w| w.contains("taken")) =>
                    {
                        client.get(doi).await?.ok_or_else(|| {
                            DataciteError::Protocol("DOI taken but not readable".into())
                        })?
                    }
                    Err(e) => return Err(e),
                },
            };
            let have: DoiState = remote
                .state
                .parse()
                .map_err(|e| DataciteError::Protocol(format!("DataCite answered an {e}")))?;
            // Drafts carry what metadata there is; the event moves the state.
            client.update(doi, &attrs, have.event_to(wanted)).await?;
            // DataCite ignores a transition it does not allow instead of refusing it:
            // only reading back tells whether the change took.
            let after = client.get(doi).await?.ok_or_else(|| {
                DataciteError::Protocol(format!("{doi} vanished after an update"))
            })?;
            if after.state != wanted.as_str() {
                return Err(DataciteError::Unavailable(format!(
                    "DataCite shows {doi} as {} after the update, not {wanted}",
                    after.state
                )));
            }
            Ok((
                after.state,
                have == DoiState::Draft && wanted != DoiState::Draft,
            ))
        }
        .await;
        let mut conn = self.db.conn().await.map_err(|e| internal(e.into()))?;
        let now = now_ms();
        match &result {
            Ok((state, _)) => db::dois::record_sync(&mut conn, doi, Some(state), None, now).await,
            Err(e) => db::dois::record_sync(&mut conn, doi, None, Some(&e.to_string()), now).await,
        }
        .map_err(|e| internal(e.into()))?;
        drop(conn);
        if let Ok((_, true)) = &result {
            let v = &target.version;
            let notice = Notice {
                to: To::Person(&v.owner_id),
                kind: NoticeKind::DoiRegistered,
                deposit: Some(&*v.id),
                message: format!(
                    "'{}': the DOI is registered at DataCite; cite the data as https://doi.org/{}",
                    super::records::title_of(v),
                    doi.to_lowercase()
                ),
            };
            self.notices().notify_now(notice).await.map_err(internal)?;
        }
        result.map(|_| ())
    }

    /// `arca doi reconcile`: compare every DataCite DOI with what the archive wants and
    /// enqueue a sync for each that differs. Returns the differences found.
    pub async fn reconcile(&self) -> ServiceResult<Vec<Drift>> {
        let Some(client) = &self.datacite else {
            return Ok(Vec::new());
        };
        let mut drift = Vec::new();
        let mut after = String::new();
        loop {
            let mut conn = self.db.conn().await?;
            let page = db::dois::page(&mut conn, "datacite", &after, 200).await?;
            drop(conn);
            let Some(last) = page.last() else { break };
            after = last.doi.clone();
            for row in page {
                let remote = client
                    .get(&row.doi)
                    .await
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                let remote_state = remote.map(|r| r.state);
                if remote_state.as_deref() != Some(row.wanted_state.as_str()) {
                    let now = now_ms();
                    let mut tx = self.db.begin_write().await?;
                    self.enqueue_sync(&mut tx, &row.doi, now).await?;
                    tx.commit().await?;
                    drift.push(Drift {
                        doi: row.doi,
                        wanted: row.wanted_state,
                        remote: remote_state,
                    });
                }
            }
        }
        if !drift.is_empty() {
            self.jobs_enqueued();
        }
        Ok(drift)
    }
}

/// What a DOI resolves to for anyone: the dataset and its DataCite record. A draft DOI
/// resolves nowhere (DataCite does not show it), so it is not found here either.
pub struct PublicDoi {
    pub dataset_id: String,
    pub record: crate::metadata::datacite::Resource,
    /// The landing page path: the dataset for a concept DOI, else that version.
    pub landing: String,
    /// The released version the DOI stands for (its use counts for it); None while
    /// it is not released.
    pub released_version: Option<String>,
}

impl Service<'_> {
    pub async fn resolve(&self, raw: &str) -> ServiceResult<PublicDoi> {
        let doi = parse_doi(raw).map_err(|_| ServiceError::NotFound("DOI"))?;
        let mut conn = self.db.conn().await?;
        let row = db::dois::get(&mut conn, doi.as_str())
            .await?
            .filter(|r| r.wanted_state != DoiState::Draft)
            .ok_or(ServiceError::NotFound("DOI"))?;
        let target = self.doi_target(&mut conn, &row).await?;
        let released = target.version.state == crate::model::DepositState::Released;
        Ok(PublicDoi {
            released_version: released.then(|| target.version.id.to_string()),
            dataset_id: target.version.dataset_id.into(),
            record: target.record,
            landing: target.landing,
        })
    }

    /// A deposit's record, for its depositors and curators (to cite it before release).
    pub async fn record(
        &self,
        actor: &Actor,
        id: &str,
    ) -> ServiceResult<crate::metadata::datacite::Resource> {
        let mut conn = self.db.conn().await?;
        let v = load_visible(&mut conn, actor, id).await?;
        super::records::record_of(&v)
    }

    /// The deposit's DataCite XML (4.7), once it has a DOI.
    pub async fn datacite_xml(&self, actor: &Actor, id: &str) -> ServiceResult<String> {
        let record = self.record(actor, id).await?;
        if record.doi.is_none() {
            return Err(ServiceError::Conflict(
                "the deposit has no DOI yet: reserve one first (POST …/doi)".into(),
            ));
        }
        Ok(crate::metadata::datacite::xml::to_xml(&record))
    }
}

/// The DOI as shown in the API: clearly marked when it is registered nowhere.
pub fn describe(row: &DoiRow) -> DoiStatus {
    let note = if row.provider == DoiProvider::Local {
        "reserved in this archive only: not registered with DataCite and does not resolve"
    } else if row.remote_state.as_deref() == Some(row.wanted_state.as_str()) {
        "in step with DataCite"
    } else {
        "waiting for DataCite"
    };
    DoiStatus {
        doi: row.doi.clone(),
        url: format!("https://doi.org/{}", row.doi),
        provider: row.provider,
        wanted_state: row.wanted_state,
        datacite_state: row.remote_state.clone(),
        last_error: row.last_error.clone(),
        note: note.to_owned(),
    }
}

/// Where a deposit's DOI stands with its registration agency.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DoiStatus {
    pub doi: String,
    /// The resolver URL (resolves only once registered with DataCite).
    pub url: String,
    pub provider: DoiProvider,
    /// What the archive wants DataCite to show.
    pub wanted_state: DoiState,
    /// What DataCite showed when last read back.
    pub datacite_state: Option<String>,
    /// Why the last attempt to reach DataCite failed (it is retried).
    pub last_error: Option<String>,
    /// The above in words.
    pub note: String,
}

/// Guard used by the API: a DOI string from a URL.
pub fn parse_doi(raw: &str) -> ServiceResult<Doi> {
    Doi::parse(raw).map_err(|e| ServiceError::invalid("doi", e.to_string()))
}

impl Service<'_> {
    /// The DOI is reserved at the latest on submission, then follows the dataset's state
    /// (docs/architecture.md); a release or withdrawal also moves the concept DOI.
    pub(super) async fn follows(
        &self,
        tx: &mut Tx,
        t: &mut super::transitions::Transition<'_, '_>,
    ) -> ServiceResult<super::transitions::Reacted> {
        let (action, now) = (t.change.action, t.now);
        if action == Action::Submit && t.version.doi.is_none() {
            let (doi, _) = self
                .reserve_in_tx(tx, t.version, t.change.actor_id, now, false)
                .await?;
            t.version.doi = Some(doi);
        }
        let mut enqueued = false;
        if let Some(doi) = t.version.doi.clone() {
            enqueued |= self.follow_doi(tx, &doi, action, now).await?;
        }
        if matches!(action, Action::Release | Action::Withdraw) {
            enqueued |= self.point_concept(tx, &t.version.dataset_id, now).await?;
        }
        Ok(super::transitions::Reacted::enqueued(enqueued))
    }
}

/// The record a DOI stands for and its landing page; the concept DOI follows the
/// latest release.
impl Service<'_> {
    /// What `doi` stands for: its version's record, or for a concept DOI the latest
    /// released version's record, named by the concept and listing every version.
    pub(super) async fn doi_target(
        &self,
        conn: &mut db::Conn,
        row: &DoiRow,
    ) -> ServiceResult<DoiTarget> {
        let v = db::versions::get(conn, &row.version_id)
            .await?
            .ok_or(ServiceError::NotFound("DOI"))?;
        let mut record = record_of(&v)?;
        record.doi = Some(row.doi.to_uppercase());
        let concept = db::versions::concept_doi(conn, &v.dataset_id).await?;
        if concept.as_deref() == Some(row.doi.as_str()) {
            record
                .related_identifiers
                .retain(|r| !r.related_identifier.eq_ignore_ascii_case(&row.doi));
            for p in db::published::of_dataset(conn, &v.dataset_id).await? {
                if let Some(d) = &p.version.doi {
                    record
                        .related_identifiers
                        .push(related(d, RelationType::HasVersion));
                }
            }
            return Ok(DoiTarget {
                landing: format!("/datasets/{}", v.dataset_id),
                version: v,
                record,
            });
        }
        // A dataset with one version has one DOI, which names the dataset; once there
        // are versions (and a concept DOI), each version DOI lands on its own version.
        let landing = match concept {
            Some(_) => format!("/datasets/{}?version={}", v.dataset_id, v.version_number),
            None => format!("/datasets/{}", v.dataset_id),
        };
        Ok(DoiTarget {
            landing,
            version: v,
            record,
        })
    }

    /// Make the concept DOI follow the latest released version that is not withdrawn
    /// (findable), or, when there is none, stay registered. Returns whether a sync job
    /// was enqueued.
    pub(super) async fn point_concept(
        &self,
        tx: &mut Tx,
        dataset_id: &str,
        now: i64,
    ) -> ServiceResult<bool> {
        let Some(doi) = db::versions::concept_doi(tx, dataset_id).await? else {
            return Ok(false);
        };
        let wanted = match db::published::latest_public_of_dataset(tx, dataset_id).await? {
            Some(p) => {
                db::dois::repoint(tx, &doi, &p.version.id, now).await?;
                DoiState::Findable
            }
            None => DoiState::Registered,
        };
        db::dois::set_wanted(tx, &doi, wanted, now).await?;
        self.enqueue_sync(tx, &doi, now).await
    }
}

/// The record a DOI stands for, with where it lands.
pub struct DoiTarget {
    pub version: VersionRow,
    pub record: Resource,
    /// The landing page path: the dataset (concept DOI) or one version of it.
    pub landing: String,
}

fn related(doi: &str, relation: RelationType) -> RelatedIdentifier {
    RelatedIdentifier {
        related_identifier: doi.to_owned(),
        related_identifier_type: RelatedIdentifierType::Doi,
        relation_type: relation,
        relation_type_information: None,
        resource_type_general: None,
        related_metadata_scheme: None,
        scheme_uri: None,
        scheme_type: None,
    }
}
