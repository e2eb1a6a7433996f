//! The files in deploy/ as an operator installs them: the systemd units start real
//! subcommands with real flags, the example settings pass `arca config check`, and
//! deploy/nginx.conf, run by a real nginx with a certificate, terminates TLS in front of
//! a server and streams a resumable upload through.

use super::{ARCA, Archive, Process, free_port, metadata_json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file)
}

#[test]
fn the_units_run_real_commands_and_the_example_settings_are_valid() {
    for unit in ["arca.service", "arca-worker.service", "arca-backup.service"] {
        let text = std::fs::read_to_string(deploy(unit)).unwrap();
        let execs: Vec<&str> = text
            .lines()
            .filter_map(|l| {
                l.strip_prefix("ExecStart")
                    .map(|l| l.split_once('=').unwrap().1)
            })
            .collect();
        assert!(!execs.is_empty(), "{unit}");
        for exec in execs {
            let mut words = exec.split_whitespace();
            assert_eq!(words.next(), Some("/usr/local/bin/arca"), "{unit}: {exec}");
            // The subcommand and its flags parse: clap refuses an unknown one.
            let out = Command::new(ARCA)
                .args(words)
                .arg("--help")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{unit}: {exec}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "User=arca"] {
            assert!(text.contains(hardening), "{unit} lacks {hardening}");
        }
    }
    // The example settings, with its secret files present.
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "example\n").unwrap();
    let out = Command::new(ARCA)
        .args(["config", "check", "--config"])
        .arg(deploy("arca.toml"))
        .env("ARCA_DATA_DIR", dir.path())
        .env("ARCA_STORAGE__SECRET_ACCESS_KEY_FILE", &secret)
        .env("ARCA_DOI__DATACITE__PASSWORD_FILE", &secret)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shown.contains("public_url = \"https://archive.example.org\""));
    assert!(
        !shown.contains("example\n\""),
        "secrets are masked: {shown}"
    );
}

#[tokio::test]
async fn deploy_nginx_conf_terminates_tls_and_streams_resumable_uploads() {
    let https = free_port();
    let public = format!("https://127.0.0.1:{https}");
    let archive = Archive::new(&format!(
        "[doi]\npublic_url = \"{public}\"\n[web]\ntrusted_proxies = [\"127.0.0.1\"]\n"
    ))
    .await;
    let token = archive.author_token();
    let server = archive.start().await;
    let arca_port = server.base.rsplit(':').next().unwrap().to_owned();

    // deploy/nginx.conf with this test's certificate, ports and server.
    let dir = archive.dir.path().join("nginx");
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the test's certificate");
    assert!(made.success());
    let http = free_port();
    let site = std::fs::read_to_string(deploy("nginx.conf"))
        .unwrap()
        .replace(
            "server 127.0.0.1:8080;",
            &format!("server 127.0.0.1:{arca_port};"),
        )
        .replace("listen 80;", &format!("listen 127.0.0.1:{http};"))
        .replace("listen 443 ssl", &format!("listen 127.0.0.1:{https} ssl"))
        .replace(
            "/etc/letsencrypt/live/archive.example.org/fullchain.pem",
            cert.to_str().unwrap(),
        )
        .replace(
            "/etc/letsencrypt/live/archive.example.org/privkey.pem",
            key.to_str().unwrap(),
        )
        .lines()
        .filter(|l| !l.contains("listen [::]"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        site.contains(&format!("127.0.0.1:{arca_port}")) && site.contains(&format!(":{https} ssl"))
    );
    std::fs::write(dir.join("arca.conf"), site).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "user root;\nworker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/arca.conf;\n}}\n"
        ),
    )
    .unwrap();
    let nginx = super::nginx_binary();
    let _nginx = Process(
        Command::new(nginx)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx is needed: apt-get install nginx-light"),
    );
    let tls = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..200 {
        if tls
            .get(format!("{public}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        up,
        "nginx did not start: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    // Plain HTTP is sent to HTTPS.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://127.0.0.1:{http}/search"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("https://")
    );

    // A resumable upload through the proxy: two PATCHes, the second resuming.
    let auth = format!("Bearer {token}");
    let r = tls
        .post(format!("{public}/api/v1/deposits"))
        .header("authorization", &auth)
        .json(&serde_json::json!({"metadata": metadata_json()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let deposit = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = super::pseudo_random(6 << 20, 7);
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let r = tls
        .post(format!("{public}/api/v1/uploads"))
        .header("authorization", &auth)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", data.len())
        .header(
            "upload-metadata",
            format!("deposit {},filename {}", b64(&deposit), b64("big.h5")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let url = if location.starts_with("http") {
        location.clone()
    } else {
        format!("{public}{location}")
    };
    assert!(
        url.starts_with(&public),
        "links name the public https address: {url}"
    );
    let mut offset = 0;
    for part in data.chunks(4 << 20) {
        let r = tls
            .patch(&url)
            .header("authorization", &auth)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset)
            .header("content-type", "application/offset+octet-stream")
            .body(part.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        offset += part.len();
        assert_eq!(r.headers()["upload-offset"], offset.to_string().as_str());
        // nginx names the request; Arca keeps its id.
        assert_eq!(r.headers()["x-request-id"].len(), 32);
    }
    let files: serde_json::Value = tls
        .get(format!("{public}/api/v1/deposits/{deposit}/files"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(files["files"][0]["sha256"], super::sha256_hex(&data));
    drop(server);
}
