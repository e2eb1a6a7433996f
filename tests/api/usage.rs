//! Usage statistics as COUNTER counts them: double clicks, robots, machines, unique
//! user-sessions, Range requests, the depositor's and reviewers' own use, withdrawal,
//! months in the facility's time zone, many servers; the landing page's figures and
//! JSON-LD; the Dataset Report and its delivery to DataCite (the sandbox).

use crate::common::*;
use arca::model::{Activity, Role};
use arca::services::usage::{Hit, Visit};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// A GET from a reader at `ip` with user agent `ua` (and more headers).
async fn visit(app: &TestApp, path: &str, ip: &str, ua: &str, headers: &[(&str, &str)]) -> Resp {
    let mut b = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("user-agent", ua);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Body::empty()).unwrap();
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    app.send(req).await
}

async fn released(app: &TestApp) -> (String, String) {
    let deposit = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[
                ("data/a.cbf", b"frame a bytes"),
                ("data/b.cbf", b"frame b bytes"),
            ],
            "released",
        )
        .await;
    let dataset = app.dataset_of(&deposit).await;
    (deposit, dataset)
}

async fn usage(app: &TestApp, dataset: &str, query: &str) -> Value {
    let r = app
        .public(&format!("/api/v1/datasets/{dataset}/usage{query}"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    r.json()
}

/// The dataset's totals once this server has written out what it counted.
async fn flushed_totals(app: &TestApp, dataset: &str) -> [i64; 8] {
    app.services.usage().flush().await.unwrap();
    metrics(&usage(app, dataset, "").await["totals"])
}

fn metrics(v: &Value) -> [i64; 8] {
    [
        "total_dataset_investigations",
        "unique_dataset_investigations",
        "total_dataset_requests",
        "unique_dataset_requests",
        "machine_total_dataset_investigations",
        "machine_unique_dataset_investigations",
        "machine_total_dataset_requests",
        "machine_unique_dataset_requests",
    ]
    .map(|k| {
        v[k].as_i64()
            .unwrap_or_else(|| panic!("{k} missing in {v}"))
    })
}

#[tokio::test]
async fn views_and_downloads_count_as_counter_says() {
    let app = TestApp::configured(|c| c.web.page_cache_seconds = 0).await;
    let (_, dataset) = released(&app).await;
    let page = format!("/datasets/{dataset}");
    let file = format!("/datasets/{dataset}/files/data/a.cbf");
    // One reader: a double click on the landing page counts once, the download too.
    for _ in 0..2 {
        let r = visit(&app, &page, "192.0.2.1", FIREFOX, &[]).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    assert_eq!(
        visit(&app, &file, "192.0.2.1", FIREFOX, &[]).await.status,
        StatusCode::OK
    );
    // Another reader takes a file in three ranges: one request.
    for range in ["bytes=0-3", "bytes=4-7", "bytes=8-12"] {
        let r = visit(&app, &file, "192.0.2.2", SAFARI, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    }
    // A crawler is not counted; curl is, as machine use.
    visit(&app, &page, "192.0.2.3", GOOGLEBOT, &[]).await;
    visit(&app, &file, "192.0.2.3", GOOGLEBOT, &[]).await;
    visit(&app, &file, "192.0.2.4", "curl/8.5.0", &[]).await;
    // A citation export is an investigation; HEAD transfers nothing and is not.
    let bib = visit(
        &app,
        &format!("{page}?format=bibtex"),
        "192.0.2.5",
        SAFARI,
        &[],
    )
    .await;
    assert_eq!(bib.status, StatusCode::OK);
    let head = Request::builder()
        .method(Method::HEAD)
        .uri(&file)
        .header("user-agent", FIREFOX)
        .body(Body::empty())
        .unwrap();
    app.send(head).await;
    // Nothing shows before the server writes out what it counted.
    assert_eq!(metrics(&usage(&app, &dataset, "").await["totals"]), [0; 8]);
    app.services.usage().flush().await.unwrap();

    let u = usage(&app, &dataset, "").await;
    // Regular: views 1 + download 1 (reader 1), ranges 1 (reader 2), export 1 (reader 3);
    // sessions: three. Requests are investigations too.
    assert_eq!(metrics(&u["totals"]), [4, 3, 2, 2, 1, 1, 1, 1], "{u}");
    let months = u["months"].as_array().unwrap();
    assert_eq!(months.len(), 12, "the last twelve months by default");
    assert_eq!(metrics(months.last().unwrap()), [4, 3, 2, 2, 1, 1, 1, 1]);
    assert_eq!(u["time_zone"], "UTC");

    // The landing page shows them, and so does its JSON-LD.
    let html = text(&visit(&app, &page, "192.0.2.9", FIREFOX, &[]).await);
    assert!(
        html.contains("<dt>Usage</dt><dd>5 views (4 unique) · 3 downloads (3 unique)"),
        "{html}"
    );
    let start = html.find("application/ld+json\">").unwrap() + "application/ld+json\">".len();
    let ld: Value =
        serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()])
            .unwrap();
    let stats = ld["interactionStatistic"].as_array().unwrap();
    assert_eq!(stats[0]["interactionType"], "https://schema.org/ViewAction");
    assert_eq!(stats[0]["userInteractionCount"], 5);
    assert_eq!(
        stats[1]["interactionType"],
        "https://schema.org/DownloadAction"
    );
    assert_eq!(stats[1]["userInteractionCount"], 3);

    // The curators' page ranks it; authors are kept out.
    let mut curator = Browser::new(&app);
    person(&app, "keeper@example.org", Role::Curator).await;
    curator.sign_in("keeper@example.org", PASSWORD).await;
    let r = curator.get("/curate/usage").await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let html = text(&r);
    assert!(html.contains(&format!("/datasets/{dataset}\">")), "{html}");
    assert!(
        html.contains("<td>5</td><td>4</td><td>3</td><td>3</td>"),
        "{html}"
    );
    let mut reader = Browser::new(&app);
    person(&app, "reader@example.org", Role::Author).await;
    reader.sign_in("reader@example.org", PASSWORD).await;
    assert_eq!(
        reader.get("/curate/usage").await.status,
        StatusCode::FORBIDDEN
    );
}

const PASSWORD: &str = "a long enough password";

/// Someone who signs in with a password; returns their id.
async fn person(app: &TestApp, email: &str, role: Role) -> String {
    app.services
        .users()
        .add(email, email, role, Some(PASSWORD))
        .await
        .unwrap();
    let mut conn = app.services.db.conn().await.unwrap();
    arca::db::users::find_by_email(&mut conn, email)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

#[tokio::test]
async fn the_depositor_and_reviewers_are_not_public_usage() {
    let app = TestApp::new().await;
    let held = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("data/f.cbf", b"held frames")],
            "on_hold",
        )
        .await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/deposits/{held}/reviewer-links"),
            &app.author,
            Some(json!({"days": 30})),
        )
        .await;
    let url = r.json()["url"].as_str().unwrap().to_owned();
    let review = &url[url.find("/review/").unwrap()..];
    assert_eq!(
        visit(&app, review, "192.0.2.1", FIREFOX, &[]).await.status,
        StatusCode::OK
    );
    visit(
        &app,
        &format!("{review}/files/data/f.cbf"),
        "192.0.2.1",
        FIREFOX,
        &[],
    )
    .await;
    assert_eq!(
        app.act(&app.curator, &held, "release", None).await.status,
        StatusCode::OK
    );
    app.drain().await;
    let dataset = app.dataset_of(&held).await;
    // The depositor, with their token or signed in, looks at their own release.
    let page = format!("/datasets/{dataset}");
    let r = app
        .call(
            Method::GET,
            &page,
            Some(&app.author),
            &[("user-agent", FIREFOX)],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The same signed in: the dataset made theirs for this (as if they had deposited it).
    let owner = person(&app, "depositor@example.org", Role::Author).await;
    {
        let mut tx = app.services.db.begin_write().await.unwrap();
        sqlx::query("UPDATE datasets SET owner_id = $1 WHERE id = $2")
            .bind(&owner)
            .bind(&dataset)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let mut depositor = Browser::new(&app);
    depositor.sign_in("depositor@example.org", PASSWORD).await;
    assert_eq!(
        depositor
            .get(&format!("{page}/files/data/f.cbf"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(flushed_totals(&app, &dataset).await, [0; 8]);
    // Someone else with a token is a machine client, and counts.
    app.call(
        Method::GET,
        &page,
        Some(&app.other_author),
        &[("user-agent", FIREFOX)],
        Body::empty(),
    )
    .await;
    assert_eq!(
        flushed_totals(&app, &dataset).await,
        [0, 0, 0, 0, 1, 1, 0, 0]
    );
}

#[tokio::test]
async fn a_withdrawn_dataset_keeps_its_counts_and_its_tombstone_counts_nothing() {
    let app = TestApp::configured(|c| c.web.page_cache_seconds = 0).await;
    let (deposit, dataset) = released(&app).await;
    let page = format!("/datasets/{dataset}");
    visit(&app, &page, "192.0.2.1", FIREFOX, &[]).await;
    visit(
        &app,
        &format!("{page}/files/data/b.cbf"),
        "192.0.2.1",
        FIREFOX,
        &[],
    )
    .await;
    app.services.usage().flush().await.unwrap();
    let reason = json!({"reason": "the sample was mislabelled"});
    assert_eq!(
        app.act(&app.curator, &deposit, "withdraw", Some(reason))
            .await
            .status,
        StatusCode::OK
    );
    app.drain().await;
    let r = visit(&app, &page, "192.0.2.7", SAFARI, &[]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(
        text(&r).contains("2 views (1 unique) · 1 download (1 unique)"),
        "{}",
        text(&r)
    );
    assert_eq!(
        flushed_totals(&app, &dataset).await,
        [2, 1, 1, 1, 0, 0, 0, 0]
    );
}

#[tokio::test]
async fn months_fall_in_the_facility_time_zone_and_sessions_are_shared_by_servers() {
    let app = TestApp::configured(|c| c.usage.time_zone = "Asia/Tokyo".into()).await;
    let (deposit, dataset) = released(&app).await;
    let version = app
        .services
        .public()
        .dataset(&dataset)
        .await
        .unwrap()
        .version_id()
        .to_owned();
    let _ = deposit;
    let hit = |activity| Hit {
        dataset_id: dataset.clone(),
        version_id: version.clone(),
        activity,
        url: format!("/datasets/{dataset}"),
        range: false,
    };
    let reader = Visit {
        addr: Some("192.0.2.1".parse().unwrap()),
        user_agent: FIREFOX.into(),
        ..Visit::default()
    };
    // 2026-11-30 23:30 UTC is 08:30 on 1 December in Tokyo.
    let late = 1_796_081_400_000;
    app.services
        .usage()
        .record_at(&reader, hit(Activity::Investigation), late)
        .await
        .unwrap();
    // The same reader, a minute later, on another server: a total more, no unique more.
    let other = app.another_server().await;
    other
        .services
        .usage()
        .record_at(&reader, hit(Activity::Investigation), late + 60_000)
        .await
        .unwrap();
    app.services.usage().flush().await.unwrap();
    other.services.usage().flush().await.unwrap();
    let u = usage(&app, &dataset, "?from=2026-11&to=2026-12").await;
    assert_eq!(u["time_zone"], "Asia/Tokyo");
    assert_eq!(metrics(&u["months"][0])[..2], [0, 0], "{u}");
    assert_eq!(metrics(&u["months"][1])[..2], [2, 1], "{u}");
    // Per version, and refused ranges.
    let v = usage(&app, &dataset, "?from=2026-12&to=2026-12&version=1").await;
    assert_eq!(metrics(&v["totals"])[..2], [2, 1]);
    for bad in [
        "?from=2026-13",
        "?from=2027-01&to=2026-01",
        "?from=2000-01&to=2026-01",
    ] {
        let r = app
            .public(&format!("/api/v1/datasets/{dataset}/usage{bad}"), &[])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            text(&r)
        );
    }
    let r = app
        .public("/api/v1/datasets/0000000000000000000000000X/usage", &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The Dataset Report field by field, as the Code of Practice for Research Data (now
/// COUNTER R5.1.1 §10.4) defines it; then sent to DataCite and updated there.
#[tokio::test]
async fn the_dataset_report_follows_the_code_of_practice_and_reaches_datacite() {
    let (sandbox, url) = crate::dois::start_sandbox().await;
    let app = crate::dois::datacite_app_with(&url, 10, |c| {
        c.usage.report_to_datacite = true;
        c.repository.name = "Arca at the test facility".into();
    })
    .await;
    let (_, dataset) = released(&app).await;
    let doi = app
        .services
        .public()
        .dataset(&dataset)
        .await
        .unwrap()
        .record
        .doi
        .unwrap();
    visit(
        &app,
        &format!("/datasets/{dataset}"),
        "192.0.2.1",
        FIREFOX,
        &[],
    )
    .await;
    visit(
        &app,
        &format!("/datasets/{dataset}/files/data/a.cbf"),
        "192.0.2.4",
        "Wget/1.21.4",
        &[],
    )
    .await;
    app.services.usage().flush().await.unwrap();
    let month = arca::model::usage::Month::of(arca::db::now_ms(), app.services.usage().time_zone());
    let q = format!(
        "/api/v1/reports/dsr?begin_date={}&end_date={}",
        month.first_day(),
        month.last_day()
    );

    let r = app
        .call(Method::GET, &q, Some(&app.author), &[], Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call(Method::GET, &q, Some(&app.curator), &[], Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let report = r.json();
    let h = &report["report-header"];
    assert_eq!(h["report-name"], "Dataset Master Report");
    assert_eq!(h["report-id"], "DSR");
    assert_eq!(h["release"], "RD1");
    assert_eq!(h["created-by"], "Arca at the test facility");
    assert_eq!(h["reporting-period"]["begin-date"], month.first_day());
    assert_eq!(h["reporting-period"]["end-date"], month.last_day());
    assert!(h["created"].as_str().unwrap().len() == 10);
    let datasets = report["report-datasets"].as_array().unwrap();
    assert_eq!(datasets.len(), 1, "{report}");
    let d = &datasets[0];
    assert_eq!(
        d["dataset-id"],
        json!([{"type": "DOI", "value": doi.to_lowercase()}])
    );
    assert_eq!(d["dataset-title"], metadata()["titles"][0]["title"]);
    assert_eq!(d["data-type"], "dataset");
    assert_eq!(d["platform"], "Arca at the test facility");
    assert!(
        d["uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/datasets/{dataset}?version=1"))
    );
    assert_eq!(
        d["performance"][0]["period"]["begin-date"],
        month.first_day()
    );
    let instances: Vec<(String, String, i64)> = d["performance"][0]["instance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["access-method"].as_str().unwrap().to_owned(),
                i["metric-type"].as_str().unwrap().to_owned(),
                i["count"].as_i64().unwrap(),
            )
        })
        .collect();
    let expect = |a: &str, m: &str, n: i64| (a.to_owned(), m.to_owned(), n);
    assert_eq!(
        instances,
        vec![
            expect("regular", "total-dataset-investigations", 1),
            expect("regular", "unique-dataset-investigations", 1),
            expect("machine", "total-dataset-investigations", 1),
            expect("machine", "unique-dataset-investigations", 1),
            expect("machine", "total-dataset-requests", 1),
            expect("machine", "unique-dataset-requests", 1),
        ]
    );
    for bad in [
        "begin_date=2026-11-02&end_date=2026-11-30",
        "begin_date=2026-11-01&end_date=2026-10-31",
        "begin_date=2025-01-01&end_date=2026-11-30",
        "begin_date=2026-02-01&end_date=2026-02-30",
    ] {
        let r = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/dsr?{bad}"),
                Some(&app.curator),
                &[],
                Body::empty(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            text(&r)
        );
    }

    // Sent from the queue; sending again replaces the same report at DataCite.
    app.services
        .usage_report()
        .enqueue_send(month)
        .await
        .unwrap();
    app.drain().await;
    let sent = sandbox.reports();
    assert_eq!(sent.len(), 1);
    let (id, first) = sent.iter().next().unwrap();
    assert_eq!(first["report-datasets"], report["report-datasets"]);
    visit(
        &app,
        &format!("/datasets/{dataset}"),
        "192.0.2.2",
        SAFARI,
        &[],
    )
    .await;
    app.services.usage().flush().await.unwrap();
    app.services
        .usage_report()
        .enqueue_send(month)
        .await
        .unwrap();
    app.drain().await;
    let sent = sandbox.reports();
    assert_eq!(sent.len(), 1, "updated, not sent twice");
    let again = &sent[id]["report-datasets"][0]["performance"][0]["instance"][0];
    assert_eq!(again["count"], 2);
}

/// What a server holds between flushes is bounded: past twice `[usage] max_pending`,
/// uses are dropped and said so in /metrics, and the server carries on.
#[tokio::test]
async fn pending_usage_is_bounded_and_what_is_dropped_is_counted() {
    let app = TestApp::configured(|c| c.usage.max_pending = 2).await;
    let (_, dataset) = released(&app).await;
    let version = app
        .services
        .public()
        .dataset(&dataset)
        .await
        .unwrap()
        .version_id()
        .to_owned();
    for i in 1..=5 {
        let reader = Visit {
            addr: Some(format!("192.0.2.{i}").parse().unwrap()),
            user_agent: FIREFOX.into(),
            ..Visit::default()
        };
        let hit = Hit {
            dataset_id: dataset.clone(),
            version_id: version.clone(),
            activity: Activity::Investigation,
            url: format!("/datasets/{dataset}"),
            range: false,
        };
        app.services.usage().record(&reader, hit).await.unwrap();
    }
    app.services.usage().flush().await.unwrap();
    let u = usage(&app, &dataset, "").await;
    assert_eq!(metrics(&u["totals"])[..2], [3, 3], "{u}");
    let m = text(&app.public("/metrics", &[]).await);
    assert!(m.contains("arca_usage_total{outcome=\"dropped\"} 2"), "{m}");
    assert!(m.contains("arca_usage_total{outcome=\"regular\"} 3"), "{m}");
}
