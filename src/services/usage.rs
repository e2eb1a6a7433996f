//! Usage statistics (COUNTER R5.1.1 §10.4, research data). A view or download is
//! recorded in memory on the request path (classified, double-click filtered, tallied)
//! and written to the catalogue by [`Service::flush`] every `[usage] flush_seconds` and
//! at shutdown; unique counts are settled there against the user-sessions any server
//! already counted. Readers see all-time figures on landing pages, months through the
//! API, and the Dataset Report for DataCite.

use super::{ServiceError, ServiceResult};
use crate::db::{self, now_ms};
use crate::model::usage::{Agents, DOUBLE_CLICK_MS, Figures, Month, session_key};
use crate::model::{AccessMethod, Activity};
use jiff::tz::TimeZone;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Longest span of months one usage request or report covers.
pub const MAX_MONTHS: i64 = 120;

/// Who used a dataset, as the web edge saw the request.
#[derive(Debug, Clone, Default)]
pub struct Visit {
    /// The client's address (after trusted proxies).
    pub addr: Option<std::net::IpAddr>,
    pub user_agent: String,
    /// The signed-in user or API token's owner, when the request carried one.
    pub user_id: Option<String>,
    /// The request carried an API token: a declared machine client.
    pub api_client: bool,
}

/// What was used.
#[derive(Debug, Clone)]
pub struct Hit {
    pub dataset_id: String,
    pub version_id: String,
    pub activity: Activity,
    /// The URL used, for double-click filtering.
    pub url: String,
    /// A `Range` request: one file's ranges count once per user-session.
    pub range: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ItemKey {
    dataset_id: String,
    version_id: String,
    month: String,
    access: AccessMethod,
}

#[derive(Debug, Default)]
struct Tally {
    investigations: i64,
    requests: i64,
    sessions: HashSet<(String, Activity)>,
}

/// What a minute means to counting: the day's salt, the hour slice (the session), the
/// month in the facility's zone. Worked out once a minute, not for every request.
#[derive(Debug, Clone)]
struct Clock {
    minute: i64,
    day: String,
    salt: String,
    hour: String,
    month: String,
}

#[derive(Debug, Default)]
struct Pending {
    /// (session, URL) → when last used, and whether it is a file (a request): double
    /// clicks (kept 30 s) and files a later Range request continues (kept for the
    /// session's hour).
    recent: HashMap<(String, String), (i64, bool)>,
    tallies: HashMap<ItemKey, Tally>,
}

/// The process's usage recorder (held by [`super::Services`]).
#[derive(Debug)]
pub struct Recorder {
    enabled: bool,
    agents: Agents,
    tz: TimeZone,
    max_pending: usize,
    pending: Mutex<Pending>,
    /// The clock as counting reads it, for the current minute.
    clock: Mutex<Option<Clock>>,
    /// User agents already sorted (most traffic comes from few): the lists are
    /// hundreds of patterns, matched once per agent, not once per request.
    sorted: Mutex<HashMap<String, Option<AccessMethod>>>,
    /// Woken when enough is pending to write it out early.
    pub full: tokio::sync::Notify,
}

impl Recorder {
    pub fn new(s: &crate::config::UsageSettings) -> Result<Self, String> {
        let read = |path: &Option<std::path::PathBuf>, shipped: &str, key: &str| match path {
            Some(p) => std::fs::read_to_string(p)
                .map_err(|e| format!("[usage] {key} {}: {e}", p.display())),
            None => Ok(shipped.to_owned()),
        };
        let robots = read(&s.robots_list, crate::model::usage::ROBOTS, "robots_list")?;
        let machines = read(
            &s.machines_list,
            crate::model::usage::MACHINES,
            "machines_list",
        )?;
        Ok(Self {
            enabled: s.enabled,
            agents: Agents::new(&robots, &machines).map_err(|e| format!("[usage] {e}"))?,
            tz: TimeZone::get(&s.time_zone)
                .map_err(|_| format!("[usage] time_zone '{}' is unknown", s.time_zone))?,
            max_pending: s.max_pending,
            pending: Mutex::default(),
            clock: Mutex::default(),
            sorted: Mutex::default(),
            full: tokio::sync::Notify::new(),
        })
    }

