//! What an operator does around the archive: settings from the environment and files,
//! checked before anything starts.

use super::Archive;

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
