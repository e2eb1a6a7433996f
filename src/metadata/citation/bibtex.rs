use super::{Name, doi, is_software, title, year};
use crate::metadata::datacite::model::Resource;

/// LaTeX's special characters, escaped so the text prints as written.
fn tex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '%' | '&' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn authors(r: &Resource) -> String {
    r.creators
        .iter()
        .map(|c| match Name::of(c) {
            // Braces keep an organisation's name whole (not split into first and last).
            Name::Organisation(o) => format!("{{{}}}", tex(&o)),
            n => tex(&n.inverted()),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A citation key: first author's family name, year, and the DOI's suffix, in ASCII.
fn key(r: &Resource) -> String {
    let first = r.creators.first().map(|c| match Name::of(c) {
        Name::Person { family, .. } => family,
        Name::Organisation(o) => o,
    });
    let ascii = |s: &str| -> String { s.chars().filter(|c| c.is_ascii_alphanumeric()).collect() };
    let mut k = ascii(&first.unwrap_or_default());
    if k.is_empty() {
        k.push_str("arca");
    }
    if let Some(y) = year(r) {
        k.push_str(&y.to_string());
    }
    if let Some(d) = doi(r) {
        let suffix = d.rsplit('/').next().unwrap_or_default();
        k.push('_');
        k.push_str(&ascii(suffix));
    }
    k
}

fn entry(kind: &str, r: &Resource, latex_types: bool) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("author", authors(r)),
        ("title", format!("{{{}}}", tex(&title(r)))),
    ];
    if let Some(p) = &r.publisher {
        fields.push(("publisher", tex(&p.name)));
    }
    if let Some(y) = year(r) {
        fields.push(("year", y.to_string()));
    }
    if let Some(v) = &r.version {
        fields.push(("version", tex(v)));
    }
    if let Some(d) = doi(r) {
        fields.push(("doi", tex(&d)));
        fields.push(("url", format!("https://doi.org/{d}")));
    }
    if !latex_types {
        let what = if is_software(r) {
            "Software"
        } else {
            "Dataset"
        };
        fields.push(("howpublished", what.to_owned()));
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("  {k} = {{{v}}}"))
        .collect();
    format!("@{kind}{{{},\n{}\n}}\n", key(r), body.join(",\n"))
}

/// Classic BibTeX: `@misc` (what bibtex styles understand), with DOI and URL.
pub fn bibtex(r: &Resource) -> String {
    entry("misc", r, false)
}

/// BibLaTeX: `@dataset` or `@software`.
pub fn biblatex(r: &Resource) -> String {
    entry(
        if is_software(r) {
            "software"
        } else {
            "dataset"
        },
        r,
        true,
    )
}
