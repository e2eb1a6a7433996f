//! Bursts of guessing: sign-in, sign-up, token creation and reviewer links are limited
//! per address and per account, so nobody can try passwords or link tokens at machine
//! speed, and argon2 runs on a bounded pool so a burst cannot take every core.

use super::{ServiceError, ServiceResult, Services};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys remembered after their last guess: enough to enforce the quota, then forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(600);

pub struct Guesses {
    /// Attempts (sign-in, sign-up, tokens) per address, and sign-ins per account.
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    /// Reviewer-link lookups that found nothing, per address; and the addresses that
    /// ran out, until when (looking up a valid link costs nothing, only misses count).
    misses: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<std::collections::HashMap<IpAddr, Instant>>,
    per_minute: u32,
}

impl std::fmt::Debug for Guesses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guesses")
            .field("per_minute", &self.per_minute)
            .finish()
    }
}

impl Guesses {
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least 1");
        let quota = Quota::per_minute(n);
        Self {
            by_address: DefaultKeyedRateLimiter::keyed(quota),
            by_account: DefaultKeyedRateLimiter::keyed(quota),
            misses: DefaultKeyedRateLimiter::keyed(quota),
            blocked: Mutex::default(),
            per_minute,
        }
    }

    fn refusal(&self, what: &str, wait: Duration) -> ServiceError {
        let secs = wait.as_secs() + 1;
        ServiceError::Busy {
            message: format!(
                "too many attempts {what}: at most {} a minute ([web] guesses_per_minute); try again in {secs} s",
                self.per_minute
            ),
            retry_after_seconds: secs,
        }
    }

    /// One attempt from `addr`.
    pub fn attempt_from(&self, addr: IpAddr) -> ServiceResult<()> {
        self.by_address.check_key(&addr).map_err(|n| {
            self.refusal(
                "from this address",
                n.wait_time_from(DefaultClock::default().now()),
            )
        })
    }

    /// One sign-in attempt for the account at `email`, from wherever it comes.
    pub fn attempt_on(&self, email: &str) -> ServiceResult<()> {
        self.by_account.check_key(&email.to_owned()).map_err(|n| {
            self.refusal(
                "on this account",
                n.wait_time_from(DefaultClock::default().now()),
            )
        })
    }

    /// Refuse an address that ran out of reviewer-link misses.
    pub fn check_not_blocked(&self, addr: IpAddr) -> ServiceResult<()> {
        let blocked = self.blocked.lock().ok().and_then(|b| b.get(&addr).copied());
        match blocked {
            Some(until) if until > Instant::now() => Err(self.refusal(
                "with unknown links from this address",
                until - Instant::now(),
            )),
            _ => Ok(()),
        }
    }

    /// A reviewer-link lookup from `addr` that found nothing.
    pub fn missed(&self, addr: IpAddr) {
        if let Err(n) = self.misses.check_key(&addr) {
            let wait = n.wait_time_from(DefaultClock::default().now());
            if let Ok(mut b) = self.blocked.lock() {
                b.insert(addr, Instant::now() + wait);
            }
        }
    }

    /// Forget keys that have been quiet (housekeeping), so memory follows recent use.
    pub fn forget_quiet(&self) {
        self.by_address.retain_recent();
        self.by_account.retain_recent();
        self.misses.retain_recent();
        let now = Instant::now();
        if let Ok(mut b) = self.blocked.lock() {
            b.retain(|_, until| *until + FORGET_AFTER > now);
        }
    }
}

impl Services {
    /// Run argon2 (hashing or checking a password) on a blocking thread, at most as many
    /// at once as the machine has cores: a burst of sign-ins waits its turn instead of
    /// taking the CPU from everything else.
    pub(super) async fn argon2<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ServiceResult<T> {
        let _slot = self
            .argon2_slots
            .acquire()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }
}
