//! The public side: landing pages with Signposting and JSON-LD, downloads with Range,
//! linksets and sitemaps; only for released datasets, and no bytes once withdrawn.

use crate::common::*;
use axum::http::Method;
use axum::http::StatusCode;
use serde_json::{Value, json};

const HOSTILE: &str = "<script>alert('t')</script> & \"lysozyme\" </script><b>bold</b>";

fn body(title: &str) -> Value {
    let mut m = metadata();
    m["titles"] = json!([{ "title": title }]);
    m["creators"] = json!([{
        "name": "O'Neil, <img src=x onerror=alert(1)>",
        "nameType": "Personal",
        "nameIdentifiers": [{"nameIdentifier": "https://orcid.org/0000-0002-1825-0097", "nameIdentifierScheme": "ORCID"}]
    }]);
    m["rightsList"] = json!([{"rights": "CC BY 4.0", "rightsUri": "https://creativecommons.org/licenses/by/4.0/"}]);
    json!({ "metadata": m, "facility": {"facility": {"name": "ESRF"}, "pdb_ids": ["1abc"],
        "article": {"doi": "10.1107/S2059798320000001"},
        "funding": [{"funder_name": "Wellcome Trust", "funder_id": "https://doi.org/10.13039/100010269",
                     "award_number": "221234/Z/20/Z", "award_title": "Lysozyme at scale"}]} })
}

fn text(r: &Resp) -> String {
    String::from_utf8(r.body.to_vec()).unwrap()
}

