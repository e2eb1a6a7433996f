//! Cross-process signals on PostgreSQL (LISTEN/NOTIFY): when one server commits a change
//! the others must act on at once (a job to run, public pages to render afresh), it
//! says so on a channel every server listens to. SQLite is one server: nothing to send.

use super::{Backend, Db};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Jobs were enqueued: workers should look now rather than at their next poll.
    JobsReady,
    /// What the public sees changed: cached pages are stale.
    PublicChanged,
}

impl Signal {
    fn channel(self) -> &'static str {
        match self {
            Signal::JobsReady => "arca_jobs_ready",
            Signal::PublicChanged => "arca_public_changed",
        }
    }

    fn from_channel(channel: &str) -> Option<Self> {
        [Signal::JobsReady, Signal::PublicChanged]
            .into_iter()
            .find(|s| s.channel() == channel)
    }
}

impl Db {
    /// Tell every other server (after the commit that made the change).
    pub fn signal(&self, signal: Signal) {
        if self.backend != Backend::Postgres {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let sent = sqlx::query("SELECT pg_notify($1, '')")
                .bind(signal.channel())
                .execute(&pool)
                .await;
            if let Err(e) = sent {
                // Other servers still see the change at their next poll or cache expiry.
                tracing::warn!(error = %e, ?signal, "could not signal the other servers");
            }
        });
    }

    /// Listen for other servers' signals until the process ends, reconnecting after a
    /// lost connection (a signal missed meanwhile costs only a poll interval or a cache
    /// lifetime).
    pub fn listen(&self, url: &str, on_signal: impl Fn(Signal) + Send + Sync + 'static) {
        if self.backend != Backend::Postgres {
            return;
        }
        let url = url.to_owned();
        tokio::spawn(async move {
            loop {
                let listened = async {
                    let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
                    listener
                        .listen_all([Signal::JobsReady.channel(), Signal::PublicChanged.channel()])
                        .await?;
                    loop {
                        let n = listener.recv().await?;
                        if let Some(s) = Signal::from_channel(n.channel()) {
                            on_signal(s);
                        }
                    }
                    #[allow(unreachable_code)]
                    Ok::<(), sqlx::Error>(())
                };
                if let Err(e) = listened.await {
                    tracing::warn!(error = %e, "lost the connection that listens for other servers; reconnecting");
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}
