//! The mail outbox: messages composed in their event's transaction, sent by a job.

use super::{Conn, DbResult};
use crate::mail::Outgoing;
use crate::model::ids::new_id;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

impl OutboxRow {
    pub fn outgoing(&self) -> Outgoing {
        Outgoing {
            to_address: self.to_address.clone(),
            to_name: self.to_name.clone(),
            subject: self.subject.clone(),
            text: self.text_body.clone(),
            html: self.html_body.clone(),
        }
    }
}

/// Queue a message; returns its id.
pub async fn insert(conn: &mut Conn, m: &Outgoing, now: i64) -> DbResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO mail_outbox (id, to_address, to_name, subject, text_body, html_body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&m.to_address)
    .bind(&m.to_name)
    .bind(&m.subject)
    .bind(&m.text)
    .bind(&m.html)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn get(conn: &mut Conn, id: &str) -> DbResult<Option<OutboxRow>> {
    Ok(sqlx::query_as(
        "SELECT id, to_address, to_name, subject, text_body, html_body, created_at, sent_at
         FROM mail_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Sent, with what the server said; false if it was marked sent already.
pub async fn mark_sent(conn: &mut Conn, id: &str, reply: &str, now: i64) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET sent_at = $1, server_reply = $2 WHERE id = $3 AND sent_at IS NULL",
    )
    .bind(now)
    .bind(reply)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
