//! Settings: flags and `ARCA_*` variables first, then the optional TOML file, then the
//! embedded defaults (SQLite and objects under ./arca-data, 127.0.0.1:8080). Every
//! setting of the file can also come from a variable `ARCA_<SECTION>__<KEY>`, and a
//! secret from a file named by `<key>_file`.

use crate::storage::StorageConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const DEFAULT_DATA_DIR: &str = "arca-data";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub data_dir: PathBuf,
    pub bind: String,
    pub database_url: String,
    pub storage: StorageConfig,
    pub uploads: UploadSettings,
    pub doi: DoiSettings,
    pub jobs: JobSettings,
    pub repository: RepositorySettings,
    pub holds: HoldSettings,
    pub releases: ReleaseSettings,
    pub mirrors: MirrorSettings,
    pub fixity: FixitySettings,
    pub extraction: ExtractionSettings,
    pub facility: FacilitySettings,
    pub lookups: LookupSettings,
    pub usage: UsageSettings,
    pub web: WebSettings,
    /// Outgoing mail; without it Arca sends none (and says so at start).
    pub mail: Option<MailSettings>,
    pub auth: AuthSettings,
}

/// Sign-in through the facility's identity provider, ORCID, or any OpenID Connect one.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `[auth.oidc.<name>]`, by the name in their routes (`/signin/oidc/<name>`).
    pub oidc: std::collections::BTreeMap<String, OidcSettings>,
}

/// One OpenID Connect provider.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// Where discovery starts (`<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// From `client_secret_file`, `client_secret_env`, or ARCA_AUTH__OIDC__<NAME>__CLIENT_SECRET.
    #[serde(default)]
    pub client_secret: Option<crate::storage::Secret>,
    /// On the sign-in button: "Sign in with <display_name>".
    pub display_name: String,
    /// The provider is ORCID: the subject is the person's ORCID iD, kept as verified.
    #[serde(default)]
    pub orcid: bool,
    #[serde(default = "default_oidc_scopes")]
    pub scopes: Vec<String>,
    /// Someone signing in here for the first time gets an author account; false: only
    /// people whose account is already linked (or who link it) sign in.
    #[serde(default = "default_true")]
    pub create_accounts: bool,
    /// The claim holding the person's address (its `<claim>_verified`, or
    /// `email_verified` for `email`, says whether the provider checked it).
    #[serde(default = "default_email_claim")]
    pub email_claim: String,
    /// The claim holding the person's name (else `given_name` and `family_name`).
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    /// A claim naming the person's groups or roles; with `curator_values` and
    /// `admin_values` their role follows it at each sign-in.
    #[serde(default)]
    pub roles_claim: Option<String>,
    #[serde(default)]
    pub curator_values: Vec<String>,
    #[serde(default)]
    pub admin_values: Vec<String>,
}

fn default_oidc_scopes() -> Vec<String> {
    vec!["openid".into(), "email".into(), "profile".into()]
}

fn default_email_claim() -> String {
    "email".into()
}

fn default_name_claim() -> String {
    "name".into()
}

fn default_true() -> bool {
    true
}

/// The SMTP server Arca sends notifications, password resets and invitations through.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS from the
    /// start), or `smtp://host:25` (no TLS: only to a relay on this machine).
    pub smtp_url: String,
    #[serde(default)]
    pub username: Option<String>,
    /// From `password_file`, or `ARCA_MAIL__PASSWORD`.
    #[serde(default)]
    pub password: Option<crate::storage::Secret>,
    /// The sender, e.g. `Beamline archive <archive@facility.example>`.
    pub from: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Seconds before a mail server that does not answer is given up (and retried).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

/// The browser side: who may sign up, how long a sign-in lasts.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// Anyone may create an author account; when false, only invited people can.
    pub open_signup: bool,
    /// A browser session ends this long after sign-in.
    pub session_hours: u64,
    /// Invitation links work this long.
    pub invitation_days: u64,
    /// Public landing pages are kept rendered this long (0: not at all). A change made
    /// by this process shows at once; one made by another server within this time.
    pub page_cache_seconds: u64,
    /// A client must send a request's headers within this time, and a kept-alive
    /// connection may wait this long for its next request.
    pub header_timeout_seconds: u64,
    /// Sign-in, sign-up and token attempts per minute from one address, sign-ins per
    /// minute on one account, and unknown reviewer links per minute from one address.
    pub guesses_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the limits above).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// People may sign in with a password kept here; false: only through `[auth.oidc.*]`
    /// providers (API tokens keep working).
    pub local_passwords: bool,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            open_signup: true,
            session_hours: 12,
            invitation_days: 14,
            page_cache_seconds: 5,
            header_timeout_seconds: 30,
            guesses_per_minute: 20,
            trusted_proxies: Vec::new(),
            local_passwords: true,
        }
    }
}

