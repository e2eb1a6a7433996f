//! FAIR Signposting (Level 1 and 2): typed links from a landing page to its persistent
//! identifier, metadata, files, licence and authors, as an HTTP `Link` header (RFC 8288)
//! and as a linkset (RFC 9264, `application/linkset+json` and `application/linkset`).

use super::datacite::Resource;
use super::datacite::vocab::ResourceTypeGeneral;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
    pub media_type: Option<&'static str>,
}

fn link(href: impl Into<String>, rel: &'static str, media_type: Option<&'static str>) -> Link {
    Link {
        href: href.into(),
        rel,
        media_type,
    }
}

/// The links of a landing page. `landing` is its absolute URL, `files` the absolute
/// download URLs of its files (empty when none may be served).
pub fn landing_links(r: &Resource, landing: &str, doi_url: &str, files: &[String]) -> Vec<Link> {
    let mut links = Vec::new();
    if let Some(doi) = &r.doi {
        links.push(link(
            format!("https://doi.org/{}", doi.to_lowercase()),
            "cite-as",
            None,
        ));
    }
    for (format, media) in [
        ("datacite-xml", "application/vnd.datacite.datacite+xml"),
        ("jsonld", "application/ld+json"),
    ] {
        links.push(link(
            format!("{doi_url}?format={format}"),
            "describedby",
            Some(media),
        ));
    }
    for url in r.creators.iter().filter_map(|c| c.orcid_url()) {
        links.push(link(url, "author", None));
    }
    for uri in r.rights_list.iter().filter_map(|x| x.rights_uri.as_ref()) {
        // Records stored before URLs were checked may hold anything: only web URLs
        // become links.
        if crate::model::identifiers::is_web_url(uri) {
            links.push(link(uri.clone(), "license", None));
        }
    }
    let software = r
        .types
        .as_ref()
        .is_some_and(|t| t.resource_type_general == ResourceTypeGeneral::Software);
    let kind = if software {
        "https://schema.org/SoftwareSourceCode"
    } else {
        "https://schema.org/Dataset"
    };
    links.push(link(kind, "type", None));
    links.push(link("https://schema.org/AboutPage", "type", None));
    links.extend(files.iter().map(|f| item_link(f.clone())));
    links.push(link(
        format!("{landing}/linkset"),
        "linkset",
        Some("application/linkset+json"),
    ));
    links
}

/// A file of the dataset, as a link.
pub fn item_link(href: String) -> Link {
    link(href, "item", Some("application/octet-stream"))
}

/// What may not stand inside `<…>` in a `Link` header: it could end the target early
/// and start a link of its own (RFC 8288 §3). Non-ASCII is encoded as well.
const HREF_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `Link` header value (also the `application/linkset` body, with `anchor`).
pub fn header_value(links: &[Link], anchor: Option<&str>) -> String {
    links
        .iter()
        .map(|l| {
            let href = percent_encoding::utf8_percent_encode(&l.href, HREF_UNSAFE);
            let mut s = format!("<{href}>; rel=\"{}\"", l.rel);
            if let Some(t) = l.media_type {
                s.push_str(&format!("; type=\"{t}\""));
            }
            if let Some(a) = anchor {
                s.push_str(&format!("; anchor=\"{}\"", quote(a)));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(if anchor.is_some() { ",\n" } else { ", " })
}

/// The linkset document (RFC 9264 §4.2) for one anchor.
pub fn linkset_json(anchor: &str, links: &[Link]) -> Value {
    let mut context = Map::new();
    context.insert("anchor".into(), json!(anchor));
    for l in links.iter().filter(|l| l.rel != "linkset") {
        let mut target = json!({ "href": l.href });
        if let Some(t) = l.media_type {
            target["type"] = json!(t);
        }
        context
            .entry(l.rel)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("relations hold arrays")
            .push(target);
    }
    json!({ "linkset": [context] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_cannot_end_early_and_start_a_link_of_its_own() {
        let links = [link(
            "https://x.example/a>; rel=\"cite-as\", <https://evil.example/ é",
            "license",
            None,
        )];
        let h = header_value(&links, None);
        assert_eq!(h.matches('<').count(), 1, "{h}");
        assert_eq!(h.matches('>').count(), 1, "{h}");
        assert!(!h.contains("rel=\"cite-as\""), "{h}");
        assert!(h.contains("%3E;%20rel=%22cite-as%22"), "{h}");
        assert!(h.contains("%C3%A9"), "{h}");
    }

    #[test]
    fn links_cover_the_level_one_relations() {
        let r: Resource = serde_json::from_value(json!({
            "doi": "10.5072/ARCA.X",
            "creators": [{"name": "Curie, Marie", "nameIdentifiers": [
                {"nameIdentifier": "0000-0002-1825-0097", "nameIdentifierScheme": "ORCID"}]}],
            "rightsList": [{"rights": "CC BY 4.0", "rightsUri": "https://creativecommons.org/licenses/by/4.0/"}],
            "types": {"resourceTypeGeneral": "Dataset"}
        }))
        .unwrap();
        let links = landing_links(
            &r,
            "https://a.org/datasets/1",
            "https://a.org/doi/10.5072/arca.x",
            &["https://a.org/datasets/1/files/a%20b".into()],
        );
        let rels: Vec<&str> = links.iter().map(|l| l.rel).collect();
        for rel in [
            "cite-as",
            "describedby",
            "author",
            "license",
            "type",
            "item",
            "linkset",
        ] {
            assert!(rels.contains(&rel), "{rel}");
        }
        let h = header_value(&links, None);
        assert!(h.starts_with("<https://doi.org/10.5072/arca.x>; rel=\"cite-as\""));
        assert!(h.contains("<https://orcid.org/0000-0002-1825-0097>; rel=\"author\""));
        let set = linkset_json("https://a.org/datasets/1", &links);
        assert_eq!(
            set["linkset"][0]["item"][0]["type"],
            "application/octet-stream"
        );
        assert_eq!(
            set["linkset"][0]["describedby"].as_array().unwrap().len(),
            2
        );
        assert!(set["linkset"][0].get("linkset").is_none());
    }
}
