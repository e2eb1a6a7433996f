//! Sign-in through OpenID Connect against a real provider (npm `oidc-provider`), set up
//! once as a facility's identity provider and once like ORCID: accounts made at first
//! sign-in, roles from a group claim, a verified address linked only after the
//! account's password, and every tampered, replayed, foreign or expired sign-in refused.

use crate::common::*;
use crate::support::OidcProvider;
use arca::config::OidcSettings;
use arca::model::Role;
use arca::storage::Secret;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const BASE: &str = "http://arca.test";

fn client(name: &str) -> Value {
    json!({
        "client_id": format!("arca-{name}"),
        "client_secret": "client secret",
        "redirect_uris": [format!("{BASE}/signin/oidc/{name}/callback")],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    })
}

fn settings(idp: &OidcProvider, name: &str, orcid: bool) -> OidcSettings {
    OidcSettings {
        issuer: idp.issuer.clone(),
        client_id: format!("arca-{name}"),
        client_secret: Some(Secret("client secret".into())),
        display_name: if orcid { "ORCID" } else { "Beamline Facility" }.into(),
        orcid,
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        create_accounts: true,
        email_claim: "email".into(),
        name_claim: "name".into(),
        roles_claim: (!orcid).then(|| "groups".into()),
        curator_values: if orcid {
            vec![]
        } else {
            vec!["arca-curators".into()]
        },
        admin_values: vec![],
    }
}

/// A provider whose accounts live in a file the test may rewrite.
async fn facility(dir: &std::path::Path, accounts: Value, extra: Value) -> OidcProvider {
    let file = dir.join("accounts.json");
    std::fs::write(&file, accounts.to_string()).unwrap();
    let mut config = json!({ "clients": [client("facility")], "accountsFile": file });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    OidcProvider::start(config).await
}

async fn app_with(providers: Vec<(&str, OidcSettings)>, passwords: bool) -> TestApp {
    TestApp::configured(|c| {
        c.doi.public_url = BASE.into();
        c.web.local_passwords = passwords;
        for (name, p) in providers {
            c.auth.oidc.insert(name.into(), p);
        }
    })
    .await
}

/// The Set-Cookie value of `name` in `r`.
fn cookie_of(r: &Resp, name: &str) -> Option<String> {
    r.headers.get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let pair = v.split(';').next()?;
        let (k, val) = pair.split_once('=')?;
        (k == name && !val.is_empty()).then(|| val.to_owned())
    })
}

/// One login's first leg: the provider's address and this browser's login cookie.
async fn first_leg(app: &TestApp, provider: &str, next: &str) -> (String, String) {
    let r = app
        .call(
            Method::GET,
            &format!("/signin/oidc/{provider}?next={next}"),
            None,
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    let to = r.header("location").unwrap().to_owned();
    (to, cookie_of(&r, "arca_login").expect("a login cookie"))
}

/// Back at the archive with what the provider sent.
async fn callback(app: &TestApp, url: &str, login_cookie: &str) -> Resp {
    let path = url.strip_prefix(BASE).unwrap_or_else(|| panic!("{url}"));
    app.call(
        Method::GET,
        path,
        None,
        &[("cookie", &format!("arca_login={login_cookie}"))],
        axum::body::Body::empty(),
    )
    .await
}

/// A whole sign-in as `account`; the archive's last answer.
async fn sign_in_as(app: &TestApp, idp: &OidcProvider, provider: &str, account: &str) -> Resp {
    let (to, login) = first_leg(app, provider, "/my").await;
    let back = idp.sign_in(&to, account).await;
    callback(app, &back, &login).await
}

/// The session a sign-in answer starts: who it is, through the session lookup.
async fn who(app: &TestApp, r: &Resp) -> arca::services::Actor {
    let token = cookie_of(r, "arca_session").unwrap_or_else(|| panic!("no session: {}", text(r)));
    app.services
        .sessions()
        .session(&token)
        .await
        .unwrap()
        .expect("a live session")
        .0
}

#[tokio::test]
async fn a_facility_sign_in_makes_an_account_once_and_the_group_claim_sets_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = json!({
        "marie": {"email": "Marie@Facility.example", "email_verified": true,
                  "name": "Marie Curie", "groups": ["staff", "arca-curators"]},
    });
    let idp = facility(dir.path(), accounts, json!({})).await;
    let app = app_with(vec![("facility", settings(&idp, "facility", false))], true).await;
    let users = app.count("users").await;

    let page = text(&app.public("/signin", &[]).await);
    assert!(page.contains("Sign in with Beamline Facility"), "{page}");

    let r = sign_in_as(&app, &idp, "facility", "marie").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    assert_eq!(r.header("location"), Some("/my"));
    let marie = who(&app, &r).await;
    assert_eq!(marie.email, "marie@facility.example");
    assert_eq!(marie.name, "Marie Curie");
    assert_eq!(marie.role, Role::Curator, "from the group claim");
    assert_eq!(app.count("users").await, users + 1);

    // Again: the same account; leaving the group makes her an author at once.
    std::fs::write(
        dir.path().join("accounts.json"),
        json!({"marie": {"email": "marie@facility.example", "email_verified": true,
                         "name": "Marie Curie", "groups": ["staff"]}})
        .to_string(),
    )
    .unwrap();
    let r = sign_in_as(&app, &idp, "facility", "marie").await;
    let again = who(&app, &r).await;
    assert_eq!(again.id, marie.id);
    assert_eq!(again.role, Role::Author);
    assert_eq!(app.count("users").await, users + 1);

    // Disabled by an operator: the provider's word does not let her in.
    app.services
        .accounts()
        .disable("marie@facility.example")
        .await
        .unwrap();
    let r = sign_in_as(&app, &idp, "facility", "marie").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(text(&r).contains("disabled"));
}

