//! Mirror sites: S3-compatible buckets at other sites, holding copies of stored objects
//! under the same content-addressed keys. Uploads are multipart with a SHA-256 checksum
//! per part (the mirror checks each), and the parts it accepted can be resumed after a
//! crash or an outage.

use crate::model::MirrorPolicy;
use crate::model::checksum::{Algorithm, Hasher};
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, Checksum};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// Where a mirror's credentials are: never the credentials themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Credentials {
    /// Two environment variables: the access key id and the secret key.
    Env(String, String),
    /// A file with `access_key_id = "…"` and `secret_access_key = "…"` (TOML).
    File(PathBuf),
}

/// Where credentials come from, as curators and operators are shown it (never the
/// credentials themselves).
impl std::fmt::Display for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Env(key, secret) => write!(f, "env {key}, {secret}"),
            Credentials::File(path) => write!(f, "file: {}", path.display()),
        }
    }
}

impl Credentials {
    /// The reference as an operator lists it in `[mirrors] console_credentials`.
    pub fn reference(&self) -> String {
        match self {
            Credentials::Env(key, secret) => format!("env:{key},{secret}"),
            Credentials::File(path) => format!("file:{}", path.display()),
        }
    }
}

/// The region of a mirror that does not name one (most S3-compatible servers ignore it).
pub const DEFAULT_REGION: &str = "us-east-1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorSpec {
    pub name: String,
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub prefix: String,
    pub credentials: Credentials,
    pub policy: MirrorPolicy,
    /// How readers may fetch its copies.
    pub readers: Readers,
}

/// How readers may fetch a mirror's copies (the manifest's URLs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Readers {
    /// Not at all: a replica for the archive only.
    #[default]
    None,
    /// The bucket is published at this base URL; an object is at `{base}/{key}`.
    Public(String),
    /// The archive signs short-lived GET URLs with the mirror's credentials.
    Presigned,
}

impl Readers {
    /// The stored form: (`none`|`public`|`presigned`, the public URL).
    pub fn stored(&self) -> (&'static str, Option<&str>) {
        match self {
            Readers::None => ("none", None),
            Readers::Public(url) => ("public", Some(url)),
            Readers::Presigned => ("presigned", None),
        }
    }

    pub fn from_stored(kind: &str, url: Option<String>) -> Result<Self, String> {
        match (kind, url) {
            ("none", _) => Ok(Readers::None),
            ("presigned", _) => Ok(Readers::Presigned),
            ("public", Some(url)) => Ok(Readers::Public(url)),
            (other, _) => Err(format!("unknown mirror readers '{other}'")),
        }
    }
}

impl std::fmt::Display for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Readers::None => f.write_str("none"),
            Readers::Public(url) => write!(f, "public at {url}"),
            Readers::Presigned => f.write_str("presigned URLs"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("mirror {mirror}: {message}")]
    Config { mirror: String, message: String },
    #[error("mirror {mirror}: {source}")]
    Store {
        mirror: String,
        source: object_store::Error,
    },
}

pub type MirrorResult<T> = Result<T, MirrorError>;

#[derive(Deserialize)]
struct KeyFile {
    access_key_id: String,
    secret_access_key: String,
}

/// An open connection to one mirror.
#[derive(Clone)]
pub struct Mirror {
    pub name: String,
    store: Arc<AmazonS3>,
    prefix: String,
    part_size: u64,
    readers: Readers,
}

