//! OAI-PMH 2.0 at /oai: verbs, sets, dates, resumption, deletes, and that only released
//! datasets exist for harvesters.

use crate::common::*;
use arca::metadata::datacite::xml::{Element, parse_tree};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

fn body(facility: &str, beamline: &str, title: &str) -> Value {
    let mut m = metadata();
    m["titles"] = json!([{ "title": title }]);
    json!({
        "metadata": m,
        "facility": {
            "facility": { "name": facility },
            "beamline": { "name": beamline },
        }
    })
}

async fn oai(app: &TestApp, query: &str) -> Element {
    let r = app.public(&format!("/oai?{query}"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/xml; charset=utf-8"));
    parse_tree(std::str::from_utf8(&r.body).unwrap()).unwrap()
}

fn error_code(doc: &Element) -> Option<String> {
    doc.first("error").and_then(|e| e.attr("code"))
}

fn headers(doc: &Element, verb: &str) -> Vec<Element> {
    let Some(list) = doc.first(verb) else {
        return Vec::new();
    };
    list.elements()
        .filter_map(|e| match e.name.as_str() {
            "header" => Some(e.clone()),
            "record" => e.first("header").cloned(),
            _ => None,
        })
        .collect()
}

fn token(doc: &Element, verb: &str) -> Option<Element> {
    doc.first(verb)?.first("resumptionToken").cloned()
}

/// Harvest a whole list through its resumption tokens; returns every header.
async fn harvest(app: &TestApp, verb: &str, args: &str) -> (Vec<Element>, usize) {
    let mut doc = oai(app, &format!("verb={verb}&{args}")).await;
    let mut all = headers(&doc, verb);
    let mut pages = 1;
    while let Some(t) = token(&doc, verb).filter(|t| !t.text().is_empty()) {
        let enc: String = url_encode(&t.text());
        doc = oai(app, &format!("verb={verb}&resumptionToken={enc}")).await;
        assert_eq!(error_code(&doc), None);
        all.extend(headers(&doc, verb));
        pages += 1;
    }
    (all, pages)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn identifier(h: &Element) -> String {
    h.first("identifier").unwrap().text()
}

#[tokio::test]
async fn only_released_datasets_exist_and_withdrawn_ones_stay_as_deleted_records() {
    let app = TestApp::configured(|c| c.repository.oai_page_size = 2).await;
    let b = |t: &str| body("ESRF", "ID23-1", t);
    let held = app
        .deposit_through(b("Held lysozyme"), &[("a.cbf", b"held")], "on_hold")
        .await;
    let approved = app
        .deposit_through(b("Approved lysozyme"), &[("a.cbf", b"ok")], "approved")
        .await;
    let mut released = Vec::new();
    for i in 0..5 {
        let t = format!("Released {i}");
        released.push(
            app.deposit_through(b(&t), &[("a.cbf", t.as_bytes())], "released")
                .await,
        );
    }
    let _draft = app.create_deposit(&app.author).await;

    // Five records on three pages of two, through tokens; nothing unreleased.
    let (all, pages) = harvest(&app, "ListRecords", "metadataPrefix=oai_datacite").await;
    assert_eq!(pages, 3);
    let ids: Vec<String> = all.iter().map(identifier).collect();
    let want: Vec<String> = released
        .iter()
        .map(|id| format!("oai:arca.local:{id}"))
        .collect();
    assert_eq!(ids, want);
    for (hidden, what) in [(&held, "held"), (&approved, "approved")] {
        assert!(!ids.iter().any(|i| i.contains(hidden.as_str())), "{what}");
        let doc = oai(
            &app,
            &format!("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arca.local:{hidden}"),
        )
        .await;
        assert_eq!(
            error_code(&doc).as_deref(),
            Some("idDoesNotExist"),
            "{what}"
        );
    }
    // The pages announce the list's size and where they start.
    let first = oai(&app, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    let t = token(&first, "ListIdentifiers").unwrap();
    assert_eq!(t.attr("completeListSize").as_deref(), Some("5"));
    assert_eq!(t.attr("cursor").as_deref(), Some("0"));

    // A full record carries DataCite 4.7 XML and the sets.
    let doc = oai(
        &app,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_datacite&identifier=oai:arca.local:{}",
            released[0]
        ),
    )
    .await;
    let rec = doc.first("GetRecord").unwrap().first("record").unwrap();
    let specs: Vec<String> = rec
        .first("header")
        .unwrap()
        .all("setSpec")
        .map(Element::text)
        .collect();
    assert_eq!(
        specs,
        [
            "facility:esrf",
            "facility:esrf:beamline:id23-1",
            "type:dataset"
        ]
    );
    let dc = rec
        .first("metadata")
        .unwrap()
        .first("oai_datacite")
        .unwrap();
    assert_eq!(dc.first("schemaVersion").unwrap().text(), "4.7");
    let resource = dc.first("payload").unwrap().first("resource").unwrap();
    assert_eq!(
        resource
            .first("titles")
            .unwrap()
            .first("title")
            .unwrap()
            .text(),
        "Released 0"
    );
    let doi = resource.first("identifier").unwrap().text();
    assert!(doi.starts_with("10.5072/"), "{doi}");

    // oai_dc too.
    let doc = oai(
        &app,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arca.local:{}",
            released[1]
        ),
    )
    .await;
    let dc = doc
        .first("GetRecord")
        .and_then(|g| g.first("record"))
        .and_then(|r| r.first("metadata"))
        .and_then(|m| m.first("dc"))
        .unwrap();
    assert_eq!(dc.first("title").unwrap().text(), "Released 1");
    assert_eq!(dc.first("creator").unwrap().text(), "Curie, Marie");
    assert!(dc.all("identifier").any(|i| i.text()
        == format!("https://doi.org/{}", doi.to_lowercase())
        || i.text().starts_with("https://doi.org/10.5072/")));

    // Withdrawal: the record stays, as deleted, without metadata, with a later datestamp.
    let before = oai(
        &app,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arca.local:{}",
            released[2]
        ),
    )
    .await;
    let r = app
        .act(
            &app.curator,
            &released[2],
            "withdraw",
            Some(json!({"reason": "wrong sample"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let after = oai(
        &app,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arca.local:{}",
            released[2]
        ),
    )
    .await;
    let rec = after.first("GetRecord").unwrap().first("record").unwrap();
    let h = rec.first("header").unwrap();
    assert_eq!(h.attr("status").as_deref(), Some("deleted"));
    assert!(rec.first("metadata").is_none());
    let stamp = |d: &Element| {
        d.first("GetRecord")
            .unwrap()
            .first("record")
            .unwrap()
            .first("header")
            .unwrap()
            .first("datestamp")
            .unwrap()
            .text()
    };
    assert!(stamp(&after) >= stamp(&before));
    // …and it comes last in a full harvest now, still listed.
    let (all, _) = harvest(&app, "ListIdentifiers", "metadataPrefix=oai_dc").await;
    assert_eq!(all.len(), 5);
    assert_eq!(
        identifier(all.last().unwrap()),
        format!("oai:arca.local:{}", released[2])
    );
    let ident = oai(&app, "verb=Identify").await;
    assert_eq!(
        ident
            .first("Identify")
            .unwrap()
            .first("deletedRecord")
            .unwrap()
            .text(),
        "persistent"
    );
}

#[tokio::test]
async fn sets_and_dates_select_records() {
    let app = TestApp::new().await;
    let esrf = app
        .deposit_through(body("ESRF", "ID30A-3", "one"), &[("f", b"1")], "released")
        .await;
    let dls = app
        .deposit_through(
            body("Diamond Light Source", "I04", "two"),
            &[("f", b"2")],
            "released",
        )
        .await;
    let doc = oai(&app, "verb=ListSets").await;
    let specs: Vec<String> = doc
        .first("ListSets")
        .unwrap()
        .all("set")
        .map(|s| s.first("setSpec").unwrap().text())
        .collect();
    assert_eq!(
        specs,
        [
            "facility:diamond-light-source",
            "facility:diamond-light-source:beamline:i04",
            "facility:esrf",
            "facility:esrf:beamline:id30a-3",
            "type:dataset"
        ]
    );
    let (h, _) = harvest(
        &app,
        "ListIdentifiers",
        "metadataPrefix=oai_dc&set=facility:esrf",
    )
    .await;
    assert_eq!(
        h.iter().map(identifier).collect::<Vec<_>>(),
        [format!("oai:arca.local:{esrf}")]
    );
    let (h, _) = harvest(
        &app,
        "ListIdentifiers",
        "metadataPrefix=oai_dc&set=facility:diamond-light-source:beamline:i04",
    )
    .await;
    assert_eq!(
        h.iter().map(identifier).collect::<Vec<_>>(),
        [format!("oai:arca.local:{dls}")]
    );
    let (h, _) = harvest(
        &app,
        "ListIdentifiers",
        "metadataPrefix=oai_dc&set=type:dataset",
    )
    .await;
    assert_eq!(h.len(), 2);
    let doc = oai(
        &app,
        "verb=ListIdentifiers&metadataPrefix=oai_dc&set=facility:soleil",
    )
    .await;
    assert_eq!(error_code(&doc).as_deref(), Some("noRecordsMatch"));

    // Dates: a window in the past matches nothing; one around now matches both; the
    // datestamps themselves bound the window exactly (second granularity, inclusive).
    let doc = oai(
        &app,
        "verb=ListIdentifiers&metadataPrefix=oai_dc&until=2000-01-01",
    )
    .await;
    assert_eq!(error_code(&doc).as_deref(), Some("noRecordsMatch"));
    let (all, _) = harvest(
        &app,
        "ListIdentifiers",
        "metadataPrefix=oai_dc&from=2000-01-01",
    )
    .await;
    let stamps: Vec<String> = all
        .iter()
        .map(|h| h.first("datestamp").unwrap().text())
        .collect();
    let (same, _) = harvest(
        &app,
        "ListIdentifiers",
        &format!(
            "metadataPrefix=oai_dc&from={}&until={}",
            stamps[0], stamps[1]
        ),
    )
    .await;
    assert_eq!(same.len(), 2);
    let doc = oai(&app, "verb=Identify").await;
    let earliest = doc
        .first("Identify")
        .unwrap()
        .first("earliestDatestamp")
        .unwrap()
        .text();
    assert_eq!(earliest, stamps[0]);
}

#[tokio::test]
async fn bad_requests_get_the_protocol_error_codes() {
    let app = TestApp::new().await;
    let doc = oai(&app, "verb=ListSets").await;
    assert_eq!(error_code(&doc).as_deref(), Some("noSetHierarchy"));
    app.deposit_through(body("ESRF", "BM07", "x"), &[("f", b"x")], "released")
        .await;
    for (query, code) in [
        ("", "badVerb"),
        ("verb=Dance", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=Identify&extra=1", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        (
            "verb=ListRecords&metadataPrefix=mods",
            "cannotDisseminateFormat",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01&until=2026-01-01T00:00:00Z",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2026-02-30",
            "badArgument",
        ),
        (
            "verb=ListRecords&resumptionToken=garbage",
            "badResumptionToken",
        ),
        (
            "verb=ListRecords&resumptionToken=x&metadataPrefix=oai_dc",
            "badArgument",
        ),
        (
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:elsewhere.org:1",
            "idDoesNotExist",
        ),
        (
            "verb=ListMetadataFormats&identifier=oai:arca.local:01JD5XPQ6Z0000000000000000",
            "idDoesNotExist",
        ),
    ] {
        let doc = oai(&app, query).await;
        assert_eq!(error_code(&doc).as_deref(), Some(code), "{query}");
        // After badVerb and badArgument the request element carries no attributes.
        let req = doc.first("request").unwrap();
        if code == "badVerb" || code == "badArgument" {
            assert!(req.attrs.is_empty(), "{query}");
        }
    }
    // POST with a form body is the same protocol.
    let r = app
        .call(
            Method::POST,
            "/oai",
            None,
            &[("content-type", "application/x-www-form-urlencoded")],
            Body::from("verb=ListMetadataFormats"),
        )
        .await;
    let doc = parse_tree(std::str::from_utf8(&r.body).unwrap()).unwrap();
    let prefixes: Vec<String> = doc
        .first("ListMetadataFormats")
        .unwrap()
        .all("metadataFormat")
        .map(|f| f.first("metadataPrefix").unwrap().text())
        .collect();
    assert_eq!(prefixes, ["oai_dc", "oai_datacite"]);
}

#[tokio::test]
async fn a_list_larger_than_the_counted_pages_comes_without_its_size_until_its_end() {
    // One record a page: the first page counts ten pages' worth at most.
    let app = TestApp::configured(|c| c.repository.oai_page_size = 1).await;
    let b = |t: &str| body("ESRF", "ID23-1", t);
    for i in 0..11 {
        let t = format!("Released {i}");
        app.deposit_through(b(&t), &[("a.cbf", t.as_bytes())], "released")
            .await;
    }
    let first = oai(&app, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    let t = token(&first, "ListIdentifiers").unwrap();
    assert_eq!(t.attr("completeListSize"), None, "more than counted");
    assert_eq!(t.attr("cursor").as_deref(), Some("0"));
    // Every record still comes, and the last page gives the size it now knows.
    let (all, pages) = harvest(&app, "ListIdentifiers", "metadataPrefix=oai_dc").await;
    assert_eq!((all.len(), pages), (11, 11));
    let mut doc = first;
    while let Some(t) = token(&doc, "ListIdentifiers").filter(|t| !t.text().is_empty()) {
        let enc = url_encode(&t.text());
        doc = oai(&app, &format!("verb=ListIdentifiers&resumptionToken={enc}")).await;
    }
    let last = token(&doc, "ListIdentifiers").unwrap();
    assert_eq!(last.attr("completeListSize").as_deref(), Some("11"));
    assert_eq!(last.attr("cursor").as_deref(), Some("10"));
}
