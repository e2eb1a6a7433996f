//! Usage counts: by month and access method, all-time totals for landing pages, by
//! facility and beamline, the user-sessions already counted, and the day's salt.

use super::{Conn, DbResult};
use crate::model::usage::Figures;
use crate::model::{AccessMethod, Activity};
use sqlx::Row;

/// The salt for `day`: the one another server made first, or `candidate`.
pub async fn salt(conn: &mut Conn, day: &str, candidate: &str) -> DbResult<String> {
    sqlx::query("INSERT INTO usage_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
        .bind(day)
        .bind(candidate)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query("SELECT salt FROM usage_salts WHERE day = $1")
        .bind(day)
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("salt")?)
}

/// Forget salts of days before `day` and sessions seen before `before_ms`.
pub async fn prune(conn: &mut Conn, day: &str, before_ms: i64) -> DbResult<()> {
    sqlx::query("DELETE FROM usage_salts WHERE day < $1")
        .bind(day)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM usage_sessions WHERE at < $1")
        .bind(before_ms)
        .execute(conn)
        .await?;
    Ok(())
}

/// True the first time this session does `activity` on the item (`version_id` '' for
/// the dataset as a whole), on any server.
pub async fn first_in_session(
    conn: &mut Conn,
    session_key: &str,
    dataset_id: &str,
    version_id: &str,
    activity: Activity,
    at: i64,
) -> DbResult<bool> {
    let r = sqlx::query(
        "INSERT INTO usage_sessions (session_key, dataset_id, version_id, activity, at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(session_key)
    .bind(dataset_id)
    .bind(version_id)
    .bind(activity.as_str())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// `SET` of an upsert adding the four figures, bound from placeholder `first` on, to
/// the row of `table` (named: PostgreSQL finds a bare column ambiguous there).
fn add_clause(table: &str, first: usize) -> String {
    [
        "total_investigations",
        "unique_investigations",
        "total_requests",
        "unique_requests",
    ]
    .iter()
    .enumerate()
    .map(|(i, c)| format!("{c} = {table}.{c} + ${}", first + i))
    .collect::<Vec<_>>()
    .join(", ")
}

fn bind_figures<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    f: &Figures,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(f.total_dataset_investigations)
        .bind(f.unique_dataset_investigations)
        .bind(f.total_dataset_requests)
        .bind(f.unique_dataset_requests)
}

/// Add `f` to an item's month, to its all-time total, and to its facility's month.
pub async fn add(
    conn: &mut Conn,
    dataset_id: &str,
    version_id: &str,
    month: &str,
    access: AccessMethod,
    f: &Figures,
) -> DbResult<()> {
    let cols = "total_investigations, unique_investigations, total_requests, unique_requests";
    let sql = format!(
        "INSERT INTO usage_counts (dataset_id, version_id, month, access, {cols})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (dataset_id, version_id, month, access) DO UPDATE SET {}",
        add_clause("usage_counts", 5)
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(dataset_id)
        .bind(version_id)
        .bind(month)
        .bind(access.as_str());
    bind_figures(q, f).execute(&mut *conn).await?;
    let sql = format!(
        "INSERT INTO usage_totals (dataset_id, version_id, {cols}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (dataset_id, version_id) DO UPDATE SET {}",
        add_clause("usage_totals", 3)
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(dataset_id)
        .bind(version_id);
    bind_figures(q, f).execute(&mut *conn).await?;
    if version_id.is_empty() {
        // The facility's month counts each dataset once (not each version again).
        let sql = format!(
            "INSERT INTO usage_facilities (month, facility, beamline, access, {cols})
             SELECT $1,
                    COALESCE((SELECT facility FROM search_entries WHERE dataset_id = $2 LIMIT 1), ''),
                    COALESCE((SELECT beamline FROM search_entries WHERE dataset_id = $2 LIMIT 1), ''),
                    $3, $4, $5, $6, $7
             ON CONFLICT (month, facility, beamline, access) DO UPDATE SET {}",
            add_clause("usage_facilities", 4)
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(month)
            .bind(dataset_id)
            .bind(access.as_str());
        bind_figures(q, f).execute(conn).await?;
    }
    Ok(())
}

fn figures_of(r: &sqlx::any::AnyRow) -> DbResult<Figures> {
    figures_at(r, "")
}

/// The four figures from columns named `{prefix}total_investigations`, …; NULL (no row
/// joined) reads as 0.
pub(super) fn figures_at(r: &sqlx::any::AnyRow, prefix: &str) -> DbResult<Figures> {
    let get = |c: &str| -> DbResult<i64> {
        Ok(
            r.try_get::<Option<i64>, _>(format!("{prefix}{c}").as_str())?
                .unwrap_or(0),
        )
    };
    Ok(Figures {
        total_dataset_investigations: get("total_investigations")?,
        unique_dataset_investigations: get("unique_investigations")?,
        total_dataset_requests: get("total_requests")?,
        unique_dataset_requests: get("unique_requests")?,
    })
}

/// All-time figures of a version and of its dataset (zero where nothing was counted).
pub async fn shown(
    conn: &mut Conn,
    dataset_id: &str,
    version_id: &str,
) -> DbResult<(Figures, Figures)> {
    let rows = sqlx::query(
        "SELECT version_id, total_investigations, unique_investigations, total_requests, unique_requests
         FROM usage_totals WHERE dataset_id = $1 AND version_id IN ($2, '')",
    )
    .bind(dataset_id)
    .bind(version_id)
    .fetch_all(conn)
    .await?;
    let (mut version, mut dataset) = (Figures::default(), Figures::default());
    for r in &rows {
        let v: String = r.try_get("version_id")?;
        if v.is_empty() {
            dataset = figures_of(r)?;
        } else {
            version = figures_of(r)?;
        }
    }
    Ok((version, dataset))
}

/// All-time figures of these versions (those with any), by version id.
pub async fn of_versions(
    conn: &mut Conn,
    version_ids: &[String],
) -> DbResult<std::collections::HashMap<String, Figures>> {
    let mut out = std::collections::HashMap::new();
    if version_ids.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (1..=version_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT version_id, total_investigations, unique_investigations, total_requests, unique_requests
         FROM usage_totals WHERE version_id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in version_ids {
        q = q.bind(id);
    }
    for r in q.fetch_all(conn).await? {
        out.insert(r.try_get("version_id")?, figures_of(&r)?);
    }
    Ok(out)
}

/// An item's months from `from` to `to` (inclusive, `YYYY-MM`), by access method.
pub async fn months(
    conn: &mut Conn,
    dataset_id: &str,
    version_id: &str,
    from: &str,
    to: &str,
) -> DbResult<Vec<(String, AccessMethod, Figures)>> {
    let rows = sqlx::query(
        "SELECT month, access, total_investigations, unique_investigations, total_requests, unique_requests
         FROM usage_counts WHERE dataset_id = $1 AND version_id = $2 AND month >= $3 AND month <= $4
         ORDER BY month, access",
    )
    .bind(dataset_id)
    .bind(version_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("month")?,
                super::get_parsed(r, "access")?,
                figures_of(r)?,
            ))
        })
        .collect()
}

/// One item of a month's usage, with what the report says of its version.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub dataset_id: String,
    pub version_id: String,
    pub month: String,
    pub access: AccessMethod,
    pub figures: Figures,
    pub released_at: Option<i64>,
}

/// Released versions' rows from `from` to `to`, ordered by version, months and access
/// after it; `limit` rows after the version `after`.
pub async fn report_page(
    conn: &mut Conn,
    from: &str,
    to: &str,
    after: &str,
    limit: i64,
) -> DbResult<Vec<ReportRow>> {
    let rows = sqlx::query(
        "SELECT u.dataset_id, u.version_id, u.month, u.access, u.total_investigations,
                u.unique_investigations, u.total_requests, u.unique_requests, p.released_at
         FROM usage_counts u LEFT JOIN published p ON p.version_id = u.version_id
         WHERE u.version_id > $3 AND u.version_id IN
           (SELECT DISTINCT version_id FROM usage_counts
            WHERE month >= $1 AND month <= $2 AND version_id > $3
            ORDER BY version_id LIMIT $4)
           AND u.month >= $1 AND u.month <= $2
         ORDER BY u.version_id, u.month, u.access",
    )
    .bind(from)
    .bind(to)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ReportRow {
                dataset_id: r.try_get("dataset_id")?,
                version_id: r.try_get("version_id")?,
                month: r.try_get("month")?,
                access: super::get_parsed(r, "access")?,
                figures: figures_of(r)?,
                released_at: r.try_get("released_at")?,
            })
        })
        .collect()
}

