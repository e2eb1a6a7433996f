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

/// A new id out of sequence with the ids made just before it, for one shown beside
/// another made at the same moment (a deposit and its dataset): ids from [`new_id`] in
/// the same millisecond differ in their last character only, and people mistook one
/// for the other.
pub fn new_unrelated_id() -> String {
    ulid::Ulid::new().to_string().to_ascii_lowercase()
}

/// True for a string shaped like an id from [`new_id`]; guards lookups against junk.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Ids of different things as different types, so one cannot be passed for the other.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new id, from [`new_id`].
            pub fn generate() -> Self {
                Self(new_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}

id_type! {
    /// One version of a dataset: what the API and the pages call a deposit.
    DepositId
}

id_type! {
    /// A dataset: every version of it, under one landing page and one concept DOI.
    DatasetId
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
