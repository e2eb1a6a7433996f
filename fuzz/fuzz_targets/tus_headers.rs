//! tus request headers: Upload-Metadata, Upload-Checksum, Upload-Length/Offset.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::tus_headers(data));
