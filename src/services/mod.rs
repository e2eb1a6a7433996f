//! The operations people ask for. Each runs in one transaction, writes an event for
//! every state change, and enqueues its jobs in that same transaction.

/// A capability's operations: a view of the shared context, `services.deposits()`,
/// `services.dois()`, …, each defined in its own module. A capability is one module
/// with its own `impl`, not more methods on one struct; calls between capabilities
/// name the capability (`self.dois().reserve(…)`), which the test below follows.
macro_rules! capability {
    ($name:ident) => {
        #[doc = concat!("The `", stringify!($name), "` capability over the shared context.")]
        #[derive(Clone, Copy)]
        pub struct Service<'a>(&'a $crate::services::Services);

        impl std::ops::Deref for Service<'_> {
            type Target = $crate::services::Services;
            fn deref(&self) -> &Self::Target {
                self.0
            }
        }

        impl $crate::services::Services {
            #[doc = concat!("The `", stringify!($name), "` capability.")]
            pub fn $name(&self) -> Service<'_> {
                Service(self)
            }
        }
    };
}
use capability;

pub mod accounts;
pub mod addresses;
pub mod backup;
pub mod bag_reader;
pub mod bags;
pub mod deposit_view;
pub mod deposits;
pub mod dispatch;
pub mod dois;
pub mod downloads;
pub mod error;
pub mod events;
pub mod extraction;
pub mod fixity;
pub mod gc;
pub mod guesses;
pub mod harvest;
pub mod holds;
pub mod housekeeping;
pub mod identities;
pub mod jobs;
mod known_facility;
pub mod landing;
pub mod lookups;
pub mod mail;
pub mod manifest;
pub mod manuscript_kit;
pub mod metrics;
pub mod mirror_console;
pub mod mirrors;
pub mod notices;
pub mod passwords;
pub mod periodic;
pub mod previews;
pub mod public;
mod reactions;
pub mod records;
pub mod releases;
pub mod reviewers;
pub mod search;
pub mod sessions;
pub mod software;
pub mod transitions;
pub mod uploads;
pub mod usage;
pub mod usage_report;
pub mod users;
pub mod verify;
pub mod versions;

pub use error::{ServiceError, ServiceResult};

use crate::config::Config;
use crate::db::Db;
use crate::db::users::UserRow;
use crate::storage::Storage;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Who is asking.
pub type Actor = UserRow;

/// The context every capability shares (catalogue, store, settings, in-process
/// signals); cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub storage: Storage,
    pub config: Arc<Config>,
    /// Woken after a commit that enqueued jobs, so workers start at once.
    pub jobs_ready: Arc<Notify>,
    /// Uploads with a PATCH in progress in this process: a second one is refused, and
    /// so is one over the per-account or total limit.
    busy_uploads: Arc<Mutex<uploads::BusyUploads>>,
    /// The DataCite client, when DOIs are registered there.
    pub datacite: Option<crate::datacite::DataciteClient>,
    /// Counters and histograms for `/metrics`.
    pub counters: Arc<metrics::Metrics>,
    /// Counts state changes committed by this process, so caches of public pages know
    /// at once that they may be stale (other processes' changes: the cache's TTL).
    public_generation: Arc<std::sync::atomic::AtomicU64>,
    /// Rate limits on guessing (passwords, link tokens).
    pub guesses: Arc<guesses::Guesses>,
    /// argon2 runs at most this many at once.
    argon2_slots: Arc<tokio::sync::Semaphore>,
    /// Set by the web edge at start (see [`landing::RenderLanding`]).
    landing_renderer: Arc<std::sync::OnceLock<Arc<dyn landing::RenderLanding>>>,
    /// The mail server, when `[mail]` is set.
    mailer: Option<Arc<crate::mail::Mailer>>,
    /// The OpenID Connect providers people sign in with, by name.
    oidc: Arc<std::collections::BTreeMap<String, Arc<crate::oidc::Provider>>>,
    /// What follows a deposit's transitions (registered in `reactions.rs`).
    reactions: &'static transitions::Reactions,
    /// Views and downloads counted since the last flush.
    usage_recorder: Arc<usage::Recorder>,
    /// ORCID, ROR and the Funder Registry, for the deposit form's suggestions.
    registries: Arc<crate::lookups::Lookups>,
}

