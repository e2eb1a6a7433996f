//! Holds until publication: each kind, the watcher against fake Crossref and PDB
//! servers, "my paper is out", reminders, and who may place a hold.

use crate::common::*;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// A stand-in for api.crossref.org and data.rcsb.org: what is "published" is a set the
/// test controls; everything else is a 404, as the real services answer.
#[derive(Clone, Default)]
struct Published(Arc<Mutex<HashSet<String>>>);

impl Published {
    fn publish(&self, id: &str) {
        self.0.lock().unwrap().insert(id.to_lowercase());
    }
}

async fn work(State(p): State<Published>, Path(doi): Path<String>) -> (StatusCode, String) {
    if p.0.lock().unwrap().contains(&doi.to_lowercase()) {
        (
            StatusCode::OK,
            json!({"status": "ok", "message": {"DOI": doi}}).to_string(),
        )
    } else {
        (StatusCode::NOT_FOUND, "Resource not found.".into())
    }
}

async fn entry(State(p): State<Published>, Path(id): Path<String>) -> (StatusCode, String) {
    if p.0.lock().unwrap().contains(&id.to_lowercase()) {
        (StatusCode::OK, json!({"rcsb_id": id}).to_string())
    } else {
        (StatusCode::NOT_FOUND, json!({"status": 404}).to_string())
    }
}

