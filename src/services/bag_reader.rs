//! Reading a bag from a tar stream, with every size and count bounded, and deciding
//! whether it is acceptable. Where the payload goes is the caller's (a [`PayloadSink`]):
//! staging files for an import, memory for the fuzz target. Nothing here writes to the
//! catalogue.

use super::{ServiceError, ServiceResult};
use crate::metadata::datacite::xml::from_xml;
use crate::metadata::schema::check_deposit;
use crate::model::bagit::{self, CheckedBag, PayloadFile, ReadBag};
use crate::model::tar_scan::{TarScan, TarScanError};
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
pub(super) fn damaged(e: std::io::Error) -> ServiceError {
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

/// Where payload files go as the bag streams in.
pub trait PayloadSink {
    /// Take one payload file's bytes; return its size and checksums (every algorithm).
    fn take(
        &mut self,
        entry: &mut (impl AsyncRead + Unpin + Send),
    ) -> impl std::future::Future<Output = ServiceResult<PayloadFile>> + Send;
}

/// A bag as read: its files, its root directory, and what was wrong along the way.
pub struct ReadResult {
    pub bag: ReadBag,
    pub root: Option<String>,
    pub problems: Vec<String>,
}

/// Read a tar stream of at most `max_bytes` into a bag, payload into `sink`.
pub async fn read_bag(
    tar: impl AsyncRead + Unpin + Send,
    max_bytes: u64,
    sink: &mut impl PayloadSink,
) -> ServiceResult<ReadResult> {
    let (tar, scan_error) = ScannedTar::new(tar, max_bytes);
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
            let file = match sink.take(&mut entry).await {
                Ok(f) => f,
                Err(e) => return Err(refused().map_or(e, scan_refusal)),
            };
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
    Ok(ReadResult {
        bag,
        root,
        problems: problems.into_list(),
    })
}

/// A bag that passed: every manifest checked, and the deposit metadata it carries.
pub struct AcceptedBag {
    pub bag: ReadBag,
    pub checked: CheckedBag,
    pub metadata: Value,
    /// The bag's directory name (empty for a bag at the archive's top level).
    pub name: String,
}

/// Check a read bag completely: BagIt (manifests, tag manifests, Payload-Oxum), then
/// the metadata it carries. Every BagIt problem is listed at once.
pub fn accept(read: ReadResult) -> ServiceResult<AcceptedBag> {
    let ReadResult {
        bag,
        root,
        mut problems,
    } = read;
    let checked = match bagit::check(&bag) {
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
    Ok(AcceptedBag {
        bag,
        checked,
        metadata,
        name,
    })
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
