//! Sending the outbox: the mail job sends one queued message and marks it sent, so a
//! mail server that is down delays mail (the job is retried with backoff) and loses
//! none. A worker killed between the server's "250 OK" and the mark sends the message
//! again, with the same Message-ID, which mail systems use to drop the copy.

use super::ServiceResult;
use super::jobs::JobError;
use crate::db::{self, now_ms};
use crate::mail::MailError;
use crate::mail::compose::Letter;

impl From<MailError> for JobError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Unavailable(_) => JobError::Retry(e.to_string()),
            // An address or message the server will never take; the notification
            // itself stays on the person's page.
            MailError::Settings(_) | MailError::Address { .. } | MailError::Rejected(_) => {
                JobError::Fatal(e.to_string())
            }
        }
    }
}

super::capability!(mail);

impl Service<'_> {
    /// Send the queued message `id` unless it was sent already.
    pub async fn deliver(&self, id: &str) -> Result<(), JobError> {
        let Some(mailer) = &self.mailer else {
            return Err(JobError::Fatal(
                "mail is off ([mail] is not set): the message stays in the outbox".into(),
            ));
        };
        let row = {
            let mut conn = self.db.conn().await?;
            db::mail::get(&mut conn, id).await?
        };
        let Some(row) = row else {
            return Ok(());
        };
        if row.sent_at.is_some() {
            return Ok(());
        }
        let reply = mailer.send(&row.id, &row.outgoing()).await?;
        let mut tx = self.db.begin_write().await?;
        db::mail::mark_sent(&mut tx, id, &reply, now_ms()).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        tracing::info!(mail = id, reply, "mail sent");
        Ok(())
    }

    /// Send one message to `to` now, outside the queue (`arca mail test`); returns what
    /// the server said.
    pub async fn test(&self, to: &str) -> ServiceResult<Result<String, MailError>> {
        let Some(mailer) = &self.mailer else {
            return Ok(Err(MailError::Settings(
                "mail is off: set [mail] smtp_url and from (see the README)".into(),
            )));
        };
        let base = self.config.public_base();
        let letter = Letter {
            archive: &self.config.repository.name,
            subject: "a test message",
            body: "This is a test message from the archive: mail reaches you.",
            action: ("The archive", base),
            footer: "Sent by `arca mail test`.",
            items: &[],
        };
        Ok(mailer
            .send(&crate::model::ids::new_id(), &letter.to(to, None))
            .await)
    }
}
