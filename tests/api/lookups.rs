//! Suggestions from ORCID, ROR and the Funder Registry for the deposit form, against a
//! stand-in that answers as those registries do: what is suggested, what is asked,
//! caching, limits, and a registry that is down, slow or strange (no suggestions, a
//! reason, and the form still takes typed values, identifiers included).

use crate::common::*;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A registry's name and the query parameters it was given.
type Question = (String, HashMap<String, String>);

/// The queries each registry was asked, in order.
#[derive(Clone, Default)]
struct Asked(Arc<Mutex<Vec<Question>>>);

impl Asked {
    fn of(&self, registry: &str) -> Vec<HashMap<String, String>> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter(|(r, _)| r == registry)
            .map(|(_, q)| q.clone())
            .collect()
    }
}

async fn orcid(State(a): State<Asked>, Query(q): Query<HashMap<String, String>>) -> String {
    a.0.lock().unwrap().push(("orcid".into(), q));
    json!({
        "expanded-result": [{
            "orcid-id": "0000-0002-1825-0097", "given-names": "Josiah", "family-names": "Carberry",
            "credit-name": null, "other-name": [], "email": [],
            "institution-name": ["Brown University"]
        }],
        "num-found": 1
    })
    .to_string()
}

async fn ror(State(a): State<Asked>, Query(q): Query<HashMap<String, String>>) -> String {
    a.0.lock().unwrap().push(("ror".into(), q));
    json!({"number_of_results": 1, "items": [{
        "id": "https://ror.org/02550n020", "status": "active",
        "names": [{"value": "ESRF", "types": ["acronym"]},
                  {"value": "European Synchrotron Radiation Facility", "types": ["ror_display", "label"]}],
        "locations": [{"geonames_details": {"name": "Grenoble", "country_name": "France"}}]
    }]})
    .to_string()
}

async fn funders(State(a): State<Asked>, Query(q): Query<HashMap<String, String>>) -> String {
    a.0.lock().unwrap().push(("funders".into(), q));
    json!({"status": "ok", "message-type": "funder-list", "message": {"total-results": 1, "items": [{
        "id": "100010269", "location": "United Kingdom", "name": "Wellcome Trust",
        "alt-names": ["Wellcome"], "uri": "http://dx.doi.org/10.13039/100010269"
    }]}})
    .to_string()
}

async fn stand_in() -> (Asked, String) {
    let asked = Asked::default();
    let app = Router::new()
        .route("/orcid/expanded-search/", get(orcid))
        .route("/ror/organizations", get(ror))
        .route("/crossref/funders", get(funders))
        .route(
            "/broken/funders",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "down for maintenance") }),
        )
        .route(
            "/huge/organizations",
            get(|| async { format!("{{\"items\": [\"{}\"]}}", "x".repeat(2 << 20)) }),
        )
        .route(
            "/slow/expanded-search/",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                "{}"
            }),
        )
        .with_state(asked.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (asked, url)
}

async fn app_asking(url: &str) -> TestApp {
    let url = url.to_owned();
    TestApp::configured(move |c| {
        c.lookups.orcid_url = format!("{url}/orcid");
        c.lookups.ror_url = format!("{url}/ror");
        c.lookups.crossref_url = format!("{url}/crossref");
        c.lookups.contact = Some("archive@facility.example".into());
    })
    .await
}

async fn look(app: &TestApp, token: &str, registry: &str, q: &str) -> (StatusCode, Value) {
    let path = format!(
        "/api/v1/lookups/{registry}?q={}",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    let r = app.json(Method::GET, &path, token, None).await;
    (r.status, r.json())
}

#[tokio::test]
async fn people_organisations_and_funders_are_suggested_with_their_identifiers() {
    let (asked, url) = stand_in().await;
    let app = app_asking(&url).await;

    let (status, body) = look(&app, &app.author, "orcid", "Carberry, Josiah").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["suggestions"],
        json!([{"label": "Carberry, Josiah", "id": "0000-0002-1825-0097", "detail": "Brown University"}])
    );
    assert!(body.get("unavailable").is_none());
    // ORCID is asked for every word of the name, in its diacritics-blind name field.
    let q = &asked.of("orcid")[0];
    assert_eq!(q["q"], "given-and-family-names:(Carberry AND Josiah)");
    assert_eq!(q["rows"], "10");
    // An iD is looked up as an iD.
    look(
        &app,
        &app.author,
        "orcid",
        "https://orcid.org/0000-0002-1825-0097",
    )
    .await;
    assert_eq!(asked.of("orcid")[1]["q"], "orcid:0000-0002-1825-0097");

    let (_, body) = look(&app, &app.author, "ror", "synchrotron grenoble").await;
    assert_eq!(
        body["suggestions"],
        json!([{"label": "European Synchrotron Radiation Facility", "id": "https://ror.org/02550n020", "detail": "Grenoble, France"}])
    );
    assert_eq!(asked.of("ror")[0]["query"], "synchrotron grenoble");

    let (_, body) = look(&app, &app.author, "funders", "wellcome").await;
    assert_eq!(
        body["suggestions"],
        json!([{"label": "Wellcome Trust", "id": "https://doi.org/10.13039/100010269", "detail": "United Kingdom"}])
    );
    let q = &asked.of("funders")[0];
    assert_eq!(q["query"], "wellcome");
    assert_eq!(q["mailto"], "archive@facility.example");

    // The same question again (in other case) is answered from the cache.
    look(&app, &app.other_author, "funders", "Wellcome").await;
    assert_eq!(asked.of("funders").len(), 1);
}

