//! A file's path inside a dataset: relative, normalised, and safe to put on any disk or URL.

use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Longest path accepted, in bytes (after NFC). Enough for deep beamline trees.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest single path component, in bytes: what common file systems allow.
pub const MAX_COMPONENT_BYTES: usize = 255;

/// A validated relative path such as `images/sample_0001.cbf`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatasetPath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the file path is empty")]
    Empty,
    #[error("the file path must be relative to the dataset, not start with '/' or a drive")]
    Absolute,
    #[error("the file path may not contain '..' (a step out of the dataset)")]
    ParentStep,
    #[error("the file path may not contain control characters (including NUL)")]
    ControlCharacter,
    #[error("the file path has an empty part ('//', a trailing '/' or a '.' step)")]
    EmptyComponent,
    #[error("the file path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
    #[error("a folder or file name in the path is longer than {MAX_COMPONENT_BYTES} bytes")]
    ComponentTooLong,
    #[error("the file path may not use '\\' (use '/' between folders)")]
    Backslash,
    #[error(
        "the file path may not contain invisible or direction-changing characters (U+{0:04X}): they make a name look like another"
    )]
    Deceptive(u32),
}

/// Characters that change how text around them is shown without being seen themselves:
/// bidirectional overrides and isolates (a name `evil\u{202e}fdp.exe` shows as
/// `evilexe.pdf`), zero-width characters and other invisible formatting.
pub fn is_deceptive(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{206A}'..='\u{206F}' | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}')
}

impl DatasetPath {
    /// Validate and normalise (Unicode NFC) a path as given by a depositor.
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        let nfc: String = raw.nfc().collect();
        if nfc.is_empty() {
            return Err(PathError::Empty);
        }
        if nfc.chars().any(char::is_control) {
            return Err(PathError::ControlCharacter);
        }
        if nfc.contains('\\') {
            return Err(PathError::Backslash);
        }
        if let Some(c) = nfc.chars().find(|c| is_deceptive(*c)) {
            return Err(PathError::Deceptive(c as u32));
        }
        let bytes = nfc.as_bytes();
        let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
        if nfc.starts_with('/') || drive {
            return Err(PathError::Absolute);
        }
        if nfc.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong);
        }
        for part in nfc.split('/') {
            match part {
                ".." => return Err(PathError::ParentStep),
                "" | "." => return Err(PathError::EmptyComponent),
                p if p.len() > MAX_COMPONENT_BYTES => return Err(PathError::ComponentTooLong),
                _ => {}
            }
        }
        Ok(Self(nfc))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatasetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_pass_unchanged() {
        for p in [
            "a.cbf",
            "images/run 1/x_0001.h5",
            "données/é.txt",
            ".hidden/file",
        ] {
            assert_eq!(DatasetPath::parse(p).unwrap().as_str(), p);
        }
    }

    #[test]
    fn decomposed_unicode_is_composed() {
        let decomposed = "cafe\u{301}.txt";
        assert_eq!(DatasetPath::parse(decomposed).unwrap().as_str(), "café.txt");
    }

    #[test]
    fn hostile_paths_are_refused_with_reasons() {
        let cases = [
            ("", PathError::Empty),
            ("/etc/passwd", PathError::Absolute),
            ("C:/x", PathError::Absolute),
            ("../up", PathError::ParentStep),
            ("a/../../b", PathError::ParentStep),
            ("a\0b", PathError::ControlCharacter),
            ("a\nb", PathError::ControlCharacter),
            ("a\u{7f}", PathError::ControlCharacter),
            ("a//b", PathError::EmptyComponent),
            ("a/", PathError::EmptyComponent),
            ("./a", PathError::EmptyComponent),
            ("a\\..\\b", PathError::Backslash),
            ("evil\u{202e}fdp.exe", PathError::Deceptive(0x202E)),
            ("a\u{2066}b", PathError::Deceptive(0x2066)),
            ("in\u{200b}visible", PathError::Deceptive(0x200B)),
        ];
        for (raw, want) in cases {
            assert_eq!(DatasetPath::parse(raw), Err(want), "{raw:?}");
        }
        assert_eq!(
            DatasetPath::parse(&"x".repeat(300)),
            Err(PathError::ComponentTooLong)
        );
        let deep = vec!["d".repeat(100); 11].join("/");
        assert_eq!(DatasetPath::parse(&deep), Err(PathError::TooLong));
    }
}
