//! DataCite's controlled lists, spelled exactly as in the 4.7 XSD (`include/*.xsd`).
//! Closed types: a value outside the list is an error naming the list.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a DataCite {list} (one of: {allowed})")]
pub struct NotInList {
    pub list: &'static str,
    pub value: String,
    pub allowed: String,
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $list:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = NotInList;
            fn from_str(s: &str) -> Result<Self, NotInList> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(NotInList {
                        list: $list,
                        value: s.to_owned(),
                        allowed: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

vocabulary!(ResourceTypeGeneral, "resourceTypeGeneral" {
    Audiovisual => "Audiovisual", Award => "Award", Book => "Book", BookChapter => "BookChapter",
    Collection => "Collection", ComputationalNotebook => "ComputationalNotebook",
    ConferencePaper => "ConferencePaper", ConferenceProceeding => "ConferenceProceeding",
    DataPaper => "DataPaper", Dataset => "Dataset", Dissertation => "Dissertation", Event => "Event",
    Image => "Image", Instrument => "Instrument", InteractiveResource => "InteractiveResource",
    Journal => "Journal", JournalArticle => "JournalArticle", Model => "Model",
    OutputManagementPlan => "OutputManagementPlan", PeerReview => "PeerReview",
    PhysicalObject => "PhysicalObject", Poster => "Poster", Preprint => "Preprint",
    Presentation => "Presentation", Project => "Project", Report => "Report", Service => "Service",
    Software => "Software", Sound => "Sound", Standard => "Standard",
    StudyRegistration => "StudyRegistration", Text => "Text", Workflow => "Workflow", Other => "Other",
});

vocabulary!(RelationType, "relationType" {
    IsCitedBy => "IsCitedBy", Cites => "Cites", IsSupplementTo => "IsSupplementTo",
    IsSupplementedBy => "IsSupplementedBy", IsContinuedBy => "IsContinuedBy", Continues => "Continues",
    IsNewVersionOf => "IsNewVersionOf", IsPreviousVersionOf => "IsPreviousVersionOf",
    IsPartOf => "IsPartOf", HasPart => "HasPart", IsPublishedIn => "IsPublishedIn",
    IsReferencedBy => "IsReferencedBy", References => "References", IsDocumentedBy => "IsDocumentedBy",
    Documents => "Documents", IsCompiledBy => "IsCompiledBy", Compiles => "Compiles",
    IsVariantFormOf => "IsVariantFormOf", IsOriginalFormOf => "IsOriginalFormOf",
    IsIdenticalTo => "IsIdenticalTo", HasMetadata => "HasMetadata", IsMetadataFor => "IsMetadataFor",
    Reviews => "Reviews", IsReviewedBy => "IsReviewedBy", IsDerivedFrom => "IsDerivedFrom",
    IsSourceOf => "IsSourceOf", Describes => "Describes", IsDescribedBy => "IsDescribedBy",
    HasVersion => "HasVersion", IsVersionOf => "IsVersionOf", Requires => "Requires",
    IsRequiredBy => "IsRequiredBy", Obsoletes => "Obsoletes", IsObsoletedBy => "IsObsoletedBy",
    Collects => "Collects", IsCollectedBy => "IsCollectedBy", HasTranslation => "HasTranslation",
    IsTranslationOf => "IsTranslationOf", Other => "Other",
});

vocabulary!(RelatedIdentifierType, "relatedIdentifierType" {
    Ark => "ARK", ArXiv => "arXiv", Bibcode => "bibcode", Cstr => "CSTR", Doi => "DOI", Ean13 => "EAN13",
    Eissn => "EISSN", Handle => "Handle", Igsn => "IGSN", Isbn => "ISBN", Issn => "ISSN", Istc => "ISTC",
    Lissn => "LISSN", Lsid => "LSID", Pmid => "PMID", Purl => "PURL", Raid => "RAiD", Rrid => "RRID",
    Swhid => "SWHID", Upc => "UPC", Url => "URL", Urn => "URN", W3id => "w3id",
});

vocabulary!(ContributorType, "contributorType" {
    ContactPerson => "ContactPerson", DataCollector => "DataCollector", DataCurator => "DataCurator",
    DataManager => "DataManager", Distributor => "Distributor", Editor => "Editor",
    HostingInstitution => "HostingInstitution", Other => "Other", Producer => "Producer",
    ProjectLeader => "ProjectLeader", ProjectManager => "ProjectManager", ProjectMember => "ProjectMember",
    RegistrationAgency => "RegistrationAgency", RegistrationAuthority => "RegistrationAuthority",
    RelatedPerson => "RelatedPerson", ResearchGroup => "ResearchGroup", RightsHolder => "RightsHolder",
    Researcher => "Researcher", Sponsor => "Sponsor", Supervisor => "Supervisor",
    Translator => "Translator", WorkPackageLeader => "WorkPackageLeader",
});

vocabulary!(DateType, "dateType" {
    Accepted => "Accepted", Available => "Available", Collected => "Collected",
    Copyrighted => "Copyrighted", Coverage => "Coverage", Created => "Created", Issued => "Issued",
    Other => "Other", Submitted => "Submitted", Updated => "Updated", Valid => "Valid",
    Withdrawn => "Withdrawn",
});

vocabulary!(DescriptionType, "descriptionType" {
    Abstract => "Abstract", Methods => "Methods", SeriesInformation => "SeriesInformation",
    TableOfContents => "TableOfContents", TechnicalInfo => "TechnicalInfo", Other => "Other",
});

vocabulary!(NameType, "nameType" { Organizational => "Organizational", Personal => "Personal" });

vocabulary!(NumberType, "numberType" {
    Article => "Article", Chapter => "Chapter", Report => "Report", Other => "Other",
});

vocabulary!(FunderIdentifierType, "funderIdentifierType" {
    Isni => "ISNI", Grid => "GRID", Ror => "ROR", CrossrefFunderId => "Crossref Funder ID", Other => "Other",
});

vocabulary!(TitleType, "titleType" {
    AlternativeTitle => "AlternativeTitle", Subtitle => "Subtitle",
    TranslatedTitle => "TranslatedTitle", Other => "Other",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_match_the_official_schema() {
        let dir = std::env::var("ARCA_DATACITE_SCHEMA_DIR").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/datacite/kernel-4.7").into()
        });
        let read = |f: &str| -> Vec<String> {
            let text =
                std::fs::read_to_string(format!("{dir}/include/{f}")).expect("the DataCite XSD");
            text.split("enumeration value=\"")
                .skip(1)
                .map(|s| s.split('"').next().unwrap().to_owned())
                .collect()
        };
        fn ours<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<String> {
            all.iter().map(|v| f(*v).to_owned()).collect()
        }
        assert_eq!(
            read("datacite-resourceType-v4.xsd"),
            ours(ResourceTypeGeneral::ALL, ResourceTypeGeneral::as_str)
        );
        assert_eq!(
            read("datacite-relationType-v4.xsd"),
            ours(RelationType::ALL, RelationType::as_str)
        );
        assert_eq!(
            read("datacite-relatedIdentifierType-v4.xsd"),
            ours(RelatedIdentifierType::ALL, RelatedIdentifierType::as_str)
        );
        assert_eq!(
            read("datacite-contributorType-v4.xsd"),
            ours(ContributorType::ALL, ContributorType::as_str)
        );
        assert_eq!(
            read("datacite-dateType-v4.xsd"),
            ours(DateType::ALL, DateType::as_str)
        );
        assert_eq!(
            read("datacite-descriptionType-v4.xsd"),
            ours(DescriptionType::ALL, DescriptionType::as_str)
        );
        assert_eq!(
            read("datacite-nameType-v4.xsd"),
            ours(NameType::ALL, NameType::as_str)
        );
        assert_eq!(
            read("datacite-numberType-v4.xsd"),
            ours(NumberType::ALL, NumberType::as_str)
        );
        assert_eq!(
            read("datacite-funderIdentifierType-v4.xsd"),
            ours(FunderIdentifierType::ALL, FunderIdentifierType::as_str)
        );
        assert_eq!(
            read("datacite-titleType-v4.xsd"),
            ours(TitleType::ALL, TitleType::as_str)
        );
        let e = "Dataset ".parse::<ResourceTypeGeneral>().unwrap_err();
        assert!(e.to_string().contains("resourceTypeGeneral"));
    }
}
