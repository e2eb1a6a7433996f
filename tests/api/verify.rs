//! Verification (invariant 1): stored bytes are re-hashed and held to the depositor's
//! checksums; problems are reported per file in plain words and block release.

use crate::common::{TestApp, sha256_hex};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn submitted_with(
    app: &TestApp,
    files: &[(&str, &[u8])],
    manifest: Option<String>,
) -> String {
    let id = app.create_deposit(&app.author).await;
    for (path, data) in files {
        app.upload(&app.author, &id, path, data).await;
    }
    if let Some(m) = manifest {
        let r = app
            .call(
                Method::PUT,
                &format!("/api/v1/deposits/{id}/manifest"),
                Some(&app.author),
                &[],
                m,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let r = app.act(&app.author, &id, "submit", None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    app.drain().await;
    id
}

async fn report(app: &TestApp, id: &str) -> serde_json::Value {
    app.deposit_json(id).await["verification"].clone()
}

#[tokio::test]
async fn matching_manifests_in_every_format_verify() {
    let app = TestApp::new().await;
    let (a, b) = (b"alpha".as_slice(), b"beta".as_slice());
    let md5 = |d: &[u8]| {
        use md5::Digest;
        hex::encode(md5::Md5::digest(d))
    };
    // md5sum output; a BagIt manifest; sha256sum in binary mode.
    for manifest in [
        format!("{}  a.txt\n{}  dir/b.txt\n", md5(a), md5(b)),
        format!(
            "{} data/a.txt\n{} data/dir/b.txt\n",
            sha256_hex(a),
            sha256_hex(b)
        ),
        format!("{} *a.txt\n{} *dir/b.txt\n", sha256_hex(a), sha256_hex(b)),
    ] {
        let id = submitted_with(&app, &[("a.txt", a), ("dir/b.txt", b)], Some(manifest)).await;
        assert_eq!(app.state(&id).await, "verified");
        let r = report(&app, &id).await;
        assert_eq!(r["status"], "passed");
        assert_eq!(r["files_checked"], 2);
        for f in app.files(&app.author, &id).await {
            assert_eq!(f["status"], "verified");
            assert!(f["verified_at"].is_string());
        }
    }
}

#[tokio::test]
async fn a_mismatch_and_a_missing_file_send_the_deposit_back_with_reasons() {
    let app = TestApp::new().await;
    let good = b"good bytes".as_slice();
    let manifest = format!(
        "{}  good.cbf\n{}  bad.cbf\n{}  never_sent.cbf\n",
        sha256_hex(good),
        sha256_hex(b"what the beamline wrote"),
        sha256_hex(b"lost")
    );
    let id = submitted_with(
        &app,
        &[("good.cbf", good), ("bad.cbf", b"truncated")],
        Some(manifest),
    )
    .await;
    assert_eq!(app.state(&id).await, "draft");
    let r = report(&app, &id).await;
    assert_eq!(r["status"], "failed");
    assert_eq!(r["problem_count"], 2);
    let problems = r["problems"].as_array().unwrap();
    let bad = problems.iter().find(|p| p["path"] == "bad.cbf").unwrap()["problem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        bad.contains("in your manifest") && bad.contains("damaged"),
        "{bad}"
    );
    let missing = problems
        .iter()
        .find(|p| p["path"] == "never_sent.cbf")
        .unwrap()["problem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(missing.contains("never uploaded"), "{missing}");
    let files = app.files(&app.author, &id).await;
    let status = |p: &str| {
        files.iter().find(|f| f["path"] == p).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status("good.cbf"), "verified");
    assert_eq!(status("bad.cbf"), "failed");
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/events"),
            &app.author,
            None,
        )
        .await;
    let last = r.json()["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "verification_failed");
    assert_eq!(last["to"], "draft");
}

#[tokio::test]
async fn bit_rot_in_the_store_is_caught_without_a_manifest() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let data = b"bytes as received".to_vec();
    app.upload(&app.author, &id, "x.h5", &data).await;
    app.services
        .storage
        .corrupt_for_test(
            &sha256_hex(&data),
            bytes::Bytes::from_static(b"bytes as receivee"),
        )
        .await
        .unwrap();
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    assert_eq!(app.state(&id).await, "draft");
    let problem = report(&app, &id).await["problems"][0]["problem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        problem.contains("changed since they were received"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_stored_object_that_vanished_is_reported() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "x.h5", b"soon gone").await;
    app.services
        .storage
        .delete_object(&sha256_hex(b"soon gone"))
        .await
        .unwrap();
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    let problem = report(&app, &id).await["problems"][0]["problem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(problem.contains("missing"), "{problem}");
}

#[tokio::test]
async fn nothing_unverified_can_be_released() {
    let app = TestApp::new().await;
    let id = submitted_with(
        &app,
        &[("a", b"1")],
        Some(format!("{}  a\n", sha256_hex(b"2"))),
    )
    .await;
    assert_eq!(app.state(&id).await, "draft");
    // Even a curator cannot push a failed deposit through.
    for action in ["approve", "release"] {
        let r = app.act(&app.curator, &id, action, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}");
    }
}

#[tokio::test]
async fn bad_manifests_are_refused_line_by_line_and_change_nothing() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let good = format!("{}  a.txt\n", sha256_hex(b"a"));
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/deposits/{id}/manifest"),
            Some(&app.author),
            &[],
            good,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["not_yet_uploaded"], json!(["a.txt"]));
    let bad = format!(
        "{}  ../escape\nnot a line\n{}  ok.txt\n",
        sha256_hex(b"a"),
        sha256_hex(b"b")
    );
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/deposits/{id}/manifest"),
            Some(&app.author),
            &[],
            bad,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("line 1") && detail.contains("line 2"),
        "{detail}"
    );
    // The earlier manifest still stands.
    assert_eq!(app.count("expected_checksums").await, 1);
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/deposits/{id}/manifest?algorithm=crc32"),
            Some(&app.author),
            &[],
            "x",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
