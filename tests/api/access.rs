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

/// Who may call a route at all (what they then see is the matrix above).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Access {
    /// Anyone, without a token.
    Public,
    /// Anyone signed in (what they see is scoped to them).
    SignedIn,
    /// The deposit's depositor and curators.
    Owner,
    /// Curators (and admins) only.
    Curator,
}

/// Every operation the OpenAPI document lists, with its access. A route added without
/// a line here fails the test below.
fn access_of(method: &str, path: &str) -> Option<Access> {
    use Access::*;
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/robots.txt",
        "/sitemap.xml",
        "/sitemaps/{name}",
        "/releases.atom",
        "/oai",
        "/api/openapi.json",
        "/doi/{doi}",
        "/datasets/{id}",
        "/datasets/{id}/linkset",
        "/datasets/{id}/manifest.json",
        "/datasets/{id}/manifest-sha256.txt",
        "/datasets/{id}/bag.tar",
        "/datasets/{id}/files/{path}",
        "/datasets/{id}/versions/{version}/files/{path}",
        "/datasets/{id}/previews/{path}",
        "/review/{token}",
        "/review/{token}/files/{path}",
        "/review/{token}/previews/{path}",
        "/review/{token}/manifest.json",
        "/review/{token}/manifest-sha256.txt",
        "/api/v1/datasets",
        "/api/v1/datasets/{id}/usage",
        "/api/v1/schemas/deposit.json",
        "/citation-styles/{name}",
    ];
    if public.contains(&path) || (method == "options" && path.starts_with("/api/v1/uploads")) {
        return Some(Public);
    }
    Some(match (method, path) {
        ("get" | "post", "/api/v1/deposits")
        | ("post", "/api/v1/deposits/import")
        | ("get", "/api/v1/releases")
        | ("get", "/api/v1/releases/{id}")
        | ("get", "/api/v1/notifications")
        | ("get", "/api/v1/manuscript-kit")
        | ("get", "/api/v1/software")
        | ("get", "/api/v1/lookups/{registry}")
        | ("post", "/api/v1/uploads")
        | ("head" | "patch" | "delete", "/api/v1/uploads/{id}") => SignedIn,
        (_, p)
            if p.starts_with("/api/v1/deposits/{id}")
                && p != "/api/v1/deposits/{id}/publication/confirm" =>
        {
            Owner
        }
        ("post", "/api/v1/deposits/{id}/publication/confirm")
        | ("post", "/api/v1/releases")
        | ("post", "/api/v1/releases/{id}/items")
        | ("delete", "/api/v1/releases/{id}/items/{deposit}")
        | ("post", "/api/v1/releases/{id}/run")
        | ("post", "/api/v1/software")
        | ("get", "/api/v1/mirrors")
        | ("get", "/api/v1/transfers")
        | ("get", "/api/v1/transfers/{id}")
        | ("post", "/api/v1/transfers/{id}/retry")
        | ("get", "/api/v1/fixity")
        | ("get", "/api/v1/reports/dsr") => Curator,
        _ => return None,
    })
}

#[tokio::test]
async fn every_documented_route_refuses_whoever_may_not_call_it() {
    let app = TestApp::new().await;
    let held = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("f.bin", b"HELD")],
            "on_hold",
        )
        .await;
    let dataset = app.dataset_of(&held).await;
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

    let doc = app.public("/api/openapi.json", &[]).await.json();
    let mut unlisted = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let Some(access) = access_of(method, path) else {
                unlisted.push(format!("{method} {path}"));
                continue;
            };
            let id = if path.starts_with("/api/v1/deposits/{id}") {
                held.as_str()
            } else if path.starts_with("/datasets/") {
                dataset.as_str()
            } else if path.starts_with("/api/v1/releases/") {
                batch.as_str()
            } else {
                "01JD5XPQ6Z0000000000000000"
            };
            let concrete = path
                .replace("{id}", id)
                .replace("{deposit}", &held)
                .replace("{action}", "approve")
                .replace("{path}", "f.bin")
                .replace("{link}", "01JD5XPQ6Z0000000000000000")
                .replace("{version}", "1")
                .replace("{token}", "rev_unknown")
                .replace("{doi}", "10.5072/arca.unknown")
                .replace("{registry}", "orcid")
                .replace("{name}", "2026-01.xml");
            let m: Method = method.to_uppercase().parse().unwrap();
            let mut callers = vec![(None, "anonymous")];
            callers.push((Some(app.other_author.as_str()), "another author"));
            if access == Access::Curator {
                callers.push((Some(app.author.as_str()), "the depositor"));
            }
            for (token, who) in callers {
                let body = if path.ends_with("/manifest") {
                    format!("{}  f.bin\n", "0".repeat(64))
                } else {
                    "{}".to_owned()
                };
                let send = |token: Option<String>| {
                    let (m, concrete, body) = (m.clone(), concrete.clone(), body.clone());
                    let app = &app;
                    async move {
                        app.call(
                            m,
                            &concrete,
                            token.as_deref(),
                            &[("content-type", "application/json")],
                            Body::from(body),
                        )
                        .await
                    }
                };
                let r = send(token.map(str::to_owned)).await;
                let s = r.status;
                let case = format!("{method} {concrete} as {who}: {s}");
                assert!(!s.is_server_error(), "{case}");
                let body = String::from_utf8_lossy(&r.body);
                assert!(!body.contains("HELD"), "held bytes leaked: {case}");
                match (access, token) {
                    (Access::Public, _) => {
                        assert!(
                            s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
                            "{case}"
                        )
                    }
                    (_, None) => assert_eq!(s, StatusCode::UNAUTHORIZED, "{case}"),
                    (Access::SignedIn, Some(_)) => {
                        assert!(
                            s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
                            "{case}"
                        )
                    }
                    (Access::Owner | Access::Curator, Some(_)) => {
                        // A body refused before anyone is looked up tells nothing: the
                        // same request from a curator is refused alike (and so changes
                        // nothing either).
                        let same_for_all = s == StatusCode::UNPROCESSABLE_ENTITY
                            && send(Some(app.curator.clone())).await.status == s;
                        assert!(
                            s == StatusCode::FORBIDDEN
                                || s == StatusCode::NOT_FOUND
                                || same_for_all,
                            "{case}"
                        )
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "routes with no access rule: {unlisted:?}"
    );
    assert!(checked > 100, "only {checked} calls");
    // Nothing the refused calls asked for happened.
    assert_eq!(app.state(&held).await, "on_hold");

    // Batch details: another author sees the batch, not who else is in it.
    let scheduled = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("g.bin", b"g")],
            "approved",
        )
        .await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/releases/{batch}/items"),
            &app.curator,
            Some(json!({"deposit": scheduled})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let path = format!("/api/v1/releases/{batch}");
    let seen = |t: &str| {
        let t = t.to_owned();
        let app = &app;
        let path = path.clone();
        async move {
            app.json(Method::GET, &path, &t, None).await.json()["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(seen(&app.curator).await, 1);
    assert_eq!(
        seen(&app.author).await,
        1,
        "the depositor sees their own item"
    );
    assert_eq!(
        seen(&app.other_author).await,
        0,
        "other authors see no items"
    );
}
