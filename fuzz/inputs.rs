//! What each fuzz target does with its input, shared by the fuzz targets
//! (`fuzz_targets/*.rs`, run by `fuzz/run.sh`) and by the test that replays every seed
//! (`tests/api/fuzz_seeds.rs`, run by CI without an instrumented build).

use arca::extract;
use arca::metadata::datacite::xml::{from_xml, to_xml};
use arca::model::bagit::PayloadFile;
use arca::model::manifest::{Manifest, ManifestFormat};
use arca::model::{Algorithm, Checksum};
use arca::services::ServiceResult;
use arca::services::bag_reader::{self, PayloadSink};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt};

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Every target by name (its seeds are in `fuzz/seeds/<name>`).
pub const TARGETS: &[(&str, Target)] = &[
    ("tus_headers", tus_headers),
    ("manifest", manifest),
    ("bag_import", bag_import),
    ("datacite_xml", datacite_xml),
    ("deposit_json", deposit_json),
    ("oai_request", oai_request),
    ("http_headers", http_headers),
    ("paths_and_urls", paths_and_urls),
    ("file_headers", file_headers),
    ("registry_answers", registry_answers),
];

/// tus request headers: Upload-Metadata, Upload-Checksum, Upload-Length/Offset.
pub fn tus_headers(data: &[u8]) {
    // Each line is one header's value, in this order.
    let names = [
        "upload-metadata",
        "upload-checksum",
        "upload-length",
        "upload-offset",
        "tus-resumable",
    ];
    let mut headers = HeaderMap::new();
    for (name, value) in names.iter().zip(data.split(|b| *b == b'\n')) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    let _ = arca::web::tus::metadata(&headers);
    let _ = arca::web::tus::checksum(&headers);
    let _ = arca::web::tus::number(&headers, "Upload-Length");
    let _ = arca::web::tus::required_number(&headers, "Upload-Offset");
    let _ = arca::web::tus::check_resumable(&headers);
}

/// Checksum manifests (BagIt manifest-<alg>.txt, sha256sum/md5sum output).
pub fn manifest(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = [
        ManifestFormat::BagIt,
        ManifestFormat::Plain,
        ManifestFormat::Auto,
    ][selector as usize % 3];
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
}

/// A BagIt bag as a tar stream, through the import pipeline: the tar header scanner, the
/// tar reader, tag files and payload into memory, every BagIt check, the metadata the
/// bag carries (DataCite XML or bag-info.txt) and the deposit schema. Only the catalogue
/// and the object store are left out.
pub fn bag_import(data: &[u8]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        if let Ok(read) = bag_reader::read_bag(data, 1 << 20, &mut Memory).await {
            let _ = bag_reader::accept(read);
        }
    });
}

/// DataCite XML (kernel-4): the reader, and the writer on whatever the reader accepts.
pub fn datacite_xml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = from_xml(text) {
        // What Arca writes, it reads back to the same record.
        let again = from_xml(&to_xml(&r)).expect("Arca reads its own XML");
        assert_eq!(to_xml(&again), to_xml(&r));
    }
}

/// The deposit body: DataCite JSON metadata and the facility profile, checked against
/// the schema and Arca's own rules, then mapped to DataCite XML, JSON-LD and citations.
pub fn deposit_json(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let metadata = body.get("metadata").cloned().unwrap_or(body.clone());
    let facility = body
        .get("facility")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    if let Ok((_, _, record)) = arca::metadata::schema::check_deposit(&metadata, &facility) {
        let _ = arca::metadata::datacite::xml::to_xml(&record);
        let _ = arca::metadata::schema_org::schema_org(&record);
        let _ = arca::metadata::citation::datacite_text(&record);
    }
}

/// OAI-PMH requests (query strings and form bodies) and resumption tokens.
pub fn oai_request(data: &[u8]) {
    let pairs: Vec<(String, String)> = form_pairs(data);
    let _ = arca::oai::request::parse(&pairs);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = arca::oai::token::Token::decode(text);
    }
}

/// Accept (content negotiation with parameters), Range, If-None-Match and If-Range
/// headers of downloads, and the
/// X-Request-Id a client may send (kept only when it is safe in a header and a log line).
pub fn http_headers(data: &[u8]) {
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
}

/// Names and addresses from outside: dataset file paths, the sign-in `next=`, URLs
/// depositors type, DOIs and identifiers.
pub fn paths_and_urls(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = arca::model::DatasetPath::parse(text) {
        assert!(!p.as_str().split('/').any(|c| c == ".." || c.is_empty()));
    }
    // Where a browser goes after sign-in: always a path on this site.
    let next = arca::web::session::safe_next(text);
    let path = next.split(['?', '#']).next().unwrap_or_default();
    assert!(
        path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'),
        "{next}"
    );
    if arca::model::identifiers::is_web_url(text) {
        assert!(!text.contains(['<', '>', '"', ' ']));
    }
    let _ = arca::model::doi::Doi::parse(text);
    let _ = arca::model::identifiers::Orcid::parse(text);
    let _ = arca::model::identifiers::Ror::parse(text);
}

/// The header readers of deposited files (CBF, mmCIF, NeXus HDF5 and its frames) and detector
/// series names: any bytes give facts or a named error, never a panic or a hang.
pub fn file_headers(data: &[u8]) {
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
    if let Ok(picture) = extract::hdf5::frame_picture(extract::hdf5::in_memory(data.to_vec()), 64) {
        assert!(picture.width <= 64 && picture.height <= 64);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let series = extract::series::group(text.lines());
        for s in &series {
            assert!(s.first <= s.last && s.count >= 2);
            assert!(s.missing_count <= s.last - s.first);
        }
        let _ = extract::normalise_time(text);
    }
}

/// Payload bytes held in memory, with the checksums the import computes.
struct Memory;

impl PayloadSink for Memory {
    async fn take(
        &mut self,
        entry: &mut (impl AsyncRead + Unpin + Send),
    ) -> ServiceResult<PayloadFile> {
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).await?;
        Ok(PayloadFile {
            size: bytes.len() as u64,
            checksums: Algorithm::ALL
                .iter()
                .map(|a| Checksum::of(*a, &bytes))
                .collect(),
        })
    }
}

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

const OFFERS: &[&str] = &[
    "text/html",
    "application/x-bibtex",
    "text/x-bibliography",
    "application/vnd.citationstyles.csl+json",
    "application/ld+json",
];

/// What ORCID, ROR and Crossref answer a lookup (outside input, read as suggestions for
/// the deposit form): any bytes give suggestions or an error, never a panic, and every
/// suggestion carries a label and a valid identifier.
pub fn registry_answers(data: &[u8]) {
    use arca::lookups::{Registry, SUGGESTIONS, read_answer};
    for r in Registry::ALL {
        if let Ok(found) = read_answer(*r, data) {
            assert!(found.len() <= SUGGESTIONS);
            for s in found {
                assert!(!s.label.is_empty() && !s.id.is_empty(), "{s:?}");
            }
        }
    }
}
