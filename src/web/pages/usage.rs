//! The curators' usage page: the most used datasets (of a month, or of all time) and
//! a month's figures by facility and beamline.

use super::{Chrome, page};
use crate::model::usage::Figures;
use crate::services::Services;
use crate::web::error::{AppError, AppResult};
use crate::web::session::SignedIn;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "usage.html")]
struct UsagePage {
    chrome: Chrome,
    /// The month asked for, "" for all time.
    month: String,
    /// The month the facility table is for.
    facility_month: String,
    time_zone: String,
    top: Vec<(String, String, Figures)>,
    facilities: Vec<(String, String, Figures)>,
}

#[derive(Deserialize)]
pub struct UsageQuery {
    #[serde(default)]
    month: String,
}

pub async fn overview(
    State(s): State<Services>,
    SignedIn(b, actor): SignedIn,
    Query(q): Query<UsageQuery>,
) -> AppResult<Response> {
    let month = Some(q.month.trim()).filter(|m| !m.is_empty());
    let o = s
        .usage()
        .overview(&actor, month)
        .await
        .map_err(AppError::page)?;
    let facility_month = match &o.month {
        Some(m) => m.clone(),
        None => {
            crate::model::usage::Month::of(crate::db::now_ms(), s.usage().time_zone()).to_string()
        }
    };
    page(
        &b,
        &UsagePage {
            chrome: Chrome::of(&b),
            month: o.month.unwrap_or_default(),
            facility_month,
            time_zone: s.config.usage.time_zone.clone(),
            top: o.top,
            facilities: o.facilities,
        },
    )
}
