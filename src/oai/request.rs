//! OAI-PMH 2.0 requests: the six verbs, their arguments, and the protocol's error codes
//! for everything else (§3.1.1, §3.6).

use super::token::Token;
use crate::model::date::{is_iso_date, parse_utc_seconds};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    OaiDc,
    OaiDatacite,
}

impl Prefix {
    pub const ALL: [Prefix; 2] = [Prefix::OaiDc, Prefix::OaiDatacite];

    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::OaiDc => "oai_dc",
            Prefix::OaiDatacite => "oai_datacite",
        }
    }

    pub fn parse(s: &str) -> Result<Self, OaiError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                OaiError::new(
                    ErrorCode::CannotDisseminateFormat,
                    format!("'{s}' is not offered: use oai_dc or oai_datacite"),
                )
            })
    }
}

/// The arguments of ListIdentifiers and ListRecords, whether first given or resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListArgs {
    pub prefix: Prefix,
    pub set: Option<String>,
    /// Inclusive bounds in Unix ms.
    pub from: i64,
    pub until: i64,
    /// Where a resumed list carries on, and what the first page counted.
    pub resume: Option<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Identify,
    ListMetadataFormats { identifier: Option<String> },
    ListSets,
    GetRecord { identifier: String, prefix: Prefix },
    ListIdentifiers(ListArgs),
    ListRecords(ListArgs),
}

impl Verb {
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Identify => "Identify",
            Verb::ListMetadataFormats { .. } => "ListMetadataFormats",
            Verb::ListSets => "ListSets",
            Verb::GetRecord { .. } => "GetRecord",
            Verb::ListIdentifiers(_) => "ListIdentifiers",
            Verb::ListRecords(_) => "ListRecords",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
    NoMetadataFormats,
    NoSetHierarchy,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadArgument => "badArgument",
            ErrorCode::BadResumptionToken => "badResumptionToken",
            ErrorCode::BadVerb => "badVerb",
            ErrorCode::CannotDisseminateFormat => "cannotDisseminateFormat",
            ErrorCode::IdDoesNotExist => "idDoesNotExist",
            ErrorCode::NoRecordsMatch => "noRecordsMatch",
            ErrorCode::NoMetadataFormats => "noMetadataFormats",
            ErrorCode::NoSetHierarchy => "noSetHierarchy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct OaiError {
    pub code: ErrorCode,
    pub message: String,
}

impl OaiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        OaiError {
            code,
            message: message.into(),
        }
    }
}

fn bad(message: impl Into<String>) -> OaiError {
    OaiError::new(ErrorCode::BadArgument, message)
}

/// A `from` or `until` argument at day or second granularity, as inclusive Unix ms bounds.
fn parse_bound(name: &str, value: &str, end_of: bool) -> Result<(i64, bool), OaiError> {
    if is_iso_date(value) {
        let start = parse_utc_seconds(&format!("{value}T00:00:00Z"))
            .ok_or_else(|| bad(format!("'{name}' is not a real date: {value}")))?;
        return Ok((
            if end_of {
                start + 86_400_000 - 1
            } else {
                start
            },
            false,
        ));
    }
    let ms = parse_utc_seconds(value).ok_or_else(|| {
        bad(format!(
            "'{name}' must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, got '{value}'"
        ))
    })?;
    Ok((if end_of { ms + 999 } else { ms }, true))
}

