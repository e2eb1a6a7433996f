//! Replication throughput: `cargo bench --bench replicate -- DIR ENDPOINT BUCKET` stores
//! every file in DIR in a fresh archive as one released dataset, then times the transfer
//! of that dataset to the mirror (an S3 endpoint, e.g. moto_server) and prints MiB/s.
//! bench/replicate.sh runs it beside `aws s3 cp` of the same files to the same server.

use arca::config::Config;
use arca::db::mirrors::TransferRow;
use arca::model::Role;
use arca::services::Services;
use arca::storage::mirror::{Credentials, MirrorSpec};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let [dir, endpoint, bucket] = &args[..] else {
        eprintln!("usage: replicate DIR ENDPOINT BUCKET");
        std::process::exit(2);
    };
    let work = tempfile::tempdir().unwrap();
    // ARCA_CONFIG: measure other [mirrors] settings (part_size, requests_in_flight).
    let mut config = Config::load(arca::config::Overrides {
        config: std::env::var_os("ARCA_CONFIG").map(Into::into),
        ..Default::default()
    })
    .unwrap();
    config.data_dir = work.path().to_owned();
    config.database_url = arca::config::sqlite_url(work.path());
    let services = Services::open(config).await.unwrap();
    let owner = services
        .users()
        .add("bench@example.org", "Bench", Role::Curator, None)
        .await
        .unwrap()
        .id;
    let mut conn = services.db.conn().await.unwrap();
    let version = arca::model::ids::new_id();
    let now = arca::db::now_ms();
    sqlx::query("INSERT INTO datasets (id, owner_id, created_at) VALUES ($1, $2, $3)")
        .bind(&version)
        .bind(&owner)
        .bind(now)
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO dataset_versions (id, dataset_id, version_number, state, metadata, facility, created_at, updated_at)
         VALUES ($1, $1, 1, 'released', '{}', '{}', $2, $2)",
    )
    .bind(&version).bind(now).execute(&mut *conn).await.unwrap();
    drop(conn);
    // Store each file as the archive would: hashed, then linked into the object store.
    let (mut files, mut bytes) = (0i64, 0i64);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data_hash = {
            use std::io::Read;
            let mut h =
                arca::model::checksum::Hasher::new(arca::model::checksum::Algorithm::Sha256);
            let mut f = std::fs::File::open(&path).unwrap();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            h.finish().hex
        };
        let size = std::fs::metadata(&path).unwrap().len();
        let staged = services.storage.staging_path(&arca::model::ids::new_id());
        std::fs::copy(&path, &staged).unwrap();
        services
            .storage
            .ingest_staged(&staged, &data_hash, size)
            .await
            .unwrap();
        let mut conn = services.db.conn().await.unwrap();
        arca::db::files::claim_object(&mut conn, &data_hash, size as i64, now)
            .await
            .unwrap();
        arca::db::files::insert(
            &mut conn,
            &arca::db::files::FileRow {
                id: arca::model::ids::new_id(),
                version_id: version.clone(),
                path: path.file_name().unwrap().to_string_lossy().into_owned(),
                size: size as i64,
                sha256: data_hash,
                status: arca::model::FileStatus::Verified,
                problem: None,
                verified_at: Some(now),
            },
            now,
        )
        .await
        .unwrap();
        files += 1;
        bytes += size as i64;
    }
    // moto takes any key; a real server (Garage) gives one: AWS_* as the AWS CLI reads them.
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let creds = work.path().join("creds.toml");
    std::fs::write(
        &creds,
        format!(
            "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            env("AWS_ACCESS_KEY_ID", "testing"),
            env("AWS_SECRET_ACCESS_KEY", "testing")
        ),
    )
    .unwrap();
    services
        .mirrors()
        .add(
            MirrorSpec {
                name: "bench".into(),
                endpoint: endpoint.clone(),
                region: env("AWS_DEFAULT_REGION", "us-east-1"),
                bucket: bucket.clone(),
                prefix: "arca".into(),
                credentials: Credentials::File(creds),
                policy: arca::model::MirrorPolicy::Released,
                readers: Default::default(),
            },
            arca::services::mirrors::AddedBy::Operator,
        )
        .await
        .unwrap();
    let transfer = TransferRow::queued(&version, "bench", files, bytes, now);
    let mut conn = services.db.conn().await.unwrap();
    arca::db::mirrors::insert_transfer(&mut conn, &transfer)
        .await
        .unwrap();
    drop(conn);
    let (t, cpu) = (Instant::now(), cpu_seconds());
    services.mirrors().run_transfer(&transfer.id).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let done = services.mirrors().transfer(&transfer.id).await.unwrap();
    assert_eq!(done.state, arca::model::TransferState::Succeeded);
    println!("arca_files {files}");
    println!("arca_bytes {bytes}");
    println!("arca_seconds {secs:.3}");
    println!("arca_cpu_seconds {cpu:.1}");
    println!("arca_max_rss_mib {}", usage().ru_maxrss / 1024);
    println!(
        "arca_mib_per_second {:.1}",
        bytes as f64 / (1 << 20) as f64 / secs
    );
}

fn usage() -> libc::rusage {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr());
        u.assume_init()
    }
}

/// User and system CPU time of this process so far.
fn cpu_seconds() -> f64 {
    let u = usage();
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}
