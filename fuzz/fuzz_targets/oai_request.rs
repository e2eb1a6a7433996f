//! OAI-PMH requests (query strings and form bodies) and resumption tokens.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = form_pairs(data);
    let _ = arca::oai::request::parse(&pairs);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = arca::oai::token::Token::decode(text);
    }
});

fn form_pairs(data: &[u8]) -> Vec<(String, String)> {
    data.split(|b| *b == b'&')
        .map(|kv| {
            let mut it = kv.splitn(2, |b| *b == b'=');
            let k = String::from_utf8_lossy(it.next().unwrap_or_default()).into_owned();
            let v = String::from_utf8_lossy(it.next().unwrap_or_default()).into_owned();
            (k, v)
        })
        .collect()
}