/// Parse a request's arguments (query string or form body, in order, repeats kept).
pub fn parse(pairs: &[(String, String)]) -> Result<Verb, OaiError> {
    let mut args: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, v) in pairs {
        if args.insert(k, v).is_some() {
            let code = if k == "verb" {
                ErrorCode::BadVerb
            } else {
                ErrorCode::BadArgument
            };
            return Err(OaiError::new(
                code,
                format!("'{k}' is given more than once"),
            ));
        }
    }
    let verb = args
        .remove("verb")
        .ok_or_else(|| OaiError::new(ErrorCode::BadVerb, "no verb given"))?;
    let allowed: &[&str] = match verb {
        "Identify" => &[],
        "ListMetadataFormats" => &["identifier"],
        "ListSets" => &["resumptionToken"],
        "GetRecord" => &["identifier", "metadataPrefix"],
        "ListIdentifiers" | "ListRecords" => {
            &["metadataPrefix", "set", "from", "until", "resumptionToken"]
        }
        other => {
            return Err(OaiError::new(
                ErrorCode::BadVerb,
                format!("'{other}' is not an OAI-PMH verb"),
            ));
        }
    };
    if let Some(k) = args.keys().find(|k| !allowed.contains(k)) {
        return Err(bad(format!("{verb} does not take '{k}'")));
    }
    let required = |name: &str| {
        args.get(name)
            .copied()
            .ok_or_else(|| bad(format!("{verb} needs '{name}'")))
    };
    Ok(match verb {
        "Identify" => Verb::Identify,
        "ListMetadataFormats" => Verb::ListMetadataFormats {
            identifier: args.get("identifier").map(|s| s.to_string()),
        },
        "ListSets" => {
            if let Some(t) = args.get("resumptionToken") {
                // Every set fits in one response, so no token is ever handed out.
                return Err(OaiError::new(
                    ErrorCode::BadResumptionToken,
                    format!("'{t}' is not a resumption token of this repository"),
                ));
            }
            Verb::ListSets
        }
        "GetRecord" => Verb::GetRecord {
            identifier: required("identifier")?.to_owned(),
            prefix: Prefix::parse(required("metadataPrefix")?)?,
        },
        _ => {
            let list = if let Some(t) = args.get("resumptionToken") {
                if args.len() > 1 {
                    return Err(bad("resumptionToken is an exclusive argument"));
                }
                Token::decode(t)?.into_args()
            } else {
                let prefix = Prefix::parse(required("metadataPrefix")?)?;
                let from = args
                    .get("from")
                    .map(|v| parse_bound("from", v, false))
                    .transpose()?;
                let until = args
                    .get("until")
                    .map(|v| parse_bound("until", v, true))
                    .transpose()?;
                if let (Some((_, a)), Some((_, b))) = (from, until)
                    && a != b
                {
                    return Err(bad("'from' and 'until' must have the same granularity"));
                }
                let from = from.map_or(i64::MIN, |(ms, _)| ms);
                let until = until.map_or(i64::MAX, |(ms, _)| ms);
                if from > until {
                    return Err(bad("'from' is later than 'until'"));
                }
                ListArgs {
                    prefix,
                    set: args.get("set").map(|s| s.to_string()),
                    from,
                    until,
                    resume: None,
                }
            };
            if verb == "ListRecords" {
                Verb::ListRecords(list)
            } else {
                Verb::ListIdentifiers(list)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &[(&str, &str)]) -> Result<Verb, OaiError> {
        let pairs: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&pairs)
    }

    fn code(q: &[(&str, &str)]) -> ErrorCode {
        p(q).unwrap_err().code
    }

    #[test]
    fn verbs_and_their_arguments() {
        assert_eq!(p(&[("verb", "Identify")]).unwrap(), Verb::Identify);
        let Verb::ListRecords(a) = p(&[
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_datacite"),
            ("from", "2026-01-01"),
            ("until", "2026-01-02"),
            ("set", "facility:esrf"),
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.prefix, Prefix::OaiDatacite);
        assert_eq!(a.until - a.from, 2 * 86_400_000 - 1);
        assert_eq!(a.set.as_deref(), Some("facility:esrf"));
    }

    #[test]
    fn protocol_errors() {
        assert_eq!(code(&[]), ErrorCode::BadVerb);
        assert_eq!(code(&[("verb", "Harvest")]), ErrorCode::BadVerb);
        assert_eq!(
            code(&[("verb", "Identify"), ("verb", "Identify")]),
            ErrorCode::BadVerb
        );
        assert_eq!(
            code(&[("verb", "Identify"), ("x", "1")]),
            ErrorCode::BadArgument
        );
        assert_eq!(code(&[("verb", "ListRecords")]), ErrorCode::BadArgument);
        assert_eq!(
            code(&[("verb", "ListRecords"), ("metadataPrefix", "marc")]),
            ErrorCode::CannotDisseminateFormat
        );
        assert_eq!(
            code(&[("verb", "GetRecord"), ("metadataPrefix", "oai_dc")]),
            ErrorCode::BadArgument
        );
        for (from, until) in [
            ("2026-01-01", "2026-01-01T00:00:00Z"),
            ("2026-01-02", "2026-01-01"),
            ("2026-13-01", "2026-12-01"),
            ("yesterday", "2026-12-01"),
        ] {
            let q = [
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", "oai_dc"),
                ("from", from),
                ("until", until),
            ];
            assert_eq!(code(&q), ErrorCode::BadArgument, "{from} {until}");
        }
        assert_eq!(
            code(&[("verb", "ListRecords"), ("resumptionToken", "nonsense")]),
            ErrorCode::BadResumptionToken
        );
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("resumptionToken", "x"),
                ("metadataPrefix", "oai_dc")
            ]),
            ErrorCode::BadArgument
        );
    }
}
