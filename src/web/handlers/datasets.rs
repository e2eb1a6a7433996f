//! Public pages of released datasets: the landing page (with schema.org JSON-LD and
//! Signposting), file downloads with Range, and the linkset.

use crate::metadata::citation::{datacite_text, styles::STYLES};
use crate::metadata::datacite::Resource;
use crate::metadata::datacite::vocab::DescriptionType;
use crate::metadata::signposting::{self, Link};
use crate::model::Activity;
use crate::model::usage::Figures;
use crate::services::Services;
use crate::services::landing::{FILES_PER_PAGE, Landing, LandingView, PageRow, Shown};
use crate::services::usage::Hit;
use crate::web::conneg;
use crate::web::error::{AppError, AppResult};
use crate::web::format::human_size;
use crate::web::format::{SEGMENT, url_under};
use crate::web::openapi::Problem;
use crate::web::page_cache::{CachedPage, PageCache};
use crate::web::visits::Visitor;
use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::utf8_percent_encode;
use serde::Deserialize;
use std::sync::Arc;

/// `<prefix>/files/<path>`, each path segment percent-encoded.
pub fn file_url(prefix: &str, path: &str) -> String {
    url_under(&format!("{prefix}/files"), path)
}

struct AuthorView {
    name: String,
    orcid: Option<String>,
    affiliation: Option<String>,
}

struct FileView {
    path: String,
    url: String,
    size: String,
    sha256: String,
}

