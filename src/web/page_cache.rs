//! Rendered public landing pages, kept for a few seconds. A released version changes
//! only by a state change, so an entry is dropped as soon as this process commits one
//! (the services' generation moves); changes made by another server show within the
//! TTL. Pages for people signed in, and anything not public, are never cached.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many pages the cache starts afresh: a bound, not an eviction policy.
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
pub struct CachedPage {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The released version a view of this page counts for (None: not counted).
    pub counts_for: Option<String>,
}

struct Entry {
    generation: u64,
    stored: Instant,
    page: CachedPage,
}

pub struct PageCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str, generation: u64) -> Option<CachedPage> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        (e.generation == generation && e.stored.elapsed() < self.ttl).then(|| e.page.clone())
    }

    pub fn put(&self, key: String, generation: u64, page: CachedPage) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    generation,
                    stored: Instant::now(),
                    page,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> CachedPage {
        CachedPage {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"<h1>x</h1>"),
            counts_for: None,
        }
    }

    #[test]
    fn an_entry_lasts_until_the_generation_moves_or_it_expires() {
        let c = PageCache::new(Duration::from_secs(60));
        c.put("a".into(), 1, page());
        assert!(c.get("a", 1).is_some());
        assert!(c.get("a", 2).is_none(), "a change in this process drops it");
        let short = PageCache::new(Duration::from_millis(1));
        short.put("a".into(), 1, page());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("a", 1).is_none());
        let off = PageCache::new(Duration::ZERO);
        off.put("a".into(), 1, page());
        assert!(off.get("a", 1).is_none());
    }
}
