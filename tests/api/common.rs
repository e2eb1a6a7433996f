//! The in-process test harness: a fresh archive per test on SQLite (default) or on a
//! fresh PostgreSQL schema when ARCA_TEST_DATABASE_URL names a server.

use arca::config::{Config, UploadSettings};
use arca::model::Role;
use arca::services::Services;
use arca::storage::StorageConfig;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tower::ServiceExt;

pub use crate::support::{pseudo_random, sha256_hex, test_database_url};

pub struct TestApp {
    pub services: Services,
    pub router: Router,
    pub dir: tempfile::TempDir,
    pub author: String,
    pub other_author: String,
    pub curator: String,
    /// Set by tests whose subject is a job that fails for good.
    failed_jobs_expected: std::sync::atomic::AtomicBool,
}

/// At the end of each test the jobs it left in the queue are run (with a fresh set of
/// services, as `Drop` cannot await on the test's runtime), and a test that leaves a
/// job failed for good fails, as crates.io's test app does: a job that broke unnoticed
/// is a bug even when the test's assertions pass.
impl Drop for TestApp {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        if std::thread::panicking() || self.failed_jobs_expected.load(Ordering::Relaxed) {
            return;
        }
        let config = (*self.services.config).clone();
        let failed = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let services = Services::open(config).await.ok()?;
                arca::worker::run_until_idle(&services).await.ok()?;
                let mut conn = services.db.conn().await.ok()?;
                arca::db::jobs::failed(&mut conn).await.ok()
            })
        })
        .join()
        .ok()
        .flatten()
        .unwrap_or_default();
        assert!(
            failed.is_empty(),
            "the test left jobs that failed for good, or that fail when run (a test about \
             such a job says app.expect_failed_jobs()): {failed:?}"
        );
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn metadata() -> Value {
    json!({
        "titles": [{"title": "Hen egg-white lysozyme, 100 K"}],
        "creators": [{"name": "Curie, Marie", "nameType": "Personal"}],
        "publisher": {"name": "Arca test facility"},
        "publicationYear": 2026,
        "types": {"resourceTypeGeneral": "Dataset"}
    })
}