#[derive(Template)]
#[template(path = "dataset.html")]
struct DatasetPage {
    chrome: crate::web::pages::Chrome,
    title: String,
    authors: Vec<AuthorView>,
    doi: Option<String>,
    version: Option<String>,
    publisher: String,
    year: String,
    released: Option<String>,
    /// A reviewer's view of an unreleased dataset.
    review: bool,
    licence: Option<(String, Option<String>)>,
    article: Option<String>,
    /// Who paid for it: (funder and award in words, a link to the funder or the award).
    funding: Vec<(String, Option<String>)>,
    pdb: Vec<String>,
    /// How the data were collected and processed: (label, text), only what is known.
    collection: Vec<(&'static str, String)>,
    keywords: Vec<String>,
    descriptions: Vec<String>,
    citation: String,
    /// The style shown ("" for DataCite's).
    style: String,
    styles: &'static [(&'static str, &'static str)],
    withdrawn: Option<String>,
    held: Option<String>,
    dataset_id: String,
    files: Vec<FileView>,
    file_count: i64,
    total_size: String,
    more_files: Option<String>,
    json_ld: String,
    /// (number, DOI, withdrawn, this page's version)
    versions: Vec<(i64, Option<String>, bool, bool)>,
    /// Mirrors holding a verified copy of every file: (name, date of the oldest check).
    mirrors: Vec<(String, String)>,
    version_number: i64,
    /// The page's address, for the `arca download` line.
    landing_url: String,
    /// Where the page's manifests are: `/datasets/{id}` or a reviewer link.
    page_prefix: String,
    /// Pictures of the data (the latest version's page only).
    pictures: Vec<crate::web::pages::found::Picture>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    /// Files after this path.
    #[serde(default)]
    pub after: String,
    /// One version of the dataset; the latest when absent.
    pub version: Option<i64>,
    /// The citation style shown on the page (the style picker); DataCite's own when absent.
    pub style: Option<String>,
}

/// JSON inside `<script>`: no `<`, `>` or `&` may appear raw, so no metadata can close
/// the element.
fn script_safe_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The JSON-LD with the mark its usage replaces at serve time.
fn with_statistic_mark(json_ld: &str) -> String {
    match json_ld.strip_suffix('}') {
        Some(open) if open.len() > 1 => format!("{open},{STATISTIC_MARK}}}"),
        _ => json_ld.to_owned(),
    }
}

/// The landing page's Signposting links (files limited to the first page).
fn links(base: &str, dataset_id: &str, record: &Resource, files: &[String]) -> Vec<Link> {
    let landing = format!("{base}/datasets/{dataset_id}");
    let doi_url = match &record.doi {
        Some(doi) => format!("{base}/doi/{}", doi.to_lowercase()),
        None => landing.clone(),
    };
    signposting::landing_links(record, &landing, &doi_url, files)
}

#[utoipa::path(get, path = "/datasets/{id}", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("version" = Option<i64>, Query, description = "A released version by number (default: the latest)"), ("after" = Option<String>, Query, description = "Files after this path"), ("format" = Option<String>, Query, description = "A citation format instead of the page")), responses((status = 200, description = "The landing page, with Signposting Link headers; or a citation format by content negotiation", content((String = "text/html"), (String = "text/x-bibliography"), (String = "application/x-bibtex"), (String = "application/x-research-info-systems"), (Object = "application/vnd.citationstyles.csl+json"), (String = "application/vnd.datacite.datacite+xml"), (Object = "application/ld+json"), (String = "application/x-yaml"))), (status = 404, description = "Not a released dataset"), (status = 410, description = "Withdrawn: the tombstone")))]
pub async fn landing(
    State(s): State<Services>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    Query(cite): Query<super::doi::Params>,
    Extension(cache): Extension<Arc<PageCache>>,
    visitor: Visitor,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // The landing page URL negotiates content like the DOI does.
    if let Some(format) = super::doi::requested(&headers, &cite)? {
        let d = s.public().version(&id, q.version).await?;
        let mut resp = super::doi::cite(&d.record, &format)?;
        resp.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept"));
        if d.withdrawn_because.is_none() {
            let hit = super::doi::export_hit(
                d.dataset_id(),
                d.version_id(),
                &format,
                &format!("/datasets/{id}"),
            );
            crate::web::visits::count(&s, &visitor, hit).await;
        }
        return Ok(resp);
    }
    let key = format!("{id}\n{}\n{:?}\n{:?}", q.after, q.version, q.style);
    let generation = s.public_generation();
    let page = match cache.get(&key, generation) {
        Some(hit) => hit,
        None => {
            let page = landing_page(&s, &id, &q).await?;
            cache.put(key.clone(), generation, page.clone());
            page
        }
    };
    if let Some(version_id) = &page.counts_for {
        let hit = Hit {
            dataset_id: id.clone(),
            version_id: version_id.clone(),
            activity: Activity::Investigation,
            url: key,
            range: false,
        };
        crate::web::visits::count(&s, &visitor, hit).await;
    }
    Ok(cached_response(page))
}

/// The landing page as served, its usage figures filled in.
async fn landing_page(s: &Services, id: &str, q: &PageQuery) -> AppResult<CachedPage> {
    let page = async {
        // The default view is kept rendered beside its model, for this version of the
        // templates and this public URL: one read serves it.
        let plain = q.after.is_empty() && q.style.is_none();
        let page_key = if plain {
            page_key(s.config.public_base())
        } else {
            String::new()
        };
        let (d, rev) = match s.landing().view(id, q.version, &q.after, &page_key).await? {
            LandingView::Page(p, shown) => return Ok(served(&p, &shown)),
            LandingView::Model(d, rev) => (d, rev),
        };
        let row = rendered(s.config.public_base(), &d, q)?;
        if plain && let Some(rev) = rev {
            s.landing()
                .keep_page(id, q.version, rev, &page_key, &row)
                .await?;
        }
        let (version, dataset) = s.usage().shown(&d.dataset_id, &d.version_id).await?;
        let shown = Shown {
            version_id: d.version_id.clone(),
            version,
            dataset,
        };
        AppResult::Ok(served(&row, &shown))
    };
    page.await.map_err(|e| {
        let mut e = e.as_html();
        e.headers
            .push((header::VARY, HeaderValue::from_static("Accept")));
        e
    })
}

/// Where a page's usage figures go: one line of the description list, and the
/// JSON-LD's `interactionStatistic` (a key no metadata can write, so no record can
/// forge the marks).
const USAGE_MARK: &str = "<!--arca:usage-->";
const STATISTIC_MARK: &str = "\"interactionStatistic\":\"arca:usage\"";

/// The page with its figures in place of the marks.
fn with_usage(html: &str, shown: &Shown) -> String {
    use crate::model::words::count;
    let line = |f: &Figures| {
        format!(
            "{} ({} unique) · {} ({} unique)",
            count(f.total_dataset_investigations as u64, "view", "views"),
            f.unique_dataset_investigations,
            count(f.total_dataset_requests as u64, "download", "downloads"),
            f.unique_dataset_requests
        )
    };
    let mut text = line(&shown.version);
    if shown.dataset != shown.version {
        text = format!(
            "this version: {text}; all versions: {}",
            line(&shown.dataset)
        );
    }
    let dd = format!(
        "<dt>Usage</dt><dd>{text} <span class=\"muted\">(COUNTER, robots excluded)</span></dd>"
    );
    let statistic = serde_json::json!([
        {"@type": "InteractionCounter", "interactionType": "https://schema.org/ViewAction",
         "userInteractionCount": shown.version.total_dataset_investigations},
        {"@type": "InteractionCounter", "interactionType": "https://schema.org/DownloadAction",
         "userInteractionCount": shown.version.total_dataset_requests},
    ]);
    html.replacen(USAGE_MARK, &dd, 1).replacen(
        STATISTIC_MARK,
        &format!("\"interactionStatistic\":{statistic}"),
        1,
    )
}

/// What a kept page was rendered for: this version of the templates, this public URL.
fn page_key(base: &str) -> String {
    // The template's own hash too: a kept page from a binary whose template differed is
    // rendered again, whatever the version number says.
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        use sha2::Digest;
        let source = include_str!("../../../templates/dataset.html");
        hex::encode(&sha2::Sha256::digest(source.as_bytes())[..6])
    });
    format!("{} {template} {base}", env!("CARGO_PKG_VERSION"))
}

