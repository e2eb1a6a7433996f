//! DataCite XML (kernel-4) to and from the model. The reader accepts schema versions 4.0
//! to 4.7 (one namespace, additions only); the writer produces 4.7 that validates
//! against the official XSD.

use super::model::*;
use super::vocab::NotInList;
use quick_xml::Writer;
use quick_xml::escape::escape;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use std::io::Write;
use std::str::FromStr;

pub const NAMESPACE: &str = "http://datacite.org/schema/kernel-4";
pub const SCHEMA_LOCATION: &str =
    "http://datacite.org/schema/kernel-4 https://schema.datacite.org/meta/kernel-4.7/metadata.xsd";

/// How deep elements may nest. DataCite XML is never deeper than about 6; the bound keeps
/// a hostile document (tens of thousands of nested elements) from exhausting the stack
/// in anything that walks or drops the tree.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML: {0}")]
    Syntax(String),
    #[error("elements nest deeper than the limit of {MAX_DEPTH} levels")]
    TooDeep,
    #[error("not DataCite kernel-4 metadata (root element '{0}')")]
    NotDataCite(String),
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

fn invalid(path: &str, message: impl Into<String>) -> XmlError {
    XmlError::Invalid {
        path: path.to_owned(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------- reading

/// An element: local name, attributes (`xml:lang` kept as "xml:lang"), children.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.name == name)
    }

    pub fn first(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// The text content. Line breaks and indentation in the source are layout: runs of
    /// white space become one space. Only `<br/>` is a line break (`\n`).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => s.push_str(&t.replace(char::is_whitespace, " ")),
                Node::Element(e) if e.name == "br" => s.push('\n'),
                Node::Element(e) => s.push_str(&e.text()),
            }
        }
        s.split('\n')
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
            .trim_matches('\n')
            .to_owned()
    }

    fn child_text(&self, name: &str) -> Option<String> {
        self.first(name)
            .map(Element::text)
            .filter(|t| !t.is_empty())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.split_once(':') {
        Some(("xml", rest)) => format!("xml:{rest}"),
        Some((_, rest)) => rest.to_owned(),
        None => s.into_owned(),
    }
}

fn start_element(e: &BytesStart<'_>) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| XmlError::Syntax(e.to_string()))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Syntax(e.to_string()))?;
        attrs.push((local(key.as_bytes()), value.into_owned()));
    }
    Ok(Element {
        name: local(e.name().as_ref()),
        attrs,
        children: Vec::new(),
    })
}

/// Parse XML into a tree of elements (comments and processing instructions dropped).
pub fn parse_tree(xml: &str) -> Result<Element, XmlError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let syntax = |e: quick_xml::Error| XmlError::Syntax(e.to_string());
    let push_text = |stack: &mut Vec<Element>, t: String| {
        if let Some(top) = stack.last_mut() {
            match top.children.last_mut() {
                Some(Node::Text(prev)) => prev.push_str(&t),
                _ => top.children.push(Node::Text(t)),
            }
        }
    };
    loop {
        match reader.read_event().map_err(syntax)? {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(start_element(&e)?)
            }
            Event::Empty(e) => {
                let el = start_element(&e)?;
                match stack.last_mut() {
                    Some(top) => top.children.push(Node::Element(el)),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(top) => top.children.push(Node::Element(done)),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                let t = t.decode().map_err(|e| XmlError::Syntax(e.to_string()))?;
                push_text(&mut stack, t.into_owned());
            }
            Event::CData(t) => {
                let t = t.decode().map_err(|e| XmlError::Syntax(e.to_string()))?;
                push_text(&mut stack, t.into_owned());
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(syntax)? {
                    Some(c) => c.to_string(),
                    None => match r
                        .decode()
                        .map_err(|e| XmlError::Syntax(e.to_string()))?
                        .as_ref()
                    {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => return Err(XmlError::Syntax(format!("unknown entity &{other};"))),
                    },
                };
                push_text(&mut stack, c);
            }
            Event::Eof => return Err(XmlError::Syntax("the document ends early".into())),
            _ => {}
        }
    }
}

fn vocab<T: FromStr<Err = NotInList>>(
    path: &str,
    v: Option<String>,
) -> Result<Option<T>, XmlError> {
    v.map(|s| {
        s.parse()
            .map_err(|e: NotInList| invalid(path, e.to_string()))
    })
    .transpose()
}

