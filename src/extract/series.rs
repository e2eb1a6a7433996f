//! Detector series: files named like `images/insulin_1_00001.cbf` … grouped by their
//! name around the frame number, with the first, the last, how many, and the numbers
//! missing between them.

use std::collections::BTreeMap;

use serde::Serialize;

/// A frame number is a run of at least this many digits (detectors zero-pad theirs), so
/// `model_2.cif` is no series.
const MIN_DIGITS: usize = 3;
/// At most this many runs of missing numbers are listed (all are counted).
pub const MAX_LISTED_GAPS: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Series {
    /// The files' path with the frame number as `#` (`images/insulin_1_#####.cbf`).
    pub template: String,
    pub first: u64,
    pub last: u64,
    pub count: u64,
    /// Runs of missing numbers, `[from, to]` inclusive, the first [`MAX_LISTED_GAPS`].
    pub missing: Vec<[u64; 2]>,
    pub missing_count: u64,
}

impl Series {
    pub fn is_complete(&self) -> bool {
        self.missing_count == 0
    }

    /// The path of frame `n` of this series.
    pub fn path_of(&self, n: u64) -> String {
        let width = self.template.matches('#').count();
        let hashes = "#".repeat(width);
        self.template.replacen(&hashes, &format!("{n:0width$}"), 1)
    }
}

/// A path's template and frame number, if it is named like a frame of a series.
pub fn frame_of(path: &str) -> Option<(String, u64)> {
    let name_at = path.rfind('/').map_or(0, |i| i + 1);
    let name = &path[name_at..];
    // The last run of digits in the name before its extension(s).
    let stem_end = name.find('.').unwrap_or(name.len());
    let stem = &name[..stem_end];
    let end = stem.rfind(|c: char| c.is_ascii_digit())? + 1;
    // Just after the last character that is not a digit (which may be several bytes).
    let start = stem[..end]
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let digits = &stem[start..end];
    if digits.len() < MIN_DIGITS || digits.len() > 12 {
        return None;
    }
    let n = digits.parse().ok()?;
    let template = format!(
        "{}{}{}",
        &path[..name_at + start],
        "#".repeat(digits.len()),
        &path[name_at + end..]
    );
    Some((template, n))
}

/// Groups paths into series of two frames or more, in template order.
pub fn group<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<Series> {
    let mut by_template: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for p in paths {
        if let Some((t, n)) = frame_of(p) {
            by_template.entry(t).or_default().push(n);
        }
    }
    by_template
        .into_iter()
        .filter_map(|(template, mut ns)| {
            ns.sort_unstable();
            ns.dedup();
            if ns.len() < 2 {
                return None;
            }
            let mut missing = Vec::new();
            let mut missing_count = 0;
            for w in ns.windows(2) {
                if w[1] > w[0] + 1 {
                    missing_count += w[1] - w[0] - 1;
                    if missing.len() < MAX_LISTED_GAPS {
                        missing.push([w[0] + 1, w[1] - 1]);
                    }
                }
            }
            Some(Series {
                template,
                first: ns[0],
                last: ns[ns.len() - 1],
                count: ns.len() as u64,
                missing,
                missing_count,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_frames_and_finds_the_holes() {
        let mut paths: Vec<String> = (1..=3600)
            .filter(|n| !(100..=102).contains(n) && *n != 2000)
            .map(|n| format!("images/insulin_1_{n:05}.cbf"))
            .collect();
        paths.push("images/insulin_2_00001.cbf".into());
        paths.push("images/insulin_2_00002.cbf".into());
        paths.push("insulin_master.h5".into());
        paths.push("model_2.cif".into());
        paths.push("run_000001.h5".into());
        let s = group(paths.iter().map(String::as_str));
        assert_eq!(s.len(), 2, "{s:?}");
        let a = &s[0];
        assert_eq!(a.template, "images/insulin_1_#####.cbf");
        assert_eq!((a.first, a.last, a.count), (1, 3600, 3596));
        assert_eq!(a.missing, [[100, 102], [2000, 2000]]);
        assert_eq!(a.missing_count, 4);
        assert!(!a.is_complete());
        assert_eq!(a.path_of(7), "images/insulin_1_00007.cbf");
        assert!(s[1].is_complete());
    }

    #[test]
    fn names_that_are_no_frames() {
        assert_eq!(frame_of("a/b.cbf"), None);
        assert_eq!(frame_of("a/x_12.cbf"), None);
        assert_eq!(
            frame_of("run7/x.cbf"),
            None,
            "digits in a folder are not a frame"
        );
        assert_eq!(
            frame_of("d/x_data_000042.h5"),
            Some(("d/x_data_######.h5".into(), 42))
        );
        assert_eq!(frame_of("x_0001.cbf.gz"), Some(("x_####.cbf.gz".into(), 1)));
        // A letter of several bytes just before the digits (found by fuzzing: it panicked).
        assert_eq!(
            frame_of("données/probeé00017.cbf"),
            Some(("données/probeé#####.cbf".into(), 17))
        );
        assert_eq!(frame_of("é☃123"), Some(("é☃###".into(), 123)));
    }

    #[test]
    fn listed_gaps_are_capped_and_all_counted() {
        let paths: Vec<String> = (0..1000).map(|n| format!("f_{:04}.tif", n * 2)).collect();
        let s = &group(paths.iter().map(String::as_str))[0];
        assert_eq!(s.missing.len(), MAX_LISTED_GAPS);
        assert_eq!(s.missing_count, 999);
    }
}
