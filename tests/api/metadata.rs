//! Deposit metadata through the API: the published JSON Schema, identifier checks, the
//! facility profile, and the DataCite XML a deposit turns into.

use crate::common::{TestApp, metadata};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

fn facility() -> serde_json::Value {
    json!({
        "facility": {"name": "Diamond Light Source", "ror": "https://ror.org/05etxs293"},
        "beamline": {"name": "I04"},
        "collection": {"start": "2026-03-01", "end": "2026-03-02", "technique": "X-ray diffraction", "wavelength_angstrom": 0.9795},
        "sample": {"name": "HEWL crystal 3", "organism": "Gallus gallus"},
        "article": {"doi": "10.1107/S2059798320000001"},
        "pdb_ids": ["7ABC"],
        "software": [{"name": "XDS", "version": "Jan 26, 2026"}],
        "licence": "CC-BY-4.0",
        "funding": [{"funder_name": "Wellcome Trust", "funder_id": "https://doi.org/10.13039/100010269"}],
        "keywords": ["lysozyme"]
    })
}

#[tokio::test]
async fn the_schema_is_published_without_a_token_and_matches_the_repository() {
    let app = TestApp::new().await;
    let r = app
        .call(
            Method::GET,
            "/api/v1/schemas/deposit.json",
            None,
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/schema+json"));
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schemas/deposit.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(r.json(), committed);
}

#[tokio::test]
async fn identifier_typos_are_refused_where_they_are() {
    let app = TestApp::new().await;
    let mut m = metadata();
    m["creators"][0]["nameIdentifiers"] = json!([{"nameIdentifier": "https://orcid.org/0000-0002-1825-0098", "nameIdentifierScheme": "ORCID"}]);
    let mut f = facility();
    f["pdb_ids"] = json!(["7ABC", "XYZ"]);
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            &app.author,
            Some(json!({"metadata": m, "facility": f})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = r.json()["errors"].as_array().unwrap().clone();
    let at = |p: &str| {
        errors
            .iter()
            .find(|e| e["pointer"] == p)
            .map(|e| e["detail"].as_str().unwrap().to_owned())
    };
    assert!(
        at("/metadata/creators/0/nameIdentifiers/0/nameIdentifier")
            .unwrap()
            .contains("check digit")
    );
    assert!(at("/facility/pdb_ids/1").unwrap().contains("PDB id"));
    assert_eq!(app.count("datasets").await, 0);
}

#[tokio::test]
async fn a_deposit_becomes_valid_datacite_xml_with_the_facility_profile_applied() {
    let app = TestApp::new().await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            &app.author,
            Some(json!({"metadata": metadata(), "facility": facility()})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/datacite.xml"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no DOI yet");
    let doi = app.reserve_doi(&app.author, &id).await;
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/datacite.xml"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.datacite.datacite+xml")
    );
    let xml = String::from_utf8(r.body.to_vec()).unwrap();
    let record = arca::metadata::datacite::xml::from_xml(&xml).unwrap();
    assert_eq!(record.doi.as_deref(), Some(doi.to_uppercase().as_str()));
    assert!(xml.contains(r#"contributorType="HostingInstitution""#));
    assert!(
        xml.contains(r#"relationType="IsSupplementTo""#) && xml.contains("10.2210/pdb7abc/pdb")
    );
    assert!(xml.contains(r#"relatedItemType="Instrument""#));
    // Valid against the official 4.7 schema.
    let file = app.dir.path().join("record.xml");
    std::fs::write(&file, &xml).unwrap();
    let schema = crate::support::schema_dir();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema.join("metadata.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint");
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Other authors cannot read it.
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/datacite.xml"),
            &app.other_author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
