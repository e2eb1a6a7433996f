//! Helpers shared by the test binaries (included with `#[path]`; a folder, so cargo does
//! not take it for a test of its own).

use std::path::Path;

/// A database URL for one test: a temporary SQLite file in `dir`, or a new schema in
/// the PostgreSQL database named by ARCA_TEST_DATABASE_URL.
pub async fn test_database_url(dir: &Path) -> String {
    match std::env::var("ARCA_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sqlx::Connection;
            let schema = format!("t_{}", arca::model::ids::new_id());
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .expect("PostgreSQL for tests");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
        _ => arca::config::sqlite_url(dir),
    }
}

/// Reproducible bytes that do not compress or repeat (xorshift).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// The official DataCite 4.7 XSD and examples (`ARCA_DATACITE_SCHEMA_DIR`, else the copy
/// in `schemas/datacite`).
#[allow(dead_code)]
pub fn schema_dir() -> std::path::PathBuf {
    std::env::var("ARCA_DATACITE_SCHEMA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/datacite/kernel-4.7")
        })
}

/// A real local S3 server (moto_server from tests/interop/requirements.txt), killed when
/// dropped.
pub struct Moto(std::process::Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[allow(dead_code)]
pub async fn start_moto() -> (Moto, String) {
    use std::process::{Command, Stdio};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "moto_server is needed for the S3 tests: pip install -r tests/interop/requirements.txt",
        );
    let moto = Moto(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{endpoint}/moto-api/")).await.is_ok() {
            return (moto, endpoint);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("moto_server did not start");
}

/// A real SMTP server (aiosmtpd, from tests/interop/requirements.txt) that keeps every
/// message it takes, parsed by Python's `email` package; killed when dropped or stopped.
pub struct SmtpSink {
    child: Option<std::process::Child>,
    pub port: u16,
    log: std::path::PathBuf,
}

#[allow(dead_code)]
impl SmtpSink {
    pub async fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut sink = Self {
            child: None,
            port,
            log: dir.join(format!("smtp-{port}.jsonl")),
        };
        sink.restart().await;
        sink
    }

    /// The server goes away (its port refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The server comes back on the same port, keeping what it took before.
    pub async fn restart(&mut self) {
        use std::process::{Command, Stdio};
        self.stop();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let child = Command::new("python3")
            .arg(script)
            .args(["127.0.0.1", &self.port.to_string()])
            .arg(&self.log)
            .stdout(Stdio::null())
            .spawn()
            .expect(
                "python3 with aiosmtpd is needed: pip install -r tests/interop/requirements.txt",
            );
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the SMTP server did not start");
    }

    /// Every message taken so far, oldest first.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The messages to `address`.
    pub fn to(&self, address: &str) -> Vec<serde_json::Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m["rcpt_tos"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == address)
            })
            .collect()
    }

    /// `[mail]` settings that send here.
    pub fn settings(&self) -> arca::config::MailSettings {
        arca::config::MailSettings {
            smtp_url: format!("smtp://127.0.0.1:{}", self.port),
            username: None,
            password: None,
            from: "Beamline archive <archive@facility.example>".into(),
            reply_to: Some("Curators <curators@facility.example>".into()),
            timeout_secs: 10,
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A real OpenID Provider (npm `oidc-provider`, tests/e2e/oidc_provider.mjs) on
/// loopback, with one client and the given accounts; killed when dropped.
#[allow(dead_code)]
pub struct OidcProvider {
    child: std::process::Child,
    pub issuer: String,
    /// Where it listens (the issuer's port unless it is behind a proxy).
    pub port: u16,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(dead_code)]
impl OidcProvider {
    /// `config`: `clients`, `accounts`, and optionally `idTokenTtl`,
    /// `conformIdTokenClaims` (see the script).
    pub async fn start(config: serde_json::Value) -> Self {
        use std::process::{Command, Stdio};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/oidc_provider.mjs");
        let child = Command::new("node")
            .arg(script)
            .arg(port.to_string())
            .arg(config.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node and tests/e2e/node_modules are needed: scripts/test-deps");
        let issuer = config["issuer"]
            .as_str()
            .map_or_else(|| format!("http://127.0.0.1:{port}"), str::to_owned);
        let me = Self {
            child,
            issuer,
            port,
        };
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!(
                "http://127.0.0.1:{port}/.well-known/openid-configuration"
            ))
            .await
                && r.status().is_success()
            {
                return me;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("oidc-provider did not start");
    }

    /// A person at the provider's own pages: follow `auth_url`, sign in as `account`
    /// and consent; returns the redirect back to the client (its callback URL).
    pub async fn sign_in(&self, auth_url: &str, account: &str) -> String {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut cookies: std::collections::BTreeMap<String, String> = Default::default();
        let mut url = auth_url.to_owned();
        let mut form: Option<Vec<(String, String)>> = None;
        for _ in 0..20 {
            let jar = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let req = match form.take() {
                Some(fields) => {
                    let mut body = form_urlencoded::Serializer::new(String::new());
                    for (k, v) in &fields {
                        body.append_pair(k, v);
                    }
                    http.post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.finish())
                }
                None => http.get(&url),
            };
            let resp = req.header("cookie", jar).send().await.unwrap();
            for v in resp.headers().get_all("set-cookie") {
                let v = v.to_str().unwrap();
                let pair = v.split(';').next().unwrap();
                if let Some((k, val)) = pair.split_once('=') {
                    cookies.insert(k.trim().to_owned(), val.to_owned());
                }
            }
            if resp.status().is_redirection() {
                let to = resp.headers()["location"].to_str().unwrap().to_owned();
                let next = reqwest::Url::parse(&url).unwrap().join(&to).unwrap();
                if !next.as_str().starts_with(&self.issuer) {
                    return next.to_string();
                }
                url = next.to_string();
                continue;
            }
            let status = resp.status();
            let html = resp.text().await.unwrap();
            assert!(status.is_success(), "{status}: {html}");
            let action = html
                .split("action=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("no form on {url}: {html}"))
                .replace("&amp;", "&");
            url = reqwest::Url::parse(&url)
                .unwrap()
                .join(&action)
                .unwrap()
                .to_string();
            form = Some(if html.contains("name=\"prompt\" value=\"login\"") {
                vec![
                    ("prompt".into(), "login".into()),
                    ("login".into(), account.into()),
                    ("password".into(), "any".into()),
                ]
            } else {
                vec![("prompt".into(), "consent".into())]
            });
        }
        panic!("the provider's pages went round in circles");
    }
}
