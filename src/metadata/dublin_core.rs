//! Simple Dublin Core (`oai_dc`) from a DataCite record, following DataCite's own
//! crosswalk: every harvester understands it, so it carries what it can and no more.

use super::datacite::model::Resource;
use super::datacite::vocab::DateType;

/// The `dc:` elements of a record, in schema order, as (element, text).
pub fn dublin_core(r: &Resource) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for t in &r.titles {
        out.push(("title", t.title.clone()));
    }
    for c in &r.creators {
        out.push(("creator", c.name.clone()));
    }
    for s in &r.subjects {
        out.push(("subject", s.subject.clone()));
    }
    for d in &r.descriptions {
        out.push(("description", d.description.clone()));
    }
    if let Some(p) = &r.publisher {
        out.push(("publisher", p.name.clone()));
    }
    for c in &r.contributors {
        out.push(("contributor", c.name.clone()));
    }
    if let Some(y) = &r.publication_year {
        out.push(("date", y.clone()));
    }
    for d in &r.dates {
        if d.date_type != DateType::Other {
            out.push(("date", format!("{}: {}", d.date_type.as_str(), d.date)));
        }
    }
    if let Some(t) = &r.types {
        out.push(("type", t.resource_type_general.as_str().to_owned()));
        if let Some(rt) = &t.resource_type {
            out.push(("type", rt.clone()));
        }
    }
    for f in &r.formats {
        out.push(("format", f.clone()));
    }
    if let Some(d) = &r.doi {
        out.push((
            "identifier",
            format!("https://doi.org/{}", d.to_lowercase()),
        ));
    }
    for a in &r.alternate_identifiers {
        out.push(("identifier", a.alternate_identifier.clone()));
    }
    if let Some(l) = &r.language {
        out.push(("language", l.clone()));
    }
    for rel in &r.related_identifiers {
        out.push((
            "relation",
            format!(
                "{}:{}",
                rel.related_identifier_type.as_str().to_lowercase(),
                rel.related_identifier
            ),
        ));
    }
    for g in &r.geo_locations {
        if let Some(place) = &g.geo_location_place {
            out.push(("coverage", place.clone()));
        }
    }
    for rights in &r.rights_list {
        out.push(("rights", rights.rights.clone()));
        if let Some(uri) = &rights.rights_uri {
            out.push(("rights", uri.clone()));
        }
    }
    // Dublin Core wants its elements grouped by the order of its schema's sequence.
    const ORDER: [&str; 15] = [
        "title",
        "creator",
        "subject",
        "description",
        "publisher",
        "contributor",
        "date",
        "type",
        "format",
        "identifier",
        "source",
        "language",
        "relation",
        "coverage",
        "rights",
    ];
    out.sort_by_key(|(e, _)| ORDER.iter().position(|o| o == e));
    out
}