fn required<T: FromStr<Err = NotInList>>(path: &str, v: Option<String>) -> Result<T, XmlError> {
    vocab(path, v)?.ok_or_else(|| invalid(path, "is required"))
}

fn number(path: &str, e: &Element, name: &str) -> Result<f64, XmlError> {
    let t = e
        .child_text(name)
        .ok_or_else(|| invalid(&format!("{path}/{name}"), "is required"))?;
    t.parse()
        .map_err(|_| invalid(&format!("{path}/{name}"), format!("'{t}' is not a number")))
}

fn point(path: &str, e: &Element) -> Result<Point, XmlError> {
    Ok(Point {
        point_longitude: number(path, e, "pointLongitude")?,
        point_latitude: number(path, e, "pointLatitude")?,
    })
}

fn person(path: &str, e: &Element, name_el: &str) -> Result<Creator, XmlError> {
    let name = e
        .first(name_el)
        .ok_or_else(|| invalid(path, format!("<{name_el}> is required")))?;
    Ok(Creator {
        name: name.text(),
        name_type: vocab(&format!("{path}/@nameType"), name.attr("nameType"))?,
        lang: name.attr("xml:lang"),
        given_name: e.child_text("givenName"),
        family_name: e.child_text("familyName"),
        name_identifiers: e
            .all("nameIdentifier")
            .map(|n| NameIdentifier {
                name_identifier: n.text(),
                name_identifier_scheme: n.attr("nameIdentifierScheme").unwrap_or_default(),
                scheme_uri: n.attr("schemeURI"),
            })
            .collect(),
        affiliation: e
            .all("affiliation")
            .map(|a| Affiliation {
                name: a.text(),
                affiliation_identifier: a.attr("affiliationIdentifier"),
                affiliation_identifier_scheme: a.attr("affiliationIdentifierScheme"),
                scheme_uri: a.attr("schemeURI"),
            })
            .collect(),
        contributor_type: vocab(
            &format!("{path}/@contributorType"),
            e.attr("contributorType"),
        )?,
    })
}

fn people(
    path: &str,
    parent: &Element,
    list: &str,
    item: &str,
    name_el: &str,
) -> Result<Vec<Creator>, XmlError> {
    let Some(l) = parent.first(list) else {
        return Ok(Vec::new());
    };
    l.all(item)
        .enumerate()
        .map(|(i, e)| person(&format!("{path}/{list}/{item}[{i}]"), e, name_el))
        .collect()
}

fn titles(path: &str, parent: &Element) -> Result<Vec<Title>, XmlError> {
    let Some(l) = parent.first("titles") else {
        return Ok(Vec::new());
    };
    l.all("title")
        .enumerate()
        .map(|(i, t)| {
            Ok(Title {
                title: t.text(),
                title_type: vocab(
                    &format!("{path}/titles/title[{i}]/@titleType"),
                    t.attr("titleType"),
                )?,
                lang: t.attr("xml:lang"),
            })
        })
        .collect()
}

