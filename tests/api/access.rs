//! Invariant 4 as a table: every route that can reveal data × every role × every state.
//! Who sees metadata, and who gets bytes; no unreleased byte reaches anyone else.

use crate::common::*;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

const STATES: [&str; 8] = [
    "draft",
    "submitted",
    "verified",
    "approved",
    "on_hold",
    "scheduled",
    "released",
    "withdrawn",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Anonymous,
    OtherAuthor,
    Owner,
    Reviewer,
    Curator,
}

struct Case {
    state: &'static str,
    deposit: String,
    dataset: String,
    doi: Option<String>,
    title: String,
    secret: Vec<u8>,
    review_url: Option<String>,
}

/// What the table expects: (metadata visible, bytes served).
fn expected(route: &str, role: Role, state: &str) -> (bool, bool) {
    let released = state == "released";
    let private_reader = matches!(role, Role::Owner | Role::Curator);
    let reviewable = matches!(state, "verified" | "approved" | "on_hold" | "scheduled");
    match route {
        // Public pages know no roles: only released data, and the tombstone's record.
        // A held dataset's registered DOI lands on a page that says it is on hold.
        "landing" => (released || matches!(state, "withdrawn" | "on_hold"), false),
        // Search holds released datasets only; the browser page and the API alike.
        "search page" | "search api" => (released, false),
        "public file" | "bag" => (released, released),
        "sitemap" | "feed" | "oai" => (released, false),
        // A DOI resolves once registered: on hold, released, or withdrawn (back to
        // registered). Its record is public metadata; never bytes.
        "doi" => (matches!(state, "on_hold" | "released" | "withdrawn"), false),
        "api deposit" => (private_reader, false),
        "api file" => (private_reader, private_reader),
        "review page" => (role == Role::Reviewer && reviewable, false),
        "review file" => (
            role == Role::Reviewer && reviewable,
            role == Role::Reviewer && reviewable,
        ),
        other => panic!("no expectation for {other}"),
    }
}