/// Transfers to mirror sites.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MirrorSettings {
    /// Bytes per multipart part (at least 5 MiB, the S3 minimum); grows for objects
    /// that would need more than 10,000 parts.
    pub part_size: u64,
    /// Requests (parts, or small objects) one transfer keeps in flight. A transfer
    /// holds at most this many times `part_size` in memory: larger parts count for
    /// more. Long links to other continents want more.
    pub requests_in_flight: usize,
    /// A multipart upload no transfer has touched this long is aborted.
    pub abandon_after_hours: u64,
    /// Endpoint hosts (`host` or `host:port`) curators may add mirrors at from the
    /// console. Empty: mirrors are added by the operator (`arca mirror add`) only.
    pub console_hosts: Vec<String>,
    /// Credential references curators may name in the console: `env:KEY_VAR,SECRET_VAR`
    /// or `file:/path`. Anything else stays an operator's act, so a curator cannot send
    /// an arbitrary variable or file of the server's to an endpoint of their choosing.
    pub console_credentials: Vec<String>,
    /// How long a GET URL the archive signs for a mirror open to readers
    /// (`--presign`) stays valid (S3 allows at most 7 days).
    pub presigned_url_hours: u64,
}

impl Default for MirrorSettings {
    fn default() -> Self {
        Self {
            part_size: 8 << 20,
            requests_in_flight: 10,
            abandon_after_hours: 24,
            console_hosts: Vec::new(),
            console_credentials: Vec::new(),
            presigned_url_hours: 24,
        }
    }
}

/// The fixity audit.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FixitySettings {
    /// How fast the audit reads, so uploads keep the disk (0: no limit).
    pub max_mb_per_sec: u64,
    /// How often a full audit starts.
    pub every_hours: u64,
}

impl Default for FixitySettings {
    fn default() -> Self {
        Self {
            max_mb_per_sec: 200,
            every_hours: 24 * 7,
        }
    }
}

/// Metadata from the data: what the files' headers and names say.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractionSettings {
    /// A detector series with missing frames fails verification instead of being a
    /// warning in its report (for facilities whose series are always whole).
    pub incomplete_series_fail: bool,
}

/// The facility this archive serves: offered in the deposit form (typed values are still
/// accepted), with the identifiers the form records when one is chosen.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacilitySettings {
    /// Its name as depositors should write it ("Diamond Light Source").
    pub name: String,
    /// Its ROR id (`https://ror.org/…`), recorded with the name.
    pub ror: Option<String>,
    pub beamlines: Vec<BeamlineSetting>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BeamlineSetting {
    pub name: String,
    /// A persistent identifier of the instrument (a PIDINST DOI or a URL).
    #[serde(default)]
    pub pid: Option<String>,
}

/// The registries the deposit form looks names up in. An empty address turns that
/// lookup off; one that cannot be reached only means no suggestions.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LookupSettings {
    /// ORCID's public API (people), e.g. `https://pub.sandbox.orcid.org/v3.0`.
    pub orcid_url: String,
    /// The ROR API, v2 (affiliations).
    pub ror_url: String,
    /// The Crossref REST API (the Funder Registry).
    pub crossref_url: String,
    /// How long a registry has to answer, connection included.
    pub timeout_ms: u64,
    /// How long an answer is reused.
    pub cache_minutes: u64,
    /// Answers kept in each server's memory (0: none).
    pub cache_entries: usize,
    /// An address the registries may write to about this archive's requests
    /// (Crossref's "polite pool"); none by default.
    pub contact: Option<String>,
}

impl Default for LookupSettings {
    fn default() -> Self {
        Self {
            orcid_url: "https://pub.orcid.org/v3.0".into(),
            ror_url: "https://api.ror.org/v2".into(),
            crossref_url: "https://api.crossref.org".into(),
            timeout_ms: 3000,
            cache_minutes: 24 * 60,
            cache_entries: 10_000,
            contact: None,
        }
    }
}

