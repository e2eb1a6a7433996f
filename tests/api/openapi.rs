//! The OpenAPI 3.1 document at /api/openapi.json describes every route, and every route
//! it describes exists.

use crate::common::*;
use axum::body::Body;
use axum::http::{Method, StatusCode};

#[tokio::test]
async fn the_document_and_the_router_agree() {
    let app = TestApp::new().await;
    let r = app.public("/api/openapi.json", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for want in [
        "/api/v1/deposits",
        "/api/v1/deposits/{id}",
        "/api/v1/deposits/{id}/{action}",
        "/api/v1/deposits/{id}/files/{path}",
        "/api/v1/deposits/import",
        "/api/v1/uploads/{id}",
        "/doi/{doi}",
        "/oai",
        "/datasets/{id}/files/{path}",
        "/api/openapi.json",
    ] {
        assert!(paths.contains_key(want), "{want} is not documented");
    }
    let mut operations = 0;
    for (path, item) in paths {
        assert!(!path.contains('*'), "{path}");
        let concrete = path
            .replace("{id}", "01JD5XPQ6Z0000000000000000")
            .replace("{action}", "submit")
            .replace("{path}", "a/b.txt")
            .replace("{doi}", "10.5072/arca.x")
            .replace("{name}", "2026-01.xml");
        for method in item.as_object().unwrap().keys() {
            let Ok(m) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !matches!(
                m,
                Method::GET
                    | Method::POST
                    | Method::PUT
                    | Method::PATCH
                    | Method::DELETE
                    | Method::HEAD
                    | Method::OPTIONS
            ) {
                continue;
            }
            operations += 1;
            let r = app
                .call(m.clone(), &concrete, None, &[], Body::empty())
                .await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{m} {path}");
            let body = String::from_utf8_lossy(&r.body);
            assert!(
                !body.contains("nothing at"),
                "{m} {path} is documented but not routed"
            );
            assert!(!r.status.is_server_error(), "{m} {path}: {}", r.status);
        }
    }
    assert!(operations >= 30, "only {operations} operations documented");
}

/// Every JSON answer of the API is described field by field (a named schema), so a
/// generated client is typed and schemathesis checks each body. Only documents whose
/// shape another standard owns stay free-form.
#[tokio::test]
async fn every_json_answer_has_a_named_schema() {
    let app = TestApp::new().await;
    let doc = app.public("/api/openapi.json", &[]).await.json();
    let free_form = [
        "/api/openapi.json",
        "/api/v1/schemas/deposit.json",
        "/datasets/{id}/linkset",
    ];
    let mut typed = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                if !status.starts_with('2') {
                    continue;
                }
                let Some(schema) = response.pointer("/content/application~1json/schema") else {
                    continue;
                };
                assert!(
                    free_form.contains(&path.as_str()) || schema.get("$ref").is_some(),
                    "{method} {path} answers {status} with an untyped body: {schema}"
                );
                typed += 1;
            }
        }
    }
    assert!(typed >= 30, "only {typed} typed answers");
    // The named schemas say what each field is.
    let deposit = &doc["components"]["schemas"]["Deposit"];
    assert_eq!(
        deposit["properties"]["state"]["$ref"],
        "#/components/schemas/DepositState"
    );
    let states = &doc["components"]["schemas"]["DepositState"]["enum"];
    assert!(
        states.as_array().unwrap().contains(&"on_hold".into()),
        "{states}"
    );
}

/// NUL cannot be stored in a text column (PostgreSQL refuses it): it is refused at the
/// edge with a clear error, in URLs and in JSON bodies, and nothing is stored.
#[tokio::test]
async fn nul_characters_are_refused_not_a_server_error() {
    let app = TestApp::new().await;
    for path in [
        "/api/v1/deposits?before=%00",
        "/api/v1/transfers?deposit=%1Dn%00",
        "/datasets/abc%00def",
        "/oai?verb=ListRecords&set=a%00&metadataPrefix=oai_dc",
    ] {
        let r = app
            .call(Method::GET, path, Some(&app.curator), &[], Body::empty())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(String::from_utf8_lossy(&r.body).contains("NUL"), "{path}");
    }
    let mut m = metadata();
    m["titles"] = serde_json::json!([{"title": "a\u{0}b"}]);
    let r = app
        .json(
            Method::POST,
            "/api/v1/deposits",
            &app.author,
            Some(serde_json::json!({"metadata": m})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("dataset_versions").await, 0);
}