/// A public landing page rendered from its model: HTML, Link header and flags.
fn rendered(base: &str, d: &Landing, q: &PageQuery) -> AppResult<PageRow> {
    let (html, items) = render_page(base, d, &format!("/datasets/{}", d.dataset_id), q, false)?;
    let link = signposting::header_value(&links(base, &d.dataset_id, &d.record, &items), None);
    let flags = i64::from(d.withdrawn_because.is_some()) | (i64::from(d.held.is_some()) << 1);
    Ok(PageRow { html, link, flags })
}

/// The landing pages the job that rebuilds a page's model renders at once (so the
/// first reader, often a crawler, gets it in one read).
#[derive(Debug)]
pub struct LandingPages {
    base: String,
}

impl LandingPages {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
        }
    }
}

impl crate::services::landing::RenderLanding for LandingPages {
    fn key(&self) -> String {
        page_key(&self.base)
    }

    fn render(&self, d: &Landing) -> Result<PageRow, String> {
        rendered(&self.base, d, &PageQuery::default()).map_err(|e| format!("{e:?}"))
    }
}

/// A landing page as served: 410 when withdrawn (flag 1), kept out of search engines
/// when held (flag 2); a view of it counts for its version only when neither.
fn served(row: &PageRow, shown: &Shown) -> CachedPage {
    let (link, flags) = (&row.link, row.flags);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    if flags & 2 != 0 {
        // Registered, not findable: the DOI resolves here, search engines stay out.
        headers.insert(
            "x-robots-tag",
            HeaderValue::from_static("noindex, nofollow"),
        );
    }
    if let Ok(v) = HeaderValue::from_str(link) {
        headers.insert(header::LINK, v);
    }
    CachedPage {
        status: if flags & 1 != 0 {
            StatusCode::GONE
        } else {
            StatusCode::OK
        },
        headers,
        body: with_usage(&row.html, shown).into(),
        counts_for: (flags == 0 && !shown.version_id.is_empty()).then(|| shown.version_id.clone()),
    }
}

