//! ORCID's public API: `GET {base}/expanded-search/?q=…&rows=…`, which gives names and
//! institutions with each iD (the plain search gives the iDs alone).

use super::{SUGGESTIONS, Suggestion, text, words};
use crate::model::identifiers::Orcid;
use serde_json::Value;

pub(super) fn request(http: &reqwest::Client, base: &str, query: &str) -> reqwest::RequestBuilder {
    // An iD (or its URL) is looked up as one; anything else is a name, every word of it
    // required, through the field that matches with and without diacritics.
    let q = match Orcid::parse(query.trim()) {
        Ok(id) => format!("orcid:{}", id.bare()),
        Err(_) => format!("given-and-family-names:({})", words(query).join(" AND ")),
    };
    http.get(format!("{base}/expanded-search/"))
        .query(&[("q", q.as_str()), ("rows", &SUGGESTIONS.to_string())])
        .header("accept", "application/json")
}

/// `{"expanded-result": [{"orcid-id", "given-names", "family-names", "institution-name":
/// […]}], "num-found": n}`; `expanded-result` is null when nothing matched.
pub(super) fn parse(json: &Value) -> Result<Vec<Suggestion>, String> {
    let results = match json.get("expanded-result") {
        Some(Value::Array(a)) => a.as_slice(),
        Some(Value::Null) | None if json.get("num-found").is_some() => &[],
        _ => return Err("no expanded-result".into()),
    };
    Ok(results
        .iter()
        .filter_map(|r| {
            let id = Orcid::parse(text(r, "orcid-id")?).ok()?;
            let family = text(r, "family-names");
            let given = text(r, "given-names");
            let label = match (family, given) {
                (Some(f), Some(g)) => format!("{f}, {g}"),
                (Some(one), None) | (None, Some(one)) => one.to_owned(),
                (None, None) => text(r, "credit-name")?.to_owned(),
            };
            let detail = r
                .get("institution-name")
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .take(2)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .filter(|d| !d.is_empty());
            Some(Suggestion {
                label,
                id: id.bare().to_owned(),
                detail,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_come_family_first_with_their_institutions() {
        let found = parse(&json!({
            "expanded-result": [
                {"orcid-id": "0000-0002-1825-0097", "given-names": "Josiah", "family-names": "Carberry",
                 "credit-name": null, "other-name": [], "email": [],
                 "institution-name": ["Brown University", "Wesleyan University", "Third"]},
                {"orcid-id": "not an id", "given-names": "X", "family-names": "Y"},
                {"orcid-id": "0000-0001-5109-3700", "given-names": null, "family-names": "Plato"}
            ],
            "num-found": 3
        }))
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].label, "Carberry, Josiah");
        assert_eq!(found[0].id, "0000-0002-1825-0097");
        assert_eq!(
            found[0].detail.as_deref(),
            Some("Brown University; Wesleyan University")
        );
        assert_eq!(found[1].label, "Plato");
        assert!(
            parse(&json!({"expanded-result": null, "num-found": 0}))
                .unwrap()
                .is_empty()
        );
        assert!(parse(&json!({"error": "x"})).is_err());
    }
}
