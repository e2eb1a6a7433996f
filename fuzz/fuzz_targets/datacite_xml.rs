//! DataCite XML (kernel-4): the reader, and the writer on whatever the reader accepts.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::datacite_xml(data));