fn cached_response(p: CachedPage) -> Response {
    let mut resp = (p.status, p.body).into_response();
    *resp.headers_mut() = p.headers;
    resp
}

/// The dataset page: public (`/datasets/{id}`) or a reviewer's (`/review/{token}`),
/// files linked under `prefix`. Returns the HTML and the absolute file URLs listed.
pub fn render_page(
    base: &str,
    d: &Landing,
    prefix: &str,
    q: &PageQuery,
    review: bool,
) -> AppResult<(String, Vec<String>)> {
    let more_files = (d.files.len() as i64 > FILES_PER_PAGE).then(|| {
        utf8_percent_encode(&d.files[FILES_PER_PAGE as usize - 1].path, SEGMENT).to_string()
    });
    // An earlier version's files are its own, at their versioned URLs.
    let latest = d.versions.iter().map(|v| v.0).max();
    let files_at = match latest {
        Some(n) if n > d.version_number && !review => {
            format!("{prefix}/versions/{}", d.version_number)
        }
        _ => prefix.to_owned(),
    };
    let files: Vec<FileView> = d
        .files
        .iter()
        .take(FILES_PER_PAGE as usize)
        .map(|f| FileView {
            url: file_url(&files_at, &f.path),
            size: human_size(f.size),
            path: f.path.clone(),
            sha256: f.sha256.clone(),
        })
        .collect();
    let item_urls: Vec<String> = files.iter().map(|f| format!("{base}{}", f.url)).collect();
    let mirrors = d
        .mirrors
        .iter()
        .map(|(m, at)| (m.clone(), crate::model::date::utc_day(*at)))
        .collect();
    let (file_count, total) = (d.file_count, d.total_size);
    let r = &d.record;
    let page = DatasetPage {
        chrome: crate::web::pages::Chrome::public(),
        title: crate::metadata::citation::title(r),
        authors: r
            .creators
            .iter()
            .map(|c| AuthorView {
                name: c.name.clone(),
                orcid: c.orcid_url(),
                affiliation: c.affiliation.first().map(|a| a.name.clone()),
            })
            .collect(),
        doi: r.doi.as_ref().map(|d| d.to_lowercase()),
        version: r.version.clone(),
        publisher: r
            .publisher
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        year: r.publication_year.clone().unwrap_or_default(),
        released: d.released_at.map(crate::model::date::utc_day),
        review,
        licence: r.rights_list.first().map(|l| {
            (
                l.rights.clone(),
                l.rights_uri
                    .clone()
                    .filter(|u| crate::model::identifiers::is_web_url(u)),
            )
        }),
        article: d.facility.article.as_ref().and_then(|a| a.doi.clone()),
        funding: r
            .funding_references
            .iter()
            .map(|f| {
                let words = f.in_words();
                let link = [&f.award_uri, &f.funder_identifier]
                    .into_iter()
                    .flatten()
                    .find(|u| crate::model::identifiers::is_web_url(u))
                    .cloned();
                (words, link)
            })
            .collect(),
        pdb: d.facility.pdb_ids.clone(),
        collection: crate::metadata::profile::in_words(&d.facility),
        keywords: d.facility.keywords.clone(),
        descriptions: r
            .descriptions
            .iter()
            .filter(|x| x.description_type == DescriptionType::Abstract)
            .map(|x| x.description.clone())
            .collect(),
        citation: match STYLES
            .iter()
            .find(|(id, _)| Some(*id) == q.style.as_deref())
        {
            Some((id, _)) => crate::metadata::citation::render(
                r,
                &crate::metadata::citation::Format::Text {
                    style: Some((*id).to_owned()),
                    locale: None,
                },
            )
            .map_err(|e| AppError::internal(format!("citation: {e}")))?,
            None => datacite_text(r),
        },
        style: q.style.clone().unwrap_or_default(),
        styles: STYLES,
        withdrawn: d.withdrawn_because.clone(),
        held: d.held.clone(),
        dataset_id: d.dataset_id.clone(),
        files,
        file_count,
        total_size: human_size(total),
        more_files,
        json_ld: script_safe_json(&if review {
            d.json_ld.clone()
        } else {
            with_statistic_mark(&d.json_ld)
        }),
        mirrors,
        version_number: d.version_number,
        landing_url: match latest {
            Some(latest) if latest > d.version_number && !review => {
                format!("{base}{prefix}?version={}", d.version_number)
            }
            _ => format!("{base}{prefix}"),
        },
        page_prefix: prefix.to_owned(),
        // The previews routes serve the latest version's files.
        pictures: if files_at == prefix {
            let previews = format!("{prefix}/previews");
            d.pictures
                .iter()
                .map(|(path, drawn)| crate::web::pages::found::Picture::new(path, &previews, drawn))
                .collect()
        } else {
            Vec::new()
        },
        versions: d
            .versions
            .iter()
            .map(|(n, doi, gone)| {
                (
                    *n,
                    doi.as_ref().map(|d| d.to_lowercase()),
                    *gone,
                    *n == d.version_number,
                )
            })
            .collect(),
    };
    let html = page
        .render()
        .map_err(|e| AppError::internal(format!("landing page template: {e}")))?;
    Ok((html, item_urls))
}

