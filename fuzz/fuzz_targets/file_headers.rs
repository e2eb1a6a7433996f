//! The header readers of deposited files (CBF, mmCIF; HDF5 recognition) and detector
//! series names: any bytes give facts or a named error, never a panic or a hang.
#![no_main]
use arca::extract;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(format) = extract::sniff(data) {
        let _ = extract::read(format, data);
    }
    // Whatever the sniffing says, each reader takes any bytes.
    let _ = extract::cbf::read(data);
    let _ = extract::mmcif::read(data);
    if let Ok(picture) = extract::preview::cbf_picture(data, 64) {
        assert!(picture.width <= 64 && picture.height <= 64);
        let _ = picture.png();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let series = extract::series::group(text.lines());
        for s in &series {
            assert!(s.first <= s.last && s.count >= 2);
            assert!(s.missing_count <= s.last - s.first);
        }
        let _ = extract::normalise_time(text);
    }
});
