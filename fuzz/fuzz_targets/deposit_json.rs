//! The deposit body: DataCite JSON metadata and the facility profile, checked against
//! the schema and Arca's own rules, then mapped to DataCite XML, JSON-LD and citations.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::deposit_json(data));
