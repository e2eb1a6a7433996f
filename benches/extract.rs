//! The cost of metadata from the data: `cargo bench --bench extract [-- FRAMES [SIDE]]`
//! stores a detector series of FRAMES miniCBF images (default 3,600) of SIDE × SIDE
//! pixels (default 1,024: about 1 MB each, byte-offset compressed, with a Pilatus
//! header) in a fresh archive, as one deposit; `-- --dir DIR` stores the files of DIR
//! instead (an NXmx dataset that bench/lib/nxmx.py wrote). It then runs the extraction
//! jobs and times them against reading every file whole from the same store, each from
//! a cold page cache where the bench may drop it (root on Linux) and else both from a
//! warm one. It prints the time and bytes of both and their ratios, the time of the
//! deposit's report (series grouped over every path, masters checked against their data
//! files), and the time to draw one frame's thumbnail.

use arca::config::Config;
use arca::model::{PreviewSize, Role};
use arca::services::Services;
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use std::time::Instant;

/// A Pilatus-style frame: the header a PILATUS 6M writes, a background of small counts
/// varying per frame, byte-offset compressed (one byte per pixel).
fn frame(n: usize, side: usize) -> Vec<u8> {
    let header = format!(
        "###CBF: VERSION 1.5, CBFlib v0.7.8 - PILATUS detectors\r\n\r\ndata_lyso_1_{n:05}\r\n\r\n\
         _array_data.header_convention \"PILATUS_1.2\"\r\n_array_data.header_contents\r\n;\r\n\
         # Detector: PILATUS 6M, S/N 60-0100 Diamond\r\n# 2024-03-01T10:{m:02}:{s:02}.000\r\n\
         # Pixel_size 172e-6 m x 172e-6 m\r\n# Silicon sensor, thickness 0.000320 m\r\n\
         # Exposure_time 0.040000 s\r\n# Exposure_period 0.040000 s\r\n# Tau = 124.0e-09 s\r\n\
         # Count_cutoff 1048575 counts\r\n# Threshold_setting: 6331 eV\r\n\
         # Wavelength 0.97950 A\r\n# Detector_distance 0.24500 m\r\n# Beam_xy (1231.00, 1263.00) pixels\r\n\
         # Start_angle {a:.4} deg.\r\n# Angle_increment 0.1000 deg.\r\n;\r\n\r\n_array_data.data\r\n;\r\n\
         --CIF-BINARY-FORMAT-SECTION--\r\nContent-Type: application/octet-stream;\r\n     \
         conversions=\"x-CBF_BYTE_OFFSET\"\r\nContent-Transfer-Encoding: BINARY\r\n\
         X-Binary-Element-Type: \"signed 32-bit integer\"\r\n\
         X-Binary-Size-Fastest-Dimension: {side}\r\nX-Binary-Size-Second-Dimension: {side}\r\n\r\n",
        m = n / 25 % 60,
        s = n % 60,
        a = n as f64 * 0.1
    );
    let mut f = header.into_bytes();
    f.extend_from_slice(&[0x0c, 0x1a, 0x04, 0xd5]);
    // Counts 0..15 in a pattern that shifts with the frame: deltas fit one byte.
    let mut prev = 0i64;
    for i in 0..side * side {
        let v = ((i * 7 + n * 13) % 16) as i64;
        f.push((v - prev) as i8 as u8);
        prev = v;
    }
    f
}

