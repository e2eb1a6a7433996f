//! The COUNTER Dataset Report (DSR): the JSON the Code of Practice for Research Data
//! defines (`report-header`, `report-datasets`) and DataCite's usage reports API takes,
//! written a page of versions at a time, so a report over 10^6 datasets costs the
//! memory of one page; and the job that sends a month's report to DataCite.

use super::{ServiceError, ServiceResult};
use crate::db::{self, now_ms};
use crate::model::AccessMethod;
use crate::model::usage::{Figures, Month};
use bytes::Bytes;
use futures::Stream;
use serde_json::{Value, json};

/// Longest period one report covers.
pub const REPORT_MONTHS: i64 = 12;
/// Versions read per page while a report is written.
const REPORT_PAGE: i64 = 500;

/// A report's period: whole months from `begin` (its day 01) to `end_date`.
#[derive(Debug, Clone)]
pub struct Period {
    pub begin: Month,
    pub end: Month,
    /// `YYYY-MM-DD`, within the month `end`.
    pub end_date: String,
}

impl Period {
    /// From the report's `begin_date` and `end_date` (COUNTER: the begin date is a
    /// month's first day; the end date any day of the last month).
    pub fn parse(begin_date: &str, end_date: &str) -> ServiceResult<Self> {
        let month_of = |field: &str, d: &str| -> ServiceResult<Month> {
            if !crate::model::date::is_iso_date(d) {
                return Err(ServiceError::invalid(
                    field,
                    format!("'{d}' is not a date written YYYY-MM-DD"),
                ));
            }
            let m = Month::parse(&d[..7]).map_err(|e| ServiceError::invalid(field, e))?;
            if d > m.last_day().as_str() {
                return Err(ServiceError::invalid(
                    field,
                    format!("{m} has no day {}", &d[8..]),
                ));
            }
            Ok(m)
        };
        let begin = month_of("begin_date", begin_date)?;
        if !begin_date.ends_with("-01") {
            return Err(ServiceError::invalid(
                "begin_date",
                format!(
                    "a report begins on a month's first day ({})",
                    begin.first_day()
                ),
            ));
        }
        let end = month_of("end_date", end_date)?;
        if end < begin {
            return Err(ServiceError::invalid(
                "end_date",
                format!("{end_date} is before {begin_date}"),
            ));
        }
        if begin.span(end) > REPORT_MONTHS {
            return Err(ServiceError::invalid(
                "end_date",
                format!("a report covers at most {REPORT_MONTHS} months"),
            ));
        }
        Ok(Self {
            begin,
            end,
            end_date: end_date.to_owned(),
        })
    }

    /// The whole month `m`.
    pub fn month(m: Month) -> Self {
        Self {
            begin: m,
            end: m,
            end_date: m.last_day(),
        }
    }

    /// A month's period inside this one.
    fn of_month(&self, m: Month) -> Value {
        let end = if m == self.end {
            self.end_date.clone()
        } else {
            m.last_day()
        };
        json!({"begin-date": m.first_day(), "end-date": end})
    }
}

super::capability!(usage_report);