#[tokio::test]
async fn lookups_are_for_signed_in_people_and_their_limits_are_named() {
    let (asked, url) = stand_in().await;
    let app = app_asking(&url).await;
    let anonymous = app
        .json(Method::GET, "/api/v1/lookups/orcid?q=Carberry", "", None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let (status, body) = look(&app, &app.author, "orcid", "C").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.to_string().contains("between 2 and 200 characters"),
        "{body}"
    );
    let (status, _) = look(&app, &app.author, "orcid", &"a".repeat(201)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = look(&app, &app.author, "wikidata", "Carberry").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        asked.0.lock().unwrap().is_empty(),
        "nothing refused was passed on"
    );
}

#[tokio::test]
async fn a_registry_that_is_down_slow_or_strange_gives_a_reason_and_no_suggestions() {
    let (_, url) = stand_in().await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let app = TestApp::configured(|c| {
        c.lookups.orcid_url = format!("{url}/slow");
        c.lookups.ror_url = format!("{url}/huge");
        c.lookups.crossref_url = format!("{url}/broken");
        c.lookups.timeout_ms = 500;
    })
    .await;
    for (registry, reason) in [
        ("orcid", "ORCID could not be reached: no answer in time"),
        (
            "ror",
            "ROR answered something that is not a result list: larger than",
        ),
        (
            "funders",
            "the Crossref Funder Registry answered with HTTP 500",
        ),
    ] {
        let (status, body) = look(&app, &app.author, registry, "Carberry").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["suggestions"], json!([]));
        let said = body["unavailable"].as_str().unwrap();
        assert!(
            said.contains(reason) && said.contains("type the value yourself"),
            "{said}"
        );
    }
    // Nobody listening, and a lookup the operator turned off.
    let app = TestApp::configured(|c| {
        c.lookups.orcid_url = dead.clone();
        c.lookups.ror_url = String::new();
    })
    .await;
    let (_, body) = look(&app, &app.author, "orcid", "Carberry").await;
    assert!(
        body["unavailable"]
            .as_str()
            .unwrap()
            .contains("could not be reached: no connection"),
        "{body}"
    );
    let (_, body) = look(&app, &app.author, "ror", "ESRF").await;
    assert!(
        body["unavailable"]
            .as_str()
            .unwrap()
            .contains("not used by this archive"),
        "{body}"
    );
    // The form offers only the lookups it has (the test app sets no Crossref address).
    let mut b = Browser::new(&app);
    b.sign_up("Curie, Marie", "marie@example.org").await;
    let html = text(&b.get("/deposits/new").await);
    let at = html
        .find("data-lookups=")
        .expect("the form names its lookups");
    assert_eq!(&html[at..at + 20], "data-lookups=\"orcid\"");
}

#[tokio::test]
async fn identifiers_chosen_in_the_form_reach_the_datacite_record_and_come_back_to_edit() {
    let app = TestApp::new().await;
    let mut b = Browser::new(&app);
    b.sign_up("Curie, Marie", "marie@example.org").await;
    let mut fields = vec![
        ("title", "Lysozyme at 100 K"),
        ("author-0-name", "Carberry, Josiah"),
        ("author-0-orcid", "0000-0002-1825-0097"),
        (
            "author-0-affiliation",
            "European Synchrotron Radiation Facility",
        ),
        ("author-0-ror", "https://ror.org/02550n020"),
        ("funding-0-funder", "Wellcome Trust"),
        ("funding-0-award", "221818"),
        ("funding-0-funder_id", "https://doi.org/10.13039/100010269"),
        ("licence", "CC-BY-4.0"),
    ];
    let deposit = b.deposit(&fields).await;
    let r = b.post(&format!("/deposits/{deposit}/doi"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", b.last);
    let xml = text(
        &b.get(&format!("/api/v1/deposits/{deposit}/datacite.xml"))
            .await,
    );
    assert!(
        xml.contains("affiliationIdentifier=\"https://ror.org/02550n020\""),
        "{xml}"
    );
    assert!(xml.contains("affiliationIdentifierScheme=\"ROR\""), "{xml}");
    assert!(
        xml.contains("funderIdentifierType=\"Crossref Funder ID\">https://doi.org/10.13039/100010269</funderIdentifier>"),
        "{xml}"
    );
    let d = app.deposit_json(&deposit).await;
    assert_eq!(
        d.pointer("/metadata/creators/0/affiliation/0/affiliationIdentifier"),
        Some(&json!("https://ror.org/02550n020")),
        "{d}"
    );
    // Editing shows the identifiers again (kept in the form), so saving keeps them.
    let html = text(&b.get(&format!("/deposits/{deposit}/edit")).await);
    assert!(
        html.contains("name=\"author-0-ror\" value=\"https://ror.org/02550n020\""),
        "{html}"
    );
    assert!(
        html.contains("name=\"funding-0-funder_id\" value=\"https://doi.org/10.13039/100010269\"")
    );
    // A value typed without choosing has no identifier, and is accepted as typed; an
    // identifier that is not one is reported at its value's field.
    fields[4] = ("author-0-ror", "https://ror.org/02550n021");
    let r = b.post(&format!("/deposits/{deposit}/edit"), &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&r).contains("id=\"author-0-affiliation-error\""),
        "{}",
        text(&r)
    );
}
