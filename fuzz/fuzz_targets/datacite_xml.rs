//! DataCite XML (kernel-4): the reader, and the writer on whatever the reader accepts.
#![no_main]
use arca::metadata::datacite::xml::{from_xml, to_xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = from_xml(text) {
        // What Arca writes, it reads back to the same record.
        let again = from_xml(&to_xml(&r)).expect("Arca reads its own XML");
        assert_eq!(to_xml(&again), to_xml(&r));
    }
});