/// Usage statistics (COUNTER views and downloads).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageSettings {
    /// Count views and downloads at all.
    pub enabled: bool,
    /// The facility's time zone: which month a use falls in (IANA name).
    pub time_zone: String,
    /// How often a server writes what it counted to the catalogue (and at shutdown).
    pub flush_seconds: u64,
    /// Uses a server holds before it writes them out at once; past twice this, new
    /// ones are dropped (and counted in `arca_usage_dropped_total`) until it has.
    pub max_pending: usize,
    /// Newer COUNTER robots / machine lists than the ones built in (a pattern a line).
    pub robots_list: Option<PathBuf>,
    pub machines_list: Option<PathBuf>,
    /// Send each month's Dataset Report to DataCite's usage reports API (the host of
    /// `[doi.datacite] url`).
    pub report_to_datacite: bool,
    /// The bearer token (JWT) DataCite issued for usage reports; without it the
    /// repository's own credentials are sent.
    pub datacite_token: Option<crate::storage::Secret>,
}

impl Default for UsageSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            time_zone: "UTC".into(),
            flush_seconds: 30,
            max_pending: 100_000,
            robots_list: None,
            machines_list: None,
            report_to_datacite: false,
            datacite_token: None,
        }
    }
}

/// Holds until publication, and the watcher that ends them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HoldSettings {
    /// Whether depositors may put their own approved datasets on hold.
    pub authors_may_hold: bool,
    /// The longest a hold may last.
    pub max_days: u32,
    /// Reminders go out this long before a hold lapses.
    pub remind_days: u32,
    /// Crossref's REST API (works by DOI) and the RCSB PDB data API.
    pub crossref_url: String,
    pub pdb_url: String,
    /// How often each held dataset's article or PDB entry is looked up.
    pub check_every_hours: u64,
    /// Schedule a dataset into the next release as soon as its publication is seen,
    /// instead of proposing it to the curators.
    pub auto_schedule: bool,
}

impl Default for HoldSettings {
    fn default() -> Self {
        Self {
            authors_may_hold: true,
            max_days: 3 * 365 + 1,
            remind_days: 30,
            crossref_url: "https://api.crossref.org".into(),
            pdb_url: "https://data.rcsb.org".into(),
            check_every_hours: 24,
            auto_schedule: false,
        }
    }
}

/// The cadence of release batches (`[releases]`): the model's, as the cadence reads it.
pub use crate::model::cadence::ReleaseSettings;

/// How the archive names itself to harvesters (OAI-PMH Identify, BagIt bag-info).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepositorySettings {
    pub name: String,
    pub admin_email: String,
    /// The domain in OAI identifiers (`oai:<namespace>:<id>`).
    pub oai_namespace: String,
    /// The DataCite repository symbol shown in `oai_datacite` records.
    pub datacentre_symbol: String,
    /// Records per OAI-PMH ListRecords / ListIdentifiers page.
    pub oai_page_size: i64,
}

impl Default for RepositorySettings {
    fn default() -> Self {
        Self {
            name: "Arca".into(),
            admin_email: "archive@arca.invalid".into(),
            oai_namespace: "arca.local".into(),
            datacentre_symbol: "ARCA".into(),
            oai_page_size: 100,
        }
    }
}

/// Where DOIs come from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DoiSettings {
    /// `local` (reserved in this archive only, registered nowhere) or `datacite`.
    pub provider: DoiProvider,
    pub prefix: String,
    /// Suffixes are `<suffix_lead><random_chars Crockford characters><check character>`.
    pub suffix_lead: String,
    pub random_chars: usize,
    /// The public base URL of this archive: a DOI resolves to `<base>/datasets/<id>`.
    /// Unset, it is the address the server binds to (see [`public_url_of_bind`]).
    #[serde(default)]
    pub public_url: String,
    pub datacite: Option<DataciteSettings>,
}

pub use crate::model::DoiProvider;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataciteSettings {
    /// The REST API, e.g. https://api.test.datacite.org, or an `arca datacite-sandbox`.
    pub url: String,
    pub repository_id: String,
    pub password: crate::storage::Secret,
    /// Seconds before a call to DataCite is given up (and retried later).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    30
}

impl Default for DoiSettings {
    fn default() -> Self {
        Self {
            provider: DoiProvider::Local,
            prefix: "10.5072".into(),
            suffix_lead: "arca.".into(),
            random_chars: 8,
            public_url: format!("http://{DEFAULT_BIND}"),
            datacite: None,
        }
    }
}

