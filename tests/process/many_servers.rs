//! The production deployment, as the README describes it: one database, one S3 store
//! (moto), three `arca serve --no-worker` and two `arca worker` processes, each with a
//! data directory of its own, behind nginx balancing round-robin with no stickiness.
//! `arca upload` and a plain tus client send files whose PATCH requests land on
//! different servers; one server is killed with SIGKILL mid-upload and the uploads
//! finish through the others; every file verifies, a release batch runs once, and one
//! fixity pass audits each object once.

use super::{Archive, Process, client, free_port, metadata_json, pseudo_random, sha256_hex};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The proxy configuration the README shows, with the test's ports and paths.
pub fn nginx_conf(dir: &Path, listen: u16, servers: &[u16]) -> String {
    let upstream: String = servers
        .iter()
        .map(|p| format!("        server 127.0.0.1:{p};\n"))
        .collect();
    let d = dir.display();
    format!(
        "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\
         # Round-robin, no stickiness: any server takes any request.\n\
         upstream arca {{\n{upstream}    }}\n\
         server {{\n        listen 127.0.0.1:{listen};\n\
         # Uploads are limited by Arca ([uploads] max_size), streamed, not buffered.\n\
         client_max_body_size 0;\n        proxy_request_buffering off;\n        proxy_buffering off;\n\
         location / {{\n            proxy_pass http://arca;\n            proxy_http_version 1.1;\n\
         proxy_set_header Connection \"\";\n            proxy_set_header Host $http_host;\n\
         proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
         proxy_set_header X-Forwarded-Proto $scheme;\n            proxy_read_timeout 600s;\n\
         proxy_next_upstream error timeout non_idempotent;\n\
         }}\n    }}\n}}\n"
    )
}

async fn start_nginx(dir: &Path, servers: &[u16]) -> (Process, String) {
    let listen = free_port();
    std::fs::create_dir_all(dir).unwrap();
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, nginx_conf(dir, listen, servers)).unwrap();
    let nginx = super::nginx_binary();
    let child = Command::new(nginx)
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx is needed for the deployment test: apt-get install nginx-light");
    let proxy = Process(child);
    let base = format!("http://127.0.0.1:{listen}");
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status() == 200
        {
            return (proxy, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "nginx did not start: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

/// SQL on the archive's catalogue, from outside (a count).
async fn count(db_url: &str, sql: &str) -> i64 {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {sql}"
    )))
    .fetch_one(&mut conn)
    .await
    .unwrap()
    .get::<i64, _>("n")
}