async fn fake_registry() -> (Published, String) {
    let p = Published::default();
    let app = Router::new()
        .route("/works/{*doi}", get(work))
        .route("/rest/v1/core/entry/{id}", get(entry))
        .with_state(p.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (p, url)
}

async fn app_with(auto: bool, max_days: u32) -> (TestApp, Published) {
    let (p, url) = fake_registry().await;
    let app = TestApp::configured(|c| {
        c.holds.crossref_url = url.clone();
        c.holds.pdb_url = url.clone();
        c.holds.auto_schedule = auto;
        c.holds.max_days = max_days;
        c.holds.check_every_hours = 0;
    })
    .await;
    (app, p)
}

async fn held(app: &TestApp, hold: Value) -> String {
    let id = app
        .deposit_through(json!({"metadata": metadata()}), &[("f", b"x")], "approved")
        .await;
    let r = app.act(&app.curator, &id, "hold", Some(hold)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    id
}

async fn watch(app: &TestApp) -> usize {
    app.services
        .holds()
        .watch(arca::db::now_ms())
        .await
        .unwrap()
}

async fn notes(app: &TestApp, token: &str) -> Vec<String> {
    let r = app
        .json(Method::GET, "/api/v1/notifications", token, None)
        .await;
    r.json()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_watcher_sees_articles_pdb_entries_and_dates() {
    let (app, registry) = app_with(false, 1096).await;
    let article = held(
        &app,
        json!({"until_publication": {"doi": "10.1107/S2059798326000001"}}),
    )
    .await;
    let pdb = held(&app, json!({"until_publication": {"pdb": "9xyz"}})).await;
    let past = held(&app, json!({"until": "2020-01-01"})).await;
    let future = held(&app, json!({"until": "2099-01-01"})).await;
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{pdb}"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.json()["hold"]["kind"], "pdb");
    assert_eq!(r.json()["hold"]["until"], "9xyz");

    // Only the date that has come is found; nothing else is out yet.
    assert_eq!(watch(&app).await, 1);
    let published = |id: &str| {
        let id = id.to_owned();
        let app = &app;
        async move {
            let r = app
                .json(
                    Method::GET,
                    &format!("/api/v1/deposits/{id}"),
                    &app.author,
                    None,
                )
                .await;
            !r.json()["hold"]["published_at"].is_null()
        }
    };
    assert!(published(&past).await);
    assert!(!published(&article).await && !published(&pdb).await && !published(&future).await);

    registry.publish("10.1107/S2059798326000001");
    registry.publish("9XYZ");
    assert_eq!(watch(&app).await, 2);
    assert!(published(&article).await && published(&pdb).await);
    assert_eq!(watch(&app).await, 0, "a publication is reported once");
    // Proposed, not scheduled: the facility did not ask for automatic scheduling.
    assert_eq!(app.state(&article).await, "on_hold");
    let author = notes(&app, &app.author).await;
    assert!(
        author
            .iter()
            .any(|n| n.contains("the article 10.1107/s2059798326000001 is published")),
        "{author:?}"
    );
    let curators = notes(&app, &app.curator).await;
    assert!(
        curators
            .iter()
            .any(|n| n.contains("PDB entry 9xyz is released")),
        "{curators:?}"
    );
    // The other author hears nothing of it.
    assert!(notes(&app, &app.other_author).await.is_empty());
}

#[tokio::test]
async fn a_facility_can_schedule_on_publication_automatically() {
    let (app, registry) = app_with(true, 1096).await;
    let id = held(
        &app,
        json!({"until_publication": {"doi": "10.1038/s41586-026-00001-x"}}),
    )
    .await;
    registry.publish("10.1038/s41586-026-00001-x");
    assert_eq!(watch(&app).await, 1);
    assert_eq!(app.state(&id).await, "scheduled");
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/events"),
            &app.author,
            None,
        )
        .await;
    let kinds: Vec<String> = r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.ends_with(&["publication_detected".into(), "schedule".into()]),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn my_paper_is_out_then_a_curator_confirms() {
    let (app, _) = app_with(false, 1096).await;
    let id = held(&app, json!({"until_publication": {"doi": "10.1107/S1"}})).await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/publication"),
            &app.author,
            Some(json!({"doi": "not a doi"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/publication"),
            &app.author,
            Some(json!({"doi": "10.1107/S2059798326009999"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.json()["hold"]["claimed_article"],
        "10.1107/s2059798326009999"
    );
    assert!(
        notes(&app, &app.curator)
            .await
            .iter()
            .any(|n| n.contains("says the article 10.1107/s2059798326009999 is out"))
    );
    // Authors cannot confirm their own claim.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/publication/confirm"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/publication/confirm"),
            &app.curator,
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["state"], "scheduled");
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}"),
            &app.author,
            None,
        )
        .await;
    assert!(r.json()["hold"].is_null(), "scheduling ends the hold");
}

#[tokio::test]
async fn a_hold_near_its_maximum_length_sends_one_reminder() {
    // A ten-day maximum is inside the thirty-day reminder window from the start.
    let (app, _) = app_with(false, 10).await;
    let id = held(&app, json!({"until": "2099-01-01"})).await;
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}"),
            &app.author,
            None,
        )
        .await;
    let placed = r.json()["hold"]["placed_at"].as_str().unwrap().to_owned();
    let lapses = r.json()["hold"]["lapses_at"].as_str().unwrap().to_owned();
    assert!(lapses > placed);
    watch(&app).await;
    watch(&app).await;
    let reminders: Vec<String> = notes(&app, &app.author)
        .await
        .into_iter()
        .filter(|n| n.contains("reaches its maximum length"))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
}

#[tokio::test]
async fn authors_may_hold_their_own_data_only_where_policy_allows() {
    let app = TestApp::new().await;
    let id = app
        .deposit_through(json!({"metadata": metadata()}), &[("f", b"x")], "approved")
        .await;
    let r = app
        .act(
            &app.author,
            &id,
            "hold",
            Some(json!({"until": "2028-01-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Holds put the DOI in "registered": it resolves, it is not findable.
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.json()["doi_status"]["wanted_state"], "registered");
    let r = app
        .act(
            &app.other_author,
            &id,
            "hold",
            Some(json!({"until": "2028-01-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let strict = TestApp::configured(|c| c.holds.authors_may_hold = false).await;
    let id = strict
        .deposit_through(json!({"metadata": metadata()}), &[("f", b"x")], "approved")
        .await;
    let r = strict
        .act(
            &strict.author,
            &id,
            "hold",
            Some(json!({"until": "2028-01-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for bad in [
        json!({"until": "someday"}),
        json!({"until_publication": {"pdb": "12345"}}),
        json!({}),
    ] {
        let r = strict
            .act(&strict.curator, &id, "hold", Some(bad.clone()))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(strict.state(&id).await, "approved");
}
