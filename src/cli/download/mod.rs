//! `arca download DOI-OR-URL DIR`: every file of a dataset, fetched with ranged,
//! resumable requests from the archive and the mirrors that hold verified copies (the
//! fastest as measured, the archive when a mirror fails), several files and several
//! ranges of a large file at once. Each file is written under a temporary name and
//! renamed only once its SHA-256 matches; a run after a kill resumes from the bytes
//! on disk. The exit code is 0 only when every file verifies.

mod plan;
mod sources;

use crate::model::checksum::{Algorithm, Hasher};
use crate::storage::direct::RegionWriter;
use anyhow::{Context, bail};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use plan::{Plan, Source, Want};
use reqwest::{Client, StatusCode, header};
use sha2::{Digest, Sha256};
use sources::Sources;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Where unfinished files wait, inside the target directory.
const PARTIAL_DIR: &str = ".arca-download";
/// Tries of one range before the file is given up (each may go to another source).
const TRIES: usize = 5;

#[derive(clap::Args)]
pub struct DownloadArgs {
    /// A DOI (10.…), a landing page's URL (…/datasets/ID, ?version=N), a reviewer link
    /// (…/review/…), or an id with --server: a dataset's, or with --token a deposit's.
    what: String,
    /// The directory to write into (made if missing).
    dir: PathBuf,
    /// The archive's address: for a bare id; a DOI is then resolved there, not at doi.org.
    #[arg(long, env = "ARCA_SERVER")]
    server: Option<String>,
    /// API token, for a depositor's own unreleased deposit (sent to the archive only).
    #[arg(long, env = "ARCA_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A released version by number (default: the latest).
    #[arg(long)]
    version: Option<i64>,
    /// Only files matching (repeatable). A pattern without `/` matches the file's name
    /// in any directory; with `/`, the whole path (`**` crosses directories).
    #[arg(long)]
    include: Vec<String>,
    /// Leave out files matching (repeatable), as --include reads patterns.
    #[arg(long)]
    exclude: Vec<String>,
    /// Requests in flight at once (1–256).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    parallel: u16,
    /// MiB per ranged request (1–4096): larger files are fetched in several ranges at
    /// once; a file this size or smaller comes in one request, hashed as it arrives.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=4096))]
    range_mib: u64,
    /// Only the archive: no mirror is asked.
    #[arg(long)]
    no_mirrors: bool,
}

/// File patterns as --include and --exclude read them.
struct Patterns {
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
}

impl Patterns {
    fn new(include: &[String], exclude: &[String]) -> anyhow::Result<Self> {
        let compile = |ps: &[String]| -> anyhow::Result<Vec<glob::Pattern>> {
            ps.iter()
                .map(|p| glob::Pattern::new(p).with_context(|| format!("pattern {p:?}")))
                .collect()
        };
        Ok(Patterns {
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    fn matches(p: &glob::Pattern, path: &str) -> bool {
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        if p.as_str().contains('/') {
            p.matches_with(path, opts)
        } else {
            p.matches_with(path.rsplit('/').next().unwrap_or(path), opts)
        }
    }

    fn wanted(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| Self::matches(p, path)))
            && !self.exclude.iter().any(|p| Self::matches(p, path))
    }
}

/// What became of one file.
enum Outcome {
    Fetched {
        resumed: bool,
        /// Mirrors whose bytes did not hash right (fetched again from the archive).
        bad_mirrors: Vec<String>,
    },
    AlreadyThere,
    Failed(String),
}

struct Run {
    client: Client,
    plan: Plan,
    dir: PathBuf,
    sources: Sources,
    requests: Arc<Semaphore>,
    parallel: usize,
    range_bytes: u64,
    multi: MultiProgress,
    total: ProgressBar,
}

impl Run {
    /// A line for the reader, above the progress bars (on stderr when there are none).
    fn say(&self, line: String) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }
}

