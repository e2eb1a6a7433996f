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
