//! OAI-PMH 2.0 response documents.

use super::request::{OaiError, Prefix, Verb};
use crate::metadata::datacite::Resource;
use crate::metadata::datacite::xml::resource_element;
use crate::metadata::dublin_core::dublin_core;
use crate::model::date::utc_seconds;
use quick_xml::escape::escape;
use std::fmt::Write;

/// What every response repeats: where and when, and what was asked.
pub struct Envelope<'a> {
    pub base_url: &'a str,
    pub now_ms: i64,
    pub args: &'a [(String, String)],
}

/// Identify's facts.
pub struct Repository<'a> {
    pub name: &'a str,
    pub admin_email: &'a str,
    pub earliest_ms: i64,
    pub identifier_namespace: &'a str,
    pub datacentre_symbol: &'a str,
}

/// One record: header, and metadata unless deleted.
pub struct Record {
    pub identifier: String,
    pub datestamp_ms: i64,
    pub sets: Vec<String>,
    pub deleted: bool,
    pub resource: Option<Resource>,
}

pub struct Resumption {
    /// Empty on the last page, which still reports the list's size.
    pub token: String,
    pub cursor: i64,
    /// Left out when it was not counted (more records than the count's bound).
    pub complete_list_size: Option<i64>,
}

fn open(env: &Envelope, verb_ok: bool) -> String {
    let mut o = String::with_capacity(16 * 1024);
    o.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\" ",
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ",
        "xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/ ",
        "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd\">\n"
    ));
    let _ = writeln!(
        o,
        "<responseDate>{}</responseDate>",
        utc_seconds(env.now_ms)
    );
    o.push_str("<request");
    // §3.6: after badVerb or badArgument, the request element carries no attributes.
    if verb_ok {
        for (k, v) in env.args {
            let _ = write!(o, " {}=\"{}\"", escape(k.as_str()), escape(v.as_str()));
        }
    }
    let _ = writeln!(o, ">{}</request>", escape(env.base_url));
    o
}

fn close(mut o: String) -> String {
    o.push_str("</OAI-PMH>\n");
    o
}

pub fn error(env: &Envelope, e: &OaiError) -> String {
    use super::request::ErrorCode::{BadArgument, BadVerb};
    let mut o = open(env, !matches!(e.code, BadVerb | BadArgument));
    let _ = writeln!(
        o,
        "<error code=\"{}\">{}</error>",
        e.code.as_str(),
        escape(e.message.as_str())
    );
    close(o)
}

pub fn identify(env: &Envelope, r: &Repository) -> String {
    let mut o = open(env, true);
    let _ = write!(
        o,
        "<Identify>\n<repositoryName>{}</repositoryName>\n<baseURL>{}</baseURL>\n\
         <protocolVersion>2.0</protocolVersion>\n<adminEmail>{}</adminEmail>\n\
         <earliestDatestamp>{}</earliestDatestamp>\n<deletedRecord>persistent</deletedRecord>\n\
         <granularity>YYYY-MM-DDThh:mm:ssZ</granularity>\n\
         <description><oai-identifier xmlns=\"http://www.openarchives.org/OAI/2.0/oai-identifier\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai-identifier \
         http://www.openarchives.org/OAI/2.0/oai-identifier.xsd\">\
         <scheme>oai</scheme><repositoryIdentifier>{}</repositoryIdentifier>\
         <delimiter>:</delimiter><sampleIdentifier>oai:{}:01JD5XPQ6Z0000000000000000</sampleIdentifier>\
         </oai-identifier></description>\n</Identify>\n",
        escape(r.name),
        escape(env.base_url),
        escape(r.admin_email),
        utc_seconds(r.earliest_ms),
        escape(r.identifier_namespace),
        escape(r.identifier_namespace),
    );
    close(o)
}

pub fn metadata_formats(env: &Envelope) -> String {
    let mut o = open(env, true);
    o.push_str(concat!(
        "<ListMetadataFormats>\n",
        "<metadataFormat><metadataPrefix>oai_dc</metadataPrefix>",
        "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>",
        "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace></metadataFormat>\n",
        "<metadataFormat><metadataPrefix>oai_datacite</metadataPrefix>",
        "<schema>http://schema.datacite.org/oai/oai-1.1/oai.xsd</schema>",
        "<metadataNamespace>http://schema.datacite.org/oai/oai-1.1/</metadataNamespace></metadataFormat>\n",
        "</ListMetadataFormats>\n"
    ));
    close(o)
}

