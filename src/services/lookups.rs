//! Suggestions for the deposit form from ORCID, ROR and the Funder Registry. A registry
//! that does not answer gives no suggestions and a reason, never an error: the person
//! types the value instead, and the form accepts it.

use super::{Actor, ServiceError, ServiceResult};
use crate::lookups::{LookupError, Registry, Suggestion};

/// The shortest and longest query asked about, in characters.
pub const QUERY_CHARS: std::ops::RangeInclusive<usize> = 2..=200;

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub suggestions: Vec<Suggestion>,
    /// Why there are no suggestions from the registry this time, in plain words.
    pub unavailable: Option<String>,
}

super::capability!(lookups);

impl Service<'_> {
    /// `query` looked up in `registry`, for a signed-in person.
    pub async fn find(
        &self,
        _actor: &Actor,
        registry: Registry,
        query: &str,
    ) -> ServiceResult<Found> {
        let query = query.trim();
        let chars = query.chars().count();
        if !QUERY_CHARS.contains(&chars) {
            return Err(ServiceError::invalid(
                "q",
                format!(
                    "a lookup takes between {} and {} characters (this one has {chars})",
                    QUERY_CHARS.start(),
                    QUERY_CHARS.end()
                ),
            ));
        }
        match self.registries.find(registry, query).await {
            Ok(found) => Ok(Found {
                suggestions: found.as_ref().clone(),
                unavailable: None,
            }),
            Err(e) => {
                if !matches!(e, LookupError::Off(_)) {
                    tracing::warn!(registry = registry.as_str(), "lookup failed: {e}");
                }
                Ok(Found {
                    suggestions: Vec::new(),
                    unavailable: Some(format!("{e}; type the value yourself")),
                })
            }
        }
    }

    /// Whether the form should offer lookups in `registry` at all.
    pub fn offered(&self, registry: Registry) -> bool {
        self.registries.enabled(registry)
    }
}
