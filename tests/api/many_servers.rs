//! One archive on several servers that share the catalogue and the object store but not
//! a disk: any server takes any request of an upload, and bytes a server does not hold
//! are never made up.

use crate::common::{TestApp, pseudo_random, sha256_hex};
use crate::s3::s3_storage;
use axum::http::StatusCode;

fn stored_anywhere(apps: &[&TestApp], sha: &str) -> Vec<std::path::PathBuf> {
    apps.iter()
        .map(|a| {
            a.dir
                .path()
                .join("objects/sha256")
                .join(&sha[..2])
                .join(&sha[2..4])
                .join(sha)
        })
        .filter(|p| p.exists())
        .collect()
}

/// Local storage, two servers that do not share a disk (no sticky routing, or a lost
/// volume): the second PATCH reaches a server without the first one's bytes.
#[tokio::test]
async fn bytes_missing_from_a_servers_staging_disk_are_refused_never_zero_filled() {
    let a = TestApp::new().await;
    let b = a.another_server().await;
    let id = a.create_deposit(&a.author).await;
    let data = pseudo_random(1_500_000, 7);
    let sha = sha256_hex(&data);
    let r = a
        .tus_create(&a.author, &id, "frames/x_0001.cbf", data.len(), Some(&sha))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let loc = r.header("location").unwrap().to_owned();
    let r = a
        .tus_patch(&a.author, &loc, 0, data[..600_000].to_vec())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // The rest goes to B, which never saw the first 600,000 bytes.
    let r = b
        .tus_patch(&b.author, &loc, 600_000, data[600_000..].to_vec())
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.header("upload-offset"), Some("0"));
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("holds only 0 of the 600000 bytes"),
        "{detail}"
    );
    // Nothing was stored: no object under the hash the client expects, no file.
    assert!(stored_anywhere(&[&a, &b], &sha).is_empty());
    assert!(a.files(&a.author, &id).await.is_empty());
    let r = b.tus_head(&b.author, &loc).await;
    assert_eq!(r.header("upload-offset"), Some("0"));

    // The client resumes from the true offset, through B, and the file is right.
    let r = b.tus_patch(&b.author, &loc, 0, data.to_vec()).await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let files = a.files(&a.author, &id).await;
    assert_eq!(files[0]["sha256"], sha);
    let stored = b.services.storage.read_all(&sha).await.unwrap();
    assert_eq!(sha256_hex(&stored), sha);
}

/// A staging file shorter than its acknowledged offset (a disk that lost its last
/// writes): HEAD tells the offset that is really there, and resuming from it gives the
/// right file.
#[tokio::test]
async fn a_shortened_staging_file_sets_the_upload_back_to_what_is_there() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let data = pseudo_random(1_000_000, 8);
    let r = app
        .tus_create(&app.author, &id, "x.h5", data.len(), None)
        .await;
    let loc = r.header("location").unwrap().to_owned();
    let r = app
        .tus_patch(&app.author, &loc, 0, data[..800_000].to_vec())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let staged = app.staged_files();
    assert_eq!(staged.len(), 1);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&staged[0])
        .unwrap()
        .set_len(123_456)
        .unwrap();
    let r = app.tus_head(&app.author, &loc).await;
    assert_eq!(r.header("upload-offset"), Some("123456"));
    let r = app
        .tus_patch(&app.author, &loc, 123_456, data[123_456..].to_vec())
        .await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let files = app.files(&app.author, &id).await;
    assert_eq!(files[0]["sha256"], sha256_hex(&data));
}

