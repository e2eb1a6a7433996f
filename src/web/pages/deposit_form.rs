//! The deposit form: its fields, how they become a deposit's DataCite metadata and
//! facility profile (and back, to edit), and which field a problem belongs to.
//!
//! The form manages the properties it shows; anything else a deposit has (added
//! through the API: related identifiers, a beamline's PID, a funder id…) is kept.

use super::super::session::Form;
use crate::metadata::profile::LICENCES;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct AuthorRow {
    pub name: String,
    pub orcid: String,
    pub affiliation: String,
    /// The affiliation's ROR id, when it was chosen from ROR's suggestions.
    pub ror: String,
}

#[derive(Debug, Clone, Default)]
pub struct SoftwareRow {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default)]
pub struct FundingRow {
    pub funder: String,
    pub award: String,
    /// The funder's Funder Registry DOI (or ROR id), when it was chosen from the
    /// suggestions or set through the API.
    pub funder_id: String,
}

/// Every field as typed: nothing is lost when the form comes back with an error.
#[derive(Debug, Clone, Default)]
pub struct DepositForm {
    pub title: String,
    pub description: String,
    pub authors: Vec<AuthorRow>,
    pub contact_name: String,
    pub contact_email: String,
    pub sample_name: String,
    pub organism: String,
    pub macromolecule: String,
    pub facility: String,
    pub beamline: String,
    pub collection_date: String,
    pub detector: String,
    pub wavelength: String,
    pub temperature: String,
    pub technique: String,
    pub software: Vec<SoftwareRow>,
    pub article_doi: String,
    pub article_in_preparation: bool,
    pub article_title: String,
    pub pdb_ids: String,
    pub licence: String,
    pub funding: Vec<FundingRow>,
    pub keywords: String,
}

/// Problems by field name ("" for the form as a whole), in plain words.
pub type FieldErrors = BTreeMap<String, String>;

/// Rows offered beyond those filled in, so one more can be typed without scripts.
const SPARE_ROWS: usize = 1;

fn rows<T: Default>(
    form: &Form,
    prefix: &str,
    make: impl Fn(&dyn Fn(&str) -> String) -> T,
    blank: impl Fn(&T) -> bool,
) -> Vec<T> {
    let mut out = Vec::new();
    for i in 0..200 {
        let exists = form
            .0
            .iter()
            .any(|(k, _)| k.starts_with(&format!("{prefix}-{i}-")));
        if !exists {
            break;
        }
        let get = |f: &str| form.get(&format!("{prefix}-{i}-{f}"));
        let row = make(&get);
        // Blank rows are dropped, so a problem's index is the row's index on the page.
        if !blank(&row) {
            out.push(row);
        }
    }
    out
}

fn text(v: &Value, ptr: &str) -> String {
    match v.pointer(ptr) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn list(v: &Value, ptr: &str) -> Vec<Value> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn words_list(s: &str) -> Vec<String> {
    s.split([',', ';', '\n'])
        .flat_map(|part| {
            let p = part.trim();
            (!p.is_empty()).then(|| p.to_owned())
        })
        .collect()
}

/// Set `key` to `value`, or remove it when there is nothing to say.
fn set(obj: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            obj.insert(key.to_owned(), v);
        }
        None => {
            obj.remove(key);
        }
    }
}

fn non_empty(s: &str) -> Option<Value> {
    (!s.trim().is_empty()).then(|| Value::String(s.trim().to_owned()))
}

