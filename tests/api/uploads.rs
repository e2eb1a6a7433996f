//! tus 1.0.0 uploads: protocol, resumption after a broken connection, checksums, hostile
//! input. A rejected request leaves nothing behind.

use crate::common::{TestApp, pseudo_random, sha256_hex, tus_metadata};
use arca::config::UploadSettings;
use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[tokio::test]
async fn options_advertise_version_extensions_and_algorithms() {
    let app = TestApp::new().await;
    let r = app
        .call(Method::OPTIONS, "/api/v1/uploads", None, &[], Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("tus-version"), Some("1.0.0"));
    let ext = r.header("tus-extension").unwrap();
    for e in [
        "creation",
        "creation-with-upload",
        "checksum",
        "termination",
        "expiration",
    ] {
        assert!(ext.contains(e), "{ext}");
    }
    assert_eq!(
        r.header("tus-checksum-algorithm"),
        Some("sha256,sha512,sha1,md5")
    );
    assert!(r.header("tus-max-size").unwrap().parse::<u64>().unwrap() > 0);
}

#[tokio::test]
async fn a_file_uploaded_in_chunks_becomes_a_file_of_the_deposit() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let data = pseudo_random(3_000_000, 1);
    let r = app
        .tus_create(&app.author, &id, "images/run1/x_0001.cbf", data.len(), None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
    assert!(r.header("upload-expires").is_some());
    let loc = r.header("location").unwrap().to_owned();
    let mut offset = 0;
    let created_expiry = httpdate::parse_http_date(r.header("upload-expires").unwrap()).unwrap();
    for chunk in data.chunks(1_000_000) {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let r = app
            .tus_patch(&app.author, &loc, offset, chunk.to_vec())
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        offset += chunk.len();
        assert_eq!(r.header("upload-offset"), Some(offset.to_string().as_str()));
        // Activity pushes the expiry back (HTTP dates have one-second resolution).
        let expiry = httpdate::parse_http_date(r.header("upload-expires").unwrap()).unwrap();
        assert!(expiry > created_expiry);
    }
    let files = app.files(&app.author, &id).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], "images/run1/x_0001.cbf");
    assert_eq!(files[0]["size"], 3_000_000);
    assert_eq!(files[0]["sha256"], sha256_hex(&data));
    // The upload is gone once it became a file.
    assert_eq!(
        app.tus_head(&app.author, &loc).await.status,
        StatusCode::NOT_FOUND
    );
    // The stored object is addressed by its SHA-256 and holds the exact bytes.
    let stored = app
        .services
        .storage
        .read_all(&sha256_hex(&data))
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), data.as_slice());
    assert!(app.staged_files().is_empty());
}

/// A request body that delivers `cut` bytes and then fails, as a dropped connection does.
fn broken_body(data: Vec<u8>, cut: usize) -> Body {
    let mut pieces: Vec<Result<Bytes, std::io::Error>> = data[..cut]
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    pieces.push(Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "client vanished",
    )));
    Body::from_stream(futures::stream::iter(pieces))
}

#[tokio::test]
async fn an_upload_cut_off_at_any_point_resumes_from_the_last_acknowledged_byte() {
    let app = TestApp::with_uploads(UploadSettings {
        checkpoint_bytes: 256 * 1024,
        ..UploadSettings::default()
    })
    .await;
    let id = app.create_deposit(&app.author).await;
    let data = pseudo_random(2_000_000, 7);
    for (i, cut) in [0usize, 1, 65_536, 300_001, 1_999_999]
        .into_iter()
        .enumerate()
    {
        let path = format!("file_{i}.bin");
        let r = app
            .tus_create(&app.author, &id, &path, data.len(), None)
            .await;
        let loc = r.header("location").unwrap().to_owned();
        let req = Request::builder()
            .method(Method::PATCH)
            .uri(&loc)
            .header("authorization", format!("Bearer {}", app.author))
            .header("tus-resumable", "1.0.0")
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", "0")
            .body(broken_body(data.clone(), cut))
            .unwrap();
        let r = app.send(req).await;
        assert!(
            r.status.is_client_error(),
            "a cut-off body is not a success"
        );
        // Everything that arrived was kept (and fsynced) and is reported on HEAD.
        let r = app.tus_head(&app.author, &loc).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let offset: usize = r.header("upload-offset").unwrap().parse().unwrap();
        assert_eq!(offset, cut, "cut at {cut}");
        // A PATCH at the wrong offset is refused and says where the upload stands.
        let r = app
            .tus_patch(&app.author, &loc, offset + 1, data[offset + 1..].to_vec())
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.header("upload-offset"), Some(offset.to_string().as_str()));
        let r = app
            .tus_patch(&app.author, &loc, offset, data[offset..].to_vec())
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    let files = app.files(&app.author, &id).await;
    assert_eq!(files.len(), 5);
    for f in files {
        assert_eq!(f["sha256"], sha256_hex(&data), "{}", f["path"]);
    }
    // Identical content is stored once.
    assert_eq!(app.count("objects").await, 1);
}

