//! The JSON Schema of what `POST /api/v1/deposits` accepts: `metadata` in DataCite's
//! JSON vocabulary and `facility` beside it. Served at `/api/v1/schemas/deposit.json`
//! (and kept in `schemas/deposit.schema.json`) so a facility script can check a record
//! before sending it; the server validates with the same schema, and every problem
//! names its JSON Pointer.

use super::datacite::model::Resource;
use super::datacite::vocab::*;
use super::profile::{self, Facility};
use crate::model::metadata::FieldError;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

pub const SCHEMA_ID: &str = "https://arca.invalid/api/v1/schemas/deposit.json";

fn s() -> Value {
    json!({ "type": "string", "minLength": 1 })
}
fn opt_s() -> Value {
    json!({ "type": "string" })
}
/// URLs end up as links (pages, Signposting, JSON-LD, feeds): absolute http(s) only.
fn uri() -> Value {
    json!({ "type": "string", "minLength": 1, "format": "uri",
            "pattern": crate::model::identifiers::WEB_URL_PATTERN })
}
fn num() -> Value {
    json!({ "type": ["number", "string"] })
}
fn arr(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}
fn en<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Value {
    json!({ "enum": all.iter().map(|v| name(*v)).collect::<Vec<_>>() })
}
fn obj(required: &[&str], props: &[(&str, Value)]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_owned(), v.clone());
    }
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": p })
}
fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

