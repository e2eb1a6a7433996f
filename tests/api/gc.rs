//! Garbage collection (invariant 3): only unreferenced objects, only after the grace
//! period, and never one an upload is claiming.

use crate::common::{TestApp, sha256_hex};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use std::time::Duration;

async fn remove_file(app: &TestApp, deposit: &str, path: &str) {
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/deposits/{deposit}/files/{path}"),
            Some(&app.author),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

async fn stored(app: &TestApp, data: &[u8]) -> bool {
    app.services
        .storage
        .exists(&sha256_hex(data))
        .await
        .unwrap()
}

#[tokio::test]
async fn only_objects_unreferenced_for_the_whole_grace_period_are_removed() {
    let app = TestApp::new().await;
    let (a, b) = (
        app.create_deposit(&app.author).await,
        app.create_deposit(&app.author).await,
    );
    let (lonely, shared) = (b"only here".as_slice(), b"in two deposits".as_slice());
    app.upload(&app.author, &a, "lonely.cbf", lonely).await;
    app.upload(&app.author, &a, "shared.cbf", shared).await;
    app.upload(&app.author, &b, "shared.cbf", shared).await;
    remove_file(&app, &a, "lonely.cbf").await;
    remove_file(&app, &a, "shared.cbf").await;

    // Within the grace period nothing goes.
    assert_eq!(
        app.services
            .gc()
            .collect(Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    assert!(stored(&app, lonely).await);
    tokio::time::sleep(Duration::from_millis(10)).await;
    // Past it, only the object no file refers to.
    assert_eq!(
        app.services
            .gc()
            .collect(Duration::from_millis(1))
            .await
            .unwrap(),
        1
    );
    assert!(!stored(&app, lonely).await);
    assert!(
        stored(&app, shared).await,
        "still referenced by the other deposit"
    );
    assert_eq!(app.count("objects").await, 1);
    // Deposit b is intact and still verifies.
    app.act(&app.author, &b, "submit", None).await;
    app.drain().await;
    assert_eq!(app.state(&b).await, "verified");
}

#[tokio::test]
async fn an_object_referenced_again_loses_its_mark() {
    let app = TestApp::new().await;
    let a = app.create_deposit(&app.author).await;
    let data = b"comes back".as_slice();
    app.upload(&app.author, &a, "x.cbf", data).await;
    remove_file(&app, &a, "x.cbf").await;
    app.services
        .gc()
        .collect(Duration::from_secs(3600))
        .await
        .unwrap();
    // Uploaded again: the old "unreferenced since" must not make it eligible later.
    app.upload(&app.author, &a, "x.cbf", data).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        app.services
            .gc()
            .collect(Duration::from_millis(1))
            .await
            .unwrap(),
        0
    );
    assert!(stored(&app, data).await);
}

#[tokio::test]
async fn an_upload_that_meets_a_collection_in_progress_waits_and_then_finishes() {
    let app = TestApp::new().await;
    let a = app.create_deposit(&app.author).await;
    let data = b"same bytes twice".as_slice();
    app.upload(&app.author, &a, "old.cbf", data).await;
    remove_file(&app, &a, "old.cbf").await;
    // A collector has taken the object for deletion and not finished yet.
    let mut conn = app.services.db.conn().await.unwrap();
    arca::db::files::mark_unreferenced(&mut conn, 1, 100)
        .await
        .unwrap();
    assert_eq!(
        arca::db::files::doom(&mut conn, 2, 100).await.unwrap(),
        [sha256_hex(data)]
    );
    drop(conn);
    // The same bytes arrive in a new upload: it cannot claim the object yet.
    let loc = app
        .tus_create(&app.author, &a, "new.cbf", data.len(), None)
        .await
        .header("location")
        .unwrap()
        .to_owned();
    let r = app.tus_patch(&app.author, &loc, 0, data.to_vec()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(app.files(&app.author, &a).await.is_empty());
    // The collector finishes; asking for the offset completes the upload with its bytes.
    app.services
        .gc()
        .collect(Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(!stored(&app, data).await);
    let r = app.tus_head(&app.author, &loc).await;
    assert_eq!(r.status, StatusCode::OK);
    let files = app.files(&app.author, &a).await;
    assert_eq!(files[0]["path"], "new.cbf");
    assert!(
        stored(&app, data).await,
        "the new upload stored the bytes again"
    );
    assert_eq!(
        app.services
            .storage
            .read_all(&sha256_hex(data))
            .await
            .unwrap()
            .as_ref(),
        data
    );
}