impl Service<'_> {
    /// The report as JSON text, in pieces.
    pub fn stream(
        &self,
        period: Period,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        let services = self.0.clone();
        let head = {
            let name = &services.config.repository.name;
            let header = json!({
                "report-name": "Dataset Master Report",
                "report-id": "DSR",
                "release": "RD1",
                "created": crate::model::date::utc_day(now_ms()),
                "created-by": name,
                "reporting-period": {
                    "begin-date": period.begin.first_day(),
                    "end-date": period.end_date,
                },
                "report-filters": [],
                "report-attributes": [],
                "exceptions": [],
            });
            format!("{{\"report-header\":{header},\"report-datasets\":[")
        };
        let pages = futures::stream::unfold((Some(String::new()), true), move |(after, first)| {
            let (services, period) = (services.clone(), period.clone());
            async move {
                let after = after?;
                match services.usage_report().page(&period, &after).await {
                    Ok((items, next)) => {
                        let mut chunk = String::new();
                        for (i, item) in items.iter().enumerate() {
                            if !(first && i == 0) {
                                chunk.push(',');
                            }
                            chunk.push_str(&item.to_string());
                        }
                        let first = first && items.is_empty();
                        Some((Ok(Bytes::from(chunk)), (next, first)))
                    }
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, false))),
                }
            }
        });
        use futures::StreamExt;
        futures::stream::once(async move { Ok(Bytes::from(head)) })
            .chain(pages)
            .chain(futures::stream::once(async {
                Ok(Bytes::from_static(b"]}"))
            }))
    }

    /// The report's datasets for versions after `after`, and the version to go on
    /// after (None: done).
    async fn page(
        &self,
        period: &Period,
        after: &str,
    ) -> ServiceResult<(Vec<Value>, Option<String>)> {
        let mut conn = self.db.conn().await?;
        let rows = db::usage::report_page(
            &mut conn,
            &period.begin.to_string(),
            &period.end.to_string(),
            after,
            REPORT_PAGE,
        )
        .await?;
        let mut items = Vec::new();
        let mut i = 0;
        let mut last = None;
        while i < rows.len() {
            let version_id = rows[i].version_id.clone();
            let end = rows[i..]
                .iter()
                .position(|r| r.version_id != version_id)
                .map_or(rows.len(), |n| i + n);
            let group = &rows[i..end];
            if let Some(v) = db::versions::get(&mut conn, &version_id).await? {
                items.push(self.dataset_item(&v, group, period)?);
            }
            last = Some(version_id);
            i = end;
        }
        let versions = rows
            .iter()
            .map(|r| &r.version_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len() as i64;
        Ok((items, last.filter(|_| versions == REPORT_PAGE)))
    }

    /// One `report-datasets` entry: a released version and its months.
    fn dataset_item(
        &self,
        v: &db::versions::VersionRow,
        rows: &[db::usage::ReportRow],
        period: &Period,
    ) -> ServiceResult<Value> {
        let (record, _) = super::records::record_and_profile(v)?;
        let base = self.config.public_base();
        let mut performance = Vec::new();
        let mut m = period.begin;
        while m <= period.end {
            let name = m.to_string();
            let mut instance = Vec::new();
            for access in AccessMethod::ALL {
                let f: Figures = rows
                    .iter()
                    .filter(|r| r.month == name && r.access == *access)
                    .map(|r| r.figures)
                    .next()
                    .unwrap_or_default();
                for (metric, count) in f.metrics() {
                    if count > 0 {
                        instance.push(json!({
                            "count": count,
                            "access-method": access.as_str(),
                            "metric-type": metric,
                        }));
                    }
                }
            }
            if !instance.is_empty() {
                performance.push(json!({"period": period.of_month(m), "instance": instance}));
            }
            m = m.next();
        }
        let mut id = vec![];
        if let Some(doi) = &v.doi {
            id.push(json!({"type": "DOI", "value": doi.to_lowercase()}));
        }
        let mut item = json!({
            "dataset-id": id,
            "dataset-title": crate::metadata::citation::title(&record),
            "yop": record.publication_year.clone().unwrap_or_else(|| "0001".into()),
            "uri": format!("{base}/datasets/{}?version={}", v.dataset_id, v.version_number),
            "publisher": record.publisher.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
            "publisher-id": [{"type": "client-id", "value": self.publisher_id()}],
            "platform": self.config.repository.name,
            "data-type": "dataset",
            "dataset-contributors": record.creators.iter()
                .map(|c| json!({"type": "name", "value": c.name}))
                .collect::<Vec<_>>(),
            "performance": performance,
        });
        if let Some(at) = rows.first().and_then(|r| r.released_at) {
            item["dataset-dates"] =
                json!([{"type": "pub-date", "value": crate::model::date::utc_day(at)}]);
        }
        Ok(item)
    }

    /// Who publishes, as DataCite knows the repository.
    fn publisher_id(&self) -> String {
        match &self.config.doi.datacite {
            Some(d) => d.repository_id.to_lowercase(),
            None => self.config.repository.datacentre_symbol.to_lowercase(),
        }
    }

    /// The whole report, as sent to DataCite.
    async fn collect(&self, period: Period) -> ServiceResult<Vec<u8>> {
        use futures::TryStreamExt;
        let parts: Vec<Bytes> = self.stream(period).try_collect().await?;
        Ok(parts.concat())
    }

    /// The job: send `month`'s report to DataCite (a new report, or an update of the
    /// one sent before), and remember the id DataCite gave it.
    pub async fn send(&self, month: &str) -> Result<(), super::jobs::JobError> {
        use super::jobs::JobError;
        let m = Month::parse(month).map_err(JobError::Fatal)?;
        let client = self
            .datacite
            .as_ref()
            .ok_or_else(|| JobError::Fatal("no [doi.datacite] to send usage to".into()))?;
        let previous = {
            let mut conn = self.db.conn().await?;
            db::usage::sent_report(&mut conn, month).await?
        };
        let body = self.collect(Period::month(m)).await?;
        let token = self
            .config
            .usage
            .datacite_token
            .as_ref()
            .map(|t| t.0.as_str());
        // Unreachable or failing: tried again later; refused: a curator must act.
        let id = client
            .send_usage_report(body, previous.as_deref(), token)
            .await?;
        let mut tx = self.db.begin_write().await?;
        db::usage::record_report(&mut tx, month, &id, now_ms()).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        tracing::info!(month, report = %id, "usage report sent to DataCite");
        Ok(())
    }

    /// Queue the job that sends `month`'s report (once per month and call).
    pub async fn enqueue_send(&self, month: Month) -> ServiceResult<bool> {
        if !self.config.usage.report_to_datacite {
            return Err(ServiceError::Conflict(
                "sending usage to DataCite is off: set [usage] report_to_datacite = true".into(),
            ));
        }
        let mut conn = self.db.conn().await?;
        let job = super::jobs::Job::UsageReport {
            month: month.to_string(),
        };
        let key = format!("usage-report:{month}:{}", now_ms());
        let added = super::jobs::enqueue_unique(&mut conn, &job, now_ms(), &key).await?;
        drop(conn);
        self.jobs_enqueued();
        Ok(added)
    }

    /// The periodic round: once a month is over, its report goes to DataCite (when
    /// configured and not sent yet).
    pub async fn send_due(&self, now: i64) -> ServiceResult<bool> {
        if !self.config.usage.report_to_datacite {
            return Ok(false);
        }
        let this = Month::of(now, self.usage().time_zone());
        let last = Month {
            year: if this.month == 1 {
                this.year - 1
            } else {
                this.year
            },
            month: if this.month == 1 { 12 } else { this.month - 1 },
        };
        let mut conn = self.db.conn().await?;
        if db::usage::sent_report(&mut conn, &last.to_string())
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let job = super::jobs::Job::UsageReport {
            month: last.to_string(),
        };
        let added =
            super::jobs::enqueue_unique(&mut conn, &job, now_ms(), &format!("usage-report:{last}"))
                .await?;
        drop(conn);
        if added {
            self.jobs_enqueued();
        }
        Ok(added)
    }
}
