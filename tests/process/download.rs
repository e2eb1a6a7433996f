//! `arca download` as a reader runs it, against a running archive and a real S3 server
//! (moto) as a mirror: every file verified, the mirror used, a damaged mirror copy and
//! a dead mirror survived (the archive serves instead, and the client says so), a
//! partial `--include`, and a download killed with SIGKILL resumed from the bytes on
//! disk without fetching them again.

use super::*;
use crate::operations::release_now;
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `arca download ARGS…`: (exit code, stdout, stderr).
fn download(archive: &Archive, args: &[&str]) -> (Option<i32>, String, String) {
    let out = archive
        .cmd()
        .arg("download")
        .args(args)
        .env_remove("ARCA_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The bytes fetched, from the summary line ("…; N in T s").
fn fetched_bytes(stdout: &str) -> u64 {
    let line = stdout.lines().find(|l| l.contains(" failed; ")).unwrap();
    let after = &line[line.find(" failed; ").unwrap() + " failed; ".len()..];
    after.split(' ').next().unwrap().parse().unwrap()
}

async fn author_and_curator(archive: &Archive) -> (reqwest::Client, reqwest::Client) {
    (
        client(&archive.author_token()),
        client(&curator_token(archive)),
    )
}

/// Wait until the manifest names `mirror` for every file.
async fn mirrored(base: &str, ds: &str, mirror: &str) {
    for _ in 0..400 {
        let m: Value = reqwest::get(format!("{base}/datasets/{ds}/manifest.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default();
        if m["files"].as_array().is_some_and(|fs| {
            fs.iter().all(|f| {
                f["mirrors"]
                    .as_array()
                    .is_some_and(|ms| ms.iter().any(|x| x["mirror"] == mirror))
            })
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the transfer to {mirror} did not finish");
}

fn same_tree(dir: &Path, files: &[(&str, Vec<u8>)]) {
    for (path, data) in files {
        let got = std::fs::read(dir.join(path)).unwrap_or_default();
        assert!(got == *data, "{path} differs");
    }
}

#[tokio::test]
async fn arca_download_verifies_every_file_uses_the_mirror_and_survives_a_bad_or_dead_one() {
    let (_moto, endpoint) = start_moto().await;
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/eu-site"))
        // Published: anyone may read it, as a bucket behind --public-url is.
        .header("x-amz-acl", "public-read")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let archive = Archive::new("[mirrors]\npart_size = 5242880\n").await;
    let creds = archive.dir.path().join("eu.toml");
    std::fs::write(
        &creds,
        "access_key_id = \"testing\"\nsecret_access_key = \"testing\"\n",
    )
    .unwrap();
    let out = archive
        .cmd()
        .args(["mirror", "add", "--name", "eu", "--endpoint", &endpoint])
        .args([
            "--bucket",
            "eu-site",
            "--prefix",
            "arca",
            "--credentials-file",
        ])
        .arg(&creds)
        .args(["--public-url", &format!("{endpoint}/eu-site")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = archive.start().await;
    let base = server.base.clone();
    let (author, curator) = author_and_curator(&archive).await;
    let deposit = new_deposit(&author, &base).await;
    let mut files: Vec<(&str, Vec<u8>)> = (1..=4)
        .map(|i| match i {
            1 => ("run1/x_00001.cbf", pseudo_random(70_000, 1)),
            2 => ("run1/x_00002.cbf", pseudo_random(70_000, 2)),
            3 => ("run1/x_00003.cbf", pseudo_random(10, 3)),
            _ => ("meta/info.json", b"{}".to_vec()),
        })
        .collect();
    files.push(("big.h5", pseudo_random(3 << 20, 5)));
    files.push(("empty.txt", Vec::new()));
    for (path, data) in &files {
        if data.is_empty() {
            // Nothing to PATCH: the creation completes it.
            tus_create(&author, &base, &deposit, path, 0).await;
        } else {
            upload_whole(&author, &base, &deposit, path, data.clone()).await;
        }
    }
    let released = release_now(&author, &curator, &base, &deposit).await;
    let ds = released["dataset_id"].as_str().unwrap().to_owned();
    mirrored(&base, &ds, "eu").await;
    let landing = format!("{base}/datasets/{ds}");

    // Everything, verified, some of it from the mirror.
    let dir = archive.dir.path().join("one");
    let d = dir.to_str().unwrap();
    let (code, stdout, stderr) = download(&archive, &[&landing, d, "--range-mib", "1"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("6 files: 6 downloaded"), "{stdout}");
    assert!(
        stdout.contains("eu "),
        "the mirror served some bytes: {stdout}{stderr}"
    );
    same_tree(&dir, &files);
    assert!(
        !dir.join(".arca-download").exists(),
        "nothing left half-done"
    );
    // An independent check: coreutils' sha256sum reads the archive's text manifest.
    let sums = reqwest::get(format!("{landing}/manifest-sha256.txt"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(archive.dir.path().join("SHA256SUMS"), &sums).unwrap();
    let check = Command::new("sha256sum")
        .arg("-c")
        .arg(archive.dir.path().join("SHA256SUMS"))
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // Run again: nothing is fetched.
    let (code, stdout, _) = download(&archive, &[&landing, d]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("0 downloaded (0 resumed), 6 already there"),
        "{stdout}"
    );

    // A damaged copy on the mirror (same size, other bytes): fetched again from the
    // archive, and said.
    let spec = arca::storage::mirror::MirrorSpec {
        name: "eu".into(),
        endpoint: endpoint.clone(),
        region: "us-east-1".into(),
        bucket: "eu-site".into(),
        prefix: "arca".into(),
        credentials: arca::storage::mirror::Credentials::File(creds.clone()),
        policy: arca::model::MirrorPolicy::Released,
        readers: Default::default(),
    };
    let mirror = arca::storage::mirror::Mirror::open(&spec, 5 << 20).unwrap();
    let big = &files[4].1;
    mirror
        .corrupt_for_test(&sha256_hex(big), pseudo_random(big.len(), 99).into())
        .await
        .unwrap();
    let dir2 = archive.dir.path().join("two");
    let (code, stdout, stderr) = download(
        &archive,
        &[
            &landing,
            dir2.to_str().unwrap(),
            "--include",
            "big.h5",
            "--range-mib",
            "1",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("big.h5: mirror eu sent bytes that do not match the SHA-256; fetched again from the archive"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(dir2.join("big.h5")).unwrap(), *big);
    // --include fetched that file only.
    assert_eq!(std::fs::read_dir(&dir2).unwrap().count(), 1);

    // A mirror that does not answer: left out, the archive serves everything.
    let out = archive
        .cmd()
        .args([
            "mirror",
            "readers",
            "eu",
            "--public-url",
            "http://127.0.0.1:9/eu",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir3 = archive.dir.path().join("three");
    let (code, stdout, stderr) = download(&archive, &[&landing, dir3.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("6 downloaded"), "{stdout}");
    same_tree(&dir3, &files);

    // A pattern that matches nothing is an error, not an empty success.
    let (code, _, stderr) = download(&archive, &[&landing, d, "--include", "*.mtz"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("none of the 6 files matches"), "{stderr}");
    // Anything that is not a released dataset fails with the archive's answer.
    let (code, _, stderr) = download(
        &archive,
        &[&format!("{base}/datasets/01J0000000000000000000000X"), d],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("404"), "{stderr}");
}

/// A TCP proxy that lets `bytes_per_sec` through towards the client: a download slow
/// enough to be killed in the middle.
async fn throttled_proxy(bytes_per_sec: u64) -> (String, Arc<OnceLock<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream: Arc<OnceLock<String>> = Arc::default();
    let up = upstream.clone();
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let Some(to) = up.get().cloned() else {
                continue;
            };
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(to).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let upward = async move { tokio::io::copy(&mut cr, &mut sw).await };
                let downward = async move {
                    let mut buf = vec![0u8; 16 << 10];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if cw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                        let pause = n as f64 / bytes_per_sec as f64;
                        tokio::time::sleep(Duration::from_secs_f64(pause)).await;
                    }
                };
                tokio::select! { _ = upward => {}, _ = downward => {} }
            });
        }
    });
    (url, upstream)
}

// Several threads: the proxy must keep serving while the test waits on the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arca_download_killed_mid_file_resumes_from_the_bytes_on_disk() {
    let (proxy, upstream) = throttled_proxy(6 << 20).await;
    let archive = Archive::new("").await;
    // Readers reach the archive through the slow line: its public address.
    let server = archive
        .start_with(&[("ARCA_DOI__PUBLIC_URL", &proxy)])
        .await;
    upstream
        .set(server.base.trim_start_matches("http://").to_owned())
        .unwrap();
    let base = server.base.clone();
    let (author, curator) = author_and_curator(&archive).await;
    let deposit = new_deposit(&author, &base).await;
    let data = pseudo_random(24 << 20, 7);
    upload_whole(&author, &base, &deposit, "series/master.h5", data.clone()).await;
    let released = release_now(&author, &curator, &base, &deposit).await;
    let ds = released["dataset_id"].as_str().unwrap().to_owned();
    let landing = format!("{proxy}/datasets/{ds}");
    let dir = archive.dir.path().join("dl");

    let mut child = archive
        .cmd()
        .arg("download")
        .args([
            &landing,
            dir.to_str().unwrap(),
            "--range-mib",
            "1",
            "--parallel",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let records = dir.join(".arca-download");
    let done_ranges = || -> usize {
        std::fs::read_dir(&records)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "done"))
            .map(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .lines()
                    .count()
            })
            .sum::<usize>()
            .saturating_sub(1)
    };
    for _ in 0..1000 {
        if done_ranges() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = done_ranges();
    assert!(
        (5..24).contains(&kept),
        "killed part-way: {kept} ranges done"
    );
    assert!(
        !dir.join("series/master.h5").exists(),
        "nothing unverified in place"
    );

    let (code, stdout, stderr) = download(
        &archive,
        &[&landing, dir.to_str().unwrap(), "--range-mib", "1"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 downloaded (1 resumed)"), "{stdout}");
    let again = fetched_bytes(&stdout);
    assert!(
        again <= (data.len() - kept * (1 << 20)) as u64 && again > 0,
        "{again} bytes fetched again, {kept} MiB were on disk"
    );
    assert_eq!(std::fs::read(dir.join("series/master.h5")).unwrap(), data);
}
