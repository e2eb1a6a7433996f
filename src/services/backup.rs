//! Backups of an embedded archive (SQLite catalogue), restores, and the check that the
//! catalogue and the object store agree.
//!
//! A backup directory holds `catalogue.db` (an online snapshot, `VACUUM INTO`),
//! `objects/sha256/ab/cd/<sha256>` (each object the snapshot lists: hard-linked from a
//! local store when the backup is on the same file system, else copied and hashed),
//! `inventory.tsv` (SHA-256 and size of each) and `backup.json`. The snapshot is written
//! under a temporary name and takes its place only once every object it lists is in the
//! backup, so the directory always holds a complete backup, the last one or the new one.
//! A second run copies only objects it does not have yet.

use crate::db::{self, Backend};
use crate::model::checksum::{Algorithm, Hasher};
use crate::storage::StorageError;
use futures::StreamExt;
use sqlx::Connection;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Objects read from the catalogue per round trip.
const PAGE: i64 = 1000;
/// Problems of each kind listed by name in a report (all are counted).
const LISTED: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "arca backup copies an embedded archive (SQLite); on PostgreSQL back up the \
         catalogue with pg_dump and the bucket with versioning or a mirror (docs/backup.md)"
    )]
    NotEmbedded,
    #[error("{0} is not empty: restore into a new data directory")]
    NotEmpty(PathBuf),
    #[error("{0} is not an Arca backup (no catalogue.db and inventory.tsv)")]
    NotABackup(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("object {sha256}: {problem}")]
    Object { sha256: String, problem: String },
    #[error("inventory.tsv line {line}: {problem}")]
    Inventory { line: usize, problem: String },
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

type BackupResult<T> = Result<T, BackupError>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `sha256/ab/cd/<sha256>`, as the local store lays objects out.
fn object_rel(sha256: &str) -> BackupResult<PathBuf> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BackupError::Object {
            sha256: sha256.to_owned(),
            problem: "not a SHA-256 in hex".into(),
        });
    }
    Ok(Path::new("sha256")
        .join(&sha256[0..2])
        .join(&sha256[2..4])
        .join(sha256))
}

#[derive(Debug, Default, serde::Serialize)]
pub struct BackupReport {
    pub objects: u64,
    pub bytes: u64,
    /// Objects already in the backup from an earlier run.
    pub kept: u64,
    pub linked: u64,
    pub copied: u64,
}

#[derive(Debug, Default)]
pub struct CheckReport {
    /// Objects the catalogue lists, and their bytes.
    pub objects: u64,
    pub bytes: u64,
    pub missing_count: u64,
    pub missing: Vec<String>,
    pub wrong_size_count: u64,
    /// (sha256, size in the catalogue, size in the store)
    pub wrong_size: Vec<(String, u64, u64)>,
    pub orphan_count: u64,
    /// Stored objects the catalogue does not list (an upload finishing during the check
    /// shows here once).
    pub orphans: Vec<String>,
}

impl CheckReport {
    /// Whether every object the catalogue lists is stored with its size.
    pub fn agrees(&self) -> bool {
        self.missing_count == 0 && self.wrong_size_count == 0
    }
}

fn note<T>(list: &mut Vec<T>, count: &mut u64, item: T) {
    *count += 1;
    if list.len() < LISTED {
        list.push(item);
    }
}
super::capability!(backup);

