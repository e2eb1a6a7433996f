//! Replication to mirror sites as managed transfers: one per dataset version and mirror,
//! run from the job queue, resumable part by part, every copy verified.

use super::jobs::Job;
use super::{ServiceError, ServiceResult};
use crate::db::{self, Tx, mirrors::TransferRow, now_ms, versions::VersionRow};
use crate::model::checksum::{Algorithm, Checksum, Hasher};
use crate::model::ids::DepositId;
use crate::model::{MirrorPolicy, TransferState};
use crate::storage::mirror::{Mirror, MirrorError, MirrorSpec, Readers};
use futures::StreamExt;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the objects of one transfer share: a window of bytes on the wire, and the turn
/// to read from the primary store.
///
/// The window holds `requests_in_flight` parts of the configured size. A larger part
/// (objects over 80 GB need them: S3 allows 10,000 parts) takes a share to match, so
/// memory stays within the window whatever the object's size; a part larger than the
/// whole window goes alone. Objects read one after the other, so they finish in order
/// as the tail of one overlaps the start of the next; small objects go up beside them.
struct Window {
    slots: Arc<Semaphore>,
    total: u32,
    slot_bytes: u64,
    reading: tokio::sync::Mutex<()>,
}

/// One transfer on its way: the mirror, the transfer whose progress counts (empty for a
/// repair, which counts nowhere), and the window it sends through.
pub(super) struct Sending<'a> {
    mirror: &'a Mirror,
    transfer: &'a str,
    window: Window,
}

impl Window {
    fn new(requests_in_flight: usize, part_size: u64) -> Self {
        let total = requests_in_flight.clamp(1, Semaphore::MAX_PERMITS) as u32;
        Window {
            slots: Arc::new(Semaphore::new(total as usize)),
            total,
            slot_bytes: part_size.max(1),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// Room for a request carrying `bytes`; given back when the permit is dropped.
    async fn request(&self, bytes: u64) -> OwnedSemaphorePermit {
        let slots = bytes.div_ceil(self.slot_bytes).clamp(1, self.total as u64) as u32;
        self.slots
            .clone()
            .acquire_many_owned(slots)
            .await
            .expect("the semaphore is never closed")
    }
}

/// A part's upload task as it ends: its index, and the content id the mirror gave it
/// with the bytes sent, or why it failed.
type PartDone = Result<(usize, Result<(String, u64), MirrorError>), tokio::task::JoinError>;

impl From<MirrorError> for ServiceError {
    fn from(e: MirrorError) -> Self {
        match e {
            MirrorError::Config { .. } => ServiceError::Conflict(e.to_string()),
            // A mirror that does not answer is worth another try later.
            MirrorError::Store { .. } => ServiceError::Incomplete(e.to_string()),
        }
    }
}

fn check_spec(m: &MirrorSpec) -> ServiceResult<()> {
    if m.name.is_empty()
        || m.name.len() > 64
        || !m
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(ServiceError::invalid(
            "name",
            "lower-case letters, digits and '-', at most 64",
        ));
    }
    if m.name == "primary" {
        return Err(ServiceError::invalid(
            "name",
            "'primary' names the archive's own store",
        ));
    }
    if !(m.endpoint.starts_with("http://") || m.endpoint.starts_with("https://")) {
        return Err(ServiceError::invalid(
            "endpoint",
            "an http:// or https:// URL",
        ));
    }
    check_readers(&m.readers)
}

/// A public base URL is where the bucket's objects are published: http(s), no query.
fn check_readers(r: &Readers) -> ServiceResult<()> {
    if let Readers::Public(base) = r {
        let ok = url::Url::parse(base).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.query().is_none()
                && u.fragment().is_none()
        });
        if !ok || base.len() > 2000 {
            return Err(ServiceError::invalid(
                "public_url",
                "an http:// or https:// URL with no query, at most 2,000 characters",
            ));
        }
    }
    Ok(())
}

/// Who adds a mirror: the operator (CLI) may name any endpoint and credentials; a
/// curator in the console only those the operator allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddedBy {
    Operator,
    Curator,
}

