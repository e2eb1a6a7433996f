//! The software catalogue.

use super::{Conn, DbError, DbResult};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct SoftwareRow {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub homepage: Option<String>,
    /// How to cite it: one CSL-JSON item.
    pub citation: serde_json::Value,
}

/// Names are matched without regard to case or punctuation: "HKL2000" is "HKL-2000".
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn from_row(r: &sqlx::any::AnyRow) -> DbResult<SoftwareRow> {
    let json = |t: String| serde_json::from_str(&t).map_err(|e| DbError::Corrupt(e.to_string()));
    Ok(SoftwareRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        aliases: serde_json::from_value(json(r.try_get("aliases")?)?)
            .map_err(|e| DbError::Corrupt(e.to_string()))?,
        homepage: r.try_get("homepage")?,
        citation: json(r.try_get("citation")?)?,
    })
}

/// Add a program; false if one with that name is already there.
pub async fn insert(conn: &mut Conn, s: &SoftwareRow, now: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "INSERT INTO software (id, name, name_key, aliases, homepage, citation, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (name_key) DO NOTHING",
    )
    .bind(&s.id)
    .bind(&s.name)
    .bind(name_key(&s.name))
    .bind(serde_json::to_string(&s.aliases).expect("JSON"))
    .bind(&s.homepage)
    .bind(s.citation.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count(conn: &mut Conn) -> DbResult<i64> {
    let r = sqlx::query("SELECT COUNT(*) AS n FROM software")
        .fetch_one(conn)
        .await?;
    Ok(r.try_get("n")?)
}

/// The catalogue in name order (it holds hundreds of programs, not millions).
pub async fn all(conn: &mut Conn) -> DbResult<Vec<SoftwareRow>> {
    let rows =
        sqlx::query("SELECT id, name, aliases, homepage, citation FROM software ORDER BY name_key")
            .fetch_all(conn)
            .await?;
    rows.iter().map(from_row).collect()
}