#[tokio::test]
async fn tampered_replayed_and_foreign_sign_ins_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = json!({"marie": {"email": "marie@facility.example", "email_verified": true, "name": "Marie"}});
    let idp = facility(dir.path(), accounts, json!({})).await;
    let app = app_with(vec![("facility", settings(&idp, "facility", false))], true).await;
    let users = app.count("users").await;
    let refused = |r: &Resp, says: &str| {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(r));
        assert!(text(r).contains(says), "{says}: {}", text(r));
        assert!(cookie_of(r, "arca_session").is_none());
    };

    // A state that was never issued.
    let (to, login) = first_leg(&app, "facility", "/my").await;
    let back = idp.sign_in(&to, "marie").await;
    let forged = back.replace("state=", "state=x");
    refused(
        &callback(&app, &forged, &login).await,
        "unknown, used or expired",
    );

    // The callback opened in another browser (someone else's half-done login).
    let (to, _) = first_leg(&app, "facility", "/my").await;
    let back = idp.sign_in(&to, "marie").await;
    refused(
        &callback(&app, &back, "another-browser").await,
        "another browser",
    );
    // ... and the state is spent: the right browser cannot use it afterwards either.

    // A code the provider never issued.
    let (to, login) = first_leg(&app, "facility", "/my").await;
    let back = idp.sign_in(&to, "marie").await;
    let at = back.find("code=").unwrap() + 5;
    let forged = format!("{}x{}", &back[..at], &back[at..]);
    refused(
        &callback(&app, &forged, &login).await,
        "refused the sign-in",
    );

    // A nonce that does not match the ID token's.
    let (to, login) = first_leg(&app, "facility", "/my").await;
    let back = idp.sign_in(&to, "marie").await;
    let mut conn = app.services.db.conn().await.unwrap();
    sqlx::query("UPDATE oidc_logins SET nonce = 'not the nonce'")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    refused(&callback(&app, &back, &login).await, "did not verify");

    // A good one works once; replayed, it is refused.
    let (to, login) = first_leg(&app, "facility", "/my").await;
    let back = idp.sign_in(&to, "marie").await;
    let r = callback(&app, &back, &login).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    refused(
        &callback(&app, &back, &login).await,
        "unknown, used or expired",
    );
    assert_eq!(app.count("users").await, users + 1);

    // The provider says no (the person cancelled).
    let r = callback(
        &app,
        &format!("{BASE}/signin/oidc/facility/callback?error=access_denied&error_description=End-User+aborted+interaction"),
        &login,
    )
    .await;
    refused(&r, "End-User aborted interaction");
}

/// A proxy in front of the provider that spoils its token answers on demand.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Spoil {
    Nothing,
    /// One character of the ID token's signature changed.
    Signature,
    /// The answer held back past the ID token's lifetime.
    Late,
}