/// The object at `key` of `old` (to keep what the form does not show), or a new one.
fn object_of(old: &Value, key: &str) -> Map<String, Value> {
    old.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// `{…}` with the given members, or None when none has a value.
fn maybe_object(mut base: Map<String, Value>, members: &[(&str, Option<Value>)]) -> Option<Value> {
    for (k, v) in members {
        set(&mut base, k, v.clone());
    }
    let any_managed = members.iter().any(|(_, v)| v.is_some());
    any_managed.then_some(Value::Object(base))
}

impl DepositForm {
    pub fn from_fields(form: &Form) -> Self {
        Self {
            title: form.get("title"),
            description: form.get("description"),
            authors: rows(
                form,
                "author",
                |g| AuthorRow {
                    name: g("name"),
                    orcid: g("orcid"),
                    affiliation: g("affiliation"),
                    ror: g("ror"),
                },
                |r| r.name.is_empty() && r.orcid.is_empty() && r.affiliation.is_empty(),
            ),
            contact_name: form.get("contact_name"),
            contact_email: form.get("contact_email"),
            sample_name: form.get("sample_name"),
            organism: form.get("organism"),
            macromolecule: form.get("macromolecule"),
            facility: form.get("facility"),
            beamline: form.get("beamline"),
            collection_date: form.get("collection_date"),
            detector: form.get("detector"),
            wavelength: form.get("wavelength"),
            temperature: form.get("temperature"),
            technique: form.get("technique"),
            software: rows(
                form,
                "software",
                |g| SoftwareRow {
                    name: g("name"),
                    version: g("version"),
                },
                |r| r.name.is_empty() && r.version.is_empty(),
            ),
            article_doi: form.get("article_doi"),
            article_in_preparation: !form.get("article_in_preparation").is_empty(),
            article_title: form.get("article_title"),
            pdb_ids: form.get("pdb_ids"),
            licence: form.get("licence"),
            funding: rows(
                form,
                "funding",
                |g| FundingRow {
                    funder: g("funder"),
                    award: g("award"),
                    funder_id: g("funder_id"),
                },
                |r| r.funder.is_empty() && r.award.is_empty(),
            ),
            keywords: form.get("keywords"),
        }
    }

    /// The form filled in from a deposit, to edit it.
    pub fn from_deposit(metadata: &Value, facility: &Value) -> Self {
        let f = facility;
        Self {
            title: text(metadata, "/titles/0/title"),
            description: list(metadata, "/descriptions")
                .iter()
                .find(|d| d["descriptionType"] == "Abstract")
                .map(|d| text(d, "/description"))
                .unwrap_or_default(),
            authors: list(metadata, "/creators")
                .iter()
                .map(|c| AuthorRow {
                    name: text(c, "/name"),
                    orcid: list(c, "/nameIdentifiers")
                        .iter()
                        .find(|n| n["nameIdentifierScheme"] == "ORCID")
                        .map(|n| text(n, "/nameIdentifier"))
                        .unwrap_or_default(),
                    affiliation: text(c, "/affiliation/0/name"),
                    ror: Some(c)
                        .filter(|c| {
                            c.pointer("/affiliation/0/affiliationIdentifierScheme")
                                == Some(&json!("ROR"))
                        })
                        .map(|c| text(c, "/affiliation/0/affiliationIdentifier"))
                        .unwrap_or_default(),
                })
                .collect(),
            contact_name: text(f, "/contact/name"),
            contact_email: text(f, "/contact/email"),
            sample_name: text(f, "/sample/name"),
            organism: text(f, "/sample/organism"),
            macromolecule: text(f, "/sample/macromolecule"),
            facility: text(f, "/facility/name"),
            beamline: text(f, "/beamline/name"),
            collection_date: text(f, "/collection/start"),
            detector: text(f, "/collection/detector"),
            wavelength: text(f, "/collection/wavelength_angstrom"),
            temperature: text(f, "/collection/temperature_kelvin"),
            technique: text(f, "/collection/technique"),
            software: list(f, "/software")
                .iter()
                .map(|s| SoftwareRow {
                    name: text(s, "/name"),
                    version: text(s, "/version"),
                })
                .collect(),
            article_doi: text(f, "/article/doi"),
            article_in_preparation: f.pointer("/article/in_preparation") == Some(&json!(true)),
            article_title: text(f, "/article/title"),
            pdb_ids: list(f, "/pdb_ids")
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            licence: text(f, "/licence"),
            funding: list(f, "/funding")
                .iter()
                .map(|x| FundingRow {
                    funder: text(x, "/funder_name"),
                    award: text(x, "/award_number"),
                    funder_id: text(x, "/funder_id"),
                })
                .collect(),
            keywords: list(f, "/keywords")
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Empties a field the form could not read (a number that is not one).
    pub fn clear(&mut self, field: &str) {
        match field {
            "wavelength" => self.wavelength.clear(),
            "temperature" => self.temperature.clear(),
            _ => {}
        }
    }

    /// The deposit's metadata and facility profile: `old` with the form's fields
    /// written over it. Numbers that are not numbers are the form's own problems.
    pub fn to_deposit(
        &self,
        old_metadata: &Value,
        old_facility: &Value,
        publisher: &str,
        year: i32,
    ) -> Result<(Value, Value), FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut number = |field: &str, raw: &str| -> Option<Value> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            match raw.replace(',', ".").parse::<f64>() {
                Ok(n) if n.is_finite() && n > 0.0 => Some(json!(n)),
                _ => {
                    errors.insert(field.into(), format!("“{raw}” is not a positive number"));
                    None
                }
            }
        };
        let wavelength = number("wavelength", &self.wavelength);
        let temperature = number("temperature", &self.temperature);
        if !errors.is_empty() {
            return Err(errors);
        }

        let mut m = old_metadata.as_object().cloned().unwrap_or_default();
        set(
            &mut m,
            "titles",
            non_empty(&self.title).map(|t| json!([{ "title": t }])),
        );
        let mut descriptions: Vec<Value> = list(old_metadata, "/descriptions")
            .into_iter()
            .filter(|d| d["descriptionType"] != "Abstract")
            .collect();
        if let Some(d) = non_empty(&self.description) {
            descriptions.insert(
                0,
                json!({ "description": d, "descriptionType": "Abstract" }),
            );
        }
        set(
            &mut m,
            "descriptions",
            (!descriptions.is_empty()).then_some(Value::Array(descriptions)),
        );
        let creators: Vec<Value> = self.authors.iter().map(creator).collect();
        set(
            &mut m,
            "creators",
            (!creators.is_empty()).then_some(Value::Array(creators)),
        );
        m.entry("publisher")
            .or_insert_with(|| json!({ "name": publisher }));
        m.entry("publicationYear").or_insert_with(|| json!(year));
        m.entry("types")
            .or_insert_with(|| json!({ "resourceTypeGeneral": "Dataset" }));

        let mut f = old_facility.as_object().cloned().unwrap_or_default();
        let contact = maybe_object(
            object_of(old_facility, "contact"),
            &[
                (
                    "name",
                    non_empty(&self.contact_name).or_else(|| {
                        // An address without a name is still a contact; the name is asked for.
                        non_empty(&self.contact_email).map(|_| json!(""))
                    }),
                ),
                ("email", non_empty(&self.contact_email)),
            ],
        );
        set(&mut f, "contact", contact);
        let sample = maybe_object(
            object_of(old_facility, "sample"),
            &[
                ("name", non_empty(&self.sample_name)),
                ("organism", non_empty(&self.organism)),
                ("macromolecule", non_empty(&self.macromolecule)),
            ],
        );
        set(&mut f, "sample", sample);
        let facility = maybe_object(
            object_of(old_facility, "facility"),
            &[("name", non_empty(&self.facility))],
        );
        set(&mut f, "facility", facility);
        let beamline = maybe_object(
            object_of(old_facility, "beamline"),
            &[("name", non_empty(&self.beamline))],
        );
        set(&mut f, "beamline", beamline);
        let collection = maybe_object(
            object_of(old_facility, "collection"),
            &[
                ("start", non_empty(&self.collection_date)),
                ("detector", non_empty(&self.detector)),
                ("wavelength_angstrom", wavelength),
                ("temperature_kelvin", temperature),
                ("technique", non_empty(&self.technique)),
            ],
        );
        set(&mut f, "collection", collection);
        let software = merged_list(
            old_facility,
            "software",
            "name",
            self.software
                .iter()
                .map(|x| (x.name.as_str(), vec![("version", non_empty(&x.version))])),
        );
        set(&mut f, "software", software);
        let article = if self.article_in_preparation
            || !self.article_doi.is_empty()
            || !self.article_title.is_empty()
        {
            maybe_object(
                object_of(old_facility, "article"),
                &[
                    ("doi", non_empty(&self.article_doi)),
                    ("in_preparation", Some(json!(self.article_in_preparation))),
                    ("title", non_empty(&self.article_title)),
                ],
            )
        } else {
            None
        };
        set(&mut f, "article", article);
        let pdb: Vec<String> = self
            .pdb_ids
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        set(&mut f, "pdb_ids", (!pdb.is_empty()).then(|| json!(pdb)));
        set(&mut f, "licence", non_empty(&self.licence));
        let funding = merged_list(
            old_facility,
            "funding",
            "funder_name",
            self.funding.iter().map(|x| {
                (
                    x.funder.as_str(),
                    vec![
                        ("award_number", non_empty(&x.award)),
                        ("funder_id", non_empty(&x.funder_id)),
                    ],
                )
            }),
        );
        set(&mut f, "funding", funding);
        let keywords = words_list(&self.keywords);
        set(
            &mut f,
            "keywords",
            (!keywords.is_empty()).then(|| json!(keywords)),
        );
        Ok((Value::Object(m), Value::Object(f)))
    }

    /// Author rows to show, those filled in and a spare one, as form cells.
    pub fn author_rows(&self) -> Vec<Vec<Cell>> {
        padded(&self.authors)
            .iter()
            .enumerate()
            .map(|(i, a)| {
                vec![
                    Cell::new(
                        "author",
                        i,
                        "name",
                        format!("Author {} name", i + 1),
                        &a.name,
                    ),
                    Cell::new("author", i, "orcid", "ORCID iD".into(), &a.orcid),
                    Cell::new(
                        "author",
                        i,
                        "affiliation",
                        "Affiliation".into(),
                        &a.affiliation,
                    ),
                    Cell::hidden("author", i, "ror", &a.ror),
                ]
            })
            .collect()
    }

    pub fn software_rows(&self) -> Vec<Vec<Cell>> {
        padded(&self.software)
            .iter()
            .enumerate()
            .map(|(i, x)| {
                vec![
                    Cell::new("software", i, "name", "Program".into(), &x.name),
                    Cell::new("software", i, "version", "Version".into(), &x.version),
                ]
            })
            .collect()
    }

    pub fn funding_rows(&self) -> Vec<Vec<Cell>> {
        padded(&self.funding)
            .iter()
            .enumerate()
            .map(|(i, x)| {
                vec![
                    Cell::new("funding", i, "funder", "Funder".into(), &x.funder),
                    Cell::new("funding", i, "award", "Grant number".into(), &x.award),
                    Cell::hidden("funding", i, "funder_id", &x.funder_id),
                ]
            })
            .collect()
    }
}

/// One input of a repeated group, named `<group>-<row>-<field>`.
pub struct Cell {
    pub name: String,
    pub label: String,
    pub value: String,
    /// Kept in the page, not shown: an identifier the lookups fill in with the value
    /// chosen beside it.
    pub hidden: bool,
}

impl Cell {
    fn new(group: &str, row: usize, field: &str, label: String, value: &str) -> Self {
        Self {
            name: format!("{group}-{row}-{field}"),
            label,
            value: value.to_owned(),
            hidden: false,
        }
    }

    fn hidden(group: &str, row: usize, field: &str, value: &str) -> Self {
        Self {
            hidden: true,
            ..Self::new(group, row, field, String::new(), value)
        }
    }
}

/// A list of objects from form rows: each row's `key` and members, written over the
/// old object at the same place when it has the same key (so members the form does not
/// show, such as a funder id, stay). None when there are no rows.
fn merged_list<'r>(
    old: &Value,
    list_key: &str,
    key: &str,
    rows: impl Iterator<Item = (&'r str, Vec<(&'static str, Option<Value>)>)>,
) -> Option<Value> {
    let old_rows = list(old, &format!("/{list_key}"));
    let out: Vec<Value> = rows
        .enumerate()
        .map(|(i, (k, members))| {
            let mut o = old_rows
                .get(i)
                .filter(|o| o[key] == k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            o.insert(key.to_owned(), json!(k));
            for (m, v) in members {
                set(&mut o, m, v);
            }
            Value::Object(o)
        })
        .collect();
    (!out.is_empty()).then_some(Value::Array(out))
}

fn padded<T: Clone + Default>(rows: &[T]) -> Vec<T> {
    let mut out = rows.to_vec();
    out.extend(std::iter::repeat_with(T::default).take(SPARE_ROWS));
    out
}

fn creator(a: &AuthorRow) -> Value {
    let mut c = json!({ "name": a.name, "nameType": "Personal" });
    // "Family, Given" as the form asks: DataCite wants the parts too.
    if let Some((family, given)) = a.name.split_once(',') {
        c["familyName"] = json!(family.trim());
        c["givenName"] = json!(given.trim());
    }
    if !a.orcid.is_empty() {
        c["nameIdentifiers"] = json!([{
            "nameIdentifier": a.orcid,
            "nameIdentifierScheme": "ORCID",
            "schemeUri": "https://orcid.org"
        }]);
    }
    if !a.affiliation.is_empty() {
        c["affiliation"] = if a.ror.trim().is_empty() {
            json!([{ "name": a.affiliation }])
        } else {
            json!([{
                "name": a.affiliation,
                "affiliationIdentifier": a.ror.trim(),
                "affiliationIdentifierScheme": "ROR",
                "schemeUri": "https://ror.org"
            }])
        };
    }
    c
}

/// The form field a problem (a JSON Pointer into the deposit) belongs to.
pub fn field_of(pointer: &str) -> String {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let at = |i: usize| parts.get(i).copied().unwrap_or("");
    match (at(0), at(1)) {
        ("metadata", "titles") => "title".into(),
        ("metadata", "descriptions") => "description".into(),
        ("metadata", "creators") => match (at(2).parse::<usize>(), at(3)) {
            (Ok(i), "nameIdentifiers") => format!("author-{i}-orcid"),
            (Ok(i), "affiliation") => format!("author-{i}-affiliation"),
            (Ok(i), _) => format!("author-{i}-name"),
            _ => "author-0-name".into(),
        },
        ("facility", "contact") if at(2) == "email" => "contact_email".into(),
        ("facility", "contact") => "contact_name".into(),
        ("facility", "sample") => match at(2) {
            "organism" => "organism".into(),
            "macromolecule" => "macromolecule".into(),
            _ => "sample_name".into(),
        },
        ("facility", "facility") => "facility".into(),
        ("facility", "beamline") => "beamline".into(),
        ("facility", "collection") => match at(2) {
            "detector" => "detector".into(),
            "wavelength_angstrom" => "wavelength".into(),
            "temperature_kelvin" => "temperature".into(),
            "technique" => "technique".into(),
            _ => "collection_date".into(),
        },
        ("facility", "software") => {
            format!("software-{}-name", at(2).parse::<usize>().unwrap_or(0))
        }
        ("facility", "article") if at(2) == "title" => "article_title".into(),
        ("facility", "article") => "article_doi".into(),
        ("facility", "pdb_ids") => "pdb_ids".into(),
        ("facility", "licence") => "licence".into(),
        ("facility", "funding") => {
            format!("funding-{}-funder", at(2).parse::<usize>().unwrap_or(0))
        }
        ("facility", "keywords") => "keywords".into(),
        _ => String::new(),
    }
}

/// The licences offered, (SPDX id, name).
pub fn licences() -> &'static [(&'static str, &'static str)] {
    LICENCES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_filled_form_round_trips_through_the_deposit() {
        let f = DepositForm::from_fields(&form(&[
            ("title", "Lysozyme"),
            ("author-0-name", "Curie, Marie"),
            ("author-0-orcid", "0000-0002-1825-0097"),
            ("author-0-affiliation", ""),
            ("author-1-name", ""),
            ("author-1-orcid", ""),
            ("author-1-affiliation", ""),
            ("author-2-name", "Franklin, Rosalind"),
            ("wavelength", "0,9795"),
            ("pdb_ids", "1abc, 2XYZ"),
            ("keywords", "lysozyme; cryo"),
            ("article_in_preparation", "on"),
            ("software-0-name", "XDS"),
            ("software-0-version", "Jan 2026"),
        ]));
        assert_eq!(f.authors.len(), 2, "the blank row is dropped");
        let (m, fac) = f.to_deposit(&json!({}), &json!({}), "Arca", 2026).unwrap();
        assert_eq!(m["creators"][1]["name"], "Franklin, Rosalind");
        assert_eq!(m["creators"][0]["familyName"], "Curie");
        assert_eq!(m["publisher"]["name"], "Arca");
        assert_eq!(fac["collection"]["wavelength_angstrom"], 0.9795);
        assert_eq!(fac["pdb_ids"], json!(["1abc", "2XYZ"]));
        assert_eq!(fac["keywords"], json!(["lysozyme", "cryo"]));
        let back = DepositForm::from_deposit(&m, &fac);
        assert_eq!(back.authors[0].orcid, "0000-0002-1825-0097");
        assert_eq!(back.wavelength, "0.9795");
        assert!(back.article_in_preparation);
        assert_eq!(back.software[0].version, "Jan 2026");
    }

    #[test]
    fn what_the_form_does_not_show_is_kept() {
        let old_m = json!({"relatedIdentifiers": [{"relatedIdentifier": "10.1/x"}], "publicationYear": 2025});
        let old_f = json!({"beamline": {"name": "I04", "identifier": "10.5/pidinst"}});
        let f = DepositForm::from_fields(&form(&[("title", "T"), ("beamline", "I04-1")]));
        let (m, fac) = f.to_deposit(&old_m, &old_f, "Arca", 2026).unwrap();
        assert_eq!(m["relatedIdentifiers"][0]["relatedIdentifier"], "10.1/x");
        assert_eq!(m["publicationYear"], 2025);
        assert_eq!(
            fac["beamline"],
            json!({"name": "I04-1", "identifier": "10.5/pidinst"})
        );
    }

    #[test]
    fn a_number_that_is_not_one_is_named_and_nothing_is_built() {
        let f = DepositForm::from_fields(&form(&[("temperature", "cold")]));
        let errs = f
            .to_deposit(&json!({}), &json!({}), "Arca", 2026)
            .unwrap_err();
        assert!(errs["temperature"].contains("cold"));
    }

    #[test]
    fn problems_land_on_their_fields() {
        assert_eq!(
            field_of("/metadata/creators/1/nameIdentifiers/0/nameIdentifier"),
            "author-1-orcid"
        );
        assert_eq!(field_of("/metadata/titles"), "title");
        assert_eq!(field_of("/facility/collection/start"), "collection_date");
        assert_eq!(field_of("/facility/pdb_ids/0"), "pdb_ids");
        assert_eq!(field_of("/facility/article/doi"), "article_doi");
        assert_eq!(field_of("/metadata/publisher"), "");
    }
}
