//! Uploads staged in the object store itself, so that any server can take the next
//! request of an upload (as tusd's S3 store does). Each upload is one S3 multipart
//! upload whose parts are all the same size; the bytes after the last whole part are
//! kept in a small "tail" object, written under a key of its own for each writer and
//! offset so a slow writer that lost its lease can never overwrite what the catalogue
//! points at. The catalogue records the parts' ETags, the tail's key, the offset and
//! the hash state; the store holds only bytes.

use super::{Storage, StorageError, StorageResult};
use bytes::Bytes;
use futures::StreamExt;
use object_store::multipart::{MultipartStore, PartId};
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart, path::Path as ObjPath};

/// CopyObject copies at most 5 GiB in one request; larger objects are streamed.
const MAX_COPY: u64 = 5 << 30;

/// A multipart upload in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub key: String,
    pub multipart_id: String,
}

impl Storage {
    /// Whether uploads are staged in the object store rather than on local disk.
    pub fn stages_in_store(&self) -> bool {
        self.multipart.is_some()
    }

    fn multipart(&self) -> StorageResult<&dyn MultipartStore> {
        self.multipart
            .as_deref()
            .map(|s| s as &dyn MultipartStore)
            .ok_or_else(|| {
                StorageError::Io(std::io::Error::other(
                    "uploads are staged on local disk with this storage",
                ))
            })
    }

    fn upload_prefix(&self, upload_id: &str) -> String {
        format!("{}uploads/{upload_id}/", self.prefix)
    }

    /// Start staging an upload. When the client said which SHA-256 the bytes have, they
    /// are assembled at that object's key directly (completed only if they hash right,
    /// so nothing is ever stored under a hash its bytes do not have); otherwise at a
    /// key of the upload's own, copied into place when done.
    pub async fn begin_staging(
        &self,
        upload_id: &str,
        sha256: Option<&str>,
    ) -> StorageResult<Staged> {
        let key = match sha256 {
            Some(sha) => self.key(sha)?,
            None => ObjPath::parse(format!("{}data", self.upload_prefix(upload_id)))?,
        };
        let multipart_id = self.multipart()?.create_multipart(&key).await?;
        Ok(Staged {
            key: key.to_string(),
            multipart_id,
        })
    }

    /// Store part `number` (from 0) of a staged upload; returns its ETag.
    pub async fn put_staged_part(
        &self,
        staged: &Staged,
        number: usize,
        bytes: Bytes,
    ) -> StorageResult<String> {
        let key = ObjPath::parse(&staged.key)?;
        let part = self
            .multipart()?
            .put_part(&key, &staged.multipart_id, number, PutPayload::from(bytes))
            .await?;
        Ok(part.content_id)
    }

    /// Keep the bytes after the last whole part, written by `writer`, ending at `offset`.
    pub async fn put_tail(
        &self,
        upload_id: &str,
        writer: &str,
        offset: i64,
        bytes: Bytes,
    ) -> StorageResult<String> {
        let key = format!("{}tail-{writer}-{offset}", self.upload_prefix(upload_id));
        self.store
            .put(&ObjPath::parse(&key)?, PutPayload::from(bytes))
            .await?;
        Ok(key)
    }

