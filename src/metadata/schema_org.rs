//! schema.org JSON-LD for a record: `Dataset` (Google Dataset Search reads it from landing
//! pages) or `SoftwareSourceCode`, as DOI content negotiation's `application/ld+json`.

use super::citation::Name;
use super::datacite::model::Resource;
use super::datacite::vocab::{DescriptionType, RelationType, ResourceTypeGeneral};
use serde_json::{Value, json};

pub fn schema_org(r: &Resource) -> Value {
    let software = r
        .types
        .as_ref()
        .is_some_and(|t| t.resource_type_general == ResourceTypeGeneral::Software);
    let people = |list: &[super::datacite::model::Creator]| -> Vec<Value> {
        list.iter()
            .map(|c| {
                let mut p = match Name::of(c) {
                    Name::Person { family, given } => {
                        let mut p =
                            json!({ "@type": "Person", "name": c.name, "familyName": family });
                        if let Some(g) = given {
                            p["givenName"] = json!(g);
                        }
                        p
                    }
                    Name::Organisation(o) => json!({ "@type": "Organization", "name": o }),
                };
                if let Some(url) = c.orcid_url() {
                    p["@id"] = json!(url);
                }
                if let Some(a) = c.affiliation.first() {
                    p["affiliation"] = json!({ "@type": "Organization", "name": a.name });
                }
                p
            })
            .collect()
    };
    let mut o = json!({
        "@context": "https://schema.org",
        "@type": if software { "SoftwareSourceCode" } else { "Dataset" },
        "name": super::citation::title(r),
        "creator": people(&r.creators),
    });
    if let Some(d) = &r.doi {
        let url = format!("https://doi.org/{}", d.to_lowercase());
        o["@id"] = json!(url);
        o["identifier"] = json!(url);
        o["url"] = json!(url);
    }
    if let Some(a) = r
        .descriptions
        .iter()
        .find(|d| d.description_type == DescriptionType::Abstract)
    {
        o["description"] = json!(a.description);
    }
    if let Some(p) = &r.publisher {
        o["publisher"] = json!({ "@type": "Organization", "name": p.name });
    }
    if let Some(y) = &r.publication_year {
        o["datePublished"] = json!(y);
    }
    if let Some(v) = &r.version {
        o["version"] = json!(v);
    }
    if !r.subjects.is_empty() {
        o["keywords"] = json!(
            r.subjects
                .iter()
                .map(|s| s.subject.clone())
                .collect::<Vec<_>>()
        );
    }
    if let Some(l) = r
        .rights_list
        .iter()
        .filter_map(|x| x.rights_uri.clone())
        .find(|u| crate::model::identifiers::is_web_url(u))
    {
        o["license"] = json!(l);
    }
    if !r.contributors.is_empty() {
        o["contributor"] = json!(people(&r.contributors));
    }
    let cites: Vec<Value> = r
        .related_identifiers
        .iter()
        .filter(|x| x.relation_type == RelationType::IsSupplementTo)
        .map(|x| json!({ "@id": format!("https://doi.org/{}", x.related_identifier) }))
        .collect();
    // The article the data supplement (Google Dataset Search reads it as `citation`).
    if !cites.is_empty() {
        o["citation"] = json!(cites);
    }
    // Funders and awards, as schema.org's Grant (Google Dataset Search reads `funding`).
    let funding: Vec<Value> = r
        .funding_references
        .iter()
        .map(|f| {
            let mut funder = json!({ "@type": "Organization", "name": f.funder_name });
            if let Some(id) = f
                .funder_identifier
                .as_ref()
                .filter(|u| crate::model::identifiers::is_web_url(u))
            {
                funder["@id"] = json!(id);
            }
            let mut g = json!({ "@type": "Grant", "funder": funder });
            if let Some(n) = &f.award_number {
                g["identifier"] = json!(n);
            }
            if let Some(t) = &f.award_title {
                g["name"] = json!(t);
            }
            if let Some(u) = f
                .award_uri
                .as_ref()
                .filter(|u| crate::model::identifiers::is_web_url(u))
            {
                g["url"] = json!(u);
            }
            g
        })
        .collect();
    if !funding.is_empty() {
        o["funding"] = json!(funding);
    }
    if let Some(l) = &r.language {
        o["inLanguage"] = json!(l);
    }
    o
}
