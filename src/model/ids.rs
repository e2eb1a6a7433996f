//! Identifiers: opaque, URL-safe, sortable by creation time.

use std::sync::Mutex;

static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new id: a ULID (48 bits of milliseconds, then random bits), lower-cased for URLs.
/// Ids made in one process are strictly increasing, so rows ordered by id are in the
/// order they were made, even within one millisecond.
pub fn new_id() -> String {
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let generator = generator.get_or_insert_with(ulid::Generator::new);
    let id = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    id.to_string().to_ascii_lowercase()
}

/// True for a string shaped like an id from [`new_id`]; guards lookups against junk.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_increase() {
        let ids: Vec<_> = (0..1000).map(|_| super::new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|i| super::looks_like_id(i)));
    }
}