pub async fn run(args: DownloadArgs) -> anyhow::Result<ExitCode> {
    let client = Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(120))
        .build()?;
    let patterns = Patterns::new(&args.include, &args.exclude)?;
    let mut plan = plan::plan(
        &client,
        plan::Request {
            what: &args.what,
            server: args.server.as_deref(),
            token: args.token.as_deref(),
            version: args.version,
        },
    )
    .await?;
    let listed = plan.files.len();
    plan.files.retain(|f| patterns.wanted(f.path.as_str()));
    if args.no_mirrors {
        for f in &mut plan.files {
            f.sources.retain(Source::is_archive);
        }
    }
    if plan.files.is_empty() && listed > 0 {
        bail!("none of the {listed} files matches --include/--exclude");
    }
    std::fs::create_dir_all(args.dir.join(PARTIAL_DIR))
        .with_context(|| format!("making {}", args.dir.display()))?;
    let multi = MultiProgress::new();
    let total_bytes: u64 = plan.files.iter().map(|f| f.size).sum();
    let total = multi.add(ProgressBar::new(total_bytes).with_style(
        ProgressStyle::with_template(
            "{prefix:30!} {wide_bar} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    ));
    total.set_prefix(format!("total ({} files)", plan.files.len()));
    println!(
        "{}: {} of {listed} files, {} bytes",
        plan.label,
        plan.files.len(),
        total_bytes
    );
    let parallel = usize::from(args.parallel);
    let run = Arc::new(Run {
        client,
        dir: args.dir.clone(),
        sources: Sources::default(),
        requests: Arc::new(Semaphore::new(parallel)),
        parallel,
        range_bytes: args.range_mib << 20,
        multi,
        total,
        plan,
    });
    let started = Instant::now();
    // Files are started a few more than requests in flight, so a small file's turn
    // never waits for a large file's last range.
    let results: Vec<(String, Outcome)> = futures::stream::iter(0..run.plan.files.len())
        .map(|i| {
            let run = run.clone();
            async move {
                let want = &run.plan.files[i];
                let outcome = fetch_file(&run, want).await;
                (want.path.as_str().to_owned(), outcome)
            }
        })
        .buffer_unordered(parallel * 2)
        .collect()
        .await;
    run.total.finish_and_clear();
    let _ = std::fs::remove_dir(run.dir.join(PARTIAL_DIR));
    report(&run, results, started.elapsed())
}

fn report(run: &Run, results: Vec<(String, Outcome)>, took: Duration) -> anyhow::Result<ExitCode> {
    let (mut fetched, mut resumed, mut there) = (0, 0, 0);
    let mut failed = Vec::new();
    for (path, outcome) in results {
        match outcome {
            Outcome::Fetched {
                resumed: r,
                bad_mirrors,
            } => {
                fetched += 1;
                resumed += usize::from(r);
                for m in bad_mirrors {
                    println!(
                        "{path}: mirror {m} sent bytes that do not match the SHA-256; fetched again from the archive"
                    );
                }
            }
            Outcome::AlreadyThere => there += 1,
            Outcome::Failed(why) => failed.push(format!("{path}: {why}")),
        }
    }
    let from: Vec<String> = run
        .sources
        .bytes_by_source()
        .iter()
        .map(|(n, b)| format!("{n} {b} bytes"))
        .collect();
    let bytes: u64 = run.sources.bytes_by_source().iter().map(|(_, b)| b).sum();
    println!(
        "{} files: {fetched} downloaded ({resumed} resumed), {there} already there, {} failed; {} in {:.1} s{}",
        fetched + there + failed.len(),
        failed.len(),
        bytes,
        took.as_secs_f64(),
        if from.is_empty() {
            String::new()
        } else {
            format!(" (from {})", from.join(", "))
        }
    );
    if failed.is_empty() {
        println!("Every file's SHA-256 matches the archive's.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("These files were not downloaded (run the same command again to resume):");
        for f in &failed {
            eprintln!("  FAILED {f}");
        }
        Ok(ExitCode::FAILURE)
    }
}

async fn hash_on_disk(path: PathBuf) -> std::io::Result<String> {
    tokio::task::spawn_blocking(move || super::sha256_of_file(&path, |_| ()))
        .await
        .map_err(std::io::Error::other)?
}

/// What is left of `[0, size)` once the `done` intervals (sorted) are taken out, in
/// ranges of at most `range` bytes.
fn missing(size: u64, done: &[(u64, u64)], range: u64) -> Vec<(u64, u64)> {
    let mut gaps = Vec::new();
    let mut at = 0;
    for &(a, b) in done {
        if a > at {
            gaps.push((at, a));
        }
        at = at.max(b);
    }
    if at < size {
        gaps.push((at, size));
    }
    gaps.into_iter()
        .flat_map(|(a, b)| {
            (a..b)
                .step_by(range as usize)
                .map(move |s| (s, (s + range).min(b)))
        })
        .collect()
}

/// A file's unfinished copy and the record of its finished ranges.
struct Partial {
    data: PathBuf,
    done: PathBuf,
}

impl Partial {
    fn of(dir: &Path, want: &Want) -> Self {
        // Named by the path's hash: any path fits, and two paths never share one.
        let key = hex::encode(&Sha256::digest(want.path.as_str().as_bytes())[..16]);
        let at = dir.join(PARTIAL_DIR);
        Partial {
            data: at.join(format!("{key}.part")),
            done: at.join(format!("{key}.done")),
        }
    }

    /// Byte intervals `[start, end)` finished by an earlier run for the same bytes
    /// (the record names the SHA-256 it was made for), whatever range size it used.
    fn finished(&self, want: &Want) -> Vec<(u64, u64)> {
        let Ok(text) = std::fs::read_to_string(&self.done) else {
            return Vec::new();
        };
        let mut lines = text.lines();
        if lines.next() != Some(want.sha256.as_str()) {
            return Vec::new();
        }
        let on_disk = std::fs::metadata(&self.data).map(|m| m.len()).unwrap_or(0);
        let mut done: Vec<(u64, u64)> = lines
            .filter_map(|l| {
                let (a, b) = l.split_once(' ')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            })
            // Only what the file on disk holds (a torn last line is not a number).
            .filter(|&(a, b): &(u64, u64)| a < b && b <= want.size.min(on_disk))
            .collect();
        done.sort_unstable();
        done
    }

    fn start(&self, want: &Want) -> std::io::Result<()> {
        let mut f = std::fs::File::create(&self.done)?;
        writeln!(f, "{}", want.sha256)
    }

    fn record(&self, start: u64, end: u64) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().append(true).open(&self.done)?;
        writeln!(f, "{start} {end}")
    }

    fn discard(&self) {
        let _ = std::fs::remove_file(&self.data);
        let _ = std::fs::remove_file(&self.done);
    }
}

async fn fetch_file(run: &Run, want: &Want) -> Outcome {
    let target = want
        .path
        .as_str()
        .split('/')
        .fold(run.dir.clone(), |p, seg| p.join(seg));
    // Already there with the right bytes: nothing to fetch.
    if std::fs::metadata(&target).is_ok_and(|m| m.is_file() && m.len() == want.size)
        && hash_on_disk(target.clone()).await.ok().as_deref() == Some(want.sha256.as_str())
    {
        run.total.inc(want.size);
        return Outcome::AlreadyThere;
    }
    let bar = run.multi.add(
        ProgressBar::new(want.size)
            .with_style(
                ProgressStyle::with_template(
                    "{prefix:30!} {bar:30} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            )
            .with_prefix(want.path.as_str().to_owned()),
    );
    let partial = Partial::of(&run.dir, want);
    let mut bad_mirrors = Vec::new();
    let mut resumed = false;
    // The first pass may take mirrors; a second, after bytes that did not hash right,
    // takes the archive only.
    for archive_only in [false, true] {
        let sources: Vec<Source> = want
            .sources
            .iter()
            .filter(|s| !archive_only || s.is_archive())
            .cloned()
            .collect();
        let result = fetch_into(run, want, &sources, &partial, &bar).await;
        let (used, whole) = match result {
            Ok((used, r, whole)) => {
                resumed |= r;
                (used, whole)
            }
            Err(e) => {
                bar.abandon_with_message("failed");
                return Outcome::Failed(format!("{e:#}"));
            }
        };
        bar.set_message("verifying");
        // Hashed as it arrived when it came in one piece; read back otherwise.
        let sha = match whole {
            Some(sha) => Ok(sha),
            None => hash_on_disk(partial.data.clone()).await,
        };
        match sha {
            Ok(sha) if sha == want.sha256 => {
                if let Err(e) = finish(&partial, &target).await {
                    bar.abandon_with_message("failed");
                    return Outcome::Failed(format!("{e:#}"));
                }
                bar.finish_and_clear();
                return Outcome::Fetched {
                    resumed,
                    bad_mirrors,
                };
            }
            Ok(_) => {
                partial.discard();
                let mirrors: Vec<String> =
                    used.into_iter().filter(|n| n != plan::ARCHIVE).collect();
                if mirrors.is_empty() || archive_only {
                    bar.abandon_with_message("failed");
                    return Outcome::Failed(
                        "the bytes received do not match the SHA-256 the archive lists".into(),
                    );
                }
                bad_mirrors.extend(mirrors);
                run.total.dec(want.size.min(run.total.position()));
                bar.reset();
                bar.set_message("again from the archive");
            }
            Err(e) => {
                bar.abandon_with_message("failed");
                return Outcome::Failed(format!("reading the downloaded copy: {e}"));
            }
        }
    }
    unreachable!("the second pass returns")
}

/// Make the verified copy the file. No fsync (as rsync and curl): a copy a power cut
/// damaged is found by the next run, which hashes every file it finds in place.
async fn finish(partial: &Partial, target: &Path) -> anyhow::Result<()> {
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .with_context(|| format!("making {}", parent.display()))?;
    }
    tokio::fs::rename(&partial.data, target)
        .await
        .with_context(|| format!("moving the verified copy to {}", target.display()))?;
    let _ = tokio::fs::remove_file(&partial.done).await;
    Ok(())
}

/// Fetch every range not yet on disk into the partial file; the sources that sent
/// bytes, whether an earlier run's bytes were kept, and the SHA-256 when the whole file
/// came in one request.
async fn fetch_into(
    run: &Run,
    want: &Want,
    sources: &[Source],
    partial: &Partial,
    bar: &ProgressBar,
) -> anyhow::Result<(BTreeSet<String>, bool, Option<String>)> {
    let finished = partial.finished(want);
    let resumed = !finished.is_empty();
    if !resumed {
        partial.start(want)?;
        let f = std::fs::File::create(&partial.data)?;
        f.set_len(want.size)?;
    }
    let todo = missing(want.size, &finished, run.range_bytes);
    let kept = want.size - todo.iter().map(|(s, e)| e - s).sum::<u64>();
    bar.inc(kept);
    run.total.inc(kept);
    if resumed {
        bar.set_message(format!("resuming ({kept} bytes kept)"));
    }
    let used: Vec<anyhow::Result<(String, Option<String>)>> = futures::stream::iter(todo)
        .map(|(start, end)| async move {
            let got = fetch_range(run, want, sources, partial, start, end, bar).await?;
            partial.record(start, end)?;
            Ok(got)
        })
        .buffer_unordered(run.parallel)
        .collect()
        .await;
    let mut names = BTreeSet::new();
    let mut whole = None;
    for u in used {
        let (name, sha) = u?;
        names.insert(name);
        whole = whole.or(sha);
    }
    Ok((names, resumed, whole))
}

/// One range into place, trying sources until one sends it whole; the source's name
/// (and the SHA-256 when the range is the whole file).
async fn fetch_range(
    run: &Run,
    want: &Want,
    sources: &[Source],
    partial: &Partial,
    start: u64,
    end: u64,
    bar: &ProgressBar,
) -> anyhow::Result<(String, Option<String>)> {
    let mut excluded: Vec<String> = Vec::new();
    let mut last_error = String::new();
    for attempt in 0..TRIES {
        // The turn first, then the source: the choice sees the requests in flight.
        let _permit = run.requests.acquire().await.expect("never closed");
        let Some(source) = run.sources.choose(sources, &excluded).cloned() else {
            break;
        };
        let began = Instant::now();
        match get_range(run, want, &source, partial, start, end, bar).await {
            Ok(sha) => {
                run.sources
                    .succeeded(&source.name, end - start, began.elapsed());
                return Ok((source.name, sha));
            }
            Err(e) => {
                last_error = format!("{}: {e:#}", source.name);
                let down = run.sources.failed(&source);
                if down {
                    run.say(format!(
                        "mirror {} left out for the rest of this run: {e:#}",
                        source.name
                    ));
                } else if !source.is_archive() {
                    run.say(format!(
                        "mirror {} failed ({e:#}); trying another source",
                        source.name
                    ));
                }
                if !source.is_archive() {
                    excluded.push(source.name.clone());
                } else {
                    tokio::time::sleep(Duration::from_millis(500 << attempt.min(4))).await;
                }
            }
        }
    }
    bail!("bytes {start}-{} not fetched: {last_error}", end - 1)
}

/// GET one range from one source and write it at its place; the SHA-256 of what came
/// when it is the whole file. Progress counted as bytes arrive is taken back if the
/// request fails part-way.
async fn get_range(
    run: &Run,
    want: &Want,
    source: &Source,
    partial: &Partial,
    start: u64,
    end: u64,
    bar: &ProgressBar,
) -> anyhow::Result<Option<String>> {
    let mut req = run
        .client
        .get(&source.url)
        .header(header::RANGE, format!("bytes={start}-{}", end - 1));
    if source.is_archive() {
        // The bytes of the version asked for, or the whole file again (never a range
        // of other bytes).
        req = req.header(header::IF_RANGE, format!("\"{}\"", want.sha256));
        if let Some(token) = &run.plan.token
            && source.url.starts_with(&run.plan.archive_origin)
        {
            req = req.bearer_auth(token);
        }
    }
    let resp = req.send().await?;
    let whole = start == 0 && end == want.size;
    match resp.status() {
        StatusCode::PARTIAL_CONTENT => {
            let expected = format!("bytes {start}-{}/{}", end - 1, want.size);
            let got = resp
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if got != expected {
                bail!("answered {got:?} where {expected:?} was asked for");
            }
        }
        StatusCode::OK if whole => {
            if let Some(len) = resp.content_length()
                && len != want.size
            {
                bail!("its copy has {len} bytes, not {}", want.size);
            }
        }
        StatusCode::OK => bail!("sent the whole file where a range was asked for"),
        s => bail!("answered {s}"),
    }
    // Written (and, for a whole file, hashed) on a thread of its own. A whole file goes
    // past the page cache where the system allows: copying every byte into the cache
    // cost more CPU than hashing it, on the cores the network needs. A part of a file
    // stays in the cache, where the file's hash reads it back.
    // Handed over in batches of about BATCH bytes: one wake-up per batch, not per
    // network read.
    const BATCH: usize = 1 << 20;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<bytes::Bytes>>(8);
    let path = partial.data.clone();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<Option<String>> {
        let mut out = RegionWriter::open(&path, start, whole)?;
        let mut hasher = whole.then(|| Hasher::new(Algorithm::Sha256));
        while let Some(batch) = rx.blocking_recv() {
            for chunk in batch {
                if let Some(h) = hasher.as_mut() {
                    h.update(&chunk);
                }
                out.write(&chunk)?;
            }
        }
        out.finish()?;
        Ok(hasher.map(|h| h.finish().hex))
    });
    let mut stream = resp.bytes_stream();
    let mut got = 0u64;
    let received: anyhow::Result<()> = async {
        let (mut batch, mut batched) = (Vec::new(), 0);
        loop {
            let chunk = stream.next().await.transpose()?;
            if let Some(chunk) = &chunk {
                if got + chunk.len() as u64 > end - start {
                    bail!("sent more bytes than the range holds");
                }
                got += chunk.len() as u64;
                batched += chunk.len();
                bar.inc(chunk.len() as u64);
                run.total.inc(chunk.len() as u64);
            }
            let done = chunk.is_none();
            batch.extend(chunk);
            if (done || batched >= BATCH) && !batch.is_empty() {
                if tx.send(std::mem::take(&mut batch)).await.is_err() {
                    bail!("writing the copy stopped");
                }
                batched = 0;
            }
            if done {
                break;
            }
        }
        if got != end - start {
            bail!("the answer ended after {got} of {} bytes", end - start);
        }
        Ok(())
    }
    .await;
    drop(tx);
    // Always waited for: a retry of this range must not race a writer still at work.
    let written = writer.await.map_err(std::io::Error::other);
    let result = match (written, received) {
        (Ok(Ok(sha)), Ok(())) => Ok(sha),
        (Ok(Err(e)) | Err(e), _) => Err(anyhow::Error::from(e).context("writing the copy")),
        (_, Err(e)) => Err(e),
    };
    if result.is_err() {
        bar.dec(got);
        run.total.dec(got);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_missing_is_fetched_once_whatever_range_size_was_used_before() {
        assert_eq!(missing(0, &[], 10), vec![]);
        assert_eq!(missing(10, &[], 10), vec![(0, 10)]);
        assert_eq!(missing(25, &[], 10), vec![(0, 10), (10, 20), (20, 25)]);
        assert_eq!(missing(25, &[(0, 10), (20, 25)], 10), vec![(10, 20)]);
        // Finished with 4-byte ranges, resumed with 10.
        assert_eq!(
            missing(25, &[(0, 4), (4, 8), (12, 16)], 10),
            vec![(8, 12), (16, 25)]
        );
        assert_eq!(missing(8, &[(0, 4), (2, 8)], 3), vec![]);
    }

    #[test]
    fn patterns_match_names_anywhere_or_whole_paths() {
        let p =
            Patterns::new(&["*_00001.cbf".into(), "meta/**".into()], &["*.log".into()]).unwrap();
        assert!(p.wanted("run1/x_00001.cbf"));
        assert!(p.wanted("x_00001.cbf"));
        assert!(!p.wanted("run1/x_00002.cbf"));
        assert!(p.wanted("meta/a/b.json"));
        let q = Patterns::new(&[], &["*.log".into()]).unwrap();
        assert!(q.wanted("a/b.cbf"));
        assert!(!q.wanted("a/b.log"));
        assert!(Patterns::new(&["[".into()], &[]).is_err());
    }
}