/// The job queue's retry policy.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// First retry delay; each further retry doubles it, up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// A stored object no file refers to is removed after this many hours.
    pub gc_grace_hours: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            retry_base_ms: 1000,
            retry_max_ms: 3_600_000,
            gc_grace_hours: 7 * 24,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadSettings {
    /// Largest single file accepted, in bytes (tus `Tus-Max-Size`).
    pub max_size: u64,
    /// An unfinished upload untouched this long is removed (tus expiration).
    pub expire_after_hours: u64,
    /// Durable checkpoints inside one long PATCH request, in bytes, so a dropped
    /// connection or a crash loses at most this much.
    pub checkpoint_bytes: u64,
    /// Largest bag accepted by `POST /api/v1/deposits/import`, in bytes (the tar
    /// stream as sent). Its payload is staged on the server's disk until checked.
    pub max_bag_size: u64,
    /// PATCH requests sending at once, in all and per account; more get 429 with
    /// Retry-After.
    pub max_concurrent: usize,
    pub max_concurrent_per_account: usize,
    /// A PATCH whose body sends nothing for this long is ended (what arrived is kept).
    pub idle_timeout_seconds: u64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_size: 1 << 40,
            expire_after_hours: 7 * 24,
            checkpoint_bytes: 256 << 20,
            max_bag_size: 100 << 30,
            max_concurrent: 256,
            max_concurrent_per_account: 16,
            idle_timeout_seconds: 120,
        }
    }
}

/// The TOML file (`--config` / `ARCA_CONFIG`). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    bind: Option<String>,
    database_url: Option<String>,
    storage: Option<StorageConfig>,
    uploads: Option<UploadSettings>,
    doi: Option<DoiSettings>,
    jobs: Option<JobSettings>,
    repository: Option<RepositorySettings>,
    holds: Option<HoldSettings>,
    releases: Option<ReleaseSettings>,
    mirrors: Option<MirrorSettings>,
    fixity: Option<FixitySettings>,
    extraction: Option<ExtractionSettings>,
    facility: Option<FacilitySettings>,
    lookups: Option<LookupSettings>,
    usage: Option<UsageSettings>,
    web: Option<WebSettings>,
    mail: Option<MailSettings>,
    auth: Option<AuthSettings>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: {0}")]
    Invalid(String),
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{origin}: {message}")]
    Settings { origin: String, message: String },
}

/// What the command line and environment said; `None` where they said nothing.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub config: Option<PathBuf>,
}

impl Config {
    /// The archive's public base URL without a trailing slash: landing pages, DOI
    /// targets, OAI, sitemaps and reviewer links are built on it.
    pub fn public_base(&self) -> &str {
        self.doi.public_url.trim_end_matches('/')
    }

    pub fn load(o: Overrides) -> Result<Self, ConfigError> {
        Self::load_with_env(o, std::env::vars())
    }

