//! The front page, and browsing and searching released datasets.

use super::{Chrome, page};
use crate::services::Services;
use crate::services::search::{MAX_PAGE, PAGE_SIZE, SearchRequest, SearchResults};
use crate::web::error::{AppError, AppResult};
use crate::web::session::Browser;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

pub struct HitView {
    pub url: String,
    pub title: String,
    pub creators: String,
    pub doi: Option<String>,
    pub year: String,
    pub place: String,
    pub released: String,
}

fn hits(r: &SearchResults) -> Vec<HitView> {
    r.hits
        .iter()
        .map(|h| HitView {
            url: format!("/datasets/{}", h.dataset_id),
            title: h.title.clone(),
            creators: match h.creators.len() {
                0..=3 => h.creators.join("; "),
                _ => format!("{} et al.", h.creators[0]),
            },
            doi: h.doi.as_ref().map(|d| d.to_lowercase()),
            year: h.year.clone().unwrap_or_default(),
            place: [h.facility.as_deref(), h.beamline.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            released: crate::model::date::utc_day(h.released_at),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    recent: Vec<HitView>,
    total: i64,
}

pub async fn home(State(s): State<Services>, b: Browser) -> AppResult<Response> {
    let r = s
        .search()
        .search(&SearchRequest::default())
        .await
        .map_err(AppError::page)?;
    page(
        &b,
        &HomePage {
            chrome: Chrome::of(&b),
            name: s.config.repository.name.clone(),
            recent: hits(&r).into_iter().take(10).collect(),
            total: r.total,
        },
    )
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    req: SearchRequest,
    hits: Vec<HitView>,
    total: i64,
    error: Option<String>,
    facilities: Vec<(String, i64)>,
    beamlines: Vec<(String, i64)>,
    years: Vec<(i64, i64)>,
    /// "12 datasets", or "more than 10000 datasets".
    total_text: String,
    previous: Option<String>,
    /// Text of the link back: "Previous page", or "Newest" from a deep listing.
    previous_text: &'static str,
    next: Option<String>,
    first: i64,
}

/// The search URL for the same query on another page: by number, or after a key.
fn page_url(req: &SearchRequest, page: Option<i64>, after: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", &req.q),
        ("facility", &req.facility),
        ("beamline", &req.beamline),
        ("year", &req.year),
        ("pdb", &req.pdb),
        ("author", &req.author),
    ] {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    if let Some(p) = page {
        q.append_pair("page", &p.to_string());
    }
    if let Some(a) = after {
        q.append_pair("after", a);
    }
    format!("/search?{}", q.finish())
}

pub async fn search(
    State(s): State<Services>,
    b: Browser,
    Query(req): Query<SearchRequest>,
) -> AppResult<Response> {
    let (results, error) = match s.search().search(&req).await {
        Ok(r) => (Some(r), None),
        Err(crate::services::ServiceError::Invalid { field, message }) => {
            (None, Some(format!("{field}: {message}")))
        }
        Err(e) => return Err(AppError::page(e)),
    };
    let page_no = req.page.unwrap_or(1);
    let total = results.as_ref().map_or(0, |r| r.total);
    let exact = results.as_ref().is_none_or(|r| r.total_exact);
    let facets = results
        .as_ref()
        .map(|r| r.facets.clone())
        .unwrap_or_default();
    // Results go on by key (a page number is kept only when the reader typed one).
    let next = results.as_ref().and_then(|r| match &r.next_after {
        Some(after) => Some(page_url(&req, None, Some(after))),
        None => (r.more && page_no < MAX_PAGE).then(|| page_url(&req, Some(page_no + 1), None)),
    });
    let keyed = !req.after.trim().is_empty();
    let (previous, previous_text) = if keyed {
        (Some(page_url(&req, None, None)), "Newest")
    } else {
        (
            (page_no > 1).then(|| page_url(&req, Some(page_no - 1), None)),
            "Previous page",
        )
    };
    let view = SearchPage {
        chrome: Chrome::of(&b),
        hits: results.as_ref().map(hits).unwrap_or_default(),
        total,
        total_text: if exact {
            format!("{total} dataset{}", if total == 1 { "" } else { "s" })
        } else {
            format!("At least {total} datasets")
        },
        error,
        facilities: facets.facilities,
        beamlines: facets.beamlines,
        years: facets.years,
        previous,
        previous_text,
        next,
        first: if keyed {
            1
        } else {
            (page_no - 1) * PAGE_SIZE + 1
        },
        req,
    };
    page(&b, &view)
}
