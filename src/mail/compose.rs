//! The words of a mail, in plain text and HTML: what happened, the one link to act on,
//! and why the person gets it. Pure, so every mail Arca sends is checked here.

use super::Outgoing;

/// What a mail says.
#[derive(Debug, Clone)]
pub struct Letter<'a> {
    /// The archive's name, first in the subject.
    pub archive: &'a str,
    /// What happened, in a few words.
    pub subject: &'a str,
    /// What happened, in a sentence or two.
    pub body: &'a str,
    /// The link to act on: its label and absolute URL.
    pub action: (&'a str, &'a str),
    /// Why the person gets this mail and how to stop it.
    pub footer: &'a str,
    /// A list after the body (a digest's notifications), one line each.
    pub items: &'a [String],
}

impl Letter<'_> {
    pub fn to(&self, address: &str, name: Option<&str>) -> Outgoing {
        let (label, url) = self.action;
        let list: String = self.items.iter().map(|i| format!("\n- {i}")).collect();
        let text = format!(
            "{body}{list}\n\n{label}: {url}\n\n-- \n{archive}\n{footer}\n",
            body = self.body,
            archive = self.archive,
            footer = self.footer,
        );
        let html_list = if self.items.is_empty() {
            String::new()
        } else {
            let li: String = self
                .items
                .iter()
                .map(|i| format!("<li>{}</li>\n", escape(i)))
                .collect();
            format!("<ul>\n{li}</ul>\n")
        };
        let html = format!(
            "<!DOCTYPE html>\n<html><body>\n<p>{body}</p>\n{html_list}<p><a href=\"{href}\">{label}</a></p>\n\
             <hr>\n<p><small>{archive}<br>{footer}</small></p>\n</body></html>\n",
            body = escape(self.body),
            href = escape(url),
            label = escape(label),
            archive = escape(self.archive),
            footer = escape(self.footer),
        );
        Outgoing {
            to_address: address.to_owned(),
            to_name: name.map(str::to_owned),
            subject: format!("{}: {}", self.archive, self.subject),
            text,
            html,
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_names_what_happened_and_its_link_in_both_bodies_and_escapes_html() {
        let l = Letter {
            archive: "Beamline <42> archive",
            subject: "changes requested",
            body: "'Lysozyme & friends': please add the wavelength",
            action: (
                "Open the deposit",
                "https://arca.example/deposits/01J?x=1&y=2",
            ),
            footer: "You get this because you deposited it.",
            items: &["<one>".into(), "two & three".into()],
        };
        let m = l.to("marie@example.org", Some("Marie Curie"));
        assert_eq!(m.subject, "Beamline <42> archive: changes requested");
        assert!(
            m.text
                .contains("Open the deposit: https://arca.example/deposits/01J?x=1&y=2")
        );
        assert!(m.text.contains("'Lysozyme & friends'"));
        assert!(
            m.html
                .contains("href=\"https://arca.example/deposits/01J?x=1&amp;y=2\"")
        );
        assert!(m.html.contains("&#39;Lysozyme &amp; friends&#39;"));
        assert!(m.html.contains("Beamline &lt;42&gt; archive"));
        assert!(!m.html.contains("<42>"));
        assert!(m.text.contains("\n- <one>\n- two & three\n"), "{}", m.text);
        assert!(
            m.html
                .contains("<li>&lt;one&gt;</li>\n<li>two &amp; three</li>")
        );
    }
}
