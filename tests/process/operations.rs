//! What an operator does around the archive: settings from the environment and files,
//! checked before anything starts.

use super::Archive;
use std::time::Duration;

#[tokio::test]
async fn arca_config_check_shows_the_effective_settings_and_refuses_unknown_keys() {
    let archive = Archive::new("[web]\nsession_hours = 3\n").await;
    let secret = archive.dir.path().join("datacite-password");
    std::fs::write(&secret, "do-not-print-me\n").unwrap();
    let out = archive
        .cmd()
        .args(["config", "check"])
        .env("ARCA_WEB__OPEN_SIGNUP", "false")
        .env("ARCA_DOI__PROVIDER", "datacite")
        .env("ARCA_DOI__DATACITE__URL", "https://api.test.datacite.org")
        .env("ARCA_DOI__DATACITE__REPOSITORY_ID", "ARCA.TEST")
        .env("ARCA_DOI__DATACITE__PASSWORD_FILE", &secret)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: toml::Table = toml::from_str(&stdout).unwrap();
    assert_eq!(shown["web"]["open_signup"].as_bool(), Some(false));
    assert_eq!(shown["web"]["session_hours"].as_integer(), Some(3));
    assert_eq!(shown["doi"]["datacite"]["password"].as_str(), Some("***"));
    assert!(!stdout.contains("do-not-print-me"), "{stdout}");

    // A misspelt variable stops the check and the server alike, naming it.
    for args in [
        &["config", "check"][..],
        &["serve", "--bind", "127.0.0.1:0"],
    ] {
        let out = archive
            .cmd()
            .args(args)
            .env("ARCA_WEB__OPEN_SIGNPU", "false")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains("open_signpu") && stderr.contains("ARCA_WEB__OPEN_SIGNPU"),
            "{args:?}: {stderr}"
        );
    }
}

#[tokio::test]
async fn json_logs_carry_an_access_line_per_request_with_its_id() {
    let archive = Archive::new("").await;
    let log = archive.dir.path().join("arca.log");
    let mut c = archive.cmd();
    c.env("ARCA_LOG", "info,sqlx=warn")
        .args(["--log-format", "json", "serve"])
        .stderr(std::fs::File::create(&log).unwrap());
    let server = super::spawn_server(c).await;
    let r = reqwest::Client::new()
        .get(format!("{}/datasets/01NOSUCHDATASET?secret=1", server.base))
        .header("x-request-id", "trace-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-request-id"], "trace-7f3a");
    // A reviewer link's secret is its path: it is logged by the route's template.
    let r = reqwest::get(format!("{}/review/SECRETLINKTOKEN42", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| {
            l["target"] == "arca::access" && l["fields"]["path"] == "/datasets/01NOSUCHDATASET"
        })
        .unwrap_or_else(|| panic!("no access line in:\n{text}"));
    assert_eq!(access["fields"]["status"], 404);
    assert_eq!(access["fields"]["route"], "/datasets/{id}");
    assert_eq!(access["fields"]["method"], "GET");
    assert_eq!(access["fields"]["client"], "127.0.0.1");
    assert!(access["fields"]["duration_ms"].is_u64());
    assert_eq!(access["spans"][0]["request_id"], "trace-7f3a", "{access}");
    assert!(
        !text.contains("secret=1"),
        "query strings stay out of the log"
    );
    assert!(!text.contains("SECRETLINKTOKEN42"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["path"] == "/review/{token}"),
        "{text}"
    );
}

