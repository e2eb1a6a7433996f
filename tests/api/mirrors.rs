//! Mirrors against a real local S3 server (moto_server), reached through a proxy the
//! tests can cut: replication to two mirrors, an outage in the middle of a transfer, an
//! object already there, policies, withdrawal, and fixity with repair.

use crate::common::*;
use crate::s3::start_moto;
use arca::model::{FixityOutcome, MirrorPolicy, TransferState};
use arca::storage::mirror::{Credentials, MirrorSpec};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy that records the request lines it forwards and can be cut (every
/// connection dropped, new ones refused) and restored, like a site going offline.
#[derive(Clone)]
struct Proxy {
    open: Arc<AtomicBool>,
    generation: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    /// Cut once this many part uploads have been seen (0: never).
    cut_after_parts: Arc<AtomicUsize>,
    /// Connections carrying a part upload now, and the most seen at once (moto closes
    /// each connection after its answer, so this counts parts in flight).
    parts_open: Arc<AtomicUsize>,
    most_parts_open: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(upstream: String) -> (Proxy, String) {
        let p = Proxy {
            open: Arc::new(AtomicBool::new(true)),
            generation: Arc::new(AtomicUsize::new(0)),
            requests: Arc::default(),
            cut_after_parts: Arc::default(),
            parts_open: Arc::default(),
            most_parts_open: Arc::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let proxy = p.clone();
        tokio::spawn(async move {
            loop {
                let (client, _) = listener.accept().await.unwrap();
                if !proxy.open.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused, in effect
                }
                let up = upstream.trim_start_matches("http://").to_owned();
                tokio::spawn(proxy.clone().serve(client, up));
            }
        });
        (p, url)
    }

    async fn serve(self, client: TcpStream, upstream: String) {
        let Ok(server) = TcpStream::connect(&upstream).await else {
            return;
        };
        let generation = self.generation.load(Ordering::SeqCst);
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        let me = self.clone();
        let carries_part = Arc::new(AtomicBool::new(false));
        let carrying = carries_part.clone();
        let up = async move {
            let mut buf = vec![0u8; 1 << 16];
            let mut carry: Vec<u8> = Vec::new();
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let mut window = std::mem::take(&mut carry);
                let old = window.len();
                window.extend_from_slice(&buf[..n]);
                if me.scan(&window, old) && !carrying.swap(true, Ordering::SeqCst) {
                    let now = me.parts_open.fetch_add(1, Ordering::SeqCst) + 1;
                    me.most_parts_open.fetch_max(now, Ordering::SeqCst);
                }
                carry = window[window.len().saturating_sub(600)..].to_vec();
                if !me.open.load(Ordering::SeqCst)
                    || me.generation.load(Ordering::SeqCst) != generation
                {
                    return;
                }
                if sw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        let gen_watch = self.clone();
        let down = async move {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = match sr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if gen_watch.generation.load(Ordering::SeqCst) != generation {
                    return;
                }
                if cw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        tokio::select! { _ = up => {}, _ = down => {} }
        if carries_part.load(Ordering::SeqCst) {
            self.parts_open.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Record request lines (`PUT /…`) that end in this window after `old` bytes;
    /// whether one of them uploads a part.
    fn scan(&self, window: &[u8], old: usize) -> bool {
        let text = String::from_utf8_lossy(window);
        let mut part = false;
        let mut from = 0;
        while let Some(i) = text[from..].find("PUT /") {
            let start = from + i;
            let Some(end) = text[start..].find(" HTTP/1.1") else {
                break;
            };
            let end = start + end;
            if end >= old {
                let line = text[start..end].to_owned();
                part |= line.contains("partNumber=");
                let mut reqs = self.requests.lock().unwrap();
                reqs.push(line.clone());
                let parts = reqs.iter().filter(|l| l.contains("partNumber=")).count();
                let limit = self.cut_after_parts.load(Ordering::SeqCst);
                if limit > 0 && parts >= limit {
                    self.cut();
                }
            }
            from = end;
        }
        part
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.cut_after_parts.store(0, Ordering::SeqCst);
        self.open.store(true, Ordering::SeqCst);
    }

    fn lines(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn bucket(endpoint: &str, name: &str) {
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

fn spec(app: &TestApp, name: &str, endpoint: &str, bucket: &str, policy: &str) -> MirrorSpec {
    let creds = app.dir.path().join(format!("{name}.toml"));
    std::fs::write(
        &creds,
        "access_key_id = \"testing\"\nsecret_access_key = \"testing\"\n",
    )
    .unwrap();
    MirrorSpec {
        name: name.into(),
        endpoint: endpoint.into(),
        region: "us-east-1".into(),
        bucket: bucket.into(),
        prefix: "arca".into(),
        credentials: Credentials::File(creds),
        policy: policy.parse().unwrap(),
        readers: Default::default(),
    }
}

fn big(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

/// The bytes a mirror holds for `sha`, read with the mirror's credentials.
async fn on_mirror(endpoint: &str, bucket: &str, sha: &str) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("c.toml");
    std::fs::write(
        &creds,
        "access_key_id = \"testing\"\nsecret_access_key = \"testing\"\n",
    )
    .unwrap();
    let spec = MirrorSpec {
        name: bucket.into(),
        endpoint: endpoint.into(),
        region: "us-east-1".into(),
        bucket: bucket.into(),
        prefix: "arca".into(),
        credentials: Credentials::File(creds),
        policy: MirrorPolicy::Released,
        readers: Default::default(),
    };
    let m = arca::storage::mirror::Mirror::open(&spec, 5 << 20).unwrap();
    let out = dir.path().join("copy");
    m.download(sha, &out).await.unwrap()?;
    Some(std::fs::read(out).unwrap())
}

async fn app_with_mirrors() -> TestApp {
    TestApp::configured(|c| {
        c.mirrors.part_size = 5 << 20;
        // Few enough on the wire that the outage test cuts the line after some parts
        // have been accepted.
        c.mirrors.requests_in_flight = 3;
        c.fixity.max_mb_per_sec = 0;
        // A failed run waits: the tests decide when to retry.
        c.jobs.retry_base_ms = 3_600_000;
    })
    .await
}

async fn transfers_of(app: &TestApp, deposit: &str) -> Vec<arca::db::mirrors::TransferRow> {
    app.services
        .mirrors()
        .transfers(Some(deposit), "", 100)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_release_is_replicated_to_every_public_mirror_and_verified() {
    let (_moto, endpoint) = start_moto().await;
    bucket(&endpoint, "site-a").await;
    bucket(&endpoint, "site-b").await;
    bucket(&endpoint, "trusted").await;
    let app = app_with_mirrors().await;
    for (name, b, policy) in [
        ("site-a", "site-a", "released"),
        ("site-b", "site-b", "released"),
        ("trusted", "trusted", "all"),
    ] {
        app.services
            .mirrors()
            .add(
                spec(&app, name, &endpoint, b, policy),
                arca::services::mirrors::AddedBy::Operator,
            )
            .await
            .unwrap();
    }
    let frames = big(13 << 20, 1);
    let held = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("held.h5", b"held only")],
            "on_hold",
        )
        .await;
    // Held data goes only to the trusted site.
    let held_sha = sha256_hex(b"held only");
    assert!(on_mirror(&endpoint, "trusted", &held_sha).await.is_some());
    assert!(on_mirror(&endpoint, "site-a", &held_sha).await.is_none());
    assert!(on_mirror(&endpoint, "site-b", &held_sha).await.is_none());
    assert_eq!(transfers_of(&app, &held).await.len(), 1);

    let id = app
        .deposit_through(
            json!({"metadata": metadata()}),
            // The same bytes under two names: one object, sent once.
            &[
                ("frames.h5", &frames),
                ("copy/frames.h5", &frames),
                ("notes.txt", b"notes"),
            ],
            "released",
        )
        .await;
    for site in ["site-a", "site-b", "trusted"] {
        assert_eq!(
            on_mirror(&endpoint, site, &sha256_hex(&frames))
                .await
                .as_deref(),
            Some(&frames[..]),
            "{site}"
        );
        assert_eq!(
            on_mirror(&endpoint, site, &sha256_hex(b"notes"))
                .await
                .as_deref(),
            Some(&b"notes"[..])
        );
    }
    let ts = transfers_of(&app, &id).await;
    assert_eq!(
        ts.len(),
        3,
        "trusted at approval, the public sites at release"
    );
    for t in &ts {
        assert_eq!(t.state, TransferState::Succeeded, "{t:?}");
        let total = 2 * frames.len() as i64 + 5;
        assert_eq!((t.files_total, t.bytes_total), (3, total));
        assert_eq!((t.files_done, t.bytes_done), (3, total));
    }
    // The landing page names the mirrors with verified copies.
    let ds = app.dataset_of(&id).await;
    let page = String::from_utf8(
        app.public(&format!("/datasets/{ds}"), &[])
            .await
            .body
            .to_vec(),
    )
    .unwrap();
    assert!(
        page.contains("Verified copies at: site-a (checked") && page.contains("site-b (checked"),
        "{page}"
    );
    // The deposit's page says where it has been copied; nothing is under way, so the
    // page is not watched.
    let mut curator = signed_in_curator(&app).await;
    let page = text(&curator.get(&format!("/deposits/{id}")).await);
    let copies = &page[page
        .find("Copies at other sites")
        .expect("the copies are listed")..];
    for site in ["site-a", "site-b", "trusted"] {
        assert!(
            copies.contains(&format!(
                "<strong>{site}</strong>: copied and checked: 3 files"
            )),
            "{copies}"
        );
    }
    assert!(!page.contains("data-live"), "{page}");
    // No multipart upload is left open anywhere.
    assert_eq!(app.count("mirror_uploads").await, 0);
    // Curators follow transfers over the API; authors do not see them.
    let r = app
        .json(
            Method::GET,
            &format!("/api/v1/transfers?deposit={id}"),
            &app.curator,
            None,
        )
        .await;
    let listed = r.json()["transfers"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .iter()
            .all(|t| t["state"] == "succeeded" && t["bytes"]["done"] == t["bytes"]["total"])
    );
    let r = app
        .json(Method::GET, "/api/v1/transfers", &app.author, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .json(Method::GET, "/api/v1/mirrors", &app.curator, None)
        .await;
    assert_eq!(r.json()["mirrors"].as_array().unwrap().len(), 3);
    assert!(
        !r.json().to_string().contains("testing"),
        "credentials are never shown"
    );

    // Withdrawal takes the data off public mirrors (not what other releases share).
    let r = app
        .act(
            &app.curator,
            &id,
            "withdraw",
            Some(json!({"reason": "wrong crystal"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.drain().await;
    assert!(
        on_mirror(&endpoint, "site-a", &sha256_hex(&frames))
            .await
            .is_none()
    );
    assert!(
        on_mirror(&endpoint, "trusted", &sha256_hex(&frames))
            .await
            .is_some()
    );
    let r = app.json(Method::GET, "/metrics", &app.curator, None).await;
    assert!(
        String::from_utf8_lossy(&r.body).contains("arca_transfers_total{outcome=\"succeeded\"} 4")
    );
}

#[tokio::test]
async fn a_transfer_cut_by_an_outage_resumes_without_resending_accepted_parts() {
    let (_moto, endpoint) = start_moto().await;
    bucket(&endpoint, "far").await;
    let (proxy, via) = Proxy::start(endpoint.clone()).await;
    let app = app_with_mirrors().await;
    app.services
        .mirrors()
        .add(
            spec(&app, "far", &via, "far", "released"),
            arca::services::mirrors::AddedBy::Operator,
        )
        .await
        .unwrap();
    // Eight parts of 5 MiB; the line goes down while the sixth is on its way.
    let frames = big(40 << 20, 7);
    let sha = sha256_hex(&frames);
    let already = b"already on the mirror".to_vec();
    // This one is on the mirror before Arca sends anything: it must be skipped.
    reqwest::Client::new()
        .put(format!(
            "{endpoint}/far/arca/sha256/{}/{}/{}",
            &sha256_hex(&already)[..2],
            &sha256_hex(&already)[2..4],
            sha256_hex(&already)
        ))
        .body(already.clone())
        .send()
        .await
        .unwrap();
    proxy.cut_after_parts.store(6, Ordering::SeqCst);
    let id = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("a.h5", &frames), ("b.txt", &already)],
            "released",
        )
        .await;
    let t = transfers_of(&app, &id).await.pop().unwrap();
    assert_eq!(t.state, TransferState::Failed, "{t:?}");
    assert!(t.faults >= 1 && t.last_error.is_some());
    // Several parts were on the wire at once, never more than requests_in_flight.
    let most = proxy.most_parts_open.load(Ordering::SeqCst);
    assert!((2..=3).contains(&most), "{most} parts in flight at once");
    let mut conn = app.services.db.conn().await.unwrap();
    let accepted: Vec<i64> =
        sqlx::query_scalar("SELECT part_number FROM mirror_parts WHERE sha256 = $1")
            .bind(&sha)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    drop(conn);
    assert!(!accepted.is_empty() && accepted.len() < 8, "{accepted:?}");
    // The unfinished object already shows the parts the mirror accepted (beside the
    // small object, if it was done before the line went down).
    assert!(t.files_done <= 1, "{t:?}");
    assert_eq!(
        t.bytes_done,
        accepted.len() as i64 * (5 << 20) + t.files_done * already.len() as i64,
        "{t:?}"
    );
    let before = proxy.lines().len();

    proxy.restore();
    let r = app.services.mirrors().retry_transfer(&t.id).await.unwrap();
    assert_eq!(r.state, TransferState::Queued);
    app.drain().await;
    let t = app.services.mirrors().transfer(&t.id).await.unwrap();
    assert_eq!(t.state, TransferState::Succeeded, "{t:?}");
    assert_eq!(
        on_mirror(&endpoint, "far", &sha).await.as_deref(),
        Some(&frames[..])
    );
    // Parts the mirror had accepted were not sent again; the others were, once each.
    let after: Vec<String> = proxy.lines()[before..].to_vec();
    for n in 0..8i64 {
        let sent = after
            .iter()
            .filter(|l| l.contains(&format!("partNumber={}&", n + 1)))
            .count();
        if accepted.contains(&n) {
            assert_eq!(sent, 0, "part {} was re-sent", n + 1);
        } else {
            assert_eq!(sent, 1, "part {} sent {sent} times", n + 1);
        }
    }
    // The object already on the mirror was read and found right: never uploaded.
    let already_sha = sha256_hex(&already);
    assert!(!proxy.lines().iter().any(|l| l.contains(&already_sha)));
    assert_eq!(app.count("mirror_uploads").await, 0);
}

#[tokio::test]
async fn fixity_finds_flipped_bytes_on_a_mirror_and_in_the_primary_store_and_repairs_both() {
    let (_moto, endpoint) = start_moto().await;
    bucket(&endpoint, "far").await;
    let app = app_with_mirrors().await;
    app.services
        .mirrors()
        .add(
            spec(&app, "far", &endpoint, "far", "released"),
            arca::services::mirrors::AddedBy::Operator,
        )
        .await
        .unwrap();
    let a = big(6 << 20, 3);
    let b = b"the second file".to_vec();
    app.deposit_through(
        json!({"metadata": metadata()}),
        &[("a.h5", &a), ("b.txt", &b)],
        "released",
    )
    .await;
    let (sa, sb) = (sha256_hex(&a), sha256_hex(&b));
    let clean = app.services.fixity().run().await.unwrap();
    assert!(clean.problems.is_empty(), "{:?}", clean.problems);
    assert_eq!(clean.checked, 4, "two objects here, two on the mirror");

    // One flipped byte in the mirror's copy of a, one in the primary copy of b.
    let mut bad_a = a.clone();
    bad_a[1234] ^= 0x40;
    let mirror = arca::storage::mirror::Mirror::open(
        &spec(&app, "far", &endpoint, "far", "released"),
        5 << 20,
    )
    .unwrap();
    mirror.corrupt_for_test(&sa, bad_a.into()).await.unwrap();
    let mut bad_b = b.clone();
    bad_b[0] ^= 1;
    app.services
        .storage
        .corrupt_for_test(&sb, bad_b.into())
        .await
        .unwrap();

    let run = app.services.fixity().run().await.unwrap();
    let found: Vec<(String, String, String)> = run
        .problems
        .iter()
        .map(|(loc, sha, what, _)| (loc.clone(), sha.clone(), what.clone()))
        .collect();
    assert_eq!(found.len(), 2, "{:?}", run.problems);
    assert!(found.contains(&("primary".into(), sb.clone(), "corrupt".into())));
    assert!(found.contains(&("far".into(), sa.clone(), "corrupt".into())));
    // Both repaired, and the repairs verify.
    assert_eq!(
        app.services.storage.read_all(&sb).await.unwrap().as_ref(),
        &b[..]
    );
    assert_eq!(
        on_mirror(&endpoint, "far", &sa).await.as_deref(),
        Some(&a[..])
    );
    let again = app.services.fixity().run().await.unwrap();
    assert!(again.problems.is_empty(), "{:?}", again.problems);
    // Raised where operators look: the report, the metrics, the curators' notifications.
    let (summary, problems) = app.services.fixity().report(1).await.unwrap();
    let repaired_at = |location: &str| {
        summary
            .iter()
            .find(|c| c.location == location && c.outcome == FixityOutcome::Repaired)
            .map(|c| c.count)
    };
    assert_eq!(repaired_at("primary"), Some(1), "{summary:?}");
    assert_eq!(repaired_at("far"), Some(1), "{summary:?}");
    assert_eq!(problems.len(), 4, "two found, two repaired: {problems:?}");
    let r = app
        .json(Method::GET, "/api/v1/notifications", &app.curator, None)
        .await;
    assert!(r.json().to_string().contains("fixity: the copy of"));
    let r = app.public("/metrics", &[]).await;
    assert!(
        String::from_utf8_lossy(&r.body)
            .contains("arca_fixity_checks_total{location=\"far\",outcome=\"corrupt\"} 1")
    );
}

/// Manifests give readers the mirrors' URLs: public buckets by their published address,
/// others signed by the archive; a reviewer link only a trusted mirror's, signed.
#[tokio::test]
async fn manifests_give_mirror_urls_readers_can_fetch_and_reviewers_only_trusted_signed_ones() {
    use arca::storage::mirror::Readers;
    let (_moto, endpoint) = start_moto().await;
    let app = app_with_mirrors().await;
    for (name, policy, readers) in [
        (
            "open",
            "released",
            Readers::Public(format!("{endpoint}/open")),
        ),
        ("signed", "released", Readers::Presigned),
        ("quiet", "released", Readers::None),
        ("trusted", "all", Readers::Presigned),
        (
            "trusted-open",
            "all",
            Readers::Public(format!("{endpoint}/trusted-open")),
        ),
    ] {
        if matches!(readers, Readers::Public(_)) {
            // Published: anyone may read it.
            let r = reqwest::Client::new()
                .put(format!("{endpoint}/{name}"))
                .header("x-amz-acl", "public-read")
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        } else {
            bucket(&endpoint, name).await;
        }
        let mut s = spec(&app, name, &endpoint, name, policy);
        s.readers = readers;
        app.services
            .mirrors()
            .add(s, arca::services::mirrors::AddedBy::Operator)
            .await
            .unwrap();
    }
    let http = reqwest::Client::new();
    let fetch = |url: String, range: Option<&'static str>| {
        let mut r = http.get(url);
        if let Some(range) = range {
            r = r.header("range", range);
        }
        async move {
            let resp = r.send().await.unwrap();
            (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
        }
    };
    let mirrors_of = |m: &Value, path: &str| -> Vec<(String, String)> {
        let f = m["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()
            .clone();
        f["mirrors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["mirror"].as_str().unwrap().to_owned(),
                    x["url"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    // Held: only the trusted mirror that signs its URLs is named to a reviewer.
    let held = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("held.h5", b"held frames")],
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
    let link = r.json()["url"].as_str().unwrap().to_owned();
    let review = &link[link.find("/review/").unwrap()..];
    // The reviewer's page links its manifest and the command that fetches it all.
    let page = String::from_utf8(app.public(review, &[]).await.body.to_vec()).unwrap();
    assert!(
        page.contains(&format!("href=\"{review}/manifest.json\"")),
        "{page}"
    );
    assert!(
        page.contains(&format!("arca download {link} DIR")),
        "{page}"
    );
    let r = app.public(&format!("{review}/manifest.json"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let m = r.json();
    let held_mirrors = mirrors_of(&m, "held.h5");
    assert_eq!(
        held_mirrors
            .iter()
            .map(|x| x.0.as_str())
            .collect::<Vec<_>>(),
        ["trusted"],
        "{m}"
    );
    assert!(m["urls_expire_at"].is_string());
    assert_eq!(
        fetch(held_mirrors[0].1.clone(), None).await,
        (200, b"held frames".to_vec())
    );
    // Nothing of it is public.
    let ds = app.dataset_of(&held).await;
    let r = app
        .public(&format!("/datasets/{ds}/manifest.json"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Released: every mirror open to readers, each URL serving the bytes, ranges too.
    let frames = big(6 << 20, 9);
    let id = app
        .deposit_through(
            json!({"metadata": metadata()}),
            &[("frames.h5", &frames)],
            "released",
        )
        .await;
    let ds = app.dataset_of(&id).await;
    let r = app
        .public(&format!("/datasets/{ds}/manifest.json"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let m = r.json();
    let copies = mirrors_of(&m, "frames.h5");
    let names: Vec<&str> = copies.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(names, ["open", "signed", "trusted", "trusted-open"], "{m}");
    assert!(
        copies[0]
            .1
            .starts_with(&format!("{endpoint}/open/arca/sha256/"))
    );
    assert!(copies[1].1.contains("X-Amz-Signature="), "{}", copies[1].1);
    for (name, url) in &copies {
        let (status, body) = fetch(url.clone(), None).await;
        assert_eq!(status, 200, "{name}");
        assert!(body == frames, "{name}: the mirror's bytes");
        let (status, body) = fetch(url.clone(), Some("bytes=100-199")).await;
        assert_eq!((status, &body[..]), (206, &frames[100..200]), "{name}");
    }
    // An operator closes a mirror to readers: it is no longer named.
    app.services
        .mirrors()
        .set_readers("open", Readers::None)
        .await
        .unwrap();
    let m = app
        .public(&format!("/datasets/{ds}/manifest.json"), &[])
        .await
        .json();
    assert!(!mirrors_of(&m, "frames.h5").iter().any(|x| x.0 == "open"));
    // A public address must be a web address.
    let e = app
        .services
        .mirrors()
        .set_readers("open", Readers::Public("file:///etc".into()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("public_url"), "{e}");
}