pub fn tus_metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_uploads(UploadSettings::default()).await
    }

    pub async fn with_uploads(uploads: UploadSettings) -> Self {
        Self::configured(|c| c.uploads = uploads).await
    }

    /// An archive with settings changed from the defaults by `change`.
    pub async fn configured(change: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_owned(),
            bind: "127.0.0.1:0".into(),
            database_url: test_database_url(dir.path()).await,
            storage: StorageConfig::Local,
            uploads: UploadSettings::default(),
            doi: Default::default(),
            jobs: Default::default(),
            repository: Default::default(),
            holds: Default::default(),
            releases: Default::default(),
            mirrors: Default::default(),
            fixity: Default::default(),
            extraction: Default::default(),
            facility: Default::default(),
            // No test reaches the real registries: a test that wants lookups points
            // them at its own server.
            lookups: arca::config::LookupSettings {
                orcid_url: String::new(),
                ror_url: String::new(),
                crossref_url: String::new(),
                ..Default::default()
            },
            usage: Default::default(),
            web: Default::default(),
            mail: None,
            auth: Default::default(),
        };
        change(&mut config);
        config.check().unwrap();
        let services = Services::open(config).await.unwrap();
        let mut tokens = Vec::new();
        for (email, role) in [
            ("author@example.org", Role::Author),
            ("other@example.org", Role::Author),
            ("curator@example.org", Role::Curator),
        ] {
            services
                .users()
                .add(email, email, role, None)
                .await
                .unwrap();
            tokens.push(
                services
                    .users()
                    .create_token(email, 365, None)
                    .await
                    .unwrap(),
            );
        }
        let router = arca::web::build_app(services.clone());
        let [author, other_author, curator] = tokens.try_into().unwrap();
        Self {
            services,
            router,
            dir,
            author,
            other_author,
            curator,
            failed_jobs_expected: Default::default(),
        }
    }

    /// Another server of the same archive: the same catalogue and object store, but a
    /// data directory (staging disk) and in-process state of its own.
    pub async fn another_server(&self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = (*self.services.config).clone();
        config.data_dir = dir.path().to_owned();
        let services = Services::open(config).await.unwrap();
        let router = arca::web::build_app(services.clone());
        TestApp {
            services,
            router,
            dir,
            author: self.author.clone(),
            other_author: self.other_author.clone(),
            curator: self.curator.clone(),
            failed_jobs_expected: Default::default(),
        }
    }

    /// This test is about a job that fails for good: leaving it in the queue is fine.
    pub fn expect_failed_jobs(&self) {
        self.failed_jobs_expected
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(body.into()).unwrap()).await
    }

    pub async fn json(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.call(
            method,
            path,
            Some(token),
            &[("content-type", "application/json")],
            body,
        )
        .await
    }

    pub async fn create_deposit(&self, token: &str) -> String {
        let r = self
            .json(
                Method::POST,
                "/api/v1/deposits",
                token,
                Some(json!({ "metadata": metadata() })),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["id"].as_str().unwrap().to_owned()
    }

    /// Reserve the deposit's DOI; panics unless it works. Returns the DOI.
    pub async fn reserve_doi(&self, token: &str, deposit: &str) -> String {
        let r = self
            .json(
                Method::POST,
                &format!("/api/v1/deposits/{deposit}/doi"),
                token,
                None,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["doi"].as_str().unwrap().to_owned()
    }

    /// tus creation; returns the response (Location on success).
    pub async fn tus_create(
        &self,
        token: &str,
        deposit: &str,
        path: &str,
        len: usize,
        sha: Option<&str>,
    ) -> Resp {
        let mut pairs = vec![("deposit", deposit), ("filename", path)];
        if let Some(s) = sha {
            pairs.push(("sha256", s));
        }
        let meta = tus_metadata(&pairs);
        let len = len.to_string();
        self.call(
            Method::POST,
            "/api/v1/uploads",
            Some(token),
            &[
                ("tus-resumable", "1.0.0"),
                ("upload-length", &len),
                ("upload-metadata", &meta),
            ],
            Body::empty(),
        )
        .await
    }

    pub async fn tus_patch(
        &self,
        token: &str,
        location: &str,
        offset: usize,
        data: Vec<u8>,
    ) -> Resp {
        let off = offset.to_string();
        self.call(
            Method::PATCH,
            location,
            Some(token),
            &[
                ("tus-resumable", "1.0.0"),
                ("content-type", "application/offset+octet-stream"),
                ("upload-offset", &off),
            ],
            data,
        )
        .await
    }

    pub async fn tus_head(&self, token: &str, location: &str) -> Resp {
        self.call(
            Method::HEAD,
            location,
            Some(token),
            &[("tus-resumable", "1.0.0")],
            Body::empty(),
        )
        .await
    }

    /// Upload a whole file in one PATCH; panics unless it works.
    pub async fn upload(&self, token: &str, deposit: &str, path: &str, data: &[u8]) {
        let r = self
            .tus_create(token, deposit, path, data.len(), None)
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        if data.is_empty() {
            return;
        }
        let loc = r.header("location").unwrap().to_owned();
        let r = self.tus_patch(token, &loc, 0, data.to_vec()).await;
        assert_eq!(
            r.status,
            StatusCode::NO_CONTENT,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }

    pub async fn files(&self, token: &str, deposit: &str) -> Vec<Value> {
        let r = self
            .json(
                Method::GET,
                &format!("/api/v1/deposits/{deposit}/files"),
                token,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        r.json()["files"].as_array().unwrap().clone()
    }

    pub async fn state(&self, deposit: &str) -> String {
        let r = self
            .json(
                Method::GET,
                &format!("/api/v1/deposits/{deposit}"),
                &self.curator,
                None,
            )
            .await;
        r.json()["state"].as_str().unwrap().to_owned()
    }

    pub async fn act(&self, token: &str, deposit: &str, action: &str, body: Option<Value>) -> Resp {
        self.json(
            Method::POST,
            &format!("/api/v1/deposits/{deposit}/{action}"),
            token,
            body,
        )
        .await
    }

    /// A deposit with this body (`metadata`, `facility`) and these files, taken to
    /// `until`: any state from "draft" to "withdrawn" ("scheduled" goes into the next
    /// batch of the cadence). Returns the deposit id.
    pub async fn deposit_through(
        &self,
        body: Value,
        files: &[(&str, &[u8])],
        until: &str,
    ) -> String {
        let r = self
            .json(Method::POST, "/api/v1/deposits", &self.author, Some(body))
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let id = r.json()["id"].as_str().unwrap().to_owned();
        for (path, data) in files {
            self.upload(&self.author, &id, path, data).await;
        }
        if until == "draft" {
            return id;
        }
        assert_eq!(
            self.act(&self.author, &id, "submit", None).await.status,
            StatusCode::OK
        );
        if until == "submitted" {
            return id;
        }
        self.drain().await;
        let hold = Some(json!({"until": "2030-01-01"}));
        let reason = Some(json!({"reason": "the sample was mislabelled"}));
        let steps: Vec<(&str, Option<Value>)> = match until {
            "verified" => vec![],
            "approved" => vec![("approve", None)],
            "on_hold" => vec![("approve", None), ("hold", hold)],
            "scheduled" => vec![("approve", None), ("schedule", None)],
            "released" => vec![("approve", None), ("release", None)],
            "withdrawn" => vec![("approve", None), ("release", None), ("withdraw", reason)],
            other => panic!("deposit_through does not stop at {other}"),
        };
        for (action, body) in steps {
            let r = self.act(&self.curator, &id, action, body).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{action}: {}",
                String::from_utf8_lossy(&r.body)
            );
        }
        self.drain().await;
        assert_eq!(self.state(&id).await, until);
        id
    }

    /// Add `n` files to a released version, as catalogue rows sharing its first file's
    /// bytes (`series/frame_00000 "x".cbf`, …): a detector series without uploading it.
    pub async fn add_series(&self, version_id: &str, n: usize) {
        let mut tx = self.services.db.begin_write().await.unwrap();
        let (sha, size): (String, i64) =
            sqlx::query_as("SELECT sha256, size FROM files WHERE version_id = $1 LIMIT 1")
                .bind(version_id)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        for i in 0..n {
            sqlx::query(
                "INSERT INTO files (id, version_id, path, size, sha256, status, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'verified', 0)",
            )
            .bind(format!("0SERIES{i:019}"))
            .bind(version_id)
            .bind(format!("series/frame_{i:05} \"x\".cbf"))
            .bind(size)
            .bind(&sha)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// The dataset id of a deposit (public pages are per dataset).
    pub async fn dataset_of(&self, deposit: &str) -> String {
        self.deposit_field(deposit, "dataset_id").await
    }

    /// The deposit's DOI, as the curator sees it.
    pub async fn doi_of(&self, deposit: &str) -> String {
        self.deposit_field(deposit, "doi").await
    }

    async fn deposit_field(&self, deposit: &str, field: &str) -> String {
        self.deposit_json(deposit).await[field]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The deposit as the API shows it (to a curator, who sees every deposit).
    pub async fn deposit_json(&self, deposit: &str) -> Value {
        self.json(
            Method::GET,
            &format!("/api/v1/deposits/{deposit}"),
            &self.curator,
            None,
        )
        .await
        .json()
    }

    /// GET a public (unauthenticated) path.
    pub async fn public(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.call(Method::GET, path, None, headers, Body::empty())
            .await
    }

    /// Run queued jobs to completion; a job that failed for good fails the test.
    pub async fn drain(&self) {
        arca::worker::run_until_idle(&self.services).await.unwrap();
        let mut conn = self.services.db.conn().await.unwrap();
        let failed = arca::db::jobs::failed(&mut conn).await.unwrap();
        assert!(failed.is_empty(), "failed jobs: {failed:?}");
    }

    /// Files under the staging directory (what rejected requests must not leave behind).
    pub fn staged_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path().join("uploads"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Row;
        let mut conn = self.services.db.conn().await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get::<i64, _>("n")
    }
}

/// A browser: keeps cookies, reads the CSRF token from the last page.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
    pub last: String,
}

pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
            last: String::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: axum::http::request::Builder, body: Body) -> Resp {
        let req = req.header(header::COOKIE, self.cookie_header());
        let r = self.app.send(req.body(body).unwrap()).await;
        for v in r.headers.get_all(header::SET_COOKIE) {
            let c = cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap();
            if c.value().is_empty() {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
        if r.status != StatusCode::SEE_OTHER {
            self.last = String::from_utf8_lossy(&r.body).into_owned();
        }
        r
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Request::builder().uri(path), Body::empty()).await
    }

    /// Post a form with the CSRF token of the last page seen.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = csrf_of(&self.last).expect("the last page had a form");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &form_body(&all)).await
    }

    pub async fn post_raw(&mut self, path: &str, body: &str) -> Resp {
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body.to_owned()),
        )
        .await
    }

    pub async fn sign_up(&mut self, name: &str, email: &str) {
        self.get("/signup").await;
        let r = self
            .post(
                "/signup",
                &[
                    ("name", name),
                    ("email", email),
                    ("password", "a long password"),
                    ("password_again", "a long password"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", self.last);
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Resp {
        self.get("/signin").await;
        self.post("/signin", &[("email", email), ("password", password)])
            .await
    }

    /// Create a deposit through the form; returns its id.
    pub async fn deposit(&mut self, fields: &[(&str, &str)]) -> String {
        self.get("/deposits/new").await;
        let r = self.post("/deposits/new", fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", self.last);
        let to = r.header("location").unwrap();
        to.trim_start_matches("/deposits/")
            .split('?')
            .next()
            .unwrap()
            .to_owned()
    }
}

pub fn text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// A curator who signs in with a password: keeper@example.org, "curator password".
pub async fn add_curator_with_password(app: &TestApp) {
    app.services
        .users()
        .add(
            "keeper@example.org",
            "Keeper, Curator",
            Role::Curator,
            Some("curator password"),
        )
        .await
        .unwrap();
}

/// That curator, signed in through the pages.
pub async fn signed_in_curator(app: &TestApp) -> Browser<'_> {
    add_curator_with_password(app).await;
    let mut b = Browser::new(app);
    b.sign_in("keeper@example.org", "curator password").await;
    b
}
