//! Accept (content negotiation with parameters), Range, If-None-Match and If-Range
//! headers of downloads, and the
//! X-Request-Id a client may send (kept only when it is safe in a header and a log line).
#![no_main]
use libfuzzer_sys::fuzz_target;

const OFFERS: &[&str] = &[
    "text/html",
    "application/x-bibtex",
    "text/x-bibliography",
    "application/vnd.citationstyles.csl+json",
    "application/ld+json",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if arca::web::observe::usable(text) {
        assert!(axum::http::HeaderValue::from_str(text).is_ok() && text.len() <= 128);
        assert!(!text.contains(['"', ',', ' ', '\n', '\\']));
    }
    let _ = arca::web::conneg::choose(Some(text), OFFERS);
    let _ = arca::web::conneg::choose_with_params(Some(text), OFFERS);
    let _ = arca::web::range::etag_listed(text, "\"abc\"");
    if arca::web::range::if_range_holds(text, "\"abc\"") {
        assert_eq!(text.trim(), "\"abc\"");
    }
    for size in [0u64, 1, 1000, u64::MAX] {
        if let Ok(Some(r)) = arca::web::range::byte_range(Some(text), size) {
            assert!(r.start() <= r.end() && *r.end() < size);
        }
    }
});
