//! Citations of a dataset (or software) record: CSL-JSON, BibTeX and BibLaTeX, RIS, the
//! DataCite recommended format, and formatted references in CSL styles rendered by a
//! real CSL engine (hayagriva) from the CSL-JSON.

mod bibtex;
mod csl;
mod ris;
mod software_meta;
pub mod styles;

pub use bibtex::{biblatex, bibtex};
pub use csl::csl_json;
pub use ris::ris;
pub use software_meta::{citation_cff, codemeta};
pub use styles::{
    CitationError, STYLES, check_item, formatted, formatted_item, formatted_list, style_file,
};

use super::datacite::model::{Creator, Resource};
use super::datacite::vocab::{NameType, ResourceTypeGeneral};

/// A person's or organisation's name as citation formats want it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Name {
    Person {
        family: String,
        given: Option<String>,
    },
    Organisation(String),
}

impl Name {
    pub(crate) fn of(c: &Creator) -> Name {
        if c.name_type == Some(NameType::Organizational) {
            return Name::Organisation(c.name.clone());
        }
        match (&c.family_name, &c.given_name) {
            (Some(f), g) => Name::Person {
                family: f.clone(),
                given: g.clone(),
            },
            // "Family, Given" is DataCite's convention for personal names.
            (None, _) => match c.name.split_once(',') {
                Some((f, g)) if c.name_type == Some(NameType::Personal) || !g.trim().is_empty() => {
                    Name::Person {
                        family: f.trim().to_owned(),
                        given: Some(g.trim().to_owned()).filter(|g| !g.is_empty()),
                    }
                }
                _ if c.name_type == Some(NameType::Personal) => Name::Person {
                    family: c.name.clone(),
                    given: None,
                },
                _ => Name::Organisation(c.name.clone()),
            },
        }
    }

    /// "Curie, Marie" or the organisation's name.
    pub(crate) fn inverted(&self) -> String {
        match self {
            Name::Person {
                family,
                given: Some(g),
            } => format!("{family}, {g}"),
            Name::Person {
                family,
                given: None,
            } => family.clone(),
            Name::Organisation(o) => o.clone(),
        }
    }
}

pub fn title(r: &Resource) -> String {
    r.titles
        .iter()
        .find(|t| t.title_type.is_none())
        .or(r.titles.first())
        .map(|t| t.title.clone())
        .unwrap_or_default()
}

pub(crate) fn is_software(r: &Resource) -> bool {
    r.types
        .as_ref()
        .is_some_and(|t| t.resource_type_general == ResourceTypeGeneral::Software)
}

pub(crate) fn doi(r: &Resource) -> Option<String> {
    r.doi.as_ref().map(|d| d.to_lowercase())
}

/// The year, when it is one (a record may not have a publication year yet).
pub(crate) fn year(r: &Resource) -> Option<i32> {
    r.publication_year
        .as_deref()
        .and_then(|y| y.trim().parse().ok())
}

/// DataCite's recommended citation: Creator (PublicationYear): Title. Version.
/// Publisher. (ResourceTypeGeneral). Identifier.
pub fn datacite_text(r: &Resource) -> String {
    let names: Vec<String> = r.creators.iter().map(|c| Name::of(c).inverted()).collect();
    let mut s = names.join("; ");
    match year(r) {
        Some(y) => s.push_str(&format!(" ({y}): ")),
        None => s.push_str(" (n.d.): "),
    }
    s.push_str(title(r).trim_end_matches('.'));
    s.push('.');
    if let Some(v) = &r.version {
        s.push_str(&format!(" Version {v}."));
    }
    if let Some(p) = &r.publisher {
        s.push_str(&format!(" {}.", p.name.trim_end_matches('.')));
    }
    if let Some(t) = &r.types {
        s.push_str(&format!(" ({}).", t.resource_type_general));
    }
    if let Some(d) = doi(r) {
        s.push_str(&format!(" https://doi.org/{d}"));
    }
    s
}

/// A way to cite a record, as asked for by media type or `?format=`.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Bibtex,
    Biblatex,
    Ris,
    CslJson,
    /// A formatted reference (`text/x-bibliography`); APA unless a style is named.
    Text {
        style: Option<String>,
        locale: Option<String>,
    },
    /// DataCite's recommended citation.
    DataciteText,
    DataciteXml,
    /// CITATION.cff 1.2 (YAML).
    Cff,
    /// CodeMeta 3.0 (JSON-LD), for software.
    CodeMeta,
    /// schema.org JSON-LD (`Dataset` or `SoftwareSourceCode`).
    SchemaOrg,
}

/// The media types of citation formats, as DOI content negotiation names them.
pub const BIBTEX: &str = "application/x-bibtex";
pub const RIS: &str = "application/x-research-info-systems";
pub const CSL_JSON: &str = "application/vnd.citationstyles.csl+json";
pub const BIBLIOGRAPHY: &str = "text/x-bibliography";
pub const DATACITE_XML: &str = "application/vnd.datacite.datacite+xml";
pub const LD_JSON: &str = "application/ld+json";

impl Format {
    /// `?format=` names: bibtex, biblatex, ris, csl, text, datacite, datacite-xml, cff,
    /// codemeta, schema.org.
    pub fn from_name(name: &str, style: Option<String>, locale: Option<String>) -> Option<Format> {
        Some(match name {
            "bibtex" => Format::Bibtex,
            "biblatex" => Format::Biblatex,
            "ris" => Format::Ris,
            "csl" | "csl-json" => Format::CslJson,
            "text" | "citation" => Format::Text { style, locale },
            "datacite" => Format::DataciteText,
            "datacite-xml" | "xml" => Format::DataciteXml,
            "cff" | "citation-cff" => Format::Cff,
            "codemeta" => Format::CodeMeta,
            "schema.org" | "jsonld" => Format::SchemaOrg,
            _ => return None,
        })
    }

    pub fn media_type(&self) -> &'static str {
        match self {
            Format::Bibtex | Format::Biblatex => BIBTEX,
            Format::Ris => RIS,
            Format::CslJson => CSL_JSON,
            Format::Text { .. } | Format::DataciteText => BIBLIOGRAPHY,
            Format::DataciteXml => DATACITE_XML,
            Format::Cff => "application/x-yaml",
            Format::CodeMeta | Format::SchemaOrg => LD_JSON,
        }
    }
}

/// The record in `format`.
pub fn render(r: &Resource, format: &Format) -> Result<String, CitationError> {
    Ok(match format {
        Format::Bibtex => bibtex(r),
        Format::Biblatex => biblatex(r),
        Format::Ris => ris(r),
        Format::CslJson => {
            let id = doi(r).unwrap_or_else(|| "item".into());
            serde_json::to_string_pretty(&serde_json::json!([csl_json(r, &id)])).expect("JSON")
        }
        Format::Text { style, locale } => {
            formatted(
                r,
                style.as_deref().unwrap_or("apa"),
                locale.as_deref(),
                false,
            )? + "\n"
        }
        Format::DataciteText => datacite_text(r) + "\n",
        Format::DataciteXml => super::datacite::xml::to_xml(r),
        Format::Cff => citation_cff(r),
        Format::CodeMeta if is_software(r) => {
            serde_json::to_string_pretty(&codemeta(r)).expect("JSON")
        }
        Format::CodeMeta => return Err(CitationError::NotSoftware),
        Format::SchemaOrg => {
            serde_json::to_string_pretty(&super::schema_org::schema_org(r)).expect("JSON")
        }
    })
}
