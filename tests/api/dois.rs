//! DOIs: reservation (local provider), and the DOI following its dataset at DataCite
//! through the job queue, against Arca's own DataCite sandbox on a real socket, with
//! and without injected faults.

use crate::common::TestApp;
use arca::config::{DataciteSettings, DoiProvider};
use arca::datacite::sandbox::{Faults, Sandbox};
use arca::model::doi::{Doi, SuffixScheme};
use arca::storage::Secret;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) async fn start_sandbox() -> (Sandbox, String) {
    let sandbox = Sandbox::new("ARCA.TEST", "sandbox-password");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = sandbox.clone().router();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sandbox, url)
}

/// How the tests reach their sandbox.
fn sandbox_settings(url: &str, password: &str, timeout_secs: u64) -> DataciteSettings {
    DataciteSettings {
        url: url.to_owned(),
        repository_id: "ARCA.TEST".into(),
        password: Secret(password.into()),
        timeout_secs,
    }
}

async fn datacite_app(url: &str, timeout_secs: u64) -> TestApp {
    datacite_app_with(url, timeout_secs, |_| {}).await
}

/// An archive registering DOIs at the sandbox, with fast retries; `more` changes the rest.
pub(crate) async fn datacite_app_with(
    url: &str,
    timeout_secs: u64,
    more: impl FnOnce(&mut arca::config::Config),
) -> TestApp {
    let settings = sandbox_settings(url, "sandbox-password", timeout_secs);
    TestApp::configured(move |c| {
        c.doi.provider = DoiProvider::Datacite;
        c.doi.prefix = "10.80001".into();
        c.doi.public_url = "https://arca.example.org".into();
        c.doi.datacite = Some(settings);
        c.jobs.retry_base_ms = 5;
        c.jobs.retry_max_ms = 200;
        more(c);
    })
    .await
}

/// Run jobs, including retries that come due, until the queue is empty.
async fn settle(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        arca::worker::run_until_idle(&app.services).await.unwrap();
        let mut conn = app.services.db.conn().await.unwrap();
        let (pending, _) = arca::db::jobs::counts(&mut conn).await.unwrap();
        if pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs did not settle"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_reserved_doi_is_stable_checkable_and_marked_local() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/doi"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    let doi = Doi::parse(v["doi"].as_str().unwrap()).unwrap();
    assert_eq!(doi.prefix(), "10.5072");
    assert!(SuffixScheme::default().is_valid(doi.suffix()), "{doi}");
    assert_eq!(v["doi_status"]["provider"], "local");
    assert!(
        v["doi_status"]["note"]
            .as_str()
            .unwrap()
            .contains("not registered")
    );
    // Asking again gives the same DOI; submitting keeps it.
    let again = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/doi"),
            &app.author,
            None,
        )
        .await;
    assert_eq!(again.json()["doi"], v["doi"]);
    app.upload(&app.author, &id, "a.cbf", b"x").await;
    app.act(&app.author, &id, "submit", None).await;
    assert_eq!(app.deposit_json(&id).await["doi"], v["doi"]);
    // Nobody else can reserve one for it; no jobs are queued for a local DOI.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{id}/doi"),
            &app.other_author,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.drain().await;
    assert_eq!(
        app.count("jobs WHERE kind <> 'extract'").await,
        1,
        "only the verification job (and reading the file's header)"
    );
}

#[tokio::test]
async fn submitting_reserves_a_doi_and_dois_are_never_shared() {
    let app = TestApp::new().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let id = app.create_deposit(&app.author).await;
        app.upload(&app.author, &id, "a", b"1").await;
        let r = app.act(&app.author, &id, "submit", None).await;
        let doi = r.json()["doi"].as_str().unwrap().to_owned();
        assert!(seen.insert(doi), "a DOI was handed out twice");
    }
    assert_eq!(app.count("dois").await, 20);
}

