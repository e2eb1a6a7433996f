//! Accept (content negotiation with parameters), Range, If-None-Match and If-Range
//! headers of downloads, and the
//! X-Request-Id a client may send (kept only when it is safe in a header and a log line).
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::http_headers(data));
