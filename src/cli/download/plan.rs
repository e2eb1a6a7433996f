//! What `arca download` is asked for, turned into a list of files with the URLs each
//! can be fetched from: the manifest of a released version, a reviewer link's, or a
//! depositor's own files through the API.

use crate::model::DatasetPath;
use anyhow::{Context, anyhow, bail};
use reqwest::{Client, StatusCode};
use serde::Deserialize;

/// Where a file's bytes can be fetched: the archive, or a mirror.
#[derive(Debug, Clone)]
pub struct Source {
    /// "archive" or the mirror's name.
    pub name: String,
    pub url: String,
}

impl Source {
    pub fn is_archive(&self) -> bool {
        self.name == ARCHIVE
    }
}

pub const ARCHIVE: &str = "archive";

/// One file to fetch.
#[derive(Debug, Clone)]
pub struct Want {
    pub path: DatasetPath,
    pub size: u64,
    pub sha256: String,
    /// The archive first, then mirrors.
    pub sources: Vec<Source>,
}

pub struct Plan {
    /// What is being downloaded, in words.
    pub label: String,
    pub files: Vec<Want>,
    /// The archive's origin, the only place the token is ever sent.
    pub archive_origin: String,
    pub token: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    dataset_id: String,
    doi: Option<String>,
    version: i64,
    files: Vec<ManifestFile>,
}

#[derive(Deserialize)]
struct ManifestFile {
    path: String,
    size: u64,
    sha256: String,
    url: String,
    #[serde(default)]
    mirrors: Vec<MirrorCopy>,
}

#[derive(Deserialize)]
struct MirrorCopy {
    mirror: String,
    url: String,
}

#[derive(Deserialize)]
struct DepositFiles {
    files: Vec<DepositFile>,
    next_after: Option<String>,
}

#[derive(Deserialize)]
struct DepositFile {
    path: String,
    size: u64,
    sha256: String,
}

fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// The part of a URL's path before `/{marker}/`, and the segment after it.
fn split_at(url: &url::Url, marker: &str) -> Option<(String, String)> {
    let path = url.path();
    let at = path.find(&format!("/{marker}/"))?;
    let rest = &path[at + marker.len() + 2..];
    let segment = rest.split('/').next().filter(|s| !s.is_empty())?;
    Some((
        format!("{}{}", origin_of(url), &path[..at]),
        segment.to_owned(),
    ))
}

/// Where the request points, once resolved.
enum Target {
    Released {
        base: String,
        dataset: String,
        version: Option<i64>,
    },
    Review {
        base: String,
        token: String,
    },
    Deposit {
        base: String,
        deposit: String,
    },
}

fn target_of_url(url: &url::Url, version: Option<i64>) -> Option<Target> {
    if let Some((base, token)) = split_at(url, "review") {
        return Some(Target::Review { base, token });
    }
    if let Some((base, deposit)) = split_at(url, "api/v1/deposits") {
        return Some(Target::Deposit { base, deposit });
    }
    let (base, dataset) = split_at(url, "datasets").or_else(|| {
        // `/datasets/{id}` itself has nothing after it.
        let path = url.path().trim_end_matches('/');
        let at = path.rfind("/datasets/")?;
        Some((
            format!("{}{}", origin_of(url), &path[..at]),
            path[at + "/datasets/".len()..].to_owned(),
        ))
    })?;
    let from_query = url
        .query_pairs()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.parse().ok());
    Some(Target::Released {
        base,
        dataset,
        version: version.or(from_query),
    })
}

/// Follow a DOI (or any URL that redirects) to the landing page it resolves to.
async fn resolve(client: &Client, url: &str, version: Option<i64>) -> anyhow::Result<Target> {
    let resp = client
        .get(url)
        .header("accept", "text/html")
        .send()
        .await
        .with_context(|| format!("resolving {url}"))?;
    let landed = resp.url().clone();
    if !resp.status().is_success() {
        bail!("{url} answered {} at {landed}", resp.status());
    }
    target_of_url(&landed, version)
        .ok_or_else(|| anyhow!("{url} resolves to {landed}, which is not an Arca landing page"))
}

