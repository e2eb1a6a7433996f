//! SIGKILL at random moments while an archive does everything at once: uploads in
//! chunks, verification, DOI registration at a DataCite sandbox, release batches of
//! several items and a mirror transfer to a real S3 server (moto). After each kill the
//! server is restarted and the archive must keep its promises: every acknowledged byte
//! is there, nothing acknowledged goes back, and no dataset is half released (its state,
//! landing page, files, OAI record and search entry agree). In the end every job
//! converges: DOIs findable, transfers done, no job failed.

use super::{Archive, Server, client};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DEPOSITS: usize = 9;
const PER_BATCH: usize = 3;
const KILLS: usize = 24;
const BIG: usize = 3 << 20;
const CHUNK: usize = 256 << 10;

/// What the server acknowledged: it must never be lost.
#[derive(Default, Debug)]
struct Ledger {
    deposits: Vec<Option<String>>,
    /// Upload location → (deposit, path, acknowledged offset).
    uploads: BTreeMap<String, (String, String, u64)>,
    /// Deposit → the furthest state a 200 confirmed.
    reached: BTreeMap<String, &'static str>,
    batches: Vec<Option<String>>,
}

const ORDER: [&str; 6] = [
    "draft",
    "submitted",
    "verified",
    "approved",
    "scheduled",
    "released",
];

fn rank(state: &str) -> usize {
    ORDER.iter().position(|s| *s == state).unwrap_or(0)
}

fn frames(i: usize) -> Vec<u8> {
    super::pseudo_random(BIG, 1000 + i as u64)
}

fn title(i: usize) -> String {
    format!("Crashproof{i} lysozyme")
}

struct Ctx {
    base: String,
    author: reqwest::Client,
    curator: reqwest::Client,
    ledger: Arc<Mutex<Ledger>>,
}

type Step = Result<(), String>;

fn e(what: &str, err: impl std::fmt::Display) -> String {
    format!("{what}: {err}")
}