impl Service<'_> {
    /// `arca check`: every object the catalogue lists is in the store with its size, and
    /// which stored objects the catalogue does not list. Reads a page at a time.
    pub async fn check_store(&self) -> BackupResult<CheckReport> {
        let mut r = CheckReport::default();
        let mut after = String::new();
        loop {
            let page = {
                let mut conn = self.db.conn().await?;
                db::inventory::objects_after(&mut conn, &after, PAGE).await?
            };
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            let sizes =
                futures::stream::iter(page.iter().map(|(sha, _)| self.storage.object_size(sha)))
                    .buffered(16)
                    .collect::<Vec<_>>()
                    .await;
            for ((sha, size), found) in page.into_iter().zip(sizes) {
                r.objects += 1;
                r.bytes += size;
                match found? {
                    None => note(&mut r.missing, &mut r.missing_count, sha),
                    Some(s) if s != size => {
                        note(&mut r.wrong_size, &mut r.wrong_size_count, (sha, size, s))
                    }
                    Some(_) => {}
                }
            }
        }
        let mut listing = self.storage.list_objects().chunks(PAGE as usize);
        while let Some(chunk) = listing.next().await {
            let names = chunk
                .into_iter()
                .map(|r| r.map(|(name, _)| name))
                .collect::<Result<Vec<_>, _>>()?;
            let known = {
                let mut conn = self.db.conn().await?;
                db::inventory::known(&mut conn, &names).await?
            };
            for name in names {
                if !known.contains(&name) {
                    note(&mut r.orphans, &mut r.orphan_count, name);
                }
            }
        }
        Ok(r)
    }

    /// `arca backup --to DIR`: a consistent copy of the running archive (see the module).
    pub async fn run(&self, to: &Path) -> BackupResult<BackupReport> {
        if self.db.backend != Backend::Sqlite {
            return Err(BackupError::NotEmbedded);
        }
        std::fs::create_dir_all(to.join("objects")).map_err(io(to))?;
        let partial = to.join("catalogue.db.partial");
        let _ = std::fs::remove_file(&partial);
        // An online snapshot: one read transaction, writers carry on.
        sqlx::query("VACUUM INTO $1")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&mut *self.db.conn().await?)
            .await?;
        let mut snapshot =
            sqlx::AnyConnection::connect(&format!("sqlite://{}", partial.display())).await?;
        // One file, no write-ahead log beside it, so it can be renamed into place.
        sqlx::query("PRAGMA journal_mode = DELETE")
            .execute(&mut snapshot)
            .await?;
        let inventory_path = to.join("inventory.tsv.partial");
        let mut inventory = std::io::BufWriter::new(
            std::fs::File::create(&inventory_path).map_err(io(&inventory_path))?,
        );
        let mut report = BackupReport::default();
        let mut after = String::new();
        loop {
            let page = db::inventory::objects_after(&mut snapshot, &after, PAGE).await?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            for (sha, size) in page {
                let target = to.join("objects").join(object_rel(&sha)?);
                self.back_up_object(&sha, size, &target, &mut report)
                    .await?;
                writeln!(inventory, "{sha}\t{size}").map_err(io(&inventory_path))?;
                report.objects += 1;
                report.bytes += size;
            }
        }
        snapshot.close().await?;
        let file = inventory.into_inner().map_err(|e| BackupError::Io {
            path: inventory_path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io(&inventory_path))?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(io(&partial))?;
        // The new catalogue replaces the old only now that all it lists is here.
        std::fs::rename(&inventory_path, to.join("inventory.tsv")).map_err(io(to))?;
        std::fs::rename(&partial, to.join("catalogue.db")).map_err(io(to))?;
        let about = serde_json::json!({
            "arca_version": env!("CARGO_PKG_VERSION"),
            "created_at": jiff::Timestamp::now().to_string(),
            "objects": report.objects,
            "bytes": report.bytes,
        });
        std::fs::write(to.join("backup.json"), format!("{about:#}\n")).map_err(io(to))?;
        sync_dir(to)?;
        Ok(report)
    }

    async fn back_up_object(
        &self,
        sha: &str,
        size: u64,
        target: &Path,
        report: &mut BackupReport,
    ) -> BackupResult<()> {
        if std::fs::metadata(target).is_ok_and(|m| m.len() == size) {
            report.kept += 1;
            return Ok(());
        }
        let dir = target.parent().expect("object paths have a parent");
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let _ = std::fs::remove_file(target);
        if let Some(source) = self.storage.local_object_path(sha)
            && std::fs::hard_link(&source, target).is_ok()
        {
            let linked = std::fs::metadata(target).map_err(io(target))?.len();
            if linked != size {
                let _ = std::fs::remove_file(target);
                return Err(BackupError::Object {
                    sha256: sha.to_owned(),
                    problem: format!("stored with {linked} bytes, the catalogue says {size}"),
                });
            }
            report.linked += 1;
            return Ok(());
        }
        // Another file system, or S3: copy, hashing as the bytes pass.
        let mut stream = self
            .storage
            .read(sha, None, crate::storage::STREAM_CHUNK)
            .await?;
        let mut out = HashedCopy::create(target)?;
        while let Some(chunk) = stream.next().await {
            out.write(&chunk?)?;
        }
        out.finish(sha, size, "read")?;
        report.copied += 1;
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> BackupResult<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

#[derive(Debug, Default)]
pub struct RestoreReport {
    pub objects: u64,
    pub bytes: u64,
}

/// `arca restore --from DIR --data-dir NEW`: a new embedded archive from a backup. Every
/// object is copied and hashed against its name and size; the catalogue is put in place
/// last, so a restore cut short leaves no archive that looks whole. On an error, what this
/// restore created is removed.
pub fn restore(from: &Path, data_dir: &Path) -> BackupResult<RestoreReport> {
    let catalogue = from.join("catalogue.db");
    let inventory = from.join("inventory.tsv");
    if !catalogue.is_file() || !inventory.is_file() {
        return Err(BackupError::NotABackup(from.to_owned()));
    }
    let existed = data_dir.exists();
    if existed
        && std::fs::read_dir(data_dir)
            .map_err(io(data_dir))?
            .next()
            .is_some()
    {
        return Err(BackupError::NotEmpty(data_dir.to_owned()));
    }
    let result = restore_into(from, data_dir, &catalogue, &inventory);
    if result.is_err() {
        if existed {
            if let Ok(entries) = std::fs::read_dir(data_dir) {
                for e in entries.flatten() {
                    let _ = std::fs::remove_dir_all(e.path())
                        .or_else(|_| std::fs::remove_file(e.path()));
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(data_dir);
        }
    }
    result
}

fn restore_into(
    from: &Path,
    data_dir: &Path,
    catalogue: &Path,
    inventory: &Path,
) -> BackupResult<RestoreReport> {
    let mut report = RestoreReport::default();
    let lines = std::io::BufReader::new(std::fs::File::open(inventory).map_err(io(inventory))?);
    for (i, line) in lines.lines().enumerate() {
        let line = line.map_err(io(inventory))?;
        let bad = |problem: &str| BackupError::Inventory {
            line: i + 1,
            problem: problem.to_owned(),
        };
        let (sha, size) = line
            .split_once('\t')
            .ok_or_else(|| bad("not <sha256>\\t<size>"))?;
        let size: u64 = size.parse().map_err(|_| bad("the size is not a number"))?;
        let rel = object_rel(sha)?;
        let source = from.join("objects").join(&rel);
        let target = data_dir.join("objects").join(&rel);
        let dir = target.parent().expect("object paths have a parent");
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        copy_hashed(&source, &target, sha, size)?;
        report.objects += 1;
        report.bytes += size;
    }
    let partial = data_dir.join("arca.db.partial");
    std::fs::copy(catalogue, &partial).map_err(io(&partial))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io(&partial))?;
    std::fs::rename(&partial, data_dir.join("arca.db")).map_err(io(data_dir))?;
    sync_dir(data_dir)?;
    Ok(report)
}

/// Copy `source` to `target`, refusing bytes whose SHA-256 or size differ from the name's.
fn copy_hashed(source: &Path, target: &Path, sha: &str, size: u64) -> BackupResult<()> {
    let mut input = std::fs::File::open(source).map_err(|e| BackupError::Object {
        sha256: sha.to_owned(),
        problem: format!("not in the backup ({})", e.kind()),
    })?;
    let mut out = HashedCopy::create(target)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut input, &mut buf).map_err(io(source))?;
        if n == 0 {
            break;
        }
        out.write(&buf[..n])?;
    }
    out.finish(sha, size, "the backup's copy has")
}

/// An object's bytes written beside `target` and hashed as they pass; `finish` puts them
/// in place only when their SHA-256 and size are the object's.
struct HashedCopy {
    target: PathBuf,
    tmp: PathBuf,
    out: std::fs::File,
    hasher: Hasher,
    written: u64,
}

impl HashedCopy {
    fn create(target: &Path) -> BackupResult<Self> {
        let tmp = target.with_extension("partial");
        let out = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        Ok(Self {
            target: target.to_owned(),
            tmp,
            out,
            hasher: Hasher::new(Algorithm::Sha256),
            written: 0,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> BackupResult<()> {
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        self.out.write_all(bytes).map_err(io(&self.tmp))
    }

    /// `what` starts the refusal: "read" or "the backup's copy has".
    fn finish(self, sha: &str, size: u64, what: &str) -> BackupResult<()> {
        self.out.sync_all().map_err(io(&self.tmp))?;
        let got = self.hasher.finish().hex;
        if self.written != size || got != sha {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(BackupError::Object {
                sha256: sha.to_owned(),
                problem: format!(
                    "{what} {} bytes hashing to {got}; expected {size} bytes",
                    self.written
                ),
            });
        }
        std::fs::rename(&self.tmp, &self.target).map_err(io(&self.target))
    }
}
