//! Flat cost at archive scale: `cargo bench --bench scale [-- N]` (bench/scale.sh) seeds
//! released datasets (default 1,000,000, ten files each, DataCite records, spread over
//! twenty years of releases, four facilities) into a fresh archive (SQLite, or
//! ARCA_BENCH_DATABASE_URL for PostgreSQL), with set-based SQL so a million take
//! minutes. It measures each public and curator route at 10,000 datasets, seeds the
//! rest, measures again, and prints p50/p95 per route and the ratio of the p50 at N to
//! the p50 at 10,000 (1.0 is flat; the target is at most 1.5).
//!
//! Requests go through the whole router in-process (no sockets), pages uncached.

use arca::config::Config;
use arca::db::Backend;
use arca::model::Role;
use arca::services::Services;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use std::time::Instant;
use tower::ServiceExt;

const FIRST: i64 = 10_000;
const FILES: i64 = 10;
const SAMPLES: usize = 60;
/// Twenty years of releases, whatever N: a month holds N / 240 datasets.
const SPAN_MS: i64 = 20 * 365 * 86_400_000;
const T0: i64 = 1_200_000_000_000;

/// The SQL expression of dataset `i`'s id: 26 Crockford characters, like every id.
fn id_expr(backend: Backend, prefix: &str) -> String {
    let width = 26 - prefix.len();
    match backend {
        Backend::Sqlite => format!("'{prefix}' || printf('%0{width}d', i)"),
        Backend::Postgres => format!("'{prefix}' || lpad(i::text, {width}, '0')"),
    }
}

/// `INSERT … SELECT … FROM` the numbers from..=to, as `i`.
fn insert_numbers(backend: Backend, insert: &str, select: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) {insert} SELECT {select} FROM n"
        ),
        Backend::Postgres => {
            format!("{insert} SELECT {select} FROM generate_series($1::bigint, $2::bigint) AS n(i)")
        }
    }
}

/// `INSERT … SELECT` of [`FILES`] verified files for each dataset from..=to (`$1`, `$2`),
/// their bytes the shared bench objects.
fn insert_files(backend: Backend, file_id: &str, id: &str, at: &str) -> String {
    let last = FILES - 1;
    let select = format!(
        "INSERT INTO files (id, version_id, path, size, sha256, status, problem, verified_at, created_at)
         SELECT {file_id}, {id}, 'images/x_000' || k.k || '.cbf', 6000000, o.sha256, 'verified', NULL, {at}, {at}"
    );
    match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2),
             k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < {last})
             {select} FROM n CROSS JOIN k JOIN bench_objects o ON o.k = k.k"
        ),
        Backend::Postgres => format!(
            "{select} FROM generate_series($1::bigint, $2::bigint) AS n(i)
             CROSS JOIN generate_series(0, {last}) AS k(k) JOIN bench_objects o ON o.k = k.k"
        ),
    }
}

fn metadata() -> String {
    json!({
        "titles": [{"title": "Hen egg-white lysozyme, 100 K, native SAD"}],
        "creators": [
            {"name": "Curie, Marie", "nameType": "Personal",
             "nameIdentifiers": [{"nameIdentifier": "https://orcid.org/0000-0002-1825-0097", "nameIdentifierScheme": "ORCID"}],
             "affiliation": [{"name": "Sorbonne"}]},
            {"name": "Hodgkin, Dorothy", "nameType": "Personal"},
            {"name": "Franklin, Rosalind", "nameType": "Personal"}
        ],
        "publisher": {"name": "Arca"},
        "publicationYear": 2026,
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Diffraction images"},
        "subjects": [{"subject": "X-ray diffraction"}, {"subject": "Lysozyme"}],
        "rightsList": [{"rights": "CC BY 4.0", "rightsUri": "https://creativecommons.org/licenses/by/4.0/"}],
        "relatedIdentifiers": [{"relatedIdentifier": "10.2210/pdb1lyz/pdb", "relatedIdentifierType": "DOI", "relationType": "IsSupplementTo"}],
        "descriptions": [{"description": "Diffraction images of a lysozyme crystal collected at 100 K with a Pilatus detector, 3600 frames of 0.1 degree.", "descriptionType": "Abstract"}]
    })
    .to_string()
}