impl Ctx {
    async fn json(
        &self,
        c: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let mut req = c.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.map_err(|x| e(path, x))?;
        let status = r.status().as_u16();
        let v = r.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, v))
    }

    /// A deposit as its curators see it.
    async fn deposit(&self, d: &str) -> Value {
        let path = format!("/api/v1/deposits/{d}");
        let (_, v) = self
            .json(&self.curator, reqwest::Method::GET, &path, None)
            .await
            .unwrap();
        v
    }

    async fn state(&self, d: &str) -> Result<String, String> {
        let (s, v) = self
            .json(
                &self.author,
                reqwest::Method::GET,
                &format!("/api/v1/deposits/{d}"),
                None,
            )
            .await?;
        if s != 200 {
            return Err(format!("deposit {d}: {s}"));
        }
        Ok(v["state"].as_str().unwrap_or_default().to_owned())
    }

    fn reached(&self, d: &str, state: &'static str) {
        let mut l = self.ledger.lock().unwrap();
        let at = l.reached.entry(d.to_owned()).or_insert("draft");
        if rank(state) > rank(at) {
            *at = state;
        }
    }

    /// Send one file through tus in chunks, each acknowledged chunk recorded.
    async fn upload(&self, d: &str, path: &str, data: &[u8]) -> Step {
        let files = self
            .json(
                &self.author,
                reqwest::Method::GET,
                &format!("/api/v1/deposits/{d}/files"),
                None,
            )
            .await?
            .1;
        if files["files"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["path"] == path))
        {
            return Ok(());
        }
        let mut known = {
            let l = self.ledger.lock().unwrap();
            l.uploads
                .iter()
                .find(|(_, (dep, p, _))| dep == d && p == path)
                .map(|(loc, _)| loc.clone())
        };
        if known.is_none() {
            // Created just before a crash, its answer lost: a resuming client finds it
            // among the deposit's unfinished uploads.
            let (_, v) = self
                .json(
                    &self.author,
                    reqwest::Method::GET,
                    &format!("/api/v1/deposits/{d}/uploads"),
                    None,
                )
                .await?;
            known = v["uploads"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|u| u["path"] == path)
                .and_then(|u| u["location"].as_str())
                .map(str::to_owned);
            if let Some(loc) = &known {
                self.ledger
                    .lock()
                    .unwrap()
                    .uploads
                    .insert(loc.clone(), (d.to_owned(), path.to_owned(), 0));
            }
        }
        let loc = match known {
            Some(loc) => loc,
            None => {
                let meta = format!(
                    "deposit {},filename {}",
                    super::base64_encode(d),
                    super::base64_encode(path)
                );
                let r = self
                    .author
                    .post(format!("{}/api/v1/uploads", self.base))
                    .header("upload-length", data.len())
                    .header("upload-metadata", meta)
                    .send()
                    .await
                    .map_err(|x| e("create", x))?;
                if r.status() != 201 {
                    return Err(format!("create: {}", r.status()));
                }
                let loc = r.headers()["location"].to_str().unwrap().to_owned();
                self.ledger
                    .lock()
                    .unwrap()
                    .uploads
                    .insert(loc.clone(), (d.to_owned(), path.to_owned(), 0));
                loc
            }
        };
        let url = format!("{}{loc}", self.base);
        let r = self
            .author
            .head(&url)
            .send()
            .await
            .map_err(|x| e("head", x))?;
        if r.status() == 404 {
            // Finished meanwhile (the file is in the list on the next pass).
            return Ok(());
        }
        let mut offset: usize = r.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        while offset < data.len() {
            let end = (offset + CHUNK).min(data.len());
            let r = self
                .author
                .patch(&url)
                .header("content-type", "application/offset+octet-stream")
                .header("upload-offset", offset)
                .body(data[offset..end].to_vec())
                .send()
                .await
                .map_err(|x| e("patch", x))?;
            if r.status() != 204 {
                return Err(format!("patch: {}", r.status()));
            }
            offset = r.headers()["upload-offset"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            if let Some(u) = self.ledger.lock().unwrap().uploads.get_mut(&loc) {
                u.2 = offset as u64;
            }
        }
        Ok(())
    }

    /// One pass over the work: each deposit taken one step further, then the batches.
    async fn pass(&self) -> Result<bool, String> {
        use reqwest::Method;
        let mut all_released = true;
        for i in 0..DEPOSITS {
            let id = self.ledger.lock().unwrap().deposits[i].clone();
            let d = match id {
                Some(d) => d,
                None => {
                    let mut m = super::metadata_json();
                    m["titles"] = json!([{ "title": title(i) }]);
                    let (s, v) = self
                        .json(
                            &self.author,
                            Method::POST,
                            "/api/v1/deposits",
                            Some(json!({"metadata": m})),
                        )
                        .await?;
                    if s != 201 {
                        return Err(format!("create deposit: {s}"));
                    }
                    let d = v["id"].as_str().unwrap().to_owned();
                    self.ledger.lock().unwrap().deposits[i] = Some(d.clone());
                    d
                }
            };
            let state = self.state(&d).await?;
            match state.as_str() {
                "draft" => {
                    self.upload(&d, "frames/big.cbf", &frames(i)).await?;
                    self.upload(&d, "notes.txt", title(i).as_bytes()).await?;
                    let (s, _) = self
                        .json(
                            &self.author,
                            Method::POST,
                            &format!("/api/v1/deposits/{d}/submit"),
                            None,
                        )
                        .await?;
                    if s == 200 {
                        self.reached(&d, "submitted");
                    }
                }
                "verified" => {
                    let (s, _) = self
                        .json(
                            &self.curator,
                            Method::POST,
                            &format!("/api/v1/deposits/{d}/approve"),
                            None,
                        )
                        .await?;
                    if s == 200 {
                        self.reached(&d, "approved");
                    }
                }
                "submitted" | "approved" | "scheduled" => {}
                "released" => self.reached(&d, "released"),
                other => return Err(format!("{d} is {other}")),
            }
            all_released &= state == "released";
        }
        for b in 0..DEPOSITS / PER_BATCH {
            let members: Vec<String> = {
                let l = self.ledger.lock().unwrap();
                l.deposits[b * PER_BATCH..(b + 1) * PER_BATCH]
                    .iter()
                    .flatten()
                    .cloned()
                    .collect()
            };
            if members.len() < PER_BATCH {
                continue;
            }
            let mut states = Vec::new();
            for d in &members {
                states.push(self.state(d).await?);
            }
            if !states
                .iter()
                .all(|s| matches!(s.as_str(), "approved" | "scheduled" | "released"))
            {
                continue;
            }
            let batch = self.ledger.lock().unwrap().batches[b].clone();
            let batch = match batch {
                Some(id) => id,
                None => {
                    let at = humantime::format_rfc3339_seconds(
                        std::time::SystemTime::now() + Duration::from_secs(3600),
                    );
                    let (s, v) = self
                        .json(
                            &self.curator,
                            Method::POST,
                            "/api/v1/releases",
                            Some(json!({"release_at": at.to_string()})),
                        )
                        .await?;
                    if s != 201 {
                        return Err(format!("create batch: {s}"));
                    }
                    let id = v["id"].as_str().unwrap().to_owned();
                    self.ledger.lock().unwrap().batches[b] = Some(id.clone());
                    id
                }
            };
            for (d, st) in members.iter().zip(&states) {
                if st == "approved" {
                    let (s, _) = self
                        .json(
                            &self.curator,
                            Method::POST,
                            &format!("/api/v1/releases/{batch}/items"),
                            Some(json!({"deposit": d})),
                        )
                        .await?;
                    if s == 200 {
                        self.reached(d, "scheduled");
                    }
                }
            }
            let (_, v) = self
                .json(
                    &self.curator,
                    Method::GET,
                    &format!("/api/v1/releases/{batch}"),
                    None,
                )
                .await?;
            if v["state"] == "open" && v["items"].as_array().is_some_and(|i| i.len() == PER_BATCH) {
                self.json(
                    &self.curator,
                    Method::POST,
                    &format!("/api/v1/releases/{batch}/run"),
                    None,
                )
                .await?;
            }
        }
        Ok(all_released)
    }

    /// What must hold after any crash.
    async fn check(&self) {
        let ledger = {
            let l = self.ledger.lock().unwrap();
            (l.uploads.clone(), l.reached.clone(), l.deposits.clone())
        };
        let (uploads, reached, deposits) = ledger;
        for (loc, (d, path, acked)) in &uploads {
            let r = self
                .author
                .head(format!("{}{loc}", self.base))
                .send()
                .await
                .unwrap();
            if r.status() == 404 {
                // Completed: the file is there, whole and right.
                let files = self
                    .json(
                        &self.author,
                        reqwest::Method::GET,
                        &format!("/api/v1/deposits/{d}/files"),
                        None,
                    )
                    .await
                    .unwrap()
                    .1;
                let f = files["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["path"] == path.as_str());
                assert!(f.is_some(), "{path} of {d} lost: upload gone, no file");
                continue;
            }
            let offset: u64 = r.headers()["upload-offset"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                offset >= *acked,
                "{loc}: acknowledged {acked}, resumes at {offset}"
            );
        }
        for (i, d) in deposits.iter().enumerate() {
            let Some(d) = d else { continue };
            let state = self.state(d).await.unwrap();
            if let Some(r) = reached.get(d) {
                assert!(rank(&state) >= rank(r), "{d} went back from {r} to {state}");
            }
            let v = self.deposit(d).await;
            let ds = v["dataset_id"].as_str().unwrap().to_owned();
            let public = state == "released";
            let get = |p: String| {
                let base = self.base.clone();
                async move { reqwest::get(format!("{base}{p}")).await.unwrap() }
            };
            let landing = get(format!("/datasets/{ds}")).await.status();
            let file = get(format!("/datasets/{ds}/files/notes.txt")).await;
            let file_ok =
                file.status() == 200 && file.bytes().await.unwrap() == title(i).as_bytes();
            let oai = get(format!(
                "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:arca.local:{d}"
            ))
            .await
            .text()
            .await
            .unwrap()
            .contains(&title(i));
            let search = get(format!("/api/v1/datasets?q=Crashproof{i}"))
                .await
                .json::<Value>()
                .await
                .unwrap();
            let found = search["datasets"].as_array().is_some_and(|a| !a.is_empty());
            let seen = [landing == 200, file_ok, oai, found];
            assert!(
                seen.iter().all(|s| *s == public),
                "{d} is {state} but landing/file/OAI/search say {seen:?}"
            );
        }
    }
}

