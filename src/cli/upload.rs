//! `arca upload`: send a directory tree to a deposit over tus. Several files at once,
//! a progress bar per file and overall, resumes unfinished uploads when run again, and
//! compares every file's local SHA-256 with the one the server computed.
//!
//! Every file is read once. A small file (a detector frame) is read whole, hashed, and
//! sent in the request that creates its upload (tus creation-with-upload) with its
//! SHA-256 as both the expected file hash and the request's checksum: one round trip,
//! one hash on each side. A large file is hashed as it is sent, in one streamed PATCH
//! that the server makes durable at checkpoints; its SHA-256 is compared with the
//! server's at the end (over HTTPS the transport is already authenticated, so a
//! second, per-request hash on both ends would buy nothing but half the speed).

use crate::model::DatasetPath;
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use reqwest::{Client, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Files up to this size are read whole and sent with their creation; larger ones are
/// streamed.
const CHUNK: u64 = 16 << 20;
/// A large file is read, hashed and handed to the connection in blocks of this size,
/// a few blocks ahead of the network.
const BLOCK: usize = 4 << 20;
const BLOCKS_AHEAD: usize = 4;
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
    /// Files sent at once (many small files keep the disk and both ends busy).
    #[arg(long, default_value_t = 8)]
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

#[derive(Clone)]
struct LocalFile {
    path: String,
    abs: PathBuf,
    size: u64,
    /// Size and modification time: an unfinished upload of a large file is resumed
    /// only when they are unchanged (its hash is only known once it is all sent).
    fingerprint: String,
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
            Ok(p) => {
                let meta = entry.metadata()?;
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                files.push(LocalFile {
                    path: p.as_str().to_owned(),
                    abs: entry.path().to_owned(),
                    size: meta.len(),
                    fingerprint: format!("{}:{mtime}", meta.len()),
                })
            }
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

/// One value of an echoed Upload-Metadata header.
fn metadata_value(header: &str, key: &str) -> Option<String> {
    header.split(',').find_map(|pair| {
        let (k, v) = pair.trim().split_once(' ')?;
        (k == key)
            .then(|| STANDARD.decode(v).ok())
            .flatten()
            .and_then(|b| String::from_utf8(b).ok())
    })
}

/// An upload's offset and the Upload-Metadata it was created with (None: gone).
async fn head_offset(ctx: &Ctx, location: &str) -> anyhow::Result<Option<(u64, String)>> {
    let resp = ctx.req(reqwest::Method::HEAD, location).send().await?;
    match resp.status() {
        StatusCode::OK => {
            let offset =
                upload_offset(&resp).ok_or_else(|| anyhow!("the server sent no Upload-Offset"))?;
            let meta = resp
                .headers()
                .get("upload-metadata")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            Ok(Some((offset, meta.to_owned())))
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => Ok(None),
        _ => bail!("{}", problem(resp).await),
    }
}

/// Create an upload; with `whole`, the file's bytes go in the same request. Returns
/// the upload's location and how many bytes the server kept.
async fn create(
    ctx: &Ctx,
    file: &LocalFile,
    sha: Option<&str>,
    whole: Option<Bytes>,
) -> anyhow::Result<(String, u64)> {
    let mut pairs = vec![("deposit", ctx.deposit.as_str()), ("filename", &file.path)];
    match sha {
        Some(sha) => pairs.push(("sha256", sha)),
        None => pairs.push(("fingerprint", &file.fingerprint)),
    }
    let mut req = ctx
        .req(reqwest::Method::POST, "/api/v1/uploads")
        .header("Upload-Length", file.size)
        .header("Upload-Metadata", metadata_header(&pairs));
    if let (Some(data), Some(sha)) = (whole, sha) {
        let digest = STANDARD.encode(hex::decode(sha)?);
        req = req
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Checksum", format!("sha256 {digest}"))
            .body(data);
    }
    let resp = req.send().await?;
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if resp.status() != StatusCode::CREATED {
        // The upload may exist with none of the bytes (a damaged body): go on with it.
        if let Some(location) = location
            && resp.status().as_u16() == 460
        {
            return Ok((location, 0));
        }
        bail!("{}", problem(resp).await);
    }
    let offset = upload_offset(&resp).unwrap_or(0);
    let location = location.ok_or_else(|| anyhow!("the server sent no Location for the upload"))?;
    Ok((location, offset))
}

/// Stream a large file from `offset` to the end in one PATCH, hashing every byte as it
/// is read (the bytes before `offset`, sent by an earlier run, are read and hashed
/// first). Returns the file's SHA-256 once the server has all of it.
async fn stream_from(
    ctx: &Ctx,
    file: &LocalFile,
    location: &str,
    mut offset: u64,
    bar: &ProgressBar,
    total: &ProgressBar,
) -> anyhow::Result<String> {
    let mut failures = 0;
    loop {
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(BLOCKS_AHEAD);
        let f = file.clone();
        let reader = tokio::task::spawn_blocking(move || read_and_hash(&f, offset, &tx));
        let (b, t) = (bar.clone(), total.clone());
        let body = futures::stream::unfold(rx, move |mut rx| {
            let (b, t) = (b.clone(), t.clone());
            async move {
                let block = rx.recv().await?;
                if let Ok(data) = &block {
                    b.inc(data.len() as u64);
                    t.inc(data.len() as u64);
                }
                Some((block, rx))
            }
        });
        let sent_before = bar.position();
        let resp = ctx
            .req(reqwest::Method::PATCH, location)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Content-Length", file.size - offset)
            .header("Upload-Offset", offset)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await;
        // The reader stops when the request does; its error (the file changed) is the
        // one to report.
        let read = reader.await?;
        let sha = match read {
            Ok(sha) => sha,
            Err(e) => return Err(e).with_context(|| format!("read {}", file.path)),
        };
        if let Ok(r) = &resp
            && r.status() == StatusCode::NO_CONTENT
            && upload_offset(r) == Some(file.size)
        {
            return sha.ok_or_else(|| anyhow!("{}: not all of it was read", file.path));
        }
        let server_offset = resume_point(ctx, location, resp, &mut failures, bar).await?;
        // Count only what the server kept.
        let counted = bar.position() - sent_before;
        total.set_position((total.position() + server_offset).saturating_sub(counted + offset));
        bar.set_position(server_offset);
        offset = server_offset;
    }
}

/// Read `file` from its start, hash all of it, and hand the bytes from `offset` on to
/// `tx`. Ok(None) when the receiver went away before the end (the request failed).
fn read_and_hash(
    file: &LocalFile,
    offset: u64,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) -> std::io::Result<Option<String>> {
    let mut f = std::fs::File::open(&file.abs)?;
    let mut sha = Sha256::new();
    let mut pos = 0u64;
    loop {
        let want = BLOCK.min((file.size - pos) as usize);
        if want == 0 {
            break;
        }
        let mut buf = vec![0u8; want];
        if let Err(e) = f.read_exact(&mut buf) {
            let changed = std::io::Error::new(
                e.kind(),
                format!("{} changed while it was being uploaded: {e}", file.path),
            );
            let _ = tx.blocking_send(Err(std::io::Error::other("the file changed")));
            return Err(changed);
        }
        sha.update(&buf);
        let start = pos;
        pos += want as u64;
        if pos <= offset {
            continue;
        }
        let skip = offset.saturating_sub(start) as usize;
        let block = Bytes::from(buf).slice(skip..);
        if tx.blocking_send(Ok(block)).is_err() {
            return Ok(None);
        }
    }
    // Bytes past the size the upload was created with are not the file that was sent.
    if f.read(&mut [0u8; 1])? != 0 {
        let _ = tx.blocking_send(Err(std::io::Error::other("the file changed")));
        return Err(std::io::Error::other(format!(
            "{} grew while it was being uploaded",
            file.path
        )));
    }
    Ok(Some(hex::encode(sha.finalize())))
}

fn upload_offset(r: &reqwest::Response) -> Option<u64> {
    r.headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// After a PATCH that did not finish its bytes: give up on a refusal that sending again
/// cannot mend, otherwise wait (longer each time, at most RETRIES times) and ask the
/// server where the upload stands. Returns the offset to go on from.
async fn resume_point(
    ctx: &Ctx,
    location: &str,
    resp: reqwest::Result<reqwest::Response>,
    failures: &mut u32,
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    match resp {
        Ok(r) if r.status().is_success() => bar.set_message("the server kept part of it"),
        Ok(r)
            if r.status().is_client_error()
                && r.status() != StatusCode::CONFLICT
                && r.status() != StatusCode::TOO_MANY_REQUESTS
                && r.status().as_u16() != 460 =>
        {
            bail!("{}", problem(r).await)
        }
        Ok(r) => bar.set_message(format!("retrying: {}", problem(r).await)),
        Err(e) => bar.set_message(format!("retrying: {e}")),
    }
    *failures += 1;
    if *failures > RETRIES {
        bail!("gave up after {RETRIES} retries; run the same command again to resume");
    }
    tokio::time::sleep(Duration::from_secs(1 << (*failures).min(5))).await;
    let Some((server_offset, _)) = head_offset(ctx, location).await? else {
        bail!("the server no longer has this upload; run the command again to start it anew");
    };
    Ok(server_offset)
}

/// Send the rest of a small file, already in memory, from `offset`: one PATCH with its
/// checksum, re-asking the server's offset after a failure so nothing is sent twice and
/// nothing is skipped.
async fn send_rest(
    ctx: &Ctx,
    data: &Bytes,
    location: &str,
    mut offset: u64,
    bar: &ProgressBar,
    total: &ProgressBar,
) -> anyhow::Result<()> {
    let mut failures = 0;
    while offset < data.len() as u64 {
        let rest = data.slice(offset as usize..);
        let digest = STANDARD.encode(Sha256::digest(&rest));
        let len = rest.len() as u64;
        let resp = ctx
            .req(reqwest::Method::PATCH, location)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset)
            .header("Upload-Checksum", format!("sha256 {digest}"))
            .body(rest)
            .send()
            .await;
        if let Ok(r) = &resp
            && r.status() == StatusCode::NO_CONTENT
        {
            bar.inc(len);
            total.inc(len);
            return Ok(());
        }
        let server_offset = resume_point(ctx, location, resp, &mut failures, bar).await?;
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
    on_server: Option<(String, u64)>,
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
    let result = match on_server {
        Some(there) => already_there(&file, there, &bar, &total).await,
        None if file.size <= CHUNK => send_small(&ctx, &file, open_upload, &bar, &total).await,
        None => send_large(&ctx, &file, open_upload, &bar, &total).await,
    };
    match result {
        Ok((sha, outcome)) => {
            if !bar.is_finished() {
                bar.finish_with_message("sent");
            }
            (file.path, Some(sha), outcome)
        }
        Err(e) => {
            bar.abandon_with_message("failed");
            (file.path, None, Outcome::Failed(format!("{e:#}")))
        }
    }
}

/// A file the deposit already has under this path: the same bytes, or a conflict.
async fn already_there(
    file: &LocalFile,
    (there, size): (String, u64),
    bar: &ProgressBar,
    total: &ProgressBar,
) -> anyhow::Result<(String, Outcome)> {
    let sha = if size == file.size {
        bar.set_message("hashing");
        let (f, hb) = (file.clone(), bar.clone());
        tokio::task::spawn_blocking(move || hash_file(&f, &hb)).await??
    } else {
        String::new()
    };
    total.inc(file.size);
    bar.finish_with_message("already on the server");
    if there == sha {
        return Ok((sha, Outcome::AlreadyThere));
    }
    let local = match sha.is_empty() {
        true => format!("{} bytes here, {size} there", file.size),
        false => format!("server SHA-256 {there}, local {sha}"),
    };
    Ok((
        sha,
        Outcome::Failed(format!(
            "the server already has a different '{}' ({local}); remove it on the server to replace it",
            file.path
        )),
    ))
}

/// A small file: read once, hashed once, sent with its creation.
async fn send_small(
    ctx: &Ctx,
    file: &LocalFile,
    open_upload: Option<String>,
    bar: &ProgressBar,
    total: &ProgressBar,
) -> anyhow::Result<(String, Outcome)> {
    let f = file.clone();
    let (data, sha) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Bytes, String)> {
        let data = std::fs::read(&f.abs).with_context(|| format!("read {}", f.path))?;
        if data.len() as u64 != f.size {
            bail!("{} changed while it was being uploaded", f.path);
        }
        let sha = hex::encode(Sha256::digest(&data));
        Ok((Bytes::from(data), sha))
    })
    .await??;
    // An unfinished upload of a small file is simply started again.
    if let Some(loc) = open_upload {
        ctx.req(reqwest::Method::DELETE, &loc).send().await?;
    }
    let (location, offset) = create(ctx, file, Some(&sha), Some(data.clone())).await?;
    bar.inc(offset);
    total.inc(offset);
    send_rest(ctx, &data, &location, offset, bar, total).await?;
    Ok((sha, Outcome::Uploaded { resumed_from: 0 }))
}

/// A large file: hashed while it is sent; an unfinished upload of the same file (same
/// size and modification time) is resumed where the server stands.
async fn send_large(
    ctx: &Ctx,
    file: &LocalFile,
    open_upload: Option<String>,
    bar: &ProgressBar,
    total: &ProgressBar,
) -> anyhow::Result<(String, Outcome)> {
    let mut resume = None;
    if let Some(loc) = open_upload {
        match head_offset(ctx, &loc).await? {
            Some((offset, meta))
                if metadata_value(&meta, "fingerprint").as_deref()
                    == Some(file.fingerprint.as_str()) =>
            {
                resume = Some((loc, offset))
            }
            Some(_) => {
                // Started with other content: cancel it and start over.
                ctx.req(reqwest::Method::DELETE, &loc).send().await?;
            }
            None => {}
        }
    }
    let (location, offset) = match resume {
        Some(r) => r,
        None => create(ctx, file, None, None).await?,
    };
    bar.set_message(if offset > 0 { "resuming" } else { "" });
    bar.inc(offset);
    total.inc(offset);
    let sha = stream_from(ctx, file, &location, offset, bar, total).await?;
    Ok((
        sha,
        Outcome::Uploaded {
            resumed_from: offset,
        },
    ))
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
        let there = on_server
            .get(&f.path)
            .and_then(|v| Some((v["sha256"].as_str()?.to_owned(), v["size"].as_u64()?)));
        let open_upload = open.get(&f.path).cloned();
        upload_one(
            ctx.clone(),
            f,
            there,
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
                    (Some(s), Some(l)) => {
                        // Not the bytes that were read here: take them out again, so
                        // the next run sends the file anew.
                        let removed = ctx
                            .req(
                                reqwest::Method::DELETE,
                                &format!(
                                    "/api/v1/deposits/{}/files/{}",
                                    ctx.deposit,
                                    super::url_path(&path)
                                ),
                            )
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success());
                        failed.push(format!(
                            "{path}: the server computed SHA-256 {s} but the local file has {l}{}",
                            if removed {
                                " (removed from the deposit; run again to send it anew)"
                            } else {
                                ""
                            }
                        ))
                    }
                    _ => failed.push(format!(
                        "{path}: the server does not list the file after upload"
                    )),
                }
            }
        }
    }
    println!(
        "{}: {uploaded} uploaded ({resumed} resumed), {skipped} already on the server, {} failed",
        crate::model::words::count(local_count as u64, "file", "files"),
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
