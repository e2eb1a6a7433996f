//! Tests that need real processes and sockets: the server killed with SIGKILL in the
//! middle of an upload, and the `arca upload` client run as a user runs it. They use
//! the same database choice as the API tests (ARCA_TEST_DATABASE_URL).

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[path = "../support/mod.rs"]
mod support;

use support::{pseudo_random, sha256_hex, start_moto, test_database_url};

mod crash;
mod deploy;
mod download;
mod many_servers;
mod operations;

const ARCA: &str = env!("CARGO_BIN_EXE_arca");

struct Archive {
    dir: tempfile::TempDir,
    db_url: String,
    config: PathBuf,
}

struct Server {
    child: Child,
    base: String,
}

/// A child process killed and reaped when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Debian's nginx (or one on PATH), for the tests that put it in front of servers.
fn nginx_binary() -> &'static str {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("nginx")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Archive {
    async fn new(config_toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("arca.toml");
        std::fs::write(&config, config_toml).unwrap();
        let db_url = test_database_url(dir.path()).await;
        Self {
            dir,
            db_url,
            config,
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(ARCA);
        c.env("ARCA_DATA_DIR", self.dir.path().join("data"))
            .env("ARCA_DATABASE_URL", &self.db_url)
            .env("ARCA_CONFIG", &self.config)
            .env("ARCA_LOG", "warn");
        c
    }

    /// `arca user add` then `arca token create`, as an admin would.
    fn token_for(&self, email: &str, name: &str, role: &str) -> String {
        let out = self
            .cmd()
            .args([
                "user", "add", "--email", email, "--name", name, "--role", role,
            ])
            .env("ARCA_PASSWORD", "correct horse battery")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = self
            .cmd()
            .args(["token", "create", "--email", email])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn author_token(&self) -> String {
        self.token_for("beamline@example.org", "Beamline 9", "author")
    }

    async fn start(&self) -> Server {
        self.start_with(&[]).await
    }

    /// `arca serve` with these variables added to its environment.
    async fn start_with(&self, env: &[(&str, &str)]) -> Server {
        let mut c = self.cmd();
        c.envs(env.iter().copied()).arg("serve");
        spawn_server(c).await
    }

    /// One more process of the archive (`args`, e.g. `serve --no-worker`) with a data
    /// directory of its own, as another machine would have.
    async fn spawn_in(&self, data_dir: &Path, args: &[&str]) -> Server {
        let mut c = self.cmd();
        c.env("ARCA_DATA_DIR", data_dir).args(args);
        spawn_server(c).await
    }
}

/// Start `arca serve …` on a free port and wait until it answers.
async fn spawn_server(mut c: Command) -> Server {
    let port = free_port();
    let child = c
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by the guard at once, so it is killed and reaped whatever happens next.
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
            && r.status() == 200
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become ready");
}

fn client(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h.insert("tus-resumable", "1.0.0".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

/// Metadata a deposit can be submitted with.
fn metadata_json() -> Value {
    json!({"titles": [{"title": "Thaumatin"}], "creators": [{"name": "Franklin, R"}],
        "publisher": "Arca", "publicationYear": 2026, "types": {"resourceTypeGeneral": "Dataset"}})
}

/// `arca datacite-sandbox` on a free port (repository ARCA.SANDBOX, password sandbox).
async fn start_sandbox() -> Server {
    let port = free_port();
    let sandbox = Server {
        child: Command::new(ARCA)
            .args(["datacite-sandbox", "--bind", &format!("127.0.0.1:{port}")])
            .env("ARCA_LOG", "warn")
            .spawn()
            .unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if reqwest::get(format!("{}/heartbeat", sandbox.base))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    sandbox
}

/// A curator's API token, made with the operator's commands.
fn curator_token(archive: &Archive) -> String {
    archive.token_for("curator@example.org", "C", "curator")
}

async fn new_deposit(c: &reqwest::Client, base: &str) -> String {
    let meta = json!({"metadata": metadata_json()});
    let r = c
        .post(format!("{base}/api/v1/deposits"))
        .json(&meta)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Create a tus upload of `len` bytes for `path` in `deposit`; returns its location
/// (a path: the server's address may change across a restart).
async fn tus_create(
    c: &reqwest::Client,
    base: &str,
    deposit: &str,
    path: &str,
    len: usize,
) -> String {
    let meta = format!(
        "deposit {},filename {}",
        base64_encode(deposit),
        base64_encode(path)
    );
    let r = c
        .post(format!("{base}/api/v1/uploads"))
        .header("upload-length", len)
        .header("upload-metadata", meta)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Upload a whole small file in one PATCH.
async fn upload_whole(c: &reqwest::Client, base: &str, deposit: &str, path: &str, body: Vec<u8>) {
    let location = tus_create(c, base, deposit, path, body.len()).await;
    let r = c
        .patch(format!("{base}{location}"))
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

async fn head_offset(c: &reqwest::Client, url: &str) -> u64 {
    let r = c.head(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn files(c: &reqwest::Client, base: &str, deposit: &str) -> Vec<Value> {
    let r = c
        .get(format!("{base}/api/v1/deposits/{deposit}/files"))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["files"]
        .as_array()
        .unwrap()
        .clone()
}

/// An archive with an author, a running server, an HTTP client and a new deposit: what
/// most process tests start from. Bind `server` last when destructuring: locals drop in
/// reverse order, so the server stops before the archive's directory goes.
struct Running {
    server: Server,
    c: reqwest::Client,
    token: String,
    deposit: String,
    archive: Archive,
}

impl Running {
    async fn start(config_toml: &str) -> Self {
        let archive = Archive::new(config_toml).await;
        let token = archive.author_token();
        let server = archive.start().await;
        let c = client(&token);
        let deposit = new_deposit(&c, &server.base).await;
        Self {
            server,
            c,
            token,
            deposit,
            archive,
        }
    }
}

#[tokio::test]
async fn a_server_killed_mid_upload_resumes_from_its_last_acknowledged_byte() {
    let Running {
        archive,
        token: _,
        c,
        deposit,
        server,
    } = Running::start("[uploads]\ncheckpoint_bytes = 1048576\n").await;
    let data = pseudo_random(24 << 20, 11);
    let path = tus_create(&c, &server.base, &deposit, "frames/big.h5", data.len()).await;
    let loc = format!("{}{path}", server.base);

    // Stream 10 MiB of the file, then hold the connection open without finishing.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let sent = 10 << 20;
    let feeder = {
        let head = data[..sent].to_vec();
        tokio::spawn(async move {
            for chunk in head.chunks(256 * 1024) {
                tx.send(Ok(chunk.to_vec())).await.unwrap();
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(tx);
        })
    };
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let patch = tokio::spawn(
        c.patch(&loc)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", 0)
            .body(body)
            .send(),
    );
    // Wait until the server has acknowledged (made durable) at least 8 MiB.
    let mut acknowledged = 0;
    for _ in 0..400 {
        acknowledged = head_offset(&c, &loc).await;
        if acknowledged >= 8 << 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        acknowledged >= 8 << 20,
        "only {acknowledged} bytes acknowledged"
    );

    // SIGKILL: no chance to flush or clean up.
    drop(server);
    feeder.abort();
    let _ = patch.await;

    let server = archive.start().await;
    let loc = format!("{}{path}", server.base);
    let offset = head_offset(&c, &loc).await;
    assert!(
        offset >= acknowledged,
        "acknowledged {acknowledged} but resumed at {offset}"
    );
    assert!(offset <= sent as u64);
    let r = c
        .patch(&loc)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset)
        .body(data[offset as usize..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let files = files(&c, &server.base, &deposit).await;
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0]["sha256"],
        sha256_hex(&data),
        "resumed file must be bit-identical"
    );
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn run_upload(
    archive: &Archive,
    base: &str,
    token: &str,
    deposit: &str,
    dir: &Path,
) -> std::process::Output {
    archive
        .cmd()
        .args([
            "upload",
            "--server",
            base,
            "--token",
            token,
            "--deposit",
            deposit,
            "--parallel",
            "3",
        ])
        .arg(dir)
        .output()
        .unwrap()
}

#[tokio::test]
async fn arca_upload_sends_a_tree_skips_what_is_there_and_reports_differences() {
    let Running {
        archive,
        token,
        c,
        deposit,
        server,
    } = Running::start("").await;
    let tree = archive.dir.path().join("collected");
    let mut want = std::collections::BTreeMap::new();
    for (i, rel) in [
        "a.cbf",
        "run 1/x_0001.cbf",
        "run 1/x_0002.cbf",
        "processing/xds/XDS_ASCII.HKL",
        "empty.txt",
    ]
    .iter()
    .enumerate()
    {
        let bytes = if rel.starts_with("empty") {
            Vec::new()
        } else {
            pseudo_random(100_000 * (i + 1), i as u64)
        };
        let p = tree.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &bytes).unwrap();
        want.insert(rel.to_string(), sha256_hex(&bytes));
    }
    let big = pseudo_random(40 << 20, 99);
    std::fs::write(tree.join("big.h5"), &big).unwrap();
    want.insert("big.h5".into(), sha256_hex(&big));

    let out = run_upload(&archive, &server.base, &token, &deposit, &tree);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("6 uploaded"), "{stdout}");
    assert!(stdout.contains("matches the server"), "{stdout}");
    let got: std::collections::BTreeMap<String, String> = files(&c, &server.base, &deposit)
        .await
        .into_iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);

    // Run again: nothing to send.
    let out = run_upload(&archive, &server.base, &token, &deposit, &tree);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success());
    assert!(
        stdout.contains("0 uploaded") && stdout.contains("6 already on the server"),
        "{stdout}"
    );

    // A local file that differs from the server's copy: non-zero exit and a clear reason.
    std::fs::write(tree.join("a.cbf"), b"reprocessed").unwrap();
    let out = run_upload(&archive, &server.base, &token, &deposit, &tree);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a.cbf") && stderr.contains("different"),
        "{stderr}"
    );

    // A hostile name is refused before anything is sent.
    std::fs::write(tree.join("bad\nname.txt"), b"x").unwrap();
    let out = run_upload(&archive, &server.base, &token, &deposit, &tree);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("control characters"));
}

#[tokio::test]
async fn arca_upload_interrupted_resumes_where_it_stopped() {
    // A large file goes in one streamed PATCH: checkpoints inside it let the offset
    // move while it is sent.
    let Running {
        archive,
        token,
        c,
        deposit,
        server,
    } = Running::start("[uploads]\ncheckpoint_bytes = 8388608\n").await;
    let tree = archive.dir.path().join("collected");
    std::fs::create_dir_all(&tree).unwrap();
    let data = pseudo_random(160 << 20, 5);
    std::fs::write(tree.join("movie.h5"), &data).unwrap();

    let mut child = archive
        .cmd()
        .args([
            "upload",
            "--server",
            &server.base,
            "--token",
            &token,
            "--deposit",
            &deposit,
        ])
        .arg(&tree)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let uploads_url = format!("{}/api/v1/deposits/{deposit}/uploads", server.base);
    let mut reached = 0;
    for _ in 0..2000 {
        let v: Value = c
            .get(&uploads_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reached = v["uploads"][0]["offset"].as_u64().unwrap_or(0);
        if reached >= 32 << 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        reached >= 32 << 20 && reached < data.len() as u64,
        "reached {reached}"
    );

    let out = run_upload(&archive, &server.base, &token, &deposit, &tree);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 uploaded (1 resumed)"), "{stdout}");
    let at: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("movie.h5: resumed at byte "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        at >= reached,
        "resumed at {at}, below the {reached} already acknowledged"
    );
    assert_eq!(
        files(&c, &server.base, &deposit).await[0]["sha256"],
        sha256_hex(&data)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_datacite_sandbox_and_doi_reconcile_work_from_the_command_line() {
    let sandbox = start_sandbox().await;
    let config = format!(
        "[doi]\nprovider = \"datacite\"\nprefix = \"10.80002\"\npublic_url = \"https://arca.example.org\"\n\
         [doi.datacite]\nurl = \"{}\"\nrepository_id = \"ARCA.SANDBOX\"\npassword = \"sandbox\"\n\
         [jobs]\nretry_base_ms = 50\n",
        sandbox.base
    );
    let archive = Archive::new(&config).await;
    let token = archive.author_token();
    let dc = reqwest::Client::new();
    let remote_state = |doi: String| {
        let dc = dc.clone();
        let url = format!("{}/dois/{doi}", sandbox.base);
        async move {
            let r = dc
                .get(url)
                .basic_auth("ARCA.SANDBOX", Some("sandbox"))
                .send()
                .await
                .unwrap();
            if r.status() == 404 {
                return None;
            }
            let v: Value = r.json().await.unwrap();
            v["data"]["attributes"]["state"].as_str().map(str::to_owned)
        }
    };

    let server = archive.start().await;
    let c = client(&token);
    let deposit = new_deposit(&c, &server.base).await;
    let r = c
        .post(format!("{}/api/v1/deposits/{deposit}/doi", server.base))
        .send()
        .await
        .unwrap();
    let doi = r.json::<Value>().await.unwrap()["doi"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(doi.starts_with("10.80002/arca."), "{doi}");
    let mut state = None;
    for _ in 0..200 {
        state = remote_state(doi.clone()).await;
        if state.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(state.as_deref(), Some("draft"));
    drop(server);

    // Someone deletes the draft at DataCite behind the archive's back.
    let r = dc
        .delete(format!("{}/dois/{doi}", sandbox.base))
        .basic_auth("ARCA.SANDBOX", Some("sandbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let out = archive.cmd().args(["doi", "reconcile"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&doi) && stdout.contains("DataCite shows nothing"),
        "{stdout}"
    );
    assert!(stdout.contains("1 DOI out of step"), "{stdout}");

    // The worker in the restarted server repairs it.
    let _server = archive.start().await;
    let mut state = None;
    for _ in 0..200 {
        state = remote_state(doi.clone()).await;
        if state.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(state.as_deref(), Some("draft"));
    let out = archive.cmd().args(["doi", "reconcile"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 DOIs out of step"));
}

#[tokio::test]
async fn arca_cite_prints_the_reference_list_and_data_availability() {
    let archive = Archive::new("").await;
    let token = archive.author_token();
    let server = archive.start().await;
    let c = client(&token);
    let meta = json!({"metadata": {"titles": [{"title": "Thaumatin"}], "creators": [{"name": "Franklin, Rosalind", "nameType": "Personal"}],
        "publisher": "Arca", "publicationYear": 2026, "types": {"resourceTypeGeneral": "Dataset"}},
        "facility": {"software": [{"name": "XDS"}, {"name": "HomeGrown"}]}});
    let r = c
        .post(format!("{}/api/v1/deposits", server.base))
        .json(&meta)
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.post(format!("{}/api/v1/deposits/{id}/doi", server.base))
        .send()
        .await
        .unwrap();
    let out = archive
        .cmd()
        .args([
            "cite",
            "--server",
            &server.base,
            "--token",
            &token,
            "--style",
            "nature",
            &id,
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1. Franklin, R. Thaumatin."), "{stdout}");
    assert!(stdout.contains("Kabsch, W. XDS."), "{stdout}");
    assert!(
        stdout.contains("Data availability") && stdout.contains("https://doi.org/10.5072/arca."),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("HomeGrown"));
    let out = archive
        .cmd()
        .args([
            "cite",
            "--server",
            &server.base,
            "--token",
            &token,
            "--style",
            "comic",
            &id,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown citation style"));
}

/// A release batch whose server dies after the first item: nothing is half released,
/// and running the batch again releases the rest, each item once.
#[tokio::test]
async fn a_release_batch_cut_off_by_a_crash_finishes_when_run_again() {
    let archive = Archive::new("").await;
    let token = archive.author_token();
    let curator = client(&curator_token(&archive));
    let author = client(&token);
    // The first server crashes after releasing one item of a batch.
    let port = free_port();
    let child = archive
        .cmd()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("ARCA_CRASH_AFTER_RELEASE_ITEMS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let base = server.base.clone();
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut deposits = Vec::new();
    for i in 0..3 {
        let d = new_deposit(&author, &base).await;
        let body = format!("frames of dataset {i}").into_bytes();
        upload_whole(&author, &base, &d, "f.cbf", body).await;
        let r = author
            .post(format!("{base}/api/v1/deposits/{d}/submit"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        deposits.push(d);
    }
    let state = |c: reqwest::Client, base: String, d: String| async move {
        c.get(format!("{base}/api/v1/deposits/{d}"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for d in &deposits {
        for _ in 0..200 {
            if state(author.clone(), base.clone(), d.clone()).await == "verified" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let r = curator
            .post(format!("{base}/api/v1/deposits/{d}/approve"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let at =
        humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(3600));
    let r = curator
        .post(format!("{base}/api/v1/releases"))
        .json(&json!({"release_at": at.to_string()}))
        .send()
        .await
        .unwrap();
    let batch = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for d in &deposits {
        let r = curator
            .post(format!("{base}/api/v1/releases/{batch}/items"))
            .json(&json!({"deposit": d}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The worker inside the server releases one item and the process dies, possibly
    // before this request's answer is out (the batch was committed before either).
    let r = curator
        .post(format!("{base}/api/v1/releases/{batch}/run"))
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 202);
    }
    let status = tokio::task::spawn_blocking(move || {
        let s = server.child.wait().unwrap();
        (s, server)
    })
    .await
    .unwrap();
    assert!(!status.0.success(), "the server was meant to crash");
    drop(status.1);

    let server = archive.start().await;
    let base = server.base.clone();
    let mut states = Vec::new();
    for d in &deposits {
        states.push(state(curator.clone(), base.clone(), d.clone()).await);
    }
    states.sort();
    assert_eq!(
        states,
        ["released", "scheduled", "scheduled"],
        "one item out, none half out"
    );
    for d in &deposits {
        let v: Value = curator
            .get(format!("{base}/api/v1/deposits/{d}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let public = reqwest::get(format!(
            "{base}/datasets/{}",
            v["dataset_id"].as_str().unwrap()
        ))
        .await
        .unwrap();
        assert_eq!(public.status() == 200, v["state"] == "released", "{v}");
    }
    // Running the batch again finishes it.
    let r = curator
        .post(format!("{base}/api/v1/releases/{batch}/run"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let mut done = false;
    for _ in 0..200 {
        let v: Value = curator
            .get(format!("{base}/api/v1/releases/{batch}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["state"] == "done" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(done, "the batch finished");
    for d in &deposits {
        assert_eq!(
            state(curator.clone(), base.clone(), d.clone()).await,
            "released"
        );
        let ev: Value = curator
            .get(format!("{base}/api/v1/deposits/{d}/events"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let releases = ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "release")
            .count();
        assert_eq!(releases, 1, "{d} released once");
    }
}

/// The operators' commands: `arca mirror add/list`, `arca transfer list`, `arca fixity
/// run/report`, with credentials given only by reference.
#[tokio::test]
async fn mirror_transfer_and_fixity_commands_work_from_the_command_line() {
    let Running {
        c,
        deposit,
        archive,
        server,
        ..
    } = Running::start("").await;
    let base = server.base.clone();
    upload_whole(&c, &base, &deposit, "f.cbf", b"one frame".to_vec()).await;
    drop(server);

    let run = |args: &[&str]| {
        let out = archive
            .cmd()
            .args(args)
            .env_remove("ARCA_MIRROR_SECRET")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Credentials that do not resolve are refused when the mirror is added.
    let add = [
        "mirror",
        "add",
        "--name",
        "far",
        "--endpoint",
        "http://127.0.0.1:9",
        "--bucket",
        "b",
        "--key-env",
        "ARCA_MIRROR_KEY",
        "--secret-env",
        "ARCA_MIRROR_SECRET",
    ];
    let (code, _, err) = run(&add);
    assert_eq!(code, Some(1));
    assert!(err.contains("ARCA_MIRROR_KEY is not set"), "{err}");
    let out = archive
        .cmd()
        .args(add)
        .env("ARCA_MIRROR_KEY", "key-id")
        .env("ARCA_MIRROR_SECRET", "very-secret-value")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, list, _) = run(&["mirror", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        list.contains("far  http://127.0.0.1:9")
            && list.contains("credentials from env ARCA_MIRROR_KEY, ARCA_MIRROR_SECRET"),
        "{list}"
    );
    assert!(!list.contains("very-secret-value"));
    let (code, transfers, _) = run(&["transfer", "list"]);
    assert_eq!((code, transfers.as_str()), (Some(0), ""));
    // The audit reads every stored object; this one verifies.
    let out = archive
        .cmd()
        .args(["fixity", "run"])
        .env("ARCA_MIRROR_KEY", "key-id")
        .env("ARCA_MIRROR_SECRET", "very-secret-value")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("checked 1 copies") && text.contains("every copy verified"),
        "{text}"
    );
    let (code, report, _) = run(&["fixity", "report", "--days", "1"]);
    assert_eq!(code, Some(0));
    assert!(
        report.contains("primary") && report.contains("ok"),
        "{report}"
    );
}

/// A client that sends headers a byte at a time, or keeps a connection open and idle,
/// is cut off after `[web] header_timeout_seconds`; other clients are served meanwhile.
#[tokio::test]
async fn slow_headers_and_idle_connections_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let archive = Archive::new("[web]\nheader_timeout_seconds = 1\n").await;
    let server = archive.start().await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert_eq!(
        reqwest::get(format!("{}/healthz", server.base))
            .await
            .unwrap()
            .status(),
        200
    );
    // Within a few seconds (not the minutes a slow client would take), each is closed.
    for mut s in slow.into_iter().chain([idle]) {
        let closed = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a slow or idle connection was left open");
    }
}
