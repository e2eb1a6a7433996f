//! Where upload bytes land first: a file per upload on local disk. Bytes are hashed and
//! written on two threads at once, so a large upload runs at the slower of the two
//! speeds rather than their sum; nothing is acknowledged before it is fsynced.

use super::direct::Appender;
use crate::model::checksum::{Algorithm, Checksum, Hasher, ResumableSha256};
use bytes::{Bytes, BytesMut};
use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Bytes are handed to the threads in batches of this size, to keep per-message costs
/// small next to hashing. Memory in flight is bounded by `QUEUE * BATCH` per upload.
const BATCH: usize = 1 << 20;
const QUEUE: usize = 8;

/// Bulk work on upload batches that may run at once, across all uploads of one archive:
/// hashing, one turn per core; writing, a few turns per core. Thirty uploads would
/// otherwise keep sixty threads runnable and leave the threads that answer requests a
/// sliver of the CPU; bounded, page reads keep their share while a single upload still
/// uses every core. Writes have turns of their own: a write mostly waits on the device,
/// and while it held a hashing turn a core sat idle (measured: a third of both cores
/// during a series upload). Owned by the [`super::Storage`] (not a process-wide static),
/// so archives opened in one process, as the tests do, never wait on each other's turns.
#[derive(Clone)]
pub struct BulkSlots {
    hashing: Arc<Semaphore>,
    writing: Arc<Semaphore>,
}

/// Write turns per core.
const WRITES_PER_CORE: usize = 4;

impl BulkSlots {
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            hashing: Arc::new(Semaphore::new(cores)),
            writing: Arc::new(Semaphore::new(cores * WRITES_PER_CORE)),
        }
    }

    /// Run one batch of work on a blocking thread once one of `turns` is free.
    async fn run<T: Send + 'static>(
        turns: &Semaphore,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let _turn = turns.acquire().await.ok()?;
        tokio::task::spawn_blocking(work).await.ok()
    }

    async fn hash<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        Self::run(&self.hashing, work).await
    }

    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        Self::run(&self.writing, work).await
    }
}

enum Msg {
    Data(Bytes),
    Sync(oneshot::Sender<Vec<u8>>),
}

/// An open staging file being appended to.
pub struct StagingWriter {
    written: u64,
    pending: BytesMut,
    to_writer: mpsc::Sender<Msg>,
    to_hasher: mpsc::Sender<Msg>,
    writer: tokio::task::JoinHandle<std::io::Result<()>>,
    hasher: tokio::task::JoinHandle<Option<(ResumableSha256, Option<Hasher>)>>,
    /// The request's checksum is the whole file's SHA-256 (see [`Self::open`]).
    chunk_is_file: bool,
}

/// What a finished append leaves behind.
pub struct Appended {
    /// The whole-file hash so far (save it, or finish it when the upload is complete).
    pub sha256: ResumableSha256,
    /// The checksum of just the bytes of this append, when one was asked for.
    pub chunk: Option<Checksum>,
    pub written: u64,
}

fn io_err(what: &str) -> std::io::Error {
    std::io::Error::other(format!("staging {what} thread stopped"))
}