    /// The first `len` bytes of a tail object.
    pub async fn read_tail(&self, key: &str, len: usize) -> StorageResult<Bytes> {
        if len == 0 {
            return Ok(Bytes::new());
        }
        let bytes = match self.store.get(&ObjPath::parse(key)?).await {
            Ok(r) => r.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StorageError::Missing(key.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        if bytes.len() < len {
            return Err(StorageError::Missing(format!(
                "{key} (only {} of {len} bytes)",
                bytes.len()
            )));
        }
        Ok(bytes.slice(..len))
    }

    /// Remove a tail object the catalogue no longer points at.
    pub async fn drop_tail(&self, key: &str) {
        if let Ok(path) = ObjPath::parse(key)
            && let Err(e) = self.store.delete(&path).await
        {
            tracing::warn!(key, error = %e, "could not remove an old upload tail");
        }
    }

    /// Assemble a fully received upload: the recorded parts and the tail become the
    /// object with SHA-256 `sha256`. The caller has checked that the bytes hash to it.
    /// Idempotent: an object already there is kept and the staged copy dropped.
    pub async fn finish_staging(
        &self,
        upload_id: &str,
        staged: &Staged,
        parts: Vec<String>,
        tail: Bytes,
        sha256: &str,
        size: u64,
    ) -> StorageResult<()> {
        let target = self.key(sha256)?;
        let staged_key = ObjPath::parse(&staged.key)?;
        let store = self.multipart()?;
        // Already stored (by another upload of the same bytes, or by an earlier attempt
        // at this one that stopped before the catalogue knew): the staged copy goes.
        if self.exists(sha256).await? {
            self.abort_staging(upload_id, staged).await;
            return Ok(());
        }
        if size == 0 {
            self.store.put(&target, PutPayload::default()).await?;
            self.abort_staging(upload_id, staged).await;
            return Ok(());
        }
        let mut ids: Vec<PartId> = parts
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        if !tail.is_empty() {
            let n = ids.len();
            ids.push(
                store
                    .put_part(&staged_key, &staged.multipart_id, n, PutPayload::from(tail))
                    .await?,
            );
        }
        match store
            .complete_multipart(&staged_key, &staged.multipart_id, ids)
            .await
        {
            Ok(_) => {}
            // Completed by an earlier attempt that stopped before the catalogue knew.
            Err(_) if self.exists(sha256).await? => {}
            Err(e) => return Err(e.into()),
        }
        if staged_key != target {
            if !self.exists(sha256).await? {
                self.copy_object(&staged_key, &target, size).await?;
            }
            if let Err(e) = self.store.delete(&staged_key).await {
                tracing::warn!(key = %staged_key, error = %e, "could not remove a staged upload");
            }
        }
        self.drop_upload_objects(upload_id).await;
        Ok(())
    }

    /// Give up a staged upload: its multipart upload and every tail object.
    pub async fn abort_staging(&self, upload_id: &str, staged: &Staged) {
        if let (Ok(store), Ok(key)) = (self.multipart(), ObjPath::parse(&staged.key))
            && let Err(e) = store.abort_multipart(&key, &staged.multipart_id).await
        {
            tracing::warn!(upload = upload_id, error = %e, "could not abort a staged multipart upload");
        }
        self.drop_upload_objects(upload_id).await;
    }

    async fn drop_upload_objects(&self, upload_id: &str) {
        let Ok(prefix) = ObjPath::parse(self.upload_prefix(upload_id)) else {
            return;
        };
        let mut listing = self.store.list(Some(&prefix));
        while let Some(meta) = listing.next().await {
            match meta {
                Ok(m) => {
                    if let Err(e) = self.store.delete(&m.location).await {
                        tracing::warn!(key = %m.location, error = %e, "could not remove an upload object");
                    }
                }
                Err(e) => {
                    tracing::warn!(upload = upload_id, error = %e, "could not list an upload's objects");
                    return;
                }
            }
        }
    }

    /// Copy within the store: one request up to 5 GiB, streamed in parts beyond.
    async fn copy_object(&self, from: &ObjPath, to: &ObjPath, size: u64) -> StorageResult<()> {
        if size <= MAX_COPY {
            self.store.copy(from, to).await?;
            return Ok(());
        }
        let part = super::part_size(size);
        let mut writer =
            WriteMultipart::new_with_chunk_size(self.store.put_multipart(to).await?, part);
        let mut stream = self.store.get(from).await?.into_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => {
                    writer.wait_for_capacity(4).await?;
                    writer.write(&c);
                }
                Err(e) => {
                    writer.abort().await?;
                    return Err(e.into());
                }
            }
        }
        writer.finish().await?;
        Ok(())
    }
}
