//! Resumable uploads (tus 1.0.0 semantics, independent of HTTP). Bytes are hashed as
//! they arrive and made durable before their offset is recorded (invariant 2); a
//! finished upload is moved into the content-addressed store and becomes a file of its
//! deposit.
//!
//! Any server may take any request of an upload: a writer holds a lease on the upload
//! in the catalogue, and the bytes are staged where every server sees them when storage
//! is S3 (a multipart upload, see [`in_store`]). On local storage the staging file is
//! on this server's disk; a request that finds fewer bytes there than were acknowledged
//! sets the upload back to what is there and says so, and nothing is ever zero-filled.
//!
//! Why the stored object always has the hash it is stored under: every byte is hashed
//! once, in order, by the writer that made it durable, and the hash state is recorded
//! in the same guarded update as the offset it belongs to; only the lease holder can
//! make that update, a local staging file is cut back to the recorded offset before a
//! write and checked against it before it is stored, and an S3 tail is read back by the
//! key recorded beside the offset (unique to its writer and offset).

mod in_store;

use super::deposits::{load_visible, require_editable};
use super::events::{DepositEvent, record_event};
use super::{Actor, ServiceError, ServiceResult, Services, may_edit};
use crate::db::{self, files::ExpectedRow, files::FileRow, now_ms, uploads::UploadRow};
use crate::model::checksum::{Algorithm, Checksum, ResumableSha256};
use crate::model::{DatasetPath, ids};
use crate::storage::{remove_if_present, staging::StagingWriter};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// A writer's hold on an upload lapses this long after its last renewal, so a server
/// killed mid-request frees the upload within this time; a request that finds the
/// upload held waits that long for it before it is refused.
const LEASE_MS: i64 = 5_000;
/// A writer renews its lease this often while bytes arrive.
const RENEW_EVERY_MS: i64 = 2_000;

/// One request's hold on an upload, in the catalogue.
struct Lease {
    owner: String,
    upload: String,
    /// When it was last renewed (ms since the epoch).
    renewed: AtomicI64,
}

/// What a client asks for when it creates an upload.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub deposit_id: String,
    pub filename: String,
    pub length: i64,
    /// The SHA-256 the client computed, if it sent one: the finished file must match.
    pub sha256: Option<String>,
    /// The raw `Upload-Metadata` header, kept to echo back.
    pub raw_metadata: String,
}

/// The bytes a creation request carries (tus creation-with-upload): the file's first
/// bytes, or all of them.
pub struct FirstBytes<S> {
    /// As the request declared it (None: a chunked body).
    pub content_length: Option<u64>,
    pub checksum: Option<ChunkChecksum>,
    pub body: S,
}

/// A tus `Upload-Checksum`: the checksum of one PATCH request's bytes.
#[derive(Debug, Clone)]
pub struct ChunkChecksum {
    pub algorithm: Algorithm,
    pub digest: Vec<u8>,
}

/// The PATCH requests writing right now, by upload and by account.
#[derive(Debug, Default)]
pub struct BusyUploads {
    uploads: std::collections::HashSet<String>,
    per_account: std::collections::HashMap<String, usize>,
}

/// Marks an upload as being written to, for as long as it lives.
struct BusyGuard<'a> {
    services: &'a Services,
    id: String,
    account: String,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.services.busy_uploads.lock() {
            busy.uploads.remove(&self.id);
            if let Some(n) = busy.per_account.get_mut(&self.account) {
                *n -= 1;
                if *n == 0 {
                    busy.per_account.remove(&self.account);
                }
            }
        }
    }
}

/// What a client refused for being over an upload limit should wait before trying again.
const BUSY_RETRY_SECONDS: u64 = 5;
super::capability!(uploads);