/// Seed datasets from..=to, set-based, in chunks.
async fn seed(services: &Services, owner: &str, n_total: i64, from: i64, to: i64) {
    let backend = services.db.backend;
    let step = SPAN_MS / n_total;
    let id = id_expr(backend, "0BENCH");
    let facilities = [
        ("ESRF", "ID23-1"),
        ("Diamond", "I04"),
        ("SOLEIL", "PROXIMA-1"),
        ("PETRA III", "P11"),
    ];
    let facility_case = |col: usize| {
        let arms: String = facilities
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let v = if col == 0 { f.0 } else { f.1 };
                format!(" WHEN {k} THEN '{v}'")
            })
            .collect();
        format!("CASE i % 4{arms} END")
    };
    let profile_case = {
        let arms: String = facilities
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let p = json!({"facility": {"name": f.0}, "beamline": {"name": f.1}}).to_string();
                format!(" WHEN {k} THEN '{p}'")
            })
            .collect();
        format!("CASE i % 4{arms} END")
    };
    let year = format!("2006 + (i * {step}) / {}", 365 * 86_400_000i64);
    let at = format!("{T0} + i * {step}");
    let body = "hen egg white lysozyme 100 k native sad diffraction images crystal pilatus curie marie hodgkin dorothy franklin rosalind x ray";
    // The oldest twenty also have a rare word: found through the index at any size.
    let text = format!("CASE WHEN i <= 20 THEN '{body} ancient' ELSE '{body}' END");
    let (text_value, author_value) = match backend {
        Backend::Sqlite => (
            text.clone(),
            "'curie marie hodgkin dorothy franklin rosalind'".to_owned(),
        ),
        Backend::Postgres => (
            format!("to_tsvector('simple', {text})"),
            "to_tsvector('simple', 'curie marie hodgkin dorothy franklin rosalind')".to_owned(),
        ),
    };
    let meta = metadata().replace('\'', "''");
    let file_id = match backend {
        Backend::Sqlite => "'0BENCHF' || printf('%019d', i * 10 + k.k)".to_owned(),
        Backend::Postgres => "'0BENCHF' || lpad((i * 10 + k.k)::text, 19, '0')".to_owned(),
    };
    let (text_columns, author_columns, row) = match backend {
        Backend::Sqlite => (
            "(rowid, dataset_id, body)",
            "(rowid, dataset_id, names)",
            format!("(SELECT rowid FROM search_entries WHERE dataset_id = {id}), "),
        ),
        Backend::Postgres => ("(dataset_id, body)", "(dataset_id, names)", String::new()),
    };
    let statements = [
        insert_numbers(
            backend,
            "INSERT INTO datasets (id, owner_id, created_at)",
            &format!("{id}, '{owner}', {at}"),
        ),
        insert_numbers(
            backend,
            "INSERT INTO dataset_versions (id, dataset_id, version_number, state, metadata, facility, doi, verification, created_at, updated_at)",
            &format!(
                "{id}, {id}, 1, 'released', '{meta}', {profile_case}, '10.5072/bench.' || i, NULL, {at}, {at}"
            ),
        ),
        insert_numbers(
            backend,
            "INSERT INTO published (version_id, dataset_id, datestamp, released_at, deleted)",
            &format!("{id}, {id}, {at}, {at}, 0"),
        ),
        insert_numbers(
            backend,
            "INSERT INTO search_entries (dataset_id, version_id, released_at, year, facility, beamline, words, names)",
            &format!(
                "{id}, {id}, {at}, {year}, {}, {}, ' ' || {text} || ' ', ' curie marie hodgkin dorothy franklin rosalind '",
                facility_case(0),
                facility_case(1)
            ),
        ),
        // On SQLite the text rows share their entry's rowid, as the archive writes them.
        insert_numbers(
            backend,
            "INSERT INTO search_text (dataset_id, body)",
            &format!("{id}, {text_value}"),
        )
        .replace("(dataset_id, body)", text_columns)
        .replace(
            &format!("SELECT {id}, {text_value}"),
            &format!("SELECT {row}{id}, {text_value}"),
        ),
        insert_numbers(
            backend,
            "INSERT INTO search_authors (dataset_id, names)",
            &format!("{id}, {author_value}"),
        )
        .replace("(dataset_id, names)", author_columns)
        .replace(
            &format!("SELECT {id}, {author_value}"),
            &format!("SELECT {row}{id}, {author_value}"),
        ),
        // One dataset in a thousand names a PDB entry of its own.
        insert_numbers(
            backend,
            "INSERT INTO search_pdb (pdb_id, dataset_id)",
            &format!("CASE WHEN i % 1000 = 0 THEN 'x' || (i / 1000) ELSE '1lyz' END, {id}"),
        ),
    ];
    // An object of its own per dataset, as the catalogue of a real archive grows: the
    // fixity audit picks its next objects among all of them.
    let object_sha = match backend {
        Backend::Sqlite => "'f' || printf('%063d', i)",
        Backend::Postgres => "'f' || lpad(i::text, 63, '0')",
    };
    let objects = insert_numbers(
        backend,
        "INSERT INTO objects (sha256, size, created_at, fixity_at)",
        &format!("{object_sha}, 6000000, {at}, {at}"),
    );
    let files = insert_files(backend, &file_id, &id, &at);
    let chunk = 50_000;
    let mut start = from;
    while start <= to {
        let end = (start + chunk - 1).min(to);
        let mut tx = services.db.begin_write().await.unwrap();
        for sql in statements.iter().chain([&objects, &files]) {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(start)
                .bind(end)
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
        tx.commit().await.unwrap();
        start = end + 1;
    }
    // The facet counts, as releases keep them.
    let mut tx = services.db.begin_write().await.unwrap();
    sqlx::query("DELETE FROM search_facets")
        .execute(&mut *tx)
        .await
        .unwrap();
    for (kind, col) in [
        ("facility", "facility"),
        ("beamline", "beamline"),
        ("year", "year"),
    ] {
        let cast = match backend {
            Backend::Sqlite => format!("CAST({col} AS TEXT)"),
            Backend::Postgres => format!("{col}::text"),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO search_facets (kind, value, n) SELECT '{kind}', {cast}, COUNT(*) FROM search_entries GROUP BY {col}"
        )))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO search_facets (kind, value, n) SELECT 'all', '', COUNT(*) FROM search_entries",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // Fresh statistics and (PostgreSQL) vacuumed tables, as a long-running archive has
    // them: autovacuum working through the bulk load would be measured otherwise.
    let analyze = match backend {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "VACUUM (ANALYZE)",
    };
    sqlx::query(analyze)
        .execute(&services.db.pool)
        .await
        .unwrap();
}