async fn wait_for(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..secs * 4 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A plain tus client (no checksums, 3 MiB PATCHes that end anywhere in a part),
/// resuming from the server's offset after a failure as tus clients do.
async fn tus_upload(c: &reqwest::Client, base: &str, deposit: &str, name: &str, data: &[u8]) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let r = c
        .post(format!("{base}/api/v1/uploads"))
        .header("upload-length", data.len())
        .header(
            "upload-metadata",
            format!("deposit {},filename {}", b64(deposit), b64(name)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let loc = format!("{base}{}", r.headers()["location"].to_str().unwrap());
    let mut offset = 0usize;
    let mut failures = 0;
    while offset < data.len() {
        let end = (offset + (3 << 20)).min(data.len());
        let r = c
            .patch(&loc)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset)
            .body(data[offset..end].to_vec())
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 204 => {
                offset = end;
                continue;
            }
            Ok(r) => eprintln!(
                "tus PATCH at {offset}: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            ),
            Err(e) => eprintln!("tus PATCH at {offset}: {e}"),
        }
        failures += 1;
        assert!(failures < 30, "the tus upload of {name} never finished");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let head = c.head(&loc).send().await.unwrap();
        offset = head.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
    }
}

#[tokio::test]
async fn three_servers_and_two_workers_behind_a_round_robin_proxy() {
    let (_moto, s3) = super::start_moto().await;
    reqwest::Client::new()
        .put(format!("{s3}/arca-many"))
        .send()
        .await
        .unwrap();
    let config = format!(
        "[storage]\nkind = \"s3\"\nbucket = \"arca-many\"\nendpoint = \"{s3}\"\nregion = \"us-east-1\"\n\
         access_key_id = \"testing\"\nsecret_access_key = \"testing\"\n\
         [jobs]\nretry_base_ms = 100\nretry_max_ms = 1000\n[web]\npage_cache_seconds = 0\n"
    );
    let archive = Archive::new(&config).await;
    let author_token = archive.author_token();
    let author = client(&author_token);
    let curator = client(&super::curator_token(&archive));
    let data_dir = |name: &str| archive.dir.path().join(name);
    let mut servers = Vec::new();
    for i in 0..3 {
        servers.push(Some(
            archive
                .spawn_in(&data_dir(&format!("server{i}")), &["serve", "--no-worker"])
                .await,
        ));
    }
    let ports: Vec<u16> = servers
        .iter()
        .map(|s| {
            let base = &s.as_ref().unwrap().base;
            base.rsplit(':').next().unwrap().parse().unwrap()
        })
        .collect();
    let (_nginx, base) = start_nginx(&data_dir("nginx"), &ports).await;

    // A tree for `arca upload`: 40 MiB (parts and a tail), 20 MiB and small files.
    let tree = data_dir("collected");
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for (rel, size, seed) in [
        ("big.h5", 40 << 20, 1),
        ("run1/x_0001.cbf", 20 << 20, 2),
        ("run1/x_0002.cbf", 300_000, 3),
        ("notes.txt", 1_000, 4),
    ] {
        let bytes = pseudo_random(size, seed);
        let p = tree.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &bytes).unwrap();
        want.insert(rel.to_owned(), sha256_hex(&bytes));
    }
    let r = author
        .post(format!("{base}/api/v1/deposits"))
        .json(&json!({"metadata": metadata_json()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let deposit = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let upload_cmd = || {
        archive
            .cmd()
            .args(["upload", "--server", &base, "--token", &author_token])
            .args(["--deposit", &deposit, "--parallel", "2"])
            .arg(&tree)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let uploader = upload_cmd();
    // A plain tus client beside it.
    let plain = pseudo_random(25 << 20, 5);
    want.insert("plain/frames.bin".into(), sha256_hex(&plain));
    let tus = {
        let (author, base, deposit, plain) =
            (author.clone(), base.clone(), deposit.clone(), plain.clone());
        tokio::spawn(async move {
            tus_upload(&author, &base, &deposit, "plain/frames.bin", &plain).await
        })
    };

    // Once bytes are flowing, one server dies without warning.
    wait_for("bytes to arrive", 120, async || {
        let r = author
            .get(format!("{base}/api/v1/deposits/{deposit}/uploads"))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        v["uploads"]
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u["offset"].as_i64().unwrap_or(0) > 0))
    })
    .await;
    drop(servers[1].take()); // SIGKILL

    let out = tokio::task::spawn_blocking(move || uploader.wait_with_output().unwrap())
        .await
        .unwrap();
    if !out.status.success() {
        // A request in flight at the kill can fail a file; running the same command
        // again, as its message says, finishes it.
        eprintln!(
            "arca upload, first run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let again = upload_cmd().wait_with_output().unwrap();
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
    tus.await.unwrap();

    // Every file is there with the bytes that were sent.
    let files: Value = author
        .get(format!("{base}/api/v1/deposits/{deposit}/files"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: BTreeMap<String, String> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(count(&archive.db_url, "uploads").await, 0);

    // Workers start now: the fixity round of this period is offered by both and run by
    // one, over every object once; verification runs on them too.
    let _workers: Vec<Process> = (0..2)
        .map(|i| {
            let mut c = archive.cmd();
            c.env("ARCA_DATA_DIR", data_dir(&format!("worker{i}")))
                .arg("worker")
                .stdout(Stdio::null());
            Process(c.spawn().unwrap())
        })
        .collect();
    let r = author
        .post(format!("{base}/api/v1/deposits/{deposit}/submit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let state = async |c: &reqwest::Client| {
        let v: Value = c
            .get(format!("{base}/api/v1/deposits/{deposit}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["state"].as_str().unwrap_or_default().to_owned()
    };
    wait_for("verification", 120, async || {
        state(&author).await == "verified"
    })
    .await;
    let objects = want.len() as i64;
    wait_for("the fixity pass", 120, async || {
        count(&archive.db_url, "fixity_checks WHERE location = 'primary'").await >= objects
    })
    .await;

    // A release batch, due in a few seconds, started by housekeeping on one worker.
    let r = curator
        .post(format!("{base}/api/v1/deposits/{deposit}/approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let at = |s: i64| arca::model::date::utc_seconds(arca::db::now_ms() + s * 1000);
    let r = curator
        .post(format!("{base}/api/v1/releases"))
        .json(&json!({"release_at": at(5), "cutoff_at": at(4)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let batch = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = curator
        .post(format!("{base}/api/v1/releases/{batch}/items"))
        .json(&json!({"deposit": deposit}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    wait_for("the release", 150, async || {
        state(&author).await == "released"
    })
    .await;

    let db = &archive.db_url;
    assert_eq!(count(db, "jobs WHERE kind = 'release_batch'").await, 1);
    assert_eq!(
        count(
            db,
            &format!("events WHERE subject_id = '{deposit}' AND to_state = 'released'")
        )
        .await,
        1
    );
    // One fixity pass: each object checked once, by one of the two workers.
    assert_eq!(
        count(db, "fixity_checks WHERE location = 'primary'").await,
        objects
    );
    assert_eq!(
        count(
            db,
            "jobs WHERE kind = 'periodic' AND payload LIKE '%fixity%'"
        )
        .await,
        1
    );
    // Nothing was left staged in the bucket, and every object verifies.
    assert_eq!(count(db, "fixity_checks WHERE outcome <> 'ok'").await, 0);
    drop(servers);
}
