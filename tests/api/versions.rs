//! New versions: their own DOI, linked to the previous one and to a concept DOI that
//! always resolves to the latest; unchanged files are not stored again; withdrawal.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

async fn get(app: &TestApp, id: &str) -> Value {
    app.deposit_json(id).await
}

fn has_version(xml: &str, doi: &str) -> bool {
    xml.to_lowercase().contains(&format!(
        "relationtype=\"hasversion\">{}",
        doi.to_lowercase()
    ))
}

fn related(meta: &Value, relation: &str) -> Vec<String> {
    meta["relatedIdentifiers"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|r| r["relationType"] == relation)
                .map(|r| r["relatedIdentifier"].as_str().unwrap().to_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_new_version_shares_objects_and_the_concept_doi_follows_the_latest() {
    let app = TestApp::new().await;
    let v1 = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[
                ("images/a.cbf", b"frame a"),
                ("images/b.cbf", b"frame b (wrong)"),
            ],
            "released",
        )
        .await;
    let v1_doi = get(&app, &v1).await["doi"].as_str().unwrap().to_owned();
    let objects = app.count("objects").await;

    // Only the owner (or a curator) may start one, and only from a released version.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{v1}/versions"),
            &app.other_author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{v1}/versions"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let v2 = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["version"], 2);
    assert_eq!(r.json()["state"], "draft");
    assert_eq!(r.json()["dataset_id"], get(&app, &v1).await["dataset_id"]);
    let meta = &r.json()["metadata"];
    assert_eq!(meta["version"], "2");
    assert_eq!(related(meta, "IsNewVersionOf"), [v1_doi.to_lowercase()]);
    let concept = related(meta, "IsVersionOf").pop().expect("a concept DOI");
    assert_ne!(concept, v1_doi.to_lowercase());
    // One version at a time.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{v1}/versions"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // The files came along without being stored again; one is replaced.
    assert_eq!(app.files(&app.author, &v2).await.len(), 2);
    assert_eq!(app.count("objects").await, objects);
    let r = app
        .json(
            Method::DELETE,
            &format!("/api/v1/deposits/{v2}/files/images/b.cbf"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.upload(&app.author, &v2, "images/b.cbf", b"frame b (right)")
        .await;
    assert_eq!(
        app.count("objects").await,
        objects + 1,
        "only the changed file is new"
    );

    // Before v2 is out, the concept DOI resolves to version 1.
    app.drain().await;
    let r = app
        .public(&format!("/doi/{concept}"), &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let ds = app.dataset_of(&v1).await;
    assert_eq!(
        r.header("location"),
        Some(format!("/datasets/{ds}").as_str())
    );
    let xml = String::from_utf8(
        app.public(&format!("/doi/{concept}?format=datacite-xml"), &[])
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    assert!(has_version(&xml, &v1_doi), "{xml}");

    // Release v2 through the usual path.
    assert_eq!(
        app.act(&app.author, &v2, "submit", None).await.status,
        StatusCode::OK
    );
    app.drain().await;
    for action in ["approve", "release"] {
        assert_eq!(
            app.act(&app.curator, &v2, action, None).await.status,
            StatusCode::OK
        );
    }
    app.drain().await;
    let v2_doi = get(&app, &v2).await["doi"].as_str().unwrap().to_owned();
    assert_ne!(v2_doi, v1_doi);
    // The landing page shows the latest; version 1 stays reachable, files and all.
    let page = String::from_utf8(
        app.public(&format!("/datasets/{ds}"), &[])
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    assert!(
        page.contains("Version 2 (this page)") && page.contains("?version=1"),
        "{page}"
    );
    // ?version=1 shows version 1 itself, with its own DOI.
    let page = String::from_utf8(
        app.public(&format!("/datasets/{ds}?version=1"), &[])
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    assert!(page.contains("Version 1 (this page)"), "{page}");
    assert!(page.contains(&v1_doi), "{page}");
    // Its files are its own: the links go to version 1's bytes, not the latest's.
    assert!(
        page.contains(&format!(
            "href=\"/datasets/{ds}/versions/1/files/images/b.cbf\""
        )),
        "{page}"
    );
    assert!(!page.contains(&format!("href=\"/datasets/{ds}/files/images/b.cbf\"")));
    assert_eq!(
        app.public(&format!("/datasets/{ds}?version=9"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .public(&format!("/datasets/{ds}/files/images/b.cbf"), &[])
        .await;
    assert_eq!(&r.body[..], b"frame b (right)");
    let r = app
        .public(
            &format!("/datasets/{ds}/versions/1/files/images/b.cbf"),
            &[],
        )
        .await;
    assert_eq!(&r.body[..], b"frame b (wrong)");
    // Each version DOI lands on its version; the concept lands on the latest.
    let r = app
        .public(&format!("/doi/{v1_doi}"), &[("accept", "text/html")])
        .await;
    assert_eq!(
        r.header("location"),
        Some(format!("/datasets/{ds}?version=1").as_str())
    );
    let xml = String::from_utf8(
        app.public(&format!("/doi/{concept}?format=datacite-xml"), &[])
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    assert!(has_version(&xml, &v1_doi), "{xml}");
    assert!(has_version(&xml, &v2_doi), "{xml}");
    assert!(xml.contains("<version>2</version>"), "{xml}");

    // Withdrawing v2: tombstone for it, the concept goes back to version 1.
    let r = app
        .act(
            &app.curator,
            &v2,
            "withdraw",
            Some(json!({"reason": "frame b was wrong again"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.drain().await;
    let r = app.public(&format!("/datasets/{ds}?version=2"), &[]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(String::from_utf8_lossy(&r.body).contains("frame b was wrong again"));
    let xml = String::from_utf8(
        app.public(&format!("/doi/{concept}?format=datacite-xml"), &[])
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    assert!(
        !xml.contains("<version>2</version>"),
        "the concept describes version 1 again: {xml}"
    );
    let r = app
        .public(&format!("/doi/{v2_doi}?format=datacite-xml"), &[])
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a withdrawn DOI still resolves (registered)"
    );
    // The withdrawal is kept in the history.
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{v2}/events"),
            &app.author,
            None,
        )
        .await;
    assert!(
        r.json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "withdraw" && e["reason"] == "frame b was wrong again")
    );
}
