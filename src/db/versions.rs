//! Datasets and their versions (a deposit is one version being prepared).

use super::{Conn, DbError, DbResult};
use crate::model::DepositState;
use crate::model::ids::{DatasetId, DepositId};
use sqlx::{AssertSqlSafe, Row};

#[derive(Debug, Clone)]
pub struct VersionRow {
    pub id: DepositId,
    pub dataset_id: DatasetId,
    pub owner_id: String,
    pub version_number: i64,
    pub state: DepositState,
    pub metadata: serde_json::Value,
    pub facility: serde_json::Value,
    pub doi: Option<String>,
    pub verification: Option<serde_json::Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns [`from_row`] reads (`v` versions, `d` datasets), for queries that join
/// versions to other tables.
macro_rules! version_columns {
    () => {
        "v.id, v.dataset_id, d.owner_id, v.version_number, v.state, v.metadata, v.facility,
        v.doi, v.verification, v.created_at, v.updated_at"
    };
}
pub(super) use version_columns;
const SELECT: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
);

fn json(text: &str) -> DbResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| DbError::Corrupt(format!("stored JSON: {e}")))
}

pub(super) fn from_row(row: &sqlx::any::AnyRow) -> DbResult<VersionRow> {
    let state: String = row.try_get("state")?;
    let verification: Option<String> = row.try_get("verification")?;
    Ok(VersionRow {
        id: row.try_get::<String, _>("id")?.into(),
        dataset_id: row.try_get::<String, _>("dataset_id")?.into(),
        owner_id: row.try_get("owner_id")?,
        version_number: row.try_get("version_number")?,
        state: state
            .parse()
            .map_err(|e| DbError::Corrupt(format!("{e}")))?,
        metadata: json(&row.try_get::<String, _>("metadata")?)?,
        facility: json(&row.try_get::<String, _>("facility")?)?,
        doi: row.try_get("doi")?,
        verification: verification.as_deref().map(json).transpose()?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl VersionRow {
    /// The first version of a new dataset: a draft owned by `owner_id`.
    pub fn first_draft(
        owner_id: &str,
        metadata: serde_json::Value,
        facility: serde_json::Value,
        now: i64,
    ) -> Self {
        VersionRow {
            id: DepositId::generate(),
            dataset_id: DatasetId::from(crate::model::ids::new_unrelated_id()),
            owner_id: owner_id.to_owned(),
            version_number: 1,
            state: DepositState::Draft,
            metadata,
            facility,
            doi: None,
            verification: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Create a dataset with its first version, in state draft.
pub async fn insert_new_dataset(conn: &mut Conn, v: &VersionRow) -> DbResult<()> {
    sqlx::query("INSERT INTO datasets (id, owner_id, created_at) VALUES ($1, $2, $3)")
        .bind(v.dataset_id.as_str())
        .bind(&v.owner_id)
        .bind(v.created_at)
        .execute(&mut *conn)
        .await?;
    insert_version(conn, v).await
}

pub async fn get(conn: &mut Conn, id: &str) -> DbResult<Option<VersionRow>> {
    let row = sqlx::query(AssertSqlSafe(format!("{SELECT} WHERE v.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Move a version from `from` to `to`. Returns false if it was no longer in `from`
/// (someone else moved it first), so callers never apply a stale transition.
pub async fn set_state(
    conn: &mut Conn,
    id: &str,
    from: DepositState,
    to: DepositState,
    now: i64,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE dataset_versions SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_verification(
    conn: &mut Conn,
    id: &str,
    report: &serde_json::Value,
    now: i64,
) -> DbResult<()> {
    sqlx::query("UPDATE dataset_versions SET verification = $1, updated_at = $2 WHERE id = $3")
        .bind(report.to_string())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_metadata(
    conn: &mut Conn,
    id: &str,
    metadata: &serde_json::Value,
    facility: &serde_json::Value,
    now: i64,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE dataset_versions SET metadata = $1, facility = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(metadata.to_string())
    .bind(facility.to_string())
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// One page of deposits, newest first, older than `before` (keyset paging by id).
/// `owner` limits to one person's deposits; `state` to one state.
pub async fn page(
    conn: &mut Conn,
    owner: Option<&str>,
    state: Option<DepositState>,
    before: &str,
    limit: i64,
) -> DbResult<Vec<VersionRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "{SELECT} WHERE ($1 IS NULL OR d.owner_id = $1) AND ($2 IS NULL OR v.state = $2)
           AND ($3 = '' OR v.id < $3) ORDER BY v.id DESC LIMIT $4"
    )))
    .bind(owner)
    .bind(state.map(|s| s.as_str()))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Add a further version to an existing dataset, in state draft.
pub async fn insert_version(conn: &mut Conn, v: &VersionRow) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO dataset_versions (id, dataset_id, version_number, state, metadata, facility, doi,
             verification, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7, $7)",
    )
    .bind(v.id.as_str())
    .bind(v.dataset_id.as_str())
    .bind(v.version_number)
    .bind(v.state.as_str())
    .bind(v.metadata.to_string())
    .bind(v.facility.to_string())
    .bind(v.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every version of a dataset, oldest first.
pub async fn of_dataset(conn: &mut Conn, dataset_id: &str) -> DbResult<Vec<VersionRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "{SELECT} WHERE v.dataset_id = $1 ORDER BY v.version_number"
    )))
    .bind(dataset_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn concept_doi(conn: &mut Conn, dataset_id: &str) -> DbResult<Option<String>> {
    let row = sqlx::query("SELECT concept_doi FROM datasets WHERE id = $1")
        .bind(dataset_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("concept_doi")?,
        None => None,
    })
}

pub async fn set_concept_doi(conn: &mut Conn, dataset_id: &str, doi: &str) -> DbResult<()> {
    sqlx::query("UPDATE datasets SET concept_doi = $1 WHERE id = $2")
        .bind(doi)
        .bind(dataset_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many deposits are in `state` (counted up to `cap`) and since when the oldest of
/// them has waited: two index ranges, whatever the archive's size.
pub async fn waiting_in(
    conn: &mut Conn,
    state: DepositState,
    cap: i64,
) -> DbResult<(i64, Option<i64>)> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM dataset_versions WHERE state = $1 LIMIT $2) AS w",
    )
    .bind(state.as_str())
    .bind(cap)
    .fetch_one(&mut *conn)
    .await?;
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(updated_at) FROM dataset_versions WHERE state = $1")
            .bind(state.as_str())
            .fetch_one(conn)
            .await?;
    Ok((count, oldest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deposit_and_its_dataset_do_not_look_alike() {
        for _ in 0..100 {
            let v = VersionRow::first_draft("u", serde_json::json!({}), serde_json::json!({}), 0);
            let differ =
                v.id.as_str()
                    .bytes()
                    .zip(v.dataset_id.as_str().bytes())
                    .filter(|(a, b)| a != b)
                    .count();
            assert!(
                differ > 6,
                "{} and {}",
                v.id.as_str(),
                v.dataset_id.as_str()
            );
        }
    }
}