fn list<'a>(
    parent: &'a Element,
    list: &'a str,
    item: &'a str,
) -> impl Iterator<Item = (usize, &'a Element)> + 'a {
    parent
        .first(list)
        .into_iter()
        .flat_map(move |l| l.all(item))
        .enumerate()
}

fn related_item(path: &str, e: &Element) -> Result<RelatedItem, XmlError> {
    let number = e.first("number");
    Ok(RelatedItem {
        related_item_type: required(
            &format!("{path}/@relatedItemType"),
            e.attr("relatedItemType"),
        )?,
        relation_type: required(&format!("{path}/@relationType"), e.attr("relationType"))?,
        relation_type_information: e.attr("relationTypeInformation"),
        related_item_identifier: e
            .first("relatedItemIdentifier")
            .map(|i| {
                Ok::<_, XmlError>(RelatedItemIdentifier {
                    related_item_identifier: i.text(),
                    related_item_identifier_type: vocab(
                        &format!("{path}/relatedItemIdentifier/@relatedItemIdentifierType"),
                        i.attr("relatedItemIdentifierType"),
                    )?,
                    related_metadata_scheme: i.attr("relatedMetadataScheme"),
                    scheme_uri: i.attr("schemeURI"),
                    scheme_type: i.attr("schemeType"),
                })
            })
            .transpose()?,
        creators: people(path, e, "creators", "creator", "creatorName")?,
        titles: titles(path, e)?,
        publication_year: e.child_text("publicationYear"),
        volume: e.child_text("volume"),
        issue: e.child_text("issue"),
        number: number.map(Element::text).filter(|t| !t.is_empty()),
        number_type: vocab(
            &format!("{path}/number/@numberType"),
            number.and_then(|n| n.attr("numberType")),
        )?,
        first_page: e.child_text("firstPage"),
        last_page: e.child_text("lastPage"),
        publisher: e.child_text("publisher"),
        edition: e.child_text("edition"),
        contributors: people(path, e, "contributors", "contributor", "contributorName")?,
    })
}

/// Read a DataCite kernel-4 record (schema 4.0 to 4.7).
pub fn from_xml(xml: &str) -> Result<Resource, XmlError> {
    let root = parse_tree(xml)?;
    if root.name != "resource" {
        return Err(XmlError::NotDataCite(root.name));
    }
    let r = &root;
    let resource_type = r.first("resourceType");
    let publisher = r.first("publisher");
    Ok(Resource {
        doi: r.first("identifier").map(Element::text).filter(|t| !t.is_empty()),
        creators: people("", r, "creators", "creator", "creatorName")?,
        titles: titles("", r)?,
        publisher: publisher.map(|p| Publisher {
            name: p.text(),
            publisher_identifier: p.attr("publisherIdentifier"),
            publisher_identifier_scheme: p.attr("publisherIdentifierScheme"),
            scheme_uri: p.attr("schemeURI"),
            lang: p.attr("xml:lang"),
        }),
        publication_year: r.child_text("publicationYear"),
        types: resource_type
            .map(|t| {
                Ok::<_, XmlError>(Types {
                    resource_type_general: required("/resourceType/@resourceTypeGeneral", t.attr("resourceTypeGeneral"))?,
                    resource_type: Some(t.text()).filter(|s| !s.is_empty()),
                    schema_org: None,
                    bibtex: None,
                    citeproc: None,
                    ris: None,
                })
            })
            .transpose()?,
        subjects: list(r, "subjects", "subject")
            .map(|(_, s)| Subject {
                subject: s.text(),
                subject_scheme: s.attr("subjectScheme"),
                scheme_uri: s.attr("schemeURI"),
                value_uri: s.attr("valueURI"),
                classification_code: s.attr("classificationCode"),
                lang: s.attr("xml:lang"),
            })
            .collect(),
        contributors: people("", r, "contributors", "contributor", "contributorName")?,
        dates: list(r, "dates", "date")
            .map(|(i, d)| {
                Ok(Date {
                    date: d.text(),
                    date_type: required(&format!("/dates/date[{i}]/@dateType"), d.attr("dateType"))?,
                    date_information: d.attr("dateInformation"),
                })
            })
            .collect::<Result<_, XmlError>>()?,
        language: r.child_text("language"),
        alternate_identifiers: list(r, "alternateIdentifiers", "alternateIdentifier")
            .map(|(_, a)| AlternateIdentifier {
                alternate_identifier: a.text(),
                alternate_identifier_type: a.attr("alternateIdentifierType").unwrap_or_default(),
            })
            .collect(),
        related_identifiers: list(r, "relatedIdentifiers", "relatedIdentifier")
            .map(|(i, x)| {
                let p = format!("/relatedIdentifiers/relatedIdentifier[{i}]");
                Ok(RelatedIdentifier {
                    related_identifier: x.text(),
                    related_identifier_type: required(&format!("{p}/@relatedIdentifierType"), x.attr("relatedIdentifierType"))?,
                    relation_type: required(&format!("{p}/@relationType"), x.attr("relationType"))?,
                    relation_type_information: x.attr("relationTypeInformation"),
                    resource_type_general: vocab(&format!("{p}/@resourceTypeGeneral"), x.attr("resourceTypeGeneral"))?,
                    related_metadata_scheme: x.attr("relatedMetadataScheme"),
                    scheme_uri: x.attr("schemeURI"),
                    scheme_type: x.attr("schemeType"),
                })
            })
            .collect::<Result<_, XmlError>>()?,
        sizes: list(r, "sizes", "size").map(|(_, s)| s.text()).collect(),
        formats: list(r, "formats", "format").map(|(_, s)| s.text()).collect(),
        version: r.child_text("version"),
        rights_list: list(r, "rightsList", "rights")
            .map(|(_, x)| Rights {
                rights: x.text(),
                rights_uri: x.attr("rightsURI"),
                rights_identifier: x.attr("rightsIdentifier"),
                rights_identifier_scheme: x.attr("rightsIdentifierScheme"),
                scheme_uri: x.attr("schemeURI"),
                lang: x.attr("xml:lang"),
            })
            .collect(),
        descriptions: list(r, "descriptions", "description")
            .map(|(i, d)| {
                Ok(Description {
                    description: d.text(),
                    description_type: required(&format!("/descriptions/description[{i}]/@descriptionType"), d.attr("descriptionType"))?,
                    lang: d.attr("xml:lang"),
                })
            })
            .collect::<Result<_, XmlError>>()?,
        geo_locations: list(r, "geoLocations", "geoLocation")
            .map(|(i, g)| {
                let p = format!("/geoLocations/geoLocation[{i}]");
                Ok(GeoLocation {
                    geo_location_place: g.child_text("geoLocationPlace"),
                    geo_location_point: g.first("geoLocationPoint").map(|e| point(&p, e)).transpose()?,
                    geo_location_box: g
                        .first("geoLocationBox")
                        .map(|b| {
                            Ok::<_, XmlError>(GeoBox {
                                west_bound_longitude: number(&p, b, "westBoundLongitude")?,
                                east_bound_longitude: number(&p, b, "eastBoundLongitude")?,
                                south_bound_latitude: number(&p, b, "southBoundLatitude")?,
                                north_bound_latitude: number(&p, b, "northBoundLatitude")?,
                            })
                        })
                        .transpose()?,
                    geo_location_polygon: g
                        .all("geoLocationPolygon")
                        .map(|poly| {
                            Ok(Polygon {
                                polygon_points: poly.all("polygonPoint").map(|e| point(&p, e)).collect::<Result<_, _>>()?,
                                in_polygon_point: poly.first("inPolygonPoint").map(|e| point(&p, e)).transpose()?,
                            })
                        })
                        .collect::<Result<_, XmlError>>()?,
                })
            })
            .collect::<Result<_, XmlError>>()?,
        funding_references: list(r, "fundingReferences", "fundingReference")
            .map(|(i, f)| {
                let award = f.first("awardNumber");
                let funder = f.first("funderIdentifier");
                Ok(FundingReference {
                    funder_name: f.child_text("funderName").unwrap_or_default(),
                    funder_identifier: funder.map(Element::text).filter(|t| !t.is_empty()),
                    funder_identifier_type: vocab(
                        &format!("/fundingReferences/fundingReference[{i}]/funderIdentifier/@funderIdentifierType"),
                        funder.and_then(|x| x.attr("funderIdentifierType")),
                    )?,
                    scheme_uri: funder.and_then(|x| x.attr("schemeURI")),
                    award_number: award.map(Element::text).filter(|t| !t.is_empty()),
                    award_uri: award.and_then(|a| a.attr("awardURI")),
                    award_title: f.child_text("awardTitle"),
                })
            })
            .collect::<Result<_, XmlError>>()?,
        related_items: list(r, "relatedItems", "relatedItem")
            .map(|(i, e)| related_item(&format!("/relatedItems/relatedItem[{i}]"), e))
            .collect::<Result<_, XmlError>>()?,
    })
}

// ---------------------------------------------------------------- writing

struct Out {
    w: Writer<Vec<u8>>,
}

type Attrs<'a> = &'a [(&'a str, Option<&'a str>)];

fn tag<'a>(name: &'a str, attrs: Attrs<'a>) -> BytesStart<'a> {
    let mut s = BytesStart::new(name);
    for (k, v) in attrs {
        if let Some(v) = v {
            s.push_attribute((*k, *v));
        }
    }
    s
}

impl Out {
    fn open(&mut self, name: &str, attrs: Attrs<'_>) {
        self.w
            .write_event(Event::Start(tag(name, attrs)))
            .expect("writing to memory");
    }

    fn close(&mut self, name: &str) {
        self.w
            .write_event(Event::End(BytesEnd::new(name)))
            .expect("writing to memory");
    }

    fn leaf(&mut self, name: &str, attrs: Attrs<'_>, text: &str) {
        self.w
            .create_element(name)
            .with_attributes(attrs.iter().filter_map(|(k, v)| v.map(|v| (*k, v))))
            .write_text_content(BytesText::new(text))
            .expect("writing to memory");
    }

    fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, &[], t);
        }
    }

    /// Mixed content: line breaks become `<br/>`, written inline so no indentation
    /// leaks into the text.
    fn with_breaks(&mut self, name: &str, attrs: Attrs<'_>, text: &str) {
        self.w.write_indent().expect("writing to memory");
        let mut raw = format!("<{name}");
        for (k, v) in attrs {
            if let Some(v) = v {
                raw.push_str(&format!(" {k}=\"{}\"", escape(*v)));
            }
        }
        raw.push('>');
        let parts: Vec<String> = text.split('\n').map(|p| escape(p).into_owned()).collect();
        raw.push_str(&parts.join("<br/>"));
        raw.push_str(&format!("</{name}>"));
        self.w
            .get_mut()
            .write_all(raw.as_bytes())
            .expect("writing to memory");
    }

    fn point(&mut self, name: &str, p: &Point) {
        self.open(name, &[]);
        self.leaf("pointLongitude", &[], &p.point_longitude.to_string());
        self.leaf("pointLatitude", &[], &p.point_latitude.to_string());
        self.close(name);
    }

    fn person(&mut self, item: &str, name_el: &str, c: &Creator, full: bool) {
        let ct = c.contributor_type.map(|t| t.as_str());
        self.open(item, &[("contributorType", ct)]);
        let nt = c.name_type.map(|t| t.as_str());
        self.leaf(
            name_el,
            &[("nameType", nt), ("xml:lang", c.lang.as_deref())],
            &c.name,
        );
        self.opt("givenName", c.given_name.as_deref());
        self.opt("familyName", c.family_name.as_deref());
        if full {
            for n in &c.name_identifiers {
                self.leaf(
                    "nameIdentifier",
                    &[
                        ("nameIdentifierScheme", Some(&n.name_identifier_scheme)),
                        ("schemeURI", n.scheme_uri.as_deref()),
                    ],
                    &n.name_identifier,
                );
            }
            for a in &c.affiliation {
                self.leaf(
                    "affiliation",
                    &[
                        ("affiliationIdentifier", a.affiliation_identifier.as_deref()),
                        (
                            "affiliationIdentifierScheme",
                            a.affiliation_identifier_scheme.as_deref(),
                        ),
                        ("schemeURI", a.scheme_uri.as_deref()),
                    ],
                    &a.name,
                );
            }
        }
        self.close(item);
    }

    fn people(
        &mut self,
        list: &str,
        item: &str,
        name_el: &str,
        people: &[Creator],
        full: bool,
        always: bool,
    ) {
        if people.is_empty() && !always {
            return;
        }
        self.open(list, &[]);
        for p in people {
            self.person(item, name_el, p, full);
        }
        self.close(list);
    }

    fn titles(&mut self, titles: &[Title], always: bool) {
        if titles.is_empty() && !always {
            return;
        }
        self.open("titles", &[]);
        for t in titles {
            let tt = t.title_type.map(|t| t.as_str());
            self.leaf(
                "title",
                &[("titleType", tt), ("xml:lang", t.lang.as_deref())],
                &t.title,
            );
        }
        self.close("titles");
    }

    fn list<T>(&mut self, name: &str, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        if items.is_empty() {
            return;
        }
        self.open(name, &[]);
        for i in items {
            each(self, i);
        }
        self.close(name);
    }
}

