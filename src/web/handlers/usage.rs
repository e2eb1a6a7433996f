//! Usage statistics: a dataset's COUNTER figures by month, and the Dataset Report.

use crate::services::Services;
use crate::services::usage::UsageReport;
use crate::services::usage_report::Period;
use crate::web::auth::Authenticated;
use crate::web::error::AppResult;
use crate::web::openapi::Problem;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct UsageQuery {
    from: Option<String>,
    to: Option<String>,
    version: Option<i64>,
}

/// A released dataset's views and downloads under COUNTER (R5.1.1 §10.4): the four
/// metrics for regular use, and the same prefixed `machine_` for scripts and tools,
/// over the span and by month. Robots are not counted; nor are the depositor's own
/// uses or a reviewer's.
#[utoipa::path(get, path = "/datasets/{id}/usage", tag = "public", params(("id" = String, Path, description = "Dataset id"), ("from" = Option<String>, Query, description = "First month, YYYY-MM (default: eleven months before `to`)"), ("to" = Option<String>, Query, description = "Last month, YYYY-MM (default: this month)"), ("version" = Option<i64>, Query, description = "One version (default: every version together)")), responses((status = 200, description = "Totals and months", body = UsageReport), (status = 404, description = "Not a released dataset", body = Problem, content_type = "application/problem+json"), (status = 422, description = "A month that is not YYYY-MM, or more than 120 months", body = Problem, content_type = "application/problem+json")))]
pub async fn of_dataset(
    State(s): State<Services>,
    Path(id): Path<String>,
    Query(q): Query<UsageQuery>,
) -> AppResult<Json<UsageReport>> {
    Ok(Json(
        s.usage()
            .of_dataset(&id, q.version, q.from.as_deref(), q.to.as_deref())
            .await?,
    ))
}

#[derive(Deserialize)]
pub struct DsrQuery {
    begin_date: Option<String>,
    end_date: Option<String>,
}

/// The COUNTER Dataset Report (the JSON of the Code of Practice for Research Data).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DatasetReport {
    /// report-name "Dataset Master Report", report-id "DSR", release "RD1", created,
    /// created-by, reporting-period {begin-date, end-date}, report-filters,
    /// report-attributes, exceptions.
    #[serde(rename = "report-header")]
    pub report_header: serde_json::Map<String, serde_json::Value>,
    /// One entry per released version used in the period: dataset-id (its DOI),
    /// dataset-title, yop, uri, publisher, publisher-id, platform, data-type,
    /// dataset-contributors, dataset-dates, and performance by month: instances of
    /// metric-type (total/unique-dataset-investigations/requests), access-method
    /// (regular, machine) and count.
    #[serde(rename = "report-datasets")]
    pub report_datasets: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// The COUNTER Dataset Report (DSR, release RD1) of the archive's released versions
/// for whole months, as the Code of Practice for Research Data defines it and
/// DataCite's usage reports API takes it. Curators only.
#[utoipa::path(get, path = "/reports/dsr", tag = "public", params(("begin_date" = String, Query, description = "YYYY-MM-01"), ("end_date" = String, Query, description = "YYYY-MM-DD, at most 12 months on")), responses((status = 200, description = "The report: report-header and report-datasets", body = DatasetReport), (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"), (status = 403, description = "Not a curator", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Bad dates", body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn dsr(
    State(s): State<Services>,
    Authenticated(actor): Authenticated,
    Query(q): Query<DsrQuery>,
) -> AppResult<Response> {
    crate::services::require_curator(&actor, "read the archive's usage report")?;
    let required = |v: Option<String>, field: &str| {
        v.ok_or_else(|| crate::services::ServiceError::invalid(field, "is required (YYYY-MM-DD)"))
    };
    let period = Period::parse(
        &required(q.begin_date, "begin_date")?,
        &required(q.end_date, "end_date")?,
    )?;
    let body = Body::from_stream(s.usage_report().stream(period));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
