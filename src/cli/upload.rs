//! `arca upload`: send a directory tree to a deposit over tus. Several files at once,
//! a progress bar per file and overall, resumes unfinished uploads when run again, and
//! compares every file's local SHA-256 with the one the server computed.

use crate::model::DatasetPath;
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use reqwest::{Client, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Bytes per PATCH request; each carries its own checksum, so a damaged request is
/// refused and re-sent alone.
const CHUNK: u64 = 16 << 20;
const RETRIES: u32 = 5;

#[derive(clap::Args)]
pub struct UploadArgs {
    /// The archive's base URL, e.g. https://arca.example.org
    #[arg(long, env = "ARCA_SERVER")]
    server: String,
    /// API token (from `arca token create`).
    #[arg(long, env = "ARCA_TOKEN", hide_env_values = true)]
    token: String,
    /// The deposit id to upload into.
    #[arg(long)]
    deposit: String,
    /// Files sent at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Directory whose files (recursively) become the dataset's files.
    dir: PathBuf,
}

struct Ctx {
    client: Client,
    base: String,
    token: String,
    deposit: String,
}

#[derive(Debug)]
enum Outcome {
    /// Sent; `resumed_from` is the offset an earlier, interrupted run had reached.
    Uploaded {
        resumed_from: u64,
    },
    AlreadyThere,
    Failed(String),
}

struct LocalFile {
    path: String,
    abs: PathBuf,
    size: u64,
}

impl Ctx {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
    }
}

pub(super) async fn problem(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
        .unwrap_or(body);
    format!("{status}: {detail}")
}

fn collect(dir: &PathBuf) -> anyhow::Result<(Vec<LocalFile>, Vec<String>)> {
    let mut files = Vec::new();
    let mut refused = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(dir)?;
        let Some(rel) = rel.to_str() else {
            refused.push(format!("{}: the name is not valid UTF-8", rel.display()));
            continue;
        };
        let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
        match DatasetPath::parse(&rel) {
            Ok(p) => files.push(LocalFile {
                path: p.as_str().to_owned(),
                abs: entry.path().to_owned(),
                size: entry.metadata()?.len(),
            }),
            Err(e) => refused.push(format!("{rel}: {e}")),
        }
    }
    Ok((files, refused))
}

/// The server's files: path → (sha256, size, status, problem).
async fn server_files(ctx: &Ctx) -> anyhow::Result<HashMap<String, serde_json::Value>> {
    let mut out = HashMap::new();
    let mut after = String::new();
    loop {
        let resp = ctx
            .req(
                reqwest::Method::GET,
                &format!("/api/v1/deposits/{}/files", ctx.deposit),
            )
            .query(&[("after", after.as_str()), ("limit", "1000")])
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("cannot list the deposit's files: {}", problem(resp).await);
        }
        let page: serde_json::Value = resp.json().await?;
        for f in page["files"].as_array().into_iter().flatten() {
            out.insert(f["path"].as_str().unwrap_or_default().to_owned(), f.clone());
        }
        match page["next_after"].as_str() {
            Some(n) => after = n.to_owned(),
            None => return Ok(out),
        }
    }
}

