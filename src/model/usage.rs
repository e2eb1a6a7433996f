//! Usage as the COUNTER Code of Practice counts it (R5.1.1 §10.4, research data): who
//! is a robot, who a machine, what a user-session is, which month a moment falls in,
//! and the four metrics.

use super::status::AccessMethod;
use jiff::tz::TimeZone;
use regex::{Regex, RegexBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Two hits on the same URL by the same session within this many milliseconds count
/// once (COUNTER's double-click rule; the later one is kept, which counts the same).
pub const DOUBLE_CLICK_MS: i64 = 30_000;

/// The COUNTER robots list (research data) and the machine list, compiled in; see
/// `data/counter-robots/README.md`.
pub const ROBOTS: &str = include_str!("../../data/counter-robots/robot.txt");
pub const MACHINES: &str = include_str!("../../data/counter-robots/machine.txt");

/// User agents sorted into robots (not counted), machines and people.
#[derive(Debug, Clone)]
pub struct Agents {
    robots: Regex,
    machines: Regex,
}

impl Agents {
    /// From the two lists (one pattern a line; blank lines ignored). The error names
    /// the list and the pattern that does not compile.
    pub fn new(robots: &str, machines: &str) -> Result<Self, String> {
        Ok(Self {
            robots: one_pattern("robots", robots)?,
            machines: one_pattern("machines", machines)?,
        })
    }

    /// The lists shipped with Arca.
    pub fn counter() -> Self {
        Self::new(ROBOTS, MACHINES).expect("the shipped lists compile (a unit test checks)")
    }

    /// None for a robot or crawler; otherwise how the use is counted. The machine
    /// list is looked at first: COUNTER's robots list names tools researchers use
    /// (curl, Wget, python), which the Code of Practice for Research Data says must
    /// be counted, as machine use, not dropped.
    pub fn classify(&self, user_agent: &str) -> Option<AccessMethod> {
        if self.machines.is_match(user_agent) {
            Some(AccessMethod::Machine)
        } else if self.robots.is_match(user_agent) {
            None
        } else {
            Some(AccessMethod::Regular)
        }
    }
}

/// The lines of a list as one case-insensitive alternation, each checked on its own
/// first so a bad line is named.
fn one_pattern(list: &str, text: &str) -> Result<Regex, String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    for l in &lines {
        Regex::new(l)
            .map_err(|e| format!("the {list} list: pattern '{l}' does not compile: {e}"))?;
    }
    let joined = lines
        .iter()
        .map(|l| format!("(?:{l})"))
        .collect::<Vec<_>>()
        .join("|");
    RegexBuilder::new(&joined)
        .case_insensitive(true)
        .size_limit(64 << 20)
        .build()
        .map_err(|e| format!("the {list} list: {e}"))
}

