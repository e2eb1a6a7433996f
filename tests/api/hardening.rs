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

fn from(
    addr: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> axum::http::Request<Body> {
    let mut b = axum::http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Body::empty()).unwrap();
    let peer: std::net::SocketAddr = format!("{addr}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    req
}

#[tokio::test]
async fn password_guessing_is_limited_per_account_and_per_address() {
    let app = TestApp::configured(|c| {
        c.web.guesses_per_minute = 3;
        c.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.services
        .users()
        .add(
            "target@example.org",
            "Target",
            arca::model::Role::Author,
            Some("the right password"),
        )
        .await
        .unwrap();
    // Per account, wherever the guesses come from.
    for _ in 0..3 {
        let e = app
            .services
            .sessions()
            .sign_in("target@example.org", "guess")
            .await
            .unwrap_err();
        assert!(
            matches!(e, arca::services::ServiceError::Invalid { .. }),
            "{e}"
        );
    }
    let e = app
        .services
        .sessions()
        .sign_in("Target@example.org", "the right password")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("guesses_per_minute"), "{e}");
    assert!(
        matches!(e, arca::services::ServiceError::Busy { retry_after_seconds, .. } if retry_after_seconds >= 1)
    );
    // Another account is not affected.
    assert!(
        app.services
            .sessions()
            .sign_in("author@example.org", "x")
            .await
            .is_err_and(|e| !e.to_string().contains("guesses"))
    );

    // Per address: the fourth attempt from one address is refused with Retry-After; a
    // neighbour is not.
    for i in 0..4 {
        let r = app
            .send(from("192.0.2.7", Method::POST, "/signin", &[]))
            .await;
        if i < 3 {
            assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
        } else {
            assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
            assert!(r.header("retry-after").is_some());
            assert!(r.header("content-type").unwrap().starts_with("text/html"));
        }
    }
    let r = app
        .send(from("192.0.2.8", Method::POST, "/signup", &[]))
        .await;
    assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Behind a trusted proxy, the forwarded address is the client.
    for i in 0..4 {
        let r = app
            .send(from(
                "127.0.0.1",
                Method::POST,
                "/signup",
                &[("x-forwarded-for", "198.51.100.1")],
            ))
            .await;
        assert_eq!(
            r.status == StatusCode::TOO_MANY_REQUESTS,
            i == 3,
            "attempt {i}"
        );
    }
    let r = app
        .send(from(
            "127.0.0.1",
            Method::POST,
            "/signup",
            &[("x-forwarded-for", "198.51.100.2")],
        ))
        .await;
    assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn guessing_reviewer_links_locks_the_guesser_out() {
    let app = TestApp::configured(|c| c.web.guesses_per_minute = 3).await;
    let held = app
        .deposit_through(
            serde_json::json!({"metadata": metadata()}),
            &[("f.bin", b"x")],
            "on_hold",
        )
        .await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{held}/reviewer-links"),
            &app.author,
            Some(serde_json::json!({"days": 30})),
        )
        .await;
    let url = r.json()["url"].as_str().unwrap().to_owned();
    let link = url[url.find("/review/").unwrap()..].to_owned();
    // A reviewer may open the page and its files as often as they like.
    for _ in 0..10 {
        let r = app.send(from("192.0.2.20", Method::GET, &link, &[])).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // Misses count: after three, even a valid link is refused to that address.
    for i in 0..3 {
        let r = app
            .send(from(
                "192.0.2.30",
                Method::GET,
                &format!("/review/rev_guess{i}"),
                &[],
            ))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let r = app
        .send(from("192.0.2.30", Method::GET, "/review/rev_guess9", &[]))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the quota's last miss");
    let r = app.send(from("192.0.2.30", Method::GET, &link, &[])).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = app.send(from("192.0.2.20", Method::GET, &link, &[])).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn api_tokens_expire_and_can_be_revoked() {
    let app = TestApp::new().await;
    let s = app.services.users();
    let app = &app;
    let me = |t: String| async move {
        app.json(Method::GET, "/api/v1/deposits", &t, None)
            .await
            .status
    };
    let token = s
        .create_token("author@example.org", 30, Some("beamline pc"))
        .await
        .unwrap();
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    // Revoked: refused at once.
    let listed = s.tokens("author@example.org").await.unwrap();
    let row = listed
        .iter()
        .find(|t| t.name.as_deref() == Some("beamline pc"))
        .unwrap();
    let days = (row.expires_at.unwrap() - row.created_at) / 86_400_000;
    assert_eq!(days, 30);
    s.revoke_token(&row.id).await.unwrap();
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
    assert!(s.revoke_token(&row.id).await.is_err(), "revoked once");
    // Expired: refused.
    let token = s.create_token("author@example.org", 1, None).await.unwrap();
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    let mut conn = s.db.conn().await.unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE name IS NULL AND revoked_at IS NULL AND expires_at < $2")
        .bind(arca::db::now_ms() - 1)
        .bind(arca::db::now_ms() + 2 * 86_400_000)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
    // The limits are named.
    let e = s
        .create_token("author@example.org", 0, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("1 to 3650 days"), "{e}");
    // The test's own long-lived tokens still work.
    assert_eq!(me(app.author.clone()).await, StatusCode::OK);
}

/// A manifest of 100,000 lines is written in short transactions: another depositor's
/// writes go through while it is being stored, and nobody sees half of it.
#[tokio::test]
async fn a_large_manifest_lets_other_writers_in_and_lands_whole() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "d0/f0.cbf", b"x").await;
    let n = 100_000;
    let text: String = (0..n)
        .map(|i| format!("{:064x}  d{}/f{}.cbf\n", i, i % 100, i))
        .collect();
    let put = {
        let app = &app;
        let id = id.clone();
        async move {
            app.call(
                Method::PUT,
                &format!("/api/v1/deposits/{id}/manifest"),
                Some(&app.author),
                &[("content-type", "text/plain")],
                Body::from(text),
            )
            .await
        }
    };
    let done = std::sync::atomic::AtomicBool::new(false);
    let others = async {
        // Other writers, while the manifest is on its way: each commits on its own.
        let mut committed_meanwhile = 0;
        while !done.load(std::sync::atomic::Ordering::Acquire) {
            let r = app
                .json(
                    Method::POST,
                    "/api/v1/deposits",
                    &app.other_author,
                    Some(serde_json::json!({"metadata": metadata()})),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::CREATED,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            // Nobody sees part of the manifest: none of it, or all of it.
            let seen = app.count("expected_checksums").await;
            assert!(
                seen == 0 || seen == n,
                "{seen} of {n} manifest lines visible"
            );
            if !done.load(std::sync::atomic::Ordering::Acquire) {
                committed_meanwhile += 1;
            }
        }
        committed_meanwhile
    };
    let (r, meanwhile) = tokio::join!(
        async {
            let r = put.await;
            done.store(true, std::sync::atomic::Ordering::Release);
            r
        },
        others
    );
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["entries"], n);
    assert_eq!(r.json()["not_yet_uploaded"].as_array().unwrap().len(), 100);
    assert_eq!(app.count("expected_checksums").await, n);
    assert_eq!(app.count("manifest_staging").await, 0);
    assert!(
        meanwhile >= 2,
        "only {meanwhile} other writes went through meanwhile"
    );
}
