//! Browse and search released datasets. The index holds the latest public version of
//! each dataset and changes in the transaction that releases or withdraws one.

use super::records::record_and_profile;
use super::{ServiceError, ServiceResult};
use crate::db::{self, Backend, Conn, published::Published, search::Facets};
use crate::metadata::search::{entry, query_words};

/// Results per page, and the deepest page offered by number (`after` goes deeper).
pub const PAGE_SIZE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// What a reader asks for, as typed; blank fields do not filter.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchRequest {
    pub q: String,
    pub facility: String,
    pub beamline: String,
    pub year: String,
    pub pdb: String,
    pub author: String,
    /// Pages by number (1–100).
    pub page: Option<i64>,
    /// The page after this key, from the previous page's `next`. Deep listings walk
    /// the index instead of skipping rows.
    pub after: String,
}

/// One dataset in the results.
#[derive(Debug, Clone)]
pub struct Hit {
    pub dataset_id: String,
    pub doi: Option<String>,
    pub title: String,
    pub creators: Vec<String>,
    pub year: Option<String>,
    pub facility: Option<String>,
    pub beamline: Option<String>,
    pub released_at: i64,
}

#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// How many match: exact, or at least this many when `total_exact` is false.
    pub total: i64,
    pub total_exact: bool,
    pub page: i64,
    /// The key of the next page (its `after`), if any.
    pub next_after: Option<String>,
    /// Whether a page follows this one.
    pub more: bool,
    pub facets: Facets,
}

/// A newest-first position as `<released_at ms>.<dataset id>`.
fn parse_after(s: &str) -> ServiceResult<Option<(i64, String)>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || {
        ServiceError::invalid(
            "after",
            "must be the `next` key of a previous page of results",
        )
    };
    let (at, id) = s.split_once('.').ok_or_else(bad)?;
    if !crate::model::ids::looks_like_id(id) {
        return Err(bad());
    }
    Ok(Some((at.parse().map_err(|_| bad())?, id.to_owned())))
}

fn blank_to_none(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Put the dataset's latest public version in the index, or take it out when none is
/// left (all withdrawn). Runs inside the release's or withdrawal's transaction.
pub(super) async fn reindex(
    conn: &mut Conn,
    backend: Backend,
    dataset_id: &str,
) -> ServiceResult<()> {
    match db::published::latest_public_of_dataset(conn, dataset_id).await? {
        Some(p) => put(conn, backend, &p).await,
        None => Ok(db::search::remove(conn, backend, dataset_id).await?),
    }
}

async fn put(conn: &mut Conn, backend: Backend, p: &Published) -> ServiceResult<()> {
    let (record, facility) = record_and_profile(&p.version)?;
    let e = entry(&record, &facility);
    let v = &p.version;
    db::search::put(conn, backend, &v.dataset_id, &v.id, p.released_at, &e).await?;
    Ok(())
}
super::capability!(search);

impl Service<'_> {
    pub async fn search(&self, req: &SearchRequest) -> ServiceResult<SearchResults> {
        let year = match blank_to_none(&req.year) {
            Some(y) => Some(
                y.parse::<i64>()
                    .map_err(|_| ServiceError::invalid("year", "must be a year such as 2026"))?,
            ),
            None => None,
        };
        let page = req.page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(ServiceError::invalid(
                "page",
                format!("must be between 1 and {MAX_PAGE}; narrow the search to see more"),
            ));
        }
        let q = db::search::Query {
            words: query_words(&req.q),
            facility: blank_to_none(&req.facility),
            beamline: blank_to_none(&req.beamline),
            year,
            pdb: blank_to_none(&req.pdb).map(|p| p.to_lowercase()),
            author: query_words(&req.author),
            after: parse_after(&req.after)?,
        };
        let mut conn = self.db.conn().await?;
        let found = db::search::find(
            &mut conn,
            self.db.backend,
            &q,
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )
        .await?;
        let next_after = found
            .more
            .then(|| found.hits.last().map(|(id, at)| format!("{at}.{id}")))
            .flatten();
        let mut hits = Vec::with_capacity(found.hits.len());
        for (id, _) in found.hits {
            let Some(p) = db::published::latest_public_of_dataset(&mut conn, &id).await? else {
                continue;
            };
            let (record, facility) = record_and_profile(&p.version)?;
            hits.push(Hit {
                dataset_id: id,
                doi: p.version.doi.clone(),
                title: crate::metadata::citation::title(&record),
                creators: record.creators.iter().map(|c| c.name.clone()).collect(),
                year: record.publication_year.clone(),
                facility: facility.facility.map(|f| f.name),
                beamline: facility.beamline.map(|b| b.name),
                released_at: p.released_at,
            });
        }
        let facets = db::search::facets(&mut conn).await?;
        Ok(SearchResults {
            hits,
            total: found.total,
            total_exact: found.total_exact,
            page,
            next_after,
            more: found.more,
            facets,
        })
    }

    /// Index the datasets released before the index existed (run at start).
    pub async fn fill_index(&self) -> ServiceResult<usize> {
        let missing = {
            let mut conn = self.db.conn().await?;
            db::search::unindexed(&mut conn).await?
        };
        for id in &missing {
            let mut tx = self.db.begin_write().await?;
            reindex(&mut tx, self.db.backend, id).await?;
            tx.commit().await?;
        }
        Ok(missing.len())
    }
}
