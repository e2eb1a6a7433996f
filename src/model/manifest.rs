//! Checksum manifests as depositors already have them: BagIt `manifest-<alg>.txt`
//! (RFC 8493 §2.1.3) and the output of `sha256sum`, `sha1sum` or `md5sum`.

use super::checksum::{Algorithm, Checksum};
use super::path::DatasetPath;
use std::collections::BTreeMap;

/// How to read the paths in a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// Paths are relative to a bag and start with `data/`, which is removed.
    BagIt,
    /// Paths are the dataset's own (coreutils `*sum` output).
    Plain,
    /// BagIt when every path starts with `data/`, plain otherwise.
    Auto,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub algorithm: Algorithm,
    pub entries: BTreeMap<DatasetPath, Checksum>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ManifestLineError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest lists no files")]
    Empty,
    #[error("the manifest mixes checksum lengths; send one manifest per algorithm")]
    MixedAlgorithms,
    #[error("the manifest has {}: {}", super::words::count(.0.len() as u64, "problem", "problems"), join(.0))]
    Lines(Vec<ManifestLineError>),
}

fn join(errors: &[ManifestLineError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn algorithm_for_hex_len(len: usize) -> Option<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .find(|a| a.digest_len() * 2 == len)
}

/// BagIt percent-encodes CR, LF and '%' in manifest paths.
fn bagit_unescape(path: &str) -> String {
    path.replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%25", "%")
}

impl Manifest {
    /// Parse a manifest. `algorithm`, when given, must agree with every line; otherwise
    /// it is inferred from the digest length.
    pub fn parse(
        text: &str,
        algorithm: Option<Algorithm>,
        format: ManifestFormat,
    ) -> Result<Self, ManifestError> {
        let mut errors = Vec::new();
        let mut raw = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            // coreutils marks lines whose path holds '\\' or a newline with a leading '\\'.
            let (escaped, line) = match line.strip_prefix('\\') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let Some((digest, rest)) = line.split_once([' ', '\t']) else {
                errors.push(ManifestLineError {
                    line: n,
                    message: "expected '<checksum> <path>'".into(),
                });
                continue;
            };
            let rest = rest.trim_start_matches([' ', '\t']);
            // `sha256sum -b` writes '*' before the path for binary mode.
            let path = rest.strip_prefix('*').unwrap_or(rest);
            let path = if escaped {
                path.replace("\\n", "\n").replace("\\\\", "\\")
            } else {
                bagit_unescape(path)
            };
            raw.push((n, digest.to_owned(), path));
        }
        let mut algo = algorithm;
        for (n, digest, _) in &raw {
            match algorithm_for_hex_len(digest.len()) {
                Some(a) if algo.is_none() => algo = Some(a),
                Some(a) if Some(a) == algo => {}
                Some(_) if algorithm.is_none() => return Err(ManifestError::MixedAlgorithms),
                _ => errors.push(ManifestLineError {
                    line: *n,
                    message: format!("'{digest}' is not a checksum of the expected length"),
                }),
            }
        }
        let Some(algorithm) = algo else {
            return Err(if errors.is_empty() {
                ManifestError::Empty
            } else {
                ManifestError::Lines(errors)
            });
        };
        let strip = match format {
            ManifestFormat::BagIt => true,
            ManifestFormat::Plain => false,
            ManifestFormat::Auto => raw.iter().all(|(_, _, p)| p.starts_with("data/")),
        };
        let mut entries = BTreeMap::new();
        for (n, digest, path) in raw {
            let path = if strip {
                match path.strip_prefix("data/") {
                    Some(p) => p.to_owned(),
                    None => {
                        errors.push(ManifestLineError {
                            line: n,
                            message: format!("'{path}' is outside the bag's data/ folder"),
                        });
                        continue;
                    }
                }
            } else {
                path
            };
            let checksum = match Checksum::from_hex(algorithm, &digest) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(ManifestLineError {
                        line: n,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            match DatasetPath::parse(&path) {
                Ok(p) => {
                    if entries.insert(p, checksum).is_some() {
                        errors.push(ManifestLineError {
                            line: n,
                            message: format!("'{path}' is listed twice"),
                        });
                    }
                }
                Err(e) => errors.push(ManifestLineError {
                    line: n,
                    message: format!("'{}': {e}", path.escape_debug()),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(ManifestError::Lines(errors));
        }
        if entries.is_empty() {
            return Err(ManifestError::Empty);
        }
        Ok(Self { algorithm, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn reads_sha256sum_output_in_both_modes() {
        let text = format!("{A}  images/a.cbf\n{A} *images/b b.cbf\n\n");
        let m = Manifest::parse(&text, None, ManifestFormat::Auto).unwrap();
        assert_eq!(m.algorithm, Algorithm::Sha256);
        let paths: Vec<_> = m.entries.keys().map(|p| p.as_str()).collect();
        assert_eq!(paths, ["images/a.cbf", "images/b b.cbf"]);
    }

    #[test]
    fn reads_a_bagit_manifest_and_drops_data_prefix() {
        let text = "900150983cd24fb0d6963f7d28e17f72 data/x%25y.txt\r\n";
        let m = Manifest::parse(text, Some(Algorithm::Md5), ManifestFormat::Auto).unwrap();
        assert_eq!(m.entries.keys().next().unwrap().as_str(), "x%y.txt");
    }

    #[test]
    fn reports_every_bad_line() {
        let text = format!("{A}  ../etc/passwd\nnonsense\n{A}  ok\n{A}  ok\n");
        let Err(ManifestError::Lines(errs)) = Manifest::parse(&text, None, ManifestFormat::Plain)
        else {
            panic!("expected line errors")
        };
        let lines: Vec<_> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 1, 4]);
    }

    #[test]
    fn refuses_mixed_and_empty() {
        let text = format!("{A}  a\n900150983cd24fb0d6963f7d28e17f72  b\n");
        assert_eq!(
            Manifest::parse(&text, None, ManifestFormat::Plain),
            Err(ManifestError::MixedAlgorithms)
        );
        assert_eq!(
            Manifest::parse("\n\n", None, ManifestFormat::Plain),
            Err(ManifestError::Empty)
        );
    }
}
