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

/// Whether an `If-None-Match` list names this entity-tag (weak comparison, RFC 9110
/// §13.1.2), or is `*`.
pub fn etag_listed(list: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    list.trim() == "*" || list.split(',').any(|t| bare(t) == etag)
}

/// Whether an `If-Range` value lets the range be served: only the same strong
/// entity-tag (§13.1.5). A date is never enough: the files carry no Last-Modified.
pub fn if_range_holds(value: &str, etag: &str) -> bool {
    value.trim() == etag
}

/// What a GET of bytes named by `etag` answers, from its conditional headers (RFC 9110
/// §13): "not modified", or the range to send (None: the whole).
pub enum Conditional {
    NotModified(axum::response::Response),
    Send(Option<RangeInclusive<u64>>),
}

/// If-None-Match first; then Range, honoured only when an If-Range names the same
/// bytes (a range of other bytes than the client holds would corrupt its copy). `what`
/// names the thing in a 416 ("the file", "the bag").
pub fn conditional(
    headers: &axum::http::HeaderMap,
    etag: &str,
    size: u64,
    what: &str,
) -> Result<Conditional, crate::web::error::AppError> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if text(header::IF_NONE_MATCH).is_some_and(|tags| etag_listed(tags, etag)) {
        let resp = (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.to_owned())]);
        return Ok(Conditional::NotModified(resp.into_response()));
    }
    let raw = text(header::RANGE)
        .filter(|_| text(header::IF_RANGE).is_none_or(|v| if_range_holds(v, etag)));
    let range = byte_range(raw, size).map_err(|_| {
        crate::web::error::AppError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range-not-satisfiable",
            format!("{what} has {size} bytes"),
        )
        .with_header(header::CONTENT_RANGE, &format!("bytes */{size}"))
    })?;
    Ok(Conditional::Send(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_compare_as_rfc_9110_says() {
        let tag = "\"abc\"";
        assert!(etag_listed("\"abc\"", tag));
        assert!(etag_listed("\"x\", W/\"abc\"", tag));
        assert!(etag_listed("*", tag));
        assert!(!etag_listed("\"abd\"", tag));
        assert!(if_range_holds(" \"abc\"", tag));
        assert!(!if_range_holds("W/\"abc\"", tag));
        assert!(!if_range_holds("Sat, 01 Jan 2000 00:00:00 GMT", tag));
    }

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
