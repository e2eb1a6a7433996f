//! A BagIt bag as a tar stream, through the import pipeline: the tar header scanner, the
//! tar reader, tag files and payload into memory, every BagIt check, the metadata the
//! bag carries (DataCite XML or bag-info.txt) and the deposit schema. Only the catalogue
//! and the object store are left out.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::bag_import(data));
