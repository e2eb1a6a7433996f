//! Checksum manifests (BagIt manifest-<alg>.txt, sha256sum/md5sum output).
#![no_main]
#[path = "../inputs.rs"]
#[allow(dead_code)]
mod inputs;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inputs::manifest(data));
