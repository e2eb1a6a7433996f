//! The search index of released datasets: filter columns in `search_entries`, the text
//! in SQLite's FTS5 or PostgreSQL's tsvector (`search_text`).

use super::{Backend, Conn, DbResult};
use crate::metadata::search::{SearchEntry, spaced, words};
use sqlx::Row;

/// Counts are exact up to this many matches; past it a search says "at least".
pub const COUNT_CAP: i64 = 10_000;
/// Words and names are first checked on this many of the newest datasets that pass the
/// other filters. Where at least one in [`DENSE`] has them, pages are read by walking
/// the newest datasets and checking each (a page costs about a page's worth of rows);
/// where fewer do, through the full-text index (a page costs about as many rows as
/// datasets have the rarest word, few by then).
pub const PROBE: i64 = 1_000;
pub const DENSE: i64 = 20;

/// Index (or re-index) the latest public version of a dataset, and keep the facet
/// counts (in the caller's transaction).
pub async fn put(
    conn: &mut Conn,
    backend: Backend,
    dataset_id: &str,
    version_id: &str,
    released_at: i64,
    e: &SearchEntry,
) -> DbResult<()> {
    remove(conn, backend, dataset_id).await?;
    let names = words(&e.authors.join(" "));
    sqlx::query(
        "INSERT INTO search_entries (dataset_id, version_id, released_at, year, facility, beamline, words, names)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(dataset_id)
    .bind(version_id)
    .bind(released_at)
    .bind(e.year)
    .bind(&e.facility)
    .bind(&e.beamline)
    .bind(spaced(&words(&e.body)))
    .bind(spaced(&names))
    .execute(&mut *conn)
    .await?;
    // On SQLite the text rows share the entry's rowid: FTS5 finds a row by rowid, not
    // by an unindexed column.
    let (text, authors) = match backend {
        Backend::Sqlite => (
            "INSERT INTO search_text (rowid, dataset_id, body)
             VALUES ((SELECT rowid FROM search_entries WHERE dataset_id = $1), $1, $2)",
            "INSERT INTO search_authors (rowid, dataset_id, names)
             VALUES ((SELECT rowid FROM search_entries WHERE dataset_id = $1), $1, $2)",
        ),
        // 'simple': no stemming, so both databases match the same whole words.
        Backend::Postgres => (
            "INSERT INTO search_text (dataset_id, body) VALUES ($1, to_tsvector('simple', $2))",
            "INSERT INTO search_authors (dataset_id, names) VALUES ($1, to_tsvector('simple', $2))",
        ),
    };
    for (sql, body) in [(text, e.body.clone()), (authors, names.join(" "))] {
        sqlx::query(sql)
            .bind(dataset_id)
            .bind(body)
            .execute(&mut *conn)
            .await?;
    }
    let mut pdb_ids = e.pdb_ids.clone();
    pdb_ids.sort();
    pdb_ids.dedup();
    for id in &pdb_ids {
        sqlx::query("INSERT INTO search_pdb (pdb_id, dataset_id) VALUES ($1, $2)")
            .bind(id)
            .bind(dataset_id)
            .execute(&mut *conn)
            .await?;
    }
    let year = e.year.map(|y| y.to_string());
    count_facets(
        conn,
        e.facility.as_deref(),
        e.beamline.as_deref(),
        year.as_deref(),
        1,
    )
    .await
}

/// Add `delta` to the count of each of an entry's facet values, and to the total.
async fn count_facets(
    conn: &mut Conn,
    facility: Option<&str>,
    beamline: Option<&str>,
    year: Option<&str>,
    delta: i64,
) -> DbResult<()> {
    for (kind, value) in [
        ("all", Some("")),
        ("facility", facility),
        ("beamline", beamline),
        ("year", year),
    ] {
        let Some(value) = value else { continue };
        sqlx::query(
            "INSERT INTO search_facets (kind, value, n) VALUES ($1, $2, $3)
             ON CONFLICT (kind, value) DO UPDATE SET n = search_facets.n + excluded.n",
        )
        .bind(kind)
        .bind(value)
        .bind(delta)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn remove(conn: &mut Conn, backend: Backend, dataset_id: &str) -> DbResult<()> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT facility, beamline, year, rowid AS r FROM search_entries WHERE dataset_id = $1"
        }
        Backend::Postgres => {
            "SELECT facility, beamline, year, 0::bigint AS r FROM search_entries WHERE dataset_id = $1"
        }
    };
    let old = sqlx::query(sql)
        .bind(dataset_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(old) = old else { return Ok(()) };
    let rowid: i64 = old.try_get("r")?;
    for table in [
        "search_text",
        "search_authors",
        "search_pdb",
        "search_entries",
    ] {
        // FTS5 finds a row by rowid; its dataset_id column is not indexed.
        let by_rowid =
            backend == Backend::Sqlite && matches!(table, "search_text" | "search_authors");
        let q = if by_rowid {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE rowid = $1"
            )))
            .bind(rowid)
        } else {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE dataset_id = $1"
            )))
            .bind(dataset_id)
        };
        q.execute(&mut *conn).await?;
    }
    let facility: Option<String> = old.try_get("facility")?;
    let beamline: Option<String> = old.try_get("beamline")?;
    let year: Option<i64> = old.try_get("year")?;
    let year = year.map(|y| y.to_string());
    count_facets(
        conn,
        facility.as_deref(),
        beamline.as_deref(),
        year.as_deref(),
        -1,
    )
    .await
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
    /// Words of a creator's name (lower-cased); the last may be the start of one.
    pub author: Vec<String>,
    /// Continue after this (released_at, dataset_id) of the previous page.
    pub after: Option<(i64, String)>,
}