/// Writes dirty pages out and drops the page cache, where this process may.
fn drop_caches() -> bool {
    let synced = std::process::Command::new("sync")
        .status()
        .is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

/// The SHA-256 of a file, read in 1 MiB pieces.
fn sha256_of(path: &std::path::Path) -> String {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

#[tokio::main]
async fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let source_dir = raw
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| raw.get(i + 1))
        .map(std::path::PathBuf::from);
    let args: Vec<usize> = raw.iter().filter_map(|a| a.parse().ok()).collect();
    let frames = args.first().copied().unwrap_or(3600);
    let side = args.get(1).copied().unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::load(Default::default()).unwrap();
    config.data_dir = dir.path().to_owned();
    config.database_url = std::env::var("ARCA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| arca::config::sqlite_url(dir.path()));
    let services = Services::open(config).await.unwrap();
    services
        .users()
        .add("bench@example.org", "Bench", Role::Author, None)
        .await
        .unwrap();
    let token = services
        .users()
        .create_token("bench@example.org", 1, None)
        .await
        .unwrap();
    let actor = services.users().authenticate(&token).await.unwrap();
    let v = services
        .deposits()
        .create(&actor, serde_json::json!({}), serde_json::json!({}))
        .await
        .unwrap();

    // Store the files as uploads leave them: objects, file rows, headers queued.
    let t = Instant::now();
    let staged = dir.path().join("staged");
    let mut total_bytes = 0u64;
    let mut shas = Vec::new();
    let inputs: Vec<(String, Option<std::path::PathBuf>)> = match &source_dir {
        Some(d) => {
            let mut names: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
                .into_iter()
                .map(|n| (n.clone(), Some(d.join(n))))
                .collect()
        }
        None => (1..=frames)
            .map(|n| (format!("images/lyso_1_{n:05}.cbf"), None))
            .collect(),
    };
    for (n, (path, source)) in inputs.iter().enumerate() {
        let (sha, size) = match source {
            // A file of the directory: linked into staging (copied across disks).
            Some(src) => {
                if std::fs::hard_link(src, &staged).is_err() {
                    std::fs::copy(src, &staged).unwrap();
                }
                (
                    sha256_of(&staged),
                    std::fs::metadata(&staged).unwrap().len(),
                )
            }
            None => {
                let bytes = frame(n + 1, side);
                std::fs::write(&staged, &bytes).unwrap();
                (hex::encode(Sha256::digest(&bytes)), bytes.len() as u64)
            }
        };
        services
            .storage
            .ingest_staged(&staged, &sha, size)
            .await
            .unwrap();
        let _ = std::fs::remove_file(&staged);
        let now = arca::db::now_ms();
        let mut tx = services.db.begin_write().await.unwrap();
        arca::db::files::claim_object(&mut tx, &sha, size as i64, now)
            .await
            .unwrap();
        let row = arca::db::files::FileRow {
            id: arca::model::ids::new_id(),
            version_id: v.id.to_string(),
            path: path.clone(),
            size: size as i64,
            sha256: sha.clone(),
            status: arca::model::FileStatus::Received,
            problem: None,
            verified_at: None,
        };
        arca::db::files::insert(&mut tx, &row, now).await.unwrap();
        arca::services::extraction::queue(&mut tx, &sha, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        total_bytes += size;
        shas.push(sha);
    }
    let files = inputs.len();
    let what = match &source_dir {
        Some(d) => format!("{files} files of {}", d.display()),
        None => format!("{frames} CBF frames ({side} x {side})"),
    };
    eprintln!(
        "stored {what} ({:.2} GB) in {:.1} s",
        total_bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );

    // Reference: every frame read whole from the store.
    let cold = drop_caches();
    let t = Instant::now();
    let mut read_whole = 0u64;
    for sha in &shas {
        let chunks: Vec<bytes::Bytes> = services
            .storage
            .read(sha, None, 1 << 20)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        read_whole += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
    }
    let whole = t.elapsed().as_secs_f64();

    drop_caches();
    let t = Instant::now();
    let jobs = arca::worker::run_until_idle(&services).await.unwrap();
    let extract = t.elapsed().as_secs_f64();
    assert_eq!(jobs, files, "one job per file");

    let t = Instant::now();
    let report = services.extraction().report(&actor, &v.id).await.unwrap();
    let report_s = t.elapsed().as_secs_f64();
    assert_eq!(report.pending, 0);
    let drawn = if source_dir.is_some() {
        let [m] = &report.masters[..] else {
            panic!("one NXmx master: {:?}", report.masters)
        };
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.frames_found, m.frames_announced);
        report.files.iter().find_map(|f| f.picture.clone()).unwrap()
    } else {
        assert_eq!(report.series.len(), 1);
        assert_eq!(report.series[0].series.count, frames as u64);
        "images/lyso_1_00001.cbf".to_owned()
    };

    let t = Instant::now();
    let png = services
        .previews()
        .of_deposit(&actor, &v.id, &drawn, PreviewSize::Small)
        .await
        .unwrap();
    let draw = t.elapsed().as_secs_f64();

    let cache = if cold {
        "cold"
    } else {
        "warm (caches not droppable here)"
    };
    println!("extraction of {what}, one deposit, {cache} page cache:");
    println!(
        "  read whole (reference): {whole:.2} s, {:.2} GB",
        read_whole as f64 / 1e9
    );
    println!(
        "  extraction jobs:        {extract:.2} s, {:.1} MB read ({} bytes a file)",
        report.bytes_read as f64 / 1e6,
        report.bytes_read / files as u64
    );
    println!(
        "  ratio time {:.3}, bytes {:.5} (extraction / whole read)",
        extract / whole,
        report.bytes_read as f64 / read_whole as f64
    );
    println!("  deposit report ({files} paths): {:.1} ms", report_s * 1e3);
    println!(
        "  thumbnail of {drawn}: {:.1} ms ({} bytes of PNG)",
        draw * 1e3,
        png.len()
    );
}
