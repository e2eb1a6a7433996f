//! DOIs: syntax, Arca's suffix scheme, and the DataCite state a dataset's DOI should be in.

use super::state::Action;
use std::fmt;

/// Crockford's base 32: no I, L, O or U, so a suffix read aloud or retyped survives.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A DOI such as `10.5072/arca.7k3m9q2x4`, kept in lower case (DOIs are
/// case-insensitive; DataCite shows them in upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Doi(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoiError {
    #[error("a DOI looks like 10.NNNN/suffix, got '{0}'")]
    Syntax(String),
    #[error("'{0}' is not a DOI prefix (10. followed by digits, such as 10.5072)")]
    Prefix(String),
}

fn valid_prefix(p: &str) -> bool {
    let Some(rest) = p.strip_prefix("10.") else {
        return false;
    };
    !rest.is_empty()
        && rest
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

pub fn check_prefix(prefix: &str) -> Result<(), DoiError> {
    if valid_prefix(prefix) {
        Ok(())
    } else {
        Err(DoiError::Prefix(prefix.to_owned()))
    }
}

impl Doi {
    pub fn parse(raw: &str) -> Result<Self, DoiError> {
        let s = raw.trim();
        let s = s
            .strip_prefix("https://doi.org/")
            .or_else(|| s.strip_prefix("doi:"))
            .unwrap_or(s);
        let (prefix, suffix) = s
            .split_once('/')
            .ok_or_else(|| DoiError::Syntax(raw.to_owned()))?;
        if !valid_prefix(prefix)
            || suffix.is_empty()
            || suffix.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(DoiError::Syntax(raw.to_owned()));
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn prefix(&self) -> &str {
        self.0.split_once('/').map_or("", |(p, _)| p)
    }

    pub fn suffix(&self) -> &str {
        self.0.split_once('/').map_or("", |(_, s)| s)
    }
}

impl fmt::Display for Doi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How Arca makes suffixes: a fixed lead-in, random Crockford base-32 characters, and a
/// check character over them (Luhn mod 32), so a mistyped DOI is caught before lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuffixScheme {
    pub lead: String,
    pub random_chars: usize,
}

impl Default for SuffixScheme {
    fn default() -> Self {
        Self {
            lead: "arca.".into(),
            random_chars: 8,
        }
    }
}

fn value(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == c.to_ascii_lowercase())
}

/// Luhn mod N over the alphabet: catches every single-character error and most swaps of
/// neighbours.
fn check_char(body: &[u8]) -> Option<u8> {
    let n = ALPHABET.len();
    let mut sum = 0;
    for (i, &c) in body.iter().rev().enumerate() {
        let mut v = value(c)?;
        if i % 2 == 0 {
            v *= 2;
            v = v / n + v % n;
        }
        sum += v;
    }
    Some(ALPHABET[(n - sum % n) % n])
}

impl SuffixScheme {
    /// A new suffix from the caller's random bytes (one byte per character).
    pub fn make(&self, random: &[u8]) -> String {
        let body: Vec<u8> = random
            .iter()
            .take(self.random_chars)
            .map(|b| ALPHABET[(*b as usize) % 32])
            .collect();
        let check = check_char(&body).expect("body is from the alphabet");
        let mut s = self.lead.clone();
        s.push_str(std::str::from_utf8(&body).expect("ASCII"));
        s.push(check as char);
        s
    }

    /// Whether a suffix was made by this scheme and its check character holds.
    pub fn is_valid(&self, suffix: &str) -> bool {
        let Some(rest) = suffix
            .to_lowercase()
            .strip_prefix(&self.lead.to_lowercase())
            .map(str::to_owned)
        else {
            return false;
        };
        let bytes = rest.as_bytes();
        if bytes.len() != self.random_chars + 1 {
            return false;
        }
        let (body, check) = bytes.split_at(self.random_chars);
        check_char(body) == Some(check[0])
    }
}