/// The schema document.
pub fn deposit_schema() -> Value {
    let lang = json!({ "type": "string", "pattern": "^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$" });
    let year = json!({ "type": ["string", "integer"], "pattern": "^[0-9]{4}$", "minimum": 1000, "maximum": 9999 });
    let person_props = |contributor: bool| {
        let mut p = vec![
            ("name", s()),
            ("nameType", en(NameType::ALL, NameType::as_str)),
            ("lang", lang.clone()),
            ("givenName", opt_s()),
            ("familyName", opt_s()),
            ("nameIdentifiers", arr(r("nameIdentifier"))),
            ("affiliation", arr(r("affiliation"))),
        ];
        if contributor {
            p.push((
                "contributorType",
                en(ContributorType::ALL, ContributorType::as_str),
            ));
        }
        p
    };
    let title = obj(
        &["title"],
        &[
            ("title", s()),
            ("titleType", en(TitleType::ALL, TitleType::as_str)),
            ("lang", lang.clone()),
        ],
    );
    let point = obj(
        &["pointLongitude", "pointLatitude"],
        &[("pointLongitude", num()), ("pointLatitude", num())],
    );
    let defs = json!({
        "nameIdentifier": obj(&["nameIdentifier", "nameIdentifierScheme"], &[
            ("nameIdentifier", s()), ("nameIdentifierScheme", s()), ("schemeUri", uri())]),
        "affiliation": obj(&["name"], &[
            ("name", s()), ("affiliationIdentifier", s()), ("affiliationIdentifierScheme", s()), ("schemeUri", uri())]),
        "creator": obj(&["name"], &person_props(false)),
        "contributor": obj(&["name", "contributorType"], &person_props(true)),
        "title": title,
        "point": point,
        "resource": obj(&[], &[
            ("doi", s()),
            ("creators", arr(r("creator"))),
            ("titles", arr(r("title"))),
            ("publisher", json!({ "oneOf": [s(), obj(&["name"], &[
                ("name", s()), ("publisherIdentifier", s()), ("publisherIdentifierScheme", s()),
                ("schemeUri", uri()), ("lang", lang.clone())])] })),
            ("publicationYear", year.clone()),
            ("types", obj(&["resourceTypeGeneral"], &[
                ("resourceTypeGeneral", en(ResourceTypeGeneral::ALL, ResourceTypeGeneral::as_str)),
                ("resourceType", opt_s()), ("schemaOrg", opt_s()), ("bibtex", opt_s()), ("citeproc", opt_s()), ("ris", opt_s())])),
            ("subjects", arr(obj(&["subject"], &[
                ("subject", s()), ("subjectScheme", s()), ("schemeUri", uri()), ("valueUri", uri()),
                ("classificationCode", s()), ("lang", lang.clone())]))),
            ("contributors", arr(r("contributor"))),
            ("dates", arr(obj(&["date", "dateType"], &[
                ("date", s()), ("dateType", en(DateType::ALL, DateType::as_str)), ("dateInformation", s())]))),
            ("language", lang.clone()),
            ("identifiers", arr(obj(&["identifier", "identifierType"], &[("identifier", s()), ("identifierType", s())]))),
            ("relatedIdentifiers", arr(obj(&["relatedIdentifier", "relatedIdentifierType", "relationType"], &[
                ("relatedIdentifier", s()),
                ("relatedIdentifierType", en(RelatedIdentifierType::ALL, RelatedIdentifierType::as_str)),
                ("relationType", en(RelationType::ALL, RelationType::as_str)),
                ("relationTypeInformation", s()),
                ("resourceTypeGeneral", en(ResourceTypeGeneral::ALL, ResourceTypeGeneral::as_str)),
                ("relatedMetadataScheme", s()), ("schemeUri", uri()), ("schemeType", s())]))),
            ("sizes", arr(s())),
            ("formats", arr(s())),
            ("version", s()),
            ("rightsList", arr(obj(&[], &[
                ("rights", opt_s()), ("rightsUri", uri()), ("rightsIdentifier", s()),
                ("rightsIdentifierScheme", s()), ("schemeUri", uri()), ("lang", lang.clone())]))),
            ("descriptions", arr(obj(&["description", "descriptionType"], &[
                ("description", s()), ("descriptionType", en(DescriptionType::ALL, DescriptionType::as_str)),
                ("lang", lang.clone())]))),
            ("geoLocations", arr(obj(&[], &[
                ("geoLocationPlace", s()),
                ("geoLocationPoint", r("point")),
                ("geoLocationBox", obj(&["westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude"], &[
                    ("westBoundLongitude", num()), ("eastBoundLongitude", num()),
                    ("southBoundLatitude", num()), ("northBoundLatitude", num())])),
                ("geoLocationPolygon", arr(obj(&["polygonPoints"], &[
                    ("polygonPoints", json!({ "type": "array", "items": r("point"), "minItems": 4 })),
                    ("inPolygonPoint", r("point"))])))]))),
            ("fundingReferences", arr(obj(&["funderName"], &[
                ("funderName", s()), ("funderIdentifier", s()),
                ("funderIdentifierType", en(FunderIdentifierType::ALL, FunderIdentifierType::as_str)),
                ("schemeUri", uri()), ("awardNumber", s()), ("awardUri", uri()), ("awardTitle", s())]))),
            ("relatedItems", arr(obj(&["relatedItemType", "relationType"], &[
                ("relatedItemType", en(ResourceTypeGeneral::ALL, ResourceTypeGeneral::as_str)),
                ("relationType", en(RelationType::ALL, RelationType::as_str)),
                ("relationTypeInformation", s()),
                ("relatedItemIdentifier", obj(&["relatedItemIdentifier"], &[
                    ("relatedItemIdentifier", s()),
                    ("relatedItemIdentifierType", en(RelatedIdentifierType::ALL, RelatedIdentifierType::as_str)),
                    ("relatedMetadataScheme", s()), ("schemeUri", uri()), ("schemeType", s())])),
                ("creators", arr(r("creator"))),
                ("titles", arr(r("title"))),
                ("publicationYear", year),
                ("volume", s()), ("issue", s()), ("number", s()),
                ("numberType", en(NumberType::ALL, NumberType::as_str)),
                ("firstPage", s()), ("lastPage", s()), ("publisher", s()), ("edition", s()),
                ("contributors", arr(r("contributor")))]))),
        ]),
        "facility": obj(&[], &[
            ("facility", obj(&["name"], &[("name", s()), ("ror", s())])),
            ("beamline", obj(&["name"], &[("name", s()), ("identifier", s())])),
            ("collection", obj(&[], &[
                ("start", s()), ("end", s()), ("technique", s()), ("detector", s()),
                ("wavelength_angstrom", json!({ "type": "number", "exclusiveMinimum": 0 })),
                ("temperature_kelvin", json!({ "type": "number", "minimum": 0 }))])),
            ("sample", obj(&[], &[("name", s()), ("organism", s()), ("macromolecule", s())])),
            ("article", obj(&[], &[("doi", s()), ("in_preparation", json!({ "type": "boolean" })), ("title", s())])),
            ("pdb_ids", arr(s())),
            ("software", arr(obj(&["name"], &[("name", s()), ("version", s()), ("doi", s())]))),
            ("licence", s()),
            ("funding", arr(obj(&["funder_name"], &[
                ("funder_name", s()), ("funder_id", s()), ("award_number", s()), ("award_title", s())]))),
            ("keywords", arr(s())),
            ("contact", obj(&["name"], &[("name", s()), ("email", s())])),
        ]),
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Arca deposit",
        "description": "metadata: DataCite 4.7 in the DataCite REST API's JSON vocabulary; facility: what DataCite has no property for, mapped by the facility profile.",
        "type": "object",
        "additionalProperties": false,
        "properties": { "metadata": r("resource"), "facility": r("facility") },
        "$defs": defs,
    })
}

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    jsonschema::validator_for(&deposit_schema()).expect("the deposit schema compiles")
});

