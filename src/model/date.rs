//! Calendar dates as depositors type them.

/// True for a date written as YYYY-MM-DD (month 1–12, day 1–31).
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    // Bytes 4 and 7 are ASCII '-', so the slices below fall on character boundaries.
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s[0..4].bytes().all(|c| c.is_ascii_digit())
        && s[5..7].parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
        && s[8..10].parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
}

/// Unix milliseconds as `YYYY-MM-DDThh:mm:ssZ` (UTC, whole seconds).
pub fn utc_seconds(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Unix milliseconds as `YYYY-MM-DD hh:mm` (UTC), as people read a time.
pub fn utc_minutes(ms: i64) -> String {
    let s = utc_seconds(ms);
    format!("{} {}", &s[..10], &s[11..16])
}

/// Unix milliseconds as `YYYY-MM-DD` (UTC).
pub fn utc_day(ms: i64) -> String {
    utc_seconds(ms)[..10].to_owned()
}

/// `YYYY-MM-DDThh:mm:ssZ` as Unix milliseconds.
pub fn parse_utc_seconds(s: &str) -> Option<i64> {
    // humantime also takes fractions and offsets; the protocols here allow neither.
    // ASCII first: byte 10 of other text may fall inside a character.
    if s.len() != 20 || !s.is_ascii() || !s.ends_with('Z') || !is_iso_date(&s[..10]) {
        return None;
    }
    let t = humantime::parse_rfc3339(s).ok()?;
    let ms = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    i64::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_round_trip() {
        let ms = parse_utc_seconds("2026-11-24T17:05:09Z").unwrap();
        assert_eq!(utc_seconds(ms), "2026-11-24T17:05:09Z");
        assert_eq!(utc_seconds(ms + 999), "2026-11-24T17:05:09Z");
        assert_eq!(utc_day(ms), "2026-11-24");
        assert_eq!(parse_utc_seconds("1970-01-01T00:00:00Z"), Some(0));
        for bad in [
            "2026-11-24",
            "2026-11-24T17:05:09.5Z",
            "2026-11-24T17:05:09+01:00",
            "2026-02-30T00:00:00Z",
            "2026-11-24T25:00:00Z",
            // Found by fuzz/fuzz_targets/oai_request: 20 bytes, byte 10 inside a character.
            "]2--0601'\u{FFFD}1\u{FFFD}\u{FFFD}Z",
        ] {
            assert_eq!(parse_utc_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert!(is_iso_date("2027-06-30"));
        for bad in [
            "2027-6-30",
            "30/06/2027",
            "2027-13-01",
            "2027-00-10",
            "2027-06-32",
            "é027-06-30",
            "2027-0é-3",
            "",
            "+027-06-30",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }
}
