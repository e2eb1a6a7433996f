use super::holds::Hold;
use crate::model::ids::{DatasetId, DepositId};
use crate::model::{Action, DepositState};
use crate::services::deposit_view::DepositView;
use crate::services::deposits::ActionInput;
use crate::services::dois::{DoiStatus, describe};
use crate::services::{Actor, Services};
use crate::web::auth::Authenticated;
use crate::web::error::{AppError, AppResult};
use crate::web::json::{parse, time};
use crate::web::openapi::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDeposit {
    #[serde(default = "empty_object")]
    metadata: Value,
    /// What DataCite has no property for (sample, beamline, software), beside it.
    #[serde(default = "empty_object")]
    facility: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositChange {
    metadata: Option<Value>,
    facility: Option<Value>,
}

fn empty_object() -> Value {
    json!({})
}

/// A deposit (one version of a dataset) as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Deposit {
    id: DepositId,
    /// The dataset this is a version of.
    dataset_id: DatasetId,
    /// 1 for the first version.
    version: i64,
    state: DepositState,
    /// The version's DOI, once reserved.
    doi: Option<String>,
    /// DataCite metadata as JSON (see /api/v1/schemas/deposit.json).
    metadata: Value,
    /// What DataCite has no property for: sample, beamline, software.
    facility: Value,
    files: FileTotals,
    /// The verifier's last report.
    verification: Option<Value>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// Where the DOI stands with DataCite, once a DOI is reserved.
    doi_status: Option<DoiStatus>,
    /// The hold in force, while on hold.
    hold: Option<Hold>,
}

#[derive(Serialize, ToSchema)]
pub struct FileTotals {
    count: i64,
    bytes: i64,
}

impl From<DepositView> for Deposit {
    fn from(d: DepositView) -> Self {
        let v = d.version;
        Self {
            id: v.id,
            dataset_id: v.dataset_id,
            version: v.version_number,
            state: v.state,
            doi: v.doi,
            metadata: v.metadata,
            facility: v.facility,
            files: FileTotals {
                count: d.file_count,
                bytes: d.total_bytes,
            },
            verification: v.verification,
            created_at: time(v.created_at),
            updated_at: time(v.updated_at),
            doi_status: d.doi.as_ref().map(describe),
            hold: d.hold.as_ref().map(Hold::from),
        }
    }
}

/// The deposit `id` as `actor` sees it now.
pub async fn view(s: &Services, actor: &Actor, id: &str) -> AppResult<Json<Deposit>> {
    Ok(Json(s.deposit_view().get(actor, id).await?.into()))
}

