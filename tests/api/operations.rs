//! What operators and their tools read: request ids, OpenMetrics at /metrics, /readyz.

use crate::common::TestApp;
use axum::http::StatusCode;

#[tokio::test]
async fn every_response_carries_a_request_id_the_client_may_choose() {
    let app = TestApp::new().await;
    let r = app.public("/healthz", &[]).await;
    let made = r.header("x-request-id").expect("an id is made").to_owned();
    assert_eq!(made.len(), 26, "a ULID: {made}");
    assert_ne!(
        app.public("/healthz", &[]).await.header("x-request-id"),
        Some(made.as_str()),
        "each request its own"
    );
    // A tracing system's id is kept, on errors too.
    let theirs = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = app
        .public("/datasets/nope", &[("x-request-id", theirs)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-request-id"), Some(theirs));
    // One that could forge a log line or be a header bomb is replaced.
    for hostile in ["a\"b,c", &"x".repeat(300), "two words"] {
        let r = app.public("/healthz", &[("x-request-id", hostile)]).await;
        let id = r.header("x-request-id").unwrap();
        assert!(id != hostile && id.len() == 26, "{hostile:?} → {id}");
    }
}

/// The lines of `text` for the metric `name` whose labels include every one of `labels`.
fn samples<'a>(text: &'a str, name: &str, labels: &[&str]) -> Vec<(&'a str, f64)> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series, value.parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn metrics_are_openmetrics_with_durations_by_route_and_the_whole_queue() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "a.cbf", &[7u8; 5000]).await;
    app.act(&app.author, &id, "submit", None).await;
    for _ in 0..3 {
        app.public("/search", &[]).await;
    }
    let r = app.public("/metrics", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        text.ends_with("# EOF\n"),
        "an OpenMetrics exposition ends with # EOF"
    );
    // Durations by route template: three searches, in buckets that add up.
    let route = r#"route="/search""#;
    let count = samples(&text, "arca_http_request_duration_seconds_count", &[route]);
    assert_eq!(count.len(), 1, "{text}");
    assert_eq!(count[0].1, 3.0);
    let buckets = samples(&text, "arca_http_request_duration_seconds_bucket", &[route]);
    assert!(buckets.len() >= 10, "{buckets:?}");
    assert_eq!(
        buckets
            .iter()
            .find(|(s, _)| s.contains(r#"le="+Inf""#))
            .unwrap()
            .1,
        3.0
    );
    assert!(text.contains("# TYPE arca_http_request_duration_seconds histogram"));
    // The queue, by kind and state: the submission's verification is waiting.
    let verify = samples(
        &text,
        "arca_jobs",
        &[r#"kind="verify""#, r#"state="queued""#],
    );
    assert_eq!(verify.len(), 1, "{text}");
    assert_eq!(verify[0].1, 1.0);
    assert!(samples(&text, "arca_jobs_pending", &[])[0].1 >= 1.0);
    assert!(!samples(&text, "arca_jobs_oldest_ready_seconds", &[]).is_empty());
    // This process's pool.
    let idle = samples(&text, "arca_db_connections", &[r#"state="idle""#]);
    let busy = samples(&text, "arca_db_connections", &[r#"state="in_use""#]);
    assert_eq!((idle.len(), busy.len()), (1, 1), "{text}");
    assert!(idle[0].1 + busy[0].1 >= 1.0);
    // Once verified, the kind leaves the queue figures.
    app.drain().await;
    let text = String::from_utf8(app.public("/metrics", &[]).await.body.to_vec()).unwrap();
    assert!(
        samples(&text, "arca_jobs", &[r#"kind="verify""#]).is_empty(),
        "{text}"
    );
}

#[tokio::test]
async fn readyz_checks_the_catalogue_and_the_object_store() {
    let app = TestApp::new().await;
    let r = app.public("/readyz", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["object_store"]["status"], "ok");
    // The object store's directory goes away (an unmounted volume): not ready, and
    // /healthz, which only asks whether the process and catalogue are up, still is.
    let objects = app.dir.path().join("objects");
    let moved = app.dir.path().join("objects-unmounted");
    std::fs::rename(&objects, &moved).unwrap();
    let r = app.public("/readyz", &[]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["object_store"]["status"], "failed");
    assert!(
        !body
            .to_string()
            .contains(&app.dir.path().display().to_string())
    );
    assert_eq!(app.public("/healthz", &[]).await.status, StatusCode::OK);
    std::fs::rename(&moved, &objects).unwrap();
    assert_eq!(app.public("/readyz", &[]).await.status, StatusCode::OK);
}
