//! Deposit metadata in DataCite's own JSON vocabulary (the attributes of the DataCite
//! REST API). Its shape is checked by the deposit JSON Schema (`metadata::schema`); this
//! module says what a deposit needs before it can be submitted.

use serde_json::Value;

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

/// What DataCite requires before a DOI can be registered: checked at submission.
pub fn validate_for_submission(meta: &Value) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let obj = meta.as_object().cloned().unwrap_or_default();
    let non_empty_list = |k: &str| {
        obj.get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    if !non_empty_list("titles") {
        errors.push(FieldError::new(
            "/metadata/titles",
            "at least one title is required",
        ));
    }
    if !non_empty_list("creators") {
        errors.push(FieldError::new(
            "/metadata/creators",
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
        errors.push(FieldError::new(
            "/metadata/publisher",
            "the publisher is required",
        ));
    }
    if !obj.contains_key("publicationYear") {
        errors.push(FieldError::new(
            "/metadata/publicationYear",
            "the publication year is required",
        ));
    }
    let general = obj
        .get("types")
        .and_then(|t| t.get("resourceTypeGeneral"))
        .and_then(Value::as_str);
    if general.is_none_or(|g| g.trim().is_empty()) {
        errors.push(FieldError::new(
            "/metadata/types/resourceTypeGeneral",
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
    fn an_empty_draft_cannot_be_submitted_and_each_gap_is_named() {
        let errs = validate_for_submission(&json!({})).unwrap_err();
        let ptrs: Vec<_> = errs.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            ptrs,
            [
                "/metadata/titles",
                "/metadata/creators",
                "/metadata/publisher",
                "/metadata/publicationYear",
                "/metadata/types/resourceTypeGeneral"
            ]
        );
    }
}