/// Files read per page while a linkset is written.
const LINKSET_PAGE: i64 = 1_000;

/// The linkset of a landing page: JSON (RFC 9264 §4.2) or its text form (§4.1).
#[utoipa::path(get, path = "/datasets/{id}/linkset", tag = "public", params(("id" = String, Path, description = "Dataset id")), responses((status = 200, description = "RFC 9264 linkset", body = Object, content_type = "application/linkset+json"), (status = 404, description = "Not a released dataset", body = Problem, content_type = "application/problem+json"), (status = 406, description = "Neither linkset format accepted", body = Problem, content_type = "application/problem+json")))]
pub async fn linkset(
    State(s): State<Services>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    const JSON: &str = "application/linkset+json";
    const TEXT: &str = "application/linkset";
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let chosen = conneg::choose(accept, &[JSON, TEXT]).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            format!("the linkset is available as {JSON} or {TEXT}"),
        )
    })?;
    let d = s.public().dataset(&id).await?;
    let base = s.config.public_base().to_owned();
    let anchor = format!("{base}/datasets/{id}");
    let mut links = links(&base, d.dataset_id(), &d.record, &[]);
    if d.withdrawn_because.is_none() {
        links.extend(super::manifests::links(&anchor));
    }
    let json = chosen == JSON;
    let first = if d.withdrawn_because.is_none() {
        s.public().files(&d, "", LINKSET_PAGE).await?
    } else {
        Vec::new()
    };
    let (head, tail) = match (json, first.is_empty()) {
        (true, true) => (signposting::linkset_json(&anchor, &links).to_string(), ""),
        (true, false) => {
            let whole = signposting::linkset_json(&anchor, &links).to_string();
            // `{"linkset":[{…}]}` opened up for the item array.
            let open = whole.strip_suffix("}]}").unwrap_or(&whole);
            (format!("{open},\"item\":["), "]}]}")
        }
        (false, _) => (signposting::header_value(&links, Some(&anchor)), ""),
    };
    let prefix = anchor.clone();
    let item = move |f: &crate::db::files::FileRow, first: bool| {
        let href = file_url(&prefix, &f.path);
        let sep = if first { "" } else { "," };
        if json {
            let l = serde_json::json!({"href": href, "type": "application/octet-stream"});
            format!("{sep}{l}")
        } else {
            let l = signposting::item_link(href);
            format!(",\n{}", signposting::header_value(&[l], Some(&prefix)))
        }
    };
    let fetch = move |after: String| {
        let (s, d) = (s.clone(), d.clone());
        async move { s.public().files(&d, &after, LINKSET_PAGE).await }
    };
    let key = |f: &crate::db::files::FileRow| f.path.clone();
    let body = crate::web::paged::body(head, first, LINKSET_PAGE, fetch, key, item, tail);
    Ok(([(header::CONTENT_TYPE, chosen)], body).into_response())
}

