//! Stored objects, addressed by the SHA-256 of their bytes (invariant 3), on a local
//! directory or an S3-compatible bucket behind object_store; and the mirror sites' buckets
//! that hold copies of them (`mirror`).

pub mod direct;
pub mod mirror;
pub mod multipart;
pub mod staging;

use crate::model::checksum::{Algorithm, Checksum, Hasher};
use futures::StreamExt;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart, path::Path as ObjPath,
};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where objects live.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StorageConfig {
    /// Objects under `<data dir>/objects`.
    Local,
    /// An S3-compatible bucket. Credentials come from the usual AWS_* environment.
    S3 {
        bucket: String,
        #[serde(default)]
        endpoint: Option<String>,
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        prefix: Option<String>,
        /// Instead of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
        #[serde(default)]
        access_key_id: Option<String>,
        #[serde(default)]
        secret_access_key: Option<Secret>,
    },
}

/// A credential: read from configuration, never printed.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

/// Written out (`arca config check`) only as a mask.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("object store path: {0}")]
    Path(#[from] object_store::path::Error),
    #[error("disk: {0}")]
    Io(#[from] std::io::Error),
    #[error("object {0} is not in the store")]
    Missing(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// S3 allows 10,000 parts per upload: parts grow with the object beyond 160 GB.
pub fn part_size(object_size: u64) -> usize {
    const MIN: u64 = 16 << 20;
    MIN.max(object_size.div_ceil(10_000)) as usize
}

/// Bytes read per step when an object streams to a client (a download, a bag): one
/// buffer per stream in flight.
pub const STREAM_CHUNK: usize = 256 << 10;

/// How a staged file takes its place in the store.
#[derive(Clone, Copy)]
enum Placement {
    /// A new object: never replaces one already there.
    New,
    /// A repair: replaces a damaged object.
    Replace,
}

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// The local root when objects are on local disk: a staged upload is moved into place.
    local_root: Option<PathBuf>,
    /// S3: uploads are staged as multipart uploads in the bucket (see [`multipart`]).
    multipart: Option<Arc<object_store::aws::AmazonS3>>,
    prefix: String,
    staging_dir: PathBuf,
    bulk: staging::BulkSlots,
}

impl Storage {
    pub fn open(config: &StorageConfig, data_dir: &Path) -> StorageResult<Self> {
        let staging_dir = data_dir.join("uploads");
        std::fs::create_dir_all(&staging_dir)?;
        match config {
            StorageConfig::Local => {
                let root = data_dir.join("objects");
                std::fs::create_dir_all(&root)?;
                let root = root.canonicalize()?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&root)?;
                Ok(Self {
                    store: Arc::new(store),
                    local_root: Some(root),
                    multipart: None,
                    prefix: String::new(),
                    staging_dir,
                    bulk: staging::BulkSlots::per_core(),
                })
            }
            StorageConfig::S3 {
                bucket,
                endpoint,
                region,
                prefix,
                access_key_id,
                secret_access_key,
            } => {
                let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(e) = endpoint {
                    b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
                    b = b.with_virtual_hosted_style_request(false);
                }
                if let Some(r) = region {
                    b = b.with_region(r);
                }
                if let (Some(id), Some(secret)) = (access_key_id, secret_access_key) {
                    b = b.with_access_key_id(id).with_secret_access_key(&secret.0);
                }
                let s3 = Arc::new(b.build()?);
                Ok(Self {
                    store: s3.clone(),
                    local_root: None,
                    multipart: Some(s3),
                    prefix: prefix.clone().unwrap_or_default(),
                    staging_dir,
                    bulk: staging::BulkSlots::per_core(),
                })
            }
        }
    }

    /// Turns for hashing and writing staged bytes (see [`staging::BulkSlots`]).
    pub fn bulk_slots(&self) -> &staging::BulkSlots {
        &self.bulk
    }

    pub fn staging_path(&self, upload_id: &str) -> PathBuf {
        self.staging_dir.join(upload_id)
    }

    /// `sha256/ab/cd/abcd…`: two levels of fan-out keep directories small on local disk.
    fn key(&self, sha256: &str) -> StorageResult<ObjPath> {
        let key = format!(
            "{}sha256/{}/{}/{}",
            self.prefix,
            &sha256[0..2],
            &sha256[2..4],
            sha256
        );
        Ok(ObjPath::parse(key)?)
    }

    /// Whether the store answers (`/readyz`): one HEAD of a key that is never written (a
    /// "not found" is an answer), and on local disk the objects and staging directories
    /// are there. Bounded by `timeout`, so an S3 endpoint that hangs reads as not ready.
    pub async fn probe(&self, timeout: std::time::Duration) -> StorageResult<()> {
        for dir in self.local_root.iter().chain([&self.staging_dir]) {
            if !tokio::fs::metadata(dir).await?.is_dir() {
                return Err(StorageError::Io(std::io::Error::other(format!(
                    "{} is not a directory",
                    dir.display()
                ))));
            }
        }
        let key = ObjPath::parse(format!("{}readyz-probe", self.prefix))?;
        match tokio::time::timeout(timeout, self.store.head(&key)).await {
            Err(_) => Err(StorageError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", timeout.as_secs()),
            ))),
            Ok(Ok(_) | Err(object_store::Error::NotFound { .. })) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
        }
    }

    /// The stored size of an object, or `None` when it is not there (`arca check`).
    pub async fn object_size(&self, sha256: &str) -> StorageResult<Option<u64>> {
        match self.store.head(&self.key(sha256)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every stored object as (SHA-256, size), streamed (`arca check`). Keys that are not
    /// an object's (a probe, a stray file) come out with the key as it is.
    pub fn list_objects(&self) -> futures::stream::BoxStream<'_, StorageResult<(String, u64)>> {
        let prefix = ObjPath::from(format!("{}sha256", self.prefix));
        self.store
            .list(Some(&prefix))
            .map(|r| {
                let meta = r?;
                let name = meta
                    .location
                    .filename()
                    .unwrap_or(meta.location.as_ref())
                    .to_owned();
                Ok((name, meta.size))
            })
            .boxed()
    }

    /// Where an object's bytes are on local disk (local storage only): backups link them.
    pub fn local_object_path(&self, sha256: &str) -> Option<PathBuf> {
        let key = self.key(sha256).ok()?;
        self.local_root.as_ref().map(|root| root.join(key.as_ref()))
    }

    pub async fn exists(&self, sha256: &str) -> StorageResult<bool> {
        match self.store.head(&self.key(sha256)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Move a finished staging file into the store under its SHA-256. An object already
    /// there is never overwritten: the staged copy is simply dropped.
    pub async fn ingest_staged(&self, staged: &Path, sha256: &str, size: u64) -> StorageResult<()> {
        if self.exists(sha256).await? {
            remove_if_present(staged).await?;
            return Ok(());
        }
        self.place(staged, sha256, size, Placement::New).await
    }

    /// Put a staged file at `sha256`'s key. On a local disk the file is moved there
    /// durably (a new object by a link, which never replaces one that appeared
    /// meanwhile; a repair by a rename, which replaces atomically); on S3 it is uploaded.
    async fn place(
        &self,
        staged: &Path,
        sha256: &str,
        size: u64,
        how: Placement,
    ) -> StorageResult<()> {
        let key = self.key(sha256)?;
        match &self.local_root {
            Some(root) => {
                let target = root.join(key.as_ref());
                let staged = staged.to_owned();
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    let dir = target.parent().expect("object keys have a parent");
                    match how {
                        Placement::New => {
                            std::fs::create_dir_all(dir)?;
                            match std::fs::hard_link(&staged, &target) {
                                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                                    return Err(e);
                                }
                                _ => {}
                            }
                            std::fs::File::open(dir)?.sync_all()?;
                            std::fs::remove_file(&staged)
                        }
                        Placement::Replace => {
                            std::fs::File::open(&staged)?.sync_all()?;
                            std::fs::rename(&staged, &target)?;
                            std::fs::File::open(dir)?.sync_all()
                        }
                    }
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
            }
            None => {
                self.upload_multipart(staged, &key, size).await?;
                remove_if_present(staged).await?;
            }
        }
        Ok(())
    }

    async fn upload_multipart(&self, staged: &Path, key: &ObjPath, size: u64) -> StorageResult<()> {
        let part = part_size(size);
        if size < part as u64 {
            let bytes = tokio::fs::read(staged).await?;
            self.store.put(key, PutPayload::from(bytes)).await?;
            return Ok(());
        }
        let upload = self.store.put_multipart(key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part);
        let mut file = tokio::fs::File::open(staged).await?;
        let mut buf = vec![0u8; 8 << 20];
        loop {
            use tokio::io::AsyncReadExt;
            let n = match file.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    writer.abort().await?;
                    return Err(e.into());
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(4).await {
                return Err(e.into());
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        Ok(())
    }

    /// Read an object back and hash it with every algorithm asked for; SHA-256 always.
    /// Memory stays flat whatever the object's size.
    pub async fn hash_object(
        &self,
        sha256: &str,
        algorithms: &[Algorithm],
    ) -> StorageResult<(u64, Vec<Checksum>)> {
        let mut algs = vec![Algorithm::Sha256];
        algs.extend(
            algorithms
                .iter()
                .copied()
                .filter(|a| *a != Algorithm::Sha256),
        );
        if let Some(root) = &self.local_root {
            let path = root.join(self.key(sha256)?.as_ref());
            if !path.exists() {
                return Err(StorageError::Missing(sha256.to_owned()));
            }
            return tokio::task::spawn_blocking(move || hash_file(&path, &algs))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?
                .map_err(Into::into);
        }
        let result = match self.store.get(&self.key(sha256)?).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StorageError::Missing(sha256.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        let mut hashers: Vec<Hasher> = algs.iter().map(|a| Hasher::new(*a)).collect();
        let mut size = 0u64;
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hashers.iter_mut().for_each(|h| h.update(&chunk));
        }
        Ok((size, hashers.into_iter().map(Hasher::finish).collect()))
    }

    /// Stream an object's bytes, or the bytes in `range` (end exclusive), in chunks of
    /// `chunk` bytes (the last one may be shorter): memory stays flat whatever the
    /// object's size, and a mirror upload gets its parts without copying them again.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<std::ops::Range<u64>>,
        chunk: usize,
    ) -> StorageResult<futures::stream::BoxStream<'static, StorageResult<bytes::Bytes>>> {
        let key = self.key(sha256)?;
        if let Some(root) = &self.local_root {
            // object_store reads local files 8 KiB at a time, each on its own blocking
            // task: at archive sizes the hand-offs cost more CPU than the bytes.
            let path = root.join(key.as_ref());
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(StorageError::Missing(sha256.to_owned()));
                }
                Err(e) => return Err(e.into()),
            };
            return Ok(read_file_chunks(file, range, chunk).boxed());
        }
        let opts = object_store::GetOptions {
            range: range.map(object_store::GetRange::Bounded),
            ..Default::default()
        };
        match self.store.get_opts(&key, opts).await {
            Ok(r) => Ok(rechunk(r.into_stream().map(|c| c.map_err(Into::into)), chunk).boxed()),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StorageError::Missing(sha256.to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Test and repair hook: the bytes of a stored object, for small objects only.
    pub async fn read_all(&self, sha256: &str) -> StorageResult<bytes::Bytes> {
        Ok(self.store.get(&self.key(sha256)?).await?.bytes().await?)
    }

    /// Replace an object's bytes behind the archive's back. Only tests use this, to
    /// simulate bit rot; the archive itself never overwrites an object.
    #[cfg(feature = "test-hooks")]
    pub async fn corrupt_for_test(&self, sha256: &str, bytes: bytes::Bytes) -> StorageResult<()> {
        self.store
            .put(&self.key(sha256)?, PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// Put verified bytes back in place of a damaged object: the one exception to "never
    /// overwritten", used only by the fixity audit with bytes that hash right.
    pub async fn replace_object(
        &self,
        staged: &Path,
        sha256: &str,
        size: u64,
    ) -> StorageResult<()> {
        self.place(staged, sha256, size, Placement::Replace).await
    }

    /// Remove an object. Only garbage collection does this, for objects nothing refers to.
    pub async fn delete_object(&self, sha256: &str) -> StorageResult<()> {
        match self.store.delete(&self.key(sha256)?).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A local file's bytes in `range` as chunks of `chunk` bytes, each read on a blocking
/// thread.
fn read_file_chunks(
    file: std::fs::File,
    range: Option<std::ops::Range<u64>>,
    chunk: usize,
) -> impl futures::Stream<Item = StorageResult<bytes::Bytes>> + Send + 'static {
    let (start, end) = range.map_or((0, u64::MAX), |r| (r.start, r.end));
    futures::stream::try_unfold(
        (Some(file), start, end),
        move |(file, at, end)| async move {
            let Some(mut file) = file else {
                return Ok(None);
            };
            let want = (end - at).min(chunk as u64);
            if want == 0 {
                return Ok(None);
            }
            let (file, buf) = tokio::task::spawn_blocking(move || {
                use std::io::{Seek, SeekFrom};
                file.seek(SeekFrom::Start(at))?;
                let mut buf = Vec::with_capacity(want as usize);
                file.by_ref().take(want).read_to_end(&mut buf)?;
                Ok::<_, std::io::Error>((file, buf))
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
            if buf.is_empty() {
                return Ok(None);
            }
            let next = at + buf.len() as u64;
            // A short read is the end of the file.
            let file = (buf.len() as u64 == want).then_some(file);
            Ok(Some((bytes::Bytes::from(buf), (file, next, end))))
        },
    )
}

/// Regroup a stream of byte chunks of any size into chunks of exactly `size` bytes
/// (the last one may be shorter).
fn rechunk(
    stream: impl futures::Stream<Item = StorageResult<bytes::Bytes>> + Send + 'static,
    size: usize,
) -> impl futures::Stream<Item = StorageResult<bytes::Bytes>> + Send + 'static {
    futures::stream::try_unfold(
        (Some(stream.boxed()), bytes::BytesMut::new()),
        move |(stream, mut buf)| async move {
            let Some(mut stream) = stream else {
                return Ok(None);
            };
            while buf.len() < size {
                match stream.next().await.transpose()? {
                    // A whole chunk arriving on its own is passed on without a copy.
                    Some(c) if buf.is_empty() && c.len() == size => {
                        return Ok(Some((c, (Some(stream), buf))));
                    }
                    Some(c) => buf.extend_from_slice(&c),
                    None if buf.is_empty() => return Ok(None),
                    None => {
                        let last = buf.split().freeze();
                        return Ok(Some((last, (None, buf))));
                    }
                }
            }
            let c = buf.split_to(size).freeze();
            Ok(Some((c, (Some(stream), buf))))
        },
    )
}

fn hash_file(path: &Path, algs: &[Algorithm]) -> std::io::Result<(u64, Vec<Checksum>)> {
    let mut hashers: Vec<Hasher> = algs.iter().map(|a| Hasher::new(*a)).collect();
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hashers.iter_mut().for_each(|h| h.update(&buf[..n]));
    }
    Ok((size, hashers.into_iter().map(Hasher::finish).collect()))
}

pub async fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use futures::{StreamExt, TryStreamExt};

    fn pattern(n: usize) -> Vec<u8> {
        (0..n as u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect()
    }

    async fn chunks(
        s: impl futures::Stream<Item = super::StorageResult<bytes::Bytes>>,
    ) -> Vec<bytes::Bytes> {
        s.try_collect().await.unwrap()
    }

    #[tokio::test]
    async fn local_reads_come_in_whole_chunks_and_honour_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let data = pattern(10_000);
        let path = dir.path().join("object");
        std::fs::write(&path, &data).unwrap();
        let open = || std::fs::File::open(&path).unwrap();
        for (range, chunk) in [
            (None, 4096),
            (None, 2500), // the size is a multiple of the chunk
            (None, 1 << 20),
            (Some(1..9_999), 4096),
            (Some(4095..4097), 4096), // across a chunk boundary
            (Some(7_000..10_000), 1000),
            (Some(3..3), 1000),
        ] {
            let got = chunks(super::read_file_chunks(open(), range.clone(), chunk)).await;
            let r = range.unwrap_or(0..10_000);
            let want = &data[r.start as usize..r.end as usize];
            assert_eq!(got.concat(), want, "{r:?} in chunks of {chunk}");
            let (last, whole) = got.split_last().map_or((0, &[][..]), |(l, w)| (l.len(), w));
            assert!(whole.iter().all(|c| c.len() == chunk), "{r:?}/{chunk}");
            assert!((1..=chunk).contains(&last) || want.is_empty());
        }
    }

    #[tokio::test]
    async fn any_stream_is_regrouped_into_whole_chunks() {
        let data = pattern(10_000);
        // Uneven pieces, as an HTTP body arrives.
        let mut pieces = Vec::new();
        let mut at = 0;
        for n in [1usize, 4095, 4096, 7, 1801].iter().cycle() {
            if at >= data.len() {
                break;
            }
            let end = (at + n).min(data.len());
            pieces.push(bytes::Bytes::copy_from_slice(&data[at..end]));
            at = end;
        }
        for chunk in [1, 4096, 5000, 10_000, 20_000] {
            let s = futures::stream::iter(pieces.clone().into_iter().map(Ok));
            let got = chunks(super::rechunk(s, chunk)).await;
            assert_eq!(got.concat(), data);
            let (last, whole) = got.split_last().unwrap();
            assert!(whole.iter().all(|c| c.len() == chunk) && last.len() <= chunk);
        }
        // A failure in the source ends the stream with that failure.
        let failing = futures::stream::iter(vec![
            Ok(bytes::Bytes::from_static(b"abc")),
            Err(super::StorageError::Missing("x".into())),
        ]);
        let mut s = super::rechunk(failing, 2).boxed();
        assert_eq!(&s.next().await.unwrap().unwrap()[..], b"ab");
        assert!(s.next().await.unwrap().is_err());
    }

    #[test]
    fn parts_stay_under_ten_thousand() {
        assert_eq!(super::part_size(1 << 30), 16 << 20);
        let huge = 500u64 << 30;
        assert!(huge.div_ceil(super::part_size(huge) as u64) <= 10_000);
    }
}