    /// As [`Config::load`], with the environment given (tests).
    pub fn load_with_env(
        o: Overrides,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let file = read_settings(o.config.as_deref(), vars)?;
        let data_dir = o
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = o
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir));
        let bind = o.bind.or(file.bind).unwrap_or_else(|| DEFAULT_BIND.into());
        let mut doi = file.doi.unwrap_or_else(|| DoiSettings {
            public_url: String::new(),
            ..Default::default()
        });
        if doi.public_url.is_empty() {
            doi.public_url = public_url_of_bind(&bind);
        }
        let config = Self {
            bind,
            database_url,
            storage: file.storage.unwrap_or(StorageConfig::Local),
            uploads: file.uploads.unwrap_or_default(),
            doi,
            jobs: file.jobs.unwrap_or_default(),
            repository: file.repository.unwrap_or_default(),
            holds: file.holds.unwrap_or_default(),
            releases: file.releases.unwrap_or_default(),
            mirrors: file.mirrors.unwrap_or_default(),
            fixity: file.fixity.unwrap_or_default(),
            extraction: file.extraction.unwrap_or_default(),
            facility: file.facility.unwrap_or_default(),
            lookups: file.lookups.unwrap_or_default(),
            usage: file.usage.unwrap_or_default(),
            web: file.web.unwrap_or_default(),
            mail: file.mail,
            auth: file.auth.unwrap_or_default(),
            data_dir,
        };
        config.check()?;
        Ok(config)
    }

    /// Said at start when readers elsewhere would get links they cannot follow: the
    /// public URL names this machine's loopback while the server listens on other
    /// addresses (a wildcard bind with no `[doi] public_url`, say).
    pub fn loopback_links_warning(&self) -> Option<String> {
        let loopback = |host: &str| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        };
        let public_host = url::Url::parse(&self.doi.public_url)
            .ok()?
            .host_str()?
            .to_owned();
        let bind_host = self.bind.rsplit_once(':').map_or(&*self.bind, |(h, _)| h);
        (loopback(&public_host) && !loopback(bind_host)).then(|| {
            format!(
                "links (DOI targets, Signposting, the upload command shown to authors) name {} \
                 while the server listens on {}: readers on other machines cannot follow them; \
                 set [doi] public_url (ARCA_DOI__PUBLIC_URL) to the address they use",
                self.public_base(),
                self.bind
            )
        })
    }

    /// The effective settings as TOML, secrets masked (`arca config check`): credentials
    /// print as `***`, and so does a password in the database URL.
    pub fn masked_toml(&self) -> String {
        let mut shown = self.clone();
        if let Ok(mut url) = url::Url::parse(&shown.database_url)
            && url.password().is_some()
        {
            let _ = url.set_password(Some("***"));
            shown.database_url = url.to_string();
        }
        toml::to_string(&shown).unwrap_or_else(|e| format!("# cannot show the settings: {e}\n"))
    }

    /// Settings that parse but cannot work are refused at start, not at first use.
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(ror) = &self.facility.ror
            && crate::model::identifiers::Ror::parse(ror).is_err()
        {
            return Err(ConfigError::Invalid(format!(
                "[facility] ror: '{ror}' is not a ROR id (https://ror.org/0…)"
            )));
        }
        for (key, url) in [
            ("orcid_url", &self.lookups.orcid_url),
            ("ror_url", &self.lookups.ror_url),
            ("crossref_url", &self.lookups.crossref_url),
        ] {
            if !url.is_empty()
                && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
            {
                return Err(ConfigError::Invalid(format!(
                    "[lookups] {key}: '{url}' is not an http(s) URL (leave it empty to turn the lookup off)"
                )));
            }
        }
        if self.lookups.timeout_ms == 0 {
            return Err(ConfigError::Invalid(
                "[lookups] timeout_ms must be at least 1".into(),
            ));
        }
        for b in &self.facility.beamlines {
            if b.name.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "[facility] beamlines: every beamline needs a name".into(),
                ));
            }
        }
        for (name, p) in &self.auth.oidc {
            crate::oidc::check_settings(name, p)
                .map_err(|e| ConfigError::Invalid(format!("[auth.oidc.{name}] {e}")))?;
        }
        if !self.web.local_passwords && self.auth.oidc.is_empty() {
            return Err(ConfigError::Invalid(
                "[web] local_passwords = false leaves no way to sign in: add an [auth.oidc.<name>] provider".into(),
            ));
        }
        if let Some(mail) = &self.mail {
            crate::mail::check_settings(mail)
                .map_err(|e| ConfigError::Invalid(format!("[mail] {e}")))?;
        }
        crate::model::doi::check_prefix(&self.doi.prefix)
            .map_err(|e| ConfigError::Invalid(format!("[doi] prefix: {e}")))?;
        if !(4..=32).contains(&self.doi.random_chars) {
            return Err(ConfigError::Invalid(
                "[doi] random_chars must be between 4 and 32".into(),
            ));
        }
        for (name, value) in [
            (
                "[web] header_timeout_seconds",
                self.web.header_timeout_seconds,
            ),
            (
                "[uploads] idle_timeout_seconds",
                self.uploads.idle_timeout_seconds,
            ),
            (
                "[uploads] max_concurrent",
                self.uploads.max_concurrent as u64,
            ),
            (
                "[uploads] max_concurrent_per_account",
                self.uploads.max_concurrent_per_account as u64,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        if self.mirrors.part_size < 5 << 20 {
            return Err(ConfigError::Invalid(
                "[mirrors] part_size must be at least 5 MiB (5242880), the S3 minimum".into(),
            ));
        }
        if !(1..=168).contains(&self.mirrors.presigned_url_hours) {
            return Err(ConfigError::Invalid(
                "[mirrors] presigned_url_hours must be between 1 and 168 (S3's limit: 7 days)"
                    .into(),
            ));
        }
        if !(1..=256).contains(&self.mirrors.requests_in_flight) {
            return Err(ConfigError::Invalid(
                "[mirrors] requests_in_flight must be between 1 and 256".into(),
            ));
        }
        crate::model::cadence::Cadence::from_settings(&self.releases)
            .map_err(|e| ConfigError::Invalid(format!("[releases] {e}")))?;
        if !(1..=1000).contains(&self.repository.oai_page_size) {
            return Err(ConfigError::Invalid(
                "[repository] oai_page_size must be between 1 and 1000".into(),
            ));
        }
        let ns = &self.repository.oai_namespace;
        let labels_ok = ns.split('.').count() > 1
            && ns.split('.').all(|l| {
                l.starts_with(|c: char| c.is_ascii_alphabetic())
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !labels_ok {
            return Err(ConfigError::Invalid(format!(
                "[repository] oai_namespace must be a domain name such as archive.example.org, got '{ns}'"
            )));
        }
        jiff::tz::TimeZone::get(&self.usage.time_zone).map_err(|_| {
            ConfigError::Invalid(format!(
                "[usage] time_zone: '{}' is not an IANA time zone",
                self.usage.time_zone
            ))
        })?;
        if self.usage.flush_seconds == 0 || self.usage.max_pending == 0 {
            return Err(ConfigError::Invalid(
                "[usage] flush_seconds and max_pending must be at least 1".into(),
            ));
        }
        if self.usage.report_to_datacite && self.doi.datacite.is_none() {
            return Err(ConfigError::Invalid(
                "[usage] report_to_datacite needs a [doi.datacite] table (url, repository_id, password)".into(),
            ));
        }
        if self.doi.provider == DoiProvider::Datacite && self.doi.datacite.is_none() {
            return Err(ConfigError::Invalid(
                "[doi] provider = \"datacite\" needs a [doi.datacite] table with url, repository_id and password".into(),
            ));
        }
        Ok(())
    }
}

/// The public URL a server bound to `bind` has when none is configured: that address
/// over HTTP, with a wildcard address (`0.0.0.0`, `[::]`) read as this machine's
/// loopback. Behind a proxy or on a public name, set `[doi] public_url`.
pub fn public_url_of_bind(bind: &str) -> String {
    let (host, port) = bind.rsplit_once(':').unwrap_or((bind, "80"));
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" => "[::1]",
        h => h,
    };
    if port == "80" {
        format!("http://{host}")
    } else {
        format!("http://{host}:{port}")
    }
}

/// The file's settings with the environment's laid over them and secrets read from their
/// files, checked against the known keys.
fn read_settings(
    path: Option<&Path>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<FileConfig, ConfigError> {
    let mut table = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            toml::from_str::<toml::Table>(&text).map_err(|source| ConfigError::Parse {
                path: path.to_owned(),
                source,
            })?
        }
        None => toml::Table::new(),
    };
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let from_env = overlay_env(&mut table, vars.iter().cloned())?;
    read_secret_files(&mut table, "", &vars)?;
    // Through the TOML text again, so an unknown or mistyped key is reported with its
    // section and line, whichever source it came from.
    let text = toml::to_string(&table).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    toml::from_str(&text).map_err(|source| {
        let mut message = source.to_string();
        if !from_env.is_empty() {
            message.push_str(&format!(
                "(settings from the environment: {})",
                from_env.join(", ")
            ));
        }
        ConfigError::Settings {
            origin: path.map_or_else(|| "settings".into(), |p| p.display().to_string()),
            message,
        }
    })
}

