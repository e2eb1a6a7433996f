//! Metadata from the data: headers read by a job after upload (never delaying it), the
//! report and its visibility, detector series in verification, reuse across versions,
//! and what the deposit's page and form show. Files written by the community's own tools
//! are read in tests/interop/test_extract.py; here the bytes only need to be recognised.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::Value;

/// A miniCBF header (Pilatus convention) for frame `n` of a sweep.
fn frame(n: u32) -> Vec<u8> {
    format!(
        "###CBF: VERSION 1.5\r\ndata_x_{n:05}\r\n\r\n_array_data.header_convention \"PILATUS_1.2\"\r\n\
         _array_data.header_contents\r\n;\r\n# Detector: PILATUS 2M, S/N 24-0107\r\n\
         # 2024-02-0{d}T09:00:00.000\r\n# Wavelength 1.0332 A\r\n# Start_angle {n}.0000 deg.\r\n;\r\n",
        d = 1 + n / 3
    )
    .into_bytes()
}

async fn extracted(app: &TestApp, token: &str, id: &str) -> (StatusCode, Value) {
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/extracted"),
            token,
            None,
        )
        .await;
    let body = if r.status == StatusCode::OK {
        r.json()
    } else {
        Value::Null
    };
    (r.status, body)
}

fn suggested<'a>(report: &'a Value, pointer: &str) -> Vec<&'a Value> {
    report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["pointer"] == pointer)
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| &v["value"]))
        .collect()
}

#[tokio::test]
async fn headers_are_read_after_the_upload_and_shown_to_the_author_only() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    for n in [1, 3, 4] {
        let path = format!("sweep/x_{n:05}.cbf");
        app.upload(&app.author, &id, &path, &frame(n)).await;
    }
    app.upload(&app.author, &id, "notes.txt", b"nothing to read")
        .await;
    // The uploads were acknowledged before any header was read.
    let (status, before) = extracted(&app, &app.author, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["pending"], 4);
    assert!(before["files"].as_array().unwrap().is_empty());

    app.drain().await;
    let (_, r) = extracted(&app, &app.author, &id).await;
    assert_eq!(
        (r["pending"].as_u64(), r["unrecognised"].as_u64()),
        (Some(0), Some(1))
    );
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "one entry for the series: {r}");
    assert_eq!(files[0]["path"], "sweep/x_00001.cbf");
    assert_eq!(files[0]["facts"]["detector"], "PILATUS 2M");
    assert_eq!(files[0]["facts"]["detector_serial"], "24-0107");
    let series = &r["series"][0];
    assert_eq!(series["template"], "sweep/x_#####.cbf");
    assert_eq!(series["missing"], serde_json::json!([[2, 2]]));
    assert!(r["bytes_read"].as_u64().unwrap() > 0);
    assert_eq!(
        suggested(&r, "/facility/collection/wavelength_angstrom"),
        [&serde_json::json!(1.0332)]
    );
    assert_eq!(
        suggested(&r, "/facility/collection/start"),
        [&serde_json::json!("2024-02-01")]
    );
    assert_eq!(
        suggested(&r, "/facility/collection/end"),
        [&serde_json::json!("2024-02-02")]
    );

    // Someone else's deposit does not exist for them; curators see it.
    let (status, _) = extracted(&app, &app.other_author, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = extracted(&app, &app.curator, &id).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn missing_frames_are_a_warning_in_verification_unless_the_facility_says_fail() {
    let app = TestApp::new().await;
    let files: Vec<(String, Vec<u8>)> = [1, 2, 5]
        .iter()
        .map(|n| (format!("x_{n:05}.cbf"), frame(*n)))
        .collect();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let id = app
        .deposit_through(body_with_metadata(), &files, "verified")
        .await;
    let v = app.deposit_json(&id).await;
    assert_eq!(v["verification"]["status"], "passed");
    let warning = v["verification"]["warnings"][0]["problem"]
        .as_str()
        .unwrap();
    assert!(warning.contains("2 of 5 frames"), "{warning}");
    assert!(warning.contains("3–4"), "{warning}");

    let strict = TestApp::configured(|c| c.extraction.incomplete_series_fail = true).await;
    let id = strict
        .deposit_through(body_with_metadata(), &files, "submitted")
        .await;
    strict.drain().await;
    let v = strict.deposit_json(&id).await;
    assert_eq!(v["verification"]["status"], "failed");
    assert_eq!(
        v["state"], "draft",
        "back to the author to upload the frames"
    );
    let problem = v["verification"]["problems"][0]["problem"]
        .as_str()
        .unwrap();
    assert!(problem.contains("x_#####.cbf"), "{problem}");
}

#[tokio::test]
async fn a_new_version_reuses_what_was_read_of_its_files() {
    let app = TestApp::new().await;
    let id = app
        .deposit_through(
            body_with_metadata(),
            &[("x_00001.cbf", &frame(1))],
            "released",
        )
        .await;
    assert_eq!(app.count("jobs WHERE kind = 'extract'").await, 1);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/versions"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let next = r.json()["id"].as_str().unwrap().to_owned();
    app.drain().await;
    assert_eq!(
        app.count("jobs WHERE kind = 'extract'").await,
        1,
        "read once"
    );
    let (_, report) = extracted(&app, &app.author, &next).await;
    assert_eq!(report["files"][0]["facts"]["detector"], "PILATUS 2M");
}

#[tokio::test]
async fn the_deposit_page_tells_what_the_files_say_and_the_form_offers_it() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    for n in [1, 3] {
        app.upload(&app.author, &id, &format!("x_{n:05}.cbf"), &frame(n))
            .await;
    }
    app.drain().await;
    let mut curator = signed_in_curator(&app).await;
    let page = text(&curator.get(&format!("/deposits/{id}")).await);
    assert!(page.contains("What the files say"), "{page}");
    assert!(page.contains("x_#####.cbf"));
    assert!(
        page.contains("1 of 3 frames between 1 and 3 are missing (2)"),
        "{page}"
    );
    assert!(page.contains("PILATUS 2M"));
    assert!(
        !page.contains("/previews/"),
        "headers without an image get no picture"
    );

    // The form offers the values beside their fields and fills in none of them.
    let form = text(&curator.get(&format!("/deposits/{id}/edit")).await);
    assert!(form.contains("id=\"wavelength-found\""), "{form}");
    assert!(form.contains("data-accept=\"#wavelength\" data-value=\"1.0332\""));
    assert!(form.contains("data-accept=\"#detector\" data-value=\"PILATUS 2M\""));
    assert!(!form.contains("id=\"wavelength\" name=\"wavelength\" value=\"1.0332\""));
}