/// One page of matches.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Dataset ids with their release time, newest first.
    pub hits: Vec<(String, i64)>,
    /// How many match: exact, or [`COUNT_CAP`] when `total_exact` is false.
    pub total: i64,
    pub total_exact: bool,
    /// Whether another page follows.
    pub more: bool,
}

/// One page of matches, newest first. The cost does not grow with the index: filters
/// go through indexes, words are checked on the newest entries or found through the
/// full-text index when rare (see [`PROBE`]), the count stops at [`COUNT_CAP`] and
/// pages continue from a key (pages by number stop at a fixed depth).
pub async fn find(
    conn: &mut Conn,
    backend: Backend,
    q: &Query,
    limit: i64,
    offset: i64,
) -> DbResult<Found> {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
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
        let p = next(Bind::Text(id.clone()), &mut binds);
        conditions.push(format!(
            "e.dataset_id IN (SELECT dataset_id FROM search_pdb WHERE pdb_id = {p})"
        ));
    }
    let filter = |conditions: &[String], extra: Option<String>| {
        let all: Vec<String> = conditions.iter().cloned().chain(extra).collect();
        if all.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", all.join(" AND "))
        }
    };
    // Each word of the text and of the author's name, checked on the entry's own words.
    let mut checks = Vec::new();
    let mut checked_binds = Vec::new();
    checked_binds.extend(binds.iter().cloned());
    for (column, words) in [("words", &q.words), ("names", &q.author)] {
        for (i, w) in words.iter().enumerate() {
            let needle = if i + 1 == words.len() {
                format!(" {w}")
            } else {
                format!(" {w} ")
            };
            let p = next(Bind::Text(needle), &mut checked_binds);
            checks.push(match backend {
                Backend::Sqlite => format!("instr(e.{column}, {p}) > 0"),
                Backend::Postgres => format!("strpos(e.{column}, {p}) > 0"),
            });
        }
    }
    let mut counted = None;
    // How the page is ordered; through the index the matches are sorted, not walked to.
    let mut order = "e.released_at DESC, e.dataset_id DESC";
    if !checks.is_empty() {
        let checked = checks.join(" AND ");
        let probe_sql = format!(
            "SELECT COUNT(*) AS scanned, COALESCE(SUM(CASE WHEN {checked} THEN 1 ELSE 0 END), 0) AS hits
             FROM (SELECT e.words, e.names FROM search_entries e{} ORDER BY e.released_at DESC, e.dataset_id DESC LIMIT {PROBE}) e",
            filter(&conditions, None)
        );
        let row = bind_all(sqlx::query(sqlx::AssertSqlSafe(probe_sql)), &checked_binds)
            .fetch_one(&mut *conn)
            .await?;
        let scanned: i64 = row.try_get("scanned")?;
        let hits: i64 = row.try_get("hits")?;
        if scanned < PROBE || hits * DENSE >= PROBE {
            conditions.push(checked);
            binds = checked_binds;
            // All of them, or at least those among the newest.
            counted = Some((hits, scanned < PROBE));
        } else {
            if backend == Backend::Postgres {
                order = "e.released_at + 0 DESC, e.dataset_id DESC";
            }
            for (column, table, words) in [
                ("body", "search_text", &q.words),
                ("names", "search_authors", &q.author),
            ] {
                if words.is_empty() {
                    continue;
                }
                let p = next(Bind::Text(text_query(backend, words)), &mut binds);
                conditions.push(match backend {
                    // FTS5 rows share the entry's rowid.
                    Backend::Sqlite => {
                        format!("e.rowid IN (SELECT rowid FROM {table} WHERE {table} MATCH {p})")
                    }
                    // An array computed once: the planner then fetches the few
                    // matches by key instead of walking every entry to test each.
                    Backend::Postgres => format!(
                        "e.dataset_id = ANY(ARRAY(SELECT dataset_id FROM {table} WHERE {column} @@ to_tsquery('simple', {p})))"
                    ),
                });
            }
        }
    }
    let (total, total_exact) = if let Some(c) = counted {
        c
    } else if conditions.is_empty() {
        let row = sqlx::query("SELECT n FROM search_facets WHERE kind = 'all' AND value = ''")
            .fetch_optional(&mut *conn)
            .await?;
        (row.map(|r| r.try_get("n")).transpose()?.unwrap_or(0), true)
    } else {
        let count_sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM search_entries e{} LIMIT {}) c",
            filter(&conditions, None),
            COUNT_CAP + 1
        );
        let n: i64 = bind_all(sqlx::query(sqlx::AssertSqlSafe(count_sql)), &binds)
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
        (n.min(COUNT_CAP), n <= COUNT_CAP)
    };
    let mut page_binds = binds;
    let keyset = match &q.after {
        Some((at, id)) => {
            let a = next(Bind::Int(*at), &mut page_binds);
            let d = next(Bind::Text(id.clone()), &mut page_binds);
            // A row comparison: both databases start the index walk at the key.
            Some(format!("(e.released_at, e.dataset_id) < ({a}, {d})"))
        }
        None => None,
    };
    let skip = if keyset.is_some() { 0 } else { offset };
    let page_sql = format!(
        "SELECT e.dataset_id, e.released_at FROM search_entries e{} ORDER BY {order} LIMIT {} OFFSET {skip}",
        filter(&conditions, keyset),
        limit + 1
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(page_sql)), &page_binds)
        .fetch_all(&mut *conn)
        .await?;
    let mut hits = rows
        .iter()
        .map(|r| Ok((r.try_get("dataset_id")?, r.try_get("released_at")?)))
        .collect::<DbResult<Vec<(String, i64)>>>()?;
    let more = hits.len() as i64 > limit;
    hits.truncate(limit as usize);
    Ok(Found {
        hits,
        total,
        total_exact,
        more,
    })
}

#[derive(Clone)]
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

/// The facet counts, as the release and withdrawal transactions keep them.
pub async fn facets(conn: &mut Conn) -> DbResult<Facets> {
    let mut out = Facets::default();
    let rows = sqlx::query(
        "SELECT kind, value, n FROM search_facets WHERE kind <> 'all' AND n > 0 ORDER BY kind, value",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let value: String = r.try_get("value")?;
        let n: i64 = r.try_get("n")?;
        match kind.as_str() {
            "facility" => out.facilities.push((value, n)),
            "beamline" => out.beamlines.push((value, n)),
            "year" => {
                if let Ok(y) = value.parse() {
                    out.years.push((y, n));
                }
            }
            _ => {}
        }
    }
    out.years.sort_by_key(|y| std::cmp::Reverse(y.0));
    for list in [&mut out.facilities, &mut out.beamlines] {
        list.truncate(MAX_FACET_VALUES);
    }
    out.years.truncate(MAX_FACET_VALUES);
    Ok(out)
}

/// Values shown per facet.
const MAX_FACET_VALUES: usize = 500;

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
