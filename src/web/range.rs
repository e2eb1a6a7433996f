//! The `Range` header of a download (RFC 9110 §14.2), as this archive serves it.

use std::ops::RangeInclusive;

/// A range that cannot be served from a file of this size (416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// The one byte range to serve, or `None` for the whole file: no header, a header that
/// does not parse (ignored, as RFC 9110 allows), or several ranges (the whole file is
/// simpler for every client than multipart/byteranges).
pub fn byte_range(
    raw: Option<&str>,
    size: u64,
) -> Result<Option<RangeInclusive<u64>>, Unsatisfiable> {
    // An empty file has no bytes to range over: it is sent whole (and empty).
    let Some(raw) = raw.filter(|_| size > 0) else {
        return Ok(None);
    };
    match http_range_header::parse_range_header(raw)
        .ok()
        .map(|r| r.validate(size))
    {
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let r = ranges[0].clone();
            if r.start() > r.end() || *r.end() >= size {
                return Err(Unsatisfiable);
            }
            Ok(Some(r))
        }
        Some(Ok(_)) | None => Ok(None),
        Some(Err(_)) => Err(Unsatisfiable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_served() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=2-4"), 10), Ok(Some(2..=4)));
        assert_eq!(byte_range(Some("bytes=-3"), 10), Ok(Some(7..=9)));
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 10), Ok(None));
        assert_eq!(byte_range(Some("pages=1"), 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=20-30"), 10), Err(Unsatisfiable));
        // Found by the fuzzer: an empty file answered "bytes 0-0/0".
        assert_eq!(byte_range(Some("bytes=0-1023"), 0), Ok(None));
    }
}
