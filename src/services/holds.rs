//! Holds until publication: the publication watcher (Crossref for articles, the RCSB PDB
//! for structures, the calendar for dates), "my paper is out", curator confirmation,
//! and reminders before a hold reaches its maximum length.

use super::deposits::load_visible;
use super::events::{DepositEvent, record_event};
use super::notices::{Notice, To};
use super::transitions::{Change, Reacted, Transition};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, Tx, holds::HoldRow, now_ms, versions::VersionRow};
use crate::model::NoticeKind;
use crate::model::{Action, DepositState, HoldKind};
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

/// Everything but unreserved characters is encoded, `/` included: a DOI's suffix may
/// hold `/`, `?`, `#` or `..`, and none of it may steer the request elsewhere on the
/// service (Crossref takes `10.1037%2Fabc` as the DOI `10.1037/abc`).
const IN_ONE_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The lookup URL of a checked identifier: `base/path/<identifier as one segment>`.
fn lookup_url(base: &str, path: &str, target: &str) -> String {
    let seg = percent_encoding::utf8_percent_encode(target, IN_ONE_SEGMENT);
    format!("{}/{path}/{seg}", base.trim_end_matches('/'))
}

/// What the watcher found for one hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Published(String),
    NotYet,
}
super::capability!(holds);

impl Service<'_> {
    /// The depositor and the curators hear of a hold's news.
    async fn notify_people(
        &self,
        tx: &mut Tx,
        v: &VersionRow,
        kind: NoticeKind,
        message: &str,
        now: i64,
    ) -> ServiceResult<bool> {
        let mut enqueued = false;
        for to in [To::Person(&v.owner_id), To::Curators] {
            let notice = Notice {
                to,
                kind,
                deposit: Some(&*v.id),
                message: message.to_owned(),
            };
            enqueued |= self.notices().notify(tx, notice, now).await?;
        }
        Ok(enqueued)
    }

    /// Is the article or PDB entry out? Errors (a service down) mean "ask again later".
    async fn look_up(&self, h: &HoldRow, now: i64) -> Result<Lookup, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| e.to_string())?;
        let url = match h.kind {
            HoldKind::Date => {
                let due = crate::model::date::parse_utc_seconds(&format!("{}T00:00:00Z", h.target))
                    .ok_or_else(|| format!("bad hold date {}", h.target))?;
                return Ok(if now >= due {
                    Lookup::Published(format!("the hold date {} has come", h.target))
                } else {
                    Lookup::NotYet
                });
            }
            HoldKind::Article => lookup_url(&self.config.holds.crossref_url, "works", &h.target),
            HoldKind::Pdb => {
                lookup_url(&self.config.holds.pdb_url, "rest/v1/core/entry", &h.target)
            }
        };
        let resp = client.get(&url).send().await.map_err(|e| e.to_string())?;
        match resp.status().as_u16() {
            200 => Ok(Lookup::Published(if h.kind == HoldKind::Article {
                format!("the article {} is published (Crossref)", h.target)
            } else {
                format!("PDB entry {} is released", h.target)
            })),
            404 => Ok(Lookup::NotYet),
            s => Err(format!("{url} answered {s}")),
        }
    }

    /// Record a publication, tell people, and schedule the dataset when the facility
    /// says so; all in one transaction.
    async fn publication_found(
        &self,
        h: &HoldRow,
        why: &str,
        actor_id: Option<&str>,
        schedule: bool,
        now: i64,
    ) -> ServiceResult<bool> {
        let mut tx = self.db.begin_write().await?;
        let Some(mut v) = db::versions::get(&mut tx, &h.version_id).await? else {
            return Ok(false);
        };
        if !db::holds::mark_published(&mut tx, &h.id, now).await? && !schedule {
            return Ok(false);
        }
        let event = DepositEvent {
            version_id: &v.id,
            actor_id,
            kind: "publication_detected",
            states: None,
            reason: Some(why.to_owned()),
        };
        record_event(&mut tx, event, now).await?;
        let title = super::records::record_and_profile(&v)
            .map(|(r, _)| crate::metadata::citation::title(&r))
            .unwrap_or_default();
        let mut enqueued = false;
        let message = if schedule && v.state == DepositState::OnHold {
            let change = Change {
                action: Action::Schedule,
                actor_id,
                reason: None,
                hold: None,
                release: None,
            };
            enqueued = self
                .transitions()
                .apply(&mut tx, &mut v, change, now)
                .await?;
            format!("'{title}': {why}; scheduled into the next release")
        } else {
            format!("'{title}': {why}; it can be scheduled for release")
        };
        enqueued |= self
            .notify_people(&mut tx, &v, NoticeKind::PublicationFound, &message, now)
            .await?;
        tx.commit().await?;
        self.public_changed();
        if enqueued {
            self.jobs_enqueued();
        }
        Ok(true)
    }

    /// One pass of the publication watcher over the holds due for a look. Returns how
    /// many publications it found.
    pub async fn watch(&self, now: i64) -> ServiceResult<usize> {
        let every = (self.config.holds.check_every_hours as i64).saturating_mul(3_600_000);
        let mut conn = self.db.conn().await?;
        let due = db::holds::due_for_check(&mut conn, now - every, 500).await?;
        drop(conn);
        let mut found = 0;
        for h in due {
            if h.published_at.is_none() {
                match self.look_up(&h, now).await {
                    Ok(Lookup::Published(why)) => {
                        let auto = self.config.holds.auto_schedule;
                        if self.publication_found(&h, &why, None, auto, now).await? {
                            found += 1;
                        }
                    }
                    Ok(Lookup::NotYet) => {}
                    Err(e) => tracing::warn!(hold = %h.id, error = %e, "publication lookup failed"),
                }
            }
            self.remind_before_lapse(&h, now).await?;
            let mut conn = self.db.conn().await?;
            db::holds::mark_checked(&mut conn, &h.id, now).await?;
        }
        Ok(found)
    }

    async fn remind_before_lapse(&self, h: &HoldRow, now: i64) -> ServiceResult<()> {
        let remind_from = h.lapses_at - i64::from(self.config.holds.remind_days) * DAY_MS;
        if now < remind_from || h.reminded_at.is_some() {
            return Ok(());
        }
        let mut tx = self.db.begin_write().await?;
        let Some(v) = db::versions::get(&mut tx, &h.version_id).await? else {
            return Ok(());
        };
        let mut enqueued = false;
        if db::holds::mark_reminded(&mut tx, &h.id, now).await? {
            let message = format!(
                "the hold on deposit {} reaches its maximum length on {}: release it, or ask a curator",
                v.id,
                crate::model::date::utc_day(h.lapses_at)
            );
            enqueued = self
                .notify_people(&mut tx, &v, NoticeKind::HoldReminder, &message, now)
                .await?;
            let event = DepositEvent {
                version_id: &v.id,
                actor_id: None,
                kind: "hold_reminder",
                states: None,
                reason: Some(message),
            };
            record_event(&mut tx, event, now).await?;
        }
        tx.commit().await?;
        if enqueued {
            self.jobs_enqueued();
        }
        Ok(())
    }

    /// "My paper is out": the author names the article; a curator confirms.
    pub async fn claim(&self, actor: &Actor, id: &str, doi: &str) -> ServiceResult<VersionRow> {
        let doi = crate::model::doi::Doi::parse(doi)
            .map_err(|e| ServiceError::invalid("doi", e.to_string()))?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let v = load_visible(&mut tx, actor, id).await?;
        let h = db::holds::open_for(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::Conflict("the deposit is not on hold".into()))?;
        db::holds::set_claim(&mut tx, &h.id, doi.as_str()).await?;
        let event = DepositEvent {
            version_id: id,
            actor_id: Some(&actor.id),
            kind: "publication_claimed",
            states: None,
            reason: Some(doi.as_str().to_owned()),
        };
        record_event(&mut tx, event, now).await?;
        let message = format!(
            "the depositor says the article {} is out: confirm to schedule deposit {id}",
            doi.as_str()
        );
        let notice = Notice {
            to: To::Curators,
            kind: NoticeKind::PublicationClaimed,
            deposit: Some(id),
            message,
        };
        let enqueued = self.notices().notify(&mut tx, notice, now).await?;
        tx.commit().await?;
        if enqueued {
            self.jobs_enqueued();
        }
        Ok(v)
    }

    /// A curator confirms the publication: the dataset goes into the next release.
    pub async fn confirm(&self, actor: &Actor, id: &str) -> ServiceResult<VersionRow> {
        super::require_curator(actor, "confirm publications")?;
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await?;
        let h = db::holds::open_for(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::Conflict("the deposit is not on hold".into()))?;
        drop(conn);
        let why = match &h.claimed_doi {
            Some(doi) => format!("a curator confirmed the article {doi} is published"),
            None => "a curator confirmed the publication".to_owned(),
        };
        self.publication_found(&h, &why, Some(&actor.id), true, now_ms())
            .await?;
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, id).await
    }
}

