//! The ROR API, v2: `GET {base}/organizations?query=…`.

use super::{Suggestion, text};
use crate::model::identifiers::Ror;
use serde_json::Value;

pub(super) fn request(http: &reqwest::Client, base: &str, query: &str) -> reqwest::RequestBuilder {
    http.get(format!("{base}/organizations"))
        .query(&[("query", query.trim())])
        .header("accept", "application/json")
}

/// `{"items": [{"id": "https://ror.org/…", "names": [{"value", "types": ["ror_display",
/// …]}], "locations": [{"geonames_details": {"name", "country_name"}}], "status"}]}`.
/// Withdrawn organisations are left out: a new record should not cite them.
pub(super) fn parse(json: &Value) -> Result<Vec<Suggestion>, String> {
    let items = json
        .get("items")
        .and_then(Value::as_array)
        .ok_or("no items")?;
    Ok(items
        .iter()
        .filter(|o| text(o, "status") != Some("withdrawn"))
        .filter_map(|o| {
            let id = Ror::parse(text(o, "id")?).ok()?;
            let names = o.get("names").and_then(Value::as_array)?;
            let has = |n: &Value, t: &str| {
                n.get("types")
                    .and_then(Value::as_array)
                    .is_some_and(|ts| ts.iter().any(|x| x == t))
            };
            let name = names
                .iter()
                .find(|n| has(n, "ror_display"))
                .or_else(|| names.iter().find(|n| has(n, "label")))
                .and_then(|n| text(n, "value"))?;
            let place = o
                .pointer("/locations/0/geonames_details")
                .map(|g| {
                    [text(g, "name"), text(g, "country_name")]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|p| !p.is_empty());
            Some(Suggestion {
                label: name.to_owned(),
                id: id.as_str().to_owned(),
                detail: place,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn organisations_show_their_display_name_and_place() {
        let found = parse(&json!({"number_of_results": 3, "items": [
            {"id": "https://ror.org/02550n020", "status": "active",
             "names": [{"value": "ESRF", "types": ["acronym"]},
                       {"value": "European Synchrotron Radiation Facility", "types": ["ror_display", "label"], "lang": "en"}],
             "locations": [{"geonames_id": 3014728, "geonames_details": {"name": "Grenoble", "country_name": "France"}}]},
            {"id": "https://ror.org/05etxs293", "status": "withdrawn",
             "names": [{"value": "Gone", "types": ["ror_display"]}]},
            {"id": "https://ror.org/05etxs293", "status": "active",
             "names": [{"value": "Diamond Light Source", "types": ["label"]}], "locations": []}
        ]}))
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].label, "European Synchrotron Radiation Facility");
        assert_eq!(found[0].id, "https://ror.org/02550n020");
        assert_eq!(found[0].detail.as_deref(), Some("Grenoble, France"));
        assert_eq!(found[1].label, "Diamond Light Source");
        assert_eq!(found[1].detail, None);
        assert!(parse(&json!({"errors": ["bad"]})).is_err());
    }
}
