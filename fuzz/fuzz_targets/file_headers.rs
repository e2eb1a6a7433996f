//! The header readers of deposited files (CBF, mmCIF, NeXus HDF5 and its frames) and detector
//! series names: any bytes give facts or a named error, never a panic or a hang.
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::file_headers(data));
