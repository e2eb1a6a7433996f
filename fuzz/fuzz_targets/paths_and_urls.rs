//! Names and addresses from outside: dataset file paths, the sign-in `next=`, URLs
//! depositors type, DOIs and identifiers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = arca::model::DatasetPath::parse(text) {
        assert!(!p.as_str().split('/').any(|c| c == ".." || c.is_empty()));
    }
    // Where a browser goes after sign-in: always a path on this site.
    let next = arca::web::session::safe_next(text);
    let path = next.split(['?', '#']).next().unwrap_or_default();
    assert!(path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'), "{next}");
    if arca::model::identifiers::is_web_url(text) {
        assert!(!text.contains(['<', '>', '"', ' ']));
    }
    let _ = arca::model::doi::Doi::parse(text);
    let _ = arca::model::identifiers::Orcid::parse(text);
    let _ = arca::model::identifiers::Ror::parse(text);
});
