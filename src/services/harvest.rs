//! OAI-PMH harvesting: only released versions exist for it (invariant 4), withdrawn ones
//! stay as deleted records, and every page is one keyset query.

use super::ServiceResult;
use super::records::record_and_profile;
use crate::db::{self, now_ms, published::Published};
use crate::oai;
use crate::oai::request::{ErrorCode, ListArgs, OaiError, Prefix, Verb};
use crate::oai::response::{Record, Resumption};
use crate::oai::token::Cursor;
use crate::oai::token::Token;

/// A harvest's first page counts its records (`completeListSize`) up to this many pages'
/// worth; a larger list is announced without its size, so no page costs more with the
/// archive's size.
const COUNTED_PAGES: i64 = 10;

/// What the protocol answers, ready to be written out.
pub enum OaiAnswer {
    Identify { earliest_ms: i64 },
    Formats,
    Sets(Vec<(String, String)>),
    Record(Box<Record>, Prefix),
    List(Vec<Record>, Option<Resumption>),
    Error(OaiError),
}

fn no_record(identifier: &str) -> OaiError {
    OaiError::new(
        ErrorCode::IdDoesNotExist,
        format!("'{identifier}' is not a record of this repository"),
    )
}
super::capability!(harvest);

impl Service<'_> {
    fn oai_record(&self, p: &Published, with_metadata: bool) -> ServiceResult<Record> {
        let ns = &self.config.repository.oai_namespace;
        let (resource, facility) = record_and_profile(&p.version)?;
        let sets = oai::sets_of(&resource, &facility)
            .into_iter()
            .map(|(spec, _)| spec)
            .collect();
        Ok(Record {
            identifier: oai::identifier(ns, &p.version.id),
            datestamp_ms: p.datestamp,
            sets,
            deleted: p.deleted,
            resource: (with_metadata && !p.deleted).then_some(resource),
        })
    }

    async fn published_by_identifier(&self, identifier: &str) -> ServiceResult<Option<Published>> {
        let Some(id) = oai::version_of(&self.config.repository.oai_namespace, identifier) else {
            return Ok(None);
        };
        let mut conn = self.db.conn().await?;
        Ok(db::published::get(&mut conn, id).await?)
    }

    /// Answer one OAI-PMH request. Protocol errors are answers, not failures.
    pub async fn oai(&self, verb: &Verb) -> ServiceResult<OaiAnswer> {
        Ok(match verb {
            Verb::Identify => {
                let mut conn = self.db.conn().await?;
                let earliest = db::published::earliest_datestamp(&mut conn).await?;
                OaiAnswer::Identify {
                    earliest_ms: earliest.unwrap_or_else(now_ms),
                }
            }
            Verb::ListMetadataFormats { identifier } => match identifier {
                Some(id) if self.published_by_identifier(id).await?.is_none() => {
                    OaiAnswer::Error(no_record(id))
                }
                _ => OaiAnswer::Formats,
            },
            Verb::ListSets => {
                let mut conn = self.db.conn().await?;
                let sets = db::published::sets(&mut conn).await?;
                if sets.is_empty() {
                    OaiAnswer::Error(OaiError::new(
                        ErrorCode::NoSetHierarchy,
                        "no record belongs to a set yet",
                    ))
                } else {
                    OaiAnswer::Sets(sets)
                }
            }
            Verb::GetRecord { identifier, prefix } => {
                match self.published_by_identifier(identifier).await? {
                    Some(p) => OaiAnswer::Record(Box::new(self.oai_record(&p, true)?), *prefix),
                    None => OaiAnswer::Error(no_record(identifier)),
                }
            }
            Verb::ListRecords(args) => self.oai_page(args, true).await?,
            Verb::ListIdentifiers(args) => self.oai_page(args, false).await?,
        })
    }

    async fn oai_page(&self, args: &ListArgs, full: bool) -> ServiceResult<OaiAnswer> {
        let mut conn = self.db.conn().await?;
        let set = args.set.as_deref();
        let (cursor, delivered, total) = match &args.resume {
            Some(t) => (t.cursor(), t.delivered, t.total),
            None => {
                if let Some(s) = set
                    && !db::published::set_exists(&mut conn, s).await?
                {
                    return Ok(OaiAnswer::Error(OaiError::new(
                        ErrorCode::NoRecordsMatch,
                        format!("no record is in set '{s}'"),
                    )));
                }
                // Counted once, on the first page, up to a bound (the count is optional
                // in OAI-PMH); later pages carry it in the token.
                let total = db::published::count_changed(
                    &mut conn,
                    set,
                    args.from,
                    args.until,
                    COUNTED_PAGES * self.config.repository.oai_page_size,
                )
                .await?;
                (Cursor::start(), 0, total)
            }
        };
        let page_size = self.config.repository.oai_page_size;
        let mut rows = db::published::changed(
            &mut conn,
            set,
            args.from,
            args.until,
            &cursor,
            page_size + 1,
        )
        .await?;
        drop(conn);
        let more = rows.len() as i64 > page_size;
        rows.truncate(page_size as usize);
        if rows.is_empty() && args.resume.is_none() {
            return Ok(OaiAnswer::Error(OaiError::new(
                ErrorCode::NoRecordsMatch,
                "no record matches these arguments",
            )));
        }
        let records = rows
            .iter()
            .map(|p| self.oai_record(p, full))
            .collect::<ServiceResult<Vec<_>>>()?;
        let sent = delivered + records.len() as i64;
        let resumption = match rows.last() {
            Some(last) if more => Some(Resumption {
                token: Token::after(
                    args,
                    &Cursor {
                        datestamp: last.datestamp,
                        version_id: last.version.id.to_string(),
                    },
                    sent,
                    total.map(|n| n.max(sent + 1)),
                )
                .encode(),
                cursor: delivered,
                complete_list_size: total.map(|n| n.max(sent + 1)),
            }),
            // The last page of a resumed list says so with an empty token, and knows the
            // list's size.
            _ if args.resume.is_some() => Some(Resumption {
                token: String::new(),
                cursor: delivered,
                complete_list_size: Some(sent),
            }),
            _ => None,
        };
        Ok(OaiAnswer::List(records, resumption))
    }
}