/// A file of a released dataset; `Range: bytes=…` gives 206 with that part.
#[utoipa::path(get, path = "/datasets/{id}/files/{*path}", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("path" = String, Path, description = "File path"), ("Range" = Option<String>, Header, description = "bytes=first-last")), responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"), (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream"), (status = 404, description = "No such public file", body = Problem, content_type = "application/problem+json"), (status = 410, description = "Withdrawn", body = Problem, content_type = "application/problem+json"), (status = 416, description = "Range outside the file", body = Problem, content_type = "application/problem+json")))]
pub async fn download(
    State(s): State<Services>,
    Path((id, path)): Path<(String, String)>,
    visitor: Visitor,
    headers: HeaderMap,
) -> AppResult<Response> {
    let f = s.public().file(&id, None, &path).await?;
    let landing = format!("{}/datasets/{id}", s.config.public_base());
    let resp = serve_file(&s, &f, &headers, Some(&landing)).await?;
    count_download(&s, &visitor, &id, &f, &headers, resp.status()).await;
    Ok(resp)
}

/// A file of a released version was served: a request (COUNTER), its ranges counted
/// once per user-session.
async fn count_download(
    s: &Services,
    visitor: &Visitor,
    dataset_id: &str,
    f: &crate::db::files::FileRow,
    headers: &HeaderMap,
    status: StatusCode,
) {
    // "Not modified" moved no bytes: not a request.
    if status == StatusCode::NOT_MODIFIED {
        return;
    }
    let hit = Hit {
        dataset_id: dataset_id.to_owned(),
        version_id: f.version_id.clone(),
        activity: Activity::Request,
        url: format!("{} {}", f.version_id, f.path),
        range: headers.contains_key(header::RANGE),
    };
    crate::web::visits::count(s, visitor, hit).await;
}

/// A file of one released version (older versions stay downloadable).
#[utoipa::path(get, path = "/datasets/{id}/versions/{version}/files/{*path}", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("version" = i64, Path, description = "Version number"), ("path" = String, Path, description = "File path"), ("Range" = Option<String>, Header, description = "bytes=first-last")), responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"), (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream"), (status = 404, description = "No such public file", body = crate::web::openapi::Problem, content_type = "application/problem+json"), (status = 410, description = "Withdrawn", body = crate::web::openapi::Problem, content_type = "application/problem+json"), (status = 416, description = "Range outside the file", body = crate::web::openapi::Problem, content_type = "application/problem+json")))]
pub async fn download_version(
    State(s): State<Services>,
    Path((id, version, path)): Path<(String, i64, String)>,
    visitor: Visitor,
    headers: HeaderMap,
) -> AppResult<Response> {
    let f = s.public().file(&id, Some(version), &path).await?;
    let landing = format!("{}/datasets/{id}?version={version}", s.config.public_base());
    let resp = serve_file(&s, &f, &headers, Some(&landing)).await?;
    count_download(&s, &visitor, &id, &f, &headers, resp.status()).await;
    Ok(resp)
}

