//! When release batches happen: given weekdays at a local time in the facility's time
//! zone (daylight saving included), each with a cut-off before it.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

#[derive(Debug, Clone)]
pub struct Cadence {
    weekdays: Vec<Weekday>,
    time: Time,
    tz: TimeZone,
    cutoff_ms: i64,
}

/// One release slot, in Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub release_at: i64,
    pub cutoff_at: i64,
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// The cadence of release batches.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseSettings {
    /// Days of the week with a release: mon, tue, wed, thu, fri, sat, sun.
    pub weekdays: Vec<String>,
    /// Local time of day, HH:MM.
    pub time: String,
    /// The facility's IANA time zone.
    pub time_zone: String,
    /// Datasets can be added or removed until this long before the release.
    pub cutoff_hours: u32,
    /// How many upcoming batches the cadence keeps ready.
    pub horizon: usize,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        Self {
            weekdays: vec!["tue".into(), "fri".into()],
            time: "17:00".into(),
            time_zone: "UTC".into(),
            cutoff_hours: 24,
            horizon: 2,
        }
    }
}

impl Cadence {
    pub fn from_settings(s: &ReleaseSettings) -> Result<Self, String> {
        let weekdays = s
            .weekdays
            .iter()
            .map(|d| weekday(d).ok_or_else(|| format!("weekdays: '{d}' is not a day of the week")))
            .collect::<Result<Vec<_>, _>>()?;
        let time = s
            .time
            .parse::<Time>()
            .map_err(|_| format!("time: '{}' is not HH:MM", s.time))?;
        let tz = TimeZone::get(&s.time_zone)
            .map_err(|_| format!("time_zone: '{}' is not an IANA time zone", s.time_zone))?;
        if s.horizon == 0 || s.horizon > 20 {
            return Err("horizon must be between 1 and 20".into());
        }
        Ok(Cadence {
            weekdays,
            time,
            tz,
            cutoff_ms: i64::from(s.cutoff_hours) * 3_600_000,
        })
    }

    /// The next `n` slots whose release is after `after_ms`.
    pub fn next_slots(&self, after_ms: i64, n: usize) -> Vec<Slot> {
        let mut out = Vec::new();
        if self.weekdays.is_empty() {
            return out;
        }
        let Ok(now) = Timestamp::from_millisecond(after_ms) else {
            return out;
        };
        let mut day = now.to_zoned_datetime(self.tz.clone()).date();
        // Fourteen days always hold each weekday twice; the loop is bounded anyway.
        for _ in 0..(14 * n + 14) {
            if out.len() == n {
                break;
            }
            if self.weekdays.contains(&day.weekday())
                && let Ok(at) = day
                    .to_datetime(self.time)
                    .to_zoned_datetime(self.tz.clone())
            {
                let ms = at.timestamp().as_millisecond();
                if ms > after_ms {
                    out.push(Slot {
                        release_at: ms,
                        cutoff_at: ms - self.cutoff_ms,
                    });
                }
            }
            match day.checked_add(1.day()) {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::date::{parse_utc_seconds, utc_seconds};

    fn settings(days: &[&str], time: &str, tz: &str) -> ReleaseSettings {
        ReleaseSettings {
            weekdays: days.iter().map(|d| d.to_string()).collect(),
            time: time.into(),
            time_zone: tz.into(),
            cutoff_hours: 24,
            horizon: 2,
        }
    }

    #[test]
    fn tuesdays_and_fridays_at_five_in_the_facility_time_zone() {
        let c =
            Cadence::from_settings(&settings(&["tue", "fri"], "17:00", "Europe/London")).unwrap();
        // Monday 2026-03-23 noon UTC; London moves to summer time on Sunday 29 March.
        let now = parse_utc_seconds("2026-03-23T12:00:00Z").unwrap();
        let slots: Vec<String> = c
            .next_slots(now, 3)
            .iter()
            .map(|s| utc_seconds(s.release_at))
            .collect();
        assert_eq!(
            slots,
            [
                "2026-03-24T17:00:00Z",
                "2026-03-27T17:00:00Z",
                "2026-03-31T16:00:00Z"
            ]
        );
        let first = c.next_slots(now, 1)[0];
        assert_eq!(first.release_at - first.cutoff_at, 24 * 3_600_000);
        // Exactly at a release, the next one is the following slot.
        let at = parse_utc_seconds("2026-03-24T17:00:00Z").unwrap();
        assert_eq!(
            utc_seconds(c.next_slots(at, 1)[0].release_at),
            "2026-03-27T17:00:00Z"
        );
    }

    #[test]
    fn bad_settings_are_named() {
        for (s, want) in [
            (settings(&["someday"], "17:00", "UTC"), "weekdays"),
            (settings(&["tue"], "5pm", "UTC"), "time"),
            (settings(&["tue"], "17:00", "Mars/Olympus"), "time_zone"),
        ] {
            assert!(Cadence::from_settings(&s).unwrap_err().starts_with(want));
        }
    }
}
