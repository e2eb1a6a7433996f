//! A version's files for machines: `manifest.json` (path, size, SHA-256 and every URL
//! the bytes can be fetched from: the archive and the mirrors open to readers) and
//! `manifest-sha256.txt` (what `sha256sum -c` reads). Both streamed a page at a time.

use crate::metadata::signposting::Link;
use crate::services::Services;
use crate::services::downloads::{Entry, MANIFEST_PAGE, Manifest};
use crate::web::error::AppResult;
use crate::web::openapi::Problem;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

#[derive(serde::Deserialize)]
pub struct VersionQuery {
    version: Option<i64>,
}

/// The manifests of a landing page, as links (the linkset lists them).
pub fn links(landing: &str) -> [Link; 2] {
    [
        Link {
            href: format!("{landing}/manifest.json"),
            rel: "manifest",
            media_type: Some("application/json"),
        },
        Link {
            href: format!("{landing}/manifest-sha256.txt"),
            rel: "manifest",
            media_type: Some("text/plain"),
        },
    ]
}

/// A version's files, and where each can be fetched.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DownloadManifest {
    dataset_id: String,
    doi: Option<String>,
    version: i64,
    title: String,
    /// The version's landing page.
    landing_page: String,
    file_count: i64,
    /// Bytes in all files.
    total_size: i64,
    /// When the signed mirror URLs stop working; null when none are signed.
    #[schema(format = DateTime)]
    urls_expire_at: Option<String>,
    /// In path order. Last, so the list can be streamed.
    files: Vec<ManifestFile>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ManifestFile {
    path: String,
    size: i64,
    /// Hex.
    sha256: String,
    /// The archive's URL for the file (Range, ETag and Repr-Digest supported).
    url: String,
    /// Mirrors holding a verified copy, with a URL there.
    mirrors: Vec<MirrorCopy>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MirrorCopy {
    mirror: String,
    url: String,
}

/// Where a version's files are served, e.g. `…/datasets/{id}/versions/2`.
fn files_prefix(s: &Services, m: &Manifest) -> String {
    format!(
        "{}/datasets/{}/versions/{}",
        s.config.public_base(),
        m.dataset.dataset_id(),
        m.dataset.version.version_number
    )
}

#[utoipa::path(get, path = "/datasets/{id}/manifest.json", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("version" = Option<i64>, Query, description = "A released version by number (default: the latest)")), responses((status = 200, description = "Every file with its size, SHA-256 and URLs (the archive's, and mirrors' holding verified copies)", body = DownloadManifest), (status = 404, description = "Not a released dataset", body = Problem, content_type = "application/problem+json"), (status = 410, description = "Withdrawn", body = Problem, content_type = "application/problem+json")))]
pub async fn json(
    State(s): State<Services>,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> AppResult<Response> {
    let m = s.downloads().released(&id, q.version).await?;
    let landing = format!(
        "{}/datasets/{id}?version={}",
        s.config.public_base(),
        m.dataset.version.version_number
    );
    let prefix = files_prefix(&s, &m);
    json_body(s, m, landing, prefix).await
}

#[utoipa::path(get, path = "/datasets/{id}/manifest-sha256.txt", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("version" = Option<i64>, Query, description = "A released version by number (default: the latest)")), responses((status = 200, description = "`sha256sum` format: one line per file, the hex SHA-256, two spaces, the path", body = String, content_type = "text/plain"), (status = 404, description = "Not a released dataset", body = Problem, content_type = "application/problem+json"), (status = 410, description = "Withdrawn", body = Problem, content_type = "application/problem+json")))]
pub async fn sha256sums(
    State(s): State<Services>,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> AppResult<Response> {
    let m = s.downloads().released(&id, q.version).await?;
    text_body(s, m).await
}

#[utoipa::path(get, path = "/review/{token}/manifest.json", tag = "public", params(("token" = String, Path, description = "The reviewer link's secret")), responses((status = 200, description = "The unreleased version's files, with URLs through the link (and mirrors trusted with unreleased data, signed)", body = DownloadManifest), (status = 404, description = "No live link", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many unknown links from this address ([web] guesses_per_minute); Retry-After says when to try again")))]
pub async fn review_json(
    State(s): State<Services>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let m = s.downloads().for_reviewer(&token).await?;
    let page = format!("{}/review/{token}", s.config.public_base());
    let resp = json_body(s, m, page.clone(), page).await?;
    Ok(super::review::private(resp))
}

#[utoipa::path(get, path = "/review/{token}/manifest-sha256.txt", tag = "public", params(("token" = String, Path, description = "The reviewer link's secret")), responses((status = 200, description = "`sha256sum` format", body = String, content_type = "text/plain"), (status = 404, description = "No live link", body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many unknown links from this address ([web] guesses_per_minute); Retry-After says when to try again")))]
pub async fn review_sha256sums(
    State(s): State<Services>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let m = s.downloads().for_reviewer(&token).await?;
    Ok(super::review::private(text_body(s, m).await?))
}

/// The JSON manifest: its head, then the files a page at a time.
async fn json_body(
    s: Services,
    m: Manifest,
    landing: String,
    prefix: String,
) -> AppResult<Response> {
    let first = s.downloads().page(&m, "").await?;
    let d = &m.dataset;
    let head = DownloadManifest {
        dataset_id: d.dataset_id().to_owned(),
        doi: d.version.doi.clone(),
        version: d.version.version_number,
        title: d
            .record
            .titles
            .first()
            .map(|t| t.title.clone())
            .unwrap_or_default(),
        landing_page: landing,
        file_count: m.file_count,
        total_size: m.total_size,
        urls_expire_at: m.urls_expire_at.map(crate::web::json::time),
        files: Vec::new(),
    };
    let whole = serde_json::to_string(&head)
        .map_err(|e| crate::web::error::AppError::internal(e.to_string()))?;
    // `…,"files":[]}` opened up for the list.
    let head = format!("{}[", whole.strip_suffix("[]}").unwrap_or(&whole));
    let render = move |e: &Entry, first: bool| {
        let f = ManifestFile {
            url: super::datasets::file_url(&prefix, &e.path),
            path: e.path.clone(),
            size: e.size,
            sha256: e.sha256.clone(),
            mirrors: e
                .mirrors
                .iter()
                .map(|(mirror, url)| MirrorCopy {
                    mirror: mirror.clone(),
                    url: url.clone(),
                })
                .collect(),
        };
        let sep = if first { "" } else { "," };
        format!("{sep}{}", serde_json::to_string(&f).unwrap_or_default())
    };
    let body = paged(s, m, head, first, render, "]}");
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// `sha256sum` lines. A path with a backslash or a line break is written as GNU
/// coreutils writes it: the line starts with `\` and those characters are escaped.
pub fn sha256sum_line(sha256: &str, path: &str) -> String {
    if path.contains(['\\', '\n', '\r']) {
        let escaped = path
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{sha256}  {escaped}\n")
    } else {
        format!("{sha256}  {path}\n")
    }
}

async fn text_body(s: Services, m: Manifest) -> AppResult<Response> {
    let first = s.downloads().page(&m, "").await?;
    let render = |e: &Entry, _: bool| sha256sum_line(&e.sha256, &e.path);
    let body = paged(s, m, String::new(), first, render, "");
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

fn paged(
    s: Services,
    m: Manifest,
    head: String,
    first: Vec<Entry>,
    render: impl Fn(&Entry, bool) -> String + Clone + Send + Sync + 'static,
    tail: &'static str,
) -> axum::body::Body {
    let fetch = move |after: String| {
        let (s, m) = (s.clone(), m.clone());
        async move { s.downloads().page(&m, &after).await }
    };
    let key = |e: &Entry| e.path.clone();
    crate::web::paged::body(head, first, MANIFEST_PAGE, fetch, key, render, tail)
}

#[cfg(test)]
mod tests {
    use super::sha256sum_line;

    #[test]
    fn sha256sum_lines_escape_as_coreutils_does() {
        assert_eq!(sha256sum_line("ab", "x/y.cbf"), "ab  x/y.cbf\n");
        assert_eq!(sha256sum_line("ab", "a\\b"), "\\ab  a\\\\b\n");
        assert_eq!(sha256sum_line("ab", "a\nb"), "\\ab  a\\nb\n");
    }
}
