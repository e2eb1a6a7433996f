//! BagIt (RFC 8493) export of released datasets and import of bags as new deposits.

use super::bag_reader;
use super::events::{DepositEvent, record_event};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, files::ExpectedRow, files::FileRow, now_ms, versions::VersionRow};
use crate::metadata::citation::datacite_text;
use crate::metadata::datacite::xml::to_xml;
use crate::model::bagit::{self, BAGIT_TXT, PayloadFile};
use crate::model::checksum::{Algorithm, Checksum, Hasher, ResumableSha256};
use crate::model::{DepositState, ids};
use crate::storage::staging::StagingWriter;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt};

/// What an exported bag holds: its tag files and, read a page at a time while the tar
/// is written, its manifest and payload. Nothing here grows with the number of files.
///
/// The tar layout is fixed by the released version (dates are the release's), so the
/// bag's length is known before it is sent and any byte range of it can be written
/// again: a broken download resumes.
pub struct BagPlan {
    /// The bag's directory name inside the tar.
    pub name: String,
    /// bagit.txt and bag-info.txt, then (after the manifest) the other tag files.
    pub head_tags: Vec<(String, Vec<u8>)>,
    pub tail_tags: Vec<(String, Vec<u8>)>,
    /// The size of manifest-sha256.txt, counted while its SHA-256 was taken.
    pub manifest_size: u64,
    dataset: super::public::PublicDataset,
    pub mtime: u64,
    /// Bytes in the whole tar stream.
    pub length: u64,
    /// Names these bytes: the SHA-256 of the tag manifest (which covers the payload
    /// manifest and bag-info.txt).
    pub etag: String,
}

impl BagPlan {
    /// The released version the bag holds.
    pub fn version_id(&self) -> &str {
        self.dataset.version_id()
    }
}

/// Files read per page while a bag is planned and written.
const BAG_PAGE: i64 = 1_000;
/// Tar's block, and the two zero blocks that end an archive.
const BLOCK: u64 = 512;
const TRAILER: u64 = 2 * BLOCK;

fn tar_header(size: u64, mtime: u64) -> tokio_tar::Header {
    let mut h = tokio_tar::Header::new_gnu();
    h.set_entry_type(tokio_tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(mtime);
    h
}

/// The bytes tar writes before an entry's data: its header, after a GNU long-name
/// entry when the path needs one (written by the tar crate itself).
async fn entry_head(path: &str, size: u64, mtime: u64) -> std::io::Result<Vec<u8>> {
    let mut tar = tokio_tar::Builder::new(Vec::new());
    let mut h = tar_header(size, mtime);
    tar.append_data(&mut h, path, tokio::io::empty()).await?;
    let head = std::mem::take(tar.get_mut());
    // Finished (its trailer goes nowhere), so dropping it has nothing left to do.
    tar.finish().await?;
    Ok(head)
}

/// Zeros after `size` bytes of data, to the end of the block.
fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// The part `[start, end)` of a tar stream, written as the pieces pass by.
struct Window<W> {
    out: W,
    pos: u64,
    start: u64,
    end: u64,
}

impl<W: tokio::io::AsyncWrite + Unpin> Window<W> {
    /// The part of the next `len` bytes to write, relative to them.
    fn overlap(&self, len: u64) -> Option<std::ops::Range<u64>> {
        let a = self.start.max(self.pos);
        let b = self.end.min(self.pos + len);
        (a < b).then(|| a - self.pos..b - self.pos)
    }

    async fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        if let Some(r) = self.overlap(b.len() as u64) {
            self.out
                .write_all(&b[r.start as usize..r.end as usize])
                .await?;
        }
        self.pos += b.len() as u64;
        Ok(())
    }

    async fn zeros(&mut self, n: u64) -> std::io::Result<()> {
        const Z: [u8; BLOCK as usize] = [0; BLOCK as usize];
        let mut left = n;
        while left > 0 {
            let k = left.min(BLOCK);
            self.bytes(&Z[..k as usize]).await?;
            left -= k;
        }
        Ok(())
    }

    fn done(&self) -> bool {
        self.pos >= self.end
    }
}
super::capability!(bags);