/// Write a record as DataCite 4.7 XML. Valid against the XSD when the record has what
/// the schema requires (DOI, creators, titles, publisher, year, resource type).
pub fn to_xml(r: &Resource) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        resource_element(r)
    )
}

/// The `<resource>` element alone, to embed in another document (OAI-PMH, BagIt).
pub fn resource_element(r: &Resource) -> String {
    let mut o = Out {
        w: Writer::new_with_indent(Vec::new(), b' ', 2),
    };
    o.open(
        "resource",
        &[
            ("xmlns", Some(NAMESPACE)),
            (
                "xmlns:xsi",
                Some("http://www.w3.org/2001/XMLSchema-instance"),
            ),
            ("xsi:schemaLocation", Some(SCHEMA_LOCATION)),
        ],
    );
    o.leaf(
        "identifier",
        &[("identifierType", Some("DOI"))],
        r.doi.as_deref().unwrap_or_default(),
    );
    o.people(
        "creators",
        "creator",
        "creatorName",
        &r.creators,
        true,
        true,
    );
    o.titles(&r.titles, true);
    if let Some(p) = &r.publisher {
        o.leaf(
            "publisher",
            &[
                ("xml:lang", p.lang.as_deref()),
                ("publisherIdentifier", p.publisher_identifier.as_deref()),
                (
                    "publisherIdentifierScheme",
                    p.publisher_identifier_scheme.as_deref(),
                ),
                ("schemeURI", p.scheme_uri.as_deref()),
            ],
            &p.name,
        );
    }
    o.opt("publicationYear", r.publication_year.as_deref());
    if let Some(t) = &r.types {
        o.leaf(
            "resourceType",
            &[(
                "resourceTypeGeneral",
                Some(t.resource_type_general.as_str()),
            )],
            t.resource_type.as_deref().unwrap_or_default(),
        );
    }
    o.list("subjects", &r.subjects, |o, s| {
        o.leaf(
            "subject",
            &[
                ("subjectScheme", s.subject_scheme.as_deref()),
                ("schemeURI", s.scheme_uri.as_deref()),
                ("valueURI", s.value_uri.as_deref()),
                ("classificationCode", s.classification_code.as_deref()),
                ("xml:lang", s.lang.as_deref()),
            ],
            &s.subject,
        )
    });
    o.people(
        "contributors",
        "contributor",
        "contributorName",
        &r.contributors,
        true,
        false,
    );
    o.list("dates", &r.dates, |o, d| {
        o.leaf(
            "date",
            &[
                ("dateType", Some(d.date_type.as_str())),
                ("dateInformation", d.date_information.as_deref()),
            ],
            &d.date,
        )
    });
    o.opt("language", r.language.as_deref());
    o.list("alternateIdentifiers", &r.alternate_identifiers, |o, a| {
        o.leaf(
            "alternateIdentifier",
            &[(
                "alternateIdentifierType",
                Some(&a.alternate_identifier_type),
            )],
            &a.alternate_identifier,
        )
    });
    o.list("relatedIdentifiers", &r.related_identifiers, |o, x| {
        o.leaf(
            "relatedIdentifier",
            &[
                (
                    "relatedIdentifierType",
                    Some(x.related_identifier_type.as_str()),
                ),
                ("relationType", Some(x.relation_type.as_str())),
                (
                    "relationTypeInformation",
                    x.relation_type_information.as_deref(),
                ),
                (
                    "resourceTypeGeneral",
                    x.resource_type_general.map(|t| t.as_str()),
                ),
                (
                    "relatedMetadataScheme",
                    x.related_metadata_scheme.as_deref(),
                ),
                ("schemeURI", x.scheme_uri.as_deref()),
                ("schemeType", x.scheme_type.as_deref()),
            ],
            &x.related_identifier,
        )
    });
    o.list("sizes", &r.sizes, |o, s| o.leaf("size", &[], s));
    o.list("formats", &r.formats, |o, s| o.leaf("format", &[], s));
    o.opt("version", r.version.as_deref());
    o.list("rightsList", &r.rights_list, |o, x| {
        o.leaf(
            "rights",
            &[
                ("xml:lang", x.lang.as_deref()),
                ("rightsURI", x.rights_uri.as_deref()),
                ("rightsIdentifier", x.rights_identifier.as_deref()),
                (
                    "rightsIdentifierScheme",
                    x.rights_identifier_scheme.as_deref(),
                ),
                ("schemeURI", x.scheme_uri.as_deref()),
            ],
            &x.rights,
        )
    });
    o.list("descriptions", &r.descriptions, |o, d| {
        o.with_breaks(
            "description",
            &[
                ("descriptionType", Some(d.description_type.as_str())),
                ("xml:lang", d.lang.as_deref()),
            ],
            &d.description,
        )
    });
    o.list("geoLocations", &r.geo_locations, |o, g| {
        o.open("geoLocation", &[]);
        o.opt("geoLocationPlace", g.geo_location_place.as_deref());
        if let Some(p) = &g.geo_location_point {
            o.point("geoLocationPoint", p);
        }
        if let Some(b) = &g.geo_location_box {
            o.open("geoLocationBox", &[]);
            o.leaf(
                "westBoundLongitude",
                &[],
                &b.west_bound_longitude.to_string(),
            );
            o.leaf(
                "eastBoundLongitude",
                &[],
                &b.east_bound_longitude.to_string(),
            );
            o.leaf(
                "southBoundLatitude",
                &[],
                &b.south_bound_latitude.to_string(),
            );
            o.leaf(
                "northBoundLatitude",
                &[],
                &b.north_bound_latitude.to_string(),
            );
            o.close("geoLocationBox");
        }
        for poly in &g.geo_location_polygon {
            o.open("geoLocationPolygon", &[]);
            for p in &poly.polygon_points {
                o.point("polygonPoint", p);
            }
            if let Some(p) = &poly.in_polygon_point {
                o.point("inPolygonPoint", p);
            }
            o.close("geoLocationPolygon");
        }
        o.close("geoLocation");
    });
    o.list("fundingReferences", &r.funding_references, |o, f| {
        o.open("fundingReference", &[]);
        o.leaf("funderName", &[], &f.funder_name);
        if let Some(id) = &f.funder_identifier {
            let t = f
                .funder_identifier_type
                .map(|t| t.as_str())
                .unwrap_or("Other");
            o.leaf(
                "funderIdentifier",
                &[
                    ("funderIdentifierType", Some(t)),
                    ("schemeURI", f.scheme_uri.as_deref()),
                ],
                id,
            );
        }
        if let Some(n) = &f.award_number {
            o.leaf("awardNumber", &[("awardURI", f.award_uri.as_deref())], n);
        }
        o.opt("awardTitle", f.award_title.as_deref());
        o.close("fundingReference");
    });
    o.list("relatedItems", &r.related_items, |o, it| {
        o.open(
            "relatedItem",
            &[
                ("relatedItemType", Some(it.related_item_type.as_str())),
                ("relationType", Some(it.relation_type.as_str())),
                (
                    "relationTypeInformation",
                    it.relation_type_information.as_deref(),
                ),
            ],
        );
        if let Some(id) = &it.related_item_identifier {
            o.leaf(
                "relatedItemIdentifier",
                &[
                    (
                        "relatedItemIdentifierType",
                        id.related_item_identifier_type.map(|t| t.as_str()),
                    ),
                    (
                        "relatedMetadataScheme",
                        id.related_metadata_scheme.as_deref(),
                    ),
                    ("schemeURI", id.scheme_uri.as_deref()),
                    ("schemeType", id.scheme_type.as_deref()),
                ],
                &id.related_item_identifier,
            );
        }
        o.people(
            "creators",
            "creator",
            "creatorName",
            &it.creators,
            false,
            false,
        );
        o.titles(&it.titles, false);
        o.opt("publicationYear", it.publication_year.as_deref());
        o.opt("volume", it.volume.as_deref());
        o.opt("issue", it.issue.as_deref());
        if let Some(n) = &it.number {
            o.leaf(
                "number",
                &[("numberType", it.number_type.map(|t| t.as_str()))],
                n,
            );
        }
        o.opt("firstPage", it.first_page.as_deref());
        o.opt("lastPage", it.last_page.as_deref());
        o.opt("publisher", it.publisher.as_deref());
        o.opt("edition", it.edition.as_deref());
        o.people(
            "contributors",
            "contributor",
            "contributorName",
            &it.contributors,
            false,
            false,
        );
        o.close("relatedItem");
    });
    o.close("resource");
    let mut out = o.w.into_inner();
    out.push(b'\n');
    String::from_utf8(out).expect("the writer writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        // Deep enough that building, walking or dropping the tree would overflow a
        // thread's stack; refused early, with the limit named.
        let n = 200_000;
        let xml = format!(
            "<resource xmlns=\"{NAMESPACE}\">{}{}</resource>",
            "<a>".repeat(n),
            "</a>".repeat(n)
        );
        let e = from_xml(&xml).unwrap_err();
        assert_eq!(e, XmlError::TooDeep);
        assert!(e.to_string().contains("limit of 32 levels"), "{e}");
        // At the limit is fine (as far as nesting goes).
        let ok = format!(
            "<r>{}{}</r>",
            "<a>".repeat(MAX_DEPTH - 1),
            "</a>".repeat(MAX_DEPTH - 1)
        );
        assert!(parse_tree(&ok).is_ok());
    }
}
