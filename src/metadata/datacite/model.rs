//! Every property of the DataCite Metadata Schema 4.7. Serde gives DataCite JSON (the
//! REST API's attribute names); `xml` maps the same structs to and from kernel-4 XML.

use super::vocab::*;
use serde::{Deserialize, Deserializer, Serialize};

fn is_empty<T>(v: &[T]) -> bool {
    v.is_empty()
}

/// Years and coordinates come as numbers or strings in DataCite JSON.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Sn {
        S(String),
        N(serde_json::Number),
    }
    Ok(Option::<Sn>::deserialize(d)?.map(|v| match v {
        Sn::S(s) => s,
        Sn::N(n) => n.to_string(),
    }))
}

fn float_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s =
        string_or_number(d)?.ok_or_else(|| serde::de::Error::custom("a coordinate is required"))?;
    s.trim()
        .parse()
        .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a number")))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub creators: Vec<Creator>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub titles: Vec<Title>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Publisher>,
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub publication_year: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Types>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub subjects: Vec<Subject>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub contributors: Vec<Creator>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub dates: Vec<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Alternate identifiers (DataCite JSON calls them `identifiers`).
    #[serde(default, rename = "identifiers", skip_serializing_if = "is_empty")]
    pub alternate_identifiers: Vec<AlternateIdentifier>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub related_identifiers: Vec<RelatedIdentifier>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub sizes: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub formats: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub rights_list: Vec<Rights>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub descriptions: Vec<Description>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub geo_locations: Vec<GeoLocation>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub funding_references: Vec<FundingReference>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub related_items: Vec<RelatedItem>,
}

/// A creator, or a contributor when `contributor_type` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Creator {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_type: Option<NameType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub name_identifiers: Vec<NameIdentifier>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub affiliation: Vec<Affiliation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contributor_type: Option<ContributorType>,
}

impl FundingReference {
    /// The grant as pages say it: "Funder: Award title (number)".
    pub fn in_words(&self) -> String {
        let award = match (&self.award_title, &self.award_number) {
            (Some(t), Some(n)) => Some(format!("{t} ({n})")),
            (Some(t), None) => Some(t.clone()),
            (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        };
        match award {
            Some(a) => format!("{}: {a}", self.funder_name),
            None => self.funder_name.clone(),
        }
    }
}

impl Creator {
    /// The person's ORCID iD as its canonical URL, if they have a valid one. Whatever a
    /// record says, only a checked iD becomes a link.
    pub fn orcid_url(&self) -> Option<String> {
        self.name_identifiers
            .iter()
            .filter(|n| n.name_identifier_scheme.eq_ignore_ascii_case("ORCID"))
            .find_map(|n| crate::model::identifiers::Orcid::parse(&n.name_identifier).ok())
            .map(|o| o.as_str().to_owned())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameIdentifier {
    pub name_identifier: String,
    pub name_identifier_scheme: String,
    #[serde(default, rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Affiliation {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliation_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliation_identifier_scheme: Option<String>,
    #[serde(default, rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Title {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_type: Option<TitleType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Publisher {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_identifier_scheme: Option<String>,
    #[serde(rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl<'de> Deserialize<'de> for Publisher {
    /// DataCite JSON before 4.5 gives the publisher as a plain string.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Full {
            name: String,
            #[serde(default)]
            publisher_identifier: Option<String>,
            #[serde(default)]
            publisher_identifier_scheme: Option<String>,
            #[serde(default, rename = "schemeUri")]
            scheme_uri: Option<String>,
            #[serde(default)]
            lang: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Name(String),
            Full(Full),
        }
        Ok(match Either::deserialize(d)? {
            Either::Name(name) => Publisher {
                name,
                ..Default::default()
            },
            Either::Full(f) => Publisher {
                name: f.name,
                publisher_identifier: f.publisher_identifier,
                publisher_identifier_scheme: f.publisher_identifier_scheme,
                scheme_uri: f.scheme_uri,
                lang: f.lang,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Types {
    pub resource_type_general: ResourceTypeGeneral,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Mappings DataCite JSON carries for other vocabularies; not part of the XML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bibtex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citeproc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ris: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subject {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_scheme: Option<String>,
    #[serde(default, rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
    #[serde(default, rename = "valueUri", skip_serializing_if = "Option::is_none")]
    pub value_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Date {
    pub date: String,
    pub date_type: DateType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_information: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlternateIdentifier {
    #[serde(rename = "identifier")]
    pub alternate_identifier: String,
    #[serde(rename = "identifierType")]
    pub alternate_identifier_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelatedIdentifier {
    pub related_identifier: String,
    pub related_identifier_type: RelatedIdentifierType,
    pub relation_type: RelationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_type_information: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type_general: Option<ResourceTypeGeneral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_metadata_scheme: Option<String>,
    #[serde(default, rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rights {
    #[serde(default)]
    pub rights: String,
    #[serde(default, rename = "rightsUri", skip_serializing_if = "Option::is_none")]
    pub rights_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_identifier_scheme: Option<String>,
    #[serde(default, rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// A description; line breaks (`<br/>` in XML) are `\n`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Description {
    pub description: String,
    pub description_type: DescriptionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Point {
    #[serde(deserialize_with = "float_or_string")]
    pub point_longitude: f64,
    #[serde(deserialize_with = "float_or_string")]
    pub point_latitude: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeoBox {
    #[serde(deserialize_with = "float_or_string")]
    pub west_bound_longitude: f64,
    #[serde(deserialize_with = "float_or_string")]
    pub east_bound_longitude: f64,
    #[serde(deserialize_with = "float_or_string")]
    pub south_bound_latitude: f64,
    #[serde(deserialize_with = "float_or_string")]
    pub north_bound_latitude: f64,
}

/// A polygon: four or more points (the first repeated last) and optionally a point
/// inside it, to say which side is meant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Polygon {
    pub polygon_points: Vec<Point>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_polygon_point: Option<Point>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeoLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_location_place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_location_point: Option<Point>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_location_box: Option<GeoBox>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub geo_location_polygon: Vec<Polygon>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FundingReference {
    pub funder_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funder_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funder_identifier_type: Option<FunderIdentifierType>,
    #[serde(default, rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub award_number: Option<String>,
    #[serde(default, rename = "awardUri", skip_serializing_if = "Option::is_none")]
    pub award_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub award_title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelatedItemIdentifier {
    pub related_item_identifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_item_identifier_type: Option<RelatedIdentifierType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_metadata_scheme: Option<String>,
    #[serde(default, rename = "schemeUri", skip_serializing_if = "Option::is_none")]
    pub scheme_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme_type: Option<String>,
}

/// A related work described in place (a journal, a book) rather than by identifier only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelatedItem {
    pub related_item_type: ResourceTypeGeneral,
    pub relation_type: RelationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_type_information: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_item_identifier: Option<RelatedItemIdentifier>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub creators: Vec<Creator>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub titles: Vec<Title>,
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub publication_year: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_type: Option<NumberType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub contributors: Vec<Creator>,
}
