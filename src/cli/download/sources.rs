//! Which source each request goes to: every source is tried once, then the fastest
//! measured so far gets the work; a source that keeps failing is dropped for the rest
//! of the run (the archive never is: it is the last resort).

use super::plan::Source;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Failures in a row after which a mirror is left alone.
const DOWN_AFTER: u32 = 3;

#[derive(Default)]
struct Record {
    /// Bytes per second, smoothed; None until a request finished.
    rate: Option<f64>,
    failures_in_a_row: u32,
    down: bool,
    bytes: u64,
    /// Requests sent there and not yet finished.
    in_flight: u32,
}

#[derive(Default)]
pub struct Sources {
    records: Mutex<HashMap<String, Record>>,
}

impl Sources {
    /// The source for the next request of a file, leaving out `excluded` (those that
    /// failed it already). Unmeasured ones first (so each is measured), then the best
    /// rate shared by the requests already in flight there.
    pub fn choose<'a>(&self, sources: &'a [Source], excluded: &[String]) -> Option<&'a Source> {
        let mut records = self.records.lock().expect("not poisoned");
        let usable = sources.iter().filter(|s| {
            !excluded.contains(&s.name) && !records.get(&s.name).is_some_and(|r| r.down)
        });
        let score = |s: &Source, records: &HashMap<String, Record>| -> f64 {
            match records.get(&s.name) {
                None => f64::INFINITY,
                Some(r) => match r.rate {
                    None if r.in_flight == 0 => f64::INFINITY,
                    // Being measured: wait for its first answer before piling on.
                    None => 0.0,
                    Some(rate) => rate / f64::from(r.in_flight + 1),
                },
            }
        };
        let best = usable
            .max_by(|a, b| score(a, &records).total_cmp(&score(b, &records)))
            .or_else(|| {
                // Every mirror is down or excluded: the archive, unless it failed too.
                sources
                    .iter()
                    .find(|s| s.is_archive() && !excluded.contains(&s.name))
            })?;
        records.entry(best.name.clone()).or_default().in_flight += 1;
        Some(best)
    }

    /// A request there moved `bytes` in `took`.
    pub fn succeeded(&self, name: &str, bytes: u64, took: Duration) {
        let mut records = self.records.lock().expect("not poisoned");
        let r = records.entry(name.to_owned()).or_default();
        r.in_flight = r.in_flight.saturating_sub(1);
        r.failures_in_a_row = 0;
        r.bytes += bytes;
        // Small requests say more about latency than rate: weigh by size.
        if bytes >= 64 << 10 {
            let rate = bytes as f64 / took.as_secs_f64().max(1e-3);
            r.rate = Some(match r.rate {
                Some(old) => 0.7 * old + 0.3 * rate,
                None => rate,
            });
        } else if r.rate.is_none() {
            r.rate = Some(bytes as f64 / took.as_secs_f64().max(1e-3));
        }
    }

    /// A request there failed; whether the source is now left alone.
    pub fn failed(&self, source: &Source) -> bool {
        let mut records = self.records.lock().expect("not poisoned");
        let r = records.entry(source.name.clone()).or_default();
        r.in_flight = r.in_flight.saturating_sub(1);
        r.failures_in_a_row += 1;
        if !source.is_archive() && r.failures_in_a_row >= DOWN_AFTER && !r.down {
            r.down = true;
            return true;
        }
        false
    }

    /// Bytes fetched from each source, most first.
    pub fn bytes_by_source(&self) -> Vec<(String, u64)> {
        let records = self.records.lock().expect("not poisoned");
        let mut out: Vec<_> = records
            .iter()
            .filter(|(_, r)| r.bytes > 0)
            .map(|(n, r)| (n.clone(), r.bytes))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(name: &str) -> Source {
        Source {
            name: name.into(),
            url: format!("http://{name}/"),
        }
    }

    #[test]
    fn each_source_is_measured_then_the_fastest_wins_and_a_failing_mirror_is_dropped() {
        let all = [src("archive"), src("eu"), src("us")];
        let s = Sources::default();
        let first = s.choose(&all, &[]).unwrap().name.clone();
        s.succeeded(&first, 1 << 20, Duration::from_secs(1));
        let second = s.choose(&all, &[]).unwrap().name.clone();
        assert_ne!(first, second, "an unmeasured source is tried next");
        s.succeeded(&second, 10 << 20, Duration::from_secs(1));
        let third = s.choose(&all, &[]).unwrap().name.clone();
        s.succeeded(&third, 2 << 20, Duration::from_secs(1));
        // Now measured: the 10 MB/s one gets the work.
        assert_eq!(s.choose(&all, &[]).unwrap().name, second);
        s.succeeded(&second, 10 << 20, Duration::from_secs(1));
        // Excluded for this file: the next best.
        assert_ne!(
            s.choose(&all, std::slice::from_ref(&second)).unwrap().name,
            second
        );
        // A mirror failing three times in a row is dropped; the archive never is.
        let eu = src("eu");
        assert!(!s.failed(&eu) && !s.failed(&eu));
        assert!(s.failed(&eu));
        for _ in 0..10 {
            let c = s.choose(&all, &[]).unwrap().name.clone();
            assert_ne!(c, "eu");
            s.succeeded(&c, 1, Duration::from_millis(1));
        }
        let archive = src("archive");
        for _ in 0..5 {
            assert!(!s.failed(&archive));
        }
        assert_eq!(s.choose(&[src("archive")], &[]).unwrap().name, "archive");
        assert!(s.choose(&[src("archive")], &["archive".into()]).is_none());
    }
}
