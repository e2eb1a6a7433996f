//! The Crossref REST API's funders (the Funder Registry): `GET {base}/funders?query=…`.

use super::{SUGGESTIONS, Suggestion, text};
use serde_json::Value;

/// The DOI prefix of the Funder Registry.
const FUNDER_PREFIX: &str = "10.13039/";

pub(super) fn request(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    contact: Option<&str>,
) -> reqwest::RequestBuilder {
    let rows = SUGGESTIONS.to_string();
    let mut params = vec![("query", query.trim()), ("rows", rows.as_str())];
    // Crossref's "polite pool" is for requests that say whom to contact.
    if let Some(mailto) = contact {
        params.push(("mailto", mailto));
    }
    http.get(format!("{base}/funders"))
        .query(&params)
        .header("accept", "application/json")
}

/// `{"message": {"items": [{"id": "501100000780", "name", "location", "alt-names",
/// "uri": "http://dx.doi.org/10.13039/501100000780"}]}}`.
pub(super) fn parse(json: &Value) -> Result<Vec<Suggestion>, String> {
    let items = json
        .pointer("/message/items")
        .and_then(Value::as_array)
        .ok_or("no message.items")?;
    Ok(items
        .iter()
        .filter_map(|f| {
            let id = text(f, "id").filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric()))?;
            let name = text(f, "name")?;
            Some(Suggestion {
                label: name.to_owned(),
                id: format!("https://doi.org/{FUNDER_PREFIX}{id}"),
                detail: text(f, "location").map(str::to_owned),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn funders_are_recorded_by_their_registry_doi() {
        let found = parse(&json!({"status": "ok", "message-type": "funder-list", "message": {
            "items": [
                {"id": "501100000780", "location": "Belgium", "name": "European Commission",
                 "alt-names": ["EC"], "uri": "http://dx.doi.org/10.13039/501100000780", "replaces": [], "replaced-by": [], "tokens": ["european"]},
                {"id": "100010269", "name": "Wellcome Trust", "uri": "http://dx.doi.org/10.13039/100010269"},
                {"id": "../x", "name": "Odd"}
            ],
            "total-results": 3
        }}))
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].label, "European Commission");
        assert_eq!(found[0].id, "https://doi.org/10.13039/501100000780");
        assert_eq!(found[0].detail.as_deref(), Some("Belgium"));
        assert_eq!(found[1].detail, None);
        assert!(parse(&json!({"message": {}})).is_err());
    }
}