pub fn sets(env: &Envelope, sets: &[(String, String)]) -> String {
    let mut o = open(env, true);
    o.push_str("<ListSets>\n");
    for (spec, name) in sets {
        let _ = writeln!(
            o,
            "<set><setSpec>{}</setSpec><setName>{}</setName></set>",
            escape(spec.as_str()),
            escape(name.as_str())
        );
    }
    o.push_str("</ListSets>\n");
    close(o)
}

fn header(o: &mut String, r: &Record) {
    let status = if r.deleted { " status=\"deleted\"" } else { "" };
    let _ = write!(
        o,
        "<header{status}><identifier>{}</identifier><datestamp>{}</datestamp>",
        escape(r.identifier.as_str()),
        utc_seconds(r.datestamp_ms)
    );
    for s in &r.sets {
        let _ = write!(o, "<setSpec>{}</setSpec>", escape(s.as_str()));
    }
    o.push_str("</header>\n");
}

fn metadata(o: &mut String, resource: &Resource, prefix: Prefix, repo: &Repository) {
    o.push_str("<metadata>\n");
    match prefix {
        Prefix::OaiDc => {
            o.push_str(concat!(
                "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" ",
                "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" ",
                "xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai_dc/ ",
                "http://www.openarchives.org/OAI/2.0/oai_dc.xsd\">\n"
            ));
            for (element, text) in dublin_core(resource) {
                let _ = writeln!(o, "<dc:{element}>{}</dc:{element}>", escape(text.as_str()));
            }
            o.push_str("</oai_dc:dc>\n");
        }
        Prefix::OaiDatacite => {
            let _ = write!(
                o,
                "<oai_datacite xmlns=\"http://schema.datacite.org/oai/oai-1.1/\" \
                 xsi:schemaLocation=\"http://schema.datacite.org/oai/oai-1.1/ \
                 http://schema.datacite.org/oai/oai-1.1/oai.xsd\">\n\
                 <schemaVersion>4.7</schemaVersion>\n<datacentreSymbol>{}</datacentreSymbol>\n<payload>\n",
                escape(repo.datacentre_symbol)
            );
            o.push_str(&resource_element(resource));
            o.push_str("\n</payload>\n</oai_datacite>\n");
        }
    }
    o.push_str("</metadata>\n");
}

fn record(o: &mut String, r: &Record, prefix: Prefix, repo: &Repository) {
    o.push_str("<record>\n");
    header(o, r);
    if let (false, Some(res)) = (r.deleted, &r.resource) {
        metadata(o, res, prefix, repo);
    }
    o.push_str("</record>\n");
}

pub fn get_record(env: &Envelope, repo: &Repository, r: &Record, prefix: Prefix) -> String {
    let mut o = open(env, true);
    o.push_str("<GetRecord>\n");
    record(&mut o, r, prefix, repo);
    o.push_str("</GetRecord>\n");
    close(o)
}

/// A page of ListIdentifiers or ListRecords.
pub fn list(
    env: &Envelope,
    repo: &Repository,
    verb: &Verb,
    records: &[Record],
    resumption: Option<&Resumption>,
) -> String {
    let (name, prefix, full) = match verb {
        Verb::ListRecords(a) => ("ListRecords", a.prefix, true),
        Verb::ListIdentifiers(a) => ("ListIdentifiers", a.prefix, false),
        _ => unreachable!("only list verbs page"),
    };
    let mut o = open(env, true);
    let _ = writeln!(o, "<{name}>");
    for r in records {
        if full {
            record(&mut o, r, prefix, repo);
        } else {
            header(&mut o, r);
        }
    }
    if let Some(t) = resumption {
        let size = t
            .complete_list_size
            .map(|n| format!(" completeListSize=\"{n}\""))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<resumptionToken{size} cursor=\"{}\">{}</resumptionToken>",
            t.cursor,
            escape(t.token.as_str())
        );
    }
    let _ = writeln!(o, "</{name}>");
    close(o)
}
