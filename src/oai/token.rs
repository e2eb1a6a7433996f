//! Resumption tokens. A token carries the whole harvest position (arguments and the key
//! of the last record sent), so it needs no server-side state: it survives a restart,
//! works on any server sharing the database, and the next page is one index seek.

use super::request::{ErrorCode, ListArgs, OaiError, Prefix};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// A harvest position: the last record returned, by (datestamp, version id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub datestamp: i64,
    pub version_id: String,
}

impl Cursor {
    pub fn start() -> Self {
        Cursor {
            datestamp: i64::MIN,
            version_id: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    #[serde(rename = "p")]
    prefix: String,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    set: Option<String>,
    #[serde(rename = "f")]
    from: i64,
    #[serde(rename = "u")]
    until: i64,
    /// Key of the last record sent.
    #[serde(rename = "d")]
    pub datestamp: i64,
    #[serde(rename = "i")]
    pub version_id: String,
    /// Records sent before this page, and the list's size counted on the first page
    /// (absent when it was more than the count's bound).
    #[serde(rename = "c")]
    pub delivered: i64,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

fn bad_token(t: &str) -> OaiError {
    OaiError::new(
        ErrorCode::BadResumptionToken,
        format!("'{t}' is not a resumption token of this repository"),
    )
}

impl Token {
    pub fn after(args: &ListArgs, last: &Cursor, delivered: i64, total: Option<i64>) -> Self {
        Token {
            prefix: args.prefix.as_str().to_owned(),
            set: args.set.clone(),
            from: args.from,
            until: args.until,
            datestamp: last.datestamp,
            version_id: last.version_id.clone(),
            delivered,
            total,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("plain struct"))
    }

    pub fn decode(text: &str) -> Result<Self, OaiError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad_token(text))?;
        let t: Token = serde_json::from_slice(&bytes).map_err(|_| bad_token(text))?;
        Prefix::parse(&t.prefix).map_err(|_| bad_token(text))?;
        if t.from > t.until || t.delivered < 0 || t.total.is_some_and(|n| n < t.delivered) {
            return Err(bad_token(text));
        }
        Ok(t)
    }

    pub fn cursor(&self) -> Cursor {
        Cursor {
            datestamp: self.datestamp,
            version_id: self.version_id.clone(),
        }
    }

    pub fn into_args(self) -> ListArgs {
        ListArgs {
            prefix: Prefix::parse(&self.prefix).expect("checked on decode"),
            set: self.set.clone(),
            from: self.from,
            until: self.until,
            resume: Some(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tampering() {
        let args = ListArgs {
            prefix: Prefix::OaiDatacite,
            set: Some("facility:esrf".into()),
            from: 0,
            until: i64::MAX,
            resume: None,
        };
        let last = Cursor {
            datestamp: 1_700_000_000_000,
            version_id: "01J".into(),
        };
        let t = Token::after(&args, &last, 100, Some(250));
        let back = Token::decode(&t.encode()).unwrap();
        assert_eq!(back, t);
        // A list too long to count carries no size.
        let uncounted = Token::after(&args, &last, 100, None);
        assert_eq!(Token::decode(&uncounted.encode()).unwrap(), uncounted);
        assert_eq!(back.cursor(), last);
        let again = back.into_args();
        assert_eq!(again.set, args.set);
        assert_eq!(again.prefix, args.prefix);
        for bad in ["", "!!!", &URL_SAFE_NO_PAD.encode(b"{\"p\":\"marc\"}")] {
            assert_eq!(
                Token::decode(bad).unwrap_err().code,
                ErrorCode::BadResumptionToken
            );
        }
    }
}