/// `ARCA_<SECTION>__<KEY>=value` (and `ARCA_<SECTION>__<TABLE>__<KEY>` for a nested table,
/// such as `ARCA_DOI__DATACITE__PASSWORD`) sets that key. A value reads as a boolean,
/// an integer or a TOML array (`["a", "b"]`) when it is one, else as text. Returns the
/// variables used.
fn overlay_env(
    table: &mut toml::Table,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<String>, ConfigError> {
    let mut used = Vec::new();
    let mut vars: Vec<_> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with("ARCA_") && k.contains("__"))
        .collect();
    vars.sort();
    for (name, raw) in vars {
        let path: Vec<String> = name["ARCA_".len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid(format!(
                "{name}: the name must be ARCA_<SECTION>__<KEY>"
            )));
        }
        let (key, sections) = path.split_last().expect("split yields one part at least");
        let mut at = &mut *table;
        for section in sections {
            let entry = at
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            at = entry.as_table_mut().ok_or_else(|| {
                ConfigError::Invalid(format!("{name}: `{section}` is a setting, not a section"))
            })?;
        }
        at.insert(key.clone(), env_value(&raw));
        used.push(name);
    }
    Ok(used)
}

fn env_value(raw: &str) -> toml::Value {
    let typed = raw == "true"
        || raw == "false"
        || raw.parse::<i64>().is_ok()
        || (raw.starts_with('[') && raw.ends_with(']'));
    if typed
        && let Ok(mut t) = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        && let Some(v) = t.remove("v")
    {
        return v;
    }
    toml::Value::String(raw.to_owned())
}

