//! Resumable uploads (tus 1.0.0 semantics, independent of HTTP). Bytes are hashed as
//! they arrive and fsynced before their offset is recorded (invariant 2); a finished
//! upload is moved into the content-addressed store and becomes a file of its deposit.

use super::deposits::{DepositEvent, load_visible, record_event, require_editable};
use super::{Actor, ServiceError, ServiceResult, Services, may_edit};
use crate::db::{self, files::ExpectedRow, files::FileRow, now_ms, uploads::UploadRow};
use crate::model::checksum::{Algorithm, Checksum, ResumableSha256};
use crate::model::{DatasetPath, ids};
use crate::storage::{remove_if_present, staging::StagingWriter};
use bytes::Bytes;
use futures::{Stream, StreamExt};

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

impl Services {
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

    pub async fn create_upload(&self, actor: &Actor, req: NewUpload) -> ServiceResult<UploadRow> {
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
        let upload = UploadRow {
            id: ids::new_id(),
            version_id: req.deposit_id.clone(),
            user_id: actor.id.clone(),
            path: path.as_str().to_owned(),
            length: req.length,
            offset: 0,
            hash_state: ResumableSha256::new().save(),
            metadata: req.raw_metadata,
            created_at: now,
            expires_at: self.expiry_from_now(),
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
        // An empty staging file, so HEAD and PATCH find it; an empty upload is done now.
        tokio::fs::File::create(self.storage.staging_path(&upload.id)).await?;
        if upload.length == 0 {
            self.complete_upload(&upload, ResumableSha256::new())
                .await?;
        }
        Ok(upload)
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
    /// crash stopped before it became a file is finished now.
    pub async fn upload_status(&self, actor: &Actor, id: &str) -> ServiceResult<UploadRow> {
        let up = self.load_upload(actor, id).await?;
        if up.offset == up.length {
            let _busy = self.mark_busy(actor, id)?;
            let sha = ResumableSha256::restore(&up.hash_state)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            self.complete_upload(&up, sha).await?;
        }
        Ok(up)
    }

    /// Uploads of a deposit not yet finished, so a client can resume them.
    pub async fn list_uploads(
        &self,
        actor: &Actor,
        deposit_id: &str,
    ) -> ServiceResult<Vec<UploadRow>> {
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
    pub async fn append_upload<S, E>(
        &self,
        actor: &Actor,
        id: &str,
        offset: i64,
        content_length: Option<u64>,
        chunk_checksum: Option<ChunkChecksum>,
        mut body: S,
    ) -> ServiceResult<(i64, i64)>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let up = self.load_upload(actor, id).await?;
        let _busy = self.mark_busy(actor, id)?;
        // Re-read under the busy mark: the offset may have moved while we waited.
        let up = self.load_upload(actor, &up.id).await?;
        if offset != up.offset {
            return Err(ServiceError::OffsetMismatch {
                expected: up.offset,
                got: offset,
            });
        }
        let remaining = (up.length - up.offset) as u64;
        let too_many = || {
            ServiceError::TooLarge(format!(
                "the request carries more bytes than the {remaining} the upload still expects"
            ))
        };
        if content_length.is_some_and(|n| n > remaining) {
            return Err(too_many());
        }
        let sha = ResumableSha256::restore(&up.hash_state)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let staging = self.storage.staging_path(&up.id);
        let mut writer = StagingWriter::open(
            &staging,
            up.offset as u64,
            sha,
            chunk_checksum.as_ref().map(|c| c.algorithm),
        )
        .await?;
        let checkpoint_every = self.config.uploads.checkpoint_bytes;
        let mut durable = up.offset;
        let mut since_checkpoint = 0u64;
        let idle = std::time::Duration::from_secs(self.config.uploads.idle_timeout_seconds);
        loop {
            // A client that stops sending is treated as gone: what arrived is kept, and
            // the request ends instead of holding its place for ever.
            let frame = match tokio::time::timeout(idle, body.next()).await {
                Ok(None) => break,
                Ok(Some(frame)) => frame.map_err(|e| e.to_string()),
                Err(_) => Err(format!(
                    "no bytes arrived for {} s ([uploads] idle_timeout_seconds)",
                    idle.as_secs()
                )),
            };
            let data = match frame {
                Ok(d) => d,
                Err(e) => {
                    // The client went away. Keep what arrived unless the chunk is
                    // all-or-nothing; its offset is what the client will see on HEAD.
                    tracing::info!(upload = %up.id, error = %e, "upload body ended early");
                    if chunk_checksum.is_some() {
                        writer.abort().await;
                        crate::storage::staging::truncate(&staging, durable as u64).await?;
                    } else {
                        let written = writer.written() as i64;
                        let state = writer.checkpoint().await?;
                        self.advance(&up.id, durable, up.offset + written, &state)
                            .await?;
                        writer.abort().await;
                    }
                    return Err(ServiceError::invalid(
                        "body",
                        format!("the request body was cut off: {e}"),
                    ));
                }
            };
            if writer.written() + data.len() as u64 > remaining {
                writer.abort().await;
                crate::storage::staging::truncate(&staging, durable as u64).await?;
                return Err(too_many());
            }
            since_checkpoint += data.len() as u64;
            writer.write(data).await?;
            if chunk_checksum.is_none() && since_checkpoint >= checkpoint_every {
                let state = writer.checkpoint().await?;
                let to = up.offset + writer.written() as i64;
                self.advance(&up.id, durable, to, &state).await?;
                durable = to;
                since_checkpoint = 0;
            }
        }
        let appended = writer.finish().await?;
        if let (Some(want), Some(got)) = (&chunk_checksum, &appended.chunk)
            && hex::decode(&got.hex).ok().as_deref() != Some(want.digest.as_slice())
        {
            crate::storage::staging::truncate(&staging, durable as u64).await?;
            return Err(ServiceError::ChecksumMismatch(format!(
                "the {} checksum of this request's bytes does not match Upload-Checksum; nothing was kept",
                want.algorithm
            )));
        }
        let new_offset = up.offset + appended.written as i64;
        if new_offset != durable {
            self.advance(&up.id, durable, new_offset, &appended.sha256.save())
                .await?;
        }
        if new_offset == up.length {
            let mut done = up.clone();
            done.offset = new_offset;
            self.complete_upload(&done, appended.sha256).await?;
        }
        Ok((new_offset, self.expiry_from_now()))
    }

    fn expiry_from_now(&self) -> i64 {
        now_ms() + self.config.uploads.expire_after_hours as i64 * 3_600_000
    }

    async fn advance(&self, id: &str, from: i64, to: i64, state: &[u8]) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        let expires = self.expiry_from_now();
        let advanced = db::uploads::advance(&mut conn, id, from, to, state, expires).await?;
        if advanced {
            self.metrics.upload_bytes.inc_by((to - from).max(0) as u64);
        }
        if !advanced {
            return Err(ServiceError::Conflict(
                "the upload moved on meanwhile; ask for its offset and resume".into(),
            ));
        }
        Ok(())
    }

    /// Turn a fully received upload into a file of its deposit. Idempotent: safe to
    /// repeat after a crash at any point.
    async fn complete_upload(&self, up: &UploadRow, sha: ResumableSha256) -> ServiceResult<()> {
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
            let mut tx = self.db.begin_write().await?;
            db::uploads::delete(&mut tx, &up.id).await?;
            db::files::clear_expected(&mut tx, &up.version_id, "upload", Some(&up.path)).await?;
            tx.commit().await?;
            remove_if_present(&staging).await?;
            return Err(ServiceError::ChecksumMismatch(format!(
                "'{}' arrived with SHA-256 {} but the client said {}: the upload was discarded, send the file again",
                up.path, sha256.hex, digest
            )));
        }
        // Claim the object before its bytes are stored, so a garbage collector cannot
        // take it meanwhile; if one is deleting an old copy right now, finish later.
        let mut conn = self.db.conn().await?;
        if !db::files::claim_object(&mut conn, &sha256.hex, up.length, now_ms()).await? {
            return Err(ServiceError::Conflict(
                "the archive is removing an old copy of these same bytes: ask for the upload's offset again in a moment and it will finish".into(),
            ));
        }
        drop(conn);
        if tokio::fs::try_exists(&staging).await? {
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
                status: "received".into(),
                problem: None,
                verified_at: None,
            },
            now,
        )
        .await?;
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
        self.metrics.uploads_completed.inc();
        Ok(())
    }

    /// tus termination: cancel an unfinished upload and drop its bytes.
    pub async fn terminate_upload(&self, actor: &Actor, id: &str) -> ServiceResult<()> {
        let up = self.load_upload(actor, id).await?;
        let _busy = self.mark_busy(actor, id)?;
        let mut tx = self.db.begin_write().await?;
        db::uploads::delete(&mut tx, &up.id).await?;
        db::files::clear_expected(&mut tx, &up.version_id, "upload", Some(&up.path)).await?;
        tx.commit().await?;
        remove_if_present(&self.storage.staging_path(&up.id)).await?;
        Ok(())
    }

    /// tus expiration: remove uploads nobody finished in time. Returns how many.
    pub async fn expire_uploads(&self) -> ServiceResult<usize> {
        let mut conn = self.db.conn().await?;
        let expired = db::uploads::expired(&mut conn, now_ms(), 100).await?;
        drop(conn);
        for up in &expired {
            let mut tx = self.db.begin_write().await?;
            db::uploads::delete(&mut tx, &up.id).await?;
            db::files::clear_expected(&mut tx, &up.version_id, "upload", Some(&up.path)).await?;
            tx.commit().await?;
            remove_if_present(&self.storage.staging_path(&up.id)).await?;
        }
        Ok(expired.len())
    }
}
