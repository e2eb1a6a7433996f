//! What people are told: a notification on their page for every event they care
//! about and, by their preference, a mail queued in the same transaction (sent by the
//! mail job, `mail.rs`). Transitions reach here through `follows`; other capabilities
//! (holds, fixity, DOIs, mirrors, reviewers) call `notify` themselves.

use super::jobs::{self, Job};
use super::transitions::{Reacted, Transition};
use super::{Actor, ServiceResult};
use crate::db::{self, Tx, notifications::Notification, now_ms};
use crate::mail::compose::Letter;
use crate::model::{Action, MailNotices, NoticeKind};

/// Unread notifications are counted up to this many ("99+").
pub const UNREAD_CAP: i64 = 100;
/// A digest lists at most this many notifications.
pub const DIGEST_ITEMS: i64 = 100;
/// A notice to every curator is mailed to at most this many of them.
pub const CURATORS_MAILED: i64 = 1000;

/// Who is told.
#[derive(Debug, Clone, Copy)]
pub enum To<'a> {
    /// One person, by id.
    Person(&'a str),
    /// Every curator (and admin).
    Curators,
}

/// One thing to tell.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub to: To<'a>,
    pub kind: NoticeKind,
    /// The deposit it is about, if any: the mail links to it.
    pub deposit: Option<&'a str>,
    pub message: String,
}

/// A person's notifications page.
#[derive(Debug, Clone)]
pub struct NoticePage {
    pub notifications: Vec<Notification>,
    /// Notifications newer than this are unread.
    pub read_up_to: String,
    pub unread: i64,
    pub mail: MailNotices,
    /// Whether the archive sends mail at all.
    pub mail_on: bool,
}

super::capability!(notices);

