//! Reviewer links: valid, expired, revoked; only for verified, unreleased datasets.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn link(
    app: &TestApp,
    deposit: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{deposit}/reviewer-links"),
            &app.author,
            Some(body),
        )
        .await;
    let v = serde_json::from_slice(&r.body).unwrap_or_default();
    (r.status, v)
}

fn path_of(url: &str) -> String {
    url[url.find("/review/").unwrap()..].to_owned()
}

#[tokio::test]
async fn a_link_opens_one_held_dataset_until_it_expires_or_is_revoked() {
    let app = TestApp::new().await;
    let held = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("data/f.h5", b"held frames")],
            "on_hold",
        )
        .await;
    let (status, l) = link(&app, &held, json!({"days": 30, "note": "Acta D 2026-1234"})).await;
    assert_eq!(status, StatusCode::CREATED, "{l}");
    let page = path_of(l["url"].as_str().unwrap());
    let r = app.public(&page, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&r.body).into_owned();
    assert!(html.contains("Confidential: reviewer access") && html.contains("noindex"));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let r = app
        .public(
            &format!("{page}/files/data/f.h5"),
            &[("range", "bytes=0-3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.body[..], b"held");
    // The list shows links without their secrets.
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{held}/reviewer-links"),
            &app.author,
            None,
        )
        .await;
    let listed = r.json()["links"][0].clone();
    assert_eq!(listed["note"], "Acta D 2026-1234");
    assert!(listed.get("url").is_none() && !r.json().to_string().contains("rev_"));

    // Expired.
    let (_, short) = link(&app, &held, json!({"days": 1})).await;
    let mut conn = app.services.db.conn().await.unwrap();
    sqlx::query("UPDATE reviewer_links SET expires_at = 0 WHERE id = $1")
        .bind(short["id"].as_str().unwrap())
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let short_page = path_of(short["url"].as_str().unwrap());
    assert_eq!(
        app.public(&short_page, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.public(&format!("{short_page}/files/data/f.h5"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Revoked.
    let r = app
        .json(
            Method::DELETE,
            &format!(
                "/api/v1/deposits/{held}/reviewer-links/{}",
                l["id"].as_str().unwrap()
            ),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.public(&format!("{page}/files/data/f.h5"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&r.body).contains("held frames"));
    // Guessing gets nothing either.
    assert_eq!(
        app.public(
            "/review/rev_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &[]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // No links for drafts, for other people's deposits, or beyond two years.
    let draft = app.create_deposit(&app.author).await;
    assert_eq!(link(&app, &draft, json!({})).await.0, StatusCode::CONFLICT);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{held}/reviewer-links"),
            &app.other_author,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        link(&app, &held, json!({"days": 5000})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Every use and every change is in the history.
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{held}/events"),
            &app.author,
            None,
        )
        .await;
    let kinds: Vec<String> = r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "reviewer_access").count(), 2);
    assert!(
        kinds.contains(&"reviewer_link_created".into())
            && kinds.contains(&"reviewer_link_revoked".into())
    );
}

#[tokio::test]
async fn links_are_made_copied_listed_and_revoked_on_the_deposit_page() {
    let app = TestApp::new().await;
    let id = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("data/f.h5", b"frames")],
            "verified",
        )
        .await;
    let mut curator = signed_in_curator(&app).await;
    let text = |r: &Resp| String::from_utf8_lossy(&r.body).into_owned();
    let page = text(&curator.get(&format!("/deposits/{id}")).await);
    assert!(page.contains("Make a reviewer link"), "{page}");

    // Made: the secret URL is shown once, to copy; the list says for whom and until when.
    let r = curator
        .post(
            &format!("/deposits/{id}/reviewer-links"),
            &[("note", "Acta D, manuscript 1234"), ("days", "30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = text(&r);
    let start = page.find("<code id=\"new-reviewer-link\">").expect(&page) + 28;
    let url = page[start..start + page[start..].find('<').unwrap()].to_owned();
    assert!(url.contains("/review/rev_"), "{url}");
    assert!(page.contains("data-copy=\"#new-reviewer-link\""));
    assert!(page.contains("<td>Acta D, manuscript 1234</td>"), "{page}");
    assert!(page.contains("works until"), "{page}");
    let review = path_of(&url);
    assert_eq!(app.public(&review, &[]).await.status, StatusCode::OK);
    // Shown once: the page after shows the link's line, never its secret again.
    let again = text(&curator.get(&format!("/deposits/{id}")).await);
    assert!(!again.contains(&review[8..]) && again.contains("Acta D, manuscript 1234"));
    // The reviewer's visit is in the history.
    assert!(again.contains("reviewer access"), "{again}");

    // A wrong lifetime is named, and nothing is made.
    let r = curator
        .post(
            &format!("/deposits/{id}/reviewer-links"),
            &[("note", "x"), ("days", "9999")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&r).contains("1 to 730 days"));

    // Someone else's deposit: no link is made or revoked through the pages.
    let mut stranger = Browser::new(&app);
    stranger.sign_up("Mallory", "mallory@example.org").await;
    stranger.get("/my").await;
    let r = stranger
        .post(
            &format!("/deposits/{id}/reviewer-links"),
            &[("note", "mine"), ("days", "30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Revoked with a click: the link opens nothing.
    let link_id = again
        .split("/reviewer-links/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let r = curator
        .post(
            &format!("/deposits/{id}/reviewer-links/{link_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.public(&review, &[]).await.status, StatusCode::NOT_FOUND);
    stranger.get("/my").await;
    let r = stranger
        .post(
            &format!("/deposits/{id}/reviewer-links/{link_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = text(&curator.get(&format!("/deposits/{id}")).await);
    assert!(page.contains("revoked on"), "{page}");
}
