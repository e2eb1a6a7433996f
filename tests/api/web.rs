//! The pages for people, driven like a browser: session cookies, CSRF, the deposit form
//! and its errors, the consoles, search, invitations, and escaping on every page.

use crate::common::*;
use arca::model::Role;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

const HOSTILE_TITLE: &str = "<script>alert('t')</script> Lysozyme <b>bold</b>";
const HOSTILE_NAME: &str = "Curie, <img src=x onerror=alert(1)>";

#[tokio::test]
async fn signing_up_in_and_out_uses_a_locked_down_cookie_and_every_form_checks_csrf() {
    let app = TestApp::new().await;
    let users = app.count("users").await;
    let mut b = Browser::new(&app);
    // A sign-up posted from elsewhere (no token) is refused and creates nothing.
    b.get("/signup").await;
    let r = b
        .post_raw(
            "/signup",
            &form_body(&[
                ("name", "Mallory"),
                ("email", "m@example.org"),
                ("password", "a long password"),
                ("password_again", "a long password"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(text(&r).contains("reload the page"));
    assert_eq!(app.count("users").await, users);

    b.get("/signup").await;
    let r = b
        .post(
            "/signup",
            &[
                ("name", "Curie, Marie"),
                ("email", "marie@example.org"),
                ("password", "a long password"),
                ("password_again", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("arca_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set.contains(attr), "{attr} missing from {set}");
    }
    let r = b.get("/my").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(text(&r).contains("Curie, Marie"));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));

    // Signing out ends the session on the server, not only in this browser.
    let stolen = b.cookies.get("arca_session").unwrap().clone();
    let r = b.post("/signout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut thief = Browser::new(&app);
    thief.cookies.insert("arca_session".into(), stolen);
    let r = thief.get("/my").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), Some("/signin?next=%2Fmy"));

    // A wrong password and an unknown address get the same answer.
    let wrong = b.sign_in("marie@example.org", "not the password").await;
    let wrong_text = text(&wrong);
    let unknown = b.sign_in("nobody@example.org", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_text.contains("do not match an account"));
    assert!(text(&unknown).contains("do not match an account"));
    // After sign-in, back to where the visitor was going, never to another site.
    b.get("/signin?next=//evil.example/").await;
    let r = b
        .post(
            "/signin",
            &[
                ("email", "marie@example.org"),
                ("password", "a long password"),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some("/my"));

    // Disabled by an operator: the open page signs out, and the form says why.
    let r = b.get("/my").await;
    assert_eq!(r.status, StatusCode::OK);
    app.services
        .accounts()
        .disable("marie@example.org")
        .await
        .unwrap();
    let r = b.get("/my").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = b.sign_in("marie@example.org", "a long password").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        text(&r).contains("this account is disabled"),
        "{}",
        text(&r)
    );
    assert_eq!(b.get("/my").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_api_takes_a_browser_session_only_with_its_csrf_token() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    b.sign_up("Curie, Marie", "marie@example.org").await;
    let page = b.get("/my").await;
    let csrf = csrf_of(&text(&page)).unwrap();
    let before = app.count("dataset_versions").await;
    let post = |with_token: bool| {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/deposits")
            .header(header::CONTENT_TYPE, "application/json");
        if with_token {
            req = req.header("x-csrf-token", csrf.clone());
        }
        req
    };
    let body = || Body::from(json!({"metadata": metadata()}).to_string());
    let r = b.send(post(false), body()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(app.count("dataset_versions").await, before);
    let r = b.send(post(true), body()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Reading needs no token (nothing changes).
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = b
        .send(
            Request::builder().uri(format!("/api/v1/deposits/{id}")),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_form_with_mistakes_names_each_field_keeps_what_was_typed_and_saves_nothing() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    b.sign_up("Curie, Marie", "marie@example.org").await;
    let before = app.count("dataset_versions").await;
    b.get("/deposits/new").await;
    let r = b
        .post(
            "/deposits/new",
            &[
                ("title", "Lysozyme & friends"),
                ("author-0-name", "Curie, Marie"),
                ("author-0-orcid", "0000-0002-1825-0098"),
                ("author-1-name", "Franklin, Rosalind"),
                ("author-1-orcid", "0000-0002-1825-0097"),
                ("wavelength", "blue"),
                ("collection_date", "14/03/2026"),
                ("beamline", "I04"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(&r);
    assert!(
        html.contains(r#"id="wavelength-error">“blue” is not a positive number"#),
        "{html}"
    );
    // One mistake does not hide the others: the ORCID and the date are named too.
    assert!(html.contains(r#"id="author-0-orcid-error">"#), "{html}");
    assert!(html.contains(r#"id="collection_date-error">Must be a date as YYYY-MM-DD."#));
    assert!(html.contains("3 problems to fix"), "{html}");
    assert!(
        html.contains(r#"value="Lysozyme &#38; friends""#)
            || html.contains("value=\"Lysozyme &amp; friends\"")
    );
    assert!(html.contains(r#"value="I04""#));
    assert!(html.contains(r#"value="Franklin, Rosalind""#));
    assert_eq!(app.count("dataset_versions").await, before);

    // The number fixed, the service's own checks speak next to their fields.
    let r = b
        .post(
            "/deposits/new",
            &[
                ("title", "Lysozyme"),
                ("author-0-name", "Curie, Marie"),
                ("author-0-orcid", "0000-0002-1825-0098"),
                ("collection_date", "14/03/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(&r);
    assert!(html.contains(r#"id="author-0-orcid-error">"#) && html.contains("check digit"));
    assert!(html.contains(r#"id="collection_date-error">Must be a date as YYYY-MM-DD."#));
    assert!(html.contains(r#"id="author-0-orcid" name="author-0-orcid" value="0000-0002-1825-0098" aria-invalid="true""#));
    assert_eq!(app.count("dataset_versions").await, before);

    // A draft may be incomplete; submitting it sends the author back to the gaps.
    let id = b.deposit(&[("keywords", "lysozyme")]).await;
    let r = b.get(&format!("/deposits/{id}")).await;
    assert!(text(&r).contains("Submit for review"));
    let r = b
        .post(&format!("/deposits/{id}/act"), &[("action", "submit")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(&r);
    assert!(html.contains("Before the deposit can be submitted"));
    assert!(html.contains(r#"id="title-error">At least one title is required."#));
    assert!(html.contains(r#"id="author-0-name-error">"#));
    assert_eq!(app.state(&id).await, "draft");
}

#[tokio::test]
async fn a_deposit_made_in_the_browser_goes_through_review_to_its_public_page() {
    let app = TestApp::new().await;
    add_curator_with_password(&app).await;
    let mut author = Browser::new(&app);
    author.sign_up("Curie, Marie", "marie@example.org").await;
    let id = author
        .deposit(&[
            ("title", "Hen egg-white lysozyme"),
            ("author-0-name", "Curie, Marie"),
            ("author-0-orcid", "0000-0002-1825-0097"),
            ("facility", "Diamond"),
            ("beamline", "I04"),
            ("pdb_ids", "1LYZ"),
            ("licence", "CC-BY-4.0"),
            ("contact_name", "Curie, Marie"),
            ("contact_email", "marie@example.org"),
            ("software-0-name", "XDS"),
            ("software-0-version", "Jan 26, 2026"),
        ])
        .await;
    // The deposit form's upload runs on the API with the session and its token.
    let page = author.get(&format!("/deposits/{id}")).await;
    let html = text(&page);
    assert!(
        html.contains(&format!("--deposit {id}")),
        "the arca upload command"
    );
    let csrf = csrf_of(&html).unwrap();
    let meta = tus_metadata(&[("deposit", &id), ("filename", "images/img_0001.cbf")]);
    let r = author
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/uploads")
                .header("tus-resumable", "1.0.0")
                .header("upload-length", "11")
                .header("upload-metadata", meta)
                .header("x-csrf-token", csrf.clone()),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let location = r.header("location").unwrap().to_owned();
    let r = author
        .send(
            Request::builder()
                .method(Method::PATCH)
                .uri(&location)
                .header("tus-resumable", "1.0.0")
                .header("upload-offset", "0")
                .header("content-type", "application/offset+octet-stream")
                .header("x-csrf-token", csrf),
            Body::from("hello bytes"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A manifest that disagrees is reported per file after verification.
    author.get(&format!("/deposits/{id}")).await;
    let r = author
        .post(
            &format!("/deposits/{id}/manifest"),
            &[(
                "manifest",
                &format!("{}  images/img_0001.cbf\n", sha256_hex(b"hello bytes")),
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    author.get(&format!("/deposits/{id}")).await;
    let r = author.post(&format!("/deposits/{id}/doi"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let html = text(&author.get(&format!("/deposits/{id}?done=doi")).await);
    assert!(html.contains("The DOI is reserved"));
    assert!(html.contains("Curie, M"), "the citation to copy: {html}");
    // The manuscript kit: the data-availability statement and the software reference.
    assert!(html.contains("Data availability statement"));
    let refs = &html[html.find(r#"<ol id="references">"#).expect("references")..];
    assert!(
        refs[..refs.find("</ol>").unwrap()].contains("XDS"),
        "{refs}"
    );
    author
        .post(&format!("/deposits/{id}/act"), &[("action", "submit")])
        .await;
    app.drain().await;
    let html = text(&author.get(&format!("/deposits/{id}")).await);
    assert!(html.contains("✔ verified"), "{html}");
    // Each file opens from the page, for the depositor (and curators), before release.
    let file_url = format!("/api/v1/deposits/{id}/files/images/img_0001.cbf");
    assert!(
        html.contains(&format!("<a href=\"{file_url}\">images/img_0001.cbf</a>")),
        "{html}"
    );
    let r = author.get(&file_url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.len(), 11);
    author.get(&format!("/deposits/{id}")).await;
    assert!(html.contains(r#"data-state="verified""#));

    // The author cannot approve their own deposit, even by forging the form.
    let r = author
        .post(&format!("/deposits/{id}/act"), &[("action", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.state(&id).await, "verified");

    // The curator sees it in the queue, asks for a change, the author sees why.
    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    let html = text(&curator.get("/curate").await);
    assert!(html.contains("Hen egg-white lysozyme"));
    // Who deposited it, what it holds, and how long it has waited.
    assert!(html.contains("<td>Curie, Marie</td>"), "{html}");
    assert!(
        html.contains(r#"<td class="num">1 file, 11 bytes</td>"#),
        "{html}"
    );
    assert!(html.contains("for 0 minutes"), "{html}");
    // The review page: who deposited it, each author's ORCID iD.
    let html = text(&curator.get(&format!("/deposits/{id}")).await);
    assert!(
        html.contains("<dt>Deposited by</dt><dd>Curie, Marie</dd>"),
        "{html}"
    );
    assert!(
        html.contains("Curie, Marie (ORCID 0000-0002-1825-0097)"),
        "{html}"
    );
    let r = curator
        .post(
            &format!("/deposits/{id}/act"),
            &[("action", "request-changes")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is needed"
    );
    assert_eq!(app.state(&id).await, "verified");
    curator
        .post(
            &format!("/deposits/{id}/act"),
            &[
                ("action", "request-changes"),
                ("reason", "Please add the detector."),
            ],
        )
        .await;
    let html = text(&author.get(&format!("/deposits/{id}")).await);
    assert!(html.contains("The curators asked for changes"));
    assert!(html.contains("Please add the detector."));
    author.get(&format!("/deposits/{id}/edit")).await;
    let r = author
        .post(
            &format!("/deposits/{id}/edit"),
            &[
                ("title", "Hen egg-white lysozyme"),
                ("author-0-name", "Curie, Marie"),
                ("author-0-orcid", "0000-0002-1825-0097"),
                ("facility", "Diamond"),
                ("beamline", "I04"),
                ("detector", "EIGER2 XE 16M"),
                ("pdb_ids", "1LYZ"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    author.get(&format!("/deposits/{id}")).await;
    author
        .post(&format!("/deposits/{id}/act"), &[("action", "submit")])
        .await;
    app.drain().await;

    // Approve, hold until a date, then release now.
    curator.get(&format!("/deposits/{id}")).await;
    for (action, extra) in [
        ("approve", vec![]),
        ("hold", vec![("hold_kind", "date"), ("until", "2030-01-01")]),
        ("release", vec![]),
    ] {
        let mut fields = vec![("action", action)];
        fields.extend(extra);
        let r = curator.post(&format!("/deposits/{id}/act"), &fields).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            curator.last
        );
        curator.get(&format!("/deposits/{id}")).await;
    }
    assert_eq!(app.state(&id).await, "released");
    let ds = app.dataset_of(&id).await;
    let r = app.public(&format!("/datasets/{ds}"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = text(&r);
    assert!(html.contains("Hen egg-white lysozyme") && html.contains("img_0001.cbf"));
    assert!(html.contains("<dt>Collected at</dt><dd>Diamond, beamline I04</dd>"));
    assert!(html.contains("<dt>Collection</dt><dd>EIGER2 XE 16M</dd>"));
    assert!(
        !html.contains("marie@example.org"),
        "the contact's address stays private"
    );
    // The style picker re-renders the citation on the page.
    let apa = text(&app.public(&format!("/datasets/{ds}?style=apa"), &[]).await);
    let cite = |h: &str| {
        let at = h.find(r#"<blockquote id="citation">"#).unwrap();
        h[at..at + h[at..].find("</blockquote>").unwrap()].to_owned()
    };
    assert_ne!(cite(&apa), cite(&html));
    assert!(cite(&apa).contains("Curie, M. (2026)"), "{}", cite(&apa));
    assert!(apa.contains(r#"href="?style=apa#cite" aria-current="true""#));
    // Withdrawing needs a reason; the page says so and nothing changes.
    let r = curator
        .post(&format!("/deposits/{id}/act"), &[("action", "withdraw")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(curator.last.contains("class=\"errors\""));
    assert_eq!(app.state(&id).await, "released");
}

#[tokio::test]
async fn search_finds_released_datasets_by_words_and_filters_and_nothing_else() {
    let app = TestApp::new().await;
    let with = |title: &str, facility: &str, beamline: &str, pdb: &str, author: &str| {
        let mut m = metadata();
        m["titles"] = json!([{ "title": title }]);
        m["creators"] = json!([{ "name": author, "nameType": "Personal" }]);
        json!({
            "metadata": m,
            "facility": {
                "facility": {"name": facility},
                "beamline": {"name": beamline},
                "pdb_ids": [pdb],
                "sample": {"organism": "Gallus gallus"}
            }
        })
    };
    let a = app
        .deposit_through(
            with(
                "Lysozyme at 100 K",
                "Diamond",
                "I04",
                "1LYZ",
                "Curie, Marie",
            ),
            &[("a", b"a")],
            "released",
        )
        .await;
    app.deposit_through(
        with(
            "Thaumatin crystals",
            "ESRF",
            "ID30A",
            "1THW",
            "Franklin, Rosalind",
        ),
        &[("b", b"b")],
        "released",
    )
    .await;
    // The same words, not released: never found.
    for state in ["draft", "verified", "on_hold", "scheduled"] {
        app.deposit_through(
            with(
                "Lysozyme at 100 K unreleased",
                "Diamond",
                "I04",
                "1LYZ",
                "Curie, Marie",
            ),
            &[("c", b"c")],
            state,
        )
        .await;
    }
    let found = |q: &str| {
        let q = q.to_owned();
        let app = &app;
        async move {
            let r = app.public(&format!("/api/v1/datasets?{q}"), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{q}");
            let v = r.json();
            v["datasets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("q=lysozyme").await, ["Lysozyme at 100 K"]);
    assert_eq!(
        found("q=lyso").await,
        ["Lysozyme at 100 K"],
        "the last word is a prefix"
    );
    assert_eq!(found("q=gallus+thaumatin").await, ["Thaumatin crystals"]);
    assert_eq!(
        found("q=%22NEAR(%27*").await,
        Vec::<String>::new(),
        "query syntax is only words"
    );
    assert_eq!(found("facility=ESRF").await, ["Thaumatin crystals"]);
    assert_eq!(found("beamline=I04&pdb=1lyz").await, ["Lysozyme at 100 K"]);
    assert_eq!(
        found("pdb=1LY").await,
        Vec::<String>::new(),
        "whole PDB ids only"
    );
    assert_eq!(found("author=franklin").await, ["Thaumatin crystals"]);
    assert_eq!(found("year=2026").await.len(), 2);
    assert_eq!(found("").await.len(), 2);
    let r = app.public("/api/v1/datasets?year=next", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.public("/api/v1/datasets?page=1000", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let facets = app.public("/api/v1/datasets", &[]).await.json()["facets"].clone();
    assert_eq!(
        facets["facility"],
        json!([{"value": "Diamond", "count": 1}, {"value": "ESRF", "count": 1}])
    );

    assert_eq!(
        found("author=rosalind+frank").await,
        ["Thaumatin crystals"],
        "name words, the last a prefix"
    );
    assert_eq!(found("author=marie+franklin").await, Vec::<String>::new());
    let all = app.public("/api/v1/datasets", &[]).await.json();
    assert_eq!(
        (all["total"].clone(), all["total_is_exact"].clone()),
        (json!(2), json!(true))
    );
    // Newest first, a page at a time by key: each dataset once, in order.
    {
        use arca::db::search::{Query, find};
        let mut conn = app.services.db.conn().await.unwrap();
        let backend = app.services.db.backend;
        let first = find(&mut conn, backend, &Query::default(), 1, 0)
            .await
            .unwrap();
        assert!(first.more);
        let after = Some((first.hits[0].1, first.hits[0].0.clone()));
        let second = find(
            &mut conn,
            backend,
            &Query {
                after,
                ..Query::default()
            },
            1,
            0,
        )
        .await
        .unwrap();
        assert!(!second.more);
        assert!(first.hits[0].1 >= second.hits[0].1);
        assert_ne!(first.hits[0].0, second.hits[0].0);
    }
    let r = app.public("/api/v1/datasets?after=yesterday", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The page for people shows the same, with its filters.
    let html = text(&app.public("/search?q=lysozyme", &[]).await);
    assert!(html.contains("1 dataset") && html.contains("Lysozyme at 100 K"));
    assert!(html.contains(r#"<option value="ESRF">ESRF (1)</option>"#));

    // A withdrawn dataset leaves the index; its new version would come back.
    app.act(
        &app.curator,
        &a,
        "withdraw",
        Some(json!({"reason": "mislabelled"})),
    )
    .await;
    assert_eq!(found("q=lysozyme").await, Vec::<String>::new());
    // Its facet counts went with it, in the same transaction.
    let facets = app.public("/api/v1/datasets", &[]).await.json()["facets"].clone();
    assert_eq!(facets["facility"], json!([{"value": "ESRF", "count": 1}]));
}

#[tokio::test]
async fn invitation_only_archives_take_new_accounts_by_invitation_once() {
    let app = TestApp::configured(|c| c.web.open_signup = false).await;
    add_curator_with_password(&app).await;
    let mut stranger = Browser::new(&app);
    let html = text(&stranger.get("/signup").await);
    assert!(html.contains("by invitation"));
    assert!(!html.contains("name=\"password\""));
    let r = stranger
        .post_raw(
            "/signup",
            &form_body(&[
                ("csrf", &csrf_of(&html).unwrap_or_default()),
                ("name", "X"),
                ("email", "x@example.org"),
                ("password", "a long password"),
                ("password_again", "a long password"),
            ]),
        )
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.services
            .sessions()
            .sign_in("x@example.org", "a long password")
            .await
            .is_err()
    );

    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    curator.get("/curate").await;
    let r = curator
        .post(
            "/curate/invite",
            &[("email", "Rosalind@Example.org"), ("role", "curator")],
        )
        .await;
    let html = text(&r);
    let at = html.find("/signup?invitation=").unwrap();
    let link: String = html[at..].split('<').next().unwrap().to_owned();

    let mut invited = Browser::new(&app);
    let html = text(&invited.get(&link).await);
    assert!(html.contains("rosalind@example.org"));
    let token = link.trim_start_matches("/signup?invitation=");
    // An account that cannot be made (too short a password) leaves the link usable.
    let r = invited
        .post(
            "/signup",
            &[
                ("invitation", token),
                ("name", "Franklin, Rosalind"),
                ("password", "short"),
                ("password_again", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&r).contains("at least 8 characters"));
    let r = invited
        .post(
            "/signup",
            &[
                ("invitation", token),
                ("name", "Franklin, Rosalind"),
                ("email", "someone-else@example.org"),
                ("password", "a long password"),
                ("password_again", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The invitation fixed the address and the role.
    let html = text(&invited.get("/curate").await);
    assert!(html.contains("Curation queue"));
    assert!(
        app.services
            .sessions()
            .sign_in("rosalind@example.org", "a long password")
            .await
            .is_ok()
    );
    // It works once.
    let mut again = Browser::new(&app);
    let html = text(&again.get(&link).await);
    assert!(html.contains("used or has expired"));
}

#[tokio::test]
async fn markup_in_titles_and_names_shows_as_text_on_every_page() {
    let app = TestApp::new().await;
    add_curator_with_password(&app).await;
    let mut author = Browser::new(&app);
    author.sign_up(HOSTILE_NAME, "marie@example.org").await;
    let fields = [
        ("title", HOSTILE_TITLE),
        ("author-0-name", HOSTILE_NAME),
        ("beamline", "<svg onload=alert(2)>"),
    ];
    let released = author.deposit(&fields).await;
    let held = author.deposit(&fields).await;
    for id in [&released, &held] {
        app.upload(&app.curator, id, "f.cbf", b"bytes").await;
        author.get(&format!("/deposits/{id}")).await;
        author
            .post(&format!("/deposits/{id}/act"), &[("action", "submit")])
            .await;
    }
    app.drain().await;
    for (id, then) in [(&released, "release"), (&held, "hold")] {
        app.act(&app.curator, id, "approve", None).await;
        let body = (then == "hold").then(|| json!({"until": "2030-01-01"}));
        app.act(&app.curator, id, then, body).await;
    }
    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    let ds = app.dataset_of(&released).await;
    let held_ds = app.dataset_of(&held).await;
    let mut pages = vec![
        ("my deposits", text(&author.get("/my").await)),
        (
            "manuscript kit",
            text(&author.get(&format!("/my/kit?d={released}")).await),
        ),
        (
            "deposit",
            text(&author.get(&format!("/deposits/{released}")).await),
        ),
        (
            "edit form",
            text(&author.get(&format!("/deposits/{held}/edit")).await),
        ),
        (
            "curation queue",
            text(&curator.get("/curate?state=all").await),
        ),
        (
            "curator's deposit",
            text(&curator.get(&format!("/deposits/{held}")).await),
        ),
        (
            "landing",
            text(&app.public(&format!("/datasets/{ds}"), &[]).await),
        ),
        (
            "held landing",
            text(&app.public(&format!("/datasets/{held_ds}"), &[]).await),
        ),
        ("search", text(&app.public("/search?q=lysozyme", &[]).await)),
        ("home", text(&app.public("/", &[]).await)),
    ];
    // The form coming back with an error shows what was typed, escaped too.
    author.get("/deposits/new").await;
    let mut bad = fields.to_vec();
    bad.push(("temperature", "<script>"));
    pages.push((
        "form with an error",
        text(&author.post("/deposits/new", &bad).await),
    ));
    for (name, html) in &pages {
        assert!(html.contains("Lysozyme"), "{name} shows the title: {html}");
        for raw in ["<script>alert", "<b>bold", "<img src=x", "<svg onload"] {
            assert!(!html.contains(raw), "{name} has raw markup {raw}");
        }
        assert!(
            html.contains("&#60;script&#62;alert") || html.contains("&lt;script&gt;alert"),
            "{name} shows the markup as text"
        );
    }
}

#[tokio::test]
async fn the_manuscript_kit_cites_several_deposits_and_their_software_in_the_chosen_style() {
    let app = TestApp::new().await;
    let mut author = Browser::new(&app);
    author.sign_up("Curie, Marie", "marie@example.org").await;
    let mut ids = Vec::new();
    for title in ["Lysozyme native", "Lysozyme iodide soak"] {
        let id = author
            .deposit(&[
                ("title", title),
                ("author-0-name", "Curie, Marie"),
                ("software-0-name", "XDS"),
                ("software-1-name", "HomeGrownScaler"),
            ])
            .await;
        author.get(&format!("/deposits/{id}")).await;
        author.post(&format!("/deposits/{id}/doi"), &[]).await;
        ids.push(id);
    }
    let dois: Vec<String> = {
        let mut out = Vec::new();
        for id in &ids {
            let r = app
                .json(
                    Method::GET,
                    &format!("/api/v1/deposits/{id}"),
                    &app.curator,
                    None,
                )
                .await;
            out.push(r.json()["doi"].as_str().unwrap().to_owned());
        }
        out
    };
    let html = text(
        &author
            .get(&format!("/my/kit?d={}&d={}&style=ieee", ids[0], ids[1]))
            .await,
    );
    let refs = &html[html
        .find(r#"<ol id="kit-references">"#)
        .expect("references")..];
    let refs = &refs[..refs.find("</ol>").unwrap()];
    assert_eq!(
        refs.matches("<li>").count(),
        3,
        "two datasets and XDS once: {refs}"
    );
    for d in &dois {
        assert!(
            refs.to_lowercase().contains(&d.to_lowercase()),
            "{d} in {refs}"
        );
        assert!(
            html.contains(&format!("https://doi.org/{d}")),
            "availability names {d}"
        );
    }
    assert!(refs.contains("XDS"));
    assert!(
        html.contains("HomeGrownScaler"),
        "unmatched software is named"
    );
    assert!(html.contains(r#"<option value="ieee" selected>"#));
    // The same list as one CSL-JSON file, and each dataset's BibTeX through the API.
    let at = html.find("/my/kit.json?").unwrap();
    let download = html[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let r = author.get(&download).await;
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.citationstyles.csl+json")
    );
    let items: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        items.as_array().unwrap().len(),
        3,
        "{items} from {download}"
    );
    assert!(items.to_string().contains("Kabsch"), "XDS's paper: {items}");
    let at = html.find("/citation?format=bibtex").unwrap();
    let start = html[..at].rfind('"').unwrap() + 1;
    let r = author
        .get(&html[start..at + "/citation?format=bibtex".len()])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(text(&r).starts_with("@misc{"), "{}", text(&r));
    // Someone else's deposit is not found, and nothing of it is shown.
    let other = app.create_deposit(&app.other_author).await;
    let html = text(&author.get(&format!("/my/kit?d={other}")).await);
    assert!(html.contains("class=\"errors\"") && !html.contains("kit-references"));
}

#[tokio::test]
async fn curators_schedule_from_the_deposit_page_and_release_a_batch_from_the_console() {
    let app = TestApp::new().await;
    add_curator_with_password(&app).await;
    let deposit = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("f.cbf", b"frames")],
            "approved",
        )
        .await;
    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    let html = text(&curator.get(&format!("/deposits/{deposit}")).await);
    assert!(html.contains("Schedule into a release"));
    let r = curator
        .post(
            &format!("/deposits/{deposit}/act"),
            &[("action", "schedule"), ("release", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", curator.last);
    assert_eq!(app.state(&deposit).await, "scheduled");
    let html = text(&curator.get("/curate/releases").await);
    assert!(html.contains("Hen egg-white lysozyme, 100 K"), "{html}");
    assert!(html.contains("pending"));
    // The coming batches read soonest first; one with nothing in it says so instead
    // of hiding its button.
    let coming = section(&html, "<h2>Coming</h2>", "<h2>Released at once</h2>");
    let times: Vec<&str> = coming
        .match_indices("<h3 id=\"batch-")
        .map(|(at, _)| {
            coming[at..]
                .split('>')
                .nth(1)
                .unwrap()
                .split(" UTC")
                .next()
                .unwrap()
        })
        .collect();
    assert!(times.len() >= 2, "{coming}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        coming.contains("Nothing is scheduled in this batch yet"),
        "{coming}"
    );
    assert!(coming.contains("data-confirm=\"Release the 1 dataset of this batch now"));
    // An author cannot see the console or run a batch.
    let mut author = Browser::new(&app);
    author.sign_up("Curie, Marie", "marie@example.org").await;
    assert_eq!(
        author.get("/curate/releases").await.status,
        StatusCode::FORBIDDEN
    );
    let at = html.find("/curate/releases/").unwrap();
    let run_path: String = html[at..].split('"').next().unwrap().to_owned();
    author.get("/my").await;
    let r = author.post(&run_path, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.state(&deposit).await, "scheduled");
    // Run now: the batch job releases it.
    let r = curator.post(&run_path, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    app.drain().await;
    assert_eq!(app.state(&deposit).await, "released");
    let html = text(&curator.get("/curate/releases").await);
    let past = section(&html, "<h2>Released batches</h2>", "</main>");
    assert!(past.contains("Hen egg-white lysozyme, 100 K"), "{html}");
    assert!(past.contains("released"));
    // A dataset released at once, outside any batch, has its place in the history too,
    // with who released it.
    let at_once = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("g.cbf", b"frames")],
            "approved",
        )
        .await;
    let r = curator
        .post(
            &format!("/deposits/{at_once}/act"),
            &[("action", "release")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", curator.last);
    let html = text(&curator.get("/curate/releases").await);
    let direct = section(
        &html,
        "<h2>Released at once</h2>",
        "<h2>Released batches</h2>",
    );
    assert!(direct.contains(&format!("/deposits/{at_once}")), "{direct}");
    assert!(
        !direct.contains(&format!("/deposits/{deposit}")),
        "{direct}"
    );
    assert!(direct.contains("Keeper, Curator"), "{direct}");
}

/// The part of a page between two markers.
fn section<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html
        .find(from)
        .unwrap_or_else(|| panic!("no {from} in {html}"));
    let end = html[start..].find(to).map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[tokio::test]
async fn a_session_ends_when_its_time_is_up_and_housekeeping_clears_it() {
    let app = TestApp::configured(|c| c.web.session_hours = 0).await;
    let mut b = Browser::new(&app);
    b.sign_up("Curie, Marie", "marie@example.org").await;
    let r = b.get("/my").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "an ended session signs nobody in"
    );
    assert_eq!(app.count("sessions").await, 1);
    app.services.housekeeping().run().await.unwrap();
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn curators_add_mirrors_and_watch_transfers_without_ever_seeing_a_secret() {
    let app = TestApp::configured(|c| {
        let creds = c.data_dir.join("partner.toml");
        c.mirrors.console_hosts = vec!["127.0.0.1:9".into()];
        c.mirrors.console_credentials = vec![
            format!("file:{}", creds.display()),
            format!("file:{}", c.data_dir.join("broken.toml").display()),
        ];
    })
    .await;
    add_curator_with_password(&app).await;
    let creds = app.dir.path().join("partner.toml");
    std::fs::write(
        &creds,
        "access_key_id = \"AKIDPARTNER\"\nsecret_access_key = \"s3cr3t-never-shown\"\n",
    )
    .unwrap();
    let creds = creds.to_str().unwrap().to_owned();
    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    curator.get("/curate/mirrors").await;
    let mirror = |name: &'static str| {
        vec![
            ("name", name),
            ("endpoint", "http://127.0.0.1:9"),
            ("bucket", "arca-copy"),
            ("credentials", "file"),
            ("credentials_file", creds.as_str()),
            ("policy", "released"),
        ]
    };
    // A bad name: refused with its reason, what was typed kept, nothing added.
    let r = curator
        .post("/curate/mirrors", &mirror("Partner Site"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(&r);
    assert!(html.contains("lower-case letters"), "{html}");
    assert!(html.contains(r#"value="http://127.0.0.1:9""#));
    assert!(app.services.mirrors().list().await.unwrap().is_empty());
    // The server's own secrets are not the curator's to hand out: only credentials and
    // endpoints the operator listed; a broken file is named, never quoted.
    let refused = |fields: Vec<(&'static str, String)>| {
        let mut f = mirror("elsewhere")
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect::<Vec<_>>();
        for (k, v) in fields {
            f.retain(|(key, _)| *key != k);
            f.push((k, v));
        }
        f
    };
    let broken = app.dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "access_key_id = \"AKIDLEAK\"\nthe-secret-line-9f3b",
    )
    .unwrap();
    for (fields, want) in [
        (
            vec![
                ("credentials", "env".to_owned()),
                ("key_env", "PATH".to_owned()),
                ("secret_env", "HOME".to_owned()),
            ],
            "console_credentials",
        ),
        (
            vec![("credentials_file", "/etc/shadow".to_owned())],
            "console_credentials",
        ),
        (
            vec![("endpoint", "http://attacker.example:9000".to_owned())],
            "console_hosts",
        ),
        (
            vec![("credentials_file", broken.to_str().unwrap().to_owned())],
            "is not TOML",
        ),
        (
            vec![
                ("readers", "public".to_owned()),
                ("public_url", "ftp://data.partner.example/?x=1".to_owned()),
            ],
            "public_url",
        ),
    ] {
        let form = refused(fields);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = curator.post("/curate/mirrors", &pairs).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{want}");
        let html = text(&r);
        assert!(html.contains(want), "{want}: {html}");
        assert!(
            !html.contains("AKIDLEAK") && !html.contains("the-secret-line"),
            "{html}"
        );
    }
    assert!(app.services.mirrors().list().await.unwrap().is_empty());
    let mut partner = mirror("partner");
    partner.push(("readers", "presigned"));
    let r = curator.post("/curate/mirrors", &partner).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", curator.last);
    // Readers reach its copies through addresses the archive signs.
    assert_eq!(
        app.services.mirrors().list().await.unwrap()[0].readers,
        arca::storage::mirror::Readers::Presigned
    );

    // Releasing queues a transfer, shown with its progress; the secret never is.
    let deposit = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("f.cbf", b"frames")],
            "released",
        )
        .await;
    let html = text(&curator.get("/curate/mirrors").await);
    assert!(html.contains("partner") && html.contains(&format!("file: {creds}")));
    assert!(html.contains("presigned URLs"), "{html}");
    assert!(html.contains(&format!("/deposits/{deposit}")), "{html}");
    assert!(html.contains("0 of 1 files"));
    assert!(!html.contains("s3cr3t-never-shown") && !html.contains("AKIDPARTNER"));
    let at = html.find("/curate/transfers/").unwrap();
    let retry: String = html[at..].split('"').next().unwrap().to_owned();
    let r = curator.post(&retry, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Authors see none of it.
    let mut author = Browser::new(&app);
    author.sign_up("Curie, Marie", "marie@example.org").await;
    assert_eq!(
        author.get("/curate/mirrors").await.status,
        StatusCode::FORBIDDEN
    );
    author.get("/my").await;
    let r = author.post("/curate/mirrors", &mirror("sneaky")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.services.mirrors().list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_a_mailed_link_that_works_once() {
    let dir = tempfile::tempdir().unwrap();
    let sink = crate::support::SmtpSink::start(dir.path()).await;
    let settings = sink.settings();
    let app = TestApp::configured(|c| c.mail = Some(settings)).await;
    app.services
        .users()
        .add(
            "marie@example.org",
            "Curie, Marie",
            Role::Author,
            Some("the old password"),
        )
        .await
        .unwrap();
    let mut elsewhere = Browser::new(&app);
    let r = elsewhere
        .sign_in("marie@example.org", "the old password")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // The same answer whether or not the address has an account.
    let mut b = Browser::new(&app);
    let mut answers = Vec::new();
    for email in ["marie@example.org", "nobody@example.org"] {
        b.get("/reset").await;
        let r = b.post("/reset", &[("email", email)]).await;
        assert_eq!(r.status, StatusCode::OK);
        answers.push(text(&r).replace(email, "ADDRESS"));
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains("a link to choose a new password is on its way"));
    app.drain().await;
    assert!(sink.to("nobody@example.org").is_empty());
    let mails = sink.to("marie@example.org");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["subject"], "Arca: reset your password");
    let body = mails[0]["text"].as_str().unwrap();
    let at = body.find("/reset/").expect("a reset link");
    let path: String = body[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(mails[0]["html"].as_str().unwrap().contains(&path));

    // The link opens a form; a short password is refused and the link stays usable.
    let r = b.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    let r = b.post(&path, &[("password", "short")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&r).contains("at least 8 characters"));
    let r = b.post(&path, &[("password", "a new long password")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), Some("/my"));
    assert_eq!(b.get("/my").await.status, StatusCode::OK, "signed in");

    // Used up; every other session ended; only the new password works.
    let mut again = Browser::new(&app);
    assert_eq!(again.get(&path).await.status, StatusCode::GONE);
    assert_eq!(elsewhere.get("/my").await.status, StatusCode::SEE_OTHER);
    let r = again.sign_in("marie@example.org", "the old password").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = again
        .sign_in("marie@example.org", "a new long password")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn without_mail_a_reset_says_whom_to_ask() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    b.get("/reset").await;
    let r = b.post("/reset", &[("email", "marie@example.org")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(text(&r).contains("ask its operators"), "{}", text(&r));
    assert_eq!(app.count("mailed_links").await, 0);
}

#[tokio::test]
async fn notifications_are_counted_in_the_header_and_read_on_their_page() {
    let app = TestApp::new().await;
    add_curator_with_password(&app).await;
    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    let page = text(&curator.get("/my").await);
    assert!(
        page.contains("id=\"notifications-link\">Notifications</a>"),
        "{page}"
    );

    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "frame.cbf", b"frame").await;
    app.act(&app.author, &id, "submit", None).await;
    let page = text(&curator.get("/my").await);
    assert!(page.contains("aria-label=\"1 unread\""), "{page}");

    let page = text(&curator.get("/notifications").await);
    assert!(
        page.contains(
            "<strong>A deposit waits for review</strong> <span class=\"badge\">New</span>"
        ),
        "{page}"
    );
    assert!(page.contains("class=\"unread\""));
    assert!(page.contains(&format!("href=\"/deposits/{id}\"")));
    assert!(page.contains("This archive sends no mail"));
    let at = page.find("name=\"up_to\" value=\"").unwrap() + "name=\"up_to\" value=\"".len();
    let up_to: String = page[at..].chars().take_while(|c| *c != '"').collect();
    let r = curator
        .post("/notifications/read", &[("up_to", &up_to)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = text(&curator.get("/notifications").await);
    assert!(page.contains("Nothing unread."), "{page}");
    assert!(!page.contains("class=\"unread\""));
    assert!(!page.contains("unread\"</span>") && !page.contains("aria-label=\"1 unread\""));
    // Anonymous visitors are sent to sign in.
    let r = Browser::new(&app).get("/notifications").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_person_sees_their_tokens_and_revokes_them_and_only_theirs() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    b.sign_up("Curie, Marie", "marie@example.org").await;
    b.get("/my").await;
    let page = text(&b.post("/my/token", &[]).await);
    let at = page.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token: String = page[at..].chars().take_while(|c| *c != '<').collect();
    let mine = |t: String| {
        let app = &app;
        async move {
            app.json(Method::GET, "/api/v1/deposits", &t, None)
                .await
                .status
        }
    };
    assert_eq!(mine(token.clone()).await, StatusCode::OK);
    let page = text(&b.get("/my").await);
    let at = page.find("action=\"/my/tokens/").unwrap() + "action=\"/my/tokens/".len();
    let id: String = page[at..].chars().take_while(|c| *c != '/').collect();
    assert!(page.contains("<td>web</td>"), "{page}");

    // Someone else's token is not theirs to revoke.
    let author = app
        .services
        .users()
        .tokens("author@example.org")
        .await
        .unwrap();
    let r = b
        .post(&format!("/my/tokens/{}/revoke", author[0].id), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(mine(app.author.clone()).await, StatusCode::OK);

    b.get("/my").await;
    let r = b.post(&format!("/my/tokens/{id}/revoke"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(mine(token).await, StatusCode::UNAUTHORIZED);
    assert!(!text(&b.get("/my").await).contains(&format!("/my/tokens/{id}/revoke")));
}

#[tokio::test]
async fn a_curator_sees_what_waits_on_arrival_and_atop_the_queue() {
    let app = TestApp::new().await;
    add_curator_with_password(&app).await;
    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    let page = text(&curator.get("/my").await);
    assert!(page.contains("Nothing waits for review."), "{page}");

    for _ in 0..2 {
        let id = app.create_deposit(&app.author).await;
        app.upload(&app.author, &id, "frame.cbf", b"frame").await;
        app.act(&app.author, &id, "submit", None).await;
    }
    app.drain().await;
    let page = text(&curator.get("/my").await);
    assert!(page.contains("2 deposits wait for review"), "{page}");
    let queue = text(&curator.get("/curate").await);
    let at = queue.find("id=\"waiting-verified\">").unwrap();
    assert!(
        queue[at..].starts_with("id=\"waiting-verified\">Verified, to review: 2<"),
        "{}",
        &queue[at..at + 80]
    );
    assert!(queue.contains("(the oldest since "), "{queue}");
    // Authors see no such line.
    let mut author = Browser::new(&app);
    author.sign_up("Curie, Marie", "marie@example.org").await;
    assert!(!text(&author.get("/my").await).contains("id=\"to-review\""));
}

#[tokio::test]
async fn the_history_says_who_acted_and_when_in_minutes() {
    let app = TestApp::new().await;
    add_curator_with_password(&app).await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "frame.cbf", b"frame").await;
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    let mut curator = Browser::new(&app);
    curator
        .sign_in("keeper@example.org", "curator password")
        .await;
    let page = text(&curator.get(&format!("/deposits/{id}")).await);
    let at = page.find("<ol class=\"history\">").expect("a history");
    let history = &page[at..page[at..].find("</ol>").unwrap() + at];
    assert!(
        history.contains(" UTC</time>, author@example.org: submit: draft → submitted"),
        "{history}"
    );
    assert!(
        history.contains(", the archive: verification passed"),
        "{history}"
    );
    // Minutes, as people read a time: "2026-11-30 22:28 UTC".
    let t = history.find("<time>").unwrap() + "<time>".len();
    let when = &history[t..t + 20];
    assert!(
        when.as_bytes()[10] == b' ' && when.ends_with(" UTC") && !when[..16].contains('T'),
        "{when}"
    );
}

#[tokio::test]
async fn the_form_offers_the_operators_facility_and_beamlines_and_records_their_identifiers() {
    let app = TestApp::configured(|c| {
        c.facility = arca::config::FacilitySettings {
            name: "Diamond Light Source".into(),
            ror: Some("https://ror.org/05etxs293".into()),
            beamlines: vec![
                arca::config::BeamlineSetting {
                    name: "I04".into(),
                    pid: Some("10.5442/ni000004".into()),
                },
                arca::config::BeamlineSetting {
                    name: "I24".into(),
                    pid: None,
                },
            ],
        }
    })
    .await;
    let mut author = Browser::new(&app);
    author.sign_up("Curie, Marie", "marie@example.org").await;
    let form = text(&author.get("/deposits/new").await);
    assert!(form.contains(r#"list="beamline-choices""#), "{form}");
    assert!(form.contains(
        r#"<datalist id="beamline-choices"><option value="I04"><option value="I24"></datalist>"#
    ));
    assert!(form.contains(r#"<option value="Diamond Light Source">"#));
    assert!(form.contains("Choose from the list, or type another."));
    let id = author
        .deposit(&[
            ("title", "Lysozyme"),
            ("author-0-name", "Curie, Marie"),
            ("facility", "Diamond Light Source"),
            ("beamline", "i04"),
        ])
        .await;
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}"),
            &app.curator,
            None,
        )
        .await;
    let f = &r.json()["facility"];
    assert_eq!(f["facility"]["ror"], "https://ror.org/05etxs293", "{f}");
    assert_eq!(
        f["beamline"],
        json!({"name": "I04", "identifier": "10.5442/ni000004"})
    );
    // A beamline typed outside the list is accepted as typed, with no identifier.
    let edited = author
        .post(
            &format!("/deposits/{id}/edit"),
            &[
                ("title", "Lysozyme"),
                ("author-0-name", "Curie, Marie"),
                ("beamline", "B21 (borrowed)"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", text(&edited));
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{id}"),
            &app.curator,
            None,
        )
        .await;
    assert_eq!(
        r.json()["facility"]["beamline"],
        json!({"name": "B21 (borrowed)"})
    );
    // Through the API alike: the service records them, whoever calls it.
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            &app.author,
            Some(json!({"metadata": metadata(), "facility": {"beamline": {"name": "I04"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert_eq!(
        r.json()["facility"]["beamline"]["identifier"],
        "10.5442/ni000004"
    );
}