/// The most requested datasets: of one month (regular access, as COUNTER ranks), or
/// of all time (both) when `month` is None. (dataset id, figures)
pub async fn top(
    conn: &mut Conn,
    month: Option<&str>,
    limit: i64,
) -> DbResult<Vec<(String, Figures)>> {
    let rows = match month {
        Some(m) => {
            sqlx::query(
                "SELECT dataset_id, total_investigations, unique_investigations, total_requests, unique_requests
                 FROM usage_counts WHERE month = $1 AND access = 'regular' AND version_id = ''
                 ORDER BY unique_requests DESC, unique_investigations DESC, dataset_id LIMIT $2",
            )
            .bind(m)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT dataset_id, total_investigations, unique_investigations, total_requests, unique_requests
                 FROM usage_totals WHERE version_id = ''
                 ORDER BY unique_requests DESC, unique_investigations DESC, dataset_id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter()
        .map(|r| Ok((r.try_get("dataset_id")?, figures_of(r)?)))
        .collect()
}

/// A month's figures by facility and beamline, regular and machine access added.
pub async fn facilities(
    conn: &mut Conn,
    month: &str,
    limit: i64,
) -> DbResult<Vec<(String, String, Figures)>> {
    let rows = sqlx::query(
        "SELECT facility, beamline,
                CAST(SUM(total_investigations) AS BIGINT) AS total_investigations,
                CAST(SUM(unique_investigations) AS BIGINT) AS unique_investigations,
                CAST(SUM(total_requests) AS BIGINT) AS total_requests,
                CAST(SUM(unique_requests) AS BIGINT) AS unique_requests
         FROM usage_facilities WHERE month = $1
         GROUP BY facility, beamline ORDER BY facility, beamline LIMIT $2",
    )
    .bind(month)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("facility")?,
                r.try_get("beamline")?,
                figures_of(r)?,
            ))
        })
        .collect()
}

/// Whether `user_id` owns the dataset (their own use is not public usage).
pub async fn is_depositor(conn: &mut Conn, user_id: &str, dataset_id: &str) -> DbResult<bool> {
    Ok(
        sqlx::query("SELECT 1 AS one FROM datasets WHERE id = $1 AND owner_id = $2")
            .bind(dataset_id)
            .bind(user_id)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// The report id DataCite gave a month's report, if it was sent before.
pub async fn sent_report(conn: &mut Conn, month: &str) -> DbResult<Option<String>> {
    let row =
        sqlx::query("SELECT report_id FROM usage_reports WHERE month = $1 AND sent_at IS NOT NULL")
            .bind(month)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|r| r.try_get("report_id")).transpose()?.flatten())
}

pub async fn record_report(
    conn: &mut Conn,
    month: &str,
    report_id: &str,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO usage_reports (month, report_id, sent_at) VALUES ($1, $2, $3)
         ON CONFLICT (month) DO UPDATE SET report_id = $2, sent_at = $3",
    )
    .bind(month)
    .bind(report_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
