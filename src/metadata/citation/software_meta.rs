//! Software's own citation metadata: CITATION.cff 1.2 and CodeMeta 3.0 (JSON-LD).

use super::{Name, doi, title};
use crate::metadata::datacite::model::{Creator, Resource};
use crate::metadata::datacite::vocab::DescriptionType;
use serde_json::{Value, json};

fn orcid(c: &Creator) -> Option<String> {
    c.orcid_url()
}

fn spdx(r: &Resource) -> Option<String> {
    r.rights_list
        .iter()
        .find(|x| {
            x.rights_identifier_scheme
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("SPDX"))
        })
        .and_then(|x| x.rights_identifier.clone())
        .map(|id| {
            // SPDX ids are case-sensitive in CFF's list; DataCite stores them lower-case.
            crate::metadata::profile::spdx_canonical(&id)
        })
}

fn abstract_of(r: &Resource) -> Option<&str> {
    r.descriptions
        .iter()
        .find(|d| d.description_type == DescriptionType::Abstract)
        .map(|d| d.description.as_str())
}

/// YAML is a superset of JSON: every value is written as a JSON string or list, so no
/// text can break the document.
fn q(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// CITATION.cff 1.2.0 for the record.
pub fn citation_cff(r: &Resource) -> String {
    let kind = if super::is_software(r) {
        "software"
    } else {
        "dataset"
    };
    let mut y = vec![
        "cff-version: 1.2.0".to_owned(),
        format!(
            "message: {}",
            q(&format!("If you use this {kind}, please cite it as below."))
        ),
        format!("type: {kind}"),
        format!("title: {}", q(&title(r))),
        "authors:".to_owned(),
    ];
    for c in &r.creators {
        match Name::of(c) {
            Name::Person { family, given } => {
                y.push(format!("  - family-names: {}", q(&family)));
                if let Some(g) = given {
                    y.push(format!("    given-names: {}", q(&g)));
                }
                if let Some(o) = orcid(c) {
                    y.push(format!("    orcid: {}", q(&o)));
                }
                if let Some(a) = c.affiliation.first() {
                    y.push(format!("    affiliation: {}", q(&a.name)));
                }
            }
            Name::Organisation(o) => y.push(format!("  - name: {}", q(&o))),
        }
    }
    if let Some(v) = &r.version {
        y.push(format!("version: {}", q(v)));
    }
    if let Some(d) = doi(r) {
        y.push(format!("doi: {}", q(&d)));
        y.push(format!("url: {}", q(&format!("https://doi.org/{d}"))));
    }
    if let Some(l) = spdx(r) {
        y.push(format!("license: {}", q(&l)));
    }
    if let Some(a) = abstract_of(r) {
        y.push(format!("abstract: {}", q(a)));
    }
    if !r.subjects.is_empty() {
        y.push("keywords:".to_owned());
        for s in &r.subjects {
            y.push(format!("  - {}", q(&s.subject)));
        }
    }
    y.join("\n") + "\n"
}

/// CodeMeta 3.0 (JSON-LD) for a software record.
pub fn codemeta(r: &Resource) -> Value {
    let authors: Vec<Value> = r
        .creators
        .iter()
        .map(|c| match Name::of(c) {
            Name::Person { family, given } => {
                let mut p = json!({ "@type": "Person", "familyName": family });
                if let Some(g) = given {
                    p["givenName"] = json!(g);
                }
                if let Some(o) = orcid(c) {
                    p["@id"] = json!(o);
                }
                if let Some(a) = c.affiliation.first() {
                    p["affiliation"] = json!({ "@type": "Organization", "name": a.name });
                }
                p
            }
            Name::Organisation(o) => json!({ "@type": "Organization", "name": o }),
        })
        .collect();
    let mut m = json!({
        "@context": "https://w3id.org/codemeta/3.0",
        "@type": "SoftwareSourceCode",
        "name": title(r),
        "author": authors,
    });
    if let Some(d) = doi(r) {
        m["identifier"] = json!(format!("https://doi.org/{d}"));
        m["@id"] = json!(format!("https://doi.org/{d}"));
    }
    if let Some(v) = &r.version {
        m["version"] = json!(v);
    }
    if let Some(l) = spdx(r) {
        m["license"] = json!(format!("https://spdx.org/licenses/{l}"));
    }
    if let Some(a) = abstract_of(r) {
        m["description"] = json!(a);
    }
    if let Some(y) = &r.publication_year {
        m["datePublished"] = json!(y);
    }
    if let Some(p) = &r.publisher {
        m["publisher"] = json!({ "@type": "Organization", "name": p.name });
    }
    if !r.subjects.is_empty() {
        m["keywords"] = json!(
            r.subjects
                .iter()
                .map(|s| s.subject.clone())
                .collect::<Vec<_>>()
        );
    }
    m
}