async fn spoiling_proxy(
    upstream_port: u16,
    listener: tokio::net::TcpListener,
) -> Arc<Mutex<Spoil>> {
    use axum::body::{Body, to_bytes};
    use axum::extract::{Request, State};
    use axum::response::Response;
    let spoil = Arc::new(Mutex::new(Spoil::Nothing));
    let state = (spoil.clone(), upstream_port);
    async fn forward(
        State((spoil, port)): State<(Arc<Mutex<Spoil>>, u16)>,
        req: Request,
    ) -> Response {
        let (parts, body) = req.into_parts();
        let body = to_bytes(body, 1 << 20).await.unwrap();
        let url = format!(
            "http://127.0.0.1:{port}{}",
            parts.uri.path_and_query().unwrap()
        );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = http
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut bytes = resp.bytes().await.unwrap().to_vec();
        let mode = *spoil.lock().unwrap();
        if parts.uri.path().ends_with("/token") && status.is_success() {
            match mode {
                Spoil::Nothing => {}
                Spoil::Late => tokio::time::sleep(std::time::Duration::from_millis(4500)).await,
                Spoil::Signature => {
                    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                    let t = v["id_token"].as_str().unwrap().to_owned();
                    let (head, sig) = t.rsplit_once('.').unwrap();
                    let mut sig: Vec<char> = sig.chars().collect();
                    sig[5] = if sig[5] == 'A' { 'B' } else { 'A' };
                    v["id_token"] =
                        json!(format!("{head}.{}", sig.into_iter().collect::<String>()));
                    bytes = v.to_string().into_bytes();
                }
            }
        }
        let mut out = Response::builder().status(status);
        for (k, v) in &headers {
            if k != "content-length" && k != "transfer-encoding" {
                out = out.header(k, v);
            }
        }
        out.body(Body::from(bytes)).unwrap()
    }
    let router = axum::Router::new().fallback(forward).with_state(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
    spoil
}

#[tokio::test]
async fn an_id_token_with_a_bad_signature_or_past_its_expiry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let accounts = json!({"marie": {"email": "marie@facility.example", "email_verified": true, "name": "Marie"}});
    // The ID token lives one second; the provider thinks it is the proxy.
    let idp = facility(
        dir.path(),
        accounts,
        json!({"issuer": issuer, "idTokenTtl": 1}),
    )
    .await;
    let spoil = spoiling_proxy(idp.port, listener).await;
    let app = app_with(vec![("facility", settings(&idp, "facility", false))], true).await;

    for (mode, says) in [
        (Spoil::Signature, "did not verify"),
        (Spoil::Late, "expired"),
    ] {
        *spoil.lock().unwrap() = mode;
        let r = sign_in_as(&app, &idp, "facility", "marie").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{mode:?}: {}", text(&r));
        assert!(text(&r).contains(says), "{mode:?}: {}", text(&r));
        assert!(cookie_of(&r, "arca_session").is_none());
    }
    *spoil.lock().unwrap() = Spoil::Nothing;
    let r = sign_in_as(&app, &idp, "facility", "marie").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
}