#[tokio::test]
async fn the_doi_follows_its_dataset_at_datacite() {
    let (sandbox, url) = start_sandbox().await;
    let app = datacite_app(&url, 5).await;
    let id = app.create_deposit(&app.author).await;
    let doi = app.reserve_doi(&app.author, &id).await;
    settle(&app).await;
    let remote = sandbox.doi(&doi).expect("the draft DOI exists at DataCite");
    assert_eq!(remote["state"], "draft");
    assert_eq!(
        remote["titles"][0]["title"],
        "Hen egg-white lysozyme, 100 K"
    );
    let dataset_id = app.deposit_json(&id).await["dataset_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        remote["url"],
        format!("https://arca.example.org/datasets/{dataset_id}")
    );

    app.upload(&app.author, &id, "a.cbf", b"frames").await;
    app.act(&app.author, &id, "submit", None).await;
    settle(&app).await;
    app.act(&app.curator, &id, "approve", None).await;
    for (action, body, want) in [
        ("hold", Some(json!({"until": "2027-01-31"})), "registered"),
        ("release", None, "findable"),
        (
            "withdraw",
            Some(json!({"reason": "wrong crystal"})),
            "registered",
        ),
    ] {
        let r = app.act(&app.curator, &id, action, body).await;
        assert_eq!(r.status, StatusCode::OK, "{action}");
        settle(&app).await;
        assert_eq!(sandbox.doi(&doi).unwrap()["state"], want, "after {action}");
        let status = &app.deposit_json(&id).await["doi_status"];
        assert_eq!(status["wanted_state"], want);
        assert_eq!(status["datacite_state"], want);
        assert_eq!(status["note"], "in step with DataCite");
    }
    assert_eq!(sandbox.creations()[&doi], 1);
}

