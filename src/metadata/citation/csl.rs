use super::{Name, doi, is_software, title, year};
use crate::metadata::datacite::model::Resource;
use serde_json::{Value, json};

/// The record as one CSL-JSON item (the input of every CSL processor).
pub fn csl_json(r: &Resource, id: &str) -> Value {
    let authors: Vec<Value> = r
        .creators
        .iter()
        .map(|c| match Name::of(c) {
            Name::Person {
                family,
                given: Some(g),
            } => json!({ "family": family, "given": g }),
            Name::Person {
                family,
                given: None,
            } => json!({ "family": family }),
            Name::Organisation(o) => json!({ "literal": o }),
        })
        .collect();
    let mut item = json!({
        "id": id,
        "type": if is_software(r) { "software" } else { "dataset" },
        "title": title(r),
        "author": authors,
    });
    if let Some(y) = year(r) {
        item["issued"] = json!({ "date-parts": [[y]] });
    }
    if let Some(p) = &r.publisher {
        item["publisher"] = json!(p.name);
    }
    if let Some(d) = doi(r) {
        item["DOI"] = json!(d);
        item["URL"] = json!(format!("https://doi.org/{d}"));
    }
    if let Some(v) = &r.version {
        item["version"] = json!(v);
    }
    if let Some(t) = r.types.as_ref().and_then(|t| t.resource_type.clone()) {
        item["genre"] = json!(t);
    }
    if let Some(a) = r
        .descriptions
        .iter()
        .find(|d| d.description_type.as_str() == "Abstract")
    {
        item["abstract"] = json!(a.description);
    }
    if let Some(l) = &r.language {
        item["language"] = json!(l);
    }
    item
}
