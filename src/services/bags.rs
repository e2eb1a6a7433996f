//! BagIt (RFC 8493) export of released datasets and import of bags as new deposits.

use super::deposits::{DepositEvent, record_event};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::db::{self, files::ExpectedRow, files::FileRow, now_ms, versions::VersionRow};
use crate::metadata::citation::datacite_text;
use crate::metadata::datacite::xml::{from_xml, to_xml};
use crate::metadata::schema::check_deposit;
use crate::model::bagit::{self, BAGIT_TXT, PayloadFile, ReadBag};
use crate::model::checksum::{Algorithm, Checksum, Hasher, ResumableSha256};
use crate::model::tar_scan::{TarScan, TarScanError};
use crate::model::{DepositState, ids};
use crate::storage::staging::StagingWriter;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Tag files are small: a bag whose tag files hold more than this in all is refused.
const TAG_BYTES_LIMIT: u64 = 64 << 20;
/// Entries (files and directories) in one bag.
pub const MAX_BAG_ENTRIES: usize = 1_000_000;
/// Problems listed for one refused bag; the rest are counted.
const MAX_PROBLEMS: usize = 100;

/// A bag problem list that stays bounded however broken the bag is.
#[derive(Default)]
struct Problems {
    listed: Vec<String>,
    more: usize,
}

impl Problems {
    fn push(&mut self, p: String) {
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(p);
        } else {
            self.more += 1;
        }
    }

    fn into_list(mut self) -> Vec<String> {
        if self.more > 0 {
            self.listed
                .push(format!("… and {} more problem(s)", self.more));
        }
        self.listed
    }
}

/// A read error inside the archive: the bag was cut short or is not a tar archive.
fn damaged(e: std::io::Error) -> ServiceError {
    ServiceError::invalid(
        "body",
        format!("the tar archive is damaged or incomplete: {e}"),
    )
}

fn scan_refusal(e: TarScanError) -> ServiceError {
    match e {
        TarScanError::TooLarge { limit } => ServiceError::TooLarge(format!(
            "the bag is larger than the limit of {limit} bytes ([uploads] max_bag_size)"
        )),
        e => ServiceError::invalid("body", e.to_string()),
    }
}

/// The request body on its way to the tar reader, its headers checked as they pass
/// ([`TarScan`]): what the reader buffers stays bounded.
struct ScannedTar<R> {
    inner: R,
    scan: TarScan,
    error: ScanError,
}

type ScanError = std::sync::Arc<std::sync::Mutex<Option<TarScanError>>>;

impl<R> ScannedTar<R> {
    fn new(inner: R, limit: u64) -> (Self, ScanError) {
        let error = ScanError::default();
        let me = Self {
            inner,
            scan: TarScan::new(limit),
            error: error.clone(),
        };
        (me, error)
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ScannedTar<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let me = &mut *self;
        std::task::ready!(std::pin::Pin::new(&mut me.inner).poll_read(cx, buf))?;
        if let Err(e) = me.scan.feed(&buf.filled()[before..]) {
            let message = e.to_string();
            if let Ok(mut slot) = me.error.lock() {
                *slot = Some(e);
            }
            return std::task::Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                message,
            )));
        }
        std::task::Poll::Ready(Ok(()))
    }
}

/// What an exported bag holds: its tag files (written first) and its payload (streamed
/// from storage).
pub struct BagPlan {
    /// The bag's directory name inside the tar.
    pub name: String,
    pub tag_files: Vec<(String, Vec<u8>)>,
    /// (path inside data/, sha256, size)
    pub payload: Vec<(String, String, u64)>,
    pub mtime: u64,
}

