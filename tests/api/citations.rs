//! The software catalogue and the manuscript kit.

use crate::common::{TestApp, metadata};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn deposit_with_software(app: &TestApp, software: serde_json::Value) -> String {
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            &app.author,
            Some(json!({"metadata": metadata(), "facility": {"software": software}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let id = r.json()["id"].as_str().unwrap().to_owned();
    app.reserve_doi(&app.author, &id).await;
    id
}

#[tokio::test]
async fn the_catalogue_starts_with_the_common_programs_and_their_papers() {
    let app = TestApp::new().await;
    let r = app
        .json(Method::GET, "/api/v1/software", &app.author, None)
        .await;
    let all = r.json()["software"].as_array().unwrap().clone();
    let names: Vec<&str> = all.iter().map(|s| s["name"].as_str().unwrap()).collect();
    for want in [
        "XDS", "DIALS", "MOSFLM", "AIMLESS", "CCP4", "Coot", "autoPROC", "HKL-2000", "xia2",
        "Phaser", "REFMAC5", "SHELX",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let xds = all.iter().find(|s| s["name"] == "XDS").unwrap();
    assert_eq!(xds["citation"]["DOI"], "10.1107/S0907444909047337");
    // Seeding happens once: a restart does not duplicate.
    assert_eq!(app.services.software().seed().await.unwrap(), 0);
}

#[tokio::test]
async fn the_manuscript_kit_cites_data_and_software_together() {
    let app = TestApp::new().await;
    let a = deposit_with_software(&app, json!([{"name": "XDS", "version": "Jan 26, 2026"}, {"name": "dials"}, {"name": "MyBeamlineScript"}])).await;
    let b = deposit_with_software(&app, json!([{"name": "xds"}, {"name": "Refmac"}])).await;
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/manuscript-kit?deposits={a},{b}&style=apa"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let kit = r.json();
    let refs = kit["references"].as_array().unwrap();
    let kinds: Vec<&str> = refs.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    // Each dataset, and each program once, in the order they were named.
    assert_eq!(
        kinds,
        ["dataset", "software", "software", "dataset", "software"]
    );
    assert!(
        refs[0]["text"]
            .as_str()
            .unwrap()
            // Two datasets of one author and year in one list: 2026a and 2026b, as APA
            // (and citeproc-js) tell them apart.
            .starts_with("Curie, M. (2026a). Hen egg-white lysozyme, 100 K"),
        "{}",
        refs[0]["text"]
    );
    assert!(
        refs[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("Kabsch, W. (2010). XDS."),
        "{}",
        refs[1]["text"]
    );
    assert!(
        refs[2]["text"]
            .as_str()
            .unwrap()
            .contains("DIALS: implementation and evaluation")
    );
    assert!(refs[4]["text"].as_str().unwrap().contains("REFMAC5"));
    assert_eq!(kit["unmatched_software"], json!(["MyBeamlineScript"]));
    let statement = kit["data_availability"].as_str().unwrap();
    let doi_a = refs[0]["doi"].as_str().unwrap();
    assert!(
        statement.contains(&format!("https://doi.org/{doi_a}"))
            && statement.contains("on publication"),
        "{statement}"
    );
    // Another style, and refusals.
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/manuscript-kit?deposits={a}&style=ieee"),
            &app.author,
            None,
        )
        .await;
    // One reference list, numbered as a manuscript's: 1, 2, 3.
    let texts: Vec<String> = r.json()["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(texts.len() >= 3, "{texts:?}");
    for (i, t) in texts.iter().enumerate() {
        assert!(t.starts_with(&format!("[{}] ", i + 1)), "{texts:?}");
    }
    assert!(texts[1].starts_with("[2] W. Kabsch,"), "{texts:?}");
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/manuscript-kit?deposits={a}&style=mla"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/manuscript-kit?deposits={a}"),
            &app.other_author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn curators_keep_the_catalogue() {
    let app = TestApp::new().await;
    let entry = json!({"name": "MyBeamlineScript", "aliases": ["mbs"], "citation": {
        "type": "software", "title": "MyBeamlineScript", "author": [{"literal": "Beamline I04 team"}],
        "issued": {"date-parts": [[2025]]}, "URL": "https://example.org/mbs"}});
    let r = app
        .json(
            Method::POST,
            "/api/v1/software",
            &app.author,
            Some(entry.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .json(
            Method::POST,
            "/api/v1/software",
            &app.curator,
            Some(entry.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .json(Method::POST, "/api/v1/software", &app.curator, Some(entry))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .json(
            Method::POST,
            "/api/v1/software",
            &app.curator,
            Some(json!({"name": "Broken", "citation": {"author": "nobody"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Once known, the free entry in a deposit is matched (here by its alias).
    let a = deposit_with_software(&app, json!([{"name": "MBS"}])).await;
    let kit = app
        .json(
            Method::GET,
            &format!("/api/v1/manuscript-kit?deposits={a}"),
            &app.author,
            None,
        )
        .await
        .json();
    assert_eq!(kit["unmatched_software"], json!([]));
    assert!(
        kit["references"][1]["text"]
            .as_str()
            .unwrap()
            .contains("Beamline I04 team")
    );
}

#[tokio::test]
async fn software_deposits_export_citation_cff_and_codemeta() {
    let app = TestApp::new().await;
    let meta = json!({
        "titles": [{"title": "beamline-tools: \"quick\" reduction: scripts"}],
        "creators": [{"name": "Curie, Marie", "nameType": "Personal", "givenName": "Marie", "familyName": "Curie",
                      "nameIdentifiers": [{"nameIdentifier": "https://orcid.org/0000-0002-1825-0097", "nameIdentifierScheme": "ORCID"}]},
                     {"name": "Diamond Light Source", "nameType": "Organizational"}],
        "publisher": {"name": "Arca"}, "publicationYear": 2026, "version": "0.3.1",
        "types": {"resourceTypeGeneral": "Software"},
        "descriptions": [{"description": "Scripts: reduce, merge.", "descriptionType": "Abstract"}]
    });
    let r = app
        .json(Method::POST, "/api/v1/deposits", &app.author, Some(json!({"metadata": meta, "facility": {"licence": "CC-BY-4.0", "keywords": ["crystallography"]}})))
        .await;
    let id = r.json()["id"].as_str().unwrap().to_owned();
    app.reserve_doi(&app.author, &id).await;
    let get = |format: &str| {
        let path = format!("/api/v1/deposits/{id}/citation?format={format}");
        let app = &app;
        async move { app.json(Method::GET, &path, &app.author, None).await }
    };
    let r = get("cff").await;
    assert_eq!(r.status, StatusCode::OK);
    let cff = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(cff.starts_with("cff-version: 1.2.0\n"), "{cff}");
    assert!(cff.contains("type: software"));
    assert!(
        cff.contains(r#"title: "beamline-tools: \"quick\" reduction: scripts""#),
        "{cff}"
    );
    assert!(cff.contains(r#"orcid: "https://orcid.org/0000-0002-1825-0097""#));
    assert!(cff.contains(r#"  - name: "Diamond Light Source""#));
    assert!(cff.contains(r#"license: "CC-BY-4.0""#), "{cff}");
    let r = get("codemeta").await;
    assert_eq!(r.header("content-type"), Some("application/ld+json"));
    let cm: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(cm["@type"], "SoftwareSourceCode");
    assert_eq!(
        cm["author"][0]["@id"],
        "https://orcid.org/0000-0002-1825-0097"
    );
    assert_eq!(cm["license"], "https://spdx.org/licenses/CC-BY-4.0");
    assert_eq!(cm["version"], "0.3.1");
    // A dataset is not software: no CodeMeta for it.
    let ds = app.create_deposit(&app.author).await;
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{ds}/citation?format=codemeta"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn every_offered_style_is_served_as_the_csl_file_it_is_rendered_with() {
    let app = TestApp::new().await;
    for (id, _) in arca::metadata::citation::STYLES {
        let r = app.public(&format!("/citation-styles/{id}.csl"), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{id}");
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/vnd.citationstyles.style+xml")
        );
        let xml = String::from_utf8(r.body.to_vec()).unwrap();
        assert!(
            xml.contains("<style xmlns=\"http://purl.org/net/xbiblio/csl\""),
            "{id}"
        );
    }
    for missing in [
        "/citation-styles/chicago.csl",
        "/citation-styles/apa",
        "/citation-styles/..%2Fapa.csl",
    ] {
        assert_eq!(
            app.public(missing, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}
