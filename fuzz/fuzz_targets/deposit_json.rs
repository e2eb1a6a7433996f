//! The deposit body: DataCite JSON metadata and the facility profile, checked against
//! the schema and Arca's own rules, then mapped to DataCite XML, JSON-LD and citations.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let metadata = body.get("metadata").cloned().unwrap_or(body.clone());
    let facility = body.get("facility").cloned().unwrap_or_else(|| serde_json::json!({}));
    if let Ok((_, _, record)) = arca::metadata::schema::check_deposit(&metadata, &facility) {
        let _ = arca::metadata::datacite::xml::to_xml(&record);
        let _ = arca::metadata::schema_org::schema_org(&record);
        let _ = arca::metadata::citation::datacite_text(&record);
    }
});