#[utoipa::path(post, path = "/deposits", tag = "deposits", security(("bearer" = [])), request_body(content = Object, description = "`{\"metadata\": {…DataCite JSON…}, \"facility\": {…}}`; see /api/v1/schemas/deposit.json", content_type = "application/json"), responses((status = 201, description = "The new draft deposit", body = Deposit), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> AppResult<(StatusCode, Json<Deposit>)> {
    let req: NewDeposit = parse(&body)?;
    let v = s
        .deposits()
        .create(&actor, req.metadata, req.facility)
        .await?;
    Ok((StatusCode::CREATED, view(&s, &actor, &v.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    #[serde(default)]
    before: String,
    limit: Option<i64>,
}

/// `GET /api/v1/deposits?state=submitted&before=ID&limit=N`: an author's own deposits,
/// or every deposit for curators (their queue), newest first.
#[utoipa::path(get, path = "/deposits", tag = "deposits", security(("bearer" = [])), params(("state" = Option<String>, Query, description = "Only deposits in this state"), ("before" = Option<String>, Query, description = "Keyset: deposits older than this id"), ("limit" = Option<i64>, Query, description = "Page size, 1–200")), responses((status = 200, description = "A page of deposits, newest first", body = DepositList), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<DepositList>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let page = s
        .deposits()
        .list(&actor, q.state.as_deref(), &q.before, limit)
        .await?;
    let next_before = (page.len() as i64 == limit)
        .then(|| page.last().map(|v| v.id.clone()))
        .flatten();
    let deposits = page
        .into_iter()
        .map(|v| DepositSummary {
            title: v
                .metadata
                .pointer("/titles/0/title")
                .and_then(Value::as_str)
                .map(str::to_owned),
            updated_at: time(v.updated_at),
            id: v.id,
            dataset_id: v.dataset_id,
            state: v.state,
            doi: v.doi,
        })
        .collect();
    Ok(Json(DepositList {
        deposits,
        next_before,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DepositList {
    deposits: Vec<DepositSummary>,
    /// Pass as `before` for the next page; null on the last.
    next_before: Option<DepositId>,
}

/// A deposit in a list.
#[derive(Serialize, ToSchema)]
pub struct DepositSummary {
    id: DepositId,
    dataset_id: DatasetId,
    state: DepositState,
    doi: Option<String>,
    title: Option<String>,
    #[schema(format = DateTime)]
    updated_at: String,
}

#[utoipa::path(get, path = "/deposits/{id}", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "The deposit", body = Deposit), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Deposit>> {
    view(&s, &actor, &id).await
}

#[utoipa::path(patch, path = "/deposits/{id}", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), request_body(content = Object, description = "`metadata` and/or `facility` to replace", content_type = "application/json"), responses((status = 200, description = "The changed deposit", body = Deposit), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not possible in the deposit's state", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Json<Deposit>> {
    let req: DepositChange = parse(&body)?;
    let v = s
        .deposits()
        .update(&actor, &id, req.metadata, req.facility)
        .await?;
    view(&s, &actor, &v.id).await
}

#[utoipa::path(get, path = "/deposits/{id}/events", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "Every event of the deposit, oldest first", body = Events), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json")))]
pub async fn events(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Events>> {
    let events = s
        .deposits()
        .events(&actor, &id)
        .await?
        .into_iter()
        .map(|e| EventBody {
            at: time(e.created_at),
            kind: e.kind,
            actor: e.actor_id,
            from: e.from_state,
            to: e.to_state,
            reason: e.reason,
        })
        .collect();
    Ok(Json(Events { events }))
}

#[derive(Serialize, ToSchema)]
pub struct Events {
    events: Vec<EventBody>,
}

/// One thing that happened to a deposit.
#[derive(Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventBody {
    /// What happened: `create`, `submit`, `approve`, `file_added`, …
    kind: String,
    /// Who did it (none for the archive itself).
    actor: Option<String>,
    /// For state changes: the state before and after.
    from: Option<String>,
    to: Option<String>,
    reason: Option<String>,
    #[schema(format = DateTime)]
    at: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    reason: Option<String>,
    until: Option<Value>,
    until_publication: Option<Value>,
    /// For schedule: the release batch.
    release: Option<String>,
}

/// `POST /api/v1/deposits/{id}/{action}`: submit and the curator actions.
#[utoipa::path(post, path = "/deposits/{id}/{action}", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("action" = String, Path, description = "submit, approve, request-changes, hold, schedule, release or withdraw")), request_body(content = Object, description = "Optional: `reason` (request-changes, withdraw), `until` or `until_publication` (hold)", content_type = "application/json"), responses((status = 200, description = "The deposit in its new state", body = Deposit), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Only curators may", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not possible in the deposit's state", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Invalid input, each problem with its field", body = Problem, content_type = "application/problem+json")))]
pub async fn act(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Json<Deposit>> {
    let Some(action) = Action::requested(&action) else {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no action '{action}' on deposits"),
        ));
    };
    let req: ActionBody = if body.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        parse(&body)?
    };
    let hold = match (req.until, req.until_publication) {
        (Some(u), _) => Some(json!({ "until": u })),
        (None, Some(p)) => Some(json!({ "until_publication": p })),
        (None, None) => None,
    };
    let input = ActionInput {
        reason: req.reason,
        hold,
        release: req.release,
    };
    let v = s.deposits().act(&actor, &id, action, input).await?;
    view(&s, &actor, &v.id).await
}

/// `GET /api/v1/deposits/{id}/datacite.xml`: the record as DataCite will hold it.
#[utoipa::path(get, path = "/deposits/{id}/datacite.xml", tag = "citations", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "DataCite 4.7 XML", body = String, content_type = "application/vnd.datacite.datacite+xml"), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not possible in the deposit's state", body = Problem, content_type = "application/problem+json")))]
pub async fn datacite_xml(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<impl axum::response::IntoResponse> {
    let xml = s.dois().datacite_xml(&actor, &id).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/vnd.datacite.datacite+xml",
        )],
        xml,
    ))
}

