//! Accounts an operator runs: disabling ends everything a person holds at once,
//! enabling lets them back in, a role change holds at their next request, and the
//! archive always keeps an admin.

use crate::common::TestApp;
use arca::model::Role;
use arca::services::ServiceError;
use axum::http::{Method, StatusCode};

const MARIE: &str = "marie@example.org";
const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn disabling_a_person_ends_their_sessions_and_tokens_at_once() {
    let app = TestApp::new().await;
    let s = &app.services;
    s.users()
        .add(MARIE, "Curie, Marie", Role::Author, Some(PASSWORD))
        .await
        .unwrap();
    let session = s.sessions().sign_in(MARIE, PASSWORD).await.unwrap();
    let token = s
        .users()
        .create_token(MARIE, 30, Some("beamline pc"))
        .await
        .unwrap();
    let deposits = |t: String| {
        let app = &app;
        async move {
            app.json(Method::GET, "/api/v1/deposits", &t, None)
                .await
                .status
        }
    };
    assert_eq!(deposits(token.clone()).await, StatusCode::OK);
    assert!(
        s.sessions()
            .session(&session.token)
            .await
            .unwrap()
            .is_some()
    );

    let ended = s.accounts().disable(MARIE).await.unwrap();
    assert_eq!((ended.sessions, ended.tokens), (1, 1));
    assert_eq!(deposits(token.clone()).await, StatusCode::UNAUTHORIZED);
    assert!(
        s.sessions()
            .session(&session.token)
            .await
            .unwrap()
            .is_none()
    );
    // The right password gets a clear refusal; a wrong one the usual answer.
    match s.sessions().sign_in(MARIE, PASSWORD).await {
        Err(ServiceError::Forbidden(m)) => assert!(m.contains("disabled"), "{m}"),
        other => panic!("a disabled account signed in: {:?}", other.map(|_| ())),
    }
    assert!(matches!(
        s.sessions().sign_in(MARIE, "wrong").await,
        Err(ServiceError::Invalid { .. })
    ));
    match s.users().create_token(MARIE, 30, None).await {
        Err(ServiceError::Conflict(m)) => assert!(m.contains("disabled"), "{m}"),
        other => panic!("a token for a disabled account: {other:?}"),
    }
    let shown = s.accounts().show(MARIE).await.unwrap();
    assert!(shown.account.disabled_at.is_some());
    assert_eq!(shown.live_tokens, 0);
    assert!(matches!(
        s.accounts().disable(MARIE).await,
        Err(ServiceError::Conflict(_))
    ));

    // Enabled: signing in works again; what was revoked stays revoked.
    s.accounts().enable(MARIE).await.unwrap();
    let again = s.sessions().sign_in(MARIE, PASSWORD).await.unwrap();
    assert!(s.sessions().session(&again.token).await.unwrap().is_some());
    assert_eq!(deposits(token).await, StatusCode::UNAUTHORIZED);
    let fresh = s.users().create_token(MARIE, 30, None).await.unwrap();
    assert_eq!(deposits(fresh).await, StatusCode::OK);
}

#[tokio::test]
async fn a_new_role_holds_at_the_next_request() {
    let app = TestApp::new().await;
    let id = app.create_deposit(&app.author).await;
    let path = format!("/api/v1/deposits/{id}");
    let app = &app;
    let other = || {
        let (token, path) = (app.other_author.clone(), path.clone());
        async move { app.json(Method::GET, &path, &token, None).await.status }
    };
    assert!(other().await.is_client_error());
    app.services
        .accounts()
        .set_role("other@example.org", Role::Curator)
        .await
        .unwrap();
    assert_eq!(other().await, StatusCode::OK);
    app.services
        .accounts()
        .set_role("other@example.org", Role::Author)
        .await
        .unwrap();
    assert!(other().await.is_client_error());
}

#[tokio::test]
async fn the_last_admin_is_kept() {
    let app = TestApp::new().await;
    let s = &app.services;
    s.users()
        .add("root@example.org", "Root", Role::Admin, None)
        .await
        .unwrap();
    for refused in [
        s.accounts().disable("root@example.org").await.map(|_| ()),
        s.accounts()
            .set_role("root@example.org", Role::Curator)
            .await,
    ] {
        match refused {
            Err(ServiceError::Conflict(m)) => assert!(m.contains("last enabled admin"), "{m}"),
            other => panic!("the last admin went: {other:?}"),
        }
    }
    // With a second admin, either may go.
    s.accounts()
        .set_role("curator@example.org", Role::Admin)
        .await
        .unwrap();
    s.accounts().disable("root@example.org").await.unwrap();
    assert!(matches!(
        s.accounts()
            .set_role("curator@example.org", Role::Author)
            .await,
        Err(ServiceError::Conflict(_))
    ));
}

#[tokio::test]
async fn people_are_listed_by_address_in_pages() {
    let app = TestApp::new().await;
    let s = &app.services;
    let all = s.accounts().list(None, "").await.unwrap();
    let emails: Vec<&str> = all.iter().map(|a| a.user.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "author@example.org",
            "curator@example.org",
            "other@example.org"
        ]
    );
    assert!(
        all.iter()
            .all(|a| !a.has_password && a.disabled_at.is_none())
    );
    let after = s.accounts().list(None, "author@example.org").await.unwrap();
    assert_eq!(after.len(), 2);
    let curators = s.accounts().list(Some(Role::Curator), "").await.unwrap();
    assert_eq!(curators.len(), 1);
    assert_eq!(curators[0].user.email, "curator@example.org");
    assert!(matches!(
        s.accounts().show("nobody@example.org").await,
        Err(ServiceError::NotFound(_))
    ));
}
