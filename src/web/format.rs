//! How pages show numbers to people, and how paths go into links.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Path segments keep their unreserved characters; everything else is escaped.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `<prefix>/<path>`, each path segment percent-encoded.
pub fn url_under(prefix: &str, path: &str) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .map(|seg| utf8_percent_encode(seg, SEGMENT).to_string())
        .collect();
    format!("{prefix}/{}", encoded.join("/"))
}

/// Bytes as people read them: 1.5 GB, 320 kB.
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(super::human_size(0), "0 bytes");
        assert_eq!(super::human_size(999), "999 bytes");
        assert_eq!(super::human_size(1_500), "1.5 kB");
        assert_eq!(super::human_size(320_000), "320.0 kB");
        assert_eq!(super::human_size(1_500_000_000), "1.5 GB");
        assert_eq!(super::human_size(48_000_000_000_000_000), "48.0 PB");
    }
}