/// `GET /api/v1/deposits/{id}/citation?format=…&style=…`: cite a deposit before it is
/// public (for the manuscript); the same formats as `/doi/{doi}`.
#[utoipa::path(get, path = "/deposits/{id}/citation", tag = "citations", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id"), ("format" = Option<String>, Query, description = "bibtex, biblatex, ris, csl, text, datacite, datacite-xml, cff, codemeta, jsonld"), ("style" = Option<String>, Query, description = "CSL style for text: apa, chicago-author-date, harvard-cite-them-right, ieee, nature, vancouver"), ("locale" = Option<String>, Query, description = "e.g. en-GB")), responses((status = 200, description = "The citation in the format asked for", content((String = "text/x-bibliography"), (String = "application/x-bibtex"), (String = "application/x-research-info-systems"), (Object = "application/vnd.citationstyles.csl+json"), (String = "application/vnd.datacite.datacite+xml"), (Object = "application/ld+json"), (String = "application/x-yaml"))), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 406, description = "Unknown format", body = Problem, content_type = "application/problem+json")))]
pub async fn citation(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    Query(q): Query<crate::web::handlers::doi::Params>,
    headers: axum::http::HeaderMap,
) -> AppResult<axum::response::Response> {
    let record = s.dois().record(&actor, &id).await?;
    let format = crate::web::handlers::doi::requested(&headers, &q)?.unwrap_or(
        crate::metadata::citation::Format::Text {
            style: None,
            locale: None,
        },
    );
    crate::web::handlers::doi::cite(&record, &format)
}

/// `GET /api/v1/schemas/deposit.json`: what `POST /api/v1/deposits` accepts.
#[utoipa::path(get, path = "/schemas/deposit.json", tag = "deposits", responses((status = 200, description = "JSON Schema of the deposit body", body = Object, content_type = "application/schema+json")))]
pub async fn schema() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/schema+json")],
        Json(crate::metadata::schema::deposit_schema()),
    )
}

/// `POST /api/v1/deposits/{id}/doi`: reserve the DOI (the same one when asked again).
#[utoipa::path(post, path = "/deposits/{id}/doi", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "Deposit id")), responses((status = 200, description = "The deposit with its reserved DOI", body = Deposit), (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not possible in the deposit's state", body = Problem, content_type = "application/problem+json")))]
pub async fn reserve_doi(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<Json<Deposit>> {
    let v = s.dois().reserve(&actor, &id).await?;
    view(&s, &actor, &v.id).await
}

/// `POST /api/v1/deposits/{id}/versions`: start the next version of a released dataset.
#[utoipa::path(post, path = "/deposits/{id}/versions", tag = "deposits", security(("bearer" = [])), params(("id" = String, Path, description = "A released deposit (version)")), responses((status = 201, description = "The new version, a draft with the same files and metadata", body = Deposit), (status = 401, description = "No valid token", body = crate::web::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "No such deposit (or not yours)", body = crate::web::openapi::Problem, content_type = "application/problem+json"), (status = 409, description = "Not released, or another version is being prepared", body = crate::web::openapi::Problem, content_type = "application/problem+json")))]
pub async fn new_version(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<Deposit>)> {
    let v = s.versions().create(&actor, &id).await?;
    Ok((StatusCode::CREATED, view(&s, &actor, &v.id).await?))
}
