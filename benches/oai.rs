//! OAI-PMH paging depth: `cargo bench --bench oai [-- N]` publishes N records (default
//! 100,000) in a fresh archive (SQLite, or ARCA_BENCH_DATABASE_URL), then harvests all of
//! them with ListRecords through resumption tokens, timing every page. Keyset paging
//! should keep the last pages as fast as the first: the ratio printed is the median page
//! time of the last tenth over that of the first tenth (1.0 is flat).

use arca::config::Config;
use arca::model::Role;
use arca::services::Services;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use std::time::Instant;
use tower::ServiceExt;

async fn seed(services: &Services, n: usize) {
    let owner = services
        .users()
        .add("bench@example.org", "Bench", Role::Author, None)
        .await
        .unwrap()
        .id;
    let facility =
        json!({"facility": {"name": "ESRF"}, "beamline": {"name": "ID23-1"}}).to_string();
    let t0 = 1_750_000_000_000i64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut tx = services.db.begin_write().await.unwrap();
        for &i in chunk {
            let id = arca::model::ids::new_id();
            let meta = json!({
                "titles": [{"title": format!("Lysozyme structure {i} at 100 K")}],
                "creators": [
                    {"name": "Curie, Marie", "nameType": "Personal",
                     "nameIdentifiers": [{"nameIdentifier": "https://orcid.org/0000-0002-1825-0097", "nameIdentifierScheme": "ORCID"}]},
                    {"name": "Hodgkin, Dorothy", "nameType": "Personal"}
                ],
                "publisher": {"name": "Arca"},
                "publicationYear": 2026,
                "types": {"resourceTypeGeneral": "Dataset"},
                "subjects": [{"subject": "X-ray diffraction"}],
                "descriptions": [{"description": "Diffraction images collected at 100 K.", "descriptionType": "Abstract"}]
            })
            .to_string();
            let now = t0 + i as i64 * 1000;
            let q = |sql: &'static str| sqlx::query(sql);
            q("INSERT INTO datasets (id, owner_id, created_at) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(&owner)
                .bind(now)
                .execute(&mut *tx)
                .await
                .unwrap();
            q("INSERT INTO dataset_versions (id, dataset_id, version_number, state, metadata, facility,
                 doi, verification, created_at, updated_at)
               VALUES ($1, $1, 1, 'released', $2, $3, $4, NULL, $5, $5)")
            .bind(&id)
            .bind(&meta)
            .bind(&facility)
            .bind(format!("10.5072/bench.{i}"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
            q(
                "INSERT INTO published (version_id, dataset_id, datestamp, released_at, deleted)
               VALUES ($1, $1, $2, $2, 0)",
            )
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::load(Default::default()).unwrap();
    config.data_dir = dir.path().to_owned();
    config.database_url = std::env::var("ARCA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| arca::config::sqlite_url(dir.path()));
    let services = Services::open(config).await.unwrap();
    let t = Instant::now();
    seed(&services, n).await;
    eprintln!("seeded {n} records in {:.1}s", t.elapsed().as_secs_f64());
    let app = arca::web::build_app(services.clone());

    let mut query = "verb=ListRecords&metadataPrefix=oai_datacite".to_owned();
    let mut times = Vec::new();
    let mut records = 0usize;
    loop {
        let req = Request::get(format!("/oai?{query}"))
            .body(Body::empty())
            .unwrap();
        let t = Instant::now();
        let resp = app.clone().oneshot(req).await.unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let text = std::str::from_utf8(&body).unwrap();
        records += text.matches("<record>").count();
        let token = text
            .split_once("<resumptionToken")
            .and_then(|(_, rest)| rest.split_once('>'))
            .and_then(|(_, rest)| rest.split_once("</resumptionToken>"))
            .map(|(tok, _)| tok.to_owned())
            .filter(|t| !t.is_empty());
        match token {
            Some(tok) => query = format!("verb=ListRecords&resumptionToken={tok}"),
            None => break,
        }
    }
    assert_eq!(records, n, "the harvest must return every record once");
    let tenth = (times.len() / 10).max(1);
    let first = median(times[..tenth].to_vec());
    let middle = median(times[times.len() / 2 - tenth / 2..][..tenth].to_vec());
    let last = median(times[times.len() - tenth..].to_vec());
    println!("records:                      {n}");
    println!(
        "pages:                        {} of 100 records",
        times.len()
    );
    println!("median page, first tenth:     {first:.2} ms");
    println!("median page, middle tenth:    {middle:.2} ms");
    println!("median page, last tenth:      {last:.2} ms");
    println!("ratio last / first:           {:.2}", last / first);
}
