//! Outgoing mail: the archive's SMTP server (through `lettre`) and the messages it
//! sends, composed in `compose.rs`. Services queue mail in an outbox; only the mail
//! job calls [`Mailer::send`].

pub mod compose;

use crate::config::MailSettings;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Settings(String),
    #[error("'{address}' is not a mail address: {reason}")]
    Address { address: String, reason: String },
    /// Worth another try later: the server is down, slow, or said "try again".
    #[error("the mail server is unavailable: {0}")]
    Unavailable(String),
    /// The server refused this message for good (a 5xx answer).
    #[error("the mail server refused the message: {0}")]
    Rejected(String),
}

/// One message, as composed when its event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Settings that parse but cannot work are refused at start.
pub fn check_settings(s: &MailSettings) -> Result<(), MailError> {
    let bad = |m: String| Err(MailError::Settings(m));
    let url =
        url::Url::parse(&s.smtp_url).map_err(|e| MailError::Settings(format!("smtp_url: {e}")))?;
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let encrypted = match (url.scheme(), tls.as_deref()) {
        ("smtps", None) => true,
        ("smtp", Some("required")) => true,
        ("smtp", None | Some("opportunistic")) => false,
        (scheme, tls) => {
            return bad(format!(
                "smtp_url: use smtps://host:465, smtp://host:587?tls=required or smtp://host:25, \
                 not scheme '{scheme}' with tls={tls:?}"
            ));
        }
    };
    let Some(host) = url.host_str() else {
        return bad("smtp_url: names no host".into());
    };
    if url.password().is_some() || !url.username().is_empty() {
        return bad(
            "smtp_url: put the user in `username` and the password in `password_file` or \
             ARCA_MAIL__PASSWORD, not in the URL"
                .into(),
        );
    }
    match (&s.username, &s.password) {
        (Some(_), None) | (None, Some(_)) => {
            return bad("username and password: give both or neither".into());
        }
        (Some(_), Some(_)) if !encrypted && !is_loopback(host) => {
            return bad(format!(
                "the password would cross the network to {host} in clear: use smtps:// or \
                 ?tls=required"
            ));
        }
        _ => {}
    }
    mailbox(&s.from)?;
    if let Some(r) = &s.reply_to {
        mailbox(r)?;
    }
    if !(1..=600).contains(&s.timeout_secs) {
        return bad("timeout_secs must be between 1 and 600".into());
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn mailbox(text: &str) -> Result<Mailbox, MailError> {
    text.parse()
        .map_err(|e: lettre::address::AddressError| MailError::Address {
            address: text.to_owned(),
            reason: e.to_string(),
        })
}

/// The archive's mail server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// The domain of Message-IDs, so a message sent again after a crash keeps its id.
    id_domain: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    pub fn new(s: &MailSettings) -> Result<Self, MailError> {
        check_settings(s)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&s.smtp_url)
            .map_err(|e| MailError::Settings(format!("smtp_url: {e}")))?
            .timeout(Some(Duration::from_secs(s.timeout_secs)));
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        let from = mailbox(&s.from)?;
        Ok(Self {
            transport: builder.build(),
            id_domain: from.email.domain().to_owned(),
            from,
            reply_to: s.reply_to.as_deref().map(mailbox).transpose()?,
        })
    }

    /// Send `m`, with the Message-ID made from `id`; returns what the server said.
    pub async fn send(&self, id: &str, m: &Outgoing) -> Result<String, MailError> {
        let to = match &m.to_name {
            Some(name) => Mailbox::new(Some(name.clone()), address(&m.to_address)?),
            None => Mailbox::new(None, address(&m.to_address)?),
        };
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .message_id(Some(format!("<{id}@{}>", self.id_domain)));
        if let Some(r) = &self.reply_to {
            message = message.reply_to(r.clone());
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(
                m.text.clone(),
                m.html.clone(),
            ))
            .map_err(|e| MailError::Rejected(format!("cannot build the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(reply) => Ok(format!(
                "{} {}",
                reply.code(),
                reply.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) if e.is_permanent() => Err(MailError::Rejected(e.to_string())),
            Err(e) => Err(MailError::Unavailable(e.to_string())),
        }
    }
}

fn address(text: &str) -> Result<lettre::Address, MailError> {
    text.parse()
        .map_err(|e: lettre::address::AddressError| MailError::Address {
            address: text.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, user: Option<&str>) -> MailSettings {
        MailSettings {
            smtp_url: url.into(),
            username: user.map(Into::into),
            password: user.map(|_| crate::storage::Secret("pw".into())),
            from: "Archive <archive@facility.example>".into(),
            reply_to: None,
            timeout_secs: 30,
        }
    }

    #[test]
    fn passwords_never_cross_the_network_in_clear() {
        for ok in [
            settings("smtps://mail.example.org", Some("u")),
            settings("smtp://mail.example.org:587?tls=required", Some("u")),
            settings("smtp://127.0.0.1:25", Some("u")),
            settings("smtp://mail.example.org:25", None),
        ] {
            check_settings(&ok).unwrap();
        }
        for (bad, says) in [
            (
                settings("smtp://mail.example.org:25", Some("u")),
                "in clear",
            ),
            (
                settings("smtp://mail.example.org:587?tls=opportunistic", Some("u")),
                "in clear",
            ),
            (
                settings("smtp://u:p@mail.example.org", None),
                "not in the URL",
            ),
            (settings("imap://mail.example.org", None), "scheme 'imap'"),
            (settings("smtp:///nohost", None), "no host"),
        ] {
            let e = check_settings(&bad).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
        let mut s = settings("smtps://mail.example.org", None);
        s.from = "not an address".into();
        assert!(
            check_settings(&s)
                .unwrap_err()
                .to_string()
                .contains("not an address")
        );
    }
}
