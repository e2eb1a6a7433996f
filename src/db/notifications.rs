//! What people are told: to one person, or to every curator; and up to where each
//! person has read.

use super::{Conn, DbResult};
use crate::model::NoticeKind;
use crate::model::ids::new_id;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    /// None: for every curator.
    pub user_id: Option<String>,
    pub version_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: NoticeKind,
    pub message: String,
    pub created_at: i64,
}

/// Insert a notification; returns its id.
pub async fn insert(
    conn: &mut Conn,
    user_id: Option<&str>,
    version_id: Option<&str>,
    kind: NoticeKind,
    message: &str,
    now: i64,
) -> DbResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO notifications (id, user_id, version_id, kind, message, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(version_id)
    .bind(kind.as_str())
    .bind(message)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The newest notifications for a person (and, for curators, those to every curator),
/// older than `before`.
pub async fn for_user(
    conn: &mut Conn,
    user_id: &str,
    curator: bool,
    before: &str,
    limit: i64,
) -> DbResult<Vec<Notification>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, version_id, kind, message, created_at FROM notifications
         WHERE (user_id = $1 OR ($2 = 1 AND user_id IS NULL)) AND ($3 = '' OR id < $3)
         ORDER BY id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(i64::from(curator))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Up to where a person has read ('' when never).
pub async fn read_up_to(conn: &mut Conn, user_id: &str) -> DbResult<String> {
    let at: Option<String> =
        sqlx::query_scalar("SELECT read_up_to FROM notification_reads WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(at.unwrap_or_default())
}

/// How many notifications a person has not read, counting at most `cap` (an index
/// range of at most `cap` rows per query, however many there are).
pub async fn unread(conn: &mut Conn, user_id: &str, curator: bool, cap: i64) -> DbResult<i64> {
    let after = read_up_to(conn, user_id).await?;
    let mine: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE user_id = $1 AND id > $2
         LIMIT $3) AS n",
    )
    .bind(user_id)
    .bind(&after)
    .bind(cap)
    .fetch_one(&mut *conn)
    .await?;
    if !curator || mine >= cap {
        return Ok(mine);
    }
    let all: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE user_id IS NULL AND id > $1
         LIMIT $2) AS n",
    )
    .bind(&after)
    .bind(cap - mine)
    .fetch_one(conn)
    .await?;
    Ok(mine + all)
}

/// Everything up to `up_to` is read.
pub async fn mark_read(conn: &mut Conn, user_id: &str, up_to: &str) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO notification_reads (user_id, read_up_to) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET read_up_to = excluded.read_up_to
         WHERE notification_reads.read_up_to < excluded.read_up_to",
    )
    .bind(user_id)
    .bind(up_to)
    .execute(conn)
    .await?;
    Ok(())
}

/// People who chose a daily digest, by id after `after` (at most `limit`): id, address,
/// name, curator or not. Only enabled people with a confirmed address.
pub async fn digest_readers(
    conn: &mut Conn,
    after: &str,
    limit: i64,
) -> DbResult<Vec<(String, String, String, bool)>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, email, name, role FROM users
         WHERE mail_notices = 'digest' AND disabled_at IS NULL AND email_verified_at IS NOT NULL
           AND id > $1
         ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get("role")?;
            Ok((
                r.try_get("id")?,
                r.try_get("email")?,
                r.try_get("name")?,
                role != "author",
            ))
        })
        .collect()
}

/// Up to which notification a digest reader has been mailed ('' when never).
pub async fn digest_sent_up_to(conn: &mut Conn, user_id: &str) -> DbResult<String> {
    let at: Option<String> =
        sqlx::query_scalar("SELECT sent_up_to FROM notification_digests WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(at.unwrap_or_default())
}

pub async fn set_digest_sent_up_to(conn: &mut Conn, user_id: &str, up_to: &str) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO notification_digests (user_id, sent_up_to) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET sent_up_to = excluded.sent_up_to",
    )
    .bind(user_id)
    .bind(up_to)
    .execute(conn)
    .await?;
    Ok(())
}

/// A person's notifications newer than `after`, oldest first (at most `limit`).
pub async fn since(
    conn: &mut Conn,
    user_id: &str,
    curator: bool,
    after: &str,
    limit: i64,
) -> DbResult<Vec<Notification>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, version_id, kind, message, created_at FROM notifications
         WHERE (user_id = $1 OR ($2 = 1 AND user_id IS NULL)) AND id > $3
         ORDER BY id LIMIT $4",
    )
    .bind(user_id)
    .bind(i64::from(curator))
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}