fn endpoint_host(endpoint: &str) -> Option<String> {
    let u = url::Url::parse(endpoint).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}
super::capability!(mirrors);

impl Service<'_> {
    fn check_console_spec(&self, spec: &MirrorSpec) -> ServiceResult<()> {
        let allowed = &self.config.mirrors;
        let host = endpoint_host(&spec.endpoint);
        if !host.as_ref().is_some_and(|h| {
            allowed
                .console_hosts
                .iter()
                .any(|a| a.eq_ignore_ascii_case(h))
        }) {
            return Err(ServiceError::invalid(
                "endpoint",
                if allowed.console_hosts.is_empty() {
                    "mirrors are added by the operator (arca mirror add): no endpoint is open to the console ([mirrors] console_hosts)".to_owned()
                } else {
                    format!(
                        "the operator allows mirrors at {} only ([mirrors] console_hosts)",
                        allowed.console_hosts.join(", ")
                    )
                },
            ));
        }
        if !allowed
            .console_credentials
            .contains(&spec.credentials.reference())
        {
            return Err(ServiceError::invalid(
                "credentials",
                "these credentials are not among those the operator offers to the console ([mirrors] console_credentials)",
            ));
        }
        Ok(())
    }

    /// Add a mirror. Its credentials must resolve now (they are read, never stored).
    pub async fn add(&self, spec: MirrorSpec, by: AddedBy) -> ServiceResult<()> {
        check_spec(&spec)?;
        if by == AddedBy::Curator {
            self.check_console_spec(&spec)?;
        }
        Mirror::open(&spec, self.config.mirrors.part_size)?;
        let mut tx = self.db.begin_write().await?;
        db::mirrors::insert_mirror(&mut tx, &spec, now_ms())
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    ServiceError::Conflict(format!("a mirror named '{}' exists", spec.name))
                } else {
                    e.into()
                }
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// Change how readers may fetch a mirror's copies (the operator's choice: a public
    /// bucket, or URLs the archive signs). Manifests say so from the next request.
    pub async fn set_readers(&self, name: &str, readers: Readers) -> ServiceResult<()> {
        check_readers(&readers)?;
        let mut tx = self.db.begin_write().await?;
        if !db::mirrors::set_readers(&mut tx, name, &readers).await? {
            return Err(ServiceError::NotFound("mirror"));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list(&self) -> ServiceResult<Vec<MirrorSpec>> {
        let mut conn = self.db.conn().await?;
        Ok(db::mirrors::mirrors(&mut conn).await?)
    }

    /// Connections to every mirror, or to those with `policy`.
    pub(super) async fn open_mirrors(
        &self,
        policy: Option<MirrorPolicy>,
    ) -> ServiceResult<Vec<Mirror>> {
        self.list()
            .await?
            .iter()
            .filter(|m| policy.is_none_or(|p| m.policy == p))
            .map(|m| Mirror::open(m, self.config.mirrors.part_size).map_err(Into::into))
            .collect()
    }

    pub(super) async fn open_mirror(&self, name: &str) -> ServiceResult<Mirror> {
        let spec = self
            .list()
            .await?
            .into_iter()
            .find(|m| m.name == name)
            .ok_or(ServiceError::NotFound("mirror"))?;
        Ok(Mirror::open(&spec, self.config.mirrors.part_size)?)
    }

    /// Queue a transfer of `v` to every mirror whose policy is in `policies`. Returns
    /// whether any job was queued.
    pub(super) async fn enqueue_transfers(
        &self,
        tx: &mut Tx,
        v: &VersionRow,
        policies: &[MirrorPolicy],
        now: i64,
    ) -> ServiceResult<bool> {
        let mirrors = db::mirrors::mirrors(tx).await?;
        let (files, bytes) = db::files::totals(tx, &v.id).await?;
        let mut queued = false;
        for m in mirrors.iter().filter(|m| policies.contains(&m.policy)) {
            let t = TransferRow::queued(&v.id, &m.name, files, bytes, now);
            db::mirrors::insert_transfer(tx, &t).await?;
            super::jobs::enqueue(tx, &Job::Transfer { transfer: t.id }, now).await?;
            queued = true;
        }
        Ok(queued)
    }

    /// After a withdrawal: take the version's objects off public mirrors (from the queue).
    pub(super) async fn enqueue_mirror_removal(
        &self,
        tx: &mut Tx,
        version_id: &DepositId,
        now: i64,
    ) -> ServiceResult<bool> {
        if db::mirrors::mirrors(tx).await?.is_empty() {
            return Ok(false);
        }
        let job = Job::MirrorRemove {
            version_id: version_id.clone(),
        };
        super::jobs::enqueue(tx, &job, now).await?;
        Ok(true)
    }

    pub async fn transfers(
        &self,
        version_id: Option<&str>,
        before: &str,
        limit: i64,
    ) -> ServiceResult<Vec<TransferRow>> {
        let mut conn = self.db.conn().await?;
        Ok(db::mirrors::transfers(&mut conn, version_id, before, limit.clamp(1, 500)).await?)
    }

    pub async fn transfer(&self, id: &str) -> ServiceResult<TransferRow> {
        let mut conn = self.db.conn().await?;
        db::mirrors::get_transfer(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("transfer"))
    }

    /// Run a transfer again (after it failed for good, or to re-check a mirror).
    pub async fn retry_transfer(&self, id: &str) -> ServiceResult<TransferRow> {
        let t = self.transfer(id).await?;
        if t.state == TransferState::Active {
            return Err(ServiceError::Conflict("the transfer is running".into()));
        }
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        db::mirrors::set_transfer_state(&mut tx, id, TransferState::Queued, None, now).await?;
        let job = Job::Transfer {
            transfer: id.to_owned(),
        };
        super::jobs::enqueue(&mut tx, &job, now).await?;
        tx.commit().await?;
        self.jobs_enqueued();
        self.transfer(id).await
    }

    /// The transfer job: every object of the version onto the mirror, verified.
    pub async fn run_transfer(&self, id: &str) -> ServiceResult<()> {
        let t = self.transfer(id).await?;
        if t.state == TransferState::Succeeded {
            return Ok(());
        }
        let mut conn = self.db.conn().await?;
        db::mirrors::set_transfer_state(&mut conn, id, TransferState::Active, None, now_ms())
            .await?;
        drop(conn);
        let result = self.transfer_files(&t).await;
        match &result {
            Ok(()) => {
                // The dataset's page lists the mirror from now on.
                let now = now_ms();
                let mut tx = self.db.begin_write().await?;
                db::mirrors::set_transfer_state(&mut tx, id, TransferState::Succeeded, None, now)
                    .await?;
                if let Some(v) = db::versions::get(&mut tx, &t.version_id).await? {
                    super::landing::changed(&mut tx, &v.dataset_id, now).await?;
                }
                tx.commit().await?;
                self.jobs_enqueued();
                self.counters.count_transfer(TransferState::Succeeded);
            }
            Err(e) => {
                let mut conn = self.db.conn().await?;
                db::mirrors::set_transfer_state(
                    &mut conn,
                    id,
                    TransferState::Failed,
                    Some(&e.to_string()),
                    now_ms(),
                )
                .await?;
                self.counters.count_transfer(TransferState::Failed);
            }
        }
        result
    }

    /// How one transfer (or one repair) sends to `mirror`.
    pub(super) fn sending<'a>(&self, mirror: &'a Mirror, transfer: &'a str) -> Sending<'a> {
        let m = &self.config.mirrors;
        Sending {
            mirror,
            transfer,
            window: Window::new(m.requests_in_flight, m.part_size),
        }
    }

    async fn transfer_files(&self, t: &TransferRow) -> ServiceResult<()> {
        let mirror = self.open_mirror(&t.mirror).await?;
        let in_flight = self.config.mirrors.requests_in_flight;
        let to = self.sending(&mirror, &t.id);
        // Each run counts afresh: parts as the mirror accepts them, objects as they
        // complete (a large object shows progress long before it is done).
        let mut conn = self.db.conn().await?;
        db::mirrors::reset_progress(&mut conn, &t.id).await?;
        drop(conn);
        let mut after = String::new();
        loop {
            let mut conn = self.db.conn().await?;
            let page = db::files::list(&mut conn, &t.version_id, &after, 500).await?;
            drop(conn);
            let Some(last) = page.last() else { break };
            after = last.path.clone();
            // The same bytes under two names are one object: sent once.
            let mut seen = std::collections::HashSet::new();
            let (page, twins): (Vec<_>, Vec<_>) = page
                .into_iter()
                .partition(|f| seen.insert(f.sha256.clone()));
            let mut sent = futures::stream::iter(page)
                .map(|f| {
                    let to = &to;
                    async move {
                        self.replicate(to, &f.sha256, f.size as u64)
                            .await
                            .map(|()| f.size)
                    }
                })
                .buffer_unordered(in_flight);
            while let Some(done) = sent.next().await {
                self.counters.transfer_bytes.inc_by(done?.max(0) as u64);
            }
            let twin_bytes: i64 = twins.iter().map(|f| f.size).sum();
            let mut conn = self.db.conn().await?;
            db::mirrors::add_progress(&mut conn, &t.id, twins.len() as i64, twin_bytes).await?;
        }
        Ok(())
    }

    /// Put one object on a mirror unless a verified copy is there, and count it done.
    pub(super) async fn replicate(
        &self,
        to: &Sending<'_>,
        sha256: &str,
        size: u64,
    ) -> ServiceResult<()> {
        let counted = self.put_object(to, sha256, size).await?;
        let mut conn = self.db.conn().await?;
        let rest = size.saturating_sub(counted) as i64;
        db::mirrors::add_progress(&mut conn, to.transfer, 1, rest).await?;
        Ok(())
    }

    /// Put one object on a mirror unless a verified copy is there; resumes an upload the
    /// mirror already has parts of. Returns the bytes already counted in the transfer's
    /// progress (the parts sent).
    async fn put_object(&self, to: &Sending<'_>, sha256: &str, size: u64) -> ServiceResult<u64> {
        let mirror = to.mirror;
        let mut conn = self.db.conn().await?;
        if db::mirrors::has_replica(&mut conn, &mirror.name, sha256).await? {
            return Ok(0);
        }
        drop(conn);
        // Already there (an earlier run, or copied by other means)? Only a copy that
        // hashes right counts.
        if mirror.size_of(sha256).await? == Some(size)
            && let Some((_, hex)) = mirror.hash(sha256).await?
            && hex == sha256
        {
            let mut conn = self.db.conn().await?;
            db::mirrors::record_replica(&mut conn, &mirror.name, sha256, now_ms()).await?;
            return Ok(0);
        }
        let part = mirror.part_size_for(size);
        let counted = if size <= part {
            let _request = to.window.request(size).await;
            let bytes = self.storage.read_all(sha256).await?;
            if Checksum::of(Algorithm::Sha256, &bytes).hex != sha256 {
                return Err(damaged_primary(sha256));
            }
            mirror.put_whole(sha256, bytes).await?;
            0
        } else {
            self.send_parts(to, sha256, size, part).await?
        };
        // The mirror checked each part's SHA-256 against bytes that hash, as a whole,
        // to the archive's SHA-256; the size confirms it assembled all of them.
        if mirror.size_of(sha256).await? != Some(size) {
            return Err(ServiceError::Incomplete(format!(
                "mirror {}: the copy of {sha256} is not {size} bytes after the upload",
                mirror.name
            )));
        }
        let mut conn = self.db.conn().await?;
        db::mirrors::record_replica(&mut conn, &mirror.name, sha256, now_ms()).await?;
        Ok(counted)
    }

    /// Returns the bytes of the parts sent in this run (each counted as accepted).
    async fn send_parts(
        &self,
        to: &Sending<'_>,
        sha256: &str,
        size: u64,
        part: u64,
    ) -> ServiceResult<u64> {
        let (mirror, window) = (to.mirror, &to.window);
        let mut conn = self.db.conn().await?;
        let (upload_id, part_size, done) =
            match db::mirrors::open_upload(&mut conn, &mirror.name, sha256).await? {
                Some((id, ps, parts)) => (id, ps as u64, parts),
                None => {
                    let id = mirror.create_upload(sha256).await?;
                    db::mirrors::start_upload(
                        &mut conn,
                        &mirror.name,
                        sha256,
                        &id,
                        part as i64,
                        now_ms(),
                    )
                    .await?;
                    (id, part, Vec::new())
                }
            };
        drop(conn);
        let mut parts: Vec<Option<String>> = vec![None; size.div_ceil(part_size) as usize];
        for (n, content) in done {
            if let Some(slot) = parts.get_mut(n as usize) {
                *slot = Some(content);
            }
        }
        // Read the primary copy once, in order, a part at a time, hashing all of it; send
        // only the parts the mirror does not have yet, as requests may go out.
        let turn = window.reading.lock().await;
        let mut stream = self
            .storage
            .read(sha256, None, part_size as usize)
            .await?
            .enumerate();
        let mut whole = Hasher::new(Algorithm::Sha256);
        let mut in_flight = tokio::task::JoinSet::new();
        let mut failure: Option<ServiceError> = None;
        let mut sent_now = 0u64;
        loop {
            // Parts that finish while the next one waits for a free request are
            // recorded at once (a resumed transfer will not send them again).
            let request = loop {
                tokio::select! {
                    request = window.request(part_size) => break request,
                    Some(done) = in_flight.join_next() => {
                        if let Some(e) = self.accept_part(to, sha256, done, &mut parts).await? {
                            failure = failure.or(Some(e));
                        }
                    }
                }
            };
            if failure.is_some() {
                break;
            }
            let Some((i, data)) = stream.next().await else {
                break;
            };
            let data = data?;
            whole.update(&data);
            if parts.get(i).is_none_or(Option::is_some) {
                continue;
            }
            let m = mirror.clone();
            let (sha, up) = (sha256.to_owned(), upload_id.clone());
            // A task of its own: the part's SHA-256 is computed on another core while
            // this one reads and hashes the next.
            let sent = data.len() as u64;
            in_flight.spawn(async move {
                let answer = m.put_part(&sha, &up, i, data).await;
                drop(request);
                (i, answer.map(|content| (content, sent)))
            });
            sent_now += sent;
        }
        drop(turn);
        while let Some(done) = in_flight.join_next().await {
            if let Some(e) = self.accept_part(to, sha256, done, &mut parts).await? {
                failure = failure.or(Some(e));
            }
        }
        if let Some(e) = failure {
            // The accepted parts are recorded: the next attempt sends only the rest.
            let mut conn = self.db.conn().await?;
            db::mirrors::add_fault(&mut conn, to.transfer, &e.to_string()).await?;
            return Err(e);
        }
        if whole.finish().hex != sha256 {
            // The primary copy is damaged: send nothing more from it.
            mirror.abort(sha256, &upload_id).await?;
            let mut conn = self.db.conn().await?;
            db::mirrors::end_upload(&mut conn, &mirror.name, sha256).await?;
            return Err(damaged_primary(sha256));
        }
        let all: Vec<String> = parts.into_iter().map(|p| p.unwrap_or_default()).collect();
        if let Err(e) = mirror.complete(sha256, &upload_id, all).await {
            // The mirror may have lost the upload (restarted): start afresh next time.
            mirror.abort(sha256, &upload_id).await.ok();
            let mut conn = self.db.conn().await?;
            db::mirrors::end_upload(&mut conn, &mirror.name, sha256).await?;
            return Err(e.into());
        }
        let mut conn = self.db.conn().await?;
        db::mirrors::end_upload(&mut conn, &mirror.name, sha256).await?;
        Ok(sent_now)
    }

    /// A part's answer from the mirror: an accepted part is recorded (a resumed transfer
    /// does not send it again) and kept for completing the upload; a refusal is returned.
    async fn accept_part(
        &self,
        to: &Sending<'_>,
        sha256: &str,
        done: PartDone,
        parts: &mut [Option<String>],
    ) -> ServiceResult<Option<ServiceError>> {
        let (i, answer) = done.map_err(|e| ServiceError::Internal(format!("part upload: {e}")))?;
        match answer {
            Ok((content, bytes)) => {
                let mut conn = self.db.conn().await?;
                db::mirrors::record_part(&mut conn, &to.mirror.name, sha256, i as i64, &content)
                    .await?;
                db::mirrors::add_progress(&mut conn, to.transfer, 0, bytes as i64).await?;
                parts[i] = Some(content);
                Ok(None)
            }
            Err(e) => Ok(Some(e.into())),
        }
    }

    /// The removal job after a withdrawal: objects of the version that no other public
    /// version shares leave mirrors with the `released` policy.
    pub async fn remove_from_public_mirrors(&self, version_id: &str) -> ServiceResult<()> {
        let mirrors = self.open_mirrors(Some(MirrorPolicy::Released)).await?;
        let mut after = String::new();
        loop {
            let mut conn = self.db.conn().await?;
            let page = db::files::list(&mut conn, version_id, &after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.path.clone();
            for f in page {
                if db::mirrors::still_public(&mut conn, &f.sha256, version_id).await? {
                    continue;
                }
                for m in &mirrors {
                    m.delete(&f.sha256).await?;
                    db::mirrors::forget_replica(&mut conn, &m.name, &f.sha256).await?;
                }
            }
        }
        Ok(())
    }

    /// Abort multipart uploads no transfer has touched for a day, so none is left behind.
    pub async fn abort_stale_uploads(&self, older_than_ms: i64) -> ServiceResult<usize> {
        let mut conn = self.db.conn().await?;
        let stale = db::mirrors::stale_uploads(&mut conn, now_ms() - older_than_ms).await?;
        drop(conn);
        for (mirror, sha256, upload_id) in &stale {
            let m = self.open_mirror(mirror).await?;
            m.abort(sha256, upload_id).await?;
            let mut conn = self.db.conn().await?;
            db::mirrors::end_upload(&mut conn, mirror, sha256).await?;
        }
        Ok(stale.len())
    }
}

/// The primary copy does not hash to its key: nothing of it may go to a mirror.
fn damaged_primary(sha256: &str) -> ServiceError {
    ServiceError::Internal(format!(
        "the archive's copy of {sha256} does not match its SHA-256: the fixity audit will repair it from a mirror"
    ))
}

impl Service<'_> {
    /// Replication follows each mirror's policy: trusted sites get approved data, public
    /// ones released data; withdrawal takes it off public ones.
    pub(super) async fn follows(
        &self,
        tx: &mut Tx,
        t: &mut super::transitions::Transition<'_, '_>,
    ) -> ServiceResult<super::transitions::Reacted> {
        use crate::model::Action;
        let (v, now) = (&*t.version, t.now);
        let enqueued = match t.change.action {
            Action::Approve => {
                self.enqueue_transfers(tx, v, &[MirrorPolicy::All], now)
                    .await?
            }
            Action::Release => {
                self.enqueue_transfers(tx, v, &[MirrorPolicy::Released], now)
                    .await?
            }
            Action::Withdraw => self.enqueue_mirror_removal(tx, &v.id, now).await?,
            _ => false,
        };
        Ok(super::transitions::Reacted::enqueued(enqueued))
    }
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[tokio::test]
    async fn the_window_bounds_bytes_in_flight_whatever_the_part_size() {
        let w = Window::new(10, 8);
        let free = |w: &Window| w.slots.available_permits();
        let small = w.request(3).await;
        assert_eq!(free(&w), 9, "a small object takes one slot");
        let big = w.request(50).await;
        assert_eq!(free(&w), 2, "a 50-byte part takes seven 8-byte slots");
        drop((small, big));
        // A part larger than the whole window takes all of it, and goes alone.
        let huge = w.request(1_000).await;
        assert_eq!(free(&w), 0);
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), w.request(8));
        assert!(
            waiting.await.is_err(),
            "nothing else goes while it is on the wire"
        );
        drop(huge);
        assert_eq!(free(&w), 10);
    }
}
