//! DataCite 4.7: every record Arca writes validates against the official XSD; reading
//! and writing the official examples loses nothing; JSON and XML carry the same model.
//! The schema is read from schemas/datacite/kernel-4.7 unless
//! ARCA_DATACITE_SCHEMA_DIR names another copy; validation uses xmllint.

use arca::metadata::datacite::model::*;
use arca::metadata::datacite::vocab::*;
use arca::metadata::datacite::xml::{Element, Node, from_xml, parse_tree, to_xml};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::path::PathBuf;
use std::process::Command;

#[path = "../support/mod.rs"]
#[allow(dead_code)]
mod support;
use support::schema_dir;

/// Validate files with xmllint against the 4.7 XSD; panics with its report otherwise.
fn validate(files: &[PathBuf]) {
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema_dir().join("metadata.xsd"))
        .args(files)
        .output()
        .expect("xmllint (Debian package libxml2-utils) is needed");
    assert!(
        out.status.success(),
        "XSD validation failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(schema_dir().join("example"))
        .expect("the official examples")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    v.sort();
    assert!(v.len() >= 17, "expected the 17 official 4.7 examples");
    v
}

/// A document as a comparable tree: trimmed text, no whitespace-only text, attributes
/// sorted, and top-level properties sorted (the schema lets them come in any order).
fn canonical(e: &Element, top: bool) -> String {
    let mut attrs: Vec<String> = e
        .attrs
        .iter()
        .filter(|(k, _)| k != "schemaLocation")
        .map(|(k, v)| format!("{k}={}", v.trim()))
        .collect();
    attrs.sort();
    let mut kids: Vec<String> = e
        .children
        .iter()
        .filter_map(|c| match c {
            Node::Text(t) if t.trim().is_empty() => None,
            // White space in text is layout (see Element::text).
            // Coordinates are xs:float: 4.897070 and 4.89707 are the same value.
            Node::Text(t) if e.name.ends_with("Longitude") || e.name.ends_with("Latitude") => Some(
                format!("'{}'", t.trim().parse::<f64>().expect("a coordinate")),
            ),
            Node::Text(t) => Some(format!(
                "'{}'",
                t.split_whitespace().collect::<Vec<_>>().join(" ")
            )),
            Node::Element(c) => Some(canonical(c, false)),
        })
        .collect();
    // The schema lets these come in any order (xs:all).
    if top
        || [
            "geoLocationPoint",
            "polygonPoint",
            "inPolygonPoint",
            "geoLocationBox",
        ]
        .contains(&e.name.as_str())
    {
        kids.sort();
    }
    format!("<{} {}>[{}]", e.name, attrs.join(" "), kids.join(","))
}

#[test]
fn the_official_examples_round_trip_without_loss_and_stay_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for path in examples() {
        let original = std::fs::read_to_string(&path).unwrap();
        let m1 = from_xml(&original).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let xml = to_xml(&m1);
        // Nothing the original says is missing from what Arca writes, and nothing added.
        let want = canonical(&parse_tree(&original).unwrap(), true);
        let got = canonical(&parse_tree(&xml).unwrap(), true);
        assert_eq!(got, want, "{} changed in the round trip", path.display());
        let m2 = from_xml(&xml).unwrap();
        assert_eq!(m1, m2, "{}", path.display());
        // DataCite JSON carries the same model.
        let json = serde_json::to_value(&m1).unwrap();
        let m3: Resource = serde_json::from_value(json).unwrap();
        assert_eq!(m1, m3, "{} through JSON", path.display());
        let out = dir.path().join(path.file_name().unwrap());
        std::fs::write(&out, xml).unwrap();
        written.push(out);
    }
    validate(&written);
}