impl StagingWriter {
    /// Open `path` for appending at `offset`. Bytes past `offset` (written before a crash
    /// but never acknowledged) are cut off first.
    pub async fn open(
        slots: &BulkSlots,
        path: &Path,
        offset: u64,
        sha256: ResumableSha256,
        chunk_algorithm: Option<Algorithm>,
    ) -> std::io::Result<Self> {
        let p = path.to_owned();
        let file = tokio::task::spawn_blocking(move || Appender::open(&p, offset))
            .await
            .map_err(|_| io_err("open"))??;
        let (to_writer, mut wrx) = mpsc::channel::<Msg>(QUEUE);
        let (to_hasher, mut hrx) = mpsc::channel::<Msg>(QUEUE);
        // Each batch goes to a blocking thread of its own and the thread is given back
        // between batches: an upload whose client stalls holds no thread, so stalled
        // uploads cannot starve downloads and file reads of the blocking pool.
        let bulk = slots.clone();
        let writer = tokio::spawn(async move {
            let mut file = Some(file);
            while let Some(msg) = wrx.recv().await {
                let mut f = file.take().ok_or_else(|| io_err("write"))?;
                let (f, reply) = bulk
                    .write(move || match msg {
                        Msg::Data(b) => f.write(&b).map(|()| (f, None)),
                        Msg::Sync(reply) => f.sync().map(|()| (f, Some(reply))),
                    })
                    .await
                    .ok_or_else(|| io_err("write"))??;
                if let Some(reply) = reply {
                    let _ = reply.send(Vec::new());
                }
                file = Some(f);
            }
            let mut f = file.take().ok_or_else(|| io_err("write"))?;
            tokio::task::spawn_blocking(move || f.sync())
                .await
                .map_err(|_| io_err("write"))?
        });
        // A request that carries a whole file from its first byte with a SHA-256 of
        // its own: the file's hash is the request's, so the bytes are hashed once.
        let chunk_is_file = offset == 0 && chunk_algorithm == Some(Algorithm::Sha256);
        let chunk_algorithm = chunk_algorithm.filter(|_| !chunk_is_file);
        let bulk = slots.clone();
        let hasher = tokio::spawn(async move {
            let mut state = Some((sha256, chunk_algorithm.map(Hasher::new)));
            while let Some(msg) = hrx.recv().await {
                match msg {
                    Msg::Data(b) => {
                        let Some((mut sha, mut chunk)) = state.take() else {
                            break;
                        };
                        let done = bulk
                            .hash(move || {
                                sha.update(&b);
                                if let Some(c) = chunk.as_mut() {
                                    c.update(&b);
                                }
                                (sha, chunk)
                            })
                            .await;
                        match done {
                            Some(s) => state = Some(s),
                            None => break,
                        }
                    }
                    Msg::Sync(reply) => {
                        if let Some((sha, _)) = &state {
                            let _ = reply.send(sha.save());
                        }
                    }
                }
            }
            state
        });
        Ok(Self {
            written: 0,
            pending: BytesMut::new(),
            to_writer,
            to_hasher,
            writer,
            hasher,
            chunk_is_file,
        })
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub async fn write(&mut self, data: Bytes) -> std::io::Result<()> {
        self.written += data.len() as u64;
        if self.pending.is_empty() && data.len() >= BATCH {
            return self.send(data).await;
        }
        self.pending.extend_from_slice(&data);
        if self.pending.len() >= BATCH {
            let batch = self.pending.split().freeze();
            self.send(batch).await?;
        }
        Ok(())
    }

    async fn send(&mut self, data: Bytes) -> std::io::Result<()> {
        self.to_hasher
            .send(Msg::Data(data.clone()))
            .await
            .map_err(|_| io_err("hash"))?;
        self.to_writer
            .send(Msg::Data(data))
            .await
            .map_err(|_| io_err("write"))
    }

    async fn flush_pending(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let batch = self.pending.split().freeze();
            self.send(batch).await?;
        }
        Ok(())
    }

    /// Make everything written so far durable; returns the saved SHA-256 state that
    /// matches `start + written` bytes.
    pub async fn checkpoint(&mut self) -> std::io::Result<Vec<u8>> {
        self.flush_pending().await?;
        let (wtx, wrx) = oneshot::channel();
        let (htx, hrx) = oneshot::channel();
        self.to_writer
            .send(Msg::Sync(wtx))
            .await
            .map_err(|_| io_err("write"))?;
        self.to_hasher
            .send(Msg::Sync(htx))
            .await
            .map_err(|_| io_err("hash"))?;
        wrx.await.map_err(|_| io_err("write"))?;
        hrx.await.map_err(|_| io_err("hash"))
    }

    /// Stop without keeping anything pending, and wait until the threads have let go
    /// of the file so it can be cut back safely.
    pub async fn abort(mut self) {
        self.pending.clear();
        drop(self.to_writer);
        drop(self.to_hasher);
        let _ = self.writer.await;
        let _ = self.hasher.await;
    }

    /// Flush, fsync and close.
    pub async fn finish(mut self) -> std::io::Result<Appended> {
        self.flush_pending().await?;
        drop(self.to_writer);
        drop(self.to_hasher);
        self.writer.await.map_err(|_| io_err("write"))??;
        let (sha256, chunk) = self
            .hasher
            .await
            .ok()
            .flatten()
            .ok_or_else(|| io_err("hash"))?;
        let chunk = match self.chunk_is_file {
            true => Some(sha256.current()),
            false => chunk.map(Hasher::finish),
        };
        Ok(Appended {
            sha256,
            chunk,
            written: self.written,
        })
    }
}

/// Cut a staging file back to `len` bytes (unacknowledged bytes are dropped) and fsync.
pub async fn truncate(path: &Path, len: u64) -> std::io::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let f = OpenOptions::new().write(true).open(&path)?;
        f.set_len(len)?;
        f.sync_data()
    })
    .await
    .map_err(|_| io_err("truncate"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every turn of one archive taken (by uploads stalled mid-batch, say) must not hold
    /// up another archive in the same process: with one process-wide pool of turns, a
    /// test app's upload waited on another test's, and CI hung.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_archive_whose_turns_are_taken_does_not_stop_another() {
        let busy = BulkSlots::per_core();
        let _hashing = busy
            .hashing
            .clone()
            .acquire_many_owned(busy.hashing.available_permits() as u32)
            .await
            .unwrap();
        let _writing = busy
            .writing
            .clone()
            .acquire_many_owned(busy.writing.available_permits() as u32)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload");
        let ours = BulkSlots::per_core();
        let mut w = StagingWriter::open(&ours, &path, 0, ResumableSha256::new(), None)
            .await
            .unwrap();
        let data = vec![7u8; 3 * BATCH + 5];
        w.write(Bytes::from(data.clone())).await.unwrap();
        let done = tokio::time::timeout(std::time::Duration::from_secs(30), w.finish())
            .await
            .expect("staging waited on another archive's turns")
            .unwrap();
        assert_eq!(done.written, data.len() as u64);
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }
}
