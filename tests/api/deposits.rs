//! Deposits through the API: creation, validation, access, and the state machine with
//! its events.

use crate::common::{TestApp, metadata};
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_and_read_a_deposit() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["state"], "draft");
    assert_eq!(v["doi"], serde_json::Value::Null);
    assert_eq!(
        v["metadata"]["titles"][0]["title"],
        "Hen egg-white lysozyme, 100 K"
    );
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = TestApp::new().await;
    let r = app
        .call(Method::POST, "/api/v1/deposits", None, &[], "{}")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            "arca_forged",
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("datasets").await, 0);
}

#[tokio::test]
async fn bad_metadata_names_each_field_and_saves_nothing() {
    let app = TestApp::new().await;
    let body = json!({"metadata": {"title": "typo", "creators": [{"nameType": "Personal"}], "publicationYear": "twenty"}});
    let r = app
        .json(Method::POST, "/api/v1/deposits", &app.author, Some(body))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap().to_owned())
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "/metadata/creators/0/name",
            "/metadata/publicationYear",
            "/metadata/title"
        ]
    );
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            &app.author,
            Some(json!({"metadata": {}, "sample": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["detail"].as_str().unwrap().contains("sample"));
    let r = app
        .call(
            Method::POST,
            "/api/v1/deposits",
            Some(&app.author),
            &[],
            "{not json",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("datasets").await, 0);
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn other_authors_cannot_see_a_deposit() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    for path in [
        format!("/api/v1/deposits/{id}"),
        format!("/api/v1/deposits/{id}/files"),
        format!("/api/v1/deposits/{id}/events"),
    ] {
        let r = app.json(Method::GET, &path, &app.other_author, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        let r = app.json(Method::GET, &path, &app.curator, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
    let r = app.act(&app.other_author, &id, "submit", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn submit_needs_complete_metadata_and_files() {
    let app = TestApp::new().await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            &app.author,
            Some(json!({"metadata": {}})),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = app.act(&app.author, &id, "submit", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["pointer"] == "/metadata/titles")
    );
    let r = app
        .json(
            Method::PATCH,
            &format!("/api/v1/deposits/{id}"),
            &app.author,
            Some(json!({"metadata": metadata()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.act(&app.author, &id, "submit", None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("no files"));
    assert_eq!(app.state(&id).await, "draft");
    assert_eq!(app.count("jobs").await, 0);
}

#[tokio::test]
async fn the_state_machine_allows_the_life_of_a_dataset_and_records_every_step() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "images/x_0001.cbf", b"diffraction")
        .await;
    let r = app.act(&app.author, &id, "submit", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["state"], "submitted");
    // Files are frozen once submitted.
    let r = app.tus_create(&app.author, &id, "late.txt", 3, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    app.drain().await;
    assert_eq!(app.state(&id).await, "verified");
    for (action, body, want) in [
        ("approve", None, "approved"),
        ("hold", Some(json!({"until": "2027-06-30"})), "on_hold"),
        ("schedule", None, "scheduled"),
        ("release", None, "released"),
        (
            "withdraw",
            Some(json!({"reason": "sample mislabelled"})),
            "withdrawn",
        ),
    ] {
        let r = app.act(&app.curator, &id, action, body).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{action}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json()["state"], want);
    }
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/events"),
            &app.author,
            None,
        )
        .await;
    let steps: Vec<(String, String)> = r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"].is_string())
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("create", "draft"),
        ("submit", "submitted"),
        ("verification_passed", "verified"),
        ("approve", "approved"),
        ("hold", "on_hold"),
        ("schedule", "scheduled"),
        ("release", "released"),
        ("withdraw", "withdrawn"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(steps, want);
    let events = r.json()["events"].as_array().unwrap().clone();
    let withdraw = events.iter().find(|e| e["kind"] == "withdraw").unwrap();
    assert_eq!(withdraw["reason"], "sample mislabelled");
    assert_eq!(withdraw["from"], "released");
    let hold = events.iter().find(|e| e["kind"] == "hold").unwrap();
    assert_eq!(hold["reason"], "on hold until 2027-06-30");
}

#[tokio::test]
async fn refused_transitions_change_nothing() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "a.h5", b"abc").await;
    let events_before = app.count("events").await;
    // Curator actions on a draft, and a second submit after submitting.
    for action in ["approve", "release", "schedule", "withdraw"] {
        let r = app
            .act(&app.curator, &id, action, Some(json!({"reason": "x"})))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}");
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .contains("state 'draft'")
        );
    }
    // Authors cannot approve their own work.
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    let r = app.act(&app.author, &id, "approve", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A hold needs a well-formed date; a withdrawal and a change request need reasons.
    app.act(&app.curator, &id, "approve", None).await;
    for body in [
        json!({"until": "30/06/2027"}),
        json!({"until_publication": {"doi": "nope"}}),
        json!({}),
    ] {
        let r = app.act(&app.curator, &id, "hold", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let r = app.act(&app.curator, &id, "request-changes", None).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a change request says what to change"
    );
    let r = app
        .act(
            &app.curator,
            &id,
            "request-changes",
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "approved deposits cannot go back to the author"
    );
    let r = app.act(&app.curator, &id, "frobnicate", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.state(&id).await, "approved");
    // submit, DOI reservation, verification, approve: four events, none for the refusals.
    assert_eq!(app.count("events").await, events_before + 4);
}

#[tokio::test]
async fn a_curator_can_send_a_deposit_back_to_its_author() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "a.h5", b"abc").await;
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    let r = app
        .act(
            &app.curator,
            &id,
            "request-changes",
            Some(json!({"reason": "add the wavelength"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["state"], "draft");
    // The author can edit files again and resubmit.
    app.upload(&app.author, &id, "b.h5", b"def").await;
    let r = app.act(&app.author, &id, "submit", None).await;
    assert_eq!(r.status, StatusCode::OK);
    app.drain().await;
    assert_eq!(app.state(&id).await, "verified");
}

#[tokio::test]
async fn passwords_and_tokens_are_stored_only_as_hashes() {
    use sqlx::Row;
    let app = TestApp::new().await;
    app.services
        .users()
        .add(
            "pw@example.org",
            "Pat",
            arca::model::Role::Author,
            Some("correct horse battery"),
        )
        .await
        .unwrap();
    let mut conn = app.services.db.conn().await.unwrap();
    let hash: String =
        sqlx::query("SELECT password_hash FROM users WHERE email = 'pw@example.org'")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get("password_hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("correct horse"));
    let stored: Vec<String> = sqlx::query("SELECT token_hash FROM api_tokens")
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("token_hash"))
        .collect();
    assert_eq!(stored.len(), 3);
    for token in [&app.author, &app.other_author, &app.curator] {
        assert!(token.starts_with("arca_"));
        assert!(!stored.contains(token), "a raw token is in the database");
    }
    // Short passwords and duplicate people are refused.
    let e = app
        .services
        .users()
        .add(
            "x@example.org",
            "X",
            arca::model::Role::Author,
            Some("short"),
        )
        .await;
    assert!(e.unwrap_err().to_string().contains("at least 8"));
    let e = app
        .services
        .users()
        .add("PW@example.org", "Pat", arca::model::Role::Author, None)
        .await;
    assert!(e.unwrap_err().to_string().contains("already exists"));
}

#[tokio::test]
async fn unknown_routes_answer_in_problem_json() {
    let app = TestApp::new().await;
    let r = app
        .json(Method::GET, "/api/v1/nothing-here", &app.author, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.json()["status"], 404);
}

#[tokio::test]
async fn authors_list_their_own_deposits_and_curators_see_the_queue() {
    let app = TestApp::new().await;
    let mine: Vec<String> =
        futures::future::join_all((0..3).map(|_| app.create_deposit(&app.author))).await;
    let theirs = app.create_deposit(&app.other_author).await;
    app.upload(&app.author, &mine[0], "a", b"1").await;
    app.act(&app.author, &mine[0], "submit", None).await;

    let ids = |r: &crate::common::Resp| -> Vec<String> {
        r.json()["deposits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = app
        .json(Method::GET, "/api/v1/deposits", &app.author, None)
        .await;
    let mut want = mine.clone();
    want.sort();
    want.reverse();
    assert_eq!(ids(&r), want, "own deposits, newest first");
    let r = app
        .json(Method::GET, "/api/v1/deposits", &app.curator, None)
        .await;
    assert_eq!(ids(&r).len(), 4);
    assert!(ids(&r).contains(&theirs));
    let r = app
        .json(
            Method::GET,
            "/api/v1/deposits?state=submitted",
            &app.curator,
            None,
        )
        .await;
    assert_eq!(ids(&r), [mine[0].clone()]);
    assert_eq!(
        r.json()["deposits"][0]["title"],
        "Hen egg-white lysozyme, 100 K"
    );
    // Keyset pages: two at a time, no overlap, nothing missed.
    let p1 = app
        .json(Method::GET, "/api/v1/deposits?limit=2", &app.author, None)
        .await;
    let before = p1.json()["next_before"].as_str().unwrap().to_owned();
    let p2 = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits?limit=2&before={before}"),
            &app.author,
            None,
        )
        .await;
    let mut all = ids(&p1);
    all.extend(ids(&p2));
    assert_eq!(all, want);
    assert!(p2.json()["next_before"].is_null());
    let r = app
        .json(
            Method::GET,
            "/api/v1/deposits?state=published",
            &app.curator,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn metrics_tell_operators_what_happened() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "a.cbf", &[7u8; 5000]).await;
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    let r = app
        .call(
            Method::GET,
            "/metrics",
            None,
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // Routes are counted by template, never by id.
    assert_eq!(
        value(r#"arca_http_requests_total{method="POST",route="/api/v1/deposits",status="201"}"#),
        1.0
    );
    assert_eq!(
        value(
            r#"arca_http_requests_total{method="POST",route="/api/v1/deposits/{id}/{action}",status="200"}"#
        ),
        1.0
    );
    assert!(!text.contains(&id), "a deposit id leaked into a label");
    assert_eq!(value("arca_upload_bytes_total"), 5000.0);
    assert_eq!(value("arca_uploads_completed_total"), 1.0);
    assert_eq!(value(r#"arca_verifications_total{outcome="passed"}"#), 1.0);
    assert_eq!(value("arca_verified_bytes_total"), 5000.0);
    assert_eq!(value("arca_jobs_pending"), 0.0);
    assert_eq!(value("arca_jobs_failed"), 0.0);
}