pub struct Request<'a> {
    pub what: &'a str,
    pub server: Option<&'a str>,
    pub token: Option<&'a str>,
    pub version: Option<i64>,
}

pub async fn plan(client: &Client, req: Request<'_>) -> anyhow::Result<Plan> {
    let what = req.what.trim();
    let server = req.server.map(|s| s.trim_end_matches('/').to_owned());
    let doi = what
        .strip_prefix("doi:")
        .or_else(|| what.strip_prefix("https://doi.org/"))
        .unwrap_or(what);
    let target = if doi.starts_with("10.") {
        let at = match &server {
            Some(s) => format!("{s}/doi/{doi}"),
            None => format!("https://doi.org/{doi}"),
        };
        resolve(client, &at, req.version).await?
    } else if what.starts_with("http://") || what.starts_with("https://") {
        let url = url::Url::parse(what).with_context(|| format!("{what} is not a URL"))?;
        match target_of_url(&url, req.version) {
            Some(t) => t,
            None => resolve(client, what, req.version).await?,
        }
    } else {
        let base = server.ok_or_else(|| {
            anyhow!("{what} is an id: give the archive's address with --server (or ARCA_SERVER)")
        })?;
        match req.token {
            // A depositor names their deposit; anyone else a released dataset.
            Some(_) if !crate::model::ids::looks_like_id(what) => bail!("{what} is not an id"),
            Some(_) => Target::Deposit {
                base,
                deposit: what.to_owned(),
            },
            None => Target::Released {
                base,
                dataset: what.to_owned(),
                version: req.version,
            },
        }
    };
    match target {
        Target::Released {
            base,
            dataset,
            version,
        } => {
            let mut url = format!("{base}/datasets/{dataset}/manifest.json");
            if let Some(v) = version {
                url.push_str(&format!("?version={v}"));
            }
            from_manifest(client, &url, &base, None).await
        }
        Target::Review { base, token } => {
            let url = format!("{base}/review/{token}/manifest.json");
            from_manifest(client, &url, &base, None).await
        }
        Target::Deposit { base, deposit } => {
            let token = req
                .token
                .ok_or_else(|| anyhow!("a deposit's files need its depositor's --token"))?;
            from_deposit(client, &base, &deposit, token).await
        }
    }
}

async fn from_manifest(
    client: &Client,
    url: &str,
    base: &str,
    token: Option<String>,
) -> anyhow::Result<Plan> {
    let resp = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?;
    if resp.status() != StatusCode::OK {
        bail!("{url}: {}", super::super::upload::problem(resp).await);
    }
    let m: Manifest = resp
        .json()
        .await
        .with_context(|| format!("{url} is not a manifest"))?;
    let origin = url::Url::parse(base).map(|u| origin_of(&u))?;
    let mut files = Vec::with_capacity(m.files.len());
    for f in m.files {
        let mut sources = vec![Source {
            name: ARCHIVE.into(),
            url: f.url,
        }];
        sources.extend(m_sources(f.mirrors));
        files.push(Want {
            path: checked_path(&f.path)?,
            size: f.size,
            sha256: checked_sha(&f.sha256, &f.path)?,
            sources,
        });
    }
    let label = match &m.doi {
        Some(doi) => format!("doi:{doi} (version {})", m.version),
        None => format!("dataset {} version {}", m.dataset_id, m.version),
    };
    Ok(Plan {
        label,
        files,
        archive_origin: origin,
        token,
    })
}