impl Service<'_> {
    /// Record `n` and queue its mails in `tx`; true when jobs were enqueued.
    pub(super) async fn notify(&self, tx: &mut Tx, n: Notice<'_>, now: i64) -> ServiceResult<bool> {
        let person = match n.to {
            To::Person(id) => Some(id),
            To::Curators => None,
        };
        db::notifications::insert(tx, person, n.deposit, n.kind, &n.message, now).await?;
        if self.mailer.is_none() {
            return Ok(false);
        }
        let to = match n.to {
            To::Person(id) => db::users::mail_target(tx, id)
                .await?
                .into_iter()
                .map(|(email, name)| (email, name, false))
                .collect::<Vec<_>>(),
            To::Curators => db::users::curators_to_mail(tx, CURATORS_MAILED)
                .await?
                .into_iter()
                .map(|(_, email, name)| (email, name, true))
                .collect(),
        };
        let base = self.config.public_base();
        let link = match n.deposit {
            Some(id) => format!("{base}/deposits/{id}"),
            None => format!("{base}/notifications"),
        };
        let mut enqueued = false;
        for (email, name, curator) in to {
            let footer = format!(
                "You get this mail because {} at this archive. Choose which mail you get: {base}/notifications",
                if curator {
                    "you are a curator"
                } else {
                    "you have an account"
                }
            );
            let letter = Letter {
                archive: &self.config.repository.name,
                subject: n.kind.subject(),
                body: &n.message,
                action: (
                    if n.deposit.is_some() {
                        "Open the deposit"
                    } else {
                        "Open your notifications"
                    },
                    &link,
                ),
                footer: &footer,
                items: &[],
            };
            let mail_id = db::mail::insert(tx, &letter.to(&email, Some(&name)), now).await?;
            jobs::enqueue(tx, &Job::Mail { mail_id }, now).await?;
            enqueued = true;
        }
        Ok(enqueued)
    }

    /// Record `n` in a transaction of its own.
    pub(super) async fn notify_now(&self, n: Notice<'_>) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        let enqueued = self.notify(&mut tx, n, now_ms()).await?;
        tx.commit().await?;
        if enqueued {
            self.jobs_enqueued();
        }
        Ok(())
    }

    /// The newest notifications for the actor, older than `before`.
    pub async fn list(
        &self,
        actor: &Actor,
        before: &str,
        limit: i64,
    ) -> ServiceResult<Vec<Notification>> {
        let mut conn = self.db.conn().await?;
        Ok(db::notifications::for_user(
            &mut conn,
            &actor.id,
            actor.role.is_curator(),
            before,
            limit.clamp(1, 200),
        )
        .await?)
    }

    /// How many notifications the actor has not read, up to [`UNREAD_CAP`].
    pub async fn unread(&self, actor: &Actor) -> ServiceResult<i64> {
        let mut conn = self.db.conn().await?;
        Ok(
            db::notifications::unread(&mut conn, &actor.id, actor.role.is_curator(), UNREAD_CAP)
                .await?,
        )
    }

    /// The notifications page: the newest, what is unread, the mail preference.
    pub async fn page(&self, actor: &Actor, before: &str) -> ServiceResult<NoticePage> {
        let mut conn = self.db.conn().await?;
        let curator = actor.role.is_curator();
        Ok(NoticePage {
            notifications: db::notifications::for_user(&mut conn, &actor.id, curator, before, 50)
                .await?,
            read_up_to: db::notifications::read_up_to(&mut conn, &actor.id).await?,
            unread: db::notifications::unread(&mut conn, &actor.id, curator, UNREAD_CAP).await?,
            mail: db::users::mail_notices(&mut conn, &actor.id).await?,
            mail_on: self.mailer.is_some(),
        })
    }

    /// Everything up to `up_to` (a notification id) is read.
    pub async fn mark_read(&self, actor: &Actor, up_to: &str) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        db::notifications::mark_read(&mut tx, &actor.id, up_to).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Which notifications the actor also gets by mail.
    pub async fn set_mail(&self, actor: &Actor, wanted: MailNotices) -> ServiceResult<()> {
        let mut tx = self.db.begin_write().await?;
        db::users::set_mail_notices(&mut tx, &actor.id, wanted).await?;
        if wanted == MailNotices::Digest {
            // The first digest lists what happens from now on.
            let now = crate::model::ids::new_id();
            db::notifications::set_digest_sent_up_to(&mut tx, &actor.id, &now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The daily digests: each person who chose one gets a mail listing what they were
    /// told since their last (the newest [`DIGEST_ITEMS`]), each person in a
    /// transaction of their own. Returns how many were queued.
    pub async fn send_digests(&self, now: i64) -> ServiceResult<usize> {
        if self.mailer.is_none() {
            return Ok(0);
        }
        let base = self.config.public_base();
        let link = format!("{base}/notifications");
        let footer = format!(
            "You get this daily mail because you chose a digest of your notifications: {link}"
        );
        let mut sent = 0;
        let mut after = String::new();
        loop {
            let readers = {
                let mut conn = self.db.conn().await?;
                db::notifications::digest_readers(&mut conn, &after, 500).await?
            };
            let Some(last) = readers.last() else { break };
            after = last.0.clone();
            for (id, email, name, curator) in readers {
                let mut tx = self.db.begin_write().await?;
                let from = db::notifications::digest_sent_up_to(&mut tx, &id).await?;
                let news = db::notifications::since(&mut tx, &id, curator, &from, DIGEST_ITEMS + 1)
                    .await?;
                let listed = &news[..news.len().min(DIGEST_ITEMS as usize)];
                let Some(newest) = listed.last() else {
                    continue;
                };
                let newest = newest.id.clone();
                let items: Vec<String> = listed
                    .iter()
                    .map(|n| format!("{}: {}", n.kind.subject(), n.message))
                    .collect();
                let body = if news.len() as i64 > DIGEST_ITEMS {
                    format!(
                        "The first {DIGEST_ITEMS} of what happened since the last digest (more on your notifications page):"
                    )
                } else {
                    format!(
                        "{} since the last digest:",
                        crate::model::words::count(
                            items.len() as u64,
                            "notification",
                            "notifications"
                        )
                    )
                };
                let letter = Letter {
                    archive: &self.config.repository.name,
                    subject: "your daily digest",
                    body: &body,
                    action: ("Open your notifications", &link),
                    footer: &footer,
                    items: &items,
                };
                let mail_id =
                    db::mail::insert(&mut tx, &letter.to(&email, Some(&name)), now).await?;
                jobs::enqueue(&mut tx, &Job::Mail { mail_id }, now).await?;
                db::notifications::set_digest_sent_up_to(&mut tx, &id, &newest).await?;
                tx.commit().await?;
                sent += 1;
            }
        }
        if sent > 0 {
            self.jobs_enqueued();
        }
        Ok(sent)
    }

    /// The depositor hears of each step of their deposit, curators of submissions.
    pub(super) async fn follows(
        &self,
        tx: &mut Tx,
        t: &mut Transition<'_, '_>,
    ) -> ServiceResult<Reacted> {
        let Some((to, kind, what)) = notice_of(t) else {
            return Ok(Reacted::default());
        };
        let title = super::records::title_of(t.version);
        let mut message = format!("'{title}' ({}): {what}", t.version.id);
        if let Some(reason) = &t.reason {
            message.push_str(&format!(" ({reason})"));
        }
        let notice = Notice {
            to,
            kind,
            deposit: Some(&*t.version.id),
            message,
        };
        let enqueued = self.notify(tx, notice, t.now).await?;
        Ok(Reacted::enqueued(enqueued))
    }
}

/// Who hears of a transition, and in what words.
fn notice_of<'v>(t: &'v Transition<'_, '_>) -> Option<(To<'v>, NoticeKind, &'static str)> {
    let owner = To::Person(&t.version.owner_id);
    Some(match t.change.action {
        Action::Submit => (To::Curators, NoticeKind::Submitted, "submitted for review"),
        Action::VerificationFailed => (
            owner,
            NoticeKind::VerificationFailed,
            "verification found a missing or damaged file; the deposit is back with you",
        ),
        Action::RequestChanges => (
            owner,
            NoticeKind::ChangesRequested,
            "a curator asks for changes",
        ),
        Action::Approve => (owner, NoticeKind::Approved, "approved by a curator"),
        Action::Hold => (
            owner,
            NoticeKind::OnHold,
            "on hold: it stays private until the hold ends",
        ),
        Action::Schedule => (
            owner,
            NoticeKind::Scheduled,
            "scheduled for the next release",
        ),
        Action::Release => (owner, NoticeKind::Released, "released: it is public now"),
        Action::Withdraw => (
            owner,
            NoticeKind::Withdrawn,
            "withdrawn; its landing page stays as a tombstone",
        ),
        Action::VerificationPassed | Action::Unschedule => return None,
    })
}