impl Service<'_> {
    /// Write bytes `range` of a bag's tar stream into `out`: tag files, the manifest and
    /// then each payload file read straight from storage (no temporary copy). Pieces
    /// before the range are passed over unread.
    pub async fn write(
        &self,
        plan: &BagPlan,
        range: std::ops::Range<u64>,
        out: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
    ) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        let mut w = Window {
            out,
            pos: 0,
            start: range.start,
            end: range.end.min(plan.length),
        };
        let io = |e: ServiceError| std::io::Error::other(e.to_string());
        let entry = async |w: &mut Window<_>, name: &str, bytes: &[u8]| {
            let path = format!("{}/{name}", plan.name);
            let head = entry_head(&path, bytes.len() as u64, plan.mtime).await?;
            w.bytes(&head).await?;
            w.bytes(bytes).await?;
            w.zeros(padding(bytes.len() as u64)).await
        };
        for (name, bytes) in &plan.head_tags {
            entry(&mut w, name, bytes).await?;
        }
        // The manifest, a page of lines at a time; its size was counted when planned.
        let path = format!("{}/manifest-sha256.txt", plan.name);
        w.bytes(&entry_head(&path, plan.manifest_size, plan.mtime).await?)
            .await?;
        if w.overlap(plan.manifest_size).is_some() {
            let mut after = Some(String::new());
            loop {
                let page = self
                    .next_page(&plan.dataset, &mut after)
                    .await
                    .map_err(io)?;
                if page.is_empty() {
                    break;
                }
                let lines: String = page
                    .iter()
                    .map(|f| bagit::manifest_line(&f.sha256, &f.path))
                    .collect();
                w.bytes(lines.as_bytes()).await?;
            }
        } else {
            w.pos += plan.manifest_size;
        }
        w.zeros(padding(plan.manifest_size)).await?;
        for (name, bytes) in &plan.tail_tags {
            entry(&mut w, name, bytes).await?;
        }
        let mut after = Some(String::new());
        while !w.done() {
            let page = self
                .next_page(&plan.dataset, &mut after)
                .await
                .map_err(io)?;
            if page.is_empty() {
                break;
            }
            for f in &page {
                let size = f.size as u64;
                let path = format!("{}/data/{}", plan.name, f.path);
                w.bytes(&entry_head(&path, size, plan.mtime).await?).await?;
                match w.overlap(size) {
                    Some(part) => {
                        let mut stream = self
                            .storage
                            .read(&f.sha256, Some(part.clone()), crate::storage::STREAM_CHUNK)
                            .await
                            .map_err(std::io::Error::other)?;
                        let mut sent = 0u64;
                        use futures::StreamExt;
                        while let Some(chunk) = stream.next().await {
                            let chunk = chunk.map_err(std::io::Error::other)?;
                            sent += chunk.len() as u64;
                            w.out.write_all(&chunk).await?;
                        }
                        if sent != part.end - part.start {
                            return Err(std::io::Error::other(format!(
                                "{}: storage gave {sent} bytes of {}",
                                f.path,
                                part.end - part.start
                            )));
                        }
                        w.pos += size;
                    }
                    None => w.pos += size,
                }
                w.zeros(padding(size)).await?;
                if w.done() {
                    break;
                }
            }
        }
        w.zeros(TRAILER).await?;
        w.out.flush().await?;
        w.out.shutdown().await
    }

    /// The next page of a version's files after `after`, which moves on; empty once every
    /// file was read (`after` is then None).
    async fn next_page(
        &self,
        d: &super::public::PublicDataset,
        after: &mut Option<String>,
    ) -> ServiceResult<Vec<FileRow>> {
        let Some(from) = after.take() else {
            return Ok(Vec::new());
        };
        let page = self.public().files(d, &from, BAG_PAGE).await?;
        if page.len() as i64 == BAG_PAGE {
            *after = page.last().map(|f| f.path.clone());
        }
        Ok(page)
    }

    /// The bag of a released dataset's current version. The file list is read once
    /// here, a page at a time, for the manifest's size and checksum (the tag manifest
    /// comes before the payload) and the length of the tar stream, and again while the
    /// bag is written: a released version's files do not change.
    pub async fn export(&self, dataset_id: &str) -> ServiceResult<BagPlan> {
        let d = self.public().dataset(dataset_id).await?;
        let name = format!("arca-{dataset_id}");
        let mtime = (d.released_at.unwrap_or_default() / 1000).max(0) as u64;
        let (mut count, mut bytes, mut manifest_size) = (0u64, 0u64, 0u64);
        let mut payload_length = 0u64;
        let mut manifest_sha = Hasher::new(Algorithm::Sha256);
        let mut after = Some(String::new());
        let internal = |e: std::io::Error| ServiceError::Internal(e.to_string());
        loop {
            let page = self.next_page(&d, &mut after).await?;
            if page.is_empty() {
                break;
            }
            for f in &page {
                let line = bagit::manifest_line(&f.sha256, &f.path);
                manifest_sha.update(line.as_bytes());
                manifest_size += line.len() as u64;
                count += 1;
                bytes += f.size as u64;
                let size = f.size as u64;
                let path = format!("{name}/data/{}", f.path);
                let head = entry_head(&path, size, mtime).await.map_err(internal)?;
                payload_length += head.len() as u64 + size + padding(size);
            }
        }
        let r = &d.record;
        let mut info = vec![
            (
                "Source-Organization",
                r.publisher
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
            ),
            // The release's day: the same bag, byte for byte, on every request.
            (
                "Bagging-Date",
                crate::model::date::utc_day(d.released_at.unwrap_or_default()),
            ),
            ("Payload-Oxum", format!("{bytes}.{count}")),
            (
                "Bag-Software-Agent",
                format!("Arca {}", env!("CARGO_PKG_VERSION")),
            ),
            ("External-Description", crate::metadata::citation::title(r)),
            ("Citation", datacite_text(r)),
            // Where each file can be fetched on its own (mirrors included), so a broken
            // bag download need not be the only way to the data.
            (
                "Download-Manifest",
                format!(
                    "{}/datasets/{dataset_id}/manifest.json?version={}",
                    self.config.public_base(),
                    d.version.version_number
                ),
            ),
        ];
        if let Some(doi) = &r.doi {
            info.push((
                "External-Identifier",
                format!("https://doi.org/{}", doi.to_lowercase()),
            ));
        }
        let head_tags = vec![
            ("bagit.txt".to_owned(), BAGIT_TXT.as_bytes().to_vec()),
            (
                "bag-info.txt".to_owned(),
                bagit::bag_info(&info).into_bytes(),
            ),
        ];
        let datacite = ("metadata/datacite.xml".to_owned(), to_xml(r).into_bytes());
        let manifest_hex = manifest_sha.finish().hex;
        let mut tagmanifest: String = head_tags
            .iter()
            .chain(std::iter::once(&datacite))
            .map(|(name, bytes)| {
                format!("{}  {name}\n", Checksum::of(Algorithm::Sha256, bytes).hex)
            })
            .collect();
        tagmanifest.push_str(&format!("{manifest_hex}  manifest-sha256.txt\n"));
        let etag = Checksum::of(Algorithm::Sha256, tagmanifest.as_bytes()).hex;
        let tail_tags = vec![
            datacite,
            ("tagmanifest-sha256.txt".into(), tagmanifest.into_bytes()),
        ];
        let mut length = payload_length + TRAILER;
        let tags = head_tags
            .iter()
            .chain(tail_tags.iter())
            .map(|(n, b)| (format!("{name}/{n}"), b.len() as u64))
            .chain(std::iter::once((
                format!("{name}/manifest-sha256.txt"),
                manifest_size,
            )));
        for (path, size) in tags {
            let head = entry_head(&path, size, mtime).await.map_err(internal)?;
            length += head.len() as u64 + size + padding(size);
        }
        Ok(BagPlan {
            name,
            head_tags,
            tail_tags,
            manifest_size,
            mtime,
            length,
            etag,
            dataset: d,
        })
    }

    /// Import a bag (a tar stream) as a new draft deposit owned by `actor`. Every
    /// manifest, the tag manifests and Payload-Oxum are checked first; a bag with any
    /// problem is refused with all of them, and neither a deposit nor a stored object
    /// appears. The payload is staged while the bag streams in and becomes objects only
    /// once the bag has passed.
    pub async fn import(
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
        let mut sink = StagingSink {
            bags: *self,
            staged,
        };
        let read = bag_reader::read_bag(tar, self.config.uploads.max_bag_size, &mut sink).await?;
        let accepted = bag_reader::accept(read)?;
        let (bag, checked, metadata, name) = (
            accepted.bag,
            accepted.checked,
            accepted.metadata,
            accepted.name,
        );

        // The bag passed: its payload becomes objects (a file the archive holds already
        // is not stored again).
        for (at, sha256) in staged.iter() {
            let size = tokio::fs::metadata(at).await?.len();
            let mut conn = self.db.write_conn().await?;
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
                    version_id: v.id.to_string(),
                    path: path.clone(),
                    size: f.size as i64,
                    sha256: sha.clone(),
                    status: crate::model::FileStatus::Received,
                    problem: None,
                    verified_at: None,
                },
                now,
            )
            .await?;
            super::extraction::queue(&mut tx, sha, now).await?;
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
                "imported from the bag '{name}': {}, every manifest checked",
                crate::model::words::count(bag.payload.len() as u64, "file", "files")
            )),
        };
        record_event(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(v)
    }
}