/// Every place in `body` the schema refuses, by JSON Pointer to the field itself.
pub fn schema_errors(body: &Value) -> Vec<FieldError> {
    VALIDATOR
        .iter_errors(body)
        .flat_map(|e| {
            let at = e.instance_path().to_string();
            match e.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
                    .iter()
                    .map(|p| FieldError {
                        pointer: format!("{at}/{p}"),
                        detail: "is not a property Arca knows here (facility details go in 'facility', beside 'metadata')".into(),
                    })
                    .collect::<Vec<_>>(),
                jsonschema::error::ValidationErrorKind::Required { property } => vec![FieldError {
                    pointer: format!("{at}/{}", property.as_str().unwrap_or_default()),
                    detail: "is required".into(),
                }],
                _ => vec![FieldError { pointer: at, detail: e.to_string() }],
            }
        })
        .collect()
}

/// A deposit's metadata checked completely: the schema, then what Arca can check
/// beyond it (ORCID check digits, ROR checksums, the facility profile's identifiers).
/// Returns the typed DataCite record with the facility profile applied.
pub fn check_deposit(
    metadata: &Value,
    facility: &Value,
) -> Result<(Resource, Facility, Resource), Vec<FieldError>> {
    let body = json!({ "metadata": metadata, "facility": facility });
    let errors = schema_errors(&body);
    if !errors.is_empty() {
        return Err(errors);
    }
    let typed = |e: serde_json::Error, at: &str| {
        vec![FieldError {
            pointer: at.into(),
            detail: e.to_string(),
        }]
    };
    let resource: Resource =
        serde_json::from_value(metadata.clone()).map_err(|e| typed(e, "/metadata"))?;
    let facility: Facility =
        serde_json::from_value(facility.clone()).map_err(|e| typed(e, "/facility"))?;
    let mut errors: Vec<FieldError> = profile::check_identifiers(&resource)
        .into_iter()
        .map(|e| FieldError {
            pointer: format!("/metadata{}", e.pointer),
            detail: e.detail,
        })
        .collect();
    let combined = match profile::to_datacite(&resource, &facility) {
        Ok(c) => Some(c),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    match combined {
        Some(c) if errors.is_empty() => Ok((resource, facility, c)),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_schema_file_is_the_one_served() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/deposit.schema.json");
        let generated = serde_json::to_string_pretty(&deposit_schema()).unwrap() + "\n";
        if std::env::var("ARCA_WRITE_SCHEMAS").is_ok() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path)
            .expect("schemas/deposit.schema.json (ARCA_WRITE_SCHEMAS=1 writes it)");
        assert_eq!(
            committed, generated,
            "schemas/deposit.schema.json is stale: run with ARCA_WRITE_SCHEMAS=1"
        );
    }

    #[test]
    fn problems_are_named_by_pointer() {
        let errs = schema_errors(&json!({
            "metadata": {"title": "x", "creators": [{"nameType": "Personal"}], "publicationYear": "twenty",
                          "types": {"resourceTypeGeneral": "Spreadsheet"}},
            "sample": {}
        }));
        let mut ptrs: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
        ptrs.sort();
        assert_eq!(
            ptrs,
            [
                "/metadata/creators/0/name",
                "/metadata/publicationYear",
                "/metadata/title",
                "/metadata/types/resourceTypeGeneral",
                "/sample"
            ]
        );
    }
}