#[tokio::test]
async fn chunk_checksums_are_checked_and_a_bad_chunk_is_dropped_whole() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let data = pseudo_random(200_000, 3);
    let loc = app
        .tus_create(&app.author, &id, "a.bin", data.len(), None)
        .await
        .header("location")
        .unwrap()
        .to_owned();
    let patch = |offset: usize, body: Vec<u8>, checksum: String| {
        let req = Request::builder()
            .method(Method::PATCH)
            .uri(&loc)
            .header("authorization", format!("Bearer {}", app.author))
            .header("tus-resumable", "1.0.0")
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset.to_string())
            .header("upload-checksum", checksum)
            .body(Body::from(body))
            .unwrap();
        app.send(req)
    };
    let first = &data[..100_000];
    let sha1 = {
        use sha1::Digest;
        STANDARD.encode(sha1::Sha1::digest(first))
    };
    let r = patch(0, first.to_vec(), format!("sha1 {sha1}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A chunk damaged in transit: 460, and the offset does not move.
    let mut damaged = data[100_000..].to_vec();
    damaged[5] ^= 1;
    let md5 = {
        use md5::Digest;
        STANDARD.encode(md5::Md5::digest(&data[100_000..]))
    };
    let r = patch(100_000, damaged, format!("md5 {md5}")).await;
    assert_eq!(r.status.as_u16(), 460);
    assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
    assert_eq!(
        app.tus_head(&app.author, &loc)
            .await
            .header("upload-offset"),
        Some("100000")
    );
    let r = patch(100_000, data[100_000..].to_vec(), "crc32 AAAAAA==".into()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("Upload-Checksum")
    );
    let sha256 = {
        use sha2::Digest;
        STANDARD.encode(sha2::Sha256::digest(&data[100_000..]))
    };
    let r = patch(
        100_000,
        data[100_000..].to_vec(),
        format!("sha256 {sha256}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.files(&app.author, &id).await[0]["sha256"],
        sha256_hex(&data)
    );
}

/// tus creation-with-upload: POST with the file's bytes.
async fn create_with_body(
    app: &TestApp,
    deposit: &str,
    path: &str,
    length: usize,
    body: &[u8],
    extra: &[(&str, &str)],
) -> crate::common::Resp {
    let meta = tus_metadata(&[("deposit", deposit), ("filename", path)]);
    let (length, sent) = (length.to_string(), body.len().to_string());
    let mut headers = vec![
        ("tus-resumable", "1.0.0"),
        ("upload-length", length.as_str()),
        ("upload-metadata", meta.as_str()),
        ("content-length", sent.as_str()),
    ];
    headers.extend_from_slice(extra);
    if !extra.iter().any(|(k, _)| *k == "content-type") {
        headers.push(("content-type", "application/offset+octet-stream"));
    }
    app.call(
        Method::POST,
        "/api/v1/uploads",
        Some(&app.author),
        &headers,
        body.to_vec(),
    )
    .await
}

#[tokio::test]
async fn a_file_sent_with_its_creation_is_stored_in_one_request() {
    sent_with_creation(&TestApp::new().await).await;
}

/// The same when uploads are staged in the object store (a real S3 server, moto).
#[tokio::test]
async fn a_file_sent_with_its_creation_is_stored_in_one_request_staged_in_s3() {
    let (_moto, endpoint) = crate::s3::start_moto().await;
    let storage = crate::s3::s3_storage(&endpoint, "with-creation").await;
    sent_with_creation(&TestApp::configured(|c| c.storage = storage).await).await;
}

async fn sent_with_creation(app: &TestApp) {
    let id = app.create_deposit(&app.author).await;
    let data = pseudo_random(3_000_000, 11);
    let sum = {
        use sha2::Digest;
        format!("sha256 {}", STANDARD.encode(sha2::Sha256::digest(&data)))
    };
    let r = create_with_body(
        app,
        &id,
        "frames/x_0001.cbf",
        data.len(),
        &data,
        &[("upload-checksum", &sum)],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.header("upload-offset"), Some("3000000"));
    let files = app.files(&app.author, &id).await;
    assert_eq!(files[0]["path"], "frames/x_0001.cbf");
    assert_eq!(files[0]["sha256"], sha256_hex(&data));
    assert_eq!(app.count("uploads").await, 0);
    assert!(app.staged_files().is_empty());

    // Damaged on the way: the upload exists (Location) with none of the bytes, and
    // goes on with PATCH.
    let mut damaged = data.clone();
    damaged[7] ^= 1;
    let r = create_with_body(
        app,
        &id,
        "frames/x_0002.cbf",
        data.len(),
        &damaged,
        &[("upload-checksum", &sum)],
    )
    .await;
    assert_eq!(r.status.as_u16(), 460);
    let loc = r.header("location").unwrap().to_owned();
    assert_eq!(
        app.tus_head(&app.author, &loc)
            .await
            .header("upload-offset"),
        Some("0")
    );
    let r = app.tus_patch(&app.author, &loc, 0, data.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // The first part only: the rest follows by PATCH.
    let r = create_with_body(app, &id, "big.h5", data.len(), &data[..1_000_000], &[]).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.header("upload-offset"), Some("1000000"));
    let loc = r.header("location").unwrap().to_owned();
    let r = app
        .tus_patch(&app.author, &loc, 1_000_000, data[1_000_000..].to_vec())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let files = app.files(&app.author, &id).await;
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|f| f["sha256"] == sha256_hex(&data)));

    // More bytes than Upload-Length, or bytes of another type: refused, nothing made.
    let r = create_with_body(app, &id, "c.bin", 10, &data[..11], &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("Upload-Length"),
        "{:?}",
        r.json()
    );
    let r = create_with_body(
        app,
        &id,
        "c.bin",
        10,
        b"0123456789",
        &[("content-type", "text/plain")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
    assert_eq!(app.count("uploads").await, 0);
    assert_eq!(app.files(&app.author, &id).await.len(), 3);
}

#[tokio::test]
async fn a_whole_file_that_does_not_match_its_declared_sha256_is_discarded() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let data = b"the bytes that actually arrive".to_vec();
    let claimed = sha256_hex(b"the bytes the client meant");
    let r = app
        .tus_create(&app.author, &id, "a.txt", data.len(), Some(&claimed))
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let r = app.tus_patch(&app.author, &loc, 0, data.clone()).await;
    assert_eq!(r.status.as_u16(), 460);
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains(&claimed) && detail.contains(&sha256_hex(&data)),
        "{detail}"
    );
    assert!(app.files(&app.author, &id).await.is_empty());
    assert!(app.staged_files().is_empty());
    assert_eq!(app.count("uploads").await, 0);
    assert_eq!(app.count("expected_checksums").await, 0);
    // Sending it again with the right checksum works.
    let r = app
        .tus_create(
            &app.author,
            &id,
            "a.txt",
            data.len(),
            Some(&sha256_hex(&data)),
        )
        .await;
    let loc = r.header("location").unwrap().to_owned();
    assert_eq!(
        app.tus_patch(&app.author, &loc, 0, data).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn hostile_and_malformed_creation_requests_are_refused_and_leave_nothing() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    type Headers<'a> = Vec<(&'a str, String)>;
    let cases: Vec<(&str, Headers, u16)> = vec![
        ("no version", vec![("upload-length", "3".into())], 412),
        (
            "wrong version",
            vec![
                ("tus-resumable", "0.2.2".into()),
                ("upload-length", "3".into()),
            ],
            412,
        ),
        ("no length", vec![("tus-resumable", "1.0.0".into())], 400),
        (
            "negative length",
            vec![
                ("tus-resumable", "1.0.0".into()),
                ("upload-length", "-3".into()),
            ],
            400,
        ),
        (
            "deferred length",
            vec![
                ("tus-resumable", "1.0.0".into()),
                ("upload-defer-length", "1".into()),
            ],
            400,
        ),
        (
            "too large",
            vec![
                ("tus-resumable", "1.0.0".into()),
                ("upload-length", u64::MAX.to_string()),
            ],
            400,
        ),
        (
            "over max size",
            vec![
                ("tus-resumable", "1.0.0".into()),
                ("upload-length", (2u64 << 40).to_string()),
            ],
            413,
        ),
        (
            "bad metadata",
            vec![
                ("tus-resumable", "1.0.0".into()),
                ("upload-length", "3".into()),
                ("upload-metadata", "filename %%%".into()),
            ],
            400,
        ),
        (
            "no deposit",
            vec![
                ("tus-resumable", "1.0.0".into()),
                ("upload-length", "3".into()),
                ("upload-metadata", tus_metadata(&[("filename", "a")])),
            ],
            400,
        ),
    ];
    for (what, headers, want) in cases {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .call(
                Method::POST,
                "/api/v1/uploads",
                Some(&app.author),
                &hs,
                Body::empty(),
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            want,
            "{what}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("tus-resumable"), Some("1.0.0"), "{what}");
    }
    let long_name = "x".repeat(300);
    let deep = vec!["d"; 600].join("/");
    for path in [
        "../../etc/passwd",
        "/abs/path",
        "a/../b",
        "nul\0byte",
        "tab\there",
        "bell\u{7}",
        "a//b",
        "win\\dir",
        &long_name,
        &deep,
        "",
    ] {
        let r = app.tus_create(&app.author, &id, path, 3, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path:?}");
        assert!(
            r.json()["detail"].as_str().unwrap().contains("filename"),
            "{path:?}"
        );
    }
    // Someone else's deposit does not exist for this author.
    let r = app
        .tus_create(&app.other_author, &id, "a.txt", 3, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("uploads").await, 0);
    assert!(app.staged_files().is_empty());
}

#[tokio::test]
async fn paths_are_normalised_and_duplicates_refused() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "cafe\u{301}.txt", b"one")
        .await;
    assert_eq!(app.files(&app.author, &id).await[0]["path"], "café.txt");
    // The same path, composed differently, is the same file.
    let r = app.tus_create(&app.author, &id, "café.txt", 3, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Two uploads of one path at once: the second is told to resume the first.
    app.tus_create(&app.author, &id, "b.txt", 3, None).await;
    let r = app.tus_create(&app.author, &id, "b.txt", 3, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("in progress"));
    // Removing a file frees its path.
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/deposits/{id}/files/café.txt"),
            Some(&app.author),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.tus_create(&app.author, &id, "café.txt", 3, None).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn patch_rules_too_many_bytes_wrong_type_and_termination() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let loc = app
        .tus_create(&app.author, &id, "a.bin", 10, None)
        .await
        .header("location")
        .unwrap()
        .to_owned();
    let r = app.tus_patch(&app.author, &loc, 0, vec![1; 11]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.tus_head(&app.author, &loc)
            .await
            .header("upload-offset"),
        Some("0")
    );
    let r = app
        .call(
            Method::PATCH,
            &loc,
            Some(&app.author),
            &[
                ("tus-resumable", "1.0.0"),
                ("content-type", "text/plain"),
                ("upload-offset", "0"),
            ],
            vec![1; 5],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .call(
            Method::PATCH,
            &loc,
            Some(&app.author),
            &[
                ("tus-resumable", "1.0.0"),
                ("content-type", "application/offset+octet-stream"),
            ],
            vec![1; 5],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Another author cannot touch it.
    assert_eq!(
        app.tus_patch(&app.other_author, &loc, 0, vec![1; 5])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.tus_patch(&app.author, &loc, 0, vec![1; 5]).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .call(
            Method::DELETE,
            &loc,
            Some(&app.author),
            &[("tus-resumable", "1.0.0")],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.tus_head(&app.author, &loc).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(app.staged_files().is_empty());
    assert!(app.files(&app.author, &id).await.is_empty());
}

#[tokio::test]
async fn expired_uploads_are_gone_and_cleaned_up() {
    let app = TestApp::with_uploads(UploadSettings {
        expire_after_hours: 0,
        ..UploadSettings::default()
    })
    .await;
    let id = app.create_deposit(&app.author).await;
    let loc = app
        .tus_create(&app.author, &id, "a.bin", 10, None)
        .await
        .header("location")
        .unwrap()
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        app.tus_patch(&app.author, &loc, 0, vec![1; 5]).await.status,
        StatusCode::GONE
    );
    assert_eq!(app.services.uploads().expire().await.unwrap(), 1);
    assert_eq!(app.count("uploads").await, 0);
    assert!(app.staged_files().is_empty());
}

#[tokio::test]
async fn an_empty_file_is_complete_on_creation() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "empty.txt", b"").await;
    let files = app.files(&app.author, &id).await;
    assert_eq!(files[0]["size"], 0);
    assert_eq!(files[0]["sha256"], sha256_hex(b""));
}

/// Uploads whose clients stall hold no thread (a download still runs on a server with
/// a tiny blocking pool, long before the idle timeout could free one) and are limited
/// per account (429 with Retry-After, naming the setting).
#[test]
fn stalled_uploads_neither_starve_downloads_nor_pile_up() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(3)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = TestApp::with_uploads(UploadSettings {
            max_concurrent_per_account: 2,
            idle_timeout_seconds: 600,
            ..UploadSettings::default()
        })
        .await;
        let released = app
            .deposit_through(
                serde_json::json!({"metadata": crate::common::metadata()}),
                &[("public.bin", b"PUBLIC BYTES")],
                "released",
            )
            .await;
        let ds = app.dataset_of(&released).await;
        let id = app.create_deposit(&app.author).await;
        let mut senders = Vec::new();
        let mut stalled = Vec::new();
        let mut locations = Vec::new();
        for i in 0..3 {
            let r = app
                .tus_create(&app.author, &id, &format!("stall{i}.bin"), 1 << 20, None)
                .await;
            locations.push(r.header("location").unwrap().to_owned());
        }
        for loc in &locations[..2] {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
            tx.send(Ok(Bytes::from(vec![1u8; 1000]))).await.unwrap();
            senders.push(tx);
            let body = Body::from_stream(tokio_stream_from(rx));
            let req = Request::builder()
                .method(Method::PATCH)
                .uri(loc.as_str())
                .header("authorization", format!("Bearer {}", app.author))
                .header("tus-resumable", "1.0.0")
                .header("content-type", "application/offset+octet-stream")
                .header("upload-offset", "0")
                .body(body)
                .unwrap();
            let router = app.router.clone();
            stalled.push(tokio::spawn(async move {
                use tower::ServiceExt;
                router.oneshot(req).await.unwrap().status()
            }));
        }
        // Both are writing. Watched without a request of our own: a probing PATCH would
        // itself hold an upload for a moment and could turn a stalled one away.
        let author = app
            .services
            .users()
            .authenticate(&app.author)
            .await
            .unwrap()
            .id;
        let started = std::time::Instant::now();
        while app.services.uploads().sending(Some(&author)) < 2 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the stalled uploads did not start: {:?}",
                stalled.iter().map(|s| s.is_finished()).collect::<Vec<_>>()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // The third upload of the same account waits its turn.
        let refused = app
            .tus_patch(&app.author, &locations[2], 0, vec![2u8; 10])
            .await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.header("retry-after"), Some("5"));
        assert!(
            String::from_utf8_lossy(&refused.body).contains("max_concurrent_per_account"),
            "{}",
            String::from_utf8_lossy(&refused.body)
        );
        // Another account is not held up, and downloads run.
        let other = app.create_deposit(&app.other_author).await;
        app.upload(&app.other_author, &other, "mine.bin", b"mine")
            .await;
        let download = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.public(&format!("/datasets/{ds}/files/public.bin"), &[]),
        )
        .await
        .expect("a download finishes while uploads stall");
        assert_eq!(&download.body[..], b"PUBLIC BYTES");
        // The clients finish: what they sent is stored, and the third may go.
        drop(senders);
        for s in stalled {
            assert_eq!(s.await.unwrap(), StatusCode::NO_CONTENT);
        }
        for loc in &locations[..2] {
            let r = app.tus_head(&app.author, loc).await;
            assert_eq!(r.header("upload-offset"), Some("1000"));
        }
        let r = app
            .tus_patch(&app.author, &locations[2], 0, vec![2u8; 10])
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    });
}

#[tokio::test]
async fn an_upload_that_stops_sending_ends_at_the_idle_timeout_keeping_its_bytes() {
    let app = TestApp::with_uploads(UploadSettings {
        idle_timeout_seconds: 1,
        ..UploadSettings::default()
    })
    .await;
    let id = app.create_deposit(&app.author).await;
    let r = app
        .tus_create(&app.author, &id, "slow.bin", 1 << 20, None)
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tx.send(Ok(Bytes::from(vec![1u8; 777]))).await.unwrap();
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(loc.as_str())
        .header("authorization", format!("Bearer {}", app.author))
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(Body::from_stream(tokio_stream_from(rx)))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(String::from_utf8_lossy(&r.body).contains("idle_timeout_seconds"));
    drop(tx);
    let r = app.tus_head(&app.author, &loc).await;
    assert_eq!(r.header("upload-offset"), Some("777"));
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
