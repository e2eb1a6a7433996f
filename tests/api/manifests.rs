//! Manifests for machines (`manifest.json`, `manifest-sha256.txt`) of released
//! versions, streamed a page at a time, and downloads that answer conditional requests
//! so a client can resume without fetching other bytes.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

fn text(r: &Resp) -> String {
    String::from_utf8(r.body.to_vec()).unwrap()
}

/// The path and query of an absolute URL of the test app.
fn local(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

#[tokio::test]
async fn a_manifest_lists_every_file_with_its_hash_size_and_a_working_url_in_both_forms() {
    let app = TestApp::new().await;
    let dep = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("a.cbf", b"first frame"), ("dir/b c.cbf", b"second")],
            "released",
        )
        .await;
    let ds = app.dataset_of(&dep).await;
    // More files than one page of the manifest (1,000).
    let n = 1_234;
    app.add_series(&dep, n).await;

    let r = app
        .public(&format!("/datasets/{ds}/manifest.json"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let m: Value = serde_json::from_slice(&r.body).expect("one JSON document");
    assert_eq!(m["dataset_id"], ds.as_str());
    assert_eq!(m["version"], 1);
    assert_eq!(m["doi"], app.doi_of(&dep).await.as_str());
    assert_eq!(m["file_count"], n as i64 + 2);
    assert_eq!(m["urls_expire_at"], Value::Null);
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), n + 2, "every file once, across pages");
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(paths, sorted, "in path order, no repeats");
    let total: i64 = files.iter().map(|f| f["size"].as_i64().unwrap()).sum();
    assert_eq!(m["total_size"], total);
    // Each URL serves the bytes whose hash the manifest gives.
    for f in files
        .iter()
        .filter(|f| !f["path"].as_str().unwrap().starts_with("series/"))
    {
        let got = app.public(&local(f["url"].as_str().unwrap()), &[]).await;
        assert_eq!(got.status, StatusCode::OK, "{f}");
        assert_eq!(sha256_hex(&got.body), f["sha256"].as_str().unwrap());
        assert_eq!(got.body.len() as i64, f["size"].as_i64().unwrap());
        assert_eq!(f["mirrors"], json!([]));
    }
    let b = files.iter().find(|f| f["path"] == "dir/b c.cbf").unwrap();
    assert!(
        b["url"]
            .as_str()
            .unwrap()
            .ends_with("/versions/1/files/dir/b%20c.cbf")
    );

    // The same list for sha256sum -c.
    let r = app
        .public(
            &format!("/datasets/{ds}/manifest-sha256.txt?version=1"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let t = text(&r);
    assert_eq!(t.lines().count(), n + 2);
    assert!(
        t.starts_with(&format!("{}  a.cbf\n", sha256_hex(b"first frame"))),
        "{t:.200}"
    );
    assert!(t.contains(&format!("{}  dir/b c.cbf\n", sha256_hex(b"second"))));

    // Linked from the landing page and the linkset.
    let page = text(&app.public(&format!("/datasets/{ds}"), &[]).await);
    assert!(
        page.contains(&format!("/datasets/{ds}/manifest.json?version=1")),
        "{page}"
    );
    assert!(page.contains(&format!("/datasets/{ds}/manifest-sha256.txt?version=1")));
    let set: Value = serde_json::from_slice(
        &app.public(&format!("/datasets/{ds}/linkset"), &[])
            .await
            .body,
    )
    .unwrap();
    let manifests: Vec<&str> = set["linkset"][0]["manifest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["href"].as_str().unwrap())
        .collect();
    assert!(
        manifests
            .iter()
            .any(|h| h.ends_with(&format!("/datasets/{ds}/manifest.json")))
    );
    assert!(
        manifests
            .iter()
            .any(|h| h.ends_with("/manifest-sha256.txt"))
    );

    // Unknown versions and datasets are not found.
    for path in [
        format!("/datasets/{ds}/manifest.json?version=9"),
        "/datasets/01J0000000000000000000000X/manifest.json".to_owned(),
        "/datasets/../manifest-sha256.txt".to_owned(),
    ] {
        assert_eq!(
            app.public(&path, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn held_and_withdrawn_datasets_have_no_manifest() {
    let app = TestApp::new().await;
    let held = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("h.cbf", b"held")],
            "on_hold",
        )
        .await;
    let gone = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("w.cbf", b"gone")],
            "withdrawn",
        )
        .await;
    for (dep, status) in [(held, StatusCode::NOT_FOUND), (gone, StatusCode::GONE)] {
        let ds = app.dataset_of(&dep).await;
        for name in ["manifest.json", "manifest-sha256.txt"] {
            let r = app.public(&format!("/datasets/{ds}/{name}"), &[]).await;
            assert_eq!(r.status, status, "{name}");
            assert!(!text(&r).contains(".cbf"));
        }
    }
}

#[tokio::test]
async fn downloads_answer_if_none_match_and_if_range() {
    let app = TestApp::new().await;
    let data = b"0123456789abcdef";
    let dep = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("f.cbf", data)],
            "released",
        )
        .await;
    let ds = app.dataset_of(&dep).await;
    let url = format!("/datasets/{ds}/files/f.cbf");
    let etag = format!("\"{}\"", sha256_hex(data));

    // A client holding these bytes is told so, with no body.
    let r = app.public(&url, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let r = app
        .public(&url, &[("if-none-match", "\"other\", W/\"x\"")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], data);

    // A resume of the same bytes gets its range; of other bytes, the whole file.
    let r = app
        .public(&url, &[("range", "bytes=4-7"), ("if-range", &etag)])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.body[..], b"4567");
    let r = app
        .public(&url, &[("range", "bytes=4-7"), ("if-range", "\"stale\"")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], data);
    assert_eq!(r.header("content-length"), Some("16"));
    let r = app
        .public(
            &url,
            &[
                ("range", "bytes=4-7"),
                ("if-range", "Sat, 01 Jan 2000 00:00:00 GMT"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a date is not a validator these files carry"
    );
}