impl Service<'_> {
    /// How many PATCH requests are writing in this process now: of one account, or of
    /// all. Read only: asking takes nothing from a writer about to start.
    pub fn sending(&self, account: Option<&str>) -> usize {
        let Ok(busy) = self.busy_uploads.lock() else {
            return 0;
        };
        match account {
            Some(a) => busy.per_account.get(a).copied().unwrap_or(0),
            None => busy.uploads.len(),
        }
    }

    fn mark_busy(&self, actor: &Actor, id: &str) -> ServiceResult<BusyGuard<'_>> {
        let limits = &self.config.uploads;
        let mut busy = self
            .busy_uploads
            .lock()
            .map_err(|_| ServiceError::Internal("upload lock poisoned".into()))?;
        if busy.uploads.contains(id) {
            return Err(ServiceError::Conflict(
                "another request is writing to this upload right now".into(),
            ));
        }
        let mine = busy.per_account.get(&actor.id).copied().unwrap_or(0);
        if mine >= limits.max_concurrent_per_account {
            return Err(ServiceError::Busy {
                message: format!(
                    "this account already has {mine} uploads sending at once, the limit ([uploads] max_concurrent_per_account); send this one when one of them is done"
                ),
                retry_after_seconds: BUSY_RETRY_SECONDS,
            });
        }
        if busy.uploads.len() >= limits.max_concurrent {
            return Err(ServiceError::Busy {
                message: format!(
                    "the archive is receiving {} uploads at once, its limit ([uploads] max_concurrent); try again shortly",
                    busy.uploads.len()
                ),
                retry_after_seconds: BUSY_RETRY_SECONDS,
            });
        }
        busy.uploads.insert(id.to_owned());
        *busy.per_account.entry(actor.id.clone()).or_default() += 1;
        Ok(BusyGuard {
            services: self,
            id: id.to_owned(),
            account: actor.id.clone(),
        })
    }

    pub async fn create(&self, actor: &Actor, req: NewUpload) -> ServiceResult<UploadRow> {
        let path = DatasetPath::parse(&req.filename)
            .map_err(|e| ServiceError::invalid("Upload-Metadata filename", e.to_string()))?;
        if req.length < 0 {
            return Err(ServiceError::invalid(
                "Upload-Length",
                "must not be negative",
            ));
        }
        if req.length as u64 > self.config.uploads.max_size {
            return Err(ServiceError::TooLarge(format!(
                "the file is larger than this archive accepts in one upload ({} bytes)",
                self.config.uploads.max_size
            )));
        }
        let expected = req
            .sha256
            .as_deref()
            .map(|h| Checksum::from_hex(Algorithm::Sha256, h))
            .transpose()
            .map_err(|e| ServiceError::invalid("Upload-Metadata sha256", e.to_string()))?;
        let now = now_ms();
        let id = ids::new_id();
        let staged = if self.storage.stages_in_store() && req.length > 0 {
            let s = self
                .storage
                .begin_staging(&id, expected.as_ref().map(|c| c.hex.as_str()))
                .await?;
            Some(db::uploads::MultipartStaging {
                key: s.key,
                multipart_id: s.multipart_id,
                part_size: crate::storage::part_size(req.length as u64) as i64,
            })
        } else {
            None
        };
        let upload = UploadRow {
            id,
            version_id: req.deposit_id.clone(),
            user_id: actor.id.clone(),
            path: path.as_str().to_owned(),
            length: req.length,
            offset: 0,
            hash_state: ResumableSha256::new().save(),
            metadata: req.raw_metadata,
            created_at: now,
            expires_at: self.expiry_from_now(),
            staged,
            tail_key: None,
        };
        let mut tx = self.db.begin_write().await?;
        let v = load_visible(&mut tx, actor, &req.deposit_id).await?;
        require_editable(&v)?;
        if db::files::get_by_path(&mut tx, &v.id, path.as_str())
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "the deposit already has a file '{path}': remove it first to replace it"
            )));
        }
        match db::uploads::insert(&mut tx, &upload).await {
            Err(e) if e.is_unique_violation() => {
                return Err(ServiceError::Conflict(format!(
                    "an upload of '{path}' to this deposit is already in progress: resume it"
                )));
            }
            r => r?,
        }
        if let Some(sum) = &expected {
            db::files::clear_expected(&mut tx, &v.id, "upload", Some(path.as_str())).await?;
            db::files::add_expected(
                &mut tx,
                &v.id,
                &ExpectedRow {
                    path: path.as_str().to_owned(),
                    algorithm: sum.algorithm.as_str().into(),
                    digest: sum.hex.clone(),
                    source: "upload".into(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        if upload.staged.is_none() {
            // An empty staging file, so HEAD and PATCH find it.
            tokio::fs::File::create(self.storage.staging_path(&upload.id)).await?;
        }
        if upload.length == 0 {
            self.complete_upload(&upload, ResumableSha256::new(), None)
                .await?;
        }
        Ok(upload)
    }

    /// Create an upload and append the bytes its creation carried. More bytes than
    /// the upload's length are refused before anything is made; once it is made, the
    /// upload stays whatever becomes of the bytes, and the second result says that
    /// (the new offset and expiry, or why they were not kept).
    pub async fn create_with<S, E>(
        &self,
        actor: &Actor,
        req: NewUpload,
        first: FirstBytes<S>,
    ) -> ServiceResult<(UploadRow, ServiceResult<(i64, i64)>)>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if first
            .content_length
            .is_some_and(|n| i64::try_from(n).map_or(true, |n| n > req.length))
        {
            return Err(ServiceError::TooLarge(format!(
                "the request carries more bytes than its Upload-Length ({})",
                req.length
            )));
        }
        let up = self.create(actor, req).await?;
        if up.length == 0 {
            let done = (up.offset, up.expires_at);
            return Ok((up, Ok(done)));
        }
        let appended = self
            .append(
                actor,
                &up.id,
                0,
                first.content_length,
                first.checksum,
                first.body,
            )
            .await;
        Ok((up, appended))
    }

    async fn load_upload(&self, actor: &Actor, id: &str) -> ServiceResult<UploadRow> {
        if !ids::looks_like_id(id) {
            return Err(ServiceError::NotFound("upload"));
        }
        let mut conn = self.db.conn().await?;
        let up = db::uploads::get(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("upload"))?;
        let v = db::versions::get(&mut conn, &up.version_id)
            .await?
            .ok_or(ServiceError::NotFound("upload"))?;
        if !may_edit(actor, &v.owner_id) {
            return Err(ServiceError::NotFound("upload"));
        }
        if up.expires_at < now_ms() {
            return Err(ServiceError::Gone);
        }
        Ok(up)
    }

    /// The upload's state for a tus HEAD. An upload whose bytes are all in but which a
    /// crash stopped before it became a file is finished now. On local storage, an
    /// upload whose acknowledged bytes are not on this server's disk is set back to
    /// what is there, so the offset a client is told is one it can resume from.
    pub async fn status(&self, actor: &Actor, id: &str) -> ServiceResult<UploadRow> {
        let mut up = self.load_upload(actor, id).await?;
        let lost = self.local_bytes_lost(&up).await?;
        if lost.is_none() && up.offset < up.length {
            return Ok(up);
        }
        // Another request (perhaps one a killed server left) holds the upload: report
        // where it stands; a later HEAD finishes or sets it back.
        let Ok(_busy) = self.mark_busy(actor, id) else {
            return Ok(up);
        };
        let lease = match self.take_lease(&up.id).await {
            Ok(l) => l,
            Err(ServiceError::Conflict(_)) => return Ok(up),
            Err(e) => return Err(e),
        };
        let result = async {
            let up = self.load_upload(actor, id).await?;
            if let Some(have) = self.local_bytes_lost(&up).await? {
                return self.rewind_local(&up, &lease, have).await;
            }
            if up.offset == up.length {
                let sha = ResumableSha256::restore(&up.hash_state)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                self.complete_upload(&up, sha, None).await?;
            }
            Ok(up)
        }
        .await;
        self.release_lease(&lease).await;
        match result {
            Ok(r) => up = r,
            // Someone else finished it meanwhile.
            Err(ServiceError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        Ok(up)
    }

    /// Uploads of a deposit not yet finished, so a client can resume them.
    pub async fn list(&self, actor: &Actor, deposit_id: &str) -> ServiceResult<Vec<UploadRow>> {
        let mut conn = self.db.conn().await?;
        load_visible(&mut conn, actor, deposit_id).await?;
        Ok(db::uploads::list_for_version(&mut conn, deposit_id).await?)
    }

    /// Append a request body at `offset` (tus PATCH). Returns the new offset and when the
    /// upload now expires.
    ///
    /// Without a chunk checksum, bytes are made durable every `checkpoint_bytes` and
    /// when the client goes away, so nothing received is lost. With one, the chunk is
    /// all or nothing: it is kept only if it matches.
    pub async fn append<S, E>(
        &self,
        actor: &Actor,
        id: &str,
        offset: i64,
        content_length: Option<u64>,
        chunk_checksum: Option<ChunkChecksum>,
        body: S,
    ) -> ServiceResult<(i64, i64)>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let up = self.load_upload(actor, id).await?;
        let _busy = self.mark_busy(actor, id)?;
        // A request at the wrong offset is answered without taking the upload from a
        // writer that is about to start.
        if offset != up.offset && self.local_bytes_lost(&up).await?.is_none() {
            return Err(ServiceError::OffsetMismatch {
                expected: up.offset,
                got: offset,
            });
        }
        let lease = self.take_lease(&up.id).await?;
        let result = self
            .append_leased(&lease, actor, offset, content_length, chunk_checksum, body)
            .await;
        // A finished upload's row is gone, and its lease with it.
        if !matches!(&result, Ok((end, _)) if *end == up.length) {
            self.release_lease(&lease).await;
        }
        result
    }

    async fn append_leased<S, E>(
        &self,
        lease: &Lease,
        actor: &Actor,
        offset: i64,
        content_length: Option<u64>,
        chunk_checksum: Option<ChunkChecksum>,
        body: S,
    ) -> ServiceResult<(i64, i64)>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        // Re-read under the lease: the offset may have moved while we waited.
        let up = self.load_upload(actor, &lease.upload).await?;
        if let Some(have) = self.local_bytes_lost(&up).await? {
            self.rewind_local(&up, lease, have).await?;
            return Err(ServiceError::StagingLost {
                resume_at: have as i64,
                acknowledged: up.offset,
            });
        }
        if offset != up.offset {
            return Err(ServiceError::OffsetMismatch {
                expected: up.offset,
                got: offset,
            });
        }
        let remaining = (up.length - up.offset) as u64;
        if content_length.is_some_and(|n| n > remaining) {
            return Err(too_many(remaining));
        }
        let new_offset = match &up.staged {
            Some(staged) => {
                self.append_in_store(lease, &up, staged, chunk_checksum, body)
                    .await?
            }
            None => self.append_local(lease, &up, chunk_checksum, body).await?,
        };
        Ok((new_offset, self.expiry_from_now()))
    }

    /// Append a request body to the upload's staging file on this server's disk.
    async fn append_local<S, E>(
        &self,
        lease: &Lease,
        up: &UploadRow,
        chunk_checksum: Option<ChunkChecksum>,
        mut body: S,
    ) -> ServiceResult<i64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let remaining = (up.length - up.offset) as u64;
        let sha = ResumableSha256::restore(&up.hash_state)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let staging = self.storage.staging_path(&up.id);
        let mut writer = StagingWriter::open(
            self.storage.bulk_slots(),
            &staging,
            up.offset as u64,
            sha,
            chunk_checksum.as_ref().map(|c| c.algorithm),
        )
        .await?;
        let checkpoint_every = self.config.uploads.checkpoint_bytes;
        let mut durable = up.offset;
        let mut since_checkpoint = 0u64;
        loop {
            let frame = self.next_frame(&mut body).await;
            if let Err(e) = self.keep_lease(lease).await {
                writer.abort().await;
                crate::storage::staging::truncate(&staging, durable as u64).await?;
                return Err(e);
            }
            let data = match frame {
                None => break,
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    // The client went away. Keep what arrived unless the chunk is
                    // all-or-nothing; its offset is what the client will see on HEAD.
                    tracing::info!(upload = %up.id, error = %e, "upload body ended early");
                    if chunk_checksum.is_some() {
                        writer.abort().await;
                        crate::storage::staging::truncate(&staging, durable as u64).await?;
                    } else {
                        let written = writer.written() as i64;
                        let state = writer.checkpoint().await?;
                        self.advance(lease, durable, up.offset + written, &state, None)
                            .await?;
                        writer.abort().await;
                    }
                    return Err(cut_off(e));
                }
            };
            if writer.written() + data.len() as u64 > remaining {
                writer.abort().await;
                crate::storage::staging::truncate(&staging, durable as u64).await?;
                return Err(too_many(remaining));
            }
            since_checkpoint += data.len() as u64;
            writer.write(data).await?;
            if chunk_checksum.is_none() && since_checkpoint >= checkpoint_every {
                let state = writer.checkpoint().await?;
                let to = up.offset + writer.written() as i64;
                self.advance(lease, durable, to, &state, None).await?;
                durable = to;
                since_checkpoint = 0;
            }
        }
        let appended = writer.finish().await?;
        if let (Some(want), Some(got)) = (&chunk_checksum, &appended.chunk)
            && hex::decode(&got.hex).ok().as_deref() != Some(want.digest.as_slice())
        {
            crate::storage::staging::truncate(&staging, durable as u64).await?;
            return Err(chunk_mismatch(want));
        }
        let new_offset = up.offset + appended.written as i64;
        let state = appended.sha256.save();
        if new_offset == up.length {
            // The file is whole: it becomes a file of the deposit without the offset
            // being recorded first (a crash before that leaves the old offset, and the
            // client sends these bytes again). An upload that cannot finish now keeps
            // its offset, so a later HEAD finishes it.
            let mut done = up.clone();
            done.offset = new_offset;
            match self.complete_upload(&done, appended.sha256, None).await {
                // Acknowledged now, as `advance` would have counted them.
                Ok(()) => {
                    let acknowledged = (new_offset - durable).max(0) as u64;
                    self.counters.upload_bytes.inc_by(acknowledged);
                }
                Err(e @ ServiceError::ChecksumMismatch(_)) => return Err(e),
                Err(e) => {
                    if new_offset != durable {
                        self.advance(lease, durable, new_offset, &state, None)
                            .await?;
                    }
                    return Err(e);
                }
            }
        } else if new_offset != durable {
            self.advance(lease, durable, new_offset, &state, None)
                .await?;
        }
        Ok(new_offset)
    }

    /// The next piece of a request body: None at its end, an error when the client
    /// went away or stopped sending (what arrived is kept, and the request ends
    /// instead of holding its place for ever).
    async fn next_frame<S, E>(&self, body: &mut S) -> Option<Result<Bytes, String>>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let idle = Duration::from_secs(self.config.uploads.idle_timeout_seconds);
        match tokio::time::timeout(idle, body.next()).await {
            Ok(None) => None,
            Ok(Some(frame)) => Some(frame.map_err(|e| e.to_string())),
            Err(_) => Some(Err(format!(
                "no bytes arrived for {} s ([uploads] idle_timeout_seconds)",
                idle.as_secs()
            ))),
        }
    }

    async fn take_lease(&self, id: &str) -> ServiceResult<Lease> {
        let owner = ids::new_id();
        let started = now_ms();
        // A holder that is gone (a server killed mid-request) lets go within the lease.
        let now = loop {
            let now = now_ms();
            let mut conn = self.db.write_conn().await?;
            if db::uploads::take_lease(&mut conn, id, &owner, now, now + LEASE_MS).await? {
                break Some(now);
            }
            drop(conn);
            if now - started > LEASE_MS {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let Some(now) = now else {
            return Err(ServiceError::Conflict(
                "another request is writing to this upload right now (perhaps through another server): ask for its offset in a moment and resume".into(),
            ));
        };
        Ok(Lease {
            owner,
            upload: id.to_owned(),
            renewed: AtomicI64::new(now),
        })
    }

    /// Renew the lease when it is due; an error when another writer took the upload.
    async fn keep_lease(&self, lease: &Lease) -> ServiceResult<()> {
        let now = now_ms();
        if now - lease.renewed.load(Ordering::Relaxed) < RENEW_EVERY_MS {
            return Ok(());
        }
        let mut conn = self.db.write_conn().await?;
        let until = now + LEASE_MS;
        if !db::uploads::renew_lease(&mut conn, &lease.upload, &lease.owner, until).await? {
            return Err(ServiceError::Conflict(
                "this request lost its hold on the upload (another request took it over): ask for the offset and resume".into(),
            ));
        }
        lease.renewed.store(now, Ordering::Relaxed);
        Ok(())
    }

    async fn release_lease(&self, lease: &Lease) {
        let released = async {
            let mut conn = self.db.write_conn().await?;
            db::uploads::release_lease(&mut conn, &lease.upload, &lease.owner).await
        };
        if let Err(e) = released.await {
            // It lapses by itself shortly.
            tracing::warn!(upload = %lease.upload, error = %e, "could not release an upload lease");
        }
    }

    /// On local storage: how many bytes this server's staging file holds when that is
    /// fewer than the upload's acknowledged offset (and they were not already stored).
    async fn local_bytes_lost(&self, up: &UploadRow) -> ServiceResult<Option<u64>> {
        if up.staged.is_some() {
            return Ok(None);
        }
        let have = match tokio::fs::metadata(self.storage.staging_path(&up.id)).await {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A finished upload whose staging file was already moved into the store
                // by an attempt that stopped before the catalogue knew.
                if up.offset == up.length {
                    let sha = ResumableSha256::restore(&up.hash_state)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?
                        .finish();
                    if self.storage.exists(&sha.hex).await? {
                        return Ok(None);
                    }
                }
                0
            }
            Err(e) => return Err(e.into()),
        };
        Ok((have < up.offset as u64).then_some(have))
    }

    /// Set an upload back to the `have` bytes its staging file holds: re-hash them and
    /// record that offset, so the client resumes from bytes that are really here.
    async fn rewind_local(
        &self,
        up: &UploadRow,
        lease: &Lease,
        have: u64,
    ) -> ServiceResult<UploadRow> {
        let staging = self.storage.staging_path(&up.id);
        tracing::warn!(
            upload = %up.id,
            acknowledged = up.offset,
            held = have,
            "staged upload bytes are missing on this server: set back to what is here (local storage with several servers needs a shared data directory, or S3)"
        );
        let path = staging.clone();
        let state = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            use std::io::Read;
            let mut sha = ResumableSha256::new();
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::File::create(&path)?;
                    return Ok(sha.save());
                }
                Err(e) => return Err(e),
            };
            let mut file = file.take(have);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                sha.update(&buf[..n]);
            }
            Ok(sha.save())
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
        let mut rewound = up.clone();
        rewound.offset = have as i64;
        rewound.hash_state = state.clone();
        self.advance(lease, up.offset, have as i64, &state, None)
            .await?;
        Ok(rewound)
    }

    fn expiry_from_now(&self) -> i64 {
        now_ms() + self.config.uploads.expire_after_hours as i64 * 3_600_000
    }

    async fn advance(
        &self,
        lease: &Lease,
        from: i64,
        to: i64,
        state: &[u8],
        tail_key: Option<&str>,
    ) -> ServiceResult<()> {
        let progress = db::uploads::Progress {
            from,
            to,
            hash_state: state,
            tail_key,
        };
        self.record_progress(lease, &[], progress).await
    }

    /// Record newly acknowledged bytes, with the store parts (number, ETag) that hold
    /// them when the upload is staged in the store, in one transaction guarded by the
    /// offset and the lease.
    async fn record_progress(
        &self,
        lease: &Lease,
        parts: &[(usize, &str)],
        progress: db::uploads::Progress<'_>,
    ) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        for &(n, etag) in parts {
            db::uploads::add_part(&mut tx, &lease.upload, n as i64, etag).await?;
        }
        let expires = self.expiry_from_now();
        if !db::uploads::advance(&mut tx, &lease.upload, &lease.owner, progress, expires).await? {
            return Err(ServiceError::Conflict(
                "the upload moved on meanwhile; ask for its offset and resume".into(),
            ));
        }
        tx.commit().await?;
        self.counters
            .upload_bytes
            .inc_by((progress.to - progress.from).max(0) as u64);
        Ok(())
    }

    /// Turn a fully received upload into a file of its deposit. Idempotent: safe to
    /// repeat after a crash at any point.
    ///
    /// `tail`: for an upload staged in the store, the bytes after its last whole part
    /// when the caller has them in memory (otherwise they are read back).
    async fn complete_upload(
        &self,
        up: &UploadRow,
        sha: ResumableSha256,
        tail: Option<Bytes>,
    ) -> ServiceResult<()> {
        let sha256 = sha.finish();
        let staging = self.storage.staging_path(&up.id);
        let mut conn = self.db.conn().await?;
        // One row by primary key: the cost does not grow with the deposit.
        let expected =
            db::files::expected_for(&mut conn, &up.version_id, &up.path, "upload", "sha256")
                .await?;
        drop(conn);
        if let Some(digest) = expected
            && digest != sha256.hex
        {
            // The bytes are not what the client meant to send: keep none of them.
            self.discard_upload(up).await?;
            return Err(ServiceError::ChecksumMismatch(format!(
                "'{}' arrived with SHA-256 {} but the client said {}: the upload was discarded, send the file again",
                up.path, sha256.hex, digest
            )));
        }
        // Claim the object before its bytes are stored, so a garbage collector cannot
        // take it meanwhile; if one is deleting an old copy right now, finish later.
        let mut conn = self.db.write_conn().await?;
        if !db::files::claim_object(&mut conn, &sha256.hex, up.length, now_ms()).await? {
            return Err(ServiceError::Conflict(
                "the archive is removing an old copy of these same bytes: ask for the upload's offset again in a moment and it will finish".into(),
            ));
        }
        drop(conn);
        if let Some(staged) = &up.staged {
            self.finish_in_store(up, staged, &sha256.hex, tail).await?;
        } else if tokio::fs::try_exists(&staging).await? {
            self.storage
                .ingest_staged(&staging, &sha256.hex, up.length as u64)
                .await?;
        } else if !self.storage.exists(&sha256.hex).await? {
            return Err(ServiceError::Internal(format!(
                "upload {} lost its staged bytes before they were stored",
                up.id
            )));
        }
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        if db::uploads::get(&mut tx, &up.id).await?.is_none() {
            return Ok(()); // finished by an earlier attempt
        }
        // Again inside the transaction that adds the file: clears any mark a collector
        // set while the bytes were being stored.
        if !db::files::claim_object(&mut tx, &sha256.hex, up.length, now).await? {
            return Err(ServiceError::Internal(format!(
                "object {} was taken for deletion while claimed",
                sha256.hex
            )));
        }
        db::files::insert(
            &mut tx,
            &FileRow {
                id: ids::new_id(),
                version_id: up.version_id.clone(),
                path: up.path.clone(),
                size: up.length,
                sha256: sha256.hex.clone(),
                status: crate::model::FileStatus::Received,
                problem: None,
                verified_at: None,
            },
            now,
        )
        .await?;
        super::extraction::queue(&mut tx, &sha256.hex, now).await?;
        db::uploads::delete(&mut tx, &up.id).await?;
        let event = DepositEvent {
            version_id: &up.version_id,
            actor_id: Some(&up.user_id),
            kind: "file_added",
            states: None,
            reason: Some(format!(
                "{} ({} bytes, sha256 {})",
                up.path, up.length, sha256.hex
            )),
        };
        record_event(&mut tx, event, now).await?;
        tx.commit().await?;
        self.counters.uploads_completed.inc();
        Ok(())
    }

    /// tus termination: cancel an unfinished upload and drop its bytes.
    pub async fn terminate(&self, actor: &Actor, id: &str) -> ServiceResult<()> {
        let up = self.load_upload(actor, id).await?;
        let _busy = self.mark_busy(actor, id)?;
        let lease = self.take_lease(&up.id).await?;
        let result = self.discard_upload(&up).await;
        self.release_lease(&lease).await;
        result
    }

    /// Forget an upload and drop its staged bytes, wherever they are.
    async fn discard_upload(&self, up: &UploadRow) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        db::uploads::delete(&mut tx, &up.id).await?;
        db::files::clear_expected(&mut tx, &up.version_id, "upload", Some(&up.path)).await?;
        tx.commit().await?;
        match &up.staged {
            Some(s) => {
                let staged = crate::storage::multipart::Staged {
                    key: s.key.clone(),
                    multipart_id: s.multipart_id.clone(),
                };
                self.storage.abort_staging(&up.id, &staged).await;
            }
            None => remove_if_present(&self.storage.staging_path(&up.id)).await?,
        }
        Ok(())
    }

    /// tus expiration: remove uploads nobody finished in time. Returns how many.
    pub async fn expire(&self) -> ServiceResult<usize> {
        let mut conn = self.db.conn().await?;
        let expired = db::uploads::expired(&mut conn, now_ms(), 100).await?;
        drop(conn);
        for up in &expired {
            self.discard_upload(up).await?;
        }
        Ok(expired.len())
    }
}

fn too_many(remaining: u64) -> ServiceError {
    ServiceError::TooLarge(format!(
        "the request carries more bytes than the {remaining} the upload still expects"
    ))
}

fn cut_off(e: String) -> ServiceError {
    ServiceError::invalid("body", format!("the request body was cut off: {e}"))
}

fn chunk_mismatch(want: &ChunkChecksum) -> ServiceError {
    ServiceError::ChecksumMismatch(format!(
        "the {} checksum of this request's bytes does not match Upload-Checksum; nothing was kept",
        want.algorithm
    ))
}