/// Unfinished uploads on the server: path → upload location.
async fn open_uploads(ctx: &Ctx) -> anyhow::Result<HashMap<String, String>> {
    let resp = ctx
        .req(
            reqwest::Method::GET,
            &format!("/api/v1/deposits/{}/uploads", ctx.deposit),
        )
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("cannot list unfinished uploads: {}", problem(resp).await);
    }
    let v: serde_json::Value = resp.json().await?;
    Ok(v["uploads"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["path"].as_str().unwrap_or_default().to_owned(),
                u["location"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

fn hash_file(file: &LocalFile, bar: &ProgressBar) -> anyhow::Result<String> {
    super::sha256_of_file(&file.abs, |n| bar.inc(n)).with_context(|| format!("read {}", file.path))
}

fn metadata_header(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The sha256 an open upload was created with, from its echoed Upload-Metadata.
fn metadata_sha256(header: &str) -> Option<String> {
    header.split(',').find_map(|pair| {
        let (k, v) = pair.trim().split_once(' ')?;
        (k == "sha256")
            .then(|| STANDARD.decode(v).ok())
            .flatten()
            .and_then(|b| String::from_utf8(b).ok())
    })
}

async fn head_offset(ctx: &Ctx, location: &str) -> anyhow::Result<Option<(u64, Option<String>)>> {
    let resp = ctx.req(reqwest::Method::HEAD, location).send().await?;
    match resp.status() {
        StatusCode::OK => {
            let h = resp.headers();
            let offset = h
                .get("upload-offset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| anyhow!("the server sent no Upload-Offset"))?;
            let sha = h
                .get("upload-metadata")
                .and_then(|v| v.to_str().ok())
                .and_then(metadata_sha256);
            Ok(Some((offset, sha)))
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => Ok(None),
        _ => bail!("{}", problem(resp).await),
    }
}

async fn create(ctx: &Ctx, file: &LocalFile, sha: &str) -> anyhow::Result<String> {
    let meta = metadata_header(&[
        ("deposit", &ctx.deposit),
        ("filename", &file.path),
        ("sha256", sha),
    ]);
    let resp = ctx
        .req(reqwest::Method::POST, "/api/v1/uploads")
        .header("Upload-Length", file.size)
        .header("Upload-Metadata", meta)
        .send()
        .await?;
    if resp.status() != StatusCode::CREATED {
        bail!("{}", problem(resp).await);
    }
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the server sent no Location for the upload"))
}

fn read_chunk(file: &LocalFile, offset: u64) -> anyhow::Result<Vec<u8>> {
    let mut f = std::fs::File::open(&file.abs)?;
    f.seek(SeekFrom::Start(offset))?;
    let len = CHUNK.min(file.size - offset) as usize;
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf)
        .with_context(|| format!("{} changed while it was being uploaded", file.path))?;
    Ok(buf)
}

/// Send the rest of a file from `offset`, re-asking the server's offset after a
/// failure so nothing is sent twice and nothing is skipped.
async fn send_from(
    ctx: &Ctx,
    file: &LocalFile,
    location: &str,
    mut offset: u64,
    bar: &ProgressBar,
    total: &ProgressBar,
) -> anyhow::Result<()> {
    let mut failures = 0;
    while offset < file.size {
        let f = LocalFile {
            path: file.path.clone(),
            abs: file.abs.clone(),
            size: file.size,
        };
        let chunk = tokio::task::spawn_blocking(move || read_chunk(&f, offset)).await??;
        let digest = STANDARD.encode(Sha256::digest(&chunk));
        let len = chunk.len() as u64;
        let resp = ctx
            .req(reqwest::Method::PATCH, location)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset)
            .header("Upload-Checksum", format!("sha256 {digest}"))
            .body(chunk)
            .send()
            .await;
        match resp {
            Ok(r) if r.status() == StatusCode::NO_CONTENT => {
                offset += len;
                bar.inc(len);
                total.inc(len);
                failures = 0;
                continue;
            }
            Ok(r)
                if r.status().is_client_error()
                    && r.status() != StatusCode::CONFLICT
                    && r.status().as_u16() != 460 =>
            {
                bail!("{}", problem(r).await)
            }
            Ok(r) => bar.set_message(format!("retrying: {}", problem(r).await)),
            Err(e) => bar.set_message(format!("retrying: {e}")),
        }
        failures += 1;
        if failures > RETRIES {
            bail!("gave up after {RETRIES} retries; run the same command again to resume");
        }
        tokio::time::sleep(Duration::from_secs(1 << failures.min(5))).await;
        let Some((server_offset, _)) = head_offset(ctx, location).await? else {
            bail!("the server no longer has this upload; run the command again to start it anew");
        };
        let delta = server_offset as i64 - offset as i64;
        bar.inc(delta.max(0) as u64);
        total.inc(delta.max(0) as u64);
        offset = server_offset;
    }
    Ok(())
}

async fn upload_one(
    ctx: Arc<Ctx>,
    file: LocalFile,
    server_sha: Option<String>,
    open_upload: Option<String>,
    multi: MultiProgress,
    total: ProgressBar,
) -> (String, Option<String>, Outcome) {
    let style = ProgressStyle::with_template(
        "{prefix:30!} {bar:30} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = multi.add(
        ProgressBar::new(file.size)
            .with_style(style)
            .with_prefix(file.path.clone()),
    );
    bar.set_message("hashing");
    let result: anyhow::Result<(String, Outcome)> = async {
        let f = LocalFile {
            path: file.path.clone(),
            abs: file.abs.clone(),
            size: file.size,
        };
        let hb = bar.clone();
        let sha = tokio::task::spawn_blocking(move || hash_file(&f, &hb)).await??;
        bar.reset();
        if let Some(there) = server_sha {
            total.inc(file.size);
            bar.finish_with_message("already on the server");
            if there == sha {
                return Ok((sha, Outcome::AlreadyThere));
            }
            return Ok((
                sha.clone(),
                Outcome::Failed(format!(
                    "the server already has a different '{}' (server SHA-256 {there}, local {sha}); remove it on the server to replace it",
                    file.path
                )),
            ));
        }
        let mut resume = None;
        if let Some(loc) = open_upload {
            match head_offset(&ctx, &loc).await? {
                Some((offset, Some(s))) if s == sha => resume = Some((loc, offset)),
                Some(_) => {
                    // Started with other content: cancel it and start over.
                    ctx.req(reqwest::Method::DELETE, &loc).send().await?;
                }
                None => {}
            }
        }
        let (location, offset) = match resume {
            Some(r) => r,
            None => (create(&ctx, &file, &sha).await?, 0),
        };
        bar.set_message(if offset > 0 { "resuming" } else { "" });
        bar.inc(offset);
        total.inc(offset);
        send_from(&ctx, &file, &location, offset, &bar, &total).await?;
        if file.size == 0 || offset == file.size {
            // Nothing was sent: a HEAD finishes an upload whose bytes were all in.
            head_offset(&ctx, &location).await?;
        }
        bar.finish_with_message("sent");
        Ok((sha, Outcome::Uploaded { resumed_from: offset }))
    }
    .await;
    match result {
        Ok((sha, outcome)) => (file.path, Some(sha), outcome),
        Err(e) => {
            bar.abandon_with_message("failed");
            (file.path, None, Outcome::Failed(format!("{e:#}")))
        }
    }
}

pub async fn run(args: UploadArgs) -> anyhow::Result<ExitCode> {
    let ctx = Arc::new(Ctx {
        client: Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .build()?,
        base: args.server.trim_end_matches('/').to_owned(),
        token: args.token,
        deposit: args.deposit,
    });
    if !args.dir.is_dir() {
        bail!("{} is not a directory", args.dir.display());
    }
    let (files, refused) = collect(&args.dir)?;
    if !refused.is_empty() {
        eprintln!("These files cannot be uploaded because of their names:");
        for r in &refused {
            eprintln!("  {r}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let on_server = server_files(&ctx).await?;
    let open = open_uploads(&ctx).await?;
    let multi = MultiProgress::new();
    let total_bytes: u64 = files.iter().map(|f| f.size).sum();
    let total = multi.add(
        ProgressBar::new(total_bytes).with_style(
            ProgressStyle::with_template(
                "{prefix:30!} {wide_bar} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
    );
    total.set_prefix(format!("total ({} files)", files.len()));
    let local_count = files.len();
    let results: Vec<_> = futures::stream::iter(files.into_iter().map(|f| {
        let server_sha = on_server
            .get(&f.path)
            .and_then(|v| v["sha256"].as_str().map(str::to_owned));
        let open_upload = open.get(&f.path).cloned();
        upload_one(
            ctx.clone(),
            f,
            server_sha,
            open_upload,
            multi.clone(),
            total.clone(),
        )
    }))
    .buffer_unordered(args.parallel.max(1))
    .collect()
    .await;
    total.finish();

    // Compare what the server computed with what we computed, file by file.
    let now_on_server = server_files(&ctx).await?;
    let mut failed = Vec::new();
    let (mut uploaded, mut skipped, mut resumed) = (0, 0, 0);
    for (path, sha, outcome) in results {
        match outcome {
            Outcome::Failed(why) => failed.push(format!("{path}: {why}")),
            Outcome::AlreadyThere => skipped += 1,
            Outcome::Uploaded { resumed_from } => {
                if resumed_from > 0 {
                    resumed += 1;
                    println!("{path}: resumed at byte {resumed_from}");
                }
                let server_sha = now_on_server.get(&path).and_then(|v| v["sha256"].as_str());
                match (server_sha, sha.as_deref()) {
                    (Some(s), Some(l)) if s == l => uploaded += 1,
                    (Some(s), Some(l)) => failed.push(format!(
                        "{path}: the server computed SHA-256 {s} but the local file has {l}"
                    )),
                    _ => failed.push(format!(
                        "{path}: the server does not list the file after upload"
                    )),
                }
            }
        }
    }
    println!(
        "{local_count} file(s): {uploaded} uploaded ({resumed} resumed), {skipped} already on the server, {} failed",
        failed.len()
    );
    if failed.is_empty() {
        println!("Every file's SHA-256 matches the server's.");
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failed {
            eprintln!("  FAILED {f}");
        }
        Ok(ExitCode::FAILURE)
    }
}
