//! tus request headers: Upload-Metadata, Upload-Checksum, Upload-Length/Offset.
#![no_main]
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Each line is one header's value, in this order.
    let names = ["upload-metadata", "upload-checksum", "upload-length", "upload-offset", "tus-resumable"];
    let mut headers = HeaderMap::new();
    for (name, value) in names.iter().zip(data.split(|b| *b == b'\n')) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    let _ = arca::web::tus::metadata(&headers);
    let _ = arca::web::tus::checksum(&headers);
    let _ = arca::web::tus::number(&headers, "Upload-Length");
    let _ = arca::web::tus::required_number(&headers, "Upload-Offset");
    let _ = arca::web::tus::check_resumable(&headers);
});