impl Services {
    pub async fn open(config: Config) -> Result<Self, ServiceError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = Db::connect(&config.database_url).await?;
        let config_guesses = config.web.guesses_per_minute;
        let storage = crate::storage::Storage::open(&config.storage, &config.data_dir)?;
        let datacite = match (&config.doi.provider, &config.doi.datacite) {
            (crate::config::DoiProvider::Datacite, Some(settings)) => Some(
                crate::datacite::DataciteClient::new(settings)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
            ),
            _ => None,
        };
        let mailer = match &config.mail {
            Some(settings) => Some(Arc::new(
                crate::mail::Mailer::new(settings)
                    .map_err(|e| ServiceError::Internal(format!("[mail] {e}")))?,
            )),
            None => None,
        };
        let mut oidc = std::collections::BTreeMap::new();
        for (name, settings) in &config.auth.oidc {
            let redirect = format!("{}/signin/oidc/{name}/callback", config.public_base());
            let provider = crate::oidc::Provider::new(name, settings, redirect)
                .map_err(|e| ServiceError::Internal(format!("[auth.oidc.{name}] {e}")))?;
            oidc.insert(name.clone(), Arc::new(provider));
        }
        let usage_recorder =
            Arc::new(usage::Recorder::new(&config.usage).map_err(ServiceError::Internal)?);
        let registries = Arc::new(
            crate::lookups::Lookups::new(
                &config.lookups,
                &format!(
                    "Arca/{} (+{})",
                    env!("CARGO_PKG_VERSION"),
                    config.public_base()
                ),
            )
            .map_err(|e| ServiceError::Internal(format!("[lookups] {e}")))?,
        );
        let services = Self {
            usage_recorder,
            registries,
            db,
            storage,
            config: Arc::new(config),
            jobs_ready: Arc::new(Notify::new()),
            busy_uploads: Arc::default(),
            datacite,
            counters: Arc::default(),
            public_generation: Arc::default(),
            guesses: Arc::new(guesses::Guesses::new(config_guesses)),
            argon2_slots: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            landing_renderer: Arc::default(),
            reactions: &reactions::REACTIONS,
            mailer,
            oidc: Arc::new(oidc),
        };
        // Other servers' changes reach this one at once.
        {
            let (jobs, generation) = (
                services.jobs_ready.clone(),
                services.public_generation.clone(),
            );
            services
                .db
                .listen(&services.config.database_url, move |signal| match signal {
                    crate::db::notify::Signal::JobsReady => jobs.notify_one(),
                    crate::db::notify::Signal::PublicChanged => {
                        generation.fetch_add(1, std::sync::atomic::Ordering::Release);
                    }
                });
        }
        services.software().seed().await?;
        services.search().fill_index().await?;
        Ok(services)
    }
}

impl Services {
    /// After a commit that may change what the public sees: here and on every server.
    pub fn public_changed(&self) {
        self.public_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        self.db.signal(crate::db::notify::Signal::PublicChanged);
    }

    /// After a commit that enqueued jobs: a worker here, and on every server, looks now.
    pub fn jobs_enqueued(&self) {
        self.jobs_ready.notify_one();
        self.db.signal(crate::db::notify::Signal::JobsReady);
    }

    pub fn public_generation(&self) -> u64 {
        self.public_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Refuse anyone but curators (and admins): "only curators {what}".
pub fn require_curator(actor: &Actor, what: &str) -> ServiceResult<()> {
    if actor.role.is_curator() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!("only curators {what}")))
    }
}

/// Whether `actor` may see and change the deposit owned by `owner_id`.
fn may_edit(actor: &Actor, owner_id: &str) -> bool {
    actor.id == owner_id || actor.role.is_curator()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// The service modules and which of them each uses (`super::name::`, `.name()`).
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                for inner in std::fs::read_dir(&path).unwrap() {
                    files.push((path.clone(), inner.unwrap().path()));
                }
            } else {
                files.push((path.clone(), path));
            }
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, file) in files {
            let name = module.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "mod" {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let deps = graph.entry(name.clone()).or_default();
            // `super::name::…` (a path) and `.name()` (a capability's operations).
            for (lead, tail) in [("super::", "::"), (".", "()")] {
                for (i, _) in text.match_indices(lead) {
                    let rest = &text[i + lead.len()..];
                    let word: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if rest[word.len()..].starts_with(tail) && word != name {
                        deps.insert(word);
                    }
                }
            }
        }
        let known: BTreeSet<String> = graph.keys().cloned().collect();
        for deps in graph.values_mut() {
            deps.retain(|d| known.contains(d));
        }
        graph
    }

    /// Each capability is a module that uses those below it: a cycle would make two
    /// capabilities one.
    #[test]
    fn service_modules_import_each_other_without_cycles() {
        let graph = imports();
        assert!(graph.len() > 20, "{graph:?}");
        // Kahn: peel off modules that import nothing left; what remains is in a cycle.
        let mut left = graph.clone();
        loop {
            let free: Vec<String> = left
                .iter()
                .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
                .map(|(m, _)| m.clone())
                .collect();
            if free.is_empty() {
                break;
            }
            for m in free {
                left.remove(&m);
            }
        }
        assert!(left.is_empty(), "service modules in a cycle: {left:?}");
    }

    /// A capability that writes a reaction to transitions registers it, or it never runs.
    #[test]
    fn every_reaction_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services");
        let list = std::fs::read_to_string(dir.join("reactions.rs")).unwrap();
        let mut found = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name != "mod" && text.contains("async fn follows(") {
                assert!(
                    list.contains(&format!("reaction!({name})")),
                    "{name}.rs reacts to transitions but is not in reactions.rs"
                );
                found += 1;
            }
        }
        assert_eq!(found, 8, "the capabilities that follow deposits");
    }

    /// Services sit below the edges: they never reach into the web, the worker or the
    /// command line (the edges lend what they must, as the landing renderer).
    #[test]
    fn services_never_reach_into_the_edges() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services");
        let mut files = vec![];
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else {
                files.push(path);
            }
        }
        assert!(files.len() > 30);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for edge in ["crate::web", "crate::worker", "crate::cli"] {
                let code = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .any(|l| l.contains(edge) && !l.contains(&format!("\"{edge}")));
                assert!(!code, "{} uses {edge}", file.display());
            }
        }
    }
}