/// The objects every seeded dataset's files point at (content is shared, as
/// de-duplication makes it).
async fn seed_objects(services: &Services) {
    let mut conn = services.db.conn().await.unwrap();
    sqlx::query("CREATE TABLE bench_objects (k BIGINT PRIMARY KEY, sha256 TEXT NOT NULL)")
        .execute(&mut *conn)
        .await
        .unwrap();
    for k in 0..FILES {
        let sha = format!("{:064x}", k + 1);
        sqlx::query("INSERT INTO objects (sha256, size, created_at, fixity_at) VALUES ($1, 6000000, $2, $2)")
            .bind(&sha)
            .bind(T0)
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO bench_objects (k, sha256) VALUES ($1, $2)")
            .bind(k)
            .bind(&sha)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Items in the release batch measured.
const BATCH: i64 = 1_000;

/// Seed a release batch of [`BATCH`] scheduled datasets (ten verified files each, ids
/// starting with `tag`), run it with the batch job's own code, check every item was
/// released, and return the seconds it took.
async fn release_batch(services: &Services, owner: &str, tag: &str, at: i64) -> f64 {
    let backend = services.db.backend;
    let id = id_expr(backend, tag);
    let file_id = match backend {
        Backend::Sqlite => format!("'{tag}F' || printf('%018d', i * 10 + k.k)"),
        Backend::Postgres => format!("'{tag}F' || lpad((i * 10 + k.k)::text, 18, '0')"),
    };
    let batch = format!("{tag}B{:018}", 0);
    let meta = metadata().replace('\'', "''");
    let profile = r#"{"facility": {"name": "ESRF"}, "beamline": {"name": "ID23-1"}}"#;
    let statements = [
        insert_numbers(
            backend,
            "INSERT INTO datasets (id, owner_id, created_at)",
            &format!("{id}, '{owner}', {at}"),
        ),
        insert_numbers(
            backend,
            "INSERT INTO dataset_versions (id, dataset_id, version_number, state, metadata, facility, doi, verification, created_at, updated_at)",
            &format!(
                "{id}, {id}, 1, 'scheduled', '{meta}', '{profile}', NULL, '{{\"status\": \"passed\"}}', {at}, {at}"
            ),
        ),
        insert_numbers(
            backend,
            "INSERT INTO release_items (batch_id, version_id, state, error, attempts, added_at, finished_at)",
            &format!("'{batch}', {id}, 'pending', NULL, 0, {at}, NULL"),
        ),
        insert_files(backend, &file_id, &id, &at.to_string()),
    ];
    let mut tx = services.db.begin_write().await.unwrap();
    sqlx::query(
        "INSERT INTO release_batches (id, release_at, cutoff_at, state, created_by, created_at, finished_at)
         VALUES ($1, $2, $2, 'running', NULL, $2, NULL)",
    )
    .bind(&batch)
    .bind(at)
    .execute(&mut *tx)
    .await
    .unwrap();
    for sql in &statements {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(1i64)
            .bind(BATCH)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    tx.commit().await.unwrap();
    let t = Instant::now();
    services.releases().run_batch(&batch).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    let mut conn = services.db.conn().await.unwrap();
    let released: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM release_items WHERE batch_id = $1 AND state = 'released'",
    )
    .bind(&batch)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(released, BATCH, "every item of the batch released");
    secs
}

/// Objects in the measured fixity round (the audit's own round is at most 1,000) and the
/// size of each: small, so the catalogue's share of each check shows.
const AUDITED: usize = 1_000;
const AUDITED_BYTES: usize = 256 << 10;

/// Store [`AUDITED`] objects (`tag` makes their bytes differ between calls), the least
/// recently checked of the archive, run one round of the fixity audit with its own code,
/// check it audited each of them once and found nothing wrong, and return its seconds.
async fn fixity_round(services: &Services, scratch: &std::path::Path, tag: u8) -> f64 {
    use sha2::Digest;
    let mut conn = services.db.conn().await.unwrap();
    for k in 0..AUDITED {
        let mut bytes = vec![tag; AUDITED_BYTES];
        bytes[..8].copy_from_slice(&(k as u64).to_le_bytes());
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        let staged = scratch.join(&sha256);
        std::fs::write(&staged, &bytes).unwrap();
        services
            .storage
            .ingest_staged(&staged, &sha256, AUDITED_BYTES as u64)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO objects (sha256, size, created_at, fixity_at) VALUES ($1, $2, $3, 1)",
        )
        .bind(&sha256)
        .bind(AUDITED_BYTES as i64)
        .bind(T0)
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    drop(conn);
    let mut run = Default::default();
    let t = Instant::now();
    services
        .fixity()
        .round(arca::db::now_ms(), &mut run)
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(run.checked, AUDITED, "one round audits a round's worth");
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    secs
}

struct Route {
    name: &'static str,
    /// Path for sample `k` (varies the dataset where it matters).
    path: Box<dyn Fn(usize) -> String>,
    token: Option<String>,
}

async fn measure(app: &axum::Router, routes: &[Route]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for r in routes {
        let mut times = Vec::with_capacity(SAMPLES);
        for k in 0..SAMPLES + 5 {
            let mut req = Request::get((r.path)(k));
            if let Some(t) = &r.token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let t = Instant::now();
            let resp = app
                .clone()
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = resp.status();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            assert!(
                status.is_success(),
                "{} {}: {status} {}",
                r.name,
                (r.path)(k),
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
            if k >= 5 {
                times.push(ms); // the first few warm caches up
            }
        }
        out.push((percentile(&mut times, 0.5), percentile(&mut times, 0.95)));
    }
    out
}

#[tokio::main]
async fn main() {
    let n: i64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    assert!(n >= FIRST, "N must be at least {FIRST}");
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::load(Default::default()).unwrap();
    config.data_dir = dir.path().to_owned();
    config.web.page_cache_seconds = 0;
    config.fixity.max_mb_per_sec = 0; // unpaced: the catalogue's cost is measured
    config.database_url = std::env::var("ARCA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| arca::config::sqlite_url(dir.path()));
    let services = Services::open(config).await.unwrap();
    let owner = services
        .users()
        .add("bench@example.org", "Bench", Role::Author, None)
        .await
        .unwrap()
        .id;
    services
        .users()
        .add("curator@example.org", "Curator", Role::Curator, None)
        .await
        .unwrap();
    let curator = services
        .users()
        .create_token("curator@example.org", 30, None)
        .await
        .unwrap();
    seed_objects(&services).await;
    let app = arca::web::build_app(services.clone());
    let backend = services.db.backend;
    let id_of = |i: i64| format!("0BENCH{:020}", i);
    let step = SPAN_MS / n;
    let month_of = |i: i64| {
        let t = jiff::Timestamp::from_millisecond(T0 + i * step).unwrap();
        t.strftime("%Y-%m").to_string()
    };
    let date_of = |i: i64| {
        let t = jiff::Timestamp::from_millisecond(T0 + i * step).unwrap();
        t.strftime("%Y-%m-%d").to_string()
    };

    let routes = |upto: i64| -> Vec<Route> {
        // Datasets spread over everything seeded so far; "deep" means near the oldest.
        let pick = move |k: usize| 1 + (k as i64 * 7919) % upto;
        let deep = upto / 2;
        let deep_key = format!("{}.{}", T0 + deep * step, id_of(deep));
        let (month, day) = (month_of(upto / 2), date_of(upto - upto / 50));
        vec![
            // Seeded datasets have no page row yet: the first view builds and keeps it,
            // as after a release before its job ran; the second reads it.
            Route {
                name: "landing page, first view",
                path: Box::new(move |k| format!("/datasets/{}", id_of(pick(k)))),
                token: None,
            },
            Route {
                name: "landing page (its row)",
                path: Box::new(move |k| format!("/datasets/{}", id_of(pick(k)))),
                token: None,
            },
            Route {
                name: "search: no words",
                path: Box::new(|_| "/api/v1/datasets".into()),
                token: None,
            },
            Route {
                name: "search: words",
                path: Box::new(|_| "/api/v1/datasets?q=lysozyme+diffraction".into()),
                token: None,
            },
            Route {
                name: "search: word being typed",
                path: Box::new(|_| "/api/v1/datasets?q=lysoz".into()),
                token: None,
            },
            Route {
                name: "search: rare word (oldest 20)",
                path: Box::new(|_| "/api/v1/datasets?q=ancient".into()),
                token: None,
            },
            Route {
                name: "search: words + facility",
                path: Box::new(|_| "/api/v1/datasets?q=lysozyme&facility=Diamond".into()),
                token: None,
            },
            Route {
                name: "search: facility",
                path: Box::new(|_| "/api/v1/datasets?facility=Diamond".into()),
                token: None,
            },
            Route {
                name: "search: year",
                path: Box::new(|_| "/api/v1/datasets?year=2006".into()),
                token: None,
            },
            Route {
                name: "search: PDB id (rare)",
                path: Box::new(|_| "/api/v1/datasets?pdb=x7".into()),
                token: None,
            },
            Route {
                name: "search: author",
                path: Box::new(|_| "/api/v1/datasets?author=franklin".into()),
                token: None,
            },
            Route {
                name: "search: deep page (by key)",
                path: Box::new(move |_| format!("/api/v1/datasets?after={deep_key}")),
                token: None,
            },
            Route {
                name: "search page (HTML)",
                path: Box::new(|_| "/search?q=lysozyme".into()),
                token: None,
            },
            Route {
                name: "OAI ListRecords, recent",
                path: Box::new(move |_| {
                    format!("/oai?verb=ListRecords&metadataPrefix=oai_datacite&from={day}")
                }),
                token: None,
            },
            Route {
                name: "OAI ListRecords, all",
                path: Box::new(|_| "/oai?verb=ListRecords&metadataPrefix=oai_datacite".into()),
                token: None,
            },
            Route {
                name: "sitemap month",
                path: Box::new(move |_| format!("/sitemaps/{month}.xml")),
                token: None,
            },
            Route {
                name: "deposit files (curator)",
                path: Box::new(move |k| format!("/api/v1/deposits/{}/files", id_of(pick(k)))),
                token: Some(curator.clone()),
            },
            Route {
                name: "deposits list (curator)",
                path: Box::new(|_| "/api/v1/deposits".into()),
                token: Some(curator.clone()),
            },
        ]
    };

    let t = Instant::now();
    seed(&services, &owner, n, 1, FIRST).await;
    eprintln!(
        "seeded {FIRST} datasets in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let small = measure(&app, &routes(FIRST)).await;
    let batch_small = release_batch(&services, &owner, "0BATCHA", T0 + SPAN_MS).await;
    let fixity_small = fixity_round(&services, dir.path(), 1).await;
    let t = Instant::now();
    seed(&services, &owner, n, FIRST + 1, n).await;
    eprintln!(
        "seeded {} more in {:.1}s",
        n - FIRST,
        t.elapsed().as_secs_f64()
    );
    let large = measure(&app, &routes(n)).await;
    let batch_large = release_batch(&services, &owner, "0BATCHB", T0 + SPAN_MS + 1).await;
    let fixity_large = fixity_round(&services, dir.path(), 2).await;

    let db = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    println!("{db}, {FILES} files per dataset, p50/p95 in ms over {SAMPLES} requests");
    println!(
        "{:<30} {:>17} {:>17} {:>8}",
        "route",
        format!("at {FIRST}"),
        format!("at {n}"),
        "ratio"
    );
    let mut worst: f64 = 0.0;
    for (r, ((s50, s95), (l50, l95))) in routes(n).iter().zip(small.iter().zip(large.iter())) {
        let ratio = l50 / s50;
        worst = worst.max(ratio);
        println!(
            "{:<30} {:>8.2} /{:>7.2} {:>8.2} /{:>7.2} {:>8.2}",
            r.name, s50, s95, l50, l95, ratio
        );
    }
    let ratio = batch_large / batch_small;
    worst = worst.max(ratio);
    println!(
        "{:<30} {:>15.2} s {:>15.2} s {:>8.2}",
        format!("release batch of {BATCH}"),
        batch_small,
        batch_large,
        ratio
    );
    // A rate: the ratio is the time's, so that above 1 is slower here too.
    let ratio = fixity_large / fixity_small;
    worst = worst.max(ratio);
    let per_sec = |secs: f64| AUDITED as f64 / secs;
    println!(
        "{:<30} {:>11.0} obj/s {:>11.0} obj/s {:>8.2}",
        format!("fixity round ({} KiB objects)", AUDITED_BYTES >> 10),
        per_sec(fixity_small),
        per_sec(fixity_large),
        ratio
    );
    println!("worst ratio: {worst:.2} (target: at most 1.5)");
    // To look into the seeded catalogue afterwards.
    if std::env::var_os("ARCA_BENCH_KEEP").is_some() {
        eprintln!("kept: {}", dir.keep().display());
    }
}
