//! The durable job queue on the real database: leases, a crashed worker's job taken
//! over, attempt-guarded finishing, backoff and giving up.

use crate::common::TestApp;
use arca::db::jobs;
use serde_json::json;

#[tokio::test]
async fn a_job_left_by_a_crashed_worker_is_claimed_again_and_finished_once() {
    let app = TestApp::new().await;
    let db = &app.services.db;
    let mut conn = db.conn().await.unwrap();
    let t0 = 1_000_000;
    let id = jobs::enqueue(&mut conn, "noop", &json!({"n": 1}), 3, t0)
        .await
        .unwrap();
    // Worker A claims it, then dies without finishing.
    let a = jobs::claim(&mut conn, db.backend, t0, 1000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.id.as_str(), a.attempt), (id.as_str(), 1));
    assert_eq!(a.payload, json!({"n": 1}));
    // While A's lease holds, nobody else gets it.
    assert!(
        jobs::claim(&mut conn, db.backend, t0 + 500, 1000)
            .await
            .unwrap()
            .is_none()
    );
    // After the lease lapses, worker B takes it over.
    let b = jobs::claim(&mut conn, db.backend, t0 + 1500, 1000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.id.as_str(), b.attempt), (id.as_str(), 2));
    // A wakes up: its heartbeat and its result are refused.
    assert!(
        !jobs::heartbeat(&mut conn, &id, a.attempt, t0 + 9000)
            .await
            .unwrap()
    );
    assert!(
        !jobs::succeed(&mut conn, &id, a.attempt, t0 + 1600)
            .await
            .unwrap()
    );
    assert!(
        jobs::succeed(&mut conn, &id, b.attempt, t0 + 1700)
            .await
            .unwrap()
    );
    let row = jobs::get(&mut conn, &id).await.unwrap().unwrap();
    assert_eq!((row.state.as_str(), row.attempts), ("succeeded", 2));
    assert!(
        jobs::claim(&mut conn, db.backend, t0 + 99_000, 1000)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn retries_wait_for_their_backoff_and_stop_at_the_limit() {
    let app = TestApp::new().await;
    app.expect_failed_jobs();
    let db = &app.services.db;
    let mut conn = db.conn().await.unwrap();
    let t0 = 5_000_000;
    let id = jobs::enqueue(&mut conn, "flaky", &json!({}), 2, t0)
        .await
        .unwrap();
    let j = jobs::claim(&mut conn, db.backend, t0, 1000)
        .await
        .unwrap()
        .unwrap();
    let retry_at = t0 + arca::worker::backoff_ms(1000, 3_600_000, j.attempt);
    assert!(
        jobs::fail(
            &mut conn,
            &id,
            j.attempt,
            "remote said 503",
            Some(retry_at),
            t0
        )
        .await
        .unwrap()
    );
    assert!(
        jobs::claim(&mut conn, db.backend, retry_at - 1, 1000)
            .await
            .unwrap()
            .is_none()
    );
    let j = jobs::claim(&mut conn, db.backend, retry_at, 1000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.attempt, 2);
    // The worker dies on the last attempt: housekeeping marks the job failed.
    assert!(
        jobs::claim(&mut conn, db.backend, retry_at + 5000, 1000)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        jobs::fail_abandoned(&mut conn, retry_at + 5000)
            .await
            .unwrap(),
        1
    );
    let row = jobs::get(&mut conn, &id).await.unwrap().unwrap();
    assert_eq!(row.state, arca::model::JobState::Failed);
    assert_eq!(row.last_error.as_deref(), Some("remote said 503"));
}

#[tokio::test]
async fn two_workers_racing_never_run_one_job_twice() {
    let app = TestApp::new().await;
    let db = app.services.db.clone();
    let now = arca::db::now_ms();
    {
        let mut conn = db.conn().await.unwrap();
        for i in 0..40 {
            jobs::enqueue(&mut conn, "noop", &json!({ "i": i }), 3, now)
                .await
                .unwrap();
        }
    }
    let claim_all = |db: arca::db::Db| async move {
        let mut got = Vec::new();
        loop {
            let mut tx = db.begin_write().await.unwrap();
            let j = jobs::claim(&mut tx, db.backend, now, 60_000).await.unwrap();
            tx.commit().await.unwrap();
            match j {
                Some(j) => got.push(j.id),
                None => return got,
            }
        }
    };
    let (a, b) = tokio::join!(claim_all(db.clone()), claim_all(db.clone()));
    let mut all: Vec<_> = a.into_iter().chain(b).collect();
    assert_eq!(all.len(), 40);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 40, "a job was claimed twice");
}

#[tokio::test]
async fn submitting_enqueues_verification_in_the_same_transaction() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "a", b"1").await;
    assert_eq!(app.count("jobs WHERE kind = 'verify'").await, 0);
    app.act(&app.author, &id, "submit", None).await;
    assert_eq!(app.count("jobs WHERE kind = 'verify'").await, 1);
    // Running the queue twice (a retried job) does not verify twice.
    app.drain().await;
    let events = app.count("events").await;
    app.services.verify().run(&id).await.unwrap();
    assert_eq!(app.count("events").await, events);
}

/// The test app's own guard: a job a test leaves behind is run when the test ends, and
/// if it fails for good the test fails, though the test never drained the queue.
#[test]
fn a_job_left_behind_is_run_at_the_end_and_its_failure_fails_the_test() {
    let outcome = std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let app = TestApp::new().await;
            let mut conn = app.services.db.conn().await.unwrap();
            arca::db::jobs::enqueue(
                &mut conn,
                "make_coffee",
                &serde_json::json!({}),
                1,
                arca::db::now_ms(),
            )
            .await
            .unwrap();
            drop(conn);
            drop(app);
        })
    })
    .join();
    let message = outcome.expect_err("the test app let a failing job pass");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("make_coffee"), "{message}");
}
