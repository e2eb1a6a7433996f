//! The manuscript kit: everything an author needs for a paper's reference section and
//! its data-availability statement, for one or more deposits: the data, and the software
//! that processed it as the software catalogue cites it.

use super::deposits::load_visible;
use super::{Actor, ServiceError, ServiceResult};
use crate::db::software::name_key;
use crate::metadata::citation::{self, formatted_list};
use crate::metadata::schema::check_deposit;
use crate::model::DepositState;
use serde::Serialize;
use serde_json::Value;

/// One entry of the reference list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reference {
    /// "dataset" or "software".
    pub kind: &'static str,
    pub text: String,
    pub doi: Option<String>,
    /// The same reference as CSL-JSON, for reference managers.
    pub csl: Value,
}

/// References and a data-availability paragraph for a manuscript.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ManuscriptKit {
    pub style: String,
    pub references: Vec<Reference>,
    pub data_availability: String,
    /// Software the deposits name that the catalogue does not know yet (a curator can
    /// add it; until then it is listed, not cited).
    pub unmatched_software: Vec<String>,
}
super::capability!(manuscript_kit);

impl Service<'_> {
    /// The reference list and data-availability statement for one or more deposits.
    pub async fn get(
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
        let catalogue = self.software().list().await?;
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
                text: String::new(),
                doi: v.doi.clone(),
                csl: citation::csl_json(&record, v.doi.as_deref().unwrap_or(&v.id)),
            });
            for used in &facility.software {
                match find(&used.name) {
                    Some(s) if !software_seen.contains(&s.id) => {
                        software_seen.push(s.id.clone());
                        references.push(Reference {
                            kind: "software",
                            text: String::new(),
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
        // One list, numbered in the kit's order (1, 2, 3 in numeric styles).
        let items: Vec<Value> = references.iter().map(|r| r.csl.clone()).collect();
        let texts = formatted_list(&items, style, locale, false).map_err(bad)?;
        for (r, text) in references.iter_mut().zip(texts) {
            r.text = text;
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
