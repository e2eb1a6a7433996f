//! BagIt export of released datasets and import of bags as deposits.

use crate::common::*;
use axum::http::{Method, StatusCode};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tokio::io::AsyncReadExt;

/// The entries of a tar archive: path → bytes.
async fn untar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tokio_tar::Archive::new(bytes);
    let mut entries = archive.entries().unwrap();
    let mut out = BTreeMap::new();
    while let Some(e) = entries.next().await {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).await.unwrap();
        out.insert(path, data);
    }
    out
}

/// A tar archive of these entries.
async fn tar(entries: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut b = tokio_tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tokio_tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, &data[..]).await.unwrap();
    }
    b.into_inner().await.unwrap()
}

async fn import(app: &TestApp, body: Vec<u8>) -> Resp {
    app.call(
        Method::POST,
        "/api/v1/deposits/import",
        Some(&app.author),
        &[("content-type", "application/x-tar")],
        body,
    )
    .await
}

async fn released(app: &TestApp) -> (String, String) {
    let mut m = metadata();
    m["titles"] = json!([{"title": "Thaumatin, bagged"}]);
    let id = app
        .deposit_through(
            json!({"metadata": m}),
            &[
                ("images/a 1.cbf", b"first frame"),
                ("notes/100% pure.txt", b"odd"),
            ],
            "released",
        )
        .await;
    let ds = app.dataset_of(&id).await;
    (id, ds)
}

#[tokio::test]
async fn an_exported_bag_is_complete_and_imports_back_without_storing_bytes_again() {
    let app = TestApp::new().await;
    let (_, ds) = released(&app).await;
    let r = app.public(&format!("/datasets/{ds}/bag.tar"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/x-tar"));
    let entries = untar(&r.body).await;
    let root = format!("arca-{ds}");
    let get = |p: &str| String::from_utf8(entries[&format!("{root}/{p}")].clone()).unwrap();
    assert_eq!(
        entries[&format!("{root}/data/images/a 1.cbf")],
        b"first frame"
    );
    assert_eq!(entries[&format!("{root}/data/notes/100% pure.txt")], b"odd");
    assert!(get("bagit.txt").starts_with("BagIt-Version: 1.0\n"));
    let info = get("bag-info.txt");
    assert!(info.contains("Payload-Oxum: 14.2\n"), "{info}");
    assert!(
        info.contains("External-Identifier: https://doi.org/10.5072/"),
        "{info}"
    );
    assert!(
        info.contains("Citation: Curie, Marie (2026): Thaumatin, bagged. Arca test facility."),
        "{info}"
    );
    let manifest = get("manifest-sha256.txt");
    assert!(manifest.contains(&format!(
        "{}  data/images/a 1.cbf\n",
        sha256_hex(b"first frame")
    )));
    assert!(
        manifest.contains("  data/notes/100%25 pure.txt\n"),
        "{manifest}"
    );
    assert!(get("metadata/datacite.xml").contains("Thaumatin, bagged"));
    let tagmanifest = get("tagmanifest-sha256.txt");
    assert!(tagmanifest.contains(&format!(
        "{}  manifest-sha256.txt",
        sha256_hex(manifest.as_bytes())
    )));

    // Importing it back: a new draft with the same files, nothing stored twice.
    let objects = app.count("objects").await;
    let r = import(&app, r.body.to_vec()).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let dep = r.json();
    assert_eq!(dep["state"], "draft");
    assert_eq!(dep["metadata"]["titles"][0]["title"], "Thaumatin, bagged");
    assert!(dep["doi"].is_null(), "the copy gets its own DOI later");
    assert_eq!(app.count("objects").await, objects);
    let id = dep["id"].as_str().unwrap();
    let files = app.files(&app.author, id).await;
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["images/a 1.cbf", "notes/100% pure.txt"]);
    // The bag's checksums are the deposit's manifest: verification passes against them.
    assert_eq!(
        app.act(&app.author, id, "submit", None).await.status,
        StatusCode::OK
    );
    app.drain().await;
    assert_eq!(app.state(id).await, "verified");
}

#[tokio::test]
async fn damaged_bags_are_refused_with_every_problem_and_leave_no_deposit() {
    let app = TestApp::new().await;
    let (_, ds) = released(&app).await;
    let r = app.public(&format!("/datasets/{ds}/bag.tar"), &[]).await;
    let good = untar(&r.body).await;
    let root = format!("arca-{ds}");
    let deposits = app.count("dataset_versions").await;

    let mut flipped = good.clone();
    flipped
        .get_mut(&format!("{root}/data/images/a 1.cbf"))
        .unwrap()[0] ^= 1;
    flipped.insert(
        format!("{root}/data/stowaway.txt"),
        b"not in any manifest".to_vec(),
    );
    flipped.remove(&format!("{root}/data/notes/100% pure.txt"));
    let r = import(&app, tar(&flipped).await).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problems: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    let all = problems.join("\n");
    for want in [
        "data/images/a 1.cbf: sha256 does not match manifest-sha256.txt",
        "data/stowaway.txt is in the bag but not in manifest-sha256.txt",
        "manifest-sha256.txt: data/notes/100% pure.txt is listed but not in the bag",
        "Payload-Oxum says 14.2",
    ] {
        assert!(all.contains(want), "{want:?} not in:\n{all}");
    }

    let mut no_bagit = good.clone();
    no_bagit.remove(&format!("{root}/bagit.txt"));
    let r = import(&app, tar(&no_bagit).await).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("bagit.txt is missing")
    );

    let mut edited_info = good.clone();
    edited_info
        .get_mut(&format!("{root}/bag-info.txt"))
        .unwrap()
        .extend_from_slice(b"Note: edited\n");
    let r = import(&app, tar(&edited_info).await).await;
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("bag-info.txt: sha256 does not match tagmanifest-sha256.txt"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );

    let r = import(
        &app,
        b"this is not a tar archive at all, just text".repeat(20),
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(
        app.count("dataset_versions").await,
        deposits,
        "no deposit appeared"
    );
}

#[tokio::test]
async fn only_released_datasets_can_be_exported_and_importing_needs_a_token() {
    let app = TestApp::new().await;
    let held = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("f", b"secret")],
            "on_hold",
        )
        .await;
    let ds = app.dataset_of(&held).await;
    let r = app.public(&format!("/datasets/{ds}/bag.tar"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&r.body).contains("secret"));
    let r = app
        .call(
            Method::POST,
            "/api/v1/deposits/import",
            None,
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let _: Value = r.json();
}

