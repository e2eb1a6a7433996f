//! What the search index keeps of a released dataset, and how a reader's query is cut
//! into words. Both databases get the same words, so SQLite (FTS5) and PostgreSQL
//! (tsvector) find the same datasets.

use super::datacite::model::Resource;
use super::datacite::vocab::NameType;
use super::profile::Facility;

/// One dataset as the search index holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchEntry {
    pub year: Option<i64>,
    pub facility: Option<String>,
    pub beamline: Option<String>,
    /// Lower-cased four-character PDB ids.
    pub pdb_ids: Vec<String>,
    /// Lower-cased personal and organisational creator names.
    pub authors: Vec<String>,
    /// Every searchable word, space separated and lower-cased.
    pub body: String,
}

/// The index entry of a dataset's public record and its facility profile.
pub fn entry(record: &Resource, f: &Facility) -> SearchEntry {
    let mut text: Vec<&str> = Vec::new();
    text.extend(record.titles.iter().map(|t| t.title.as_str()));
    text.extend(record.descriptions.iter().map(|d| d.description.as_str()));
    text.extend(record.subjects.iter().map(|s| s.subject.as_str()));
    text.extend(record.doi.as_deref());
    let people = record
        .creators
        .iter()
        .chain(record.contributors.iter().filter(|c| {
            // The hosting facility is already a field of its own.
            c.name_type != Some(NameType::Organizational)
        }));
    for p in people {
        text.push(&p.name);
        text.extend(p.affiliation.iter().map(|a| a.name.as_str()));
    }
    if let Some(s) = &f.sample {
        text.extend(
            [&s.name, &s.organism, &s.macromolecule]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
    }
    if let Some(c) = &f.collection {
        text.extend(
            [&c.technique, &c.detector]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
    }
    text.extend(f.facility.as_ref().map(|o| o.name.as_str()));
    text.extend(f.beamline.as_ref().map(|b| b.name.as_str()));
    text.extend(f.software.iter().map(|s| s.name.as_str()));
    text.extend(f.keywords.iter().map(String::as_str));
    text.extend(f.pdb_ids.iter().map(String::as_str));
    SearchEntry {
        year: record
            .publication_year
            .as_deref()
            .and_then(|y| y.parse().ok()),
        facility: f.facility.as_ref().map(|o| o.name.clone()),
        beamline: f.beamline.as_ref().map(|b| b.name.clone()),
        pdb_ids: f.pdb_ids.iter().map(|p| p.to_lowercase()).collect(),
        authors: record
            .creators
            .iter()
            .map(|c| c.name.to_lowercase())
            .collect(),
        body: words(&text.join(" ")).join(" "),
    }
}

/// The words of a text: runs of letters and digits, lower-cased, without diacritics
/// ("Röntgen" is found as "rontgen"). Punctuation and any query syntax the databases
/// know (quotes, `*`, `&`, `NEAR`) never reach them whole.
pub fn words(text: &str) -> Vec<String> {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.nfd()
                .filter(|c| !is_combining_mark(*c))
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// An entry's distinct words, each with a space either side (`" lysozyme native "`), so
/// a word is found with ` word ` and the start of one with ` wor`.
pub fn spaced(words: &[String]) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::from(" ");
    for w in words {
        if seen.insert(w.as_str()) {
            out.push_str(w);
            out.push(' ');
        }
    }
    out
}

/// A reader's query: at most this many words are used.
pub const MAX_QUERY_WORDS: usize = 12;

pub fn query_words(q: &str) -> Vec<String> {
    let mut w = words(q);
    w.truncate(MAX_QUERY_WORDS);
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_entry_holds_what_readers_search_for() {
        let record: Resource = serde_json::from_value(json!({
            "titles": [{"title": "Lysozyme <b>at</b> 100 K"}],
            "creators": [{"name": "Curie, Marie", "affiliation": [{"name": "Sorbonne"}]}],
            "publicationYear": "2026",
            "descriptions": [{"description": "Diffraction images", "descriptionType": "Abstract"}]
        }))
        .unwrap();
        let f: Facility = serde_json::from_value(json!({
            "facility": {"name": "Diamond"},
            "beamline": {"name": "I04"},
            "sample": {"organism": "Gallus gallus"},
            "pdb_ids": ["1ABC"]
        }))
        .unwrap();
        let e = entry(&record, &f);
        assert_eq!(e.year, Some(2026));
        assert_eq!(e.facility.as_deref(), Some("Diamond"));
        assert_eq!(e.beamline.as_deref(), Some("I04"));
        assert_eq!(e.pdb_ids, ["1abc"]);
        assert_eq!(e.authors, ["curie, marie"]);
        for w in [
            "lysozyme",
            "b",
            "curie",
            "sorbonne",
            "gallus",
            "diffraction",
            "i04",
            "1abc",
        ] {
            assert!(
                e.body.split(' ').any(|x| x == w),
                "{w} missing from {}",
                e.body
            );
        }
    }

    #[test]
    fn query_syntax_is_reduced_to_words() {
        assert_eq!(
            query_words("\"lyso*\" NEAR(a b) & -x:y'); DROP"),
            ["lyso", "near", "a", "b", "x", "y", "drop"]
        );
        assert_eq!(query_words(&"w ".repeat(50)).len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn words_fold_case_and_diacritics_and_are_spaced_once_each() {
        assert_eq!(
            words("Röntgen, ÅNGSTRÖM-Curie"),
            ["rontgen", "angstrom", "curie"]
        );
        let w = words("lysozyme at 100 K, lysozyme again");
        assert_eq!(spaced(&w), " lysozyme at 100 k again ");
        assert_eq!(spaced(&[]), " ");
    }
}
