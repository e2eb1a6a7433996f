//! Lookup answers from ORCID, ROR and Crossref, read as the deposit form's suggestions.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::registry_answers(data));