#[tokio::test]
async fn a_matching_address_is_linked_only_after_the_accounts_password() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = json!({
        "marie": {"email": "marie@facility.example", "email_verified": true, "name": "Marie"},
        "mallory": {"email": "author@example.org", "email_verified": false, "name": "Mallory"},
    });
    let idp = facility(dir.path(), accounts, json!({})).await;
    let app = app_with(vec![("facility", settings(&idp, "facility", false))], true).await;
    app.services
        .users()
        .add(
            "marie@facility.example",
            "Curie, Marie",
            Role::Author,
            Some("her own password"),
        )
        .await
        .unwrap();
    let users = app.count("users").await;

    // An unverified address that matches an account: nothing is joined or made.
    let r = sign_in_as(&app, &idp, "facility", "mallory").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
    assert!(text(&r).contains("no verified e-mail address"));
    assert_eq!(app.count("user_identities").await, 0);

    // A verified one: the person proves the account first.
    let r = sign_in_as(&app, &idp, "facility", "marie").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(cookie_of(&r, "arca_session").is_none(), "not signed in yet");
    let link = r.header("location").unwrap().to_owned();
    assert!(link.starts_with("/signin/link/lnk_"), "{link}");
    let mut b = Browser::new(&app);
    let page = text(&b.get(&link).await);
    assert!(page.contains("marie@facility.example") && page.contains("Beamline Facility"));
    let r = b.post(&link, &[("password", "not her password")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("user_identities").await, 0);
    let r = b.post(&link, &[("password", "her own password")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    assert_eq!(app.count("user_identities").await, 1);
    assert_eq!(app.count("users").await, users, "linked, not a new account");
    // The link is spent; the provider now signs her straight in.
    assert_eq!(b.get(&link).await.status, StatusCode::NOT_FOUND);
    let r = sign_in_as(&app, &idp, "facility", "marie").await;
    assert_eq!(who(&app, &r).await.email, "marie@facility.example");
}

#[tokio::test]
async fn with_passwords_off_people_sign_in_only_through_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = json!({"marie": {"email": "marie@facility.example", "email_verified": true, "name": "Marie"}});
    let idp = facility(dir.path(), accounts, json!({})).await;
    let app = app_with(vec![("facility", settings(&idp, "facility", false))], false).await;
    app.services
        .users()
        .add(
            "pierre@facility.example",
            "Pierre",
            Role::Author,
            Some("a long password"),
        )
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    let page = text(&b.get("/signin").await);
    assert!(page.contains("Sign in with Beamline Facility"));
    assert!(!page.contains("type=\"password\""), "{page}");
    let r = b
        .post_raw(
            "/signin",
            &format!(
                "csrf={}&email=pierre%40facility.example&password=a+long+password",
                b.cookies["arca_csrf"]
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", text(&r));
    assert!(text(&r).contains("passwords are off"), "{}", text(&r));
    let r = sign_in_as(&app, &idp, "facility", "marie").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    // API tokens keep working.
    let r = app
        .json(Method::GET, "/api/v1/deposits", &app.author, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn orcid_is_linked_from_the_account_and_kept_as_a_verified_id() {
    const ORCID: &str = "0000-0002-1825-0097";
    let idp = OidcProvider::start(json!({
        "clients": [client("orcid")],
        "accounts": { ORCID: {"given_name": "Josiah", "family_name": "Carberry"} },
    }))
    .await;
    let app = app_with(vec![("orcid", settings(&idp, "orcid", true))], true).await;

    // ORCID shares no address: no account is made from it alone.
    let r = sign_in_as(&app, &idp, "orcid", ORCID).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
    assert!(
        text(&r).contains("link ORCID from your account page"),
        "{}",
        text(&r)
    );

    // Signed in with a password, Josiah links his ORCID iD from /my.
    let mut b = Browser::new(&app);
    b.sign_up("Carberry, Josiah", "josiah@example.org").await;
    let page = text(&b.get("/my").await);
    assert!(page.contains("Link ORCID"), "{page}");
    let r = b.post("/signin/oidc/orcid/link", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    let to = r.header("location").unwrap().to_owned();
    let login = cookie_of(&r, "arca_login").unwrap();
    let back = idp.sign_in(&to, ORCID).await;
    let r = callback(&app, &back, &login).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    assert_eq!(r.header("location"), Some("/my"));
    let page = text(&b.get("/my").await);
    assert!(
        page.contains(&format!("https://orcid.org/{ORCID}")),
        "{page}"
    );
    assert!(page.contains("id=\"linked-orcid\""));

    // A new deposit names him first author with the verified iD.
    let form = text(&b.get("/deposits/new").await);
    assert!(form.contains(&format!("value=\"{ORCID}\"")), "{form}");

    // From now on ORCID signs him in.
    let r = sign_in_as(&app, &idp, "orcid", ORCID).await;
    assert_eq!(who(&app, &r).await.email, "josiah@example.org");
}

#[tokio::test]
async fn a_provider_with_its_own_claim_names_is_read_through_the_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = json!({"u123": {"mail": "Rosalind@Facility.example", "mail_verified": true,
                                   "display_name": "Rosalind Franklin"}});
    let idp = facility(dir.path(), accounts, json!({})).await;
    let mut p = settings(&idp, "facility", false);
    p.email_claim = "mail".into();
    p.name_claim = "display_name".into();
    let app = app_with(vec![("facility", p)], true).await;
    let r = sign_in_as(&app, &idp, "facility", "u123").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", text(&r));
    let who = who(&app, &r).await;
    assert_eq!(who.email, "rosalind@facility.example");
    assert_eq!(who.name, "Rosalind Franklin");
}