fn tar_header(size: u64, mtime: u64) -> tokio_tar::Header {
    let mut h = tokio_tar::Header::new_gnu();
    h.set_entry_type(tokio_tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(mtime);
    h
}

impl Services {
    /// Write a bag as a tar stream into `out`: tag files, then each payload file read
    /// straight from storage (no temporary copy).
    pub async fn write_bag(
        &self,
        plan: &BagPlan,
        out: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
    ) -> std::io::Result<()> {
        use futures::TryStreamExt;
        let mut tar = tokio_tar::Builder::new(out);
        for (name, bytes) in &plan.tag_files {
            let mut h = tar_header(bytes.len() as u64, plan.mtime);
            tar.append_data(&mut h, format!("{}/{name}", plan.name), &bytes[..])
                .await?;
        }
        for (path, sha256, size) in &plan.payload {
            let stream = self
                .storage
                .read(sha256, None, crate::storage::STREAM_CHUNK)
                .await
                .map_err(std::io::Error::other)?
                .map_err(std::io::Error::other);
            let mut h = tar_header(*size, plan.mtime);
            tar.append_data(
                &mut h,
                format!("{}/data/{path}", plan.name),
                tokio_util::io::StreamReader::new(stream),
            )
            .await?;
        }
        tar.finish().await
    }

    /// The bag of a released dataset's current version.
    pub async fn bag_export(&self, dataset_id: &str) -> ServiceResult<BagPlan> {
        let d = self.public_dataset(dataset_id).await?;
        let mut payload = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.public_files(&d, &after, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.path.clone();
            payload.extend(page.into_iter().map(|f| (f.path, f.sha256, f.size as u64)));
        }
        let bytes: u64 = payload.iter().map(|(_, _, s)| s).sum();
        let manifest: String = payload
            .iter()
            .map(|(p, sha, _)| bagit::manifest_line(sha, p))
            .collect();
        let r = &d.record;
        let mut info = vec![
            (
                "Source-Organization",
                r.publisher
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
            ),
            ("Bagging-Date", crate::model::date::utc_day(now_ms())),
            ("Payload-Oxum", format!("{bytes}.{}", payload.len())),
            (
                "Bag-Software-Agent",
                format!("Arca {}", env!("CARGO_PKG_VERSION")),
            ),
            ("External-Description", crate::metadata::citation::title(r)),
            ("Citation", datacite_text(r)),
        ];
        if let Some(doi) = &r.doi {
            info.push((
                "External-Identifier",
                format!("https://doi.org/{}", doi.to_lowercase()),
            ));
        }
        let tag_files = vec![
            ("bagit.txt".to_owned(), BAGIT_TXT.as_bytes().to_vec()),
            (
                "bag-info.txt".to_owned(),
                bagit::bag_info(&info).into_bytes(),
            ),
            ("manifest-sha256.txt".to_owned(), manifest.into_bytes()),
            ("metadata/datacite.xml".to_owned(), to_xml(r).into_bytes()),
        ];
        let tagmanifest: String = tag_files
            .iter()
            .map(|(name, bytes)| {
                format!("{}  {name}\n", Checksum::of(Algorithm::Sha256, bytes).hex)
            })
            .collect();
        let mut tag_files = tag_files;
        tag_files.push(("tagmanifest-sha256.txt".into(), tagmanifest.into_bytes()));
        Ok(BagPlan {
            name: format!("arca-{dataset_id}"),
            tag_files,
            payload,
            mtime: (d.released_at.unwrap_or_default() / 1000).max(0) as u64,
        })
    }

    /// Stage one payload file from the bag, hashed with every algorithm. Nothing is
    /// stored as an object until the whole bag has been checked.
    async fn stage_payload(
        &self,
        entry: &mut (impl AsyncRead + Unpin),
        staging: &std::path::Path,
    ) -> ServiceResult<PayloadFile> {
        let mut w = StagingWriter::open(staging, 0, ResumableSha256::new(), None).await?;
        let mut others: Vec<Hasher> = Algorithm::ALL
            .iter()
            .filter(|a| **a != Algorithm::Sha256)
            .map(|a| Hasher::new(*a))
            .collect();
        let max = self.config.uploads.max_size;
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        let result = async {
            loop {
                let n = entry.read(&mut buf).await.map_err(damaged)?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > max {
                    return Err(ServiceError::TooLarge(format!(
                        "a file in the bag is larger than the limit of {max} bytes per file ([uploads] max_size)"
                    )));
                }
                others.iter_mut().for_each(|h| h.update(&buf[..n]));
                w.write(bytes::Bytes::copy_from_slice(&buf[..n])).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            w.abort().await;
            return Err(e);
        }
        let done = w.finish().await?;
        let mut checksums = vec![done.sha256.finish()];
        checksums.extend(others.into_iter().map(Hasher::finish));
        Ok(PayloadFile {
            size: done.written,
            checksums,
        })
    }

    /// Import a bag (a tar stream) as a new draft deposit owned by `actor`. Every
    /// manifest, the tag manifests and Payload-Oxum are checked first; a bag with any
    /// problem is refused with all of them, and neither a deposit nor a stored object
    /// appears. The payload is staged while the bag streams in and becomes objects only
    /// once the bag has passed.
    pub async fn import_bag(
        &self,
        actor: &Actor,
        tar: impl AsyncRead + Unpin + Send,
    ) -> ServiceResult<VersionRow> {
        let mut staged = Vec::new();
        let result = self.import_staged(actor, tar, &mut staged).await;
        for (path, _) in &staged {
            crate::storage::remove_if_present(path).await?;
        }
        result
    }

    async fn import_staged(
        &self,
        actor: &Actor,
        tar: impl AsyncRead + Unpin + Send,
        staged: &mut Vec<(std::path::PathBuf, String)>,
    ) -> ServiceResult<VersionRow> {
        let limit = self.config.uploads.max_bag_size;
        let (tar, scan_error) = ScannedTar::new(tar, limit);
        let refused = || scan_error.lock().ok().and_then(|mut e| e.take());
        let mut archive = tokio_tar::Archive::new(tar);
        let mut entries = archive
            .entries()
            .map_err(|e| ServiceError::invalid("body", format!("not a tar archive: {e}")))?;
        let mut bag = ReadBag::default();
        let mut problems = Problems::default();
        let mut root: Option<String> = None;
        let mut tag_bytes = 0u64;
        let mut count = 0usize;
        while let Some(entry) = entries.next().await {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => return Err(refused().map_or_else(|| damaged(e), scan_refusal)),
            };
            count += 1;
            if count > MAX_BAG_ENTRIES {
                return Err(ServiceError::TooLarge(format!(
                    "the bag has more than the limit of {MAX_BAG_ENTRIES} entries"
                )));
            }
            let kind = entry.header().entry_type();
            let raw = entry
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = raw.trim_start_matches("./").to_owned();
            if kind.is_dir() || path.is_empty() {
                continue;
            }
            if !kind.is_file() {
                problems.push(format!("{path}: links and special files are not accepted"));
                continue;
            }
            // The bag is the archive's top level, or one directory holding it.
            let (this_root, rel) = match path.split_once('/') {
                Some((first, rest)) if first != "data" => (format!("{first}/"), rest.to_owned()),
                _ => (String::new(), path.clone()),
            };
            match &root {
                None => root = Some(this_root),
                Some(r) if *r != this_root => {
                    problems.push(format!("{path}: outside the bag's directory '{r}'"));
                    continue;
                }
                Some(_) => {}
            }
            if let Some(p) = rel.strip_prefix("data/") {
                let key = match bagit::payload_path(p) {
                    Ok(dp) => dp.as_str().to_owned(),
                    Err(e) => {
                        problems.push(e);
                        continue;
                    }
                };
                let at = self.storage.staging_path(&format!("bag-{}", ids::new_id()));
                let file = match self.stage_payload(&mut entry, &at).await {
                    Ok(f) => f,
                    Err(e) => {
                        crate::storage::remove_if_present(&at).await?;
                        return Err(refused().map_or(e, scan_refusal));
                    }
                };
                staged.push((at, file.checksums[0].hex.clone()));
                if bag.payload.insert(key.clone(), file).is_some() {
                    problems.push(format!("data/{key} appears twice"));
                }
            } else {
                let size = entry.effective_size();
                tag_bytes = tag_bytes.saturating_add(size);
                if tag_bytes > TAG_BYTES_LIMIT {
                    return Err(ServiceError::TooLarge(format!(
                        "the bag's tag files hold more than the limit of {TAG_BYTES_LIMIT} bytes"
                    )));
                }
                let mut bytes = Vec::with_capacity(size as usize);
                if let Err(e) = entry.read_to_end(&mut bytes).await {
                    return Err(refused().map_or_else(|| damaged(e), scan_refusal));
                }
                bag.tag_files.insert(rel, bytes);
            }
        }
        let mut problems = problems.into_list();
        let checked = bagit::check(&bag);
        let checked = match checked {
            Ok(c) if problems.is_empty() => c,
            Ok(_) => return Err(ServiceError::InvalidBag(problems)),
            Err(more) => {
                problems.extend(more);
                return Err(ServiceError::InvalidBag(problems));
            }
        };
        let name = root.unwrap_or_default().trim_end_matches('/').to_owned();
        let metadata = bag_metadata(&bag, &checked.info, &name)?;
        check_deposit(&metadata, &json!({})).map_err(ServiceError::InvalidMetadata)?;

        // The bag passed: its payload becomes objects (a file the archive holds already
        // is not stored again).
        for (at, sha256) in staged.iter() {
            let size = tokio::fs::metadata(at).await?.len();
            let mut conn = self.db.conn().await?;
            let claimed = db::files::claim_object(&mut conn, sha256, size as i64, now_ms()).await?;
            drop(conn);
            if !claimed {
                return Err(ServiceError::Conflict(
                    "the archive is removing an old copy of some of these bytes: send the bag again in a moment".into(),
                ));
            }
            self.storage.ingest_staged(at, sha256, size).await?;
        }

        let now = now_ms();
        let v = VersionRow::first_draft(&actor.id, metadata, json!({}), now);
        let mut tx = self.db.begin_write().await?;
        db::versions::insert_new_dataset(&mut tx, &v).await?;
        for (path, f) in &bag.payload {
            let sha = &f.checksums[0].hex;
            if !db::files::claim_object(&mut tx, sha, f.size as i64, now).await? {
                return Err(ServiceError::Conflict(
                    "the archive is removing an old copy of some of these bytes: send the bag again in a moment".into(),
                ));
            }
            db::files::insert(
                &mut tx,
                &FileRow {
                    id: ids::new_id(),
                    version_id: v.id.clone(),
                    path: path.clone(),
                    size: f.size as i64,
                    sha256: sha.clone(),
                    status: "received".into(),
                    problem: None,
                    verified_at: None,
                },
                now,
            )
            .await?;
        }
        // The bag's own checksums become the deposit's manifest: verification checks
        // the stored bytes against them again.
        for m in &checked.manifests {
            for (path, c) in &m.entries {
                let row = ExpectedRow {
                    path: path.as_str().to_owned(),
                    algorithm: c.algorithm.as_str().to_owned(),
                    digest: c.hex.clone(),
                    source: "manifest".into(),
                };
                db::files::add_expected(&mut tx, &v.id, &row).await?;
            }
        }
        let event = DepositEvent {
            version_id: &v.id,
            actor_id: Some(&actor.id),
            kind: "create",
            states: Some((None, DepositState::Draft)),
            reason: Some(format!(
                "imported from the bag '{name}': {} file(s), every manifest checked",
                bag.payload.len()
            )),
        };
        record_event(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(v)
    }
}

/// The deposit metadata a bag carries: its DataCite XML tag file (as Arca exports), else
/// what bag-info.txt says. The old DOI is not kept: the deposit gets its own.
fn bag_metadata(bag: &ReadBag, info: &[(String, String)], name: &str) -> ServiceResult<Value> {
    if let Some(xml) = bag.tag_files.get("metadata/datacite.xml") {
        let mut r = from_xml(&String::from_utf8_lossy(xml))
            .map_err(|e| ServiceError::InvalidBag(vec![format!("metadata/datacite.xml: {e}")]))?;
        r.doi = None;
        let mut v = serde_json::to_value(&r).map_err(|e| ServiceError::Internal(e.to_string()))?;
        if let Some(o) = v.as_object_mut() {
            o.remove("doi");
        }
        return Ok(v);
    }
    let get = |label: &str| {
        info.iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.clone())
    };
    let title = get("Title")
        .or_else(|| get("External-Description"))
        .unwrap_or_else(|| {
            if name.is_empty() {
                "Imported bag".into()
            } else {
                name.to_owned()
            }
        });
    let mut m =
        json!({ "titles": [{ "title": title }], "types": {"resourceTypeGeneral": "Dataset"} });
    if let Some(org) = get("Source-Organization") {
        m["publisher"] = json!({ "name": org });
    }
    if let Some(contact) = get("Contact-Name") {
        m["creators"] = json!([{ "name": contact }]);
    }
    if let Some(desc) = get("External-Description") {
        m["descriptions"] = json!([{ "description": desc, "descriptionType": "Abstract" }]);
    }
    Ok(m)
}