#[tokio::test]
async fn who_sees_metadata_and_who_gets_bytes() {
    let app = TestApp::new().await;
    let mut cases = Vec::new();
    for state in STATES {
        let title = format!("Access matrix {state} lysozyme");
        let secret = format!("SECRET-BYTES-OF-{state}").into_bytes();
        let mut m = metadata();
        m["titles"] = json!([{ "title": title }]);
        let deposit = if state == "released" {
            // Released through a batch of its own, so the release feed has it too.
            let id = app
                .deposit_through(json!({"metadata": m}), &[("f.bin", &secret)], "approved")
                .await;
            let at = arca::model::date::utc_seconds(arca::db::now_ms() + 3_600_000);
            let r = app
                .json(
                    Method::POST,
                    "/api/v1/releases",
                    &app.curator,
                    Some(json!({"release_at": at})),
                )
                .await;
            let batch = r.json()["id"].as_str().unwrap().to_owned();
            let r = app
                .json(
                    Method::POST,
                    &format!("/api/v1/releases/{batch}/items"),
                    &app.curator,
                    Some(json!({"deposit": id})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
            let run = format!("/api/v1/releases/{batch}/run");
            app.json(Method::POST, &run, &app.curator, None).await;
            app.drain().await;
            assert_eq!(app.state(&id).await, "released");
            id
        } else {
            app.deposit_through(json!({"metadata": m}), &[("f.bin", &secret)], state)
                .await
        };
        let r = app
            .json(
                Method::GET,
                &format!("/api/v1/deposits/{deposit}"),
                &app.curator,
                None,
            )
            .await;
        let doi = r.json()["doi"].as_str().map(str::to_owned);
        let link = app
            .json(
                Method::POST,
                &format!("/api/v1/deposits/{deposit}/reviewer-links"),
                &app.author,
                Some(json!({"days": 30})),
            )
            .await;
        let review_url = (link.status == StatusCode::CREATED).then(|| {
            let url = link.json()["url"].as_str().unwrap().to_owned();
            url[url.find("/review/").unwrap()..].to_owned()
        });
        cases.push(Case {
            state,
            dataset: app.dataset_of(&deposit).await,
            deposit,
            doi,
            title,
            secret,
            review_url,
        });
    }
    // A link made while reviewable stops working once released.
    let released = cases.iter().find(|c| c.state == "released").unwrap();
    assert!(
        released.review_url.is_none(),
        "no new links for public datasets"
    );

    let roles = [
        Role::Anonymous,
        Role::OtherAuthor,
        Role::Owner,
        Role::Reviewer,
        Role::Curator,
    ];
    let mut checked = 0;
    for c in &cases {
        for role in roles {
            let token = match role {
                Role::Owner => Some(app.author.as_str()),
                Role::OtherAuthor => Some(app.other_author.as_str()),
                Role::Curator => Some(app.curator.as_str()),
                Role::Anonymous | Role::Reviewer => None,
            };
            let mut routes: Vec<(&str, String)> = vec![
                ("landing", format!("/datasets/{}", c.dataset)),
                (
                    "public file",
                    format!("/datasets/{}/files/f.bin", c.dataset),
                ),
                ("bag", format!("/datasets/{}/bag.tar", c.dataset)),
                ("api deposit", format!("/api/v1/deposits/{}", c.deposit)),
                (
                    "api file",
                    format!("/api/v1/deposits/{}/files/f.bin", c.deposit),
                ),
                (
                    "sitemap",
                    format!(
                        "/sitemaps/{}.xml",
                        &arca::model::date::utc_day(arca::db::now_ms())[..7]
                    ),
                ),
                ("feed", "/releases.atom".into()),
                ("search page", format!("/search?q={}", c.state)),
                (
                    "search api",
                    format!("/api/v1/datasets?q=matrix+{}", c.state),
                ),
                (
                    "oai",
                    format!(
                        "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arca.local:{}",
                        c.deposit
                    ),
                ),
            ];
            if let Some(doi) = &c.doi {
                routes.push(("doi", format!("/doi/{doi}?format=datacite-xml")));
            }
            // Only a reviewer holds the link; for everyone else it is an unknown URL.
            let review = match (&c.review_url, role) {
                (Some(u), Role::Reviewer) => u.clone(),
                _ => "/review/rev_not-a-real-link".into(),
            };
            routes.push(("review page", review.clone()));
            routes.push(("review file", format!("{review}/files/f.bin")));
            for (route, path) in routes {
                let r = app
                    .call(Method::GET, &path, token, &[], Body::empty())
                    .await;
                let body = String::from_utf8_lossy(&r.body);
                let (want_meta, want_bytes) = expected(route, role, c.state);
                let got_bytes = r.body.windows(c.secret.len()).any(|w| w == c.secret);
                let got_meta = match route {
                    "sitemap" => body.contains(&format!("/datasets/{}<", c.dataset)),
                    "oai" | "doi" | "landing" | "review page" | "feed" | "search page"
                    | "search api" => body.contains(&c.title),
                    "api deposit" => r.status == StatusCode::OK && body.contains(&c.title),
                    // Serving the file is what counts for byte routes.
                    _ => r.status.is_success(),
                };
                let case = format!(
                    "{route} as {role:?} in state {}: {} {path}",
                    c.state, r.status
                );
                assert_eq!(got_bytes, want_bytes, "bytes: {case}");
                assert_eq!(got_meta, want_meta, "metadata: {case}");
                assert!(!r.status.is_server_error(), "{case}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 8 * 5 * 12, "only {checked} checks");
    // Every reviewer use was logged.
    let held = cases.iter().find(|c| c.state == "on_hold").unwrap();
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{}/events", held.deposit),
            &app.author,
            None,
        )
        .await;
    let uses = r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reviewer_access")
        .count();
    assert_eq!(uses, 2, "the page and the file");
}