/// The DOI states of the DataCite REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DoiState {
    Draft,
    Registered,
    Findable,
}

impl DoiState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Registered => "registered",
            Self::Findable => "findable",
        }
    }

    /// Where a dataset's DOI should go when `action` happens to the dataset (docs/architecture.md):
    /// registered while on hold (it resolves, so editors can follow it, but is not
    /// indexed), findable at release, back to registered (tombstone) on withdrawal. A
    /// registered DOI never goes back to draft.
    pub fn after(self, action: Action) -> DoiState {
        match action {
            Action::Hold if self == Self::Draft => Self::Registered,
            Action::Release => Self::Findable,
            Action::Withdraw => Self::Registered,
            _ => self,
        }
    }

    /// The DataCite event that moves a DOI from `self` to `to`, if one is needed.
    pub fn event_to(self, to: DoiState) -> Option<&'static str> {
        match (self, to) {
            (Self::Draft, Self::Registered) => Some("register"),
            (Self::Draft | Self::Registered, Self::Findable) => Some("publish"),
            (Self::Findable, Self::Registered) => Some("hide"),
            _ => None,
        }
    }
}

impl std::str::FromStr for DoiState {
    type Err = super::status::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(Self::Draft),
            "registered" => Ok(Self::Registered),
            "findable" => Ok(Self::Findable),
            _ => Err(super::status::UnknownValue {
                kind: "DOI state",
                value: s.to_owned(),
            }),
        }
    }
}

impl TryFrom<String> for DoiState {
    type Error = super::status::UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for DoiState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_parse_and_normalise() {
        let d = Doi::parse("https://doi.org/10.5072/ARCA.ABC").unwrap();
        assert_eq!(d.as_str(), "10.5072/arca.abc");
        assert_eq!((d.prefix(), d.suffix()), ("10.5072", "arca.abc"));
        assert_eq!(
            Doi::parse("10.2210/pdb1abc/pdb").unwrap().suffix(),
            "pdb1abc/pdb"
        );
        for bad in [
            "",
            "10.5072",
            "11.5072/x",
            "10./x",
            "10.50a72/x",
            "10.5072/",
            "10.5072/a b",
        ] {
            assert!(Doi::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_single_character_error_is_caught() {
        let scheme = SuffixScheme::default();
        let suffix = scheme.make(&[7, 200, 13, 99, 1, 0, 255, 42]);
        assert!(scheme.is_valid(&suffix), "{suffix}");
        assert_eq!(suffix.len(), "arca.".len() + 9);
        let lead = scheme.lead.len();
        for pos in lead..suffix.len() {
            for &c in ALPHABET {
                let mut typo = suffix.clone().into_bytes();
                if typo[pos] == c {
                    continue;
                }
                typo[pos] = c;
                let typo = String::from_utf8(typo).unwrap();
                assert!(!scheme.is_valid(&typo), "{typo} passed its check");
            }
        }
        assert!(scheme.is_valid(&suffix.to_uppercase().replace("ARCA.", "arca.")));
        assert!(!scheme.is_valid("arca.0000"));
        assert!(!scheme.is_valid("other.00000000"));
    }

    #[test]
    fn doi_state_follows_the_dataset() {
        use Action::*;
        let mut s = DoiState::Draft;
        let mut seen = vec![];
        for a in [
            Submit,
            VerificationPassed,
            Approve,
            Hold,
            Schedule,
            Release,
            Withdraw,
        ] {
            s = s.after(a);
            seen.push(s);
        }
        use DoiState::*;
        assert_eq!(
            seen,
            [
                Draft, Draft, Draft, Registered, Registered, Findable, Registered
            ]
        );
        // Released without a hold: straight from draft to findable.
        assert_eq!(Draft.after(Release), Findable);
        assert_eq!(Draft.event_to(Findable), Some("publish"));
        assert_eq!(Findable.event_to(Registered), Some("hide"));
        assert_eq!(Registered.event_to(Draft), None);
    }
}
