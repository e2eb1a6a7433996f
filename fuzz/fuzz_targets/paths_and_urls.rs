//! Names and addresses from outside: dataset file paths, the sign-in `next=`, URLs
//! depositors type, DOIs and identifiers.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::paths_and_urls(data));