    /// How `user_agent` is counted (None: a robot), remembered for the next request.
    fn classify(&self, user_agent: &str) -> Option<AccessMethod> {
        // Agents remembered; past this the memory starts afresh (a bound, not a policy).
        const REMEMBERED: usize = 10_000;
        if let Some(known) = self
            .sorted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user_agent)
        {
            return *known;
        }
        let class = self.agents.classify(user_agent);
        // Long agents are sorted every time, so what is remembered stays small.
        if user_agent.len() > 512 {
            return class;
        }
        let mut sorted = self.sorted.lock().unwrap_or_else(|p| p.into_inner());
        if sorted.len() >= REMEMBERED {
            sorted.clear();
        }
        sorted.insert(user_agent.to_owned(), class);
        class
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A dataset's usage over a span of months, as the API gives it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UsageReport {
    pub dataset_id: String,
    /// The version asked for; null for the dataset as a whole (every version).
    pub version: Option<i64>,
    pub from: String,
    pub to: String,
    /// The time zone months are counted in.
    pub time_zone: String,
    pub totals: UsageFigures,
    /// Every month of the span, oldest first (zeros included).
    pub months: Vec<UsageMonth>,
}

/// COUNTER metrics by access method: `regular` (people) and `machine` (scripts and
/// download tools; COUNTER's Access_Method=Machine).
#[derive(Debug, Clone, Copy, Default, serde::Serialize, utoipa::ToSchema)]
pub struct UsageFigures {
    #[serde(flatten)]
    pub regular: Figures,
    pub machine_total_dataset_investigations: i64,
    pub machine_unique_dataset_investigations: i64,
    pub machine_total_dataset_requests: i64,
    pub machine_unique_dataset_requests: i64,
}

impl UsageFigures {
    fn add(&mut self, access: AccessMethod, f: &Figures) {
        match access {
            AccessMethod::Regular => self.regular.add(f),
            AccessMethod::Machine => {
                self.machine_total_dataset_investigations += f.total_dataset_investigations;
                self.machine_unique_dataset_investigations += f.unique_dataset_investigations;
                self.machine_total_dataset_requests += f.total_dataset_requests;
                self.machine_unique_dataset_requests += f.unique_dataset_requests;
            }
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UsageMonth {
    pub month: String,
    #[serde(flatten)]
    pub figures: UsageFigures,
}

/// What the curators' usage page shows.
#[derive(Debug, Clone)]
pub struct UsageOverview {
    /// The month shown (None: all time).
    pub month: Option<String>,
    /// (dataset id, title, figures), most requested first.
    pub top: Vec<(String, String, Figures)>,
    /// (facility, beamline, figures) of the month.
    pub facilities: Vec<(String, String, Figures)>,
}

/// Datasets ranked on the curators' page, facility rows shown.
pub const TOP_SHOWN: i64 = 20;
pub const FACILITIES_SHOWN: i64 = 500;

super::capability!(usage);

impl Service<'_> {
    /// Record a use now (see [`Self::record_at`]).
    pub async fn record(&self, visit: &Visit, hit: Hit) -> ServiceResult<()> {
        self.record_at(visit, hit, now_ms()).await
    }

    /// Record a use at `at` (Unix ms): robots are left out, and so are the depositor's
    /// own uses; the rest is tallied in memory for the next flush.
    pub async fn record_at(&self, visit: &Visit, hit: Hit, at: i64) -> ServiceResult<()> {
        let r = &self.usage_recorder;
        if !r.enabled {
            return Ok(());
        }
        let Some(mut access) = r.classify(&visit.user_agent) else {
            return self.outcome("robot");
        };
        if visit.api_client {
            access = AccessMethod::Machine;
        }
        if let Some(user) = &visit.user_id {
            let mut conn = self.db.conn().await?;
            if db::usage::is_depositor(&mut conn, user, &hit.dataset_id).await? {
                return self.outcome("depositor");
            }
        }
        let who = match (&visit.user_id, &visit.addr) {
            (Some(u), _) => format!("user:{u}"),
            (None, Some(a)) => format!("addr:{a} {}", visit.user_agent),
            (None, None) => format!("addr:- {}", visit.user_agent),
        };
        let clock = self.clock(at).await?;
        let session = session_key(&clock.salt, &who, &clock.hour);
        let month = clock.month;
        let mut p = r.pending();
        let size = p.tallies.len() + p.recent.len();
        if size >= 2 * r.max_pending {
            drop(p);
            r.full.notify_one();
            return self.outcome("dropped");
        }
        let key = (session.clone(), hit.url.clone());
        let repeated = match p.recent.get(&key) {
            // A range of a file this session already took: part of the same request.
            Some(_) if hit.range => true,
            Some((last, _)) => at - last <= DOUBLE_CLICK_MS,
            None => false,
        };
        p.recent
            .insert(key, (at, hit.activity == Activity::Request));
        if repeated {
            return self.outcome("double_click");
        }
        let tally = p
            .tallies
            .entry(ItemKey {
                dataset_id: hit.dataset_id,
                version_id: hit.version_id,
                month,
                access,
            })
            .or_default();
        // Every request is an investigation too (COUNTER).
        tally.investigations += 1;
        tally
            .sessions
            .insert((session.clone(), Activity::Investigation));
        if hit.activity == Activity::Request {
            tally.requests += 1;
            tally.sessions.insert((session, Activity::Request));
        }
        let full = p.tallies.len() + p.recent.len() >= r.max_pending;
        drop(p);
        if full {
            r.full.notify_one();
        }
        self.outcome(access.as_str())
    }

    /// Count what became of a use (in /metrics); the use itself is settled.
    fn outcome(&self, what: &str) -> ServiceResult<()> {
        self.counters
            .usage
            .get_or_create(&vec![("outcome".to_owned(), what.to_owned())])
            .inc();
        Ok(())
    }

    /// The clock for `at`'s minute. The day's salt is made by the first server to
    /// need it, shared through the catalogue, and forgotten after two days.
    async fn clock(&self, at: i64) -> ServiceResult<Clock> {
        let r = &self.usage_recorder;
        let minute = at.div_euclid(60_000);
        let known = r.clock.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(c) = &known
            && c.minute == minute
        {
            return Ok(c.clone());
        }
        let day = crate::model::usage::salt_day(at);
        let salt = match known {
            Some(c) if c.day == day => c.salt,
            _ => {
                let mut conn = self.db.conn().await?;
                db::usage::salt(&mut conn, &day, &super::users::random_token()).await?
            }
        };
        let c = Clock {
            minute,
            day,
            salt,
            hour: crate::model::usage::hour_of(at),
            month: Month::of(at, &r.tz).to_string(),
        };
        *r.clock.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
        Ok(c)
    }

    /// Write what this process counted to the catalogue in one transaction. Returns
    /// how many items (version × month × access) were written.
    pub async fn flush(&self) -> ServiceResult<usize> {
        self.flush_at(now_ms()).await
    }

    pub async fn flush_at(&self, now: i64) -> ServiceResult<usize> {
        let tallies = {
            let mut p = self.usage_recorder.pending();
            // Past the double-click window only files matter (a Range request may
            // continue one), and only for the session's hour.
            p.recent.retain(|_, (at, file)| {
                now - *at <= DOUBLE_CLICK_MS || (*file && now - *at < 3_600_000)
            });
            std::mem::take(&mut p.tallies)
        };
        let written = tallies.len();
        let mut tx = self.db.begin_write().await?;
        for (key, tally) in &tallies {
            for version in [key.version_id.as_str(), ""] {
                let mut f = Figures {
                    total_dataset_investigations: tally.investigations,
                    total_dataset_requests: tally.requests,
                    ..Figures::default()
                };
                for (session, activity) in &tally.sessions {
                    let first = db::usage::first_in_session(
                        &mut tx,
                        session,
                        &key.dataset_id,
                        version,
                        *activity,
                        now,
                    )
                    .await?;
                    if first {
                        match activity {
                            Activity::Investigation => f.unique_dataset_investigations += 1,
                            Activity::Request => f.unique_dataset_requests += 1,
                        }
                    }
                }
                db::usage::add(
                    &mut tx,
                    &key.dataset_id,
                    version,
                    &key.month,
                    key.access,
                    &f,
                )
                .await?;
            }
        }
        // Sessions last an hour; keep their marks two, and salts for two days.
        let two_days_ago = crate::model::usage::salt_day(now - 2 * 86_400_000);
        db::usage::prune(&mut tx, &two_days_ago, now - 2 * 3_600_000).await?;
        if let Err(e) = tx.commit().await {
            // Not lost: put back for the next flush.
            let mut p = self.usage_recorder.pending();
            for (key, t) in tallies {
                let into = p.tallies.entry(key).or_default();
                into.investigations += t.investigations;
                into.requests += t.requests;
                into.sessions.extend(t.sessions);
            }
            return Err(e.into());
        }
        Ok(written)
    }

    /// Flush every `[usage] flush_seconds` (sooner when much is pending) until
    /// `stop` resolves, then once more: a server's loop.
    pub async fn flush_until(&self, stop: impl std::future::Future<Output = ()>) {
        let every = std::time::Duration::from_secs(self.config.usage.flush_seconds);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(every) => {}
                () = self.usage_recorder.full.notified() => {}
            }
            if let Err(e) = self.flush().await {
                tracing::warn!(error = %e, "usage not written yet; kept for the next try");
            }
        }
        if let Err(e) = self.flush().await {
            tracing::error!(error = %e, "usage counted since the last flush is lost at shutdown");
        }
    }

