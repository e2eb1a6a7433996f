//! Checksums the archive understands, and the hashers behind them.

use sha2::Digest;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
    Sha1,
    Md5,
}

impl Algorithm {
    /// sha512 is here for BagIt, whose reference tool writes sha256 and sha512 manifests.
    pub const ALL: [Algorithm; 4] = [Self::Sha256, Self::Sha512, Self::Sha1, Self::Md5];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
            Self::Sha1 => "sha1",
            Self::Md5 => "md5",
        }
    }

    /// Length of the digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
            Self::Sha1 => 20,
            Self::Md5 => 16,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported checksum algorithm '{0}' (supported: sha256, sha512, sha1, md5)")]
pub struct UnsupportedAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnsupportedAlgorithm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(Self::Sha256),
            "sha512" => Ok(Self::Sha512),
            "sha1" => Ok(Self::Sha1),
            "md5" => Ok(Self::Md5),
            _ => Err(UnsupportedAlgorithm(s.to_owned())),
        }
    }
}

/// A digest with its algorithm; the hex form is lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum {
    pub algorithm: Algorithm,
    pub hex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    #[error("a {algorithm} checksum is {expected} hexadecimal characters, got '{got}'")]
    BadHex {
        algorithm: Algorithm,
        expected: usize,
        got: String,
    },
    #[error(transparent)]
    Algorithm(#[from] UnsupportedAlgorithm),
}

impl Checksum {
    pub fn from_hex(algorithm: Algorithm, hex: &str) -> Result<Self, ChecksumError> {
        let hex = hex.trim().to_ascii_lowercase();
        let expected = algorithm.digest_len() * 2;
        if hex.len() != expected || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ChecksumError::BadHex {
                algorithm,
                expected,
                got: hex,
            });
        }
        Ok(Self { algorithm, hex })
    }

    /// The checksum of `data`, all in memory.
    pub fn of(algorithm: Algorithm, data: &[u8]) -> Self {
        let mut h = Hasher::new(algorithm);
        h.update(data);
        h.finish()
    }

    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Self {
        Self {
            algorithm,
            hex: hex::encode(bytes),
        }
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

/// One running hash of any supported algorithm.
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
    Sha1(sha1::Sha1),
    Md5(md5::Md5),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
            Algorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            Algorithm::Md5 => Self::Md5(md5::Md5::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
            Self::Sha1(h) => h.update(data),
            Self::Md5(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Checksum {
        match self {
            Self::Sha256(h) => Checksum::from_bytes(Algorithm::Sha256, &h.finalize()),
            Self::Sha512(h) => Checksum::from_bytes(Algorithm::Sha512, &h.finalize()),
            Self::Sha1(h) => Checksum::from_bytes(Algorithm::Sha1, &h.finalize()),
            Self::Md5(h) => Checksum::from_bytes(Algorithm::Md5, &h.finalize()),
        }
    }
}

/// A SHA-256 whose running state can be saved between requests, so resuming a 100 GB
/// upload never re-reads what was already received.
pub struct ResumableSha256(sha2::Sha256);

#[derive(Debug, thiserror::Error)]
#[error("the saved hash state is damaged")]
pub struct BadHashState;

impl ResumableSha256 {
    pub fn new() -> Self {
        Self(sha2::Sha256::new())
    }

    pub fn restore(state: &[u8]) -> Result<Self, BadHashState> {
        use sha2::digest::common::hazmat::SerializableState;
        let state = state.try_into().map_err(|_| BadHashState)?;
        sha2::Sha256::deserialize(state)
            .map(Self)
            .map_err(|_| BadHashState)
    }

    pub fn save(&self) -> Vec<u8> {
        use sha2::digest::common::hazmat::SerializableState;
        self.0.serialize().to_vec()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> Checksum {
        Checksum::from_bytes(Algorithm::Sha256, &self.0.finalize())
    }

    /// The SHA-256 of the bytes so far, leaving the state to go on with.
    pub fn current(&self) -> Checksum {
        Checksum::from_bytes(Algorithm::Sha256, &self.0.clone().finalize())
    }
}

impl Default for ResumableSha256 {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let mut h = Hasher::new(Algorithm::Md5);
        h.update(b"abc");
        assert_eq!(h.finish().hex, "900150983cd24fb0d6963f7d28e17f72");
        let mut h = Hasher::new(Algorithm::Sha1);
        h.update(b"abc");
        assert_eq!(h.finish().hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn sha256_state_survives_a_save_and_restore() {
        let mut a = ResumableSha256::new();
        a.update(b"hello ");
        let saved = a.save();
        let mut b = ResumableSha256::restore(&saved).unwrap();
        b.update(b"world");
        let mut whole = ResumableSha256::new();
        whole.update(b"hello world");
        assert_eq!(b.finish(), whole.finish());
        assert!(ResumableSha256::restore(&saved[1..]).is_err());
    }

    #[test]
    fn hex_is_checked_and_lowercased() {
        let c = Checksum::from_hex(Algorithm::Md5, "900150983CD24FB0D6963F7D28E17F72").unwrap();
        assert_eq!(c.hex, "900150983cd24fb0d6963f7d28e17f72");
        assert!(Checksum::from_hex(Algorithm::Sha256, "abc").is_err());
        assert!(Checksum::from_hex(Algorithm::Md5, &"g".repeat(32)).is_err());
    }
}