fn body_with_metadata() -> Value {
    serde_json::json!({ "metadata": metadata() })
}

/// A byte-offset CBF of `w` × `h` pixels: background 2, one spot of 1000 at (1, 1).
fn image(w: usize, h: usize) -> Vec<u8> {
    let mut values = vec![2i64; w * h];
    values[w + 1] = 1000;
    arca::extract::preview::testing::cbf(w, h, &values)
}

/// Width and height from a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[tokio::test]
async fn images_are_drawn_once_for_those_who_may_see_them() {
    let app = TestApp::new().await;
    let id = app
        .deposit_through(
            body_with_metadata(),
            &[("img/big.cbf", &image(600, 300)), ("notes.txt", b"text")],
            "approved",
        )
        .await;
    let url = format!("/api/v1/deposits/{id}/previews/img/big.cbf");
    let r = app.json(Method::GET, &url, &app.author, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(png_size(&r.body), (256, 128), "a thumbnail keeps the shape");
    let large = app
        .json(Method::GET, &format!("{url}?size=large"), &app.author, None)
        .await;
    assert_eq!(
        png_size(&large.body),
        (600, 300),
        "never drawn larger than it is"
    );
    // Drawn once: the second request is served what was kept.
    let again = app.json(Method::GET, &url, &app.curator, None).await;
    assert_eq!(again.body, r.body);
    assert_eq!(app.count("previews").await, 2);

    let r = app.json(Method::GET, &url, &app.other_author, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}/previews/notes.txt"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&r).contains("only CBF and HDF5 images are drawn"),
        "{}",
        text(&r)
    );
    let r = app
        .json(Method::GET, &format!("{url}?size=huge"), &app.author, None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The deposit's page shows the picture, linked to its larger view.
    let mut curator = signed_in_curator(&app).await;
    let page = text(&curator.get(&format!("/deposits/{id}")).await);
    assert!(page.contains(&format!("<img src=\"{url}\"")), "{page}");
    assert!(page.contains(&format!("href=\"{url}?size=large\"")));

    // Public once released, and not before.
    let dataset = app.dataset_of(&id).await;
    let public = format!("/datasets/{dataset}/previews/img/big.cbf");
    assert_eq!(app.public(&public, &[]).await.status, StatusCode::NOT_FOUND);
    let r = app.act(&app.curator, &id, "release", None).await;
    assert_eq!(r.status, StatusCode::OK);
    app.drain().await;
    let r = app.public(&public, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(png_size(&r.body), (256, 128));
    // The landing page shows it to everyone.
    let landing = text(&app.public(&format!("/datasets/{dataset}"), &[]).await);
    assert!(
        landing.contains(&format!("<img src=\"{public}\"")),
        "{landing}"
    );
    assert!(landing.contains(&format!("href=\"{public}?size=large\"")));
}