/// Stored objects under the archive's object directory.
fn stored_objects(app: &TestApp) -> usize {
    walkdir::WalkDir::new(app.dir.path().join("objects"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

/// A raw tar header block (ustar, checksum filled in).
fn raw_header(name: &str, kind: u8, size: u64) -> Vec<u8> {
    let mut h = tokio_tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tokio_tar::EntryType::new(kind));
    h.set_cksum();
    h.as_bytes().to_vec()
}

#[tokio::test]
async fn hostile_bags_get_a_clear_refusal_and_leave_nothing_stored() {
    // The bag comes from one archive and goes into another that holds none of its bytes.
    let source = TestApp::new().await;
    let (_, ds) = released(&source).await;
    let r = source.public(&format!("/datasets/{ds}/bag.tar"), &[]).await;
    let good_tar = r.body.to_vec();
    let good = untar(&good_tar).await;
    let root = format!("arca-{ds}");

    let app = TestApp::configured(|c| c.uploads.max_bag_size = 1 << 20).await;
    let deposits = app.count("dataset_versions").await;
    let nothing_left = |app: &TestApp, what: &str| {
        assert_eq!(stored_objects(app), 0, "{what}: objects stored");
        assert!(app.staged_files().is_empty(), "{what}: staged files left");
    };

    // A bag whose manifest does not match: refused after its payload streamed in, and
    // the payload is not kept.
    let mut bad = good.clone();
    bad.get_mut(&format!("{root}/data/images/a 1.cbf")).unwrap()[0] ^= 1;
    let r = import(&app, tar(&bad).await).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    nothing_left(&app, "invalid bag");
    assert_eq!(app.count("objects").await, 0);

    // Cut short in the middle of the payload: a client error, not a 500.
    let r = import(&app, good_tar[..good_tar.len() / 2].to_vec()).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("damaged or incomplete"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    nothing_left(&app, "truncated bag");

    // A long-name header that claims 8 GiB: refused from its header, nothing buffered.
    let mut evil = raw_header("././@LongLink", b'L', 8 << 30);
    evil.extend(vec![b'a'; 64 * 1024]);
    let r = import(&app, evil).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("limit of 65536 bytes"), "{detail}");

    // Over the operator's bag limit: 413 naming the setting.
    let mut big = good.clone();
    big.insert(format!("{root}/data/big.bin"), vec![7u8; 1200 * 1024]);
    let r = import(&app, tar(&big).await).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("max_bag_size"), "{detail}");
    nothing_left(&app, "oversized bag");

    // DataCite XML nested 100,000 deep: a 422 naming the limit, and the process lives.
    let mut deep = good.clone();
    deep.remove(&format!("{root}/tagmanifest-sha256.txt"));
    let n = 100_000;
    let xml = format!(
        "<resource xmlns=\"http://datacite.org/schema/kernel-4\">{}{}</resource>",
        "<a>".repeat(n),
        "</a>".repeat(n)
    );
    deep.insert(format!("{root}/metadata/datacite.xml"), xml.into_bytes());
    let r = import(&app, tar(&deep).await).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(body.contains("limit of 32 levels"), "{body}");
    nothing_left(&app, "deep XML");

    assert_eq!(
        app.count("dataset_versions").await,
        deposits,
        "no deposit appeared"
    );
    // The good bag still imports afterwards.
    let r = import(&app, good_tar).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(stored_objects(&app), 2);
}

#[tokio::test]
async fn a_bag_of_thousands_of_files_is_whole_and_imports_back() {
    let app = TestApp::new().await;
    let (id, ds) = released(&app).await;
    // More files than a bag reads at once (1,000).
    let n = 2_345;
    app.add_series(&id, n).await;
    let r = app.public(&format!("/datasets/{ds}/bag.tar"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let entries = untar(&r.body).await;
    let root = format!("arca-{ds}");
    let payload = entries
        .keys()
        .filter(|k| k.starts_with(&format!("{root}/data/")))
        .count();
    assert_eq!(payload, n + 2);
    let manifest =
        String::from_utf8(entries[&format!("{root}/manifest-sha256.txt")].clone()).unwrap();
    assert_eq!(manifest.lines().count(), n + 2);
    assert!(manifest.contains("  data/series/frame_02344 \"x\".cbf\n"));
    // The importer checks every manifest, the tag manifest and Payload-Oxum.
    let r = import(&app, r.body.to_vec()).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let new = r.json()["id"].as_str().unwrap().to_owned();
    let mut conn = app.services.db.conn().await.unwrap();
    let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE version_id = $1")
        .bind(&new)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(files, (n + 2) as i64);
}

/// A bag's length is known up front and any range of it is the same bytes as the whole:
/// a download broken at any byte resumes with Range (and If-Range, so a bag that has
/// changed since is sent whole instead of spliced).
#[tokio::test]
async fn a_bag_has_its_length_up_front_and_resumes_from_any_byte() {
    let app = TestApp::new().await;
    let long = format!("{}/frame.cbf", "deep".repeat(40));
    let big = pseudo_random(700_000, 3);
    let files: Vec<(&str, &[u8])> = vec![
        ("a.cbf", b"first frame"),
        ("empty.txt", b""),
        (&long, b"long name"),
        ("unicode/Å ß.h5", &big),
    ];
    let id = app
        .deposit_through(json!({"metadata": metadata()}), &files, "released")
        .await;
    let ds = app.dataset_of(&id).await;
    let url = format!("/datasets/{ds}/bag.tar");
    let whole = app.public(&url, &[]).await;
    assert_eq!(whole.status, StatusCode::OK);
    let len = whole.body.len();
    assert_eq!(
        whole.header("content-length"),
        Some(len.to_string().as_str())
    );
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let etag = whole.header("etag").unwrap().to_owned();
    // Every file is in it, whole.
    let entries = untar(&whole.body).await;
    for (path, data) in &files {
        assert_eq!(entries[&format!("arca-{ds}/data/{path}")], *data, "{path}");
    }
    // The same bytes on the next request.
    assert!(app.public(&url, &[]).await.body == whole.body);

    // Ranges starting anywhere: in headers, long-name entries, data, padding, the end.
    let mut starts: Vec<usize> = (0..len).step_by(len / 37).collect();
    starts.extend([1, 511, 512, 513, len - 1024, len - 1]);
    for start in starts {
        let end = (start + 4_000).min(len - 1);
        let r = app
            .public(
                &url,
                &[
                    ("range", &format!("bytes={start}-{end}")),
                    ("if-range", &etag),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{start}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/{len}").as_str())
        );
        assert!(r.body[..] == whole.body[start..=end], "bytes from {start}");
    }
    // The rest from a break in the middle of the large file.
    let cut = len / 2;
    let r = app
        .public(&url, &[("range", &format!("bytes={cut}-"))])
        .await;
    let mut joined = whole.body[..cut].to_vec();
    joined.extend_from_slice(&r.body);
    assert!(joined == whole.body);
    // A stale If-Range gets the whole bag; a range past the end is refused.
    let r = app
        .public(&url, &[("range", "bytes=10-20"), ("if-range", "\"other\"")])
        .await;
    assert_eq!((r.status, r.body.len()), (StatusCode::OK, len));
    let r = app
        .public(&url, &[("range", &format!("bytes={len}-"))])
        .await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    let r = app.public(&url, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
}