#[test]
fn the_reader_understands_what_it_reads() {
    let full =
        std::fs::read_to_string(schema_dir().join("example/datacite-example-full-v4.xml")).unwrap();
    let r = from_xml(&full).unwrap();
    assert_eq!(r.doi.as_deref(), Some("10.82433/B09Z-4K37"));
    assert_eq!(r.creators[0].name_type, Some(NameType::Personal));
    assert_eq!(
        r.creators[0].affiliation[0]
            .affiliation_identifier_scheme
            .as_deref(),
        Some("ROR")
    );
    assert_eq!(r.creators[1].lang.as_deref(), Some("en"));
    assert_eq!(r.titles[1].title_type, Some(TitleType::Subtitle));
    assert_eq!(
        r.publisher
            .as_ref()
            .unwrap()
            .publisher_identifier
            .as_deref(),
        Some("https://ror.org/04z8jg394")
    );
    assert_eq!(
        r.types.as_ref().unwrap().resource_type_general,
        ResourceTypeGeneral::Dataset
    );
    assert!(
        r.contributors
            .iter()
            .any(|c| c.contributor_type == Some(ContributorType::HostingInstitution))
    );
    assert!(
        !r.geo_locations.is_empty()
            && !r.funding_references.is_empty()
            && !r.related_items.is_empty()
    );
    // Older 4.x records (plain publisher, no 4.5+ attributes) are read too.
    let old = r#"<resource xmlns="http://datacite.org/schema/kernel-4"><identifier identifierType="DOI">10.5072/X</identifier>
        <creators><creator><creatorName>Doe, J</creatorName></creator></creators><titles><title>T &amp; U</title></titles>
        <publisher>P</publisher><publicationYear>2017</publicationYear><resourceType resourceTypeGeneral="Dataset"/>
        <descriptions><description descriptionType="Abstract">one<br/>two</description></descriptions></resource>"#;
    let r = from_xml(old).unwrap();
    assert_eq!(r.titles[0].title, "T & U");
    assert_eq!(r.descriptions[0].description, "one\ntwo");
    assert_eq!(r.publisher.unwrap().name, "P");
}

#[test]
fn bad_records_are_refused_with_the_place_named() {
    let bad = r#"<resource xmlns="http://datacite.org/schema/kernel-4"><identifier identifierType="DOI">10.5072/X</identifier>
        <resourceType resourceTypeGeneral="Spreadsheet"/></resource>"#;
    let e = from_xml(bad).unwrap_err().to_string();
    assert!(
        e.contains("/resourceType/@resourceTypeGeneral") && e.contains("Spreadsheet"),
        "{e}"
    );
    assert!(from_xml("<resource><unclosed></resource>").is_err());
    assert!(
        from_xml("<html/>")
            .unwrap_err()
            .to_string()
            .contains("html")
    );
    let json =
        serde_json::json!({"titles": [{"title": "x"}], "types": {"resourceTypeGeneral": "Data"}});
    let e = serde_json::from_value::<Resource>(json)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("resourceTypeGeneral") && e.contains("Data"),
        "{e}"
    );
}

// ---------------------------------------------------------------- property test

fn pick<T: Copy>(rng: &mut StdRng, all: &[T]) -> T {
    all[rng.random_range(0..all.len())]
}