impl Mirror {
    /// Connect (nothing is sent yet). `part_size`: bytes per multipart part.
    pub fn open(spec: &MirrorSpec, part_size: u64) -> MirrorResult<Self> {
        let config = |message: String| MirrorError::Config {
            mirror: spec.name.clone(),
            message,
        };
        let (key, secret) = match &spec.credentials {
            Credentials::Env(k, s) => (
                std::env::var(k)
                    .map_err(|_| config(format!("environment variable {k} is not set")))?,
                std::env::var(s)
                    .map_err(|_| config(format!("environment variable {s} is not set")))?,
            ),
            Credentials::File(path) => {
                // Never quote the file or the parser's view of it: it holds secrets.
                let text = std::fs::read_to_string(path).map_err(|e| {
                    config(format!(
                        "credentials file {} cannot be read ({})",
                        path.display(),
                        e.kind()
                    ))
                })?;
                let f: KeyFile = toml::from_str(&text).map_err(|_| {
                    config(format!(
                        "credentials file {} is not TOML with access_key_id and secret_access_key",
                        path.display()
                    ))
                })?;
                (f.access_key_id, f.secret_access_key)
            }
        };
        let store = AmazonS3Builder::new()
            .with_endpoint(&spec.endpoint)
            .with_allow_http(spec.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .with_region(&spec.region)
            .with_bucket_name(&spec.bucket)
            .with_access_key_id(key)
            .with_secret_access_key(secret)
            .with_checksum_algorithm(Checksum::SHA256)
            // Integrity rides on the per-part SHA-256 checksum the mirror verifies; a
            // second, signed hash of the payload would only cost the mirror CPU.
            .with_unsigned_payload(true)
            // The job queue retries with backoff; inside one run, give up soon.
            .with_retry(object_store::RetryConfig {
                max_retries: 2,
                retry_timeout: std::time::Duration::from_secs(20),
                ..Default::default()
            })
            .build()
            .map_err(|e| config(e.to_string()))?;
        Ok(Mirror {
            name: spec.name.clone(),
            store: Arc::new(store),
            prefix: spec.prefix.trim_matches('/').to_owned(),
            part_size,
            readers: spec.readers.clone(),
        })
    }

    /// Bytes per part for an object of `size`: the configured size, larger where that
    /// would need more than 10,000 parts.
    pub fn part_size_for(&self, size: u64) -> u64 {
        self.part_size.max(size.div_ceil(10_000))
    }

    fn err(&self, source: object_store::Error) -> MirrorError {
        MirrorError::Store {
            mirror: self.name.clone(),
            source,
        }
    }

    fn key(&self, sha256: &str) -> ObjPath {
        let rel = format!("sha256/{}/{}/{sha256}", &sha256[..2], &sha256[2..4]);
        if self.prefix.is_empty() {
            ObjPath::from(rel)
        } else {
            ObjPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    /// Where a reader can GET the mirror's copy: under its public URL, or a URL signed
    /// for `valid_for`; None when the mirror is not open to readers.
    pub async fn reader_url(
        &self,
        sha256: &str,
        valid_for: std::time::Duration,
    ) -> MirrorResult<Option<String>> {
        use object_store::signer::Signer;
        let key = self.key(sha256);
        match &self.readers {
            Readers::None => Ok(None),
            Readers::Public(base) => Ok(Some(format!(
                "{}/{}",
                base.trim_end_matches('/'),
                key.as_ref()
            ))),
            Readers::Presigned => {
                let url = self
                    .store
                    .signed_url(reqwest::Method::GET, &key, valid_for)
                    .await
                    .map_err(|e| self.err(e))?;
                Ok(Some(url.to_string()))
            }
        }
    }

    /// The size of the mirror's copy, if it has one.
    pub async fn size_of(&self, sha256: &str) -> MirrorResult<Option<u64>> {
        match self.store.head(&self.key(sha256)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Read the mirror's copy back and hash it: `(size, sha256)`, or None if missing.
    pub async fn hash(&self, sha256: &str) -> MirrorResult<Option<(u64, String)>> {
        self.read_hashed(sha256, None).await
    }

    /// Copy the mirror's copy into a local file, hashing it: `(size, sha256)`, or None
    /// if the mirror has no copy.
    pub async fn download(
        &self,
        sha256: &str,
        to: &std::path::Path,
    ) -> MirrorResult<Option<(u64, String)>> {
        self.read_hashed(sha256, Some(to)).await
    }

    /// Stream the mirror's copy through SHA-256, into `to` when given.
    async fn read_hashed(
        &self,
        sha256: &str,
        to: Option<&std::path::Path>,
    ) -> MirrorResult<Option<(u64, String)>> {
        use tokio::io::AsyncWriteExt;
        let result = match self.store.get(&self.key(sha256)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        let io = |e: std::io::Error| {
            self.err(object_store::Error::Generic {
                store: "local staging",
                source: Box::new(e),
            })
        };
        let mut file = match to {
            Some(path) => Some(tokio::fs::File::create(path).await.map_err(io)?),
            None => None,
        };
        let mut h = Hasher::new(Algorithm::Sha256);
        let mut size = 0u64;
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.err(e))?;
            size += chunk.len() as u64;
            h.update(&chunk);
            if let Some(f) = file.as_mut() {
                f.write_all(&chunk).await.map_err(io)?;
            }
        }
        if let Some(f) = file {
            f.sync_all().await.map_err(io)?;
        }
        Ok(Some((size, h.finish().hex)))
    }

    /// A whole small object in one request (with its SHA-256 checked by the mirror).
    pub async fn put_whole(&self, sha256: &str, bytes: bytes::Bytes) -> MirrorResult<()> {
        self.store
            .put(&self.key(sha256), PutPayload::from(bytes))
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub async fn create_upload(&self, sha256: &str) -> MirrorResult<String> {
        self.store
            .create_multipart(&self.key(sha256))
            .await
            .map_err(|e| self.err(e))
    }

    /// Send part `index` (from 0); returns what completing the upload needs.
    pub async fn put_part(
        &self,
        sha256: &str,
        upload_id: &str,
        index: usize,
        bytes: bytes::Bytes,
    ) -> MirrorResult<String> {
        let part = self
            .store
            .put_part(
                &self.key(sha256),
                &upload_id.to_owned(),
                index,
                PutPayload::from(bytes),
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(part.content_id)
    }

    pub async fn complete(
        &self,
        sha256: &str,
        upload_id: &str,
        parts: Vec<String>,
    ) -> MirrorResult<()> {
        let parts = parts
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        self.store
            .complete_multipart(&self.key(sha256), &upload_id.to_owned(), parts)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Abort an upload; one the mirror no longer knows is already gone.
    pub async fn abort(&self, sha256: &str, upload_id: &str) -> MirrorResult<()> {
        match self
            .store
            .abort_multipart(&self.key(sha256), &upload_id.to_owned())
            .await
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    pub async fn delete(&self, sha256: &str) -> MirrorResult<()> {
        match self.store.delete(&self.key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Replace the mirror's copy behind the archive's back: tests simulate bit rot.
    #[cfg(feature = "test-hooks")]
    pub async fn corrupt_for_test(&self, sha256: &str, bytes: bytes::Bytes) -> MirrorResult<()> {
        self.put_whole(sha256, bytes).await
    }
}