/// `password_file = "/run/secrets/datacite"` stands for `password` = the file's content
/// (without its final newline), and `client_secret_env = "IDP_SECRET"` for
/// `client_secret` = that variable's value, in any section: secrets stay out of the
/// settings file.
fn read_secret_files(
    table: &mut toml::Table,
    section: &str,
    vars: &[(String, String)],
) -> Result<(), ConfigError> {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        let here = if section.is_empty() {
            key.clone()
        } else {
            format!("{section}.{key}")
        };
        if let Some(toml::Value::Table(inner)) = table.get_mut(&key) {
            read_secret_files(inner, &here, vars)?;
            continue;
        }
        let (setting, from_file) = match (key.strip_suffix("_file"), key.strip_suffix("_env")) {
            (Some(s), _) => (s, true),
            (None, Some(s)) => (s, false),
            (None, None) => continue,
        };
        let Some(toml::Value::String(source)) = table.get(&key) else {
            return Err(ConfigError::Invalid(format!(
                "[{here}] must name a {}",
                if from_file { "file" } else { "variable" }
            )));
        };
        if table.contains_key(setting) {
            return Err(ConfigError::Invalid(format!(
                "[{here}] and {setting} are both set: give one"
            )));
        }
        // The error names the file or variable and what went wrong, never what it holds.
        let value = if from_file {
            let text = std::fs::read_to_string(source).map_err(|e| {
                ConfigError::Invalid(format!("[{here}] cannot read {source}: {}", e.kind()))
            })?;
            let value = text.strip_suffix('\n').unwrap_or(&text);
            value.strip_suffix('\r').unwrap_or(value).to_owned()
        } else {
            vars.iter()
                .find(|(k, _)| k == source)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    ConfigError::Invalid(format!("[{here}] names {source}, which is not set"))
                })?
        };
        let setting = setting.to_owned();
        table.remove(&key);
        table.insert(setting, toml::Value::String(value));
    }
    Ok(())
}

