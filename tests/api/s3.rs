//! Objects in an S3-compatible bucket (a real local S3 server, moto_server): multipart
//! writes of large objects, read-back verification, damage detected.

use crate::common::{TestApp, sha256_hex};
use arca::storage::{Secret, StorageConfig};

pub use crate::support::start_moto;

/// A bucket `arca-{name}` on the moto server at `endpoint`, objects under `test/`.
pub async fn s3_storage(endpoint: &str, name: &str) -> StorageConfig {
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/arca-{name}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    StorageConfig::S3 {
        bucket: format!("arca-{name}"),
        endpoint: Some(endpoint.to_owned()),
        region: Some("us-east-1".into()),
        prefix: Some("test/".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some(Secret("testing".into())),
    }
}

#[tokio::test]
async fn objects_in_s3_are_written_once_read_back_and_checked() {
    let (_moto, endpoint) = start_moto().await;
    let storage = s3_storage(&endpoint, "objects").await;
    let app = TestApp::configured(|c| c.storage = storage).await;

    // 40 MiB goes up as a multipart upload (16 MiB parts); the small file in one PUT.
    let big: Vec<u8> = (0..40u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "big.h5", &big).await;
    app.upload(&app.author, &id, "small.txt", b"small").await;
    let stored = app
        .services
        .storage
        .read_all(&sha256_hex(&big))
        .await
        .unwrap();
    assert_eq!(sha256_hex(&stored), sha256_hex(&big));
    // Read back in whole chunks (as mirror parts are cut), a range across parts.
    let got: Vec<bytes::Bytes> = {
        use futures::TryStreamExt;
        app.services
            .storage
            .read(&sha256_hex(&big), Some(5..(33 << 20) + 1), 3 << 20)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    };
    assert_eq!(got.concat(), &big[5..(33 << 20) + 1]);
    assert!(got[..got.len() - 1].iter().all(|c| c.len() == 3 << 20));
    assert!(
        app.staged_files().is_empty(),
        "staged copies are removed once stored"
    );
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    assert_eq!(app.state(&id).await, "verified");

    // Damage in the bucket is found by the verifier, which reads the bucket back.
    let id2 = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id2, "x.cbf", b"pristine").await;
    app.services
        .storage
        .corrupt_for_test(
            &sha256_hex(b"pristine"),
            bytes::Bytes::from_static(b"pristinE"),
        )
        .await
        .unwrap();
    app.act(&app.author, &id2, "submit", None).await;
    app.drain().await;
    assert_eq!(app.state(&id2).await, "draft");
}
