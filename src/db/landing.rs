//! The landing-page read model: one row per page, good while the dataset's
//! `public_rev` is the one it was built from.

use super::{Conn, DbResult};
use sqlx::Row;

/// Record that what the public sees of a dataset changed (in the changing transaction).
pub async fn bump(conn: &mut Conn, dataset_id: &str) -> DbResult<()> {
    sqlx::query("UPDATE datasets SET public_rev = public_rev + 1 WHERE id = $1")
        .bind(dataset_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The same for every dataset with a file of these bytes (a mirror lost its copy).
pub async fn bump_holding(conn: &mut Conn, sha256: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE datasets SET public_rev = public_rev + 1 WHERE id IN
         (SELECT v.dataset_id FROM files f JOIN dataset_versions v ON v.id = f.version_id
          WHERE f.sha256 = $1)",
    )
    .bind(sha256)
    .execute(conn)
    .await?;
    Ok(())
}

/// The dataset's current count, if it exists.
pub async fn rev(conn: &mut Conn, dataset_id: &str) -> DbResult<Option<i64>> {
    let row = sqlx::query("SELECT public_rev FROM datasets WHERE id = $1")
        .bind(dataset_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("public_rev")).transpose()?)
}

/// A page rendered from a model, as kept beside it.
#[derive(Debug, Clone)]
pub struct PageRow {
    pub html: String,
    pub link: String,
    /// 1: gone (withdrawn), 2: not to be indexed (held).
    pub flags: i64,
}

/// What is kept of a current page: its model, or the page rendered for `page_key`
/// with the usage figures read beside it.
#[derive(Debug, Clone)]
pub enum Current {
    Model { model: String, rev: i64 },
    Page(PageRow, Shown),
}

/// The version a page shows and its all-time usage (and its dataset's), read in the
/// page's own query.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub version_id: String,
    pub version: crate::model::usage::Figures,
    pub dataset: crate::model::usage::Figures,
}

/// A page's model (or its page rendered for `page_key`) if it was built from the
/// dataset's current count.
pub async fn current(
    conn: &mut Conn,
    dataset_id: &str,
    number: i64,
    page_key: &str,
) -> DbResult<Option<Current>> {
    let row = sqlx::query(
        "SELECT m.rev, CAST(CASE WHEN m.page_key = $3 THEN 1 ELSE 0 END AS BIGINT) AS rendered,
                CASE WHEN m.page_key = $3 THEN '' ELSE m.model END AS model,
                m.page, m.page_link, m.page_flags, m.version_id,
                uv.total_investigations AS v_total_investigations,
                uv.unique_investigations AS v_unique_investigations,
                uv.total_requests AS v_total_requests, uv.unique_requests AS v_unique_requests,
                ud.total_investigations AS d_total_investigations,
                ud.unique_investigations AS d_unique_investigations,
                ud.total_requests AS d_total_requests, ud.unique_requests AS d_unique_requests
         FROM landing_models m JOIN datasets d ON d.id = m.dataset_id
         LEFT JOIN usage_totals uv ON uv.dataset_id = m.dataset_id AND uv.version_id = m.version_id
         LEFT JOIN usage_totals ud ON ud.dataset_id = m.dataset_id AND ud.version_id = ''
         WHERE m.dataset_id = $1 AND m.version_number = $2 AND m.rev = d.public_rev",
    )
    .bind(dataset_id)
    .bind(number)
    .bind(page_key)
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let rendered: i64 = r.try_get("rendered")?;
    Ok(Some(if rendered == 1 {
        Current::Page(
            PageRow {
                html: r.try_get::<Option<String>, _>("page")?.unwrap_or_default(),
                link: r
                    .try_get::<Option<String>, _>("page_link")?
                    .unwrap_or_default(),
                flags: r
                    .try_get::<Option<i64>, _>("page_flags")?
                    .unwrap_or_default(),
            },
            Shown {
                version_id: r
                    .try_get::<Option<String>, _>("version_id")?
                    .unwrap_or_default(),
                version: super::usage::figures_at(&r, "v_")?,
                dataset: super::usage::figures_at(&r, "d_")?,
            },
        )
    } else {
        Current::Model {
            model: r.try_get("model")?,
            rev: r.try_get("rev")?,
        }
    }))
}

/// Keep the page rendered from the model of count `rev`, if that is still the model.
pub async fn keep_page(
    conn: &mut Conn,
    dataset_id: &str,
    number: i64,
    rev: i64,
    page_key: &str,
    page: &PageRow,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE landing_models SET page = $1, page_link = $2, page_flags = $3, page_key = $4
         WHERE dataset_id = $5 AND version_number = $6 AND rev = $7",
    )
    .bind(&page.html)
    .bind(&page.link)
    .bind(page.flags)
    .bind(page_key)
    .bind(dataset_id)
    .bind(number)
    .bind(rev)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keep a page's model built from count `rev` (read before building it), unless a
/// model from a later count is there already.
pub async fn put(
    conn: &mut Conn,
    dataset_id: &str,
    number: i64,
    rev: i64,
    model: &str,
    version_id: &str,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO landing_models (dataset_id, version_number, rev, model, version_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (dataset_id, version_number) DO UPDATE SET rev = excluded.rev, model = excluded.model,
           version_id = excluded.version_id,
           page = NULL, page_link = NULL, page_flags = NULL, page_key = NULL
         WHERE landing_models.rev <= excluded.rev",
    )
    .bind(dataset_id)
    .bind(number)
    .bind(rev)
    .bind(model)
    .bind(version_id)
    .execute(conn)
    .await?;
    Ok(())
}