fn text(rng: &mut StdRng) -> String {
    const WORDS: &[&str] = &[
        "lysozyme",
        "Ångström",
        "β-lactamase",
        "<tag>",
        "a & b",
        "\"quoted\"",
        "naïve",
        "深度",
        "x'y",
        "100 K",
    ];
    let n = rng.random_range(1..4);
    (0..n)
        .map(|_| pick(rng, WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

fn maybe<T>(rng: &mut StdRng, f: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    rng.random_bool(0.5).then(|| f(rng))
}

fn uri(rng: &mut StdRng) -> String {
    format!("https://example.org/{}", rng.random_range(0..10_000))
}

fn lang(rng: &mut StdRng) -> String {
    pick(rng, &["en", "fr", "de-AT", "ja"]).to_owned()
}

fn person(rng: &mut StdRng, contributor: bool, full: bool) -> Creator {
    Creator {
        name: text(rng),
        name_type: maybe(rng, |r| pick(r, NameType::ALL)),
        lang: maybe(rng, lang),
        given_name: maybe(rng, text),
        family_name: maybe(rng, text),
        name_identifiers: if full {
            (0..rng.random_range(0..3))
                .map(|_| NameIdentifier {
                    name_identifier: format!(
                        "https://orcid.org/0000-0002-1825-{:04}",
                        rng.random_range(0..9999)
                    ),
                    name_identifier_scheme: "ORCID".into(),
                    scheme_uri: maybe(rng, |_| "https://orcid.org".to_owned()),
                })
                .collect()
        } else {
            vec![]
        },
        affiliation: if full {
            (0..rng.random_range(0..3))
                .map(|_| Affiliation {
                    name: text(rng),
                    affiliation_identifier: maybe(rng, uri),
                    affiliation_identifier_scheme: maybe(rng, |_| "ROR".to_owned()),
                    scheme_uri: maybe(rng, uri),
                })
                .collect()
        } else {
            vec![]
        },
        contributor_type: contributor.then(|| pick(rng, ContributorType::ALL)),
    }
}

fn title(rng: &mut StdRng) -> Title {
    Title {
        title: text(rng),
        title_type: maybe(rng, |r| pick(r, TitleType::ALL)),
        lang: maybe(rng, lang),
    }
}

fn point(rng: &mut StdRng) -> Point {
    Point {
        point_longitude: (rng.random_range(-180_000..=180_000) as f64) / 1000.0,
        point_latitude: (rng.random_range(-90_000..=90_000) as f64) / 1000.0,
    }
}

fn random_resource(rng: &mut StdRng) -> Resource {
    let n = |rng: &mut StdRng, max: usize| rng.random_range(0..=max);
    Resource {
        doi: Some(format!("10.5072/arca.{}", rng.random_range(0..1_000_000))),
        creators: (0..rng.random_range(1..4))
            .map(|_| person(rng, false, true))
            .collect(),
        titles: (0..rng.random_range(1..3)).map(|_| title(rng)).collect(),
        publisher: Some(Publisher {
            name: text(rng),
            publisher_identifier: maybe(rng, uri),
            publisher_identifier_scheme: maybe(rng, |_| "ROR".to_owned()),
            scheme_uri: maybe(rng, uri),
            lang: maybe(rng, lang),
        }),
        publication_year: Some(rng.random_range(1900..2100).to_string()),
        types: Some(Types {
            resource_type_general: pick(rng, ResourceTypeGeneral::ALL),
            resource_type: maybe(rng, text),
            schema_org: None,
            bibtex: None,
            citeproc: None,
            ris: None,
        }),
        subjects: (0..n(rng, 2))
            .map(|_| Subject {
                subject: text(rng),
                subject_scheme: maybe(rng, text),
                scheme_uri: maybe(rng, uri),
                value_uri: maybe(rng, uri),
                classification_code: maybe(rng, |r| r.random_range(0..999_999).to_string()),
                lang: maybe(rng, lang),
            })
            .collect(),
        contributors: (0..n(rng, 3)).map(|_| person(rng, true, true)).collect(),
        dates: (0..n(rng, 3))
            .map(|_| Date {
                date: format!(
                    "20{:02}-0{}-1{}",
                    rng.random_range(0..30),
                    rng.random_range(1..10),
                    rng.random_range(0..10)
                ),
                date_type: pick(rng, DateType::ALL),
                date_information: maybe(rng, text),
            })
            .collect(),
        language: maybe(rng, lang),
        alternate_identifiers: (0..n(rng, 2))
            .map(|_| AlternateIdentifier {
                alternate_identifier: text(rng),
                alternate_identifier_type: "Local accession".into(),
            })
            .collect(),
        related_identifiers: (0..n(rng, 3))
            .map(|_| RelatedIdentifier {
                related_identifier: format!("10.2210/pdb{}abc/pdb", rng.random_range(1..10)),
                related_identifier_type: pick(rng, RelatedIdentifierType::ALL),
                relation_type: pick(rng, RelationType::ALL),
                relation_type_information: maybe(rng, text),
                resource_type_general: maybe(rng, |r| pick(r, ResourceTypeGeneral::ALL)),
                related_metadata_scheme: maybe(rng, text),
                scheme_uri: maybe(rng, uri),
                scheme_type: maybe(rng, |_| "XSD".to_owned()),
            })
            .collect(),
        sizes: (0..n(rng, 2))
            .map(|_| format!("{} GB", rng.random_range(1..500)))
            .collect(),
        formats: (0..n(rng, 2))
            .map(|_| "application/x-hdf5".to_owned())
            .collect(),
        version: maybe(rng, |r| {
            format!("{}.{}", r.random_range(1..5), r.random_range(0..9))
        }),
        rights_list: (0..n(rng, 2))
            .map(|_| Rights {
                rights: text(rng),
                rights_uri: maybe(rng, uri),
                rights_identifier: maybe(rng, |_| "CC-BY-4.0".to_owned()),
                rights_identifier_scheme: maybe(rng, |_| "SPDX".to_owned()),
                scheme_uri: maybe(rng, |_| "https://spdx.org/licenses/".to_owned()),
                lang: maybe(rng, lang),
            })
            .collect(),
        descriptions: (0..n(rng, 2))
            .map(|_| Description {
                description: format!("{}\n{}", text(rng), text(rng)),
                description_type: pick(rng, DescriptionType::ALL),
                lang: maybe(rng, lang),
            })
            .collect(),
        geo_locations: (0..n(rng, 2))
            .map(|_| GeoLocation {
                geo_location_place: maybe(rng, text),
                geo_location_point: maybe(rng, point),
                geo_location_box: maybe(rng, |r| GeoBox {
                    west_bound_longitude: -10.5,
                    east_bound_longitude: 10.25,
                    south_bound_latitude: (r.random_range(-90..0)) as f64,
                    north_bound_latitude: 45.0,
                }),
                geo_location_polygon: (0..rng.random_range(0..2))
                    .map(|_| {
                        let first = point(rng);
                        let mut pts: Vec<Point> = (0..3).map(|_| point(rng)).collect();
                        pts.insert(0, first);
                        pts.push(first);
                        Polygon {
                            polygon_points: pts,
                            in_polygon_point: maybe(rng, point),
                        }
                    })
                    .collect(),
            })
            .filter(|g| {
                g.geo_location_place.is_some()
                    || g.geo_location_point.is_some()
                    || g.geo_location_box.is_some()
                    || !g.geo_location_polygon.is_empty()
            })
            .collect(),
        funding_references: (0..n(rng, 2))
            .map(|_| {
                let mut f = FundingReference {
                    funder_name: text(rng),
                    funder_identifier: maybe(rng, uri),
                    funder_identifier_type: None,
                    scheme_uri: None,
                    award_number: maybe(rng, |r| format!("EP/{}", r.random_range(0..99999))),
                    award_uri: None,
                    award_title: maybe(rng, text),
                };
                if f.funder_identifier.is_some() {
                    f.funder_identifier_type = Some(pick(rng, FunderIdentifierType::ALL));
                    f.scheme_uri = maybe(rng, uri);
                }
                if f.award_number.is_some() {
                    f.award_uri = maybe(rng, uri);
                }
                f
            })
            .collect(),
        related_items: (0..n(rng, 2))
            .map(|_| {
                let mut it = RelatedItem {
                    related_item_type: pick(rng, ResourceTypeGeneral::ALL),
                    relation_type: pick(rng, RelationType::ALL),
                    relation_type_information: maybe(rng, text),
                    related_item_identifier: maybe(rng, |r| RelatedItemIdentifier {
                        related_item_identifier: "10.1107/S2059798320000001".into(),
                        related_item_identifier_type: Some(RelatedIdentifierType::Doi),
                        related_metadata_scheme: maybe(r, text),
                        scheme_uri: maybe(r, uri),
                        scheme_type: None,
                    }),
                    creators: (0..rng.random_range(0..3))
                        .map(|_| person(rng, false, false))
                        .collect(),
                    titles: (0..rng.random_range(0..2)).map(|_| title(rng)).collect(),
                    publication_year: maybe(rng, |r| r.random_range(1950..2030).to_string()),
                    volume: maybe(rng, |r| r.random_range(1..80).to_string()),
                    issue: maybe(rng, |r| r.random_range(1..12).to_string()),
                    number: None,
                    number_type: None,
                    first_page: maybe(rng, |_| "101".to_owned()),
                    last_page: maybe(rng, |_| "110".to_owned()),
                    publisher: maybe(rng, text),
                    edition: maybe(rng, |_| "2".to_owned()),
                    contributors: (0..rng.random_range(0..2))
                        .map(|_| person(rng, true, false))
                        .collect(),
                };
                if rng.random_bool(0.5) {
                    it.number = Some(rng.random_range(1..99).to_string());
                    it.number_type = maybe(rng, |r| pick(r, NumberType::ALL));
                }
                it
            })
            .collect(),
    }
}

#[test]
fn random_records_are_valid_and_survive_xml_and_json() {
    let mut rng = StdRng::seed_from_u64(4_700);
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..400 {
        let r = random_resource(&mut rng);
        let xml = to_xml(&r);
        assert_eq!(
            from_xml(&xml).unwrap(),
            r,
            "record {i} changed through XML:\n{xml}"
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            serde_json::from_str::<Resource>(&json).unwrap(),
            r,
            "record {i} changed through JSON"
        );
        let path = dir.path().join(format!("r{i}.xml"));
        std::fs::write(&path, xml).unwrap();
        files.push(path);
    }
    validate(&files);
}