/// Stream a stored file, whole or the one range asked for; `collection` is the page
/// it belongs to (a Signposting link back).
pub async fn serve_file(
    s: &Services,
    f: &crate::db::files::FileRow,
    headers: &HeaderMap,
    collection: Option<&str>,
) -> AppResult<Response> {
    let size = f.size as u64;
    let etag = format!("\"{}\"", f.sha256);
    // The bytes of a path never change (a new version is a new URL).
    let range = match crate::web::range::conditional(headers, &etag, size, "the file")? {
        crate::web::range::Conditional::NotModified(resp) => return Ok(resp),
        crate::web::range::Conditional::Send(range) => range,
    };
    let stream = s
        .storage
        .read(
            &f.sha256,
            range.clone().map(|r| *r.start()..*r.end() + 1),
            crate::storage::STREAM_CHUNK,
        )
        .await
        .map_err(crate::services::ServiceError::from)?;
    let name = f.path.rsplit('/').next().unwrap_or(&f.path);
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        utf8_percent_encode(name, SEGMENT)
    );
    let digest = {
        use base64::Engine;
        let raw = hex::decode(&f.sha256).unwrap_or_default();
        format!(
            "sha-256=:{}:",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    };
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &etag)
        .header("repr-digest", digest);
    if let Some(c) = collection {
        resp = resp.header(header::LINK, format!("<{c}>; rel=\"collection\""));
    }
    resp = match &range {
        Some(r) => resp
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start(), r.end()),
            )
            .header(header::CONTENT_LENGTH, r.end() - r.start() + 1),
        None => resp.header(header::CONTENT_LENGTH, size),
    };
    resp.body(Body::from_stream(stream))
        .map_err(|e| AppError::internal(e.to_string()))
}

/// `GET /datasets?q=…&facility=…`: search released datasets (what the search page shows).
#[utoipa::path(get, path = "/datasets", tag = "public", params(("q" = Option<String>, Query, description = "Words; each must occur, the last may be the start of a word"), ("facility" = Option<String>, Query, description = "Facility name"), ("beamline" = Option<String>, Query, description = "Beamline name"), ("year" = Option<String>, Query, description = "Publication year"), ("pdb" = Option<String>, Query, description = "A PDB id"), ("author" = Option<String>, Query, description = "Part of an author's name"), ("page" = Option<i64>, Query, description = "Page, 1–100"), ("after" = Option<String>, Query, description = "The page after this key, the `next` of the previous page")), responses((status = 200, description = "Matching datasets, newest first, how many match (`total_is_exact`; otherwise at least `total`: counts stop at 10,000, and for common words at those among the newest 1,000 datasets), the key of the next page, and the filter values with counts", body = SearchPage), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn search(
    State(s): State<Services>,
    Query(req): Query<crate::services::search::SearchRequest>,
) -> AppResult<axum::Json<SearchPage>> {
    let r = s.search().search(&req).await?;
    let base = s.config.public_base();
    let datasets = r
        .hits
        .into_iter()
        .map(|h| SearchHit {
            url: format!("{base}/datasets/{}", h.dataset_id),
            released_at: crate::web::json::time(h.released_at),
            dataset_id: h.dataset_id,
            doi: h.doi,
            title: h.title,
            creators: h.creators,
            publication_year: h.year,
            facility: h.facility,
            beamline: h.beamline,
        })
        .collect();
    let counts = |v: Vec<(String, i64)>| {
        v.into_iter()
            .map(|(value, count)| FacetCount { value, count })
            .collect()
    };
    Ok(axum::Json(SearchPage {
        total: r.total,
        total_is_exact: r.total_exact,
        page: r.page,
        next: r.next_after,
        datasets,
        facets: FacetCounts {
            facility: counts(r.facets.facilities),
            beamline: counts(r.facets.beamlines),
            year: r
                .facets
                .years
                .into_iter()
                .map(|(value, count)| YearCount { value, count })
                .collect(),
        },
    }))
}

/// One page of search results.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    /// How many datasets match: exactly when `total_is_exact`, otherwise at least this.
    total: i64,
    total_is_exact: bool,
    page: i64,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
    datasets: Vec<SearchHit>,
    facets: FacetCounts,
}

/// A released dataset that matched.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    dataset_id: String,
    /// Its landing page.
    url: String,
    doi: Option<String>,
    title: String,
    creators: Vec<String>,
    publication_year: Option<String>,
    facility: Option<String>,
    beamline: Option<String>,
    #[schema(format = DateTime)]
    released_at: String,
}

/// The values readers can filter by, with how many released datasets have each.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FacetCounts {
    facility: Vec<FacetCount>,
    beamline: Vec<FacetCount>,
    year: Vec<YearCount>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FacetCount {
    value: String,
    count: i64,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct YearCount {
    value: i64,
    count: i64,
}
