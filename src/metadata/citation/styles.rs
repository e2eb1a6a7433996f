//! Formatted references in CSL styles, rendered by hayagriva from the CSL-JSON item.

use super::csl::csl_json;
use crate::metadata::datacite::model::Resource;
use hayagriva::archive::locales;
use hayagriva::citationberg::{IndependentStyle, LocaleCode};
use hayagriva::{
    BibliographyDriver, BibliographyRequest, BufWriteFormat, CitationItem, CitationRequest,
};
use std::sync::LazyLock;

/// The styles offered (CSL ids as in the CSL repository) and what people call them.
pub const STYLES: &[(&str, &str)] = &[
    ("apa", "APA 7th edition"),
    ("chicago-author-date", "Chicago author-date"),
    ("harvard-cite-them-right", "Harvard (Cite Them Right)"),
    ("ieee", "IEEE"),
    ("nature", "Nature"),
    ("vancouver", "Vancouver (ICMJE)"),
];

/// The CSL file of each style, as Arca renders it and serves it
/// (`/citation-styles/{id}.csl`), so that any other CSL engine given the same file and
/// the same CSL-JSON writes the same reference. APA, Harvard, IEEE and Nature are the
/// CSL repository's files (the versions hayagriva 0.10 bundles; see `csl/README.md`).
/// Vancouver and Chicago author-date are Arca's own: the repository's versions, as the
/// engine reads them, drop every author of a dataset (Vancouver) or print "Publisher,."
/// when there is no place (Chicago). A wrong reference in a manuscript is worse than a
/// missing style, so these two are written for what Arca cites: datasets and software,
/// and the journal articles and chapters that describe software.
const STYLE_FILES: &[(&str, &str)] = &[
    ("apa", include_str!("csl/apa.csl")),
    (
        "chicago-author-date",
        include_str!("csl/chicago-author-date.csl"),
    ),
    (
        "harvard-cite-them-right",
        include_str!("csl/harvard-cite-them-right.csl"),
    ),
    ("ieee", include_str!("csl/ieee.csl")),
    ("nature", include_str!("csl/nature.csl")),
    ("vancouver", include_str!("csl/vancouver.csl")),
];

static PARSED: LazyLock<Vec<(&str, IndependentStyle)>> = LazyLock::new(|| {
    STYLE_FILES
        .iter()
        .map(|(id, xml)| {
            let style = IndependentStyle::from_xml(xml).expect("Arca's CSL styles parse");
            (*id, style)
        })
        .collect()
});

fn style_named(id: &str) -> Option<&'static IndependentStyle> {
    PARSED.iter().find(|(k, _)| *k == id).map(|(_, s)| s)
}

/// The CSL file (XML) of an offered style.
pub fn style_file(id: &str) -> Option<&'static str> {
    STYLE_FILES
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, xml)| *xml)
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CitationError {
    #[error("unknown citation style '{0}' (offered: {offered})", offered = STYLES.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "))]
    UnknownStyle(String),
    #[error("'{0}' is not a locale such as en-US or de-DE")]
    BadLocale(String),
    #[error("the style produced no reference for this record")]
    Empty,
    #[error("not a CSL-JSON item: {0}")]
    BadItem(String),
    #[error("CodeMeta describes software; this record is not software")]
    NotSoftware,
}

static LOCALES: LazyLock<Vec<hayagriva::citationberg::Locale>> = LazyLock::new(locales);

/// One reference for the record in `style` (and optionally `locale`), plain text or HTML.
pub fn formatted(
    r: &Resource,
    style: &str,
    locale: Option<&str>,
    html: bool,
) -> Result<String, CitationError> {
    formatted_item(&csl_json(r, "item"), style, locale, html)
}