/// The embedded catalogue: one SQLite file in the data directory, created on first use.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("arca.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_env(file: Option<&str>, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let config = file.map(|text| {
            let path = dir.path().join("arca.toml");
            std::fs::write(&path, text).unwrap();
            path
        });
        Config::load_with_env(
            Overrides {
                data_dir: Some(dir.path().into()),
                config,
                ..Default::default()
            },
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn every_setting_can_come_from_the_environment_over_the_file() {
        let secret = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(secret.path(), "s3cr3t\n").unwrap();
        let c = load_env(
            Some("[web]\nopen_signup = true\nsession_hours = 3\n[doi]\nprefix = \"10.1234\"\n"),
            &[
                ("ARCA_WEB__OPEN_SIGNUP", "false"),
                ("ARCA_UPLOADS__MAX_SIZE", "1000"),
                ("ARCA_DOI__PREFIX", "10.5072"),
                ("ARCA_DOI__PROVIDER", "datacite"),
                ("ARCA_DOI__DATACITE__URL", "https://api.test.datacite.org"),
                ("ARCA_DOI__DATACITE__REPOSITORY_ID", "ARCA.TEST"),
                (
                    "ARCA_DOI__DATACITE__PASSWORD_FILE",
                    secret.path().to_str().unwrap(),
                ),
                ("ARCA_WEB__TRUSTED_PROXIES", r#"["10.0.0.1", "::1"]"#),
                ("ARCA_REPOSITORY__NAME", "Beamline 42 archive"),
                ("ARCA_LOG", "debug"),
            ],
        )
        .unwrap();
        assert!(!c.web.open_signup);
        assert_eq!(
            c.web.session_hours, 3,
            "the file's value stays where no variable is set"
        );
        assert_eq!(c.uploads.max_size, 1000);
        assert_eq!(c.doi.prefix, "10.5072", "a DOI prefix stays text");
        assert_eq!(c.web.trusted_proxies.len(), 2);
        assert_eq!(c.repository.name, "Beamline 42 archive");
        let datacite = c.doi.datacite.as_ref().unwrap();
        assert_eq!(datacite.password.0, "s3cr3t");
        let shown = c.masked_toml();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("password = \"***\""), "{shown}");
    }

    #[test]
    fn unknown_keys_and_unreadable_secrets_are_named() {
        let e = load_env(None, &[("ARCA_WEB__OPEN_SIGNPU", "true")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("open_signpu") && e.contains("ARCA_WEB__OPEN_SIGNPU"),
            "{e}"
        );
        let e = load_env(Some("[web]\nsesion_hours = 3\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("sesion_hours"), "{e}");
        let e = load_env(
            Some("[doi.datacite]\nurl = \"https://x.example\"\nrepository_id = \"X\"\npassword_file = \"/nonexistent/secret\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("/nonexistent/secret") && e.contains("password_file"),
            "{e}"
        );
        let e = load_env(None, &[("ARCA_UPLOADS__MAX_SIZE", "lots")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_size"), "{e}");
    }

    #[test]
    fn a_loopback_public_url_behind_a_wider_bind_is_warned_about() {
        let with = |bind: &str, public: Option<&str>| {
            let file = public.map(|p| format!("[doi]\npublic_url = \"{p}\"\n"));
            let mut c = load_env(file.as_deref(), &[]).unwrap();
            c.bind = bind.to_owned();
            if public.is_none() {
                c.doi.public_url = public_url_of_bind(&c.bind);
            }
            c.loopback_links_warning()
        };
        assert!(with("0.0.0.0:8080", None).is_some_and(|w| w.contains("public_url")));
        assert!(with("[::]:8080", None).is_some());
        assert!(with("127.0.0.1:8080", None).is_none());
        assert!(with("192.0.2.7:8080", None).is_none());
        assert!(with("0.0.0.0:8080", Some("https://data.example.org")).is_none());
        assert!(with("0.0.0.0:8080", Some("http://localhost:8080")).is_some());
    }

    #[test]
    fn a_database_password_is_masked() {
        let mut c = load_env(None, &[]).unwrap();
        c.database_url = "postgres://arca:hunter2@db.example:5432/arca".into();
        let shown = c.masked_toml();
        assert!(
            !shown.contains("hunter2") && shown.contains("arca:***@db.example"),
            "{shown}"
        );
    }

    #[test]
    fn the_public_url_follows_the_bind_address_unless_set() {
        let dir = tempfile::tempdir().unwrap();
        let load = |bind: &str, file: Option<&str>| {
            let config = file.map(|text| {
                let path = dir.path().join("arca.toml");
                std::fs::write(&path, text).unwrap();
                path
            });
            Config::load(Overrides {
                bind: Some(bind.into()),
                data_dir: Some(dir.path().into()),
                config,
                ..Default::default()
            })
            .unwrap()
            .public_base()
            .to_owned()
        };
        assert_eq!(load("192.0.2.7:9000", None), "http://192.0.2.7:9000");
        assert_eq!(load("0.0.0.0:8443", None), "http://127.0.0.1:8443");
        assert_eq!(load("[::]:8080", None), "http://[::1]:8080");
        assert_eq!(load("[2001:db8::1]:80", None), "http://[2001:db8::1]");
        assert_eq!(
            load("192.0.2.7:9000", Some("[doi]\nprefix = \"10.5072\"\n")),
            "http://192.0.2.7:9000"
        );
        assert_eq!(
            load(
                "0.0.0.0:8080",
                Some("[doi]\npublic_url = \"https://data.example.org/\"\n")
            ),
            "https://data.example.org"
        );
    }

    #[test]
    fn secrets_come_from_files_or_named_variables_and_providers_are_checked() {
        let file = r#"
[auth.oidc.facility]
issuer = "https://sso.facility.example/realms/users"
client_id = "arca"
client_secret_env = "IDP_SECRET"
display_name = "Beamline Facility"
roles_claim = "groups"
curator_values = ["arca-curators"]
[mail]
smtp_url = "smtps://mail.facility.example"
from = "Archive <archive@facility.example>"
username = "arca"
password_env = "SMTP_SECRET"
"#;
        let c = load_env(
            Some(file),
            &[("IDP_SECRET", "idp s3cret"), ("SMTP_SECRET", "smtp s3cret")],
        )
        .unwrap();
        let p = &c.auth.oidc["facility"];
        assert_eq!(p.client_secret.as_ref().unwrap().0, "idp s3cret");
        assert_eq!(p.scopes, ["openid", "email", "profile"]);
        assert!(p.create_accounts);
        assert_eq!(
            c.mail.as_ref().unwrap().password.as_ref().unwrap().0,
            "smtp s3cret"
        );
        let shown = c.masked_toml();
        assert!(!shown.contains("s3cret"), "{shown}");

        let e = load_env(Some(file), &[("IDP_SECRET", "x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("SMTP_SECRET") && e.contains("not set"), "{e}");
        let e = load_env(Some("[web]\nlocal_passwords = false\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no way to sign in"), "{e}");
        let e = load_env(
            Some("[auth.oidc.Bad]\nissuer = \"https://x.example\"\nclient_id = \"a\"\ndisplay_name = \"X\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[auth.oidc.Bad]"), "{e}");
    }
}
