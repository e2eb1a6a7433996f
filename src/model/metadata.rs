//! Deposit metadata in DataCite's own JSON vocabulary (the attributes of the DataCite
//! REST API). This module checks shape and completeness; the full DataCite 4.7 model and
//! its JSON Schema replace these checks when the metadata work lands.

use serde_json::Value;

/// The DataCite REST API attribute names a deposit may carry.
pub const DATACITE_ATTRIBUTES: &[&str] = &[
    "identifiers",
    "creators",
    "titles",
    "publisher",
    "publicationYear",
    "subjects",
    "contributors",
    "dates",
    "language",
    "types",
    "relatedIdentifiers",
    "relatedItems",
    "sizes",
    "formats",
    "version",
    "rightsList",
    "descriptions",
    "geoLocations",
    "fundingReferences",
];

/// A problem with one field, named by its JSON Pointer (RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

fn check_array_of_objects(
    meta: &serde_json::Map<String, Value>,
    key: &str,
    required_string: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(v) = meta.get(key) else { return };
    let Some(items) = v.as_array() else {
        errors.push(FieldError::new(format!("/{key}"), "must be a list"));
        return;
    };
    for (i, item) in items.iter().enumerate() {
        match item.get(required_string) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => errors.push(FieldError::new(
                format!("/{key}/{i}/{required_string}"),
                format!("'{required_string}' is required and must be non-empty text"),
            )),
        }
    }
}

/// Checks that hold for any saved draft: known attribute names and sane shapes.
pub fn validate_draft(meta: &Value) -> Result<(), Vec<FieldError>> {
    let Some(obj) = meta.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "metadata must be a JSON object of DataCite attributes",
        )]);
    };
    let mut errors = Vec::new();
    for key in obj.keys() {
        if !DATACITE_ATTRIBUTES.contains(&key.as_str()) {
            errors.push(FieldError::new(
                format!("/{key}"),
                "not a DataCite attribute (facility details go beside 'metadata', not inside it)",
            ));
        }
    }
    check_array_of_objects(obj, "titles", "title", &mut errors);
    check_array_of_objects(obj, "creators", "name", &mut errors);
    if let Some(year) = obj.get("publicationYear") {
        let ok = match year {
            Value::Number(n) => n.as_u64().is_some_and(|y| (1000..=9999).contains(&y)),
            Value::String(s) => s.len() == 4 && s.parse::<u16>().is_ok(),
            _ => false,
        };
        if !ok {
            errors.push(FieldError::new(
                "/publicationYear",
                "must be a four-digit year",
            ));
        }
    }
    if let Some(types) = obj.get("types")
        && !types.is_object()
    {
        errors.push(FieldError::new("/types", "must be an object"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// What DataCite requires before a DOI can be registered: checked at submission.
pub fn validate_for_submission(meta: &Value) -> Result<(), Vec<FieldError>> {
    let mut errors = validate_draft(meta).err().unwrap_or_default();
    let obj = meta.as_object().cloned().unwrap_or_default();
    let non_empty_list = |k: &str| {
        obj.get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    if !non_empty_list("titles") {
        errors.push(FieldError::new("/titles", "at least one title is required"));
    }
    if !non_empty_list("creators") {
        errors.push(FieldError::new(
            "/creators",
            "at least one creator is required",
        ));
    }
    let publisher_ok = match obj.get("publisher") {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Object(o)) => o
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty()),
        _ => false,
    };
    if !publisher_ok {
        errors.push(FieldError::new("/publisher", "the publisher is required"));
    }
    if !obj.contains_key("publicationYear") {
        errors.push(FieldError::new(
            "/publicationYear",
            "the publication year is required",
        ));
    }
    let general = obj
        .get("types")
        .and_then(|t| t.get("resourceTypeGeneral"))
        .and_then(Value::as_str);
    if general.is_none_or(|g| g.trim().is_empty()) {
        errors.push(FieldError::new(
            "/types/resourceTypeGeneral",
            "the resource type (for example 'Dataset') is required",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_complete_record_passes() {
        let m = json!({
            "titles": [{"title": "Lysozyme at 100 K"}],
            "creators": [{"name": "Curie, Marie"}],
            "publisher": {"name": "Arca"},
            "publicationYear": 2026,
            "types": {"resourceTypeGeneral": "Dataset"}
        });
        assert_eq!(validate_for_submission(&m), Ok(()));
    }

    #[test]
    fn errors_name_the_field() {
        let m = json!({"title": "x", "titles": [{"title": ""}], "publicationYear": "26"});
        let errs = validate_draft(&m).unwrap_err();
        let ptrs: Vec<_> = errs.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(ptrs, ["/title", "/titles/0/title", "/publicationYear"]);
    }

    #[test]
    fn an_empty_draft_is_fine_but_cannot_be_submitted() {
        assert_eq!(validate_draft(&json!({})), Ok(()));
        let errs = validate_for_submission(&json!({})).unwrap_err();
        assert_eq!(errs.len(), 5);
    }
}