    /// All-time figures a landing page shows: (this version, the whole dataset).
    pub async fn shown(
        &self,
        dataset_id: &str,
        version_id: &str,
    ) -> ServiceResult<(Figures, Figures)> {
        let mut conn = self.db.conn().await?;
        Ok(db::usage::shown(&mut conn, dataset_id, version_id).await?)
    }

    /// A released dataset's usage by month (`version` None: every version together).
    pub async fn of_dataset(
        &self,
        dataset_id: &str,
        version: Option<i64>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> ServiceResult<UsageReport> {
        let (from, to) = self.span(from, to)?;
        // Released (withdrawn ones too: their counts are kept), or not found.
        let d = self.public().version(dataset_id, version).await?;
        let version_id = match version {
            Some(_) => d.version_id().to_owned(),
            None => String::new(),
        };
        let mut conn = self.db.conn().await?;
        let rows = db::usage::months(
            &mut conn,
            dataset_id,
            &version_id,
            &from.to_string(),
            &to.to_string(),
        )
        .await?;
        let mut totals = UsageFigures::default();
        let mut months = Vec::new();
        let mut m = from;
        while m <= to {
            let name = m.to_string();
            let mut f = UsageFigures::default();
            for (_, access, figures) in rows.iter().filter(|r| r.0 == name) {
                f.add(*access, figures);
                totals.add(*access, figures);
            }
            months.push(UsageMonth {
                month: name,
                figures: f,
            });
            m = m.next();
        }
        Ok(UsageReport {
            dataset_id: dataset_id.to_owned(),
            version,
            from: from.to_string(),
            to: to.to_string(),
            time_zone: self.config.usage.time_zone.clone(),
            totals,
            months,
        })
    }

    /// `from`..`to` as months: by default the twelve months up to this one; at most
    /// [`MAX_MONTHS`].
    fn span(&self, from: Option<&str>, to: Option<&str>) -> ServiceResult<(Month, Month)> {
        let now = Month::of(now_ms(), &self.usage_recorder.tz);
        let to = match to {
            Some(t) => Month::parse(t).map_err(|e| ServiceError::invalid("to", e))?,
            None => now,
        };
        let from = match from {
            Some(f) => Month::parse(f).map_err(|e| ServiceError::invalid("from", e))?,
            None => Month {
                year: to.year - 1,
                month: to.month,
            }
            .next(),
        };
        if from > to {
            return Err(ServiceError::invalid(
                "from",
                format!("{from} is after {to}"),
            ));
        }
        if from.span(to) > MAX_MONTHS {
            return Err(ServiceError::invalid(
                "from",
                format!(
                    "at most {MAX_MONTHS} months at once (asked for {})",
                    from.span(to)
                ),
            ));
        }
        Ok((from, to))
    }

    /// The curators' page: the most used datasets of `month` (all time when None) and
    /// the month's figures by facility and beamline.
    pub async fn overview(
        &self,
        actor: &super::Actor,
        month: Option<&str>,
    ) -> ServiceResult<UsageOverview> {
        super::require_curator(actor, "see usage across the archive")?;
        let month = month
            .map(|m| Month::parse(m).map_err(|message| ServiceError::invalid("month", message)))
            .transpose()?;
        let shown_month = month.unwrap_or_else(|| Month::of(now_ms(), &self.usage_recorder.tz));
        let mut conn = self.db.conn().await?;
        let ranked = db::usage::top(
            &mut conn,
            month.map(|m| m.to_string()).as_deref(),
            TOP_SHOWN,
        )
        .await?;
        let facilities =
            db::usage::facilities(&mut conn, &shown_month.to_string(), FACILITIES_SHOWN).await?;
        drop(conn);
        let mut top = Vec::with_capacity(ranked.len());
        for (dataset_id, f) in ranked {
            let title = match self.public().dataset(&dataset_id).await {
                Ok(d) => crate::metadata::citation::title(&d.record),
                Err(_) => format!("{dataset_id} (withdrawn)"),
            };
            top.push((dataset_id, title, f));
        }
        Ok(UsageOverview {
            month: month.map(|m| m.to_string()),
            top,
            facilities,
        })
    }

    /// All-time figures of these versions (a console's page of them; at most 200).
    pub async fn of_versions(
        &self,
        version_ids: &[String],
    ) -> ServiceResult<std::collections::HashMap<String, Figures>> {
        let ids = &version_ids[..version_ids.len().min(200)];
        let mut conn = self.db.conn().await?;
        Ok(db::usage::of_versions(&mut conn, ids).await?)
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.usage_recorder.tz
    }
}