fn m_sources(mirrors: Vec<MirrorCopy>) -> impl Iterator<Item = Source> {
    mirrors.into_iter().filter_map(|m| {
        // Only web URLs, and never one that claims to be the archive.
        let ok =
            (m.url.starts_with("https://") || m.url.starts_with("http://")) && m.mirror != ARCHIVE;
        ok.then_some(Source {
            name: m.mirror,
            url: m.url,
        })
    })
}

/// A path from the server becomes a place on this disk: it must be a dataset path
/// (no `..`, no absolute path, no control characters).
fn checked_path(raw: &str) -> anyhow::Result<DatasetPath> {
    DatasetPath::parse(raw)
        .map_err(|e| anyhow!("the server lists a path that is refused here: {raw:?}: {e}"))
}

fn checked_sha(raw: &str, path: &str) -> anyhow::Result<String> {
    if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        bail!("the server lists no SHA-256 for {path}")
    }
}

async fn from_deposit(
    client: &Client,
    base: &str,
    deposit: &str,
    token: &str,
) -> anyhow::Result<Plan> {
    let mut files = Vec::new();
    let mut after = String::new();
    loop {
        let url = format!("{base}/api/v1/deposits/{deposit}/files");
        let resp = client
            .get(&url)
            .query(&[("after", after.as_str()), ("limit", "1000")])
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| format!("fetching {url}"))?;
        if resp.status() != StatusCode::OK {
            bail!("{url}: {}", super::super::upload::problem(resp).await);
        }
        let page: DepositFiles = resp.json().await?;
        for f in page.files {
            let path = checked_path(&f.path)?;
            files.push(Want {
                sources: vec![Source {
                    name: ARCHIVE.into(),
                    url: format!("{url}/{}", crate::cli::url_path(path.as_str())),
                }],
                size: f.size,
                sha256: checked_sha(&f.sha256, &f.path)?,
                path,
            });
        }
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    Ok(Plan {
        label: format!("deposit {deposit}"),
        files,
        archive_origin: url::Url::parse(base).map(|u| origin_of(&u))?,
        token: Some(token.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Option<(String, String, Option<i64>, &'static str)> {
        let u = url::Url::parse(url).unwrap();
        target_of_url(&u, None).map(|t| match t {
            Target::Released {
                base,
                dataset,
                version,
            } => (base, dataset, version, "released"),
            Target::Review { base, token } => (base, token, None, "review"),
            Target::Deposit { base, deposit } => (base, deposit, None, "deposit"),
        })
    }

    #[test]
    fn addresses_a_reader_may_paste() {
        assert_eq!(
            target("https://a.org/datasets/01ABC"),
            Some(("https://a.org".into(), "01ABC".into(), None, "released"))
        );
        assert_eq!(
            target("https://a.org/arca/datasets/01ABC/?version=2"),
            Some((
                "https://a.org/arca".into(),
                "01ABC".into(),
                Some(2),
                "released"
            ))
        );
        assert_eq!(
            target("http://127.0.0.1:8080/datasets/01ABC/manifest.json"),
            Some((
                "http://127.0.0.1:8080".into(),
                "01ABC".into(),
                None,
                "released"
            ))
        );
        assert_eq!(
            target("https://a.org/review/arv_x"),
            Some(("https://a.org".into(), "arv_x".into(), None, "review"))
        );
        assert_eq!(
            target("https://a.org/api/v1/deposits/01D/files"),
            Some(("https://a.org".into(), "01D".into(), None, "deposit"))
        );
        assert_eq!(target("https://doi.org/10.1/x"), None);
    }

    #[test]
    fn hostile_paths_and_hashes_from_a_server_are_refused() {
        assert!(checked_path("../../etc/passwd").is_err());
        assert!(checked_path("/etc/passwd").is_err());
        assert!(checked_path("a/\u{7}b").is_err());
        assert!(checked_path("a/b.cbf").is_ok());
        assert!(checked_sha("../x", "p").is_err());
        assert_eq!(checked_sha(&"AB".repeat(32), "p").unwrap(), "ab".repeat(32));
    }
}