/// A surrogate user-session (COUNTER: the one-hour slice of the day, with the user's
/// id, or the address and user agent), hashed with the day's salt so the stored key
/// tells nothing about the address. `who` is "user:<id>" or "addr:<ip> <agent>".
pub fn session_key(salt: &str, who: &str, hour: &str) -> String {
    let mut h = Sha256::new();
    for part in [salt, "\n", who, "\n", hour] {
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The one-hour slice `at_ms` falls in (UTC), `YYYY-MM-DDThh`.
pub fn hour_of(at_ms: i64) -> String {
    super::date::utc_seconds(at_ms)[..13].to_owned()
}

/// The UTC day a salt is for.
pub fn salt_day(at_ms: i64) -> String {
    super::date::utc_day(at_ms)
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i16,
    pub month: i8,
}

impl Month {
    /// `YYYY-MM` (year 1000–9999), or why not.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a month written YYYY-MM");
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !s.is_ascii() {
            return Err(bad());
        }
        let year: i16 = s[..4].parse().map_err(|_| bad())?;
        let month: i8 = s[5..].parse().map_err(|_| bad())?;
        if !(1000..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    /// The month `at_ms` falls in, in time zone `tz`.
    pub fn of(at_ms: i64, tz: &TimeZone) -> Self {
        let ts = jiff::Timestamp::from_millisecond(at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let d = ts.to_zoned_datetime(tz.clone()).date();
        Self {
            year: d.year(),
            month: d.month(),
        }
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Months from `self` to `to`, both included (0 when `to` is earlier).
    pub fn span(self, to: Month) -> i64 {
        let n = |m: Month| i64::from(m.year) * 12 + i64::from(m.month);
        (n(to) - n(self) + 1).max(0)
    }

    /// `YYYY-MM-01`.
    pub fn first_day(self) -> String {
        format!("{self}-01")
    }

    /// The month's last day, `YYYY-MM-DD`.
    pub fn last_day(self) -> String {
        let days = jiff::civil::date(self.year, self.month, 1).days_in_month();
        format!("{self}-{days:02}")
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The four COUNTER metrics of a dataset or version over some period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub total_dataset_investigations: i64,
    pub unique_dataset_investigations: i64,
    pub total_dataset_requests: i64,
    pub unique_dataset_requests: i64,
}

impl Figures {
    pub fn add(&mut self, o: &Figures) {
        self.total_dataset_investigations += o.total_dataset_investigations;
        self.unique_dataset_investigations += o.unique_dataset_investigations;
        self.total_dataset_requests += o.total_dataset_requests;
        self.unique_dataset_requests += o.unique_dataset_requests;
    }

    /// (metric name as the Dataset Report writes it, count)
    pub fn metrics(&self) -> [(&'static str, i64); 4] {
        [
            (
                "total-dataset-investigations",
                self.total_dataset_investigations,
            ),
            (
                "unique-dataset-investigations",
                self.unique_dataset_investigations,
            ),
            ("total-dataset-requests", self.total_dataset_requests),
            ("unique-dataset-requests", self.unique_dataset_requests),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_pattern_compiles_and_sorts_the_usual_agents() {
        let a = Agents::counter();
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(a.classify(firefox), Some(AccessMethod::Regular));
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "",
        ] {
            assert_eq!(a.classify(bot), None, "{bot}");
        }
        // Researchers' tools are counted, as machine use (never as robots).
        for tool in [
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.32.3",
            "aria2/1.37.0",
        ] {
            assert_eq!(a.classify(tool), Some(AccessMethod::Machine), "{tool}");
        }
        // Case does not hide a robot.
        assert_eq!(a.classify("Some SPIDER"), None);
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let e = Agents::new("bot\n(unclosed\n", "").unwrap_err();
        assert!(e.contains("robots") && e.contains("(unclosed"), "{e}");
    }

    #[test]
    fn months_fall_in_the_facility_time_zone() {
        // 2026-11-30 23:30 UTC is already December in Tokyo, still November in London.
        let ms = jiff::Timestamp::from_second(1_796_081_400).unwrap();
        assert_eq!(ms.to_string(), "2026-11-30T23:30:00Z");
        let ms = ms.as_millisecond();
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let london = TimeZone::get("Europe/London").unwrap();
        assert_eq!(Month::of(ms, &tokyo).to_string(), "2026-12");
        assert_eq!(Month::of(ms, &london).to_string(), "2026-11");
        let m = Month::parse("2024-02").unwrap();
        assert_eq!(
            (m.first_day(), m.last_day()),
            ("2024-02-01".into(), "2024-02-29".into())
        );
        assert_eq!(
            Month::parse("2026-12").unwrap().next().to_string(),
            "2027-01"
        );
        assert_eq!(m.span(Month::parse("2025-01").unwrap()), 12);
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", "２０２６-01"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn session_keys_change_with_the_hour_and_the_salt_and_hide_the_address() {
        let t = 1_796_081_400_000;
        let key = |salt: &str, at: i64| session_key(salt, "addr:192.0.2.1 curl/8", &hour_of(at));
        let k = key("salt", t);
        assert_eq!(k, key("salt", t + 60_000));
        assert_ne!(k, key("salt", t + 3_600_000));
        assert_ne!(k, key("other", t));
        assert!(!k.contains("192"));
        assert_eq!(k.len(), 32);
    }
}