/// S3 storage: uploads are staged in the bucket, so PATCHes that alternate between two
/// servers (each with a disk of its own) build the right object, with or without a
/// declared SHA-256, across part boundaries and with a chunk checksum.
#[tokio::test]
async fn any_server_takes_any_request_of_an_upload_staged_in_s3() {
    let (_moto, endpoint) = crate::s3::start_moto().await;
    let storage = s3_storage(&endpoint, "shared").await;
    let a = TestApp::configured(|c| c.storage = storage).await;
    let b = a.another_server().await;
    let id = a.create_deposit(&a.author).await;
    // 40 MiB: two whole 16 MiB parts and a tail; PATCHes of 7 MiB cross part boundaries.
    let big = pseudo_random(40 << 20, 9);
    let small = pseudo_random(3 << 20, 10);
    for (name, data, declare) in [
        ("big.h5", &big, true),
        ("small.cbf", &small, false),
        ("same.h5", &big, false),
    ] {
        let sha = sha256_hex(data);
        let r = a
            .tus_create(
                &a.author,
                &id,
                name,
                data.len(),
                declare.then_some(sha.as_str()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let loc = r.header("location").unwrap().to_owned();
        let mut offset = 0;
        for (i, chunk) in data.chunks(7 << 20).enumerate() {
            let server = if i % 2 == 0 { &a } else { &b };
            let r = server
                .tus_patch(&server.author, &loc, offset, chunk.to_vec())
                .await;
            assert_eq!(
                r.status,
                StatusCode::NO_CONTENT,
                "{name} PATCH {i}: {}",
                String::from_utf8_lossy(&r.body)
            );
            offset += chunk.len();
            // Each server reports the offset the other left.
            let other = if i % 2 == 0 { &b } else { &a };
            let r = other.tus_head(&other.author, &loc).await;
            if offset < data.len() {
                assert_eq!(r.header("upload-offset"), Some(offset.to_string().as_str()));
            }
        }
        let stored = a.services.storage.read_all(&sha).await.unwrap();
        assert_eq!(sha256_hex(&stored), sha, "{name}");
    }
    // Nothing stayed on either server's disk or in the bucket's staging area.
    assert!(a.staged_files().is_empty() && b.staged_files().is_empty());
    let bucket = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("arca-shared")
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .build()
        .unwrap();
    let keys: Vec<String> = {
        use futures::TryStreamExt;
        use object_store::ObjectStore;
        bucket
            .list(Some(&"test".into()))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap()
    };
    assert_eq!(keys.len(), 2, "two objects and nothing staged: {keys:?}");
    assert!(
        keys.iter().all(|k| k.starts_with("test/sha256/")),
        "{keys:?}"
    );
    let files = a.files(&a.author, &id).await;
    assert_eq!(files.len(), 3);
    a.act(&a.author, &id, "submit", None).await;
    a.drain().await;
    assert_eq!(a.state(&id).await, "verified");
}

/// Two workers offer the periodic rounds over and over: each round is queued once, run
/// once, and offered again only in the next period.
#[tokio::test]
async fn periodic_rounds_run_once_however_many_workers_offer_them() {
    let a = TestApp::new().await;
    let b = a.another_server().await;
    // A second into the current quarter hour: the minute later asked about below stays
    // inside the periods of the hold watcher (15 min), the collector (1 h), the digest (a
    // day) and the audit,
    // whatever the time of day the test runs at.
    let now = arca::db::now_ms() / 900_000 * 900_000 + 1_000;
    let (pa, pb) = (a.services.periodic(), b.services.periodic());
    let (x, y) = tokio::join!(pa.offer(now), pb.offer(now));
    assert_eq!(x.unwrap() + y.unwrap(), 6, "six tasks, each offered once");
    for s in [&a, &b] {
        assert_eq!(s.services.periodic().offer(now + 1).await.unwrap(), 0);
    }
    let (x, y) = tokio::join!(
        arca::worker::run_until_idle(&a.services),
        arca::worker::run_until_idle(&b.services)
    );
    assert_eq!(
        x.unwrap() + y.unwrap(),
        6,
        "each round ran once, on one of them"
    );
    assert_eq!(
        a.count("jobs WHERE kind = 'periodic' AND state = 'succeeded'")
            .await,
        6
    );
    // A minute later housekeeping is due again; the weekly audit is not.
    assert_eq!(a.services.periodic().offer(now + 61_000).await.unwrap(), 1);
}

/// Two servers find the same batch due at the same moment: it is started once.
#[tokio::test]
async fn a_due_release_batch_is_started_once() {
    let a = TestApp::new().await;
    let b = a.another_server().await;
    let at = |s: i64| arca::model::date::utc_seconds(arca::db::now_ms() + s * 1000);
    let r = a
        .json(
            axum::http::Method::POST,
            "/api/v1/releases",
            &a.curator,
            Some(serde_json::json!({"release_at": at(60), "cutoff_at": at(30)})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let later = arca::db::now_ms() + 120_000;
    let (ra, rb) = (a.services.releases(), b.services.releases());
    let (x, y) = tokio::join!(ra.start_due_batches(later), rb.start_due_batches(later));
    assert_eq!(x.unwrap() + y.unwrap(), 1, "one of them started it");
    assert_eq!(a.count("jobs WHERE kind = 'release_batch'").await, 1);
    assert_eq!(a.count("release_batches WHERE state = 'running'").await, 1);
}

/// The audit works through the objects least recently checked first, records each
/// check as it goes (so a round cut short goes on where it stopped), carries on past an
/// object it cannot read, and checks each object once per period.
#[tokio::test]
async fn fixity_checks_each_object_once_per_period_and_survives_a_bad_object() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let mut shas = Vec::new();
    for i in 0..5u64 {
        let data = pseudo_random(10_000, 100 + i);
        shas.push(sha256_hex(&data));
        app.upload(&app.author, &id, &format!("f{i}.bin"), &data)
            .await;
    }
    // One object cannot be read (a directory where its file should be).
    let bad = &shas[0];
    let path = app
        .dir
        .path()
        .join("objects/sha256")
        .join(&bad[..2])
        .join(&bad[2..4])
        .join(bad);
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();

    let now = arca::db::now_ms();
    app.services.periodic().offer(now).await.unwrap();
    arca::worker::run_until_idle(&app.services).await.unwrap();
    let per_object = |sha: &str| format!("fixity_checks WHERE sha256 = '{sha}'");
    for sha in &shas[1..] {
        assert_eq!(app.count(&per_object(sha)).await, 1, "{sha}");
    }
    // The unreadable object was raised, not skipped silently, and did not stop the rest.
    assert_eq!(
        app.count(&format!(
            "events WHERE subject_id = '{bad}' AND kind = 'fixity_problem'"
        ))
        .await,
        1
    );
    // Offered again within the period: nothing more is checked.
    app.services.periodic().offer(now + 60_000).await.unwrap();
    arca::worker::run_until_idle(&app.services).await.unwrap();
    assert_eq!(app.count(&per_object(&shas[1])).await, 1);
    // In the next period every object is checked again, once.
    let week = app.services.config.fixity.every_hours as i64 * 3_600_000;
    app.services.periodic().offer(now + week).await.unwrap();
    arca::worker::run_until_idle(&app.services).await.unwrap();
    for sha in &shas[1..] {
        assert_eq!(app.count(&per_object(sha)).await, 2, "{sha}");
    }
}

/// On PostgreSQL a change committed on one server reaches the others at once: their
/// cached public pages are dropped and their workers wake. (SQLite is one server.)
#[tokio::test]
async fn a_change_on_one_server_reaches_the_others_at_once() {
    let a = TestApp::configured(|c| c.web.page_cache_seconds = 3600).await;
    if a.services.db.backend != arca::db::Backend::Postgres {
        eprintln!("(PostgreSQL only: set ARCA_TEST_DATABASE_URL)");
        return;
    }
    let b = a.another_server().await;
    let before = b.services.public_generation();
    // B listens from shortly after it opened: A says it again until B has heard.
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while b.services.public_generation() == before {
            a.services.public_changed();
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(heard.is_ok(), "B's page cache never heard of A's change");
    // A wake-up B kept from earlier is used up first, so only A's can end the wait.
    let _ = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        b.services.jobs_ready.notified(),
    )
    .await;
    let wake = b.services.jobs_ready.notified();
    a.services.jobs_enqueued();
    tokio::time::timeout(std::time::Duration::from_secs(5), wake)
        .await
        .expect("B's worker woke when A enqueued a job");
}
