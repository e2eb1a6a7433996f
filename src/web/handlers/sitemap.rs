//! Sitemaps (sitemaps.org 0.9) of released landing pages: an index with one sitemap per
//! month of releases, so no sitemap nears the 50,000-URL limit and none costs more than
//! one month's rows. Withdrawn datasets leave the sitemap.

use crate::model::date::utc_day;
use crate::services::{ServiceError, Services};
use crate::web::error::AppResult;
use crate::web::openapi::Problem;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

const XML: &str = "application/xml; charset=utf-8";

#[utoipa::path(get, path = "/sitemap.xml", tag = "public", responses((status = 200, description = "Sitemap index, one sitemap per month of releases", body = String, content_type = "application/xml")))]
pub async fn index(State(s): State<Services>) -> AppResult<Response> {
    let mut o = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (y, m) in s.public().sitemap_months().await? {
        let _ = writeln!(
            o,
            "<sitemap><loc>{}/sitemaps/{y:04}-{m:02}.xml</loc></sitemap>",
            s.config.public_base()
        );
    }
    o.push_str("</sitemapindex>\n");
    Ok(([(header::CONTENT_TYPE, XML)], o).into_response())
}

/// `/sitemaps/YYYY-MM.xml`.
#[utoipa::path(get, path = "/sitemaps/{name}", tag = "public", params(("name" = String, Path, description = "YYYY-MM.xml")), responses((status = 200, description = "Landing pages released that month", body = String, content_type = "application/xml"), (status = 404, description = "Not a month", body = Problem, content_type = "application/problem+json")))]
pub async fn month(State(s): State<Services>, Path(name): Path<String>) -> AppResult<Response> {
    let parsed = name
        .strip_suffix(".xml")
        .and_then(|ym| ym.split_once('-'))
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)));
    let month = parsed.ok_or(ServiceError::NotFound("sitemap"))?;
    let mut o = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for p in s.public().sitemap_month(month).await? {
        let _ = writeln!(
            o,
            "<url><loc>{}/datasets/{}</loc><lastmod>{}</lastmod></url>",
            s.config.public_base(),
            p.version.dataset_id,
            utc_day(p.datestamp)
        );
    }
    o.push_str("</urlset>\n");
    Ok(([(header::CONTENT_TYPE, XML)], o).into_response())
}

/// Tells crawlers where the sitemap is.
#[utoipa::path(get, path = "/robots.txt", tag = "public", responses((status = 200, description = "robots.txt naming the sitemap", body = String, content_type = "text/plain")))]
pub async fn robots(State(s): State<Services>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "User-agent: *\nDisallow: /api/\nSitemap: {}/sitemap.xml\n",
            s.config.public_base()
        ),
    )
}