#[tokio::test]
async fn dois_converge_while_datacite_fails_often_and_answers_slowly() {
    let (sandbox, url) = start_sandbox().await;
    // A quarter of all calls fail. Timeouts longer than the client waits (1 s) look like
    // failures even when the change went through, as do half the injected errors. (A
    // sync makes up to four calls, so at this rate most attempts fail at least once; at
    // much higher rates 40 failed attempts in a row stop being rare, and the job would
    // rightly give up.)
    sandbox.set_faults(Faults {
        error_rate: 0.25,
        latency_ms: 15,
        timeout_rate: 0.02,
        timeout_ms: 1500,
    });
    let app = datacite_app(&url, 1).await;
    let mut wanted = Vec::new();
    for i in 0..12 {
        let id = app.create_deposit(&app.author).await;
        app.upload(
            &app.author,
            &id,
            "frames.h5",
            format!("data {i}").as_bytes(),
        )
        .await;
        app.act(&app.author, &id, "submit", None).await;
        wanted.push((id, i));
    }
    settle(&app).await;
    let mut expect = Vec::new();
    for (id, i) in &wanted {
        // Different paths through the life of a dataset.
        let steps: &[(&str, Option<Value>)] = match i % 4 {
            0 => &[],
            1 => &[
                ("approve", None),
                ("hold", Some(json!({"until": "2027-05-01"}))),
            ],
            2 => &[("approve", None), ("release", None)],
            _ => &[
                ("approve", None),
                ("hold", Some(json!({"until": "2027-05-01"}))),
                ("release", None),
                ("withdraw", Some(json!({"reason": "superseded"}))),
            ],
        };
        for (action, body) in steps {
            let r = app.act(&app.curator, id, action, body.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{action}");
        }
        let state = ["draft", "registered", "findable", "registered"][i % 4];
        expect.push((
            app.deposit_json(id).await["doi"]
                .as_str()
                .unwrap()
                .to_owned(),
            state,
        ));
    }
    settle(&app).await;
    sandbox.set_faults(Faults::default());
    let injected = sandbox.injected_errors();
    assert!(
        injected >= 10,
        "only {injected} faults were injected: the test proved little"
    );
    let creations = sandbox.creations();
    for (doi, state) in &expect {
        let remote = sandbox.doi(doi).unwrap_or_else(|| panic!("{doi} was lost"));
        assert_eq!(remote["state"], *state, "{doi}");
        assert_eq!(creations[doi], 1, "{doi} was created more than once");
    }
    assert_eq!(creations.len(), expect.len());
    let mut conn = app.services.db.conn().await.unwrap();
    assert!(arca::db::jobs::failed(&mut conn).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_datacite_refusal_reaches_the_curator_in_words() {
    let (sandbox, url) = start_sandbox().await;
    // A landing URL DataCite will not accept for a registered DOI.
    let app = datacite_app_with(&url, 5, |c| {
        c.doi.public_url = "ftp://arca.example.org".into()
    })
    .await;
    app.expect_failed_jobs();
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "a", b"1").await;
    app.act(&app.author, &id, "submit", None).await;
    settle(&app).await;
    app.act(&app.curator, &id, "approve", None).await;
    app.act(
        &app.curator,
        &id,
        "hold",
        Some(json!({"until": "2027-01-01"})),
    )
    .await;
    arca::worker::run_until_idle(&app.services).await.unwrap();
    let status = app.deposit_json(&id).await["doi_status"].clone();
    assert_eq!(status["datacite_state"], "draft");
    let err = status["last_error"].as_str().unwrap();
    assert!(err.contains("url: Can't be blank"), "{err}");
    assert_eq!(status["note"], "waiting for DataCite");
    let doi = status["doi"].as_str().unwrap();
    assert_eq!(sandbox.doi(doi).unwrap()["state"], "draft");
}

#[tokio::test]
async fn wrong_credentials_are_reported_not_retried_forever() {
    let (_sandbox, url) = start_sandbox().await;
    let app = datacite_app_with(&url, 5, |c| {
        c.doi.datacite = Some(sandbox_settings(&url, "wrong", 5))
    })
    .await;
    app.expect_failed_jobs();
    let id = app.create_deposit(&app.author).await;
    app.reserve_doi(&app.author, &id).await;
    arca::worker::run_until_idle(&app.services).await.unwrap();
    let mut conn = app.services.db.conn().await.unwrap();
    let failed = arca::db::jobs::failed(&mut conn).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("credentials")
    );
}

#[tokio::test]
async fn a_doi_negotiates_its_datacite_xml_once_it_resolves() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "a.cbf", b"frames").await;
    let r = app.act(&app.author, &id, "submit", None).await;
    let doi = r.json()["doi"].as_str().unwrap().to_owned();
    let dataset_id = r.json()["dataset_id"].as_str().unwrap().to_owned();
    let get = |accept: &'static str| {
        let path = format!("/doi/{}", doi.to_uppercase());
        let app = &app;
        async move {
            app.call(
                Method::GET,
                &path,
                None,
                &[("accept", accept)],
                axum::body::Body::empty(),
            )
            .await
        }
    };
    // A draft DOI resolves nowhere, so it does not resolve here either.
    assert_eq!(
        get("application/vnd.datacite.datacite+xml").await.status,
        StatusCode::NOT_FOUND
    );
    app.drain().await;
    app.act(&app.curator, &id, "approve", None).await;
    app.act(
        &app.curator,
        &id,
        "hold",
        Some(json!({"until": "2027-01-01"})),
    )
    .await;

    let r = get("application/vnd.datacite.datacite+xml").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("vary"), Some("Accept"));
    let record =
        arca::metadata::datacite::xml::from_xml(std::str::from_utf8(&r.body).unwrap()).unwrap();
    assert_eq!(record.doi, Some(doi.to_uppercase()));
    let r = get("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        Some(format!("/datasets/{dataset_id}").as_str())
    );
    let r = get("text/html;q=0.1, application/vnd.datacite.datacite+xml").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get("image/png").await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("application/vnd.datacite.datacite+xml")
    );
    let r = app
        .call(
            Method::GET,
            "/doi/10.5072/arca.nothing",
            None,
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_taken_doi_is_refused_and_the_transaction_goes_on() {
    use arca::db::dois::{DoiRow, insert_unless_taken};
    let app = TestApp::new().await;
    let a = app.create_deposit(&app.author).await;
    let b = app.create_deposit(&app.author).await;
    let row = |doi: &str, version: &str| DoiRow {
        doi: doi.into(),
        version_id: version.into(),
        provider: arca::model::DoiProvider::Local,
        wanted_state: arca::model::doi::DoiState::Draft,
        remote_state: None,
        synced_at: None,
        last_error: None,
    };
    let mut tx = app.services.db.begin_write().await.unwrap();
    assert!(
        insert_unless_taken(&mut tx, &row("10.5072/arca.taken", &a), 1, true)
            .await
            .unwrap()
    );
    assert!(
        !insert_unless_taken(&mut tx, &row("10.5072/arca.taken", &b), 2, true)
            .await
            .unwrap()
    );
    // The same transaction still works after the refusal (PostgreSQL would otherwise
    // reject every further statement).
    assert!(
        insert_unless_taken(&mut tx, &row("10.5072/arca.other", &b), 3, true)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let doi_of = |id: String| {
        let app = &app;
        async move {
            app.deposit_json(&id).await["doi"]
                .as_str()
                .map(str::to_owned)
        }
    };
    assert_eq!(doi_of(a).await.as_deref(), Some("10.5072/arca.taken"));
    assert_eq!(doi_of(b).await.as_deref(), Some("10.5072/arca.other"));
}

#[tokio::test]
async fn the_sandbox_checks_metadata_like_datacite() {
    let (sandbox, url) = start_sandbox().await;
    let client =
        arca::datacite::DataciteClient::new(&sandbox_settings(&url, "sandbox-password", 5))
            .unwrap();
    let doi = "10.80001/arca.sandboxtest";
    client.create_draft(doi, &json!({})).await.unwrap();
    // Not in DataCite's closed list: refused, and nothing changes.
    let e = client
        .update(
            doi,
            &json!({"types": {"resourceTypeGeneral": "Spreadsheet"}}),
            None,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Spreadsheet"), "{e}");
    // Registration needs a URL and the required properties.
    let e = client
        .update(doi, &json!({}), Some("register"))
        .await
        .unwrap_err();
    let msg = e.to_string();
    for field in [
        "url",
        "titles",
        "creators",
        "publisher",
        "publicationYear",
        "types",
    ] {
        assert!(msg.contains(field), "{field} missing from: {msg}");
    }
    assert_eq!(sandbox.doi(doi).unwrap()["state"], "draft");
    // An event that does not apply is ignored, not refused: only a read-back tells.
    let r = client.update(doi, &json!({}), Some("hide")).await.unwrap();
    assert_eq!(r.state, "draft");
    // Only drafts can be deleted.
    client.delete_draft(doi).await.unwrap();
    assert!(client.get(doi).await.unwrap().is_none());
}

#[tokio::test]
async fn a_doi_negotiates_every_citation_format() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    // Citable before release, for the manuscript: the depositor's own route.
    let doi = app.reserve_doi(&app.author, &id).await;
    let r = app
        .call(
            Method::GET,
            &format!("/api/v1/deposits/{id}/citation?format=bibtex"),
            Some(&app.author),
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        std::str::from_utf8(&r.body)
            .unwrap()
            .contains(&format!("doi = {{{doi}}}"))
    );
    let r = app
        .call(
            Method::GET,
            &format!("/api/v1/deposits/{id}/citation?format=ris"),
            Some(&app.other_author),
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    app.upload(&app.author, &id, "a.cbf", b"frames").await;
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    app.act(&app.curator, &id, "approve", None).await;
    app.act(
        &app.curator,
        &id,
        "hold",
        Some(json!({"until": "2027-01-01"})),
    )
    .await;
    let get = |accept: &'static str, query: &'static str| {
        let path = format!("/doi/{doi}{query}");
        let app = &app;
        async move {
            app.call(
                Method::GET,
                &path,
                None,
                &[("accept", accept)],
                axum::body::Body::empty(),
            )
            .await
        }
    };
    let body = |r: &crate::common::Resp| String::from_utf8(r.body.to_vec()).unwrap();
    let r = get("application/x-bibtex", "").await;
    assert_eq!(
        r.header("content-type"),
        Some("application/x-bibtex; charset=utf-8")
    );
    assert!(body(&r).starts_with("@misc{Curie2026_"), "{}", body(&r));
    let r = get("application/x-research-info-systems", "").await;
    assert!(
        body(&r).starts_with("TY  - DATA\r\nAU  - Curie, Marie\r\n"),
        "{}",
        body(&r)
    );
    let r = get("application/vnd.citationstyles.csl+json", "").await;
    let csl: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(csl[0]["type"], "dataset");
    assert_eq!(csl[0]["DOI"], doi.as_str());
    assert_eq!(csl[0]["author"][0]["family"], "Curie");
    // Styles by media-type parameter, by query, and the default (APA).
    let r = get("text/x-bibliography; style=ieee", "").await;
    assert!(body(&r).starts_with("[1] M. Curie,"), "{}", body(&r));
    let r = get("text/x-bibliography", "").await;
    assert!(body(&r).starts_with("Curie, M. (2026)."), "{}", body(&r));
    let r = get("*/*", "?format=text&style=nature").await;
    assert!(body(&r).starts_with("1. Curie, M."), "{}", body(&r));
    let r = get("text/x-bibliography; style=comic-sans", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["detail"].as_str().unwrap().contains("apa"));
    let r = get("text/html", "?format=biblatex").await;
    assert!(body(&r).starts_with("@dataset{"), "{}", body(&r));
    let r = get("text/html", "?format=datacite").await;
    assert!(
        body(&r).starts_with("Curie, Marie (2026): Hen egg-white lysozyme, 100 K."),
        "{}",
        body(&r)
    );
    let r = get("text/html", "?format=pdf").await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    // schema.org, as search engines and DOI resolvers ask for it.
    let r = get("application/ld+json", "").await;
    assert_eq!(r.header("content-type"), Some("application/ld+json"));
    let ld: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "Dataset");
    assert_eq!(ld["@id"], format!("https://doi.org/{doi}"));
    assert_eq!(ld["creator"][0]["familyName"], "Curie");
    assert_eq!(ld["publisher"]["name"], "Arca test facility");
}

/// The sandbox takes metadata as DataCite does: JSON attributes, or DataCite XML in the
/// base64 `xml` attribute (read into the attributes and served back as `xml`); it
/// refuses what the schema refuses. Fed the 17 official 4.7 examples both ways.
#[tokio::test]
async fn the_sandbox_takes_the_official_examples_as_xml_and_as_json() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (_sandbox, url) = start_sandbox().await;
    let client = reqwest::Client::new();
    let post = |attrs: Value| {
        let client = client.clone();
        let url = url.clone();
        async move {
            client
                .post(format!("{url}/dois"))
                .basic_auth("ARCA.TEST", Some("sandbox-password"))
                .json(&json!({"data": {"type": "dois", "attributes": attrs}}))
                .send()
                .await
                .unwrap()
        }
    };
    let dir = crate::support::schema_dir().join("example");
    let mut examples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 17);
    for (i, path) in examples.iter().enumerate() {
        let xml = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // As XML, registered at once (the examples carry everything DataCite needs).
        let r = post(json!({
            "doi": format!("10.5072/xml-{i}"),
            "event": "publish",
            "url": "https://example.org/landing",
            "xml": b64(&xml),
        }))
        .await;
        assert_eq!(r.status(), 201, "{name}: {}", r.text().await.unwrap());
        let body: Value = r.json().await.unwrap();
        let attrs = &body["data"]["attributes"];
        assert_eq!(attrs["state"], "findable", "{name}");
        assert!(
            !attrs["titles"][0]["title"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{name}"
        );
        let back = base64::engine::general_purpose::STANDARD
            .decode(attrs["xml"].as_str().unwrap())
            .unwrap();
        assert!(
            String::from_utf8(back).unwrap().contains("kernel-4"),
            "{name}"
        );
        // The same record as JSON attributes.
        let mut json_attrs = attrs.clone();
        let o = json_attrs.as_object_mut().unwrap();
        for k in ["xml", "state", "doi"] {
            o.remove(k);
        }
        o.insert("doi".into(), json!(format!("10.5072/json-{i}")));
        o.insert("event".into(), json!("publish"));
        let r = post(json_attrs).await;
        assert_eq!(
            r.status(),
            201,
            "{name} as JSON: {}",
            r.text().await.unwrap()
        );
    }
    // Refused, as DataCite refuses them: not base64, not DataCite XML, a value outside
    // the schema's lists.
    let full = std::fs::read_to_string(dir.join("datacite-example-full-v4.xml")).unwrap();
    for (bad, why) in [
        ("%%% not base64 %%%".to_owned(), "base64"),
        (b64("<html><body>hello</body></html>"), "schema"),
        (
            b64(&full.replacen(
                "resourceTypeGeneral=\"",
                "resourceTypeGeneral=\"Spreadsheet",
                1,
            )),
            "schema",
        ),
    ] {
        let r = post(json!({"doi": "10.5072/bad", "xml": bad})).await;
        assert_eq!(r.status(), 422);
        let text = r.text().await.unwrap();
        assert!(text.contains(why) && text.contains("xml"), "{text}");
    }
}
