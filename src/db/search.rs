//! The search index of released datasets: filter columns in `search_entries`, the text
//! in SQLite's FTS5 or PostgreSQL's tsvector (`search_text`).

use super::{Backend, Conn, DbResult};
use crate::metadata::search::SearchEntry;
use sqlx::Row;

/// Index (or re-index) the latest public version of a dataset.
pub async fn put(
    conn: &mut Conn,
    backend: Backend,
    dataset_id: &str,
    version_id: &str,
    released_at: i64,
    e: &SearchEntry,
) -> DbResult<()> {
    remove(conn, dataset_id).await?;
    let pdb = format!(" {} ", e.pdb_ids.join(" "));
    sqlx::query(
        "INSERT INTO search_entries (dataset_id, version_id, released_at, year, facility, beamline, pdb_ids, authors)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(dataset_id)
    .bind(version_id)
    .bind(released_at)
    .bind(e.year)
    .bind(&e.facility)
    .bind(&e.beamline)
    .bind(pdb)
    .bind(e.authors.join("\n"))
    .execute(&mut *conn)
    .await?;
    let text = match backend {
        Backend::Sqlite => "INSERT INTO search_text (dataset_id, body) VALUES ($1, $2)",
        // 'simple': no stemming, so both databases match the same whole words.
        Backend::Postgres => {
            "INSERT INTO search_text (dataset_id, body) VALUES ($1, to_tsvector('simple', $2))"
        }
    };
    sqlx::query(text)
        .bind(dataset_id)
        .bind(&e.body)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn remove(conn: &mut Conn, dataset_id: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM search_text WHERE dataset_id = $1")
        .bind(dataset_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM search_entries WHERE dataset_id = $1")
        .bind(dataset_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What a reader asks for; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Words (from `metadata::search::query_words`); each must occur, the last as a prefix.
    pub words: Vec<String>,
    pub facility: Option<String>,
    pub beamline: Option<String>,
    pub year: Option<i64>,
    pub pdb: Option<String>,
    /// A lower-cased part of a creator's name.
    pub author: Option<String>,
}

/// One page of matches, best first (newest first without words), and the total count.
pub async fn find(
    conn: &mut Conn,
    backend: Backend,
    q: &Query,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<String>, i64)> {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let (join, rank) = if q.words.is_empty() {
        ("", "e.released_at DESC")
    } else {
        let p = next(Bind::Text(text_query(backend, &q.words)), &mut binds);
        match backend {
            Backend::Sqlite => {
                conditions.push(format!("t.search_text MATCH {p}"));
                (
                    " JOIN search_text t ON t.dataset_id = e.dataset_id",
                    "t.rank, e.released_at DESC",
                )
            }
            Backend::Postgres => {
                conditions.push(format!("t.body @@ to_tsquery('simple', {p})"));
                (
                    " JOIN search_text t ON t.dataset_id = e.dataset_id",
                    "ts_rank(t.body, to_tsquery('simple', $1)) DESC, e.released_at DESC",
                )
            }
        }
    };
    if let Some(f) = &q.facility {
        let p = next(Bind::Text(f.clone()), &mut binds);
        conditions.push(format!("e.facility = {p}"));
    }
    if let Some(b) = &q.beamline {
        let p = next(Bind::Text(b.clone()), &mut binds);
        conditions.push(format!("e.beamline = {p}"));
    }
    if let Some(y) = q.year {
        let p = next(Bind::Int(y), &mut binds);
        conditions.push(format!("e.year = {p}"));
    }
    if let Some(id) = &q.pdb {
        let p = next(Bind::Text(format!("% {} %", like_escape(id))), &mut binds);
        conditions.push(format!("e.pdb_ids LIKE {p} ESCAPE '\\'"));
    }
    if let Some(a) = &q.author {
        let p = next(Bind::Text(format!("%{}%", like_escape(a))), &mut binds);
        conditions.push(format!("e.authors LIKE {p} ESCAPE '\\'"));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let count_sql = format!("SELECT COUNT(*) AS n FROM search_entries e{join}{filter}");
    let page_sql = format!(
        "SELECT e.dataset_id FROM search_entries e{join}{filter} ORDER BY {rank}, e.dataset_id LIMIT {limit} OFFSET {offset}"
    );
    let total: i64 = bind_all(sqlx::query(sqlx::AssertSqlSafe(count_sql)), &binds)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)), &binds)
        .fetch_all(&mut *conn)
        .await?;
    let ids = rows
        .iter()
        .map(|r| r.try_get("dataset_id"))
        .collect::<Result<_, _>>()?;
    Ok((ids, total))
}

enum Bind {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s.as_str()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Every word must occur; the last may be the start of a word, so results come as
/// the reader types. Words are letters and digits only, so nothing here is syntax.
fn text_query(backend: Backend, words: &[String]) -> String {
    let last = words.len().saturating_sub(1);
    let parts = words.iter().enumerate().map(|(i, w)| match backend {
        Backend::Sqlite if i == last => format!("\"{w}\"*"),
        Backend::Sqlite => format!("\"{w}\""),
        Backend::Postgres if i == last => format!("{w}:*"),
        Backend::Postgres => w.clone(),
    });
    let sep = match backend {
        Backend::Sqlite => " ",
        Backend::Postgres => " & ",
    };
    parts.collect::<Vec<_>>().join(sep)
}

/// The values readers can filter by, with how many datasets have each.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub facilities: Vec<(String, i64)>,
    pub beamlines: Vec<(String, i64)>,
    pub years: Vec<(i64, i64)>,
}

pub async fn facets(conn: &mut Conn) -> DbResult<Facets> {
    let mut out = Facets::default();
    for (column, list) in [
        ("facility", &mut out.facilities),
        ("beamline", &mut out.beamlines),
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {column} AS v, COUNT(*) AS n FROM search_entries WHERE {column} IS NOT NULL
             GROUP BY {column} ORDER BY {column} LIMIT 500"
        )))
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            list.push((r.try_get("v")?, r.try_get("n")?));
        }
    }
    let rows = sqlx::query(
        "SELECT year, COUNT(*) AS n FROM search_entries WHERE year IS NOT NULL
         GROUP BY year ORDER BY year DESC LIMIT 500",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        out.years.push((r.try_get("year")?, r.try_get("n")?));
    }
    Ok(out)
}

/// Datasets with a public release but no entry: released before the index existed.
pub async fn unindexed(conn: &mut Conn) -> DbResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT p.dataset_id FROM published p WHERE p.deleted = 0
         AND NOT EXISTS (SELECT 1 FROM search_entries e WHERE e.dataset_id = p.dataset_id)",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("dataset_id")?)).collect()
}