/// Payload files of a bag being imported go to staging files on the server's disk.
struct StagingSink<'a> {
    bags: Service<'a>,
    staged: &'a mut Vec<(std::path::PathBuf, String)>,
}

impl bag_reader::PayloadSink for StagingSink<'_> {
    async fn take(
        &mut self,
        entry: &mut (impl AsyncRead + Unpin + Send),
    ) -> ServiceResult<PayloadFile> {
        let at = self
            .bags
            .storage
            .staging_path(&format!("bag-{}", ids::new_id()));
        match self.bags.stage_payload(entry, &at).await {
            Ok(f) => {
                self.staged.push((at, f.checksums[0].hex.clone()));
                Ok(f)
            }
            Err(e) => {
                crate::storage::remove_if_present(&at).await?;
                Err(e)
            }
        }
    }
}

impl Service<'_> {
    /// Stage one payload file from the bag, hashed with every algorithm. Nothing is
    /// stored as an object until the whole bag has been checked.
    async fn stage_payload(
        &self,
        entry: &mut (impl AsyncRead + Unpin),
        staging: &std::path::Path,
    ) -> ServiceResult<PayloadFile> {
        let mut w = StagingWriter::open(
            self.storage.bulk_slots(),
            staging,
            0,
            ResumableSha256::new(),
            None,
        )
        .await?;
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
                let n = entry.read(&mut buf).await.map_err(bag_reader::damaged)?;
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
}
