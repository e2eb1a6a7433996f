//! Appending to an upload staged in the object store (S3): the request's bytes are cut
//! into parts of the upload's part size and sent as they fill, a few at once; each part
//! is recorded with the offset and hash state it brings once the store has it. The
//! bytes after the last whole part go to a tail object at the end of the request, so
//! every acknowledged byte is in the store and any server can take the next request.

use super::{ChunkChecksum, Lease, chunk_mismatch, cut_off, too_many};
use crate::db::{self, uploads::MultipartStaging, uploads::UploadRow};
use crate::model::checksum::{Algorithm, Hasher, ResumableSha256};
use crate::services::{ServiceError, ServiceResult};
use crate::storage::multipart::Staged;
use bytes::{Bytes, BytesMut};
use futures::Stream;
use futures::stream::{FuturesOrdered, StreamExt};

/// Parts one request sends at once: enough to keep a link to the store busy, while a
/// request holds at most this many parts (plus the one filling) in memory.
const PARTS_IN_FLIGHT: usize = 4;

type PartUpload = tokio::task::JoinHandle<Result<(usize, String, Vec<u8>), ServiceError>>;

fn staged(s: &MultipartStaging) -> Staged {
    Staged {
        key: s.key.clone(),
        multipart_id: s.multipart_id.clone(),
    }
}

/// The hashing of one request's bytes, in order: the whole-file state, and the chunk
/// checksum a client asked for.
struct Hashing {
    sha: Option<ResumableSha256>,
    chunk: Option<Hasher>,
}

impl Hashing {
    /// Hash `bytes` on a blocking thread (a part is megabytes).
    async fn update(&mut self, bytes: Bytes) -> ServiceResult<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let (mut sha, mut chunk) = (self.sha.take(), self.chunk.take());
        let (sha, chunk) = tokio::task::spawn_blocking(move || {
            if let Some(s) = sha.as_mut() {
                s.update(&bytes);
            }
            if let Some(c) = chunk.as_mut() {
                c.update(&bytes);
            }
            (sha, chunk)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.sha = sha;
        self.chunk = chunk;
        Ok(())
    }

    fn state(&self) -> Vec<u8> {
        self.sha
            .as_ref()
            .map(ResumableSha256::save)
            .unwrap_or_default()
    }
}

/// The parts one request has sent and not yet recorded.
struct Parts<'a> {
    lease: &'a Lease,
    part_size: usize,
    /// Under a chunk checksum parts are held back until the whole request is known to
    /// be right, then recorded together.
    hold: bool,
    in_flight: FuturesOrdered<PartUpload>,
    held: Vec<(usize, String, Vec<u8>)>,
    /// The offset the catalogue has.
    durable: i64,
}