/// Submit, wait for verification, approve and release now; returns the deposit's JSON.
pub(crate) async fn release_now(
    author: &reqwest::Client,
    curator: &reqwest::Client,
    base: &str,
    d: &str,
) -> serde_json::Value {
    let r = author
        .post(format!("{base}/api/v1/deposits/{d}/submit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let get = async || -> serde_json::Value {
        curator
            .get(format!("{base}/api/v1/deposits/{d}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    for _ in 0..400 {
        if get().await["state"] == "verified" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    for action in ["approve", "release"] {
        let r = curator
            .post(format!("{base}/api/v1/deposits/{d}/{action}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{action}: {}", r.text().await.unwrap());
    }
    get().await
}

#[tokio::test]
async fn a_running_archive_is_backed_up_under_writes_and_restored_elsewhere_intact() {
    let archive = Archive::new("").await;
    let author = super::client(&archive.author_token());
    let curator = super::client(&super::curator_token(&archive));
    let server = archive.start().await;
    let base = server.base.clone();
    let backup = archive.dir.path().join("backup");
    if !archive.db_url.starts_with("sqlite") {
        // PostgreSQL deployments back up with pg_dump (docs/backup.md); the check runs.
        let out = archive
            .cmd()
            .args(["backup", "--to"])
            .arg(&backup)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
        let out = archive.cmd().arg("check").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        return;
    }
    let mut released = Vec::new();
    for i in 0..3 {
        let d = super::new_deposit(&author, &base).await;
        for f in 0..2 {
            let body =
                format!("frames {f} of dataset {i}: {}", "x".repeat(1000 * (f + 1))).into_bytes();
            super::upload_whole(&author, &base, &d, &format!("f{f}.cbf"), body).await;
        }
        released.push(release_now(&author, &curator, &base, &d).await);
    }
    let mut hashes = std::collections::HashMap::new();
    for d in &released {
        for f in super::files(&curator, &base, d["id"].as_str().unwrap()).await {
            hashes.insert(
                (
                    d["dataset_id"].as_str().unwrap().to_owned(),
                    f["path"].as_str().unwrap().to_owned(),
                ),
                f["sha256"].as_str().unwrap().to_owned(),
            );
        }
    }
    assert_eq!(hashes.len(), 6);
    // Writes go on while the backup runs: new deposits and uploads.
    let (progress, mut made) = tokio::sync::mpsc::unbounded_channel();
    let writer = {
        let (author, base) = (author.clone(), base.clone());
        tokio::spawn(async move {
            for i in 0..20u8 {
                let d = super::new_deposit(&author, &base).await;
                super::upload_whole(&author, &base, &d, "late.bin", vec![i; 4096]).await;
                let _ = progress.send(i);
            }
        })
    };
    made.recv().await.unwrap();
    let mut backup_cmd = archive.cmd();
    backup_cmd.args(["backup", "--to"]).arg(&backup);
    let out = tokio::task::spawn_blocking(move || backup_cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    writer.await.unwrap();
    // A second run finds the objects it has and adds the new ones.
    let out = archive
        .cmd()
        .args(["backup", "--to"])
        .arg(&backup)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("already there"),
        "{said}"
    );
    let kept: u64 = said
        .trim()
        .split(", ")
        .find_map(|p| p.strip_suffix(" already there"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(kept >= 6, "the first run's objects are kept: {said}");
    // The live archive agrees with its store.
    let out = archive.cmd().arg("check").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Restored elsewhere, with nothing of the original running.
    drop(server);
    let restored = archive.dir.path().join("restored");
    let out = std::process::Command::new(super::ARCA)
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .env("ARCA_LOG", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("0 missing, 0 of the wrong size"), "{said}");
    let mut c = std::process::Command::new(super::ARCA);
    c.env("ARCA_DATA_DIR", &restored)
        .env("ARCA_LOG", "warn")
        .arg("serve");
    let again = super::spawn_server(c).await;
    let public = reqwest::Client::new();
    for d in &released {
        let ds = d["dataset_id"].as_str().unwrap();
        let doi = d["doi"].as_str().unwrap();
        let page = public
            .get(format!("{}/datasets/{ds}", again.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains(doi));
        let r = public
            .get(format!("{}/doi/{doi}", again.base))
            .header("accept", "application/vnd.datacite.datacite+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the DOI resolves after the restore");
        for f in 0..2 {
            let bytes = public
                .get(format!("{}/datasets/{ds}/files/f{f}.cbf", again.base))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(
                super::sha256_hex(&bytes),
                hashes[&(ds.to_owned(), format!("f{f}.cbf"))],
                "the bytes served after the restore are the ones deposited"
            );
        }
    }
    // A damaged copy in the backup is refused by name, and nothing is left behind.
    let (sha, _) = hashes.iter().map(|(k, v)| (v.clone(), k)).next().unwrap();
    let copy = backup
        .join("objects/sha256")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    let len = std::fs::metadata(&copy).unwrap().len() as usize;
    std::fs::remove_file(&copy).unwrap(); // a hard link to the archive's own object
    std::fs::write(&copy, vec![b'?'; len]).unwrap();
    let broken = archive.dir.path().join("restored-from-damaged");
    let out = std::process::Command::new(super::ARCA)
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&sha));
    assert!(
        !broken.exists(),
        "a failed restore leaves no archive behind"
    );
    // And `arca check` finds an object gone from a live archive's store.
    let object = restored
        .join("objects/sha256")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    drop(again);
    std::fs::remove_file(&object).unwrap();
    let out = std::process::Command::new(super::ARCA)
        .arg("check")
        .env("ARCA_DATA_DIR", &restored)
        .env("ARCA_LOG", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("missing\t{sha}")), "{said}");
    // A restore never lands on an archive: the directory must be new or empty.
    let out = std::process::Command::new(super::ARCA)
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
}

/// Every `href`/`src` in a page, absolute or made absolute against `base`.
fn links_in_html(html: &str, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let link = part.split('"').next().unwrap().replace("&amp;", "&");
            if link.starts_with('/') && !link.starts_with("//") {
                out.push(format!("{base}{link}"));
            } else if link.starts_with("http") {
                out.push(link);
            }
        }
    }
    out
}

fn hrefs_in_json(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) if k == "href" || k == "anchor" => out.push(s.to_owned()),
                    _ => hrefs_in_json(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| hrefs_in_json(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_link_of_a_landing_page_works_on_the_address_the_server_is_bound_to() {
    // No public_url: the links are built on the bind address, a random port.
    let archive = Archive::new("").await;
    let author = super::client(&archive.author_token());
    let curator = super::client(&super::curator_token(&archive));
    let server = archive.start().await;
    let base = server.base.clone();
    let d = super::new_deposit(&author, &base).await;
    super::upload_whole(&author, &base, &d, "data/frame 0001.cbf", b"frame".to_vec()).await;
    super::upload_whole(&author, &base, &d, "README.txt", b"read me".to_vec()).await;
    let deposit = release_now(&author, &curator, &base, &d).await;
    let ds = deposit["dataset_id"].as_str().unwrap();
    let public = reqwest::Client::new();
    let landing = format!("{base}/datasets/{ds}");
    // The page is rebuilt by a job after the release: wait for the released page.
    let mut page = String::new();
    let mut link_header = String::new();
    for _ in 0..200 {
        let r = public.get(&landing).send().await.unwrap();
        if r.status() == 200 {
            link_header = r
                .headers()
                .get_all("link")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join(", ");
            page = r.text().await.unwrap();
            if page.contains("frame 0001.cbf") || page.contains("frame%200001.cbf") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut links = links_in_html(&page, &base);
    links.extend(
        link_header
            .split('<')
            .skip(1)
            .map(|p| p.split('>').next().unwrap().to_owned()),
    );
    let linkset: serde_json::Value = public
        .get(format!("{base}/datasets/{ds}/linkset"))
        .header("accept", "application/linkset+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    hrefs_in_json(&linkset, &mut links);
    links.sort();
    links.dedup();
    let ours: Vec<&String> = links.iter().filter(|l| l.starts_with(&base)).collect();
    assert!(
        ours.len() >= 6,
        "the page, its files, citations and metadata link here: {links:?}"
    );
    for l in &links {
        assert!(
            !l.contains("127.0.0.1:8080"),
            "a link to the default address, not the bound one: {l}"
        );
    }
    for l in ours {
        let r = public.get(l).send().await.unwrap();
        assert!(
            r.status().is_success(),
            "{l} answers {} (linked from the landing page, its Link header or linkset)",
            r.status()
        );
    }
    drop(server);
}

/// `arca user …` on a running archive: what an operator types takes effect on the
/// server at once.
#[tokio::test]
async fn an_operator_lists_disables_enables_and_promotes_people_from_the_command_line() {
    let archive = Archive::new("").await;
    let token = archive.author_token();
    let server = archive.start().await;
    let arca = |args: &[&str]| {
        let out = archive.cmd().args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let deposits = || {
        let (c, url) = (
            super::client(&token),
            format!("{}/api/v1/deposits", server.base),
        );
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(deposits().await, 200);

    let (ok, out, err) = arca(&["user", "list"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "email\tname\trole\tpassword\tcreated\tdisabled");
    assert!(
        lines[1].starts_with("beamline@example.org\tBeamline 9\tauthor\tyes\t"),
        "{out}"
    );
    assert!(lines[1].ends_with("\t-"), "{out}");

    let (ok, out, err) = arca(&["user", "disable", "--email", "beamline@example.org"]);
    assert!(ok, "{err}");
    assert!(out.contains("1 token revoked"), "{out}");
    assert_eq!(deposits().await, 401, "the token stops working at once");
    let (ok, out, _) = arca(&["user", "show", "--email", "beamline@example.org"]);
    assert!(ok && out.contains("live tokens: 0"), "{out}");
    assert!(!out.contains("disabled: no"), "{out}");
    let (ok, _, err) = arca(&["user", "disable", "--email", "beamline@example.org"]);
    assert!(!ok && err.contains("disabled already"), "{err}");

    let (ok, _, err) = arca(&["user", "enable", "--email", "beamline@example.org"]);
    assert!(ok, "{err}");
    let (ok, out, err) = arca(&[
        "user",
        "set-role",
        "--email",
        "beamline@example.org",
        "--role",
        "curator",
    ]);
    assert!(ok && out.contains("is now curator"), "{out}{err}");
    let (ok, out, _) = arca(&["user", "list", "--role", "curator"]);
    assert!(ok && out.contains("beamline@example.org"), "{out}");
    let (ok, _, err) = arca(&["user", "show", "--email", "nobody@example.org"]);
    assert!(!ok && err.contains("not found"), "{err}");
}

/// `arca mail test` reaches a real SMTP server and reports what it said; without
/// `[mail]` it says mail is off.
#[tokio::test]
async fn arca_mail_test_sends_one_message_and_reports_the_server_answer() {
    let dir = tempfile::tempdir().unwrap();
    let sink = super::support::SmtpSink::start(dir.path()).await;
    let archive = Archive::new(&format!(
        "[mail]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Beamline archive <archive@facility.example>\"\n",
        sink.port
    ))
    .await;
    let out = archive
        .cmd()
        .args(["mail", "test", "--to", "operator@facility.example"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("sent to operator@facility.example: the server answered 250"),
        "{stdout}"
    );
    let got = sink.to("operator@facility.example");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["subject"], "Arca: a test message");
    assert_eq!(got[0]["defects"], serde_json::json!([]));

    let off = Archive::new("").await;
    let out = off
        .cmd()
        .args(["mail", "test", "--to", "operator@facility.example"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mail is off"));

    // Settings that cannot work stop the command, naming the setting.
    let bad = Archive::new(
        "[mail]\nsmtp_url = \"smtp://mail.example.org:25\"\nfrom = \"a@b.example\"\nusername = \"u\"\npassword = \"p\"\n",
    )
    .await;
    let out = bad.cmd().args(["config", "check"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("[mail]") && stderr.contains("in clear"),
        "{stderr}"
    );
}

/// What a server counted is written out when it stops (SIGTERM, as systemd stops it),
/// not lost, and the month's Dataset Report from the command line carries it.
#[tokio::test]
async fn usage_counted_by_a_server_is_kept_at_shutdown_and_reported_for_the_month() {
    // No periodic flush during the test: only the one at shutdown can write the counts.
    let archive = Archive::new("[usage]\nflush_seconds = 86400\n").await;
    let author = super::client(&archive.author_token());
    let curator = super::client(&super::curator_token(&archive));
    let mut server = archive.start().await;
    let base = server.base.clone();
    let d = super::new_deposit(&author, &base).await;
    super::upload_whole(
        &author,
        &base,
        &d,
        "data/frame_00001.cbf",
        b"frame".to_vec(),
    )
    .await;
    let deposit = release_now(&author, &curator, &base, &d).await;
    let ds = deposit["dataset_id"].as_str().unwrap().to_owned();
    let firefox = reqwest::Client::builder()
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
        .build()
        .unwrap();
    let mut status = 0;
    for _ in 0..400 {
        status = firefox
            .get(format!("{base}/datasets/{ds}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(status, 200);
    let wget = reqwest::Client::builder()
        .user_agent("Wget/1.21.4")
        .build()
        .unwrap();
    let file = format!("{base}/datasets/{ds}/files/data/frame_00001.cbf");
    assert_eq!(wget.get(&file).send().await.unwrap().status(), 200);
    let term = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exited = server.child.wait().unwrap();
    assert!(exited.success(), "arca serve stopped with {exited}");

    let month = &arca::model::date::utc_seconds(arca::db::now_ms())[..7];
    let out = archive.dir.path().join("dsr.json");
    let run = archive
        .cmd()
        .args(["usage", "report", "--month", month, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(report["report-header"]["report-id"], "DSR");
    let dataset = &report["report-datasets"][0];
    assert!(dataset["uri"].as_str().unwrap().contains(&ds), "{report}");
    let counts: Vec<(String, String, i64)> = dataset["performance"][0]["instance"]
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
    let has = |a: &str, m: &str| counts.iter().any(|c| c.0 == a && c.1 == m && c.2 == 1);
    assert!(has("regular", "total-dataset-investigations"), "{counts:?}");
    assert!(has("machine", "total-dataset-requests"), "{counts:?}");
    // Without [usage] report_to_datacite, --send says what is missing.
    let send = archive
        .cmd()
        .args(["usage", "report", "--month", month, "--out"])
        .arg(&out)
        .arg("--send")
        .output()
        .unwrap();
    assert!(!send.status.success());
    assert!(String::from_utf8_lossy(&send.stderr).contains("report_to_datacite"));
}
