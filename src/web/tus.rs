//! The tus 1.0.0 wire format: headers and their parsing. No I/O.

use super::error::AppError;
use crate::model::Algorithm;
use crate::services::uploads::ChunkChecksum;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;

pub const VERSION: &str = "1.0.0";
pub const EXTENSIONS: &str = "creation,creation-with-upload,expiration,checksum,termination";
pub const CHECKSUM_ALGORITHMS: &str = "sha256,sha512,sha1,md5";
pub const OFFSET_CONTENT_TYPE: &str = "application/offset+octet-stream";
/// Longest `Upload-Metadata` header accepted.
const MAX_METADATA: usize = 16 * 1024;

pub fn h(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, AppError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| AppError::bad_header(name, "is not ASCII text"))
        })
        .transpose()
}

/// Every request but OPTIONS must say which tus version it speaks (412 otherwise).
pub fn check_resumable(headers: &HeaderMap) -> Result<(), AppError> {
    match header(headers, "tus-resumable")? {
        Some(VERSION) => Ok(()),
        other => Err(AppError::new(
            StatusCode::PRECONDITION_FAILED,
            "unsupported-tus-version",
            format!(
                "this server speaks tus {VERSION}; the request said {}",
                other.map_or("nothing (no Tus-Resumable header)".to_owned(), |v| format!(
                    "'{v}'"
                ))
            ),
        )
        .with_header(h("tus-version"), VERSION)),
    }
}

/// A non-negative decimal integer header, as tus defines its numbers.
pub fn number(headers: &HeaderMap, name: &str) -> Result<Option<u64>, AppError> {
    let Some(raw) = header(headers, name)? else {
        return Ok(None);
    };
    if raw.is_empty() || raw.len() > 19 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::bad_header(
            name,
            "must be a non-negative whole number",
        ));
    }
    raw.parse()
        .map(Some)
        .map_err(|_| AppError::bad_header(name, "is out of range"))
}

pub fn required_number(headers: &HeaderMap, name: &str) -> Result<u64, AppError> {
    number(headers, name)?.ok_or_else(|| AppError::bad_header(name, "is required"))
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs; a key may stand alone.
pub fn metadata(headers: &HeaderMap) -> Result<(String, BTreeMap<String, String>), AppError> {
    let name = "Upload-Metadata";
    let raw = header(headers, "upload-metadata")?.unwrap_or("");
    if raw.len() > MAX_METADATA {
        return Err(AppError::bad_header(
            name,
            format!("is longer than {MAX_METADATA} bytes"),
        ));
    }
    let mut out = BTreeMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.split(' ');
        let key = parts.next().unwrap_or_default();
        let value = parts.next();
        if parts.next().is_some() || key.is_empty() {
            return Err(AppError::bad_header(
                name,
                format!("'{pair}' is not 'key base64value'"),
            ));
        }
        let value = match value {
            None => String::new(),
            Some(v) => {
                let bytes = STANDARD.decode(v).map_err(|_| {
                    AppError::bad_header(name, format!("the value of '{key}' is not base64"))
                })?;
                String::from_utf8(bytes).map_err(|_| {
                    AppError::bad_header(name, format!("the value of '{key}' is not UTF-8"))
                })?
            }
        };
        if out.insert(key.to_owned(), value).is_some() {
            return Err(AppError::bad_header(
                name,
                format!("'{key}' is given twice"),
            ));
        }
    }
    Ok((raw.to_owned(), out))
}

/// `Upload-Checksum: <algorithm> <base64 digest>`.
pub fn checksum(headers: &HeaderMap) -> Result<Option<ChunkChecksum>, AppError> {
    let name = "Upload-Checksum";
    let Some(raw) = header(headers, "upload-checksum")? else {
        return Ok(None);
    };
    let (alg, digest) = raw
        .trim()
        .split_once(' ')
        .ok_or_else(|| AppError::bad_header(name, "must be '<algorithm> <base64 digest>'"))?;
    let algorithm: Algorithm = alg.parse().map_err(|e| AppError::bad_header(name, e))?;
    let digest = STANDARD
        .decode(digest.trim())
        .map_err(|_| AppError::bad_header(name, "the digest is not base64"))?;
    if digest.len() != algorithm.digest_len() {
        return Err(AppError::bad_header(
            name,
            format!(
                "a {algorithm} digest is {} bytes, got {}",
                algorithm.digest_len(),
                digest.len()
            ),
        ));
    }
    Ok(Some(ChunkChecksum { algorithm, digest }))
}

pub fn expires(ms: i64) -> HeaderValue {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("HTTP dates are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn metadata_pairs_decode() {
        let (_, m) = metadata(&headers(&[(
            "upload-metadata",
            "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential",
        )]))
        .unwrap();
        assert_eq!(m["filename"], "world_domination_plan.pdf");
        assert_eq!(m["is_confidential"], "");
    }

    #[test]
    fn malformed_headers_are_400_and_named() {
        for (k, v) in [
            ("upload-metadata", "filename !!!"),
            ("upload-metadata", "a YQ==,a YQ=="),
            ("upload-metadata", "a b c"),
            ("upload-checksum", "crc32 AAAA"),
            ("upload-checksum", "sha256 AAAA"),
        ] {
            let h = headers(&[(k, v)]);
            let err = if k == "upload-metadata" {
                metadata(&h).unwrap_err()
            } else {
                checksum(&h).unwrap_err()
            };
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{k}: {v}");
            assert!(err.detail.to_lowercase().starts_with(k), "{}", err.detail);
        }
        for v in ["-1", "1.5", "", "99999999999999999999", "0x10"] {
            let err = number(&headers(&[("upload-length", v)]), "upload-length").unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{v}");
        }
    }

    #[test]
    fn version_is_required() {
        let err = check_resumable(&HeaderMap::new()).unwrap_err();
        assert_eq!(err.status, StatusCode::PRECONDITION_FAILED);
        assert!(check_resumable(&headers(&[("tus-resumable", "1.0.0")])).is_ok());
    }
}