/// What a CSL-JSON item needs to make a reference: a type, a title, and authors (if any)
/// as a list of names. The CSL-JSON reader is lenient; a catalogue entry must not be.
pub fn check_item(item: &serde_json::Value) -> Result<(), CitationError> {
    let bad = |m: &str| Err(CitationError::BadItem(m.to_owned()));
    let text = |k: &str| {
        item.get(k)
            .and_then(serde_json::Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    if !item.is_object() {
        return bad("must be a JSON object");
    }
    if !text("type") {
        return bad("'type' is required (for example article-journal or software)");
    }
    if !text("title") {
        return bad("'title' is required");
    }
    match item.get("author") {
        None => Ok(()),
        Some(serde_json::Value::Array(names))
            if names.iter().all(|n| {
                n.get("family")
                    .or_else(|| n.get("literal"))
                    .is_some_and(serde_json::Value::is_string)
            }) =>
        {
            Ok(())
        }
        Some(_) => bad("'author' must be a list of {family, given} or {literal} names"),
    }
}

/// One reference in a style (plain text, or HTML with `html`).
pub fn formatted_item(
    item: &serde_json::Value,
    style: &str,
    locale: Option<&str>,
    html: bool,
) -> Result<String, CitationError> {
    let mut one = formatted_list(std::slice::from_ref(item), style, locale, html)?;
    Ok(one.remove(0))
}

/// References to several items as one list, in the order given: numeric styles number
/// them 1, 2, 3… as a manuscript's reference list would. Each is returned in the
/// caller's order, whatever order the style sorts its bibliography in.
pub fn formatted_list(
    items: &[serde_json::Value],
    style: &str,
    locale: Option<&str>,
    html: bool,
) -> Result<Vec<String>, CitationError> {
    if !STYLES.iter().any(|(k, _)| *k == style) {
        return Err(CitationError::UnknownStyle(style.to_owned()));
    }
    let Some(style) = style_named(style) else {
        return Err(CitationError::UnknownStyle(style.to_owned()));
    };
    let locale = match locale {
        Some(l) if l.len() <= 35 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            Some(LocaleCode(l.to_owned()))
        }
        Some(l) => return Err(CitationError::BadLocale(l.to_owned())),
        None => None,
    };
    // Keys of our own: two items with the same id (or none) stay two references.
    let key = |i: usize| format!("ref-{i}");
    let entries = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut item = item.clone();
            if !item.is_object() {
                return Err(CitationError::BadItem("must be a JSON object".into()));
            }
            item["id"] = serde_json::json!(key(i));
            serde_json::from_value::<hayagriva::citationberg::json::Item>(item)
                .map_err(|e| CitationError::BadItem(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut driver = BibliographyDriver::new();
    driver.citation(CitationRequest::new(
        entries.iter().map(CitationItem::with_entry).collect(),
        style,
        locale.clone(),
        &LOCALES,
        None,
    ));
    let rendered = driver.finish(BibliographyRequest {
        style,
        locale,
        locale_files: &LOCALES,
    });
    let bib = rendered.bibliography.ok_or(CitationError::Empty)?;
    let format = if html {
        BufWriteFormat::Html
    } else {
        BufWriteFormat::Plain
    };
    (0..items.len())
        .map(|i| {
            let entry = bib
                .items
                .iter()
                .find(|e| e.key == key(i))
                .ok_or(CitationError::Empty)?;
            let mut out = String::new();
            if let Some(first) = &entry.first_field {
                first
                    .write_buf(&mut out, format)
                    .expect("writing to a String");
                out.push(' ');
            }
            entry
                .content
                .write_buf(&mut out, format)
                .expect("writing to a String");
            Ok(no_doubled_stop(out.trim()))
        })
        .collect()
}

/// A full stop right after a question or exclamation mark is dropped, as the CSL
/// specification's punctuation rules ask (and citeproc-js does): a title ending in "?"
/// followed by the style's ". " must read "resolution? Acta…", not "resolution?. Acta…".
/// The mark may be followed by a closing quote (Chicago's “…?.”) or an HTML tag.
fn no_doubled_stop(text: &str) -> String {
    static DOUBLED: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r#"([?!])((?:</[a-z]+>|[”’"])*)\."#).expect("a valid pattern")
    });
    DOUBLED.replace_all(text, "$1$2").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(year: Option<&str>) -> Resource {
        let mut r: Resource = serde_json::from_value(serde_json::json!({
            "doi": "10.5072/ARCA.7K3M9Q2XD",
            "creators": [
                {"name": "Curie, Marie", "nameType": "Personal", "givenName": "Marie", "familyName": "Curie"},
                {"name": "Åström, Björn", "nameType": "Personal"},
                {"name": "Diamond Light Source", "nameType": "Organizational"},
                {"name": "Nguyễn, Thị Minh"}
            ],
            "titles": [{"title": "Diffraction data for hen egg-white lysozyme at 100 K"}],
            "publisher": {"name": "Arca"},
            "version": "2",
            "types": {"resourceTypeGeneral": "Dataset"}
        }))
        .unwrap();
        r.publication_year = year.map(str::to_owned);
        r
    }

    #[test]
    fn a_stop_after_a_question_mark_is_dropped_and_others_are_kept() {
        for (given, wanted) in [
            ("the resolution?. Acta", "the resolution? Acta"),
            ("“the resolution?.” Acta", "“the resolution?” Acta"),
            (
                "<i>the resolution!</i>. Acta",
                "<i>the resolution!</i> Acta",
            ),
            ("the resolution. Acta", "the resolution. Acta"),
            ("https://x.org/?a=1. ", "https://x.org/?a=1. "),
        ] {
            assert_eq!(no_doubled_stop(given), wanted);
        }
    }

    #[test]
    fn a_list_is_numbered_one_two_three_in_the_order_given() {
        let items: Vec<serde_json::Value> = ["Zeta", "Alpha", "Mu"]
            .iter()
            .map(|t| {
                serde_json::json!({"type": "dataset", "title": format!("{t} data"),
                    "author": [{"family": t, "given": "A."}], "issued": {"date-parts": [[2026]]}})
            })
            .collect();
        for (style, first, second) in [
            ("ieee", "[1]", "[2]"),
            ("vancouver", "1.", "2."),
            ("nature", "1.", "2."),
        ] {
            let refs = formatted_list(&items, style, None, false).unwrap();
            assert!(
                refs[0].starts_with(first) && refs[0].contains("Zeta"),
                "{style}: {refs:?}"
            );
            assert!(
                refs[1].starts_with(second) && refs[1].contains("Alpha"),
                "{style}: {refs:?}"
            );
            assert!(
                refs[2].contains("Mu") && !refs[2].starts_with(first),
                "{style}: {refs:?}"
            );
            // A number is written once.
            assert!(
                !refs[0].starts_with(&format!("{first} {first}")),
                "{style}: {refs:?}"
            );
        }
        // An author-date style keeps the caller's order, whatever it sorts by.
        let apa = formatted_list(&items, "apa", None, false).unwrap();
        assert!(
            apa[0].starts_with("Zeta") && apa[1].starts_with("Alpha"),
            "{apa:?}"
        );
    }

    #[test]
    fn every_offered_style_names_the_author_year_and_doi() {
        for (style, _) in STYLES {
            let text = formatted(&record(Some("2026")), style, None, false).unwrap();
            assert!(text.contains("Curie"), "{style}: {text}");
            assert!(text.contains("2026"), "{style}: {text}");
            assert!(text.contains("10.5072/arca.7k3m9q2xd"), "{style}: {text}");
            assert!(!text.contains(",."), "{style}: {text}");
            let html = formatted(&record(Some("2026")), style, None, true).unwrap();
            assert!(!html.contains("<script"), "{style}");
        }
    }

    /// Twelve people: where each style cuts the list.
    fn many_authors() -> Resource {
        let mut r = record(Some("2026"));
        r.creators = (1..=12)
            .map(|i| {
                serde_json::from_value(serde_json::json!({
                    "name": format!("Author{i}, Given"), "nameType": "Personal",
                    "givenName": "Given", "familyName": format!("Author{i}")
                }))
                .unwrap()
            })
            .collect();
        r
    }

    /// Each style on four people (one an organisation, two with non-ASCII names), with
    /// and without a year, and on twelve people. Read by eye once against each style's
    /// rules (APA lists up to 20 names; Chicago lists 7 of more than 10; IEEE cuts
    /// after 6, Nature after 5, Vancouver lists 6 of more than 6, Harvard Cite Them
    /// Right after 3); a change in the engine or the mapping shows up here.
    #[test]
    fn golden_references_for_every_style() {
        let d = "Diffraction data for hen egg-white lysozyme at 100 K";
        let url = "https://doi.org/10.5072/arca.7k3m9q2xd";
        let four = "M. Curie, B. Åström, Diamond Light Source, and T. M. Nguyễn";
        let golden: [(&str, &str, String, String); 6] = [
            (
                "apa",
                "Curie, M., Åström, B., Diamond Light Source, & Nguyễn, T. M.",
                format!("(2026). {d} (Version 2) [Dataset]. Arca. {url}"),
                format!("(n.d.). {d} (Version 2) [Dataset]. Arca. {url}"),
            ),
            (
                "chicago-author-date",
                "Curie, Marie, Björn Åström, Diamond Light Source, and Thị Minh Nguyễn.",
                format!("2026. “{d}.” Version 2. Arca. {url}."),
                format!("n.d. “{d}.” Version 2. Arca. {url}."),
            ),
            (
                "harvard-cite-them-right",
                "Curie, M. et al.",
                format!("(2026) “{d}.” Arca. Available at: {url}."),
                format!("(no date) “{d}.” Arca. Available at: {url}."),
            ),
            (
                "ieee",
                "",
                format!("[1] {four}, “{d}.” Arca, 2026. doi: 10.5072/arca.7k3m9q2xd."),
                format!("[1] {four}, “{d}.” Arca. doi: 10.5072/arca.7k3m9q2xd."),
            ),
            (
                "nature",
                "1. Curie, M., Åström, B., Diamond Light Source & Nguyễn, T. M.",
                format!("{d}. Arca {url} (2026)."),
                format!("{d}. Arca {url}."),
            ),
            (
                "vancouver",
                "1. Curie M, Åström B, Diamond Light Source, Nguyễn TM.",
                format!("{d} [dataset]. Version 2. Arca; 2026. doi:10.5072/arca.7k3m9q2xd"),
                format!("{d} [dataset]. Version 2. Arca. doi:10.5072/arca.7k3m9q2xd"),
            ),
        ];
        for (style, names, with_year, without_year) in &golden {
            let join = |rest: &str| {
                if names.is_empty() {
                    rest.to_owned()
                } else {
                    format!("{names} {rest}")
                }
            };
            assert_eq!(
                formatted(&record(Some("2026")), style, None, false).unwrap(),
                join(with_year),
                "{style}"
            );
            assert_eq!(
                formatted(&record(None), style, None, false).unwrap(),
                join(without_year),
                "{style}"
            );
        }
        let many: Vec<String> = STYLES
            .iter()
            .map(|(s, _)| formatted(&many_authors(), s, None, false).unwrap())
            .collect();
        let all: Vec<String> = (1..=11).map(|i| format!("Author{i}, G.")).collect();
        assert_eq!(
            many,
            [
                format!(
                    "{}, & Author12, G. (2026). {d} (Version 2) [Dataset]. Arca. {url}",
                    all.join(", ")
                ),
                format!(
                    "Author1, Given, {}, et al. 2026. “{d}.” Version 2. Arca. {url}.",
                    (2..=7)
                        .map(|i| format!("Given Author{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("Author1, G. et al. (2026) “{d}.” Arca. Available at: {url}."),
                format!("[1] G. Author1 et al., “{d}.” Arca, 2026. doi: 10.5072/arca.7k3m9q2xd."),
                format!("1. Author1, G. et al. {d}. Arca {url} (2026)."),
                format!(
                    "1. {}, et al. {d} [dataset]. Version 2. Arca; 2026. doi:10.5072/arca.7k3m9q2xd",
                    (1..=6)
                        .map(|i| format!("Author{i} G"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ]
        );
    }

    /// Software is cited by its paper: Arca's own styles know journal articles too.
    #[test]
    fn software_papers_are_cited_with_their_journal_in_arcas_own_styles() {
        let xds = serde_json::json!({
            "type": "article-journal", "title": "XDS",
            "author": [{"family": "Kabsch", "given": "Wolfgang"}],
            "container-title": "Acta Crystallographica Section D: Biological Crystallography",
            "volume": "66", "issue": "2", "page": "125-132",
            "issued": {"date-parts": [[2010]]}, "DOI": "10.1107/S0907444909047337"
        });
        let journal = "Acta Crystallographica Section D: Biological Crystallography";
        assert_eq!(
            formatted_item(&xds, "vancouver", None, false).unwrap(),
            format!(
                "1. Kabsch W. XDS. {journal}. 2010;66(2):125–32. doi:10.1107/S0907444909047337"
            )
        );
        assert_eq!(
            formatted_item(&xds, "chicago-author-date", None, false).unwrap(),
            format!(
                "Kabsch, Wolfgang. 2010. “XDS.” {journal} 66 (2): 125–32. https://doi.org/10.1107/S0907444909047337."
            )
        );
    }

    #[test]
    fn unknown_styles_are_named() {
        assert_eq!(
            formatted(&record(None), "nope", None, false),
            Err(CitationError::UnknownStyle("nope".into()))
        );
    }
}
