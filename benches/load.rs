//! Mixed load against a running server (bench/load.sh starts it): 32 uploaders (tus, in
//! 1 MiB PATCHes, one upload in four cut off mid-request and resumed), 64 readers of
//! landing pages and files, an OAI-PMH harvester paging through ListRecords, and four
//! curators approving what was verified, all at once for a bounded time. Prints
//! requests per second, p50/p99 per route, answers by status, whether every uploaded
//! byte arrived, and the server's peak memory.
//!
//! Settings come from the environment (bench/load.sh sets them): ARCA_LOAD_BASE,
//! ARCA_LOAD_PID, ARCA_LOAD_AUTHORS (tokens, comma-separated), ARCA_LOAD_CURATOR,
//! ARCA_LOAD_SECONDS.

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Stats {
    /// Route → latencies in microseconds.
    latency: BTreeMap<&'static str, Vec<u64>>,
    /// Route → status → count.
    status: BTreeMap<&'static str, BTreeMap<u16, u64>>,
    uploaded_bytes: u64,
}

#[derive(Clone)]
struct Load {
    base: String,
    stats: Arc<Mutex<Stats>>,
    deadline: Instant,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (run bench/load.sh)"))
}

fn client(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h.insert("tus-resumable", "1.0.0".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(h)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

impl Load {
    fn live(&self) -> bool {
        Instant::now() < self.deadline
    }

    fn record(&self, route: &'static str, started: Instant, status: u16) {
        let mut s = self.stats.lock().unwrap();
        s.latency
            .entry(route)
            .or_default()
            .push(started.elapsed().as_micros() as u64);
        *s.status
            .entry(route)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    async fn send(
        &self,
        route: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Option<reqwest::Response> {
        let t = Instant::now();
        match req.send().await {
            Ok(r) => {
                self.record(route, t, r.status().as_u16());
                Some(r)
            }
            Err(_) => {
                self.record(route, t, 0);
                None
            }
        }
    }

    async fn json(&self, route: &'static str, req: reqwest::RequestBuilder) -> Value {
        match self.send(route, req).await {
            Some(r) => r.json().await.unwrap_or(Value::Null),
            None => Value::Null,
        }
    }
}

fn metadata(title: &str) -> Value {
    json!({"metadata": {"titles": [{"title": title}], "creators": [{"name": "Load, Test", "nameType": "Personal"}],
        "publisher": {"name": "Arca"}, "publicationYear": 2026, "types": {"resourceTypeGeneral": "Dataset"}}})
}

/// One uploader: deposits of four 8 MiB files, each sent in 1 MiB PATCHes; every fourth
/// file is cut off once half-way through a PATCH and resumed from the server's offset.
/// Returns (deposit, path, sha256) of every file the server acknowledged whole.
async fn uploader(load: Load, c: reqwest::Client, n: usize) -> Vec<(String, String, String)> {
    let mut rng = StdRng::seed_from_u64(n as u64);
    // One buffer of random bytes per uploader, each file made unique by its first 16
    // bytes: the generator's CPU goes to sending, not to making data.
    let mut data = vec![0u8; 8 << 20];
    rng.fill(&mut data[..]);
    let mut done = Vec::new();
    let mut file_no = 0;
    while load.live() {
        let v = load
            .json(
                "POST /api/v1/deposits",
                c.post(format!("{}/api/v1/deposits", load.base))
                    .json(&metadata(&format!("Load {n}"))),
            )
            .await;
        let Some(d) = v["id"].as_str().map(str::to_owned) else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        for f in 0..4 {
            if !load.live() {
                break;
            }
            file_no += 1;
            data[..8].copy_from_slice(&(n as u64).to_le_bytes());
            data[8..16].copy_from_slice(&(file_no as u64).to_le_bytes());
            let path = format!("frames/f{f}.cbf");
            let meta = format!("deposit {},filename {}", base64(&d), base64(&path));
            let Some(r) = load
                .send(
                    "POST /api/v1/uploads",
                    c.post(format!("{}/api/v1/uploads", load.base))
                        .header("upload-length", data.len())
                        .header("upload-metadata", meta),
                )
                .await
            else {
                continue;
            };
            let Some(loc) = r
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned)
            else {
                continue;
            };
            let url = format!("{}{loc}", load.base);
            let mut offset = 0usize;
            let mut cut = file_no % 4 == 0;
            while offset < data.len() && load.live() {
                let end = (offset + (1 << 20)).min(data.len());
                if cut {
                    // Half a PATCH, then the connection drops.
                    cut = false;
                    let half = data[offset..offset + (end - offset) / 2].to_vec();
                    let body = futures::stream::iter(vec![
                        Ok::<_, std::io::Error>(half),
                        Err(std::io::Error::other("cut")),
                    ]);
                    let _ = c
                        .patch(&url)
                        .header("content-type", "application/offset+octet-stream")
                        .header("upload-offset", offset)
                        .body(reqwest::Body::wrap_stream(body))
                        .send()
                        .await;
                    let Some(r) = load.send("HEAD /api/v1/uploads/{id}", c.head(&url)).await else {
                        break;
                    };
                    offset = r
                        .headers()
                        .get("upload-offset")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(offset);
                    continue;
                }
                let Some(r) = load
                    .send(
                        "PATCH /api/v1/uploads/{id}",
                        c.patch(&url)
                            .header("content-type", "application/offset+octet-stream")
                            .header("upload-offset", offset)
                            .body(data[offset..end].to_vec()),
                    )
                    .await
                else {
                    break;
                };
                if r.status() == 204 {
                    load.stats.lock().unwrap().uploaded_bytes += (end - offset) as u64;
                    offset = end;
                } else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let Some(r) = load.send("HEAD /api/v1/uploads/{id}", c.head(&url)).await else {
                        break;
                    };
                    offset = r
                        .headers()
                        .get("upload-offset")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(offset);
                }
            }
            if offset == data.len() {
                done.push((d.clone(), path, hex::encode(Sha256::digest(&data))));
            }
        }
        load.send(
            "POST /api/v1/deposits/{id}/submit",
            c.post(format!("{}/api/v1/deposits/{d}/submit", load.base)),
        )
        .await;
    }
    done
}

async fn reader(load: Load, pages: Arc<Vec<(String, Vec<String>)>>, n: usize) {
    let mut rng = StdRng::seed_from_u64(1000 + n as u64);
    let http = reqwest::Client::new();
    while load.live() {
        let (ds, files) = &pages[rng.random_range(0..pages.len())];
        if let Some(r) = load
            .send(
                "GET /datasets/{id}",
                http.get(format!("{}/datasets/{ds}", load.base)),
            )
            .await
        {
            let _ = r.bytes().await;
        }
        let f = &files[rng.random_range(0..files.len())];
        if let Some(r) = load
            .send(
                "GET /datasets/{id}/files/{path}",
                http.get(format!("{}/datasets/{ds}/files/{f}", load.base)),
            )
            .await
        {
            let _ = r.bytes().await;
        }
    }
}

async fn harvester(load: Load) {
    let http = reqwest::Client::new();
    while load.live() {
        let mut url = format!(
            "{}/oai?verb=ListRecords&metadataPrefix=oai_datacite",
            load.base
        );
        loop {
            let Some(r) = load.send("GET /oai", http.get(&url)).await else {
                break;
            };
            let text = r.text().await.unwrap_or_default();
            let token = text
                .split("<resumptionToken")
                .nth(1)
                .and_then(|t| t.split('>').nth(1))
                .and_then(|t| t.split('<').next())
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            match token {
                Some(t) if load.live() => {
                    url = format!("{}/oai?verb=ListRecords&resumptionToken={t}", load.base)
                }
                _ => break,
            }
        }
    }
}

async fn curator(load: Load, c: reqwest::Client) {
    while load.live() {
        let v = load
            .json(
                "GET /api/v1/deposits",
                c.get(format!(
                    "{}/api/v1/deposits?state=verified&limit=20",
                    load.base
                )),
            )
            .await;
        for d in v["deposits"].as_array().into_iter().flatten() {
            if let Some(id) = d["id"].as_str() {
                load.send(
                    "POST /api/v1/deposits/{id}/approve",
                    c.post(format!("{}/api/v1/deposits/{id}/approve", load.base)),
                )
                .await;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn peak_rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let base = env("ARCA_LOAD_BASE");
    let pid = env("ARCA_LOAD_PID");
    let authors: Vec<String> = env("ARCA_LOAD_AUTHORS")
        .split(',')
        .map(str::to_owned)
        .collect();
    let curator_token = env("ARCA_LOAD_CURATOR");
    let seconds: u64 = env("ARCA_LOAD_SECONDS").parse().unwrap();
    let pages: Vec<(String, Vec<String>)> = serde_json::from_str(&env("ARCA_LOAD_PAGES")).unwrap();
    let pages = Arc::new(pages);
    let stats = Arc::new(Mutex::new(Stats::default()));
    let start = Instant::now();
    let load = Load {
        base: base.clone(),
        stats: stats.clone(),
        deadline: start + Duration::from_secs(seconds),
    };
    let mut uploads = Vec::new();
    for n in 0..32 {
        uploads.push(tokio::spawn(uploader(
            load.clone(),
            client(&authors[n % authors.len()]),
            n,
        )));
    }
    let mut others = Vec::new();
    for n in 0..64 {
        others.push(tokio::spawn(reader(load.clone(), pages.clone(), n)));
    }
    others.push(tokio::spawn(harvester(load.clone())));
    for _ in 0..4 {
        others.push(tokio::spawn(curator(load.clone(), client(&curator_token))));
    }
    let mut acknowledged = Vec::new();
    for u in uploads {
        acknowledged.extend(u.await.unwrap());
    }
    for o in others {
        o.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();

    // No lost bytes: every file acknowledged whole is in its deposit with its hash.
    let check = client(&curator_token);
    let mut lost = 0;
    for (d, path, sha) in &acknowledged {
        let v: Value = check
            .get(format!("{base}/api/v1/deposits/{d}/files"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ok = v["files"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["path"] == path.as_str() && f["sha256"] == sha.as_str());
        if !ok {
            lost += 1;
            println!("LOST: {d} {path}");
        }
    }

    let s = stats.lock().unwrap();
    let total: u64 = s.status.values().flat_map(|m| m.values()).sum();
    println!(
        "mixed load for {elapsed:.0} s: {total} requests, {:.0} requests/s, uploads {:.1} MiB/s",
        total as f64 / elapsed,
        s.uploaded_bytes as f64 / (1 << 20) as f64 / elapsed
    );
    println!(
        "{:<40} {:>8} {:>9} {:>9} {:>9}  statuses",
        "route", "count", "p50 ms", "p99 ms", "max ms"
    );
    let mut server_errors = 0;
    for (route, lat) in &s.latency {
        let mut l = lat.clone();
        l.sort_unstable();
        let statuses = &s.status[route];
        server_errors += statuses
            .iter()
            .filter(|(k, _)| **k >= 500 || **k == 0)
            .map(|(_, v)| v)
            .sum::<u64>();
        let st: Vec<String> = statuses.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        println!(
            "{route:<40} {:>8} {:>9.1} {:>9.1} {:>9.1}  {}",
            l.len(),
            percentile(&l, 0.5),
            percentile(&l, 0.99),
            percentile(&l, 1.0),
            st.join(" ")
        );
    }
    println!(
        "files acknowledged whole: {}, lost: {lost}; 5xx or failed connections: {server_errors}; server peak memory {} MiB",
        acknowledged.len(),
        peak_rss_kib(&pid).map_or("?".into(), |k| (k / 1024).to_string())
    );
    if lost > 0 || server_errors > 0 {
        std::process::exit(1);
    }
}
