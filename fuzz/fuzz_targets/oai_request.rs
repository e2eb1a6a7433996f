//! OAI-PMH requests (query strings and form bodies) and resumption tokens.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::oai_request(data));
