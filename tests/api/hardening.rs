//! Hostile and careless input that once got past the archive's limits.

use crate::common::*;
use axum::body::Body;
use axum::http::{Method, StatusCode};

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = TestApp::new().await;
    for i in 0..50 {
        let m = Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
        let r = app.call(m, "/healthz", None, &[], Body::empty()).await;
        assert!(r.status.is_client_error(), "{}", r.status);
    }
    let text = String::from_utf8(app.public("/metrics", &[]).await.body.to_vec()).unwrap();
    assert!(!text.contains("PROBE"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
}
