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

#[cfg(test)]
mod tests {
    use super::is_iso_date;

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
