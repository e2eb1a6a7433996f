//! The OpenAPI 3.1 document, generated from the handlers' own annotations: every route
//! is registered through `utoipa_axum::routes!`, so a route cannot exist without its
//! description. Served at `/api/openapi.json`.

use axum::{Extension, Json};
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// RFC 9457 problem details: every API error.
#[allow(dead_code)] // Only its schema is used; errors are built by AppError.
#[derive(ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `/problems/invalid-metadata`.
    r#type: String,
    title: String,
    status: u16,
    /// What went wrong and what to do about it, in plain words.
    detail: String,
    /// One entry per field at fault, each with a JSON Pointer.
    errors: Option<Vec<serde_json::Value>>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `arca token create`"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Arca",
        description = "Data publication and DOI-minting archive for large-facility data. \
                       JSON under /api/v1 with `Authorization: Bearer TOKEN`; errors are \
                       RFC 9457 problem+json; uploads speak tus 1.0.0.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "deposits", description = "Deposits: metadata, files, and their life to release"),
        (name = "uploads", description = "tus 1.0.0 resumable uploads"),
        (name = "citations", description = "Citations and the software catalogue"),
        (name = "holds", description = "Holds until publication, reviewer links, notifications"),
        (name = "releases", description = "Release batches"),
        (name = "mirrors", description = "Mirror sites, transfers and fixity (curators)"),
        (name = "public", description = "What anyone can read: released datasets, DOIs, harvesting"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// The document, filled in by the router as routes are registered.
pub type Document = utoipa::openapi::OpenApi;

/// Responses every operation of a kind can give, added where the handler's own
/// annotation does not list them: they come from the extractors, not the handler.
fn common_responses(path: &str, method: &str) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    // Any route: a NUL in the URL; API routes: bodies, queries and headers that do not
    // parse; typed path parameters (a version number) that do not parse.
    out.push((
        "400",
        "Malformed request: a NUL in the URL, or a body, query or header that cannot be read",
    ));
    if path.starts_with("/api/v1/uploads") && method != "options" {
        out.push(("412", "Tus-Resumable is missing or not 1.0.0"));
    }
    if matches!(method, "post" | "put" | "patch") {
        out.push((
            "415",
            "The body's Content-Type is not one this operation takes",
        ));
    }
    if path.starts_with("/datasets/{id}") || path.starts_with("/doi/") {
        out.push(("406", "None of the accepted media types is offered"));
    }
    out
}

/// Finish the generated document: OpenAPI has no catch-all parameters (axum's
/// `{*path}` is written `{path}`), and the extractors' own refusals are listed.
pub fn finish(mut doc: Document) -> Document {
    use utoipa::openapi::{RefOr, ResponseBuilder};
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(path, mut item)| {
            let path = path.replace("{*", "{");
            let ops = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("options", &mut item.options),
                ("head", &mut item.head),
                ("patch", &mut item.patch),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                for (status, why) in common_responses(&path, method) {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            RefOr::T(ResponseBuilder::new().description(why).build())
                        });
                }
            }
            (path, item)
        })
        .collect();
    doc
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This OpenAPI 3.1 document", body = Object))
)]
pub async fn document(Extension(doc): Extension<Arc<Document>>) -> Json<Document> {
    Json(doc.as_ref().clone())
}
