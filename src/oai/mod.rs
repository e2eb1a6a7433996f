//! OAI-PMH 2.0 (the protocol harvesters such as DataCite, OpenAIRE and BASE speak): the
//! request grammar, resumption tokens, set membership and the response documents. Pure:
//! the harvest service feeds it records.

pub mod request;
pub mod response;
pub mod token;

use crate::metadata::datacite::Resource;
use crate::metadata::profile::Facility;

/// `oai:<namespace>:<version id>`.
pub fn identifier(namespace: &str, version_id: &str) -> String {
    format!("oai:{namespace}:{version_id}")
}

/// The version id inside an identifier of this repository.
pub fn version_of<'a>(namespace: &str, identifier: &'a str) -> Option<&'a str> {
    identifier
        .strip_prefix("oai:")?
        .strip_prefix(namespace)?
        .strip_prefix(':')
        .filter(|id| crate::model::ids::looks_like_id(id))
}

/// A set spec's component: lower-case letters and digits, other runs become '-'.
fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_owned()
}

/// The sets a record belongs to, as (spec, name): its facility, the facility's beamline
/// (a subset, as `facility:<f>:beamline:<b>`), and its resource type.
pub fn sets_of(record: &Resource, facility: &Facility) -> Vec<(String, String)> {
    let mut sets = Vec::new();
    if let Some(f) = &facility.facility {
        let fs = slug(&f.name);
        if !fs.is_empty() {
            sets.push((format!("facility:{fs}"), f.name.clone()));
            if let Some(b) = &facility.beamline {
                let bs = slug(&b.name);
                if !bs.is_empty() {
                    sets.push((
                        format!("facility:{fs}:beamline:{bs}"),
                        format!("{}, beamline {}", f.name, b.name),
                    ));
                }
            }
        }
    }
    if let Some(t) = &record.types {
        let general = t.resource_type_general.as_str();
        sets.push((
            format!("type:{}", slug(general)),
            format!("Resource type: {general}"),
        ));
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::profile::{Beamline, Organisation};

    #[test]
    fn identifiers_round_trip_and_refuse_others() {
        let id = crate::model::ids::new_id();
        let oai = identifier("arca.example.org", &id);
        assert_eq!(version_of("arca.example.org", &oai), Some(id.as_str()));
        assert_eq!(version_of("other.org", &oai), None);
        assert_eq!(
            version_of("arca.example.org", "oai:arca.example.org:x"),
            None
        );
    }

    #[test]
    fn sets_nest_beamlines_under_facilities() {
        let f = Facility {
            facility: Some(Organisation {
                name: "Diamond Light Source".into(),
                ror: None,
            }),
            beamline: Some(Beamline {
                name: "I04-1".into(),
                identifier: None,
            }),
            ..Default::default()
        };
        let r: Resource = serde_json::from_value(
            serde_json::json!({"types": {"resourceTypeGeneral": "Dataset"}}),
        )
        .unwrap();
        let specs: Vec<String> = sets_of(&r, &f).into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            specs,
            [
                "facility:diamond-light-source",
                "facility:diamond-light-source:beamline:i04-1",
                "type:dataset"
            ]
        );
    }
}
