//! The software catalogue (kept by curators) and the manuscript kit: everything an author
//! needs for the reference section, the data and the software that processed it.

use super::deposits::load_visible;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::db::{self, now_ms, software::SoftwareRow, software::name_key};
use crate::metadata::citation::{self, formatted, formatted_item};
use crate::metadata::schema::check_deposit;
use crate::model::{DepositState, ids};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The programs the catalogue starts with, and their reference papers.
const SEED: &str = include_str!("../../fixtures/software.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSoftware {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub homepage: Option<String>,
    /// How to cite it: one CSL-JSON item.
    pub citation: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// "dataset" or "software".
    pub kind: &'static str,
    pub text: String,
    pub doi: Option<String>,
    /// The same reference as CSL-JSON, for reference managers.
    pub csl: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManuscriptKit {
    pub style: String,
    pub references: Vec<Reference>,
    pub data_availability: String,
    /// Software the deposits name that the catalogue does not know yet (a curator can
    /// add it; until then it is listed, not cited).
    pub unmatched_software: Vec<String>,
}

impl Services {
    /// Fill an empty catalogue from the seed (first start).
    pub async fn seed_software(&self) -> ServiceResult<usize> {
        let mut conn = self.db.conn().await?;
        if db::software::count(&mut conn).await? > 0 {
            return Ok(0);
        }
        let seed: Vec<NewSoftware> = serde_json::from_str(SEED)
            .map_err(|e| ServiceError::Internal(format!("software seed: {e}")))?;
        let mut added = 0;
        for s in seed {
            added += usize::from(self.insert_software(&mut conn, s).await?);
        }
        Ok(added)
    }

    async fn insert_software(&self, conn: &mut db::Conn, s: NewSoftware) -> ServiceResult<bool> {
        if s.name.trim().is_empty() {
            return Err(ServiceError::invalid("name", "is required"));
        }
        // A citation that cannot be rendered would only fail later, in a manuscript.
        citation::check_item(&s.citation)
            .and_then(|_| formatted_item(&s.citation, "apa", None, false))
            .map_err(|e| ServiceError::invalid("citation", e.to_string()))?;
        let row = SoftwareRow {
            id: ids::new_id(),
            name: s.name.trim().to_owned(),
            aliases: s.aliases,
            homepage: s.homepage,
            citation: s.citation,
        };
        Ok(db::software::insert(conn, &row, now_ms()).await?)
    }

    pub async fn add_software(&self, actor: &Actor, s: NewSoftware) -> ServiceResult<()> {
        super::require_curator(actor, "keep the software catalogue")?;
        let mut conn = self.db.conn().await?;
        let name = s.name.clone();
        if !self.insert_software(&mut conn, s).await? {
            return Err(ServiceError::Conflict(format!(
                "the catalogue already has '{name}'"
            )));
        }
        Ok(())
    }

    pub async fn list_software(&self) -> ServiceResult<Vec<SoftwareRow>> {
        let mut conn = self.db.conn().await?;
        Ok(db::software::all(&mut conn).await?)
    }

    /// The reference list and data-availability statement for one or more deposits.
    pub async fn manuscript_kit(
        &self,
        actor: &Actor,
        deposit_ids: &[String],
        style: &str,
        locale: Option<&str>,
    ) -> ServiceResult<ManuscriptKit> {
        if deposit_ids.is_empty() {
            return Err(ServiceError::invalid(
                "deposits",
                "name at least one deposit",
            ));
        }
        let catalogue = self.list_software().await?;
        let find = |name: &str| {
            let key = name_key(name);
            catalogue
                .iter()
                .find(|s| name_key(&s.name) == key || s.aliases.iter().any(|a| name_key(a) == key))
        };
        let bad = |e: citation::CitationError| ServiceError::invalid("style", e.to_string());
        let mut references = Vec::new();
        let mut software_seen = Vec::new();
        let mut unmatched = Vec::new();
        let mut dois = Vec::new();
        let mut all_public = true;
        let mut conn = self.db.conn().await?;
        for id in deposit_ids {
            let v = load_visible(&mut conn, actor, id).await?;
            let (_, facility, mut record) =
                check_deposit(&v.metadata, &v.facility).map_err(ServiceError::InvalidMetadata)?;
            record.doi = v.doi.clone();
            all_public &= v.state == DepositState::Released;
            if let Some(d) = &v.doi {
                dois.push(d.clone());
            }
            references.push(Reference {
                kind: "dataset",
                text: formatted(&record, style, locale, false).map_err(bad)?,
                doi: v.doi.clone(),
                csl: citation::csl_json(&record, v.doi.as_deref().unwrap_or(&v.id)),
            });
            for used in &facility.software {
                match find(&used.name) {
                    Some(s) if !software_seen.contains(&s.id) => {
                        software_seen.push(s.id.clone());
                        references.push(Reference {
                            kind: "software",
                            text: formatted_item(&s.citation, style, locale, false).map_err(bad)?,
                            doi: s
                                .citation
                                .get("DOI")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                            csl: s.citation.clone(),
                        });
                    }
                    Some(_) => {}
                    None if !unmatched.contains(&used.name) => unmatched.push(used.name.clone()),
                    None => {}
                }
            }
        }
        let listed = dois
            .iter()
            .map(|d| format!("https://doi.org/{d}"))
            .collect::<Vec<_>>()
            .join(", ");
        let data_availability = match (dois.len(), all_public) {
            (0, _) => "The data supporting this study have been deposited in the archive; their DOI will be given here once it is reserved.".to_owned(),
            (_, true) => format!("The data supporting this study are openly available at {listed}."),
            (_, false) => format!(
                "The data supporting this study have been deposited under {listed} and will be openly available on publication of this article."
            ),
        };
        Ok(ManuscriptKit {
            style: style.to_owned(),
            references,
            data_availability,
            unmatched_software: unmatched,
        })
    }
}
