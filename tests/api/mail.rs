//! Mail that reaches people, through a real SMTP server (aiosmtpd) whose messages are
//! read back by Python's own MIME parser: each event reaches the people concerned
//! once, a mail server that is down delays mail but loses none, and each person
//! chooses whether notifications come by mail.

use crate::common::TestApp;
use crate::support::SmtpSink;
use arca::model::{MailNotices, Role};
use axum::http::Method;
use serde_json::{Value, json};

async fn app_mailing_to(sink: &SmtpSink) -> TestApp {
    let settings = sink.settings();
    TestApp::configured(|c| {
        c.mail = Some(settings);
        c.jobs.retry_base_ms = 20;
        c.jobs.retry_max_ms = 40;
    })
    .await
}

/// A deposit with one file, submitted by the author.
async fn submitted(app: &TestApp) -> String {
    let id = app.create_deposit(&app.author).await;
    app.upload(&app.author, &id, "frame.cbf", b"frame").await;
    let r = app.act(&app.author, &id, "submit", None).await;
    assert!(
        r.status.is_success(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    id
}

/// Run jobs until `done` holds (retries wait their backoff), at most a few seconds.
async fn drain_until(app: &TestApp, done: impl Fn() -> bool) {
    for _ in 0..200 {
        arca::worker::run_until_idle(&app.services).await.unwrap();
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the mail did not arrive");
}

/// The curator, who chose how notifications come by mail.
async fn curator_wanting(app: &TestApp, wanted: MailNotices) -> arca::services::Actor {
    let curator = app
        .services
        .users()
        .authenticate(&app.curator)
        .await
        .unwrap();
    app.services
        .notices()
        .set_mail(&curator, wanted)
        .await
        .unwrap();
    curator
}

fn clean(m: &Value) {
    assert_eq!(m["defects"], json!([]), "{m}");
    assert_eq!(m["from"], "Beamline archive <archive@facility.example>");
    assert_eq!(m["reply_to"], "Curators <curators@facility.example>");
    assert!(
        m["message_id"]
            .as_str()
            .unwrap()
            .ends_with("@facility.example>")
    );
}

#[tokio::test]
async fn each_step_of_a_deposit_reaches_the_people_concerned_by_mail_once() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let app = app_mailing_to(&sink).await;
    let id = submitted(&app).await;
    drain_until(&app, || !sink.to("curator@example.org").is_empty()).await;

    // The curator hears of the submission, with the one link to act on.
    let to_curator = sink.to("curator@example.org");
    assert_eq!(to_curator.len(), 1, "{to_curator:?}");
    let m = &to_curator[0];
    clean(m);
    assert_eq!(m["subject"], "Arca: a deposit waits for review");
    let link = format!("/deposits/{id}");
    assert!(m["text"].as_str().unwrap().contains(&link), "{m}");
    assert!(m["text"].as_str().unwrap().contains("submitted for review"));
    assert!(
        m["html"].as_str().unwrap().contains(&format!("{link}\"")),
        "{m}"
    );
    assert!(
        sink.to("author@example.org").is_empty(),
        "authors are not told of their own submission"
    );

    // A curator asks for changes: the author hears why.
    let r = app
        .act(
            &app.curator,
            &id,
            "request-changes",
            Some(json!({"reason": "add the wavelength"})),
        )
        .await;
    assert!(
        r.status.is_success(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    drain_until(&app, || !sink.to("author@example.org").is_empty()).await;
    let to_author = sink.to("author@example.org");
    assert_eq!(to_author.len(), 1);
    clean(&to_author[0]);
    assert_eq!(to_author[0]["subject"], "Arca: changes requested");
    assert!(
        to_author[0]["text"]
            .as_str()
            .unwrap()
            .contains("add the wavelength")
    );

    // Its link opens for the depositor, and for nobody else.
    let api = format!("/api/v1/deposits/{id}");
    assert_eq!(
        app.json(Method::GET, &api, &app.author, None).await.status,
        200
    );
    assert_eq!(
        app.json(Method::GET, &api, &app.other_author, None)
            .await
            .status,
        404
    );

    // A hold tells the depositor its terms.
    app.act(&app.author, &id, "submit", None).await;
    app.drain().await;
    app.act(&app.curator, &id, "approve", None).await;
    let r = app
        .act(
            &app.curator,
            &id,
            "hold",
            Some(json!({"until": "2028-06-30"})),
        )
        .await;
    assert!(
        r.status.is_success(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    drain_until(&app, || sink.to("author@example.org").len() == 3).await;
    let hold = &sink.to("author@example.org")[2];
    assert_eq!(hold["subject"], "Arca: deposit on hold");
    assert!(
        hold["text"]
            .as_str()
            .unwrap()
            .contains("on hold until 2028-06-30"),
        "{hold}"
    );

    // Running the queue again sends nothing twice.
    arca::worker::run_until_idle(&app.services).await.unwrap();
    assert_eq!(sink.to("author@example.org").len(), 3);

    // The same notifications are on each person's page, unread until read.
    let r = app
        .json(Method::GET, "/api/v1/notifications", &app.author, None)
        .await;
    let body = r.json();
    assert_eq!(body["unread"], 3, "{body}");
    assert_eq!(body["notifications"][0]["kind"], "on_hold");
    assert_eq!(body["notifications"][2]["kind"], "changes_requested");
    assert_eq!(body["notifications"][2]["deposit"], id.as_str());
}

#[tokio::test]
async fn a_mail_server_that_is_down_delays_mail_and_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = SmtpSink::start(dir.path()).await;
    let app = app_mailing_to(&sink).await;
    sink.stop();
    submitted(&app).await;
    // Tried and refused a few times: the job waits for another try, nothing is lost.
    for _ in 0..3 {
        arca::worker::run_until_idle(&app.services).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("jobs WHERE kind = 'mail' AND state = 'queued'")
            .await,
        1
    );
    assert_eq!(app.count("mail_outbox WHERE sent_at IS NULL").await, 1);

    sink.restart().await;
    drain_until(&app, || !sink.to("curator@example.org").is_empty()).await;
    arca::worker::run_until_idle(&app.services).await.unwrap();
    assert_eq!(sink.messages().len(), 1, "sent once");
    assert_eq!(app.count("mail_outbox WHERE sent_at IS NULL").await, 0);
    assert_eq!(
        app.count("jobs WHERE kind = 'mail' AND state = 'succeeded'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_person_who_wants_no_mail_still_finds_the_notification() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let app = app_mailing_to(&sink).await;
    let curator = curator_wanting(&app, MailNotices::None).await;
    // A second curator still wants mail; a disabled one gets none.
    for (email, disabled) in [("second@example.org", false), ("gone@example.org", true)] {
        app.services
            .users()
            .add(email, email, Role::Curator, None)
            .await
            .unwrap();
        if disabled {
            app.services.accounts().disable(email).await.unwrap();
        }
    }
    let id = submitted(&app).await;
    drain_until(&app, || !sink.to("second@example.org").is_empty()).await;
    assert!(sink.to("curator@example.org").is_empty());
    assert!(sink.to("gone@example.org").is_empty());
    assert_eq!(sink.messages().len(), 1);
    let listed = app.services.notices().list(&curator, "", 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].version_id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn an_invitation_is_mailed_to_the_person_invited() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let app = app_mailing_to(&sink).await;
    let curator = app
        .services
        .users()
        .authenticate(&app.curator)
        .await
        .unwrap();
    let token = app
        .services
        .sessions()
        .invite(&curator, "New.Person@example.org", Role::Curator)
        .await
        .unwrap();
    app.drain().await;
    let got = sink.to("new.person@example.org");
    assert_eq!(got.len(), 1, "{:?}", sink.messages());
    clean(&got[0]);
    assert_eq!(got[0]["subject"], "Arca: you are invited");
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("/signup?invitation={token}")),
        "{text}"
    );
    assert!(text.contains("as curator"), "{text}");
}

#[tokio::test]
async fn an_open_sign_up_confirms_its_address_before_anything_is_mailed_there() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let app = app_mailing_to(&sink).await;
    let mut b = crate::common::Browser::new(&app);
    b.sign_up("Curie, Marie", "marie@example.org").await;
    app.drain().await;
    let got = sink.to("marie@example.org");
    assert_eq!(got.len(), 1);
    clean(&got[0]);
    assert_eq!(got[0]["subject"], "Arca: confirm your address");
    let body = got[0]["text"].as_str().unwrap();
    let at = body.find("/confirm-address/").unwrap();
    let path: String = body[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let my = crate::common::text(&b.get("/my").await);
    assert!(my.contains("id=\"confirm-address\""), "{my}");

    // Her deposit's news is not mailed to an unconfirmed address...
    let token = app
        .services
        .users()
        .create_token("marie@example.org", 30, None)
        .await
        .unwrap();
    let id = app.create_deposit(&token).await;
    app.upload(&token, &id, "frame.cbf", b"frame").await;
    app.act(&token, &id, "submit", None).await;
    app.drain().await;
    app.act(
        &app.curator,
        &id,
        "request-changes",
        Some(json!({"reason": "x"})),
    )
    .await;
    app.drain().await;
    assert_eq!(
        sink.to("marie@example.org").len(),
        1,
        "only the confirmation"
    );

    // ... until she follows the link (once).
    let r = b.get(&path).await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    assert!(crate::common::text(&r).contains("marie@example.org is confirmed"));
    assert_eq!(b.get(&path).await.status, axum::http::StatusCode::GONE);
    assert!(!crate::common::text(&b.get("/my").await).contains("id=\"confirm-address\""));
    app.act(&token, &id, "submit", None).await;
    app.drain().await;
    app.act(&app.curator, &id, "approve", None).await;
    drain_until(&app, || sink.to("marie@example.org").len() == 2).await;
    assert_eq!(
        sink.to("marie@example.org")[1]["subject"],
        "Arca: deposit approved"
    );
}

#[tokio::test]
async fn a_curator_who_chose_the_digest_gets_one_mail_a_day_listing_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).await;
    let app = app_mailing_to(&sink).await;
    curator_wanting(&app, MailNotices::Digest).await;
    let first = submitted(&app).await;
    let second = submitted(&app).await;
    app.drain().await;
    assert!(sink.to("curator@example.org").is_empty(), "nothing at once");

    let now = arca::db::now_ms();
    assert_eq!(app.services.notices().send_digests(now).await.unwrap(), 1);
    app.drain().await;
    let got = sink.to("curator@example.org");
    assert_eq!(got.len(), 1);
    clean(&got[0]);
    assert_eq!(got[0]["subject"], "Arca: your daily digest");
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        text.contains("2 notifications since the last digest"),
        "{text}"
    );
    assert!(text.contains(&first) && text.contains(&second), "{text}");
    assert!(
        got[0]["html"]
            .as_str()
            .unwrap()
            .contains("<li>a deposit waits for review")
    );
    // Nothing new: no digest.
    assert_eq!(app.services.notices().send_digests(now).await.unwrap(), 0);
}