/// `arca serve` with the mirror's credentials in its environment.
async fn start(archive: &Archive) -> Server {
    archive
        .start_with(&[
            ("ARCA_MIRROR_KEY", "testing"),
            ("ARCA_MIRROR_SECRET", "testing"),
        ])
        .await
}

#[tokio::test]
async fn sigkill_at_random_moments_loses_nothing_and_everything_converges() {
    let seed: u64 = std::env::var("ARCA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test seed {seed} (ARCA_CRASH_SEED={seed} repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);

    let (_moto, s3) = super::start_moto().await;
    reqwest::Client::new()
        .put(format!("{s3}/crash-mirror"))
        .send()
        .await
        .unwrap();
    let sandbox = super::start_sandbox().await;
    let config = format!(
        "[doi]\nprovider = \"datacite\"\nprefix = \"10.80003\"\npublic_url = \"https://arca.example.org\"\n\
         [doi.datacite]\nurl = \"{}\"\nrepository_id = \"ARCA.SANDBOX\"\npassword = \"sandbox\"\n\
         [jobs]\nretry_base_ms = 50\nretry_max_ms = 500\n\
         [uploads]\ncheckpoint_bytes = 1048576\n[web]\npage_cache_seconds = 0\n",
        sandbox.base
    );
    let archive = Archive::new(&config).await;
    let author = client(&archive.author_token());
    let curator = client(&super::curator_token(&archive));
    let out = archive
        .cmd()
        .env("ARCA_MIRROR_KEY", "testing")
        .env("ARCA_MIRROR_SECRET", "testing")
        .args([
            "mirror",
            "add",
            "--name",
            "far",
            "--endpoint",
            &s3,
            "--bucket",
            "crash-mirror",
            "--key-env",
            "ARCA_MIRROR_KEY",
            "--secret-env",
            "ARCA_MIRROR_SECRET",
            "--policy",
            "released",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let ledger = Arc::new(Mutex::new(Ledger {
        deposits: vec![None; DEPOSITS],
        batches: vec![None; DEPOSITS / PER_BATCH],
        ..Default::default()
    }));
    let mut kills = 0;
    while kills < KILLS {
        let server = start(&archive).await;
        let ctx = Arc::new(Ctx {
            base: server.base.clone(),
            author: author.clone(),
            curator: curator.clone(),
            ledger: ledger.clone(),
        });
        ctx.check().await;
        let driver = {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                loop {
                    match ctx.pass().await {
                        Ok(true) => return,
                        Ok(false) => tokio::time::sleep(Duration::from_millis(20)).await,
                        Err(_) => return, // the server is gone
                    }
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..1200))).await;
        drop(server); // SIGKILL
        kills += 1;
        let _ = driver.await;
    }

    // The last start: finish the work, and let every job converge.
    let server = start(&archive).await;
    let ctx = Ctx {
        base: server.base.clone(),
        author,
        curator,
        ledger: ledger.clone(),
    };
    ctx.check().await;
    let mut done = false;
    let mut last_error = None;
    for _ in 0..3000 {
        // A refusal here is a race the client lost to its own earlier request (say, a
        // batch created just before a crash): the next pass sees the state anew.
        match ctx.pass().await {
            Ok(true) => {
                done = true;
                break;
            }
            Ok(false) => {}
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        done,
        "the work did not finish after {KILLS} crashes: {last_error:?}"
    );
    ctx.check().await;
    let db = arca::db::Db::connect(&archive.db_url).await.unwrap();
    let mut converged = false;
    for _ in 0..600 {
        let mut conn = db.conn().await.unwrap();
        let (pending, failed) = arca::db::jobs::counts(&mut conn).await.unwrap();
        assert_eq!(failed, 0, "a job failed for good");
        if pending == 0 {
            converged = true;
            break;
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(converged, "jobs still pending");
    let dc = reqwest::Client::new();
    let deposits: Vec<String> = ledger
        .lock()
        .unwrap()
        .deposits
        .iter()
        .flatten()
        .cloned()
        .collect();
    for d in deposits {
        let v = ctx.deposit(&d).await;
        let doi = v["doi"].as_str().unwrap().to_owned();
        let r: Value = dc
            .get(format!("{}/dois/{doi}", sandbox.base))
            .basic_auth("ARCA.SANDBOX", Some("sandbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["data"]["attributes"]["state"], "findable", "{doi}");
        let (_, t) = ctx
            .json(
                &ctx.curator,
                reqwest::Method::GET,
                &format!("/api/v1/transfers?deposit={d}"),
                None,
            )
            .await
            .unwrap();
        let transfers = t["transfers"].as_array().unwrap();
        assert!(
            transfers
                .iter()
                .any(|t| t["state"] == "succeeded" && t["files"]["done"] == 2),
            "{d}: {transfers:?}"
        );
    }
    println!("{kills} crashes survived (seed {seed})");
}
