//! DataCite XML writing speed: `cargo bench --bench datacite_xml -- OUT.json [N]`
//! generates N typical beamline records, writes them as DataCite JSON to OUT.json (for the
//! Python reference in bench/datacite_xml.py) and prints records per second for Arca's
//! writer. bench/datacite_xml.sh runs both and prints the ratio.

use arca::metadata::datacite::model::*;
use arca::metadata::datacite::vocab::*;
use arca::metadata::datacite::xml::to_xml;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::time::Instant;

fn person(rng: &mut StdRng, i: usize, contributor: bool) -> Creator {
    Creator {
        name: format!("Family{i}, Given{}", rng.random_range(0..1000)),
        name_type: Some(NameType::Personal),
        given_name: Some(format!("Given{i}")),
        family_name: Some(format!("Family{i}")),
        name_identifiers: vec![NameIdentifier {
            name_identifier: "https://orcid.org/0000-0002-1825-0097".into(),
            name_identifier_scheme: "ORCID".into(),
            scheme_uri: Some("https://orcid.org".into()),
        }],
        affiliation: vec![Affiliation {
            name: "European Synchrotron Radiation Facility".into(),
            affiliation_identifier: Some("https://ror.org/02550n020".into()),
            affiliation_identifier_scheme: Some("ROR".into()),
            scheme_uri: Some("https://ror.org".into()),
        }],
        contributor_type: contributor.then_some(ContributorType::DataCollector),
        ..Default::default()
    }
}

fn record(rng: &mut StdRng, n: usize) -> Resource {
    let related = |id: String, rel: RelationType, general: ResourceTypeGeneral| RelatedIdentifier {
        related_identifier: id,
        related_identifier_type: RelatedIdentifierType::Doi,
        relation_type: rel,
        relation_type_information: None,
        resource_type_general: Some(general),
        related_metadata_scheme: None,
        scheme_uri: None,
        scheme_type: None,
    };
    Resource {
        doi: Some(format!("10.5072/arca.{n:08}")),
        creators: (0..rng.random_range(2..8)).map(|i| person(rng, i, false)).collect(),
        titles: vec![Title { title: format!("Diffraction data for structure {n} of lysozyme at 100 K"), title_type: None, lang: Some("en".into()) }],
        publisher: Some(Publisher { name: "Arca".into(), ..Default::default() }),
        publication_year: Some("2026".into()),
        types: Some(Types {
            resource_type_general: ResourceTypeGeneral::Dataset,
            resource_type: Some("X-ray diffraction images".into()),
            schema_org: None,
            bibtex: None,
            citeproc: None,
            ris: None,
        }),
        subjects: vec![Subject { subject: "X-ray diffraction".into(), ..Default::default() }],
        contributors: vec![person(rng, 9, true)],
        dates: vec![Date { date: "2026-03-01/2026-03-02".into(), date_type: DateType::Collected, date_information: None }],
        language: Some("en".into()),
        related_identifiers: vec![
            related("10.1107/S2059798320000001".into(), RelationType::IsSupplementTo, ResourceTypeGeneral::JournalArticle),
            related(format!("10.2210/pdb{}abc/pdb", rng.random_range(1..10)), RelationType::IsSourceOf, ResourceTypeGeneral::Dataset),
            related("10.1107/S2059798317017235".into(), RelationType::IsCompiledBy, ResourceTypeGeneral::Software),
        ],
        sizes: vec![format!("{} GB", rng.random_range(1..500))],
        formats: vec!["application/x-hdf5".into()],
        version: Some("1".into()),
        rights_list: vec![Rights {
            rights: "Creative Commons Attribution 4.0 International".into(),
            rights_uri: Some("https://spdx.org/licenses/CC-BY-4.0.html".into()),
            rights_identifier: Some("cc-by-4.0".into()),
            rights_identifier_scheme: Some("SPDX".into()),
            scheme_uri: Some("https://spdx.org/licenses/".into()),
            lang: None,
        }],
        descriptions: vec![Description {
            description: "Diffraction images & processed reflections; collected at 100 K with <1 Å resolution.".into(),
            description_type: DescriptionType::Abstract,
            lang: Some("en".into()),
        }],
        funding_references: vec![FundingReference {
            funder_name: "Wellcome Trust".into(),
            funder_identifier: Some("https://doi.org/10.13039/100010269".into()),
            funder_identifier_type: Some(FunderIdentifierType::CrossrefFunderId),
            award_number: Some(format!("{}", rng.random_range(100000..999999))),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let out = args
        .first()
        .cloned()
        .unwrap_or_else(|| "datacite-records.json".into());
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5000);
    let mut rng = StdRng::seed_from_u64(47);
    let records: Vec<Resource> = (0..n).map(|i| record(&mut rng, i)).collect();
    std::fs::write(&out, serde_json::to_vec(&records).unwrap()).unwrap();
    // Warm up, then write every record as many times as fits in about two seconds.
    let mut bytes = 0usize;
    for r in &records {
        bytes += to_xml(r).len();
    }
    let start = Instant::now();
    let mut written = 0usize;
    while start.elapsed().as_secs_f64() < 2.0 {
        for r in &records {
            bytes += std::hint::black_box(to_xml(r)).len();
        }
        written += records.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("arca_records_per_second {:.0}", written as f64 / secs);
    eprintln!(
        "({n} records, {} bytes of XML on average)",
        bytes / (written + n)
    );
}