impl super::Service<'_> {
    /// Append a request body to an upload staged in the store. Returns the new offset.
    pub(super) async fn append_in_store<S, E>(
        &self,
        lease: &Lease,
        up: &UploadRow,
        stage: &MultipartStaging,
        chunk_checksum: Option<ChunkChecksum>,
        mut body: S,
    ) -> ServiceResult<i64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let part_size = stage.part_size as usize;
        let remaining = (up.length - up.offset) as u64;
        // The buffer starts at the last whole part: the old tail comes first (already
        // hashed), then this request's bytes.
        let tail_len = up.offset as usize % part_size;
        let mut buf = BytesMut::with_capacity(part_size);
        if tail_len > 0 {
            let key = up.tail_key.as_deref().ok_or_else(|| {
                ServiceError::Internal(format!("upload {} has no tail on record", up.id))
            })?;
            buf.extend_from_slice(&self.storage.read_tail(key, tail_len).await?);
        }
        let mut hashed_in_buf = tail_len;
        let mut hashing = Hashing {
            sha: Some(
                ResumableSha256::restore(&up.hash_state)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
            ),
            // A whole file from its first byte with a SHA-256 of its own: the file's
            // hash is the request's, so the bytes are hashed once.
            chunk: chunk_checksum
                .as_ref()
                .filter(|c| !(up.offset == 0 && c.algorithm == Algorithm::Sha256))
                .map(|c| Hasher::new(c.algorithm)),
        };
        let mut parts = Parts {
            lease,
            part_size,
            hold: chunk_checksum.is_some(),
            in_flight: FuturesOrdered::new(),
            held: Vec::new(),
            durable: up.offset,
        };
        let mut received = 0u64;
        let mut next_part = up.offset as usize / part_size;
        let stage_ref = staged(stage);
        let ended_early = loop {
            let frame = self.next_frame(&mut body).await;
            self.keep_lease(lease).await?;
            let mut data = match frame {
                None => break None,
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    tracing::info!(upload = %up.id, error = %e, "upload body ended early");
                    break Some(e);
                }
            };
            received += data.len() as u64;
            if received > remaining {
                self.settle(&mut parts, true).await?;
                return Err(too_many(remaining));
            }
            while !data.is_empty() {
                let take = (part_size - buf.len()).min(data.len());
                buf.extend_from_slice(&data.split_to(take));
                if buf.len() == part_size {
                    // A new buffer of a whole part: one allocation, not a doubling series.
                    let part =
                        std::mem::replace(&mut buf, BytesMut::with_capacity(part_size)).freeze();
                    hashing.update(part.slice(hashed_in_buf..)).await?;
                    hashed_in_buf = 0;
                    let (storage, stage, n, state) = (
                        self.storage.clone(),
                        stage_ref.clone(),
                        next_part,
                        hashing.state(),
                    );
                    parts.in_flight.push_back(tokio::spawn(async move {
                        let etag = storage.put_staged_part(&stage, n, part).await?;
                        Ok((n, etag, state))
                    }));
                    next_part += 1;
                    if parts.in_flight.len() >= PARTS_IN_FLIGHT {
                        self.settle(&mut parts, false).await?;
                    }
                }
            }
        };
        self.settle(&mut parts, true).await?;
        if let Some(e) = &ended_early
            && parts.hold
        {
            // All or nothing: nothing of this request is recorded.
            return Err(cut_off(e.clone()));
        }
        let tail = buf.freeze();
        hashing.update(tail.slice(hashed_in_buf..)).await?;
        // Without a hasher of its own, the request's checksum is the file's hash so far.
        let chunk_sum = chunk_checksum
            .as_ref()
            .and_then(|_| match hashing.chunk.take() {
                Some(hasher) => Some(hasher.finish()),
                None => hashing.sha.as_ref().map(ResumableSha256::current),
            });
        if let (Some(want), Some(got)) = (&chunk_checksum, chunk_sum)
            && hex::decode(&got.hex).ok().as_deref() != Some(want.digest.as_slice())
        {
            return Err(chunk_mismatch(want));
        }
        let new_offset = up.offset + received as i64;
        if new_offset != parts.durable {
            // The bytes after the last whole part go to a tail object, recorded with the
            // parts held back and the new offset (also when the upload is now complete:
            // if assembling it fails, a later request finds the tail there).
            let tail_key = if tail.is_empty() {
                None
            } else {
                Some(
                    self.storage
                        .put_tail(&up.id, &lease.owner, new_offset, tail.clone())
                        .await?,
                )
            };
            let state = hashing.state();
            let progress = db::uploads::Progress {
                from: parts.durable,
                to: new_offset,
                hash_state: &state,
                tail_key: tail_key.as_deref(),
            };
            let held = std::mem::take(&mut parts.held);
            let held: Vec<(usize, &str)> = held.iter().map(|(n, e, _)| (*n, e.as_str())).collect();
            self.record_progress(lease, &held, progress).await?;
        }
        if new_offset != up.offset
            && let Some(old) = up.tail_key.as_deref()
        {
            self.storage.drop_tail(old).await;
        }
        if let Some(e) = ended_early {
            return Err(cut_off(e));
        }
        if new_offset == up.length {
            let mut done = up.clone();
            done.offset = new_offset;
            let sha = hashing
                .sha
                .take()
                .ok_or_else(|| ServiceError::Internal("hash state lost".into()))?;
            self.complete_upload(&done, sha, Some(tail)).await?;
        }
        Ok(new_offset)
    }

    /// Wait for the oldest part in flight (all of them with `all`) and record it with
    /// the offset and hash state it brings, or hold it back under a chunk checksum.
    async fn settle(&self, parts: &mut Parts<'_>, all: bool) -> ServiceResult<()> {
        while let Some(done) = parts.in_flight.next().await {
            let (n, etag, state) = done.map_err(|e| ServiceError::Internal(e.to_string()))??;
            if parts.hold {
                parts.held.push((n, etag, state));
            } else {
                let to = ((n + 1) * parts.part_size) as i64;
                let progress = db::uploads::Progress {
                    from: parts.durable,
                    to,
                    hash_state: &state,
                    tail_key: None,
                };
                self.record_progress(parts.lease, &[(n, etag.as_str())], progress)
                    .await?;
                parts.durable = to;
            }
            if !all {
                break;
            }
        }
        Ok(())
    }

    /// Assemble a fully received upload staged in the store into its object.
    pub(super) async fn finish_in_store(
        &self,
        up: &UploadRow,
        stage: &MultipartStaging,
        sha256: &str,
        tail: Option<Bytes>,
    ) -> ServiceResult<()> {
        let part_size = stage.part_size;
        let whole_parts = up.length / part_size;
        let tail_len = (up.length % part_size) as usize;
        let tail = match tail {
            Some(t) => t,
            None if tail_len == 0 => Bytes::new(),
            None => {
                let key = up.tail_key.as_deref().ok_or_else(|| {
                    ServiceError::Internal(format!("upload {} has no tail on record", up.id))
                })?;
                self.storage.read_tail(key, tail_len).await?
            }
        };
        let mut conn = self.db.conn().await?;
        let etags = db::uploads::parts(&mut conn, &up.id, whole_parts).await?;
        drop(conn);
        if etags.len() as i64 != whole_parts {
            return Err(ServiceError::Internal(format!(
                "upload {} has {} of its {whole_parts} parts on record",
                up.id,
                etags.len()
            )));
        }
        self.storage
            .finish_staging(
                &up.id,
                &staged(stage),
                etags,
                tail,
                sha256,
                up.length as u64,
            )
            .await?;
        Ok(())
    }
}
