//! The facility profile: what the deposit form records beyond DataCite's own properties
//! (facility, beamline, collection, sample, article, PDB entries, software, licence,
//! funding, keywords) and the one place it is mapped into DataCite. The mapping is
//! written down as a table in `docs/facility-profile.md`.

use super::datacite::model::*;
use super::datacite::vocab::*;
use crate::model::doi::Doi;
use crate::model::identifiers::{Orcid, PdbId, Ror};
use crate::model::metadata::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Facility {
    pub facility: Option<Organisation>,
    pub beamline: Option<Beamline>,
    pub collection: Option<Collection>,
    pub sample: Option<Sample>,
    pub article: Option<Article>,
    pub pdb_ids: Vec<String>,
    pub software: Vec<SoftwareUsed>,
    /// An SPDX licence id, such as CC-BY-4.0 or CC0-1.0.
    pub licence: Option<String>,
    pub funding: Vec<Funding>,
    pub keywords: Vec<String>,
    /// Who answers questions about the data. The name is published (DataCite
    /// ContactPerson); the e-mail address is kept for the archive only.
    pub contact: Option<Contact>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    #[serde(default)]
    pub ror: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Beamline {
    pub name: String,
    /// A persistent identifier of the instrument (PIDINST DOI or handle), if it has one.
    #[serde(default)]
    pub identifier: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Collection {
    /// YYYY-MM-DD.
    pub start: Option<String>,
    pub end: Option<String>,
    pub technique: Option<String>,
    pub detector: Option<String>,
    pub wavelength_angstrom: Option<f64>,
    pub temperature_kelvin: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sample {
    pub name: Option<String>,
    pub organism: Option<String>,
    pub macromolecule: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Article {
    /// The article's DOI, once there is one.
    pub doi: Option<String>,
    /// True while the article is being written.
    pub in_preparation: bool,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareUsed {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    /// The software's (or its reference paper's) DOI.
    #[serde(default)]
    pub doi: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    pub funder_name: String,
    /// A Crossref Funder ID (https://doi.org/10.13039/…) or a ROR id.
    #[serde(default)]
    pub funder_id: Option<String>,
    #[serde(default)]
    pub award_number: Option<String>,
    #[serde(default)]
    pub award_title: Option<String>,
}

/// How the data were collected, in words for pages: where, when and how, on what
/// sample, and with which software; (label, text), only what is known.
pub fn in_words(f: &Facility) -> Vec<(&'static str, String)> {
    let join =
        |parts: Vec<Option<String>>| parts.into_iter().flatten().collect::<Vec<_>>().join(", ");
    let c = f.collection.clone().unwrap_or_default();
    let s = f.sample.clone().unwrap_or_default();
    let lines = [
        (
            "Collected at",
            join(vec![
                f.facility.as_ref().map(|o| o.name.clone()),
                f.beamline.as_ref().map(|b| format!("beamline {}", b.name)),
            ]),
        ),
        (
            "Collection",
            join(vec![
                match (&c.start, &c.end) {
                    (Some(a), Some(b)) if a != b => Some(format!("{a} to {b}")),
                    (Some(a), _) | (None, Some(a)) => Some(a.clone()),
                    _ => None,
                },
                c.technique.clone(),
                c.detector.clone(),
                c.wavelength_angstrom.map(|w| format!("{w} Å")),
                c.temperature_kelvin.map(|t| format!("{t} K")),
            ]),
        ),
        ("Sample", join(vec![s.name, s.macromolecule, s.organism])),
        (
            "Software",
            f.software
                .iter()
                .map(|x| match &x.version {
                    Some(v) => format!("{} {v}", x.name),
                    None => x.name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    lines.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

/// Names of the licences depositors pick most; any other SPDX id is carried as is.
pub const LICENCES: &[(&str, &str)] = &[
    (
        "CC-BY-4.0",
        "Creative Commons Attribution 4.0 International",
    ),
    ("CC0-1.0", "Creative Commons Zero v1.0 Universal"),
    (
        "CC-BY-SA-4.0",
        "Creative Commons Attribution Share Alike 4.0 International",
    ),
    (
        "CC-BY-NC-4.0",
        "Creative Commons Attribution Non Commercial 4.0 International",
    ),
    ("ODC-By-1.0", "Open Data Commons Attribution License v1.0"),
    (
        "PDDL-1.0",
        "Open Data Commons Public Domain Dedication & License 1.0",
    ),
];

/// An SPDX id in its canonical spelling where Arca knows it (DataCite stores ids in
/// lower case; CITATION.cff and CodeMeta want SPDX's own case).
pub fn spdx_canonical(id: &str) -> String {
    LICENCES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(id))
        .map(|(k, _)| (*k).to_owned())
        .unwrap_or_else(|| id.to_owned())
}

fn err(errors: &mut Vec<FieldError>, pointer: String, detail: impl Into<String>) {
    errors.push(FieldError {
        pointer,
        detail: detail.into(),
    });
}

fn doi_identifier(
    relation: RelationType,
    general: ResourceTypeGeneral,
    doi: &str,
) -> RelatedIdentifier {
    RelatedIdentifier {
        related_identifier: doi.to_owned(),
        related_identifier_type: RelatedIdentifierType::Doi,
        relation_type: relation,
        relation_type_information: None,
        resource_type_general: Some(general),
        related_metadata_scheme: None,
        scheme_uri: None,
        scheme_type: None,
    }
}

fn item(kind: ResourceTypeGeneral, relation: RelationType, title: String) -> RelatedItem {
    RelatedItem {
        related_item_type: kind,
        relation_type: relation,
        relation_type_information: None,
        related_item_identifier: None,
        creators: vec![],
        titles: vec![Title {
            title,
            title_type: None,
            lang: None,
        }],
        publication_year: None,
        volume: None,
        issue: None,
        number: None,
        number_type: None,
        first_page: None,
        last_page: None,
        publisher: None,
        edition: None,
        contributors: vec![],
    }
}

/// Identifiers inside the DataCite part that Arca can check: ORCID check digits and ROR
/// checksums of creators, contributors and affiliations.
pub fn check_identifiers(r: &Resource) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (list, people) in [("creators", &r.creators), ("contributors", &r.contributors)] {
        for (i, p) in people.iter().enumerate() {
            for (j, n) in p.name_identifiers.iter().enumerate() {
                let ptr = format!("/{list}/{i}/nameIdentifiers/{j}/nameIdentifier");
                match n.name_identifier_scheme.as_str() {
                    "ORCID" => {
                        if let Err(e) = Orcid::parse(&n.name_identifier) {
                            err(&mut errors, ptr, e.to_string());
                        }
                    }
                    "ROR" => {
                        if let Err(e) = Ror::parse(&n.name_identifier) {
                            err(&mut errors, ptr, e.to_string());
                        }
                    }
                    _ => {}
                }
            }
            for (j, a) in p.affiliation.iter().enumerate() {
                if a.affiliation_identifier_scheme.as_deref() == Some("ROR")
                    && let Some(id) = &a.affiliation_identifier
                    && let Err(e) = Ror::parse(id)
                {
                    err(
                        &mut errors,
                        format!("/{list}/{i}/affiliation/{j}/affiliationIdentifier"),
                        e.to_string(),
                    );
                }
            }
        }
    }
    errors
}

/// The deposit's DataCite record: its own DataCite properties plus what the facility
/// profile maps into them. Problems name their place under `/facility`.
pub fn to_datacite(base: &Resource, f: &Facility) -> Result<Resource, Vec<FieldError>> {
    let mut r = base.clone();
    let mut errors = Vec::new();
    if let Some(org) = &f.facility {
        let mut who = Creator {
            name: org.name.clone(),
            name_type: Some(NameType::Organizational),
            contributor_type: Some(ContributorType::HostingInstitution),
            ..Default::default()
        };
        if let Some(ror) = &org.ror {
            match Ror::parse(ror) {
                Ok(ror) => who.name_identifiers.push(NameIdentifier {
                    name_identifier: ror.as_str().to_owned(),
                    name_identifier_scheme: "ROR".into(),
                    scheme_uri: Some("https://ror.org".into()),
                }),
                Err(e) => err(&mut errors, "/facility/facility/ror".into(), e.to_string()),
            }
        }
        r.contributors.push(who);
    }
    if let Some(bl) = &f.beamline {
        let at = f
            .facility
            .as_ref()
            .map(|o| format!(" at {}", o.name))
            .unwrap_or_default();
        match &bl.identifier {
            // An instrument with a PID (PIDINST) is linked by identifier.
            Some(id) => match Doi::parse(id) {
                Ok(doi) => r.related_identifiers.push(doi_identifier(
                    RelationType::IsCollectedBy,
                    ResourceTypeGeneral::Instrument,
                    doi.as_str(),
                )),
                Err(_) if id.starts_with("https://") || id.starts_with("http://") => {
                    r.related_identifiers.push(RelatedIdentifier {
                        related_identifier_type: RelatedIdentifierType::Url,
                        ..doi_identifier(
                            RelationType::IsCollectedBy,
                            ResourceTypeGeneral::Instrument,
                            id,
                        )
                    })
                }
                Err(_) => err(
                    &mut errors,
                    "/facility/beamline/identifier".into(),
                    "must be a DOI or a URL",
                ),
            },
            None => r.related_items.push(item(
                ResourceTypeGeneral::Instrument,
                RelationType::IsCollectedBy,
                format!("Beamline {}{at}", bl.name),
            )),
        }
    }
    if let Some(c) = &f.collection {
        for (field, v) in [("start", &c.start), ("end", &c.end)] {
            if let Some(d) = v
                && !crate::model::date::is_iso_date(d)
            {
                err(
                    &mut errors,
                    format!("/facility/collection/{field}"),
                    "must be a date as YYYY-MM-DD",
                );
            }
        }
        let range = match (&c.start, &c.end) {
            (Some(s), Some(e)) if s != e => Some(format!("{s}/{e}")),
            (Some(s), _) => Some(s.clone()),
            (None, Some(e)) => Some(e.clone()),
            (None, None) => None,
        };
        if let Some(date) = range {
            r.dates.push(Date {
                date,
                date_type: DateType::Collected,
                date_information: None,
            });
        }
        let mut parts = Vec::new();
        if let Some(t) = &c.technique {
            parts.push(format!("Technique: {t}."));
            r.subjects.push(Subject {
                subject: t.clone(),
                ..Default::default()
            });
        }
        if let Some(d) = &c.detector {
            parts.push(format!("Detector: {d}."));
        }
        if let Some(w) = c.wavelength_angstrom {
            parts.push(format!("Wavelength: {w} Å."));
        }
        if let Some(t) = c.temperature_kelvin {
            parts.push(format!("Temperature: {t} K."));
        }
        if !parts.is_empty() {
            r.descriptions.push(Description {
                description: parts.join(" "),
                description_type: DescriptionType::TechnicalInfo,
                lang: None,
            });
        }
    }
    if let Some(c) = &f.contact {
        if c.name.trim().is_empty() {
            err(
                &mut errors,
                "/facility/contact/name".into(),
                "the contact's name is required",
            );
        }
        if let Some(email) = &c.email
            && (!email.contains('@') || email.contains(char::is_whitespace))
        {
            err(
                &mut errors,
                "/facility/contact/email".into(),
                "is not an e-mail address",
            );
        }
        r.contributors.push(Creator {
            name: c.name.clone(),
            name_type: Some(NameType::Personal),
            contributor_type: Some(ContributorType::ContactPerson),
            ..Default::default()
        });
    }
    if let Some(s) = &f.sample {
        let parts: Vec<String> = [
            ("Sample", &s.name),
            ("Organism", &s.organism),
            ("Macromolecule", &s.macromolecule),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}.")))
        .collect();
        if !parts.is_empty() {
            r.descriptions.push(Description {
                description: parts.join(" "),
                description_type: DescriptionType::Methods,
                lang: None,
            });
        }
    }
    if let Some(a) = &f.article {
        match (&a.doi, a.in_preparation) {
            (Some(doi), _) => match Doi::parse(doi) {
                Ok(doi) => r.related_identifiers.push(doi_identifier(
                    RelationType::IsSupplementTo,
                    ResourceTypeGeneral::JournalArticle,
                    doi.as_str(),
                )),
                Err(e) => err(&mut errors, "/facility/article/doi".into(), e.to_string()),
            },
            (None, true) => {}
            (None, false) => err(
                &mut errors,
                "/facility/article".into(),
                "give the article's DOI, or say \"in_preparation\": true",
            ),
        }
    }
    for (i, id) in f.pdb_ids.iter().enumerate() {
        match PdbId::parse(id) {
            // The structure was derived from these data: the data are its source.
            Ok(pdb) => r.related_identifiers.push(doi_identifier(
                RelationType::IsSourceOf,
                ResourceTypeGeneral::Dataset,
                &pdb.doi(),
            )),
            Err(e) => err(&mut errors, format!("/facility/pdb_ids/{i}"), e.to_string()),
        }
    }
    for (i, s) in f.software.iter().enumerate() {
        let label = match &s.version {
            Some(v) => format!("{} {v}", s.name),
            None => s.name.clone(),
        };
        // The data were processed ("compiled") with this software.
        match s.doi.as_deref().map(Doi::parse) {
            Some(Ok(doi)) => r.related_identifiers.push(doi_identifier(
                RelationType::IsCompiledBy,
                ResourceTypeGeneral::Software,
                doi.as_str(),
            )),
            Some(Err(e)) => err(
                &mut errors,
                format!("/facility/software/{i}/doi"),
                e.to_string(),
            ),
            None => r.related_items.push(item(
                ResourceTypeGeneral::Software,
                RelationType::IsCompiledBy,
                label,
            )),
        }
    }
    if let Some(id) = &f.licence {
        let valid = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b));
        if valid {
            let name = LICENCES
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(id))
                .map(|(_, n)| *n);
            r.rights_list.push(Rights {
                rights: name.unwrap_or(id).to_owned(),
                rights_uri: Some(format!("https://spdx.org/licenses/{id}.html")),
                rights_identifier: Some(id.to_ascii_lowercase()),
                rights_identifier_scheme: Some("SPDX".into()),
                scheme_uri: Some("https://spdx.org/licenses/".into()),
                lang: None,
            });
        } else {
            err(
                &mut errors,
                "/facility/licence".into(),
                "must be an SPDX licence id such as CC-BY-4.0",
            );
        }
    }
    for (i, fu) in f.funding.iter().enumerate() {
        let mut fr = FundingReference {
            funder_name: fu.funder_name.clone(),
            award_number: fu.award_number.clone(),
            award_title: fu.award_title.clone(),
            ..Default::default()
        };
        if let Some(id) = &fu.funder_id {
            if let Ok(ror) = Ror::parse(id) {
                fr.funder_identifier = Some(ror.as_str().to_owned());
                fr.funder_identifier_type = Some(FunderIdentifierType::Ror);
            } else if let Ok(doi) = Doi::parse(id)
                && doi.prefix() == "10.13039"
            {
                fr.funder_identifier = Some(format!("https://doi.org/{doi}"));
                fr.funder_identifier_type = Some(FunderIdentifierType::CrossrefFunderId);
            } else {
                err(
                    &mut errors,
                    format!("/facility/funding/{i}/funder_id"),
                    "must be a Crossref Funder ID (https://doi.org/10.13039/…) or a ROR id",
                );
            }
        }
        r.funding_references.push(fr);
    }
    for k in &f.keywords {
        r.subjects.push(Subject {
            subject: k.clone(),
            ..Default::default()
        });
    }
    if errors.is_empty() {
        Ok(r)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_typical_beamline_deposit_maps_onto_datacite() {
        let facility: Facility = serde_json::from_value(json!({
            "facility": {"name": "Diamond Light Source", "ror": "https://ror.org/05etxs293"},
            "beamline": {"name": "I04"},
            "collection": {"start": "2026-03-01", "end": "2026-03-02", "technique": "X-ray diffraction",
                            "wavelength_angstrom": 0.9795, "temperature_kelvin": 100},
            "sample": {"name": "HEWL crystal 3", "organism": "Gallus gallus", "macromolecule": "Lysozyme C"},
            "article": {"doi": "10.1107/S2059798320000001"},
            "pdb_ids": ["7ABC"],
            "software": [{"name": "XDS", "version": "Jan 26, 2026"}, {"name": "DIALS", "doi": "10.1107/S2059798317017235"}],
            "licence": "CC-BY-4.0",
            "funding": [{"funder_name": "Wellcome Trust", "funder_id": "https://doi.org/10.13039/100010269", "award_number": "221818"}],
            "keywords": ["lysozyme"]
        }))
        .unwrap();
        let r = to_datacite(&Resource::default(), &facility).unwrap();
        let host = &r.contributors[0];
        assert_eq!(
            host.contributor_type,
            Some(ContributorType::HostingInstitution)
        );
        assert_eq!(
            host.name_identifiers[0].name_identifier,
            "https://ror.org/05etxs293"
        );
        let rels: Vec<(RelationType, &str)> = r
            .related_identifiers
            .iter()
            .map(|x| (x.relation_type, x.related_identifier.as_str()))
            .collect();
        assert!(rels.contains(&(RelationType::IsSupplementTo, "10.1107/s2059798320000001")));
        assert!(rels.contains(&(RelationType::IsSourceOf, "10.2210/pdb7abc/pdb")));
        assert!(rels.contains(&(RelationType::IsCompiledBy, "10.1107/s2059798317017235")));
        let instrument = r
            .related_items
            .iter()
            .find(|i| i.related_item_type == ResourceTypeGeneral::Instrument)
            .unwrap();
        assert_eq!(instrument.relation_type, RelationType::IsCollectedBy);
        assert_eq!(
            instrument.titles[0].title,
            "Beamline I04 at Diamond Light Source"
        );
        assert_eq!(r.dates[0].date, "2026-03-01/2026-03-02");
        assert_eq!(r.dates[0].date_type, DateType::Collected);
        assert_eq!(
            r.rights_list[0].rights_identifier.as_deref(),
            Some("cc-by-4.0")
        );
        assert_eq!(
            r.funding_references[0].funder_identifier_type,
            Some(FunderIdentifierType::CrossrefFunderId)
        );
        assert!(
            r.descriptions
                .iter()
                .any(|d| d.description.contains("0.9795 Å"))
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let facility: Facility = serde_json::from_value(json!({
            "facility": {"name": "X", "ror": "https://ror.org/05etxs294"},
            "collection": {"start": "01/03/2026"},
            "article": {},
            "pdb_ids": ["7ABC", "ABCD"],
            "licence": "CC BY",
            "funding": [{"funder_name": "F", "funder_id": "12345"}]
        }))
        .unwrap();
        let errs = to_datacite(&Resource::default(), &facility).unwrap_err();
        let ptrs: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            ptrs,
            [
                "/facility/facility/ror",
                "/facility/collection/start",
                "/facility/article",
                "/facility/pdb_ids/1",
                "/facility/licence",
                "/facility/funding/0/funder_id"
            ]
        );
    }

    #[test]
    fn orcid_and_ror_in_the_datacite_part_are_checked() {
        let r: Resource = serde_json::from_value(json!({
            "creators": [{"name": "Curie, Marie",
                          "nameIdentifiers": [{"nameIdentifier": "0000-0002-1825-0098", "nameIdentifierScheme": "ORCID"}],
                          "affiliation": [{"name": "ESRF", "affiliationIdentifier": "https://ror.org/02550n020", "affiliationIdentifierScheme": "ROR"}]}]
        }))
        .unwrap();
        let errs = check_identifiers(&r);
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].pointer,
            "/creators/0/nameIdentifiers/0/nameIdentifier"
        );
        assert!(errs[0].detail.contains("check digit"));
    }
}