#[tokio::test]
async fn a_released_landing_page_shows_the_dataset_and_signposts_it() {
    let app = TestApp::new().await;
    let frames: &[u8] = b"0123456789";
    let id = app
        .deposit_through(
            body(HOSTILE),
            &[("images/frame 1#.cbf", frames), ("README.txt", b"read me")],
            "released",
        )
        .await;
    let ds = app.dataset_of(&id).await;
    let r = app
        .public(&format!("/datasets/{ds}"), &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let html = text(&r);
    // Markup in metadata is shown as text, in the page and in the JSON-LD alike.
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(!html.contains("<b>bold"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert") || html.contains("&lt;script&gt;alert"),
        "{html}"
    );
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the JSON-LD element and the page's own script close"
    );
    assert!(html.contains(r#"<script src="/static/arca.js" defer></script>"#));
    let ld_start = html.find("application/ld+json\">").unwrap() + "application/ld+json\">".len();
    let ld_end = html[ld_start..].find("</script>").unwrap() + ld_start;
    let ld: Value = serde_json::from_str(&html[ld_start..ld_end]).unwrap();
    assert_eq!(ld["@type"], "Dataset");
    assert_eq!(ld["name"], HOSTILE);
    // What a reader needs: the DOI, the citation, the files with their SHA-256.
    let doi = app.doi_of(&id).await;
    assert!(html.contains(&format!("https://doi.org/{}", doi.to_lowercase())));
    assert!(html.contains(&sha256_hex(frames)));
    assert!(html.contains("/datasets/") && html.contains("images/frame%201%23.cbf"));
    assert!(html.contains("https://orcid.org/0000-0002-1825-0097"));
    assert!(html.contains("1abc"));
    // What the DataCite record says of funding and the article, on the page and in JSON-LD.
    assert!(
        html.contains(
            "<a href=\"https://doi.org/10.13039/100010269\">Wellcome Trust: Lysozyme at scale (221234/Z/20/Z)</a>"
        ),
        "{html}"
    );
    assert!(html.contains("https://doi.org/10.1107/S2059798320000001"));
    assert_eq!(ld["funding"][0]["funder"]["name"], "Wellcome Trust");
    assert_eq!(ld["funding"][0]["identifier"], "221234/Z/20/Z");
    assert_eq!(
        ld["citation"][0]["@id"].as_str().map(str::to_lowercase),
        Some("https://doi.org/10.1107/s2059798320000001".into())
    );

    // Signposting: every Level 1 relation is in the Link header.
    let link = r.header("link").unwrap();
    for want in [
        format!("<https://doi.org/{}>; rel=\"cite-as\"", doi.to_lowercase()),
        "rel=\"describedby\"; type=\"application/vnd.datacite.datacite+xml\"".into(),
        "<https://orcid.org/0000-0002-1825-0097>; rel=\"author\"".into(),
        "<https://creativecommons.org/licenses/by/4.0/>; rel=\"license\"".into(),
        "<https://schema.org/Dataset>; rel=\"type\"".into(),
        format!("/datasets/{ds}/files/images/frame%201%23.cbf>; rel=\"item\""),
        format!("/datasets/{ds}/linkset>; rel=\"linkset\""),
    ] {
        assert!(link.contains(&want), "{want} not in {link}");
    }
    // The linkset says the same, as JSON and as text.
    let r = app.public(&format!("/datasets/{ds}/linkset"), &[]).await;
    assert_eq!(r.header("content-type"), Some("application/linkset+json"));
    let set = r.json();
    let ctx = &set["linkset"][0];
    assert!(
        ctx["anchor"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/datasets/{ds}"))
    );
    assert_eq!(ctx["item"].as_array().unwrap().len(), 2);
    assert_eq!(
        ctx["cite-as"][0]["href"],
        format!("https://doi.org/{}", doi.to_lowercase())
    );
    let r = app
        .public(
            &format!("/datasets/{ds}/linkset"),
            &[("accept", "application/linkset")],
        )
        .await;
    assert!(text(&r).contains("rel=\"cite-as\"; anchor=\""));

    // The landing page URL negotiates citations like the DOI.
    let r = app
        .public(
            &format!("/datasets/{ds}"),
            &[("accept", "application/x-bibtex")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(text(&r).starts_with("@misc{"), "{}", text(&r));

    // Downloads: whole, a range, and a range past the end.
    let url = format!("/datasets/{ds}/files/images/frame%201%23.cbf");
    let r = app.public(&url, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..], frames);
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", sha256_hex(frames)).as_str())
    );
    let r = app.public(&url, &[("range", "bytes=2-5")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.body[..], b"2345");
    assert_eq!(r.header("content-range"), Some("bytes 2-5/10"));
    let r = app.public(&url, &[("range", "bytes=-3")]).await;
    assert_eq!(&r.body[..], b"789");
    let r = app.public(&url, &[("range", "bytes=10-")]).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.header("content-range"), Some("bytes */10"));
    let r = app
        .public(&format!("/datasets/{ds}/files/nope.cbf"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // In the sitemap.
    let r = app.public("/sitemap.xml", &[]).await;
    let index = text(&r);
    let month = index
        .split("<loc>")
        .nth(1)
        .unwrap()
        .split("</loc>")
        .next()
        .unwrap();
    let path = &month[month.find("/sitemaps/").unwrap()..];
    let r = app.public(path, &[]).await;
    assert!(text(&r).contains(&format!("/datasets/{ds}</loc>")));
}

#[tokio::test]
async fn unreleased_datasets_do_not_exist_publicly_and_withdrawn_ones_keep_only_a_tombstone() {
    let app = TestApp::new().await;
    let held = app
        .deposit_through(body("Held"), &[("f.cbf", b"held bytes")], "on_hold")
        .await;
    let approved = app
        .deposit_through(body("Approved"), &[("f.cbf", b"approved")], "approved")
        .await;
    let draft = app.create_deposit(&app.author).await;
    for dep in [&held, &approved, &draft] {
        let ds = app.dataset_of(dep).await;
        let mut paths = vec![
            format!("/datasets/{ds}/files/f.cbf"),
            format!("/datasets/{ds}/linkset"),
            format!("/datasets/{ds}/bag.tar"),
        ];
        if dep != &held {
            paths.push(format!("/datasets/{ds}"));
        }
        for path in paths {
            let r = app.public(&path, &[]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert!(!text(&r).contains("held bytes"));
        }
    }
    // A held dataset's DOI is registered: it resolves to a page that says the data is
    // on hold, with no files, kept out of search engines.
    let ds = app.dataset_of(&held).await;
    let r = app.public(&format!("/datasets/{ds}"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-robots-tag"), Some("noindex, nofollow"));
    let page = text(&r);
    assert!(page.contains("is on hold until"), "{page}");
    assert!(page.contains("Held") && page.contains("doi.org/10."));
    assert!(!page.contains("f.cbf") && !page.contains("application/ld+json"));
    let doi = app
        .json(
            Method::GET,
            &format!("/api/v1/deposits/{held}"),
            &app.curator,
            None,
        )
        .await
        .json()["doi"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .public(&format!("/doi/{doi}"), &[("accept", "text/html")])
        .await;
    assert!(
        r.header("location")
            .unwrap()
            .ends_with(&format!("/datasets/{ds}"))
    );
    let r = app.public("/sitemap.xml", &[]).await;
    assert!(!text(&r).contains("<sitemap>"), "nothing released yet");

    let released = app
        .deposit_through(
            body("Soon withdrawn"),
            &[("f.cbf", b"public bytes")],
            "released",
        )
        .await;
    let ds = app.dataset_of(&released).await;
    assert_eq!(
        app.public(&format!("/datasets/{ds}/files/f.cbf"), &[])
            .await
            .status,
        StatusCode::OK
    );
    // Seen (and kept rendered) before the withdrawal: the change drops it at once.
    let r = app.public(&format!("/datasets/{ds}"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .act(
            &app.curator,
            &released,
            "withdraw",
            Some(json!({"reason": "the sample was mislabelled"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.public(&format!("/datasets/{ds}"), &[]).await;
    assert_eq!(r.status, StatusCode::GONE);
    let html = text(&r);
    assert!(html.contains("withdrawn") && html.contains("the sample was mislabelled"));
    assert!(
        html.contains("Soon withdrawn"),
        "the tombstone keeps the citation"
    );
    assert!(!html.contains("f.cbf"));
    let r = app
        .public(&format!("/datasets/{ds}/files/f.cbf"), &[])
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(!text(&r).contains("public bytes"));
    let r = app.public("/sitemap.xml", &[]).await;
    assert!(
        !text(&r).contains("<sitemap>"),
        "withdrawn datasets leave the sitemap"
    );
    let r = app.public("/robots.txt", &[]).await;
    assert!(text(&r).contains("Sitemap: http://127.0.0.1:8080/sitemap.xml"));
}

/// URLs typed by depositors become links: only absolute http(s) URLs are accepted, each
/// refusal names the field by JSON Pointer, and nothing is stored.
#[tokio::test]
async fn only_web_urls_are_accepted_where_they_become_links() {
    let app = TestApp::new().await;
    let deposits = app.count("dataset_versions").await;
    for (bad, at) in [
        ("javascript:alert(1)", "rightsUri"),
        (
            "https://x.example/>; rel=\"cite-as\", <https://evil.example/",
            "rightsUri",
        ),
        ("CC BY 4.0", "rightsUri"),
        ("data:text/html,<script>alert(1)</script>", "schemeUri"),
    ] {
        let mut b = body("URL check");
        b["metadata"]["rightsList"] = json!([{ "rights": "CC BY 4.0", at: bad }]);
        let r = app
            .json(Method::POST, "/api/v1/deposits", &app.author, Some(b))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let pointers: Vec<String> = r.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
            .collect();
        assert!(
            pointers.contains(&format!("/metadata/rightsList/0/{at}")),
            "{bad}: {pointers:?}"
        );
    }
    assert_eq!(app.count("dataset_versions").await, deposits);

    // Every page says where scripts may come from: none inline.
    let id = app
        .deposit_through(body("CSP"), &[("f.bin", b"x")], "released")
        .await;
    let ds = app.dataset_of(&id).await;
    let r = app
        .public(&format!("/datasets/{ds}"), &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let link = r.header("link").unwrap();
    assert_eq!(link.matches("rel=\"cite-as\"").count(), 1, "{link}");
    let r = app.public("/", &[]).await;
    assert!(r.header("content-security-policy").is_some());
}

#[tokio::test]
async fn a_landing_page_is_read_from_one_row_that_is_never_out_of_date() {
    let app = TestApp::configured(|c| c.web.page_cache_seconds = 0).await;
    let dep = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("a.cbf", b"a")],
            "released",
        )
        .await;
    let ds = app.dataset_of(&dep).await;
    let model = || async {
        let mut conn = app.services.db.conn().await.unwrap();
        sqlx::query_scalar::<_, String>(
            "SELECT model FROM landing_models WHERE dataset_id = $1 AND version_number = 0",
        )
        .bind(&ds)
        .fetch_optional(&mut *conn)
        .await
        .unwrap()
    };
    // The release's job wrote the page's row: its model and the page rendered from it.
    assert!(model().await.unwrap().contains("Hen egg-white lysozyme"));
    let sql = |q: &'static str| {
        let app = &app;
        async move {
            let mut conn = app.services.db.conn().await.unwrap();
            sqlx::query(q).execute(&mut *conn).await.unwrap();
        }
    };
    // The page is served as kept: changed under the archive, the change shows.
    sql("UPDATE landing_models SET page = replace(page, 'Hen egg-white', 'Goose egg')").await;
    let r = app.public(&format!("/datasets/{ds}"), &[]).await;
    assert!(text(&r).contains("Goose egg lysozyme"));
    assert!(r.header("link").unwrap().contains("rel=\"cite-as\""));
    // Without a kept page (another Arca version or public URL), it is rendered from the
    // model, and kept.
    sql("UPDATE landing_models SET model = replace(model, 'Hen egg-white', 'Quail egg'), page_key = 'another'").await;
    let page = text(&app.public(&format!("/datasets/{ds}"), &[]).await);
    assert!(page.contains("Quail egg lysozyme"), "{page}");
    // Another citation style is rendered from the model too.
    let page = text(&app.public(&format!("/datasets/{ds}?style=apa"), &[]).await);
    assert!(page.contains("Quail egg lysozyme"), "{page}");
    // A withdrawal shows at once on every server, before any job rebuilds the row.
    let other = app.another_server().await;
    let r = app
        .act(
            &app.curator,
            &dep,
            "withdraw",
            Some(json!({"reason": "mislabelled"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for server in [&app, &other] {
        let r = server.public(&format!("/datasets/{ds}"), &[]).await;
        assert_eq!(r.status, StatusCode::GONE);
        let page = text(&r);
        assert!(
            page.contains("mislabelled") && !page.contains("Quail"),
            "{page}"
        );
    }
    // The job writes the tombstone's row; a file list never comes back with it.
    app.drain().await;
    let m = model().await.unwrap();
    assert!(m.contains("mislabelled") && !m.contains("a.cbf"), "{m}");
}

#[tokio::test]
async fn a_linkset_of_thousands_of_files_lists_each_once_in_both_forms() {
    let app = TestApp::new().await;
    let dep = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("a.cbf", b"a")],
            "released",
        )
        .await;
    let ds = app.dataset_of(&dep).await;
    // More files than the linkset reads at once (1,000), as a detector series gives.
    let n = 2_345;
    app.add_series(&dep, n).await;
    let r = app.public(&format!("/datasets/{ds}/linkset"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let set: Value = serde_json::from_slice(&r.body).expect("one JSON document");
    let items: Vec<String> = set["linkset"][0]["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["href"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(items.len(), n + 1);
    let unique: std::collections::BTreeSet<_> = items.iter().collect();
    assert_eq!(unique.len(), n + 1, "each file once");
    assert!(
        items
            .iter()
            .any(|i| i.ends_with("/files/series/frame_02344%20%22x%22.cbf"))
    );
    assert!(set["linkset"][0]["cite-as"][0]["href"].is_string());
    let r = app
        .public(
            &format!("/datasets/{ds}/linkset"),
            &[("accept", "application/linkset")],
        )
        .await;
    let t = text(&r);
    assert_eq!(t.matches("rel=\"item\"").count(), n + 1);
    assert_eq!(
        t.matches(",\n").count() + 1,
        t.matches("; rel=").count(),
        "one link per line"
    );
}
