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
