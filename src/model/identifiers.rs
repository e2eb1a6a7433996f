//! Identifiers for people, organisations and structures, with their check digits.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("'{0}' is not an ORCID iD (0000-0000-0000-000X, or https://orcid.org/…)")]
    OrcidSyntax(String),
    #[error("'{0}' is not a valid ORCID iD: its check digit is wrong (a typo?)")]
    OrcidCheck(String),
    #[error("'{0}' is not a ROR id (https://ror.org/0xxxxxxNN)")]
    RorSyntax(String),
    #[error("'{0}' is not a valid ROR id: its checksum is wrong (a typo?)")]
    RorCheck(String),
    #[error("'{0}' is not a PDB id (four characters such as 1ABC, or pdb_00001abc)")]
    Pdb(String),
}

/// An ORCID iD, kept as `https://orcid.org/0000-0002-1825-0097`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Orcid(String);

/// ISO 7064 MOD 11-2 over the first 15 digits.
fn orcid_check(digits: &[u8]) -> u8 {
    let mut total = 0u32;
    for d in digits {
        total = (total + u32::from(d - b'0')) * 2;
    }
    let result = (12 - total % 11) % 11;
    if result == 10 {
        b'X'
    } else {
        b'0' + result as u8
    }
}

impl Orcid {
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let s = raw.trim();
        let bare = s
            .strip_prefix("https://orcid.org/")
            .or_else(|| s.strip_prefix("http://orcid.org/"))
            .unwrap_or(s);
        let compact: Vec<u8> = bare.bytes().filter(|b| *b != b'-').collect();
        let shaped = bare.len() == 19
            && bare.split('-').map(str::len).collect::<Vec<_>>() == [4, 4, 4, 4]
            && compact.len() == 16
            && compact[..15].iter().all(u8::is_ascii_digit)
            && (compact[15].is_ascii_digit() || compact[15] == b'X');
        if !shaped {
            return Err(IdentifierError::OrcidSyntax(raw.to_owned()));
        }
        if orcid_check(&compact[..15]) != compact[15] {
            return Err(IdentifierError::OrcidCheck(raw.to_owned()));
        }
        Ok(Self(format!("https://orcid.org/{bare}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The iD without its URL: `0000-0002-1825-0097`.
    pub fn bare(&self) -> &str {
        &self.0["https://orcid.org/".len()..]
    }
}

/// A ROR id, kept as `https://ror.org/05etxs293`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ror(String);

const CROCKFORD: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

impl Ror {
    /// A leading 0, six Crockford base-32 characters, then two decimal check digits:
    /// 98 - (the base-32 number * 100 mod 97).
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let s = raw.trim().to_ascii_lowercase();
        let id = s
            .strip_prefix("https://ror.org/")
            .or_else(|| s.strip_prefix("ror.org/"))
            .unwrap_or(&s);
        let b = id.as_bytes();
        if b.len() != 9 || b[0] != b'0' || !b[7..].iter().all(u8::is_ascii_digit) {
            return Err(IdentifierError::RorSyntax(raw.to_owned()));
        }
        let mut n: u64 = 0;
        for c in &b[..7] {
            let v = CROCKFORD
                .iter()
                .position(|x| x == c)
                .ok_or_else(|| IdentifierError::RorSyntax(raw.to_owned()))?;
            n = n * 32 + v as u64;
        }
        let check: u64 = id[7..].parse().expect("two digits");
        if 98 - (n * 100) % 97 != check {
            return Err(IdentifierError::RorCheck(raw.to_owned()));
        }
        Ok(Self(format!("https://ror.org/{id}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A PDB entry id: classic `1abc` or extended `pdb_00001abc`, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PdbId(String);

impl PdbId {
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let s = raw.trim().to_ascii_lowercase();
        let classic = s.len() == 4
            && s.as_bytes()[0].is_ascii_digit()
            && s.as_bytes()[0] != b'0'
            && s.bytes().all(|b| b.is_ascii_alphanumeric());
        let extended = s.len() == 12
            && s.starts_with("pdb_")
            && s[4..].bytes().all(|b| b.is_ascii_alphanumeric());
        if classic || extended {
            Ok(Self(s))
        } else {
            Err(IdentifierError::Pdb(raw.to_owned()))
        }
    }

    /// The entry's DOI, as wwPDB assigns it: 10.2210/pdb1abc/pdb.
    pub fn doi(&self) -> String {
        let short = self.0.strip_prefix("pdb_0000").unwrap_or(&self.0);
        format!("10.2210/pdb{short}/pdb")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PdbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orcid_check_digits() {
        // Examples from ORCID's documentation.
        for ok in [
            "0000-0002-1825-0097",
            "https://orcid.org/0000-0001-5109-3700",
            "0000-0002-1694-233X",
        ] {
            assert!(Orcid::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Orcid::parse("0000-0002-1825-0097").unwrap().as_str(),
            "https://orcid.org/0000-0002-1825-0097"
        );
        assert!(matches!(
            Orcid::parse("0000-0002-1825-0098"),
            Err(IdentifierError::OrcidCheck(_))
        ));
        assert!(matches!(
            Orcid::parse("0000-0002-1825-009"),
            Err(IdentifierError::OrcidSyntax(_))
        ));
        assert!(matches!(
            Orcid::parse("0000000218250097"),
            Err(IdentifierError::OrcidSyntax(_))
        ));
    }

    #[test]
    fn ror_checksums() {
        // Diamond Light Source, ESRF, DataCite.
        for ok in [
            "https://ror.org/05etxs293",
            "https://ror.org/02550n020",
            "https://ror.org/04wxnsj81",
        ] {
            assert!(Ror::parse(ok).is_ok(), "{ok}");
        }
        assert!(matches!(
            Ror::parse("https://ror.org/05etxs294"),
            Err(IdentifierError::RorCheck(_))
        ));
        assert!(matches!(
            Ror::parse("https://ror.org/15etxs293"),
            Err(IdentifierError::RorSyntax(_))
        ));
    }

    #[test]
    fn pdb_ids_and_their_dois() {
        assert_eq!(PdbId::parse("1ABC").unwrap().doi(), "10.2210/pdb1abc/pdb");
        assert_eq!(
            PdbId::parse("pdb_00001abc").unwrap().doi(),
            "10.2210/pdb1abc/pdb"
        );
        for bad in ["0ABC", "1AB", "1AB!", "pdb_1abc"] {
            assert!(PdbId::parse(bad).is_err(), "{bad}");
        }
    }
}

/// An absolute `http`/`https` URL with a host and nothing that could end it early where
/// it is written (white space, control characters, `<>"\\` and the like). URLs from
/// depositors become links in pages, `Link` headers, JSON-LD and feeds: anything else
/// (`javascript:`, bare text, a value that smuggles a second link) is refused.
pub fn is_web_url(s: &str) -> bool {
    let rest = match s.get(..8).map(str::to_ascii_lowercase) {
        Some(p) if p == "https://" => &s[8..],
        _ => match s.get(..7).map(str::to_ascii_lowercase) {
            Some(p) if p == "http://" => &s[7..],
            _ => return false,
        },
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && !host.starts_with(['@', ':'])
        && s.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !super::path::is_deceptive(c)
                && !matches!(c, '<' | '>' | '"' | '\\' | '^' | '`' | '{' | '|' | '}')
        })
}

/// [`is_web_url`] as a JSON Schema pattern (ECMA-262), for the deposit schema.
pub const WEB_URL_PATTERN: &str =
    r#"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@:\s<>"\\^`{|}][^\s<>"\\^`{|}]*$"#;

#[cfg(test)]
mod web_url_tests {
    use super::*;

    #[test]
    fn only_web_urls_pass() {
        for ok in [
            "https://creativecommons.org/licenses/by/4.0/",
            "http://example.org",
            "HTTPS://spdx.org/licenses/MIT.html?x=1#y",
        ] {
            assert!(is_web_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "ftp://example.org/",
            "CC BY 4.0",
            "https://a.example/>; rel=\"cite-as\"",
            "https://a.example/ x",
            "https://a.example/\u{202e}",
            "//example.org/",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
