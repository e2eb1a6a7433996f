//! Checksum manifests (BagIt manifest-<alg>.txt, sha256sum/md5sum output).
#![no_main]
use arca::model::manifest::{Manifest, ManifestFormat};
use arca::model::Algorithm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = [ManifestFormat::BagIt, ManifestFormat::Plain, ManifestFormat::Auto][selector as usize % 3];
    let algorithm = match selector / 3 % 3 {
        0 => None,
        1 => Some(Algorithm::Sha256),
        _ => Some(Algorithm::Md5),
    };
    if let Ok(m) = Manifest::parse(text, algorithm, format) {
        // Whatever parses names valid dataset paths.
        for path in m.entries.keys() {
            assert!(arca::model::DatasetPath::parse(path.as_str()).is_ok());
        }
    }
});