impl Service<'_> {
    /// A hold is placed on `hold` (replacing any other) and ends when the deposit is
    /// scheduled or released.
    pub(super) async fn follows(
        &self,
        tx: &mut Tx,
        t: &mut Transition<'_, '_>,
    ) -> ServiceResult<Reacted> {
        let v = &t.version;
        match (t.change.action, &t.change.hold) {
            (Action::Hold, Some(h)) => {
                db::holds::end(tx, &v.id, t.now).await?;
                let max = i64::from(self.config.holds.max_days) * 86_400_000;
                let row = HoldRow {
                    id: crate::model::ids::new_id(),
                    version_id: v.id.to_string(),
                    kind: h.kind,
                    target: h.target.clone(),
                    placed_by: t.change.actor_id.unwrap_or_default().to_owned(),
                    placed_at: t.now,
                    lapses_at: t.now + max,
                    reminded_at: None,
                    claimed_doi: None,
                    published_at: None,
                    last_checked_at: None,
                    ended_at: None,
                };
                db::holds::insert(tx, &row).await?;
                return Ok(Reacted {
                    enqueued: false,
                    reason: Some(h.describe()),
                });
            }
            (Action::Schedule | Action::Release, _) => db::holds::end(tx, &v.id, t.now).await?,
            _ => {}
        }
        Ok(Reacted::default())
    }
}

#[cfg(test)]
mod tests {
    use super::lookup_url;

    #[test]
    fn an_identifier_is_one_path_segment_whatever_it_holds() {
        assert_eq!(
            lookup_url(
                "https://api.crossref.org/",
                "works",
                "10.1037/0003-066x.59.1.29"
            ),
            "https://api.crossref.org/works/10.1037%2F0003-066x.59.1.29"
        );
        let u = lookup_url(
            "https://api.crossref.org",
            "works",
            "10.1/../../admin?x=1#y",
        );
        assert_eq!(
            u,
            "https://api.crossref.org/works/10.1%2F..%2F..%2Fadmin%3Fx%3D1%23y"
        );
        let parsed = url::Url::parse(&u).unwrap();
        assert_eq!(parsed.path_segments().unwrap().count(), 2, "{u}");
        assert_eq!(parsed.query(), None);
    }
}
