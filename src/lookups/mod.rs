//! Lookups in the registries a depositor's values come from: people in ORCID,
//! organisations in ROR, funders in the Crossref Funder Registry. Each registry has a
//! configurable base URL (`[lookups]`), answers are cached for a while, and a registry
//! that cannot be reached only means no suggestions: typed values are always accepted.

mod funders;
mod orcid;
mod ror;

use crate::config::LookupSettings;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this many suggestions are asked for and given.
pub const SUGGESTIONS: usize = 10;
/// An answer larger than this is refused as not a registry's (no suggestion list is).
pub const ANSWER_BYTES: usize = 1 << 20;
/// Requests to the registries in flight at once, from this process.
pub const IN_FLIGHT: usize = 8;

/// Where a lookup goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// People, by name or ORCID iD (ORCID's public API, expanded search).
    Orcid,
    /// Research organisations (the ROR API, v2).
    Ror,
    /// Funders (the Crossref REST API's funder list, i.e. the Funder Registry).
    Funders,
}

impl Registry {
    pub const ALL: &[Registry] = &[Self::Orcid, Self::Ror, Self::Funders];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orcid => "orcid",
            Self::Ror => "ror",
            Self::Funders => "funders",
        }
    }

    /// The registry's name as people know it.
    pub fn display(self) -> &'static str {
        match self {
            Self::Orcid => "ORCID",
            Self::Ror => "ROR",
            Self::Funders => "the Crossref Funder Registry",
        }
    }
}

impl std::str::FromStr for Registry {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or(())
    }
}

/// One match: what goes in the field, the identifier recorded with it, and what tells
/// two alike apart (an institution, a country).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// The value for the field: "Family, Given" for a person, the name otherwise.
    pub label: String,
    /// The identifier: an ORCID iD (`0000-0002-1825-0097`), a ROR id
    /// (`https://ror.org/…`) or a funder DOI (`https://doi.org/10.13039/…`).
    pub id: String,
    /// What tells it apart, when the registry says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{} is not used by this archive ([lookups] sets no address for it)", .0.display())]
    Off(Registry),
    #[error("{name} could not be reached: {1}", name = .0.display())]
    Unreachable(Registry, String),
    #[error("{name} answered with HTTP {1}", name = .0.display())]
    Status(Registry, u16),
    #[error("{name} answered something that is not a result list: {1}", name = .0.display())]
    Answer(Registry, String),
}

struct Cached {
    at: Instant,
    suggestions: Arc<Vec<Suggestion>>,
}

/// The registries' client, shared by every request of a process.
pub struct Lookups {
    http: reqwest::Client,
    settings: LookupSettings,
    cache: Mutex<HashMap<(Registry, String), Cached>>,
    in_flight: tokio::sync::Semaphore,
}

