//! The software catalogue, kept by curators: the programs facilities use and how to cite
//! each (the manuscript kit matches a deposit's software against it).

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, now_ms, software::SoftwareRow};
use crate::metadata::citation::{self, formatted_item};
use crate::model::ids;
use serde::Deserialize;
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
super::capability!(software);

impl Service<'_> {
    /// Fill an empty catalogue from the seed (first start).
    pub async fn seed(&self) -> ServiceResult<usize> {
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

    pub async fn add(&self, actor: &Actor, s: NewSoftware) -> ServiceResult<()> {
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

    pub async fn list(&self) -> ServiceResult<Vec<SoftwareRow>> {
        let mut conn = self.db.conn().await?;
        Ok(db::software::all(&mut conn).await?)
    }
}