impl Lookups {
    pub fn new(settings: &LookupSettings, user_agent: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms))
            .user_agent(user_agent)
            .build()?;
        Ok(Self {
            http,
            settings: settings.clone(),
            cache: Mutex::new(HashMap::new()),
            in_flight: tokio::sync::Semaphore::new(IN_FLIGHT),
        })
    }

    fn base(&self, r: Registry) -> &str {
        let base = match r {
            Registry::Orcid => &self.settings.orcid_url,
            Registry::Ror => &self.settings.ror_url,
            Registry::Funders => &self.settings.crossref_url,
        };
        base.trim_end_matches('/')
    }

    /// Whether the registry is asked at all (its address is set).
    pub fn enabled(&self, r: Registry) -> bool {
        !self.base(r).is_empty()
    }

    /// The registry's matches for `query` (already checked for length), from the cache
    /// while they are fresh. Failures are not cached: the next keystroke asks again.
    pub async fn find(
        &self,
        r: Registry,
        query: &str,
    ) -> Result<Arc<Vec<Suggestion>>, LookupError> {
        if !self.enabled(r) {
            return Err(LookupError::Off(r));
        }
        let key = (r, query.to_lowercase());
        let ttl = Duration::from_secs(self.settings.cache_minutes * 60);
        if let Some(hit) = self.cache.lock().unwrap().get(&key)
            && hit.at.elapsed() < ttl
        {
            return Ok(hit.suggestions.clone());
        }
        let found = Arc::new(self.ask(r, query).await?);
        self.remember(key, found.clone(), ttl);
        Ok(found)
    }

    /// Keep an answer; a full cache first drops what is stale, then the oldest.
    fn remember(&self, key: (Registry, String), suggestions: Arc<Vec<Suggestion>>, ttl: Duration) {
        let mut cache = self.cache.lock().unwrap();
        if cache.len() >= self.settings.cache_entries && !cache.contains_key(&key) {
            cache.retain(|_, c| c.at.elapsed() < ttl);
            if cache.len() >= self.settings.cache_entries
                && let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, c)| c.at)
                    .map(|(k, _)| k.clone())
            {
                cache.remove(&oldest);
            }
        }
        if self.settings.cache_entries > 0 {
            cache.insert(
                key,
                Cached {
                    at: Instant::now(),
                    suggestions,
                },
            );
        }
    }

    async fn ask(&self, r: Registry, query: &str) -> Result<Vec<Suggestion>, LookupError> {
        let base = self.base(r);
        let request = match r {
            Registry::Orcid => orcid::request(&self.http, base, query),
            Registry::Ror => ror::request(&self.http, base, query),
            Registry::Funders => {
                funders::request(&self.http, base, query, self.settings.contact.as_deref())
            }
        };
        let _turn = self.in_flight.acquire().await.expect("never closed");
        let mut resp = request
            .send()
            .await
            .map_err(|e| LookupError::Unreachable(r, without_url(e)))?;
        if !resp.status().is_success() {
            return Err(LookupError::Status(r, resp.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| LookupError::Unreachable(r, without_url(e)))?
        {
            if body.len() + chunk.len() > ANSWER_BYTES {
                return Err(LookupError::Answer(
                    r,
                    format!("larger than {ANSWER_BYTES} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        read_answer(r, &body)
    }
}

/// A registry's answer (the body of a successful response, at most `ANSWER_BYTES`) as
/// suggestions, at most [`SUGGESTIONS`]; anything that is not the registry's result
/// list is an error naming the registry.
pub fn read_answer(r: Registry, body: &[u8]) -> Result<Vec<Suggestion>, LookupError> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| LookupError::Answer(r, e.to_string()))?;
    let mut found = match r {
        Registry::Orcid => orcid::parse(&json),
        Registry::Ror => ror::parse(&json),
        Registry::Funders => funders::parse(&json),
    }
    .map_err(|e| LookupError::Answer(r, e))?;
    found.truncate(SUGGESTIONS);
    Ok(found)
}

/// reqwest's error text without the URL (which carries what the person typed).
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "no connection"
    } else {
        "the request failed"
    };
    kind.to_owned()
}

/// A string member, trimmed, when present and not empty.
fn text<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The words of a query for a Solr-like search, with Solr's special characters dropped
/// (a person's name has none that matter; a stray `:` or `(` would be a syntax error).
fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '\'' | '.'))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty() && w != "-")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_names_and_drop_query_syntax() {
        assert_eq!(words("Curie, Marie"), ["Curie", "Marie"]);
        assert_eq!(words("O'Brien (AND) x:y"), ["O'Brien", "AND", "xy"]);
        assert_eq!(words("Skłodowska-Curie"), ["Skłodowska-Curie"]);
        assert!(words(" :( ) ").is_empty());
    }

    #[test]
    fn registries_parse_from_their_names() {
        for r in Registry::ALL {
            assert_eq!(r.as_str().parse::<Registry>(), Ok(*r));
        }
        assert!("crossref".parse::<Registry>().is_err());
    }
}
