//! Metadata from the data: each newly stored object's header read once, off the
//! request path, by a job ([`queue`] in the transaction that files it); and a deposit's
//! report of what its files say — facts per file, detector series and their holes, and
//! suggestions for the deposit form that the person may accept or ignore.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use super::deposits::load_visible;
use super::jobs::{self, Job};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, Conn, DbResult, now_ms};
use crate::extract::{self, Facts, Format, series::Series};
use crate::storage::StorageError;

super::capability!(extraction);

/// Queue the header of an object that just became a file, in the caller's transaction;
/// an object read before (the same bytes under another path or version) is not read again.
pub async fn queue(tx: &mut Conn, sha256: &str, now: i64) -> DbResult<()> {
    if db::extractions::queue(tx, sha256).await? {
        let job = Job::Extract {
            sha256: sha256.to_owned(),
        };
        jobs::enqueue(tx, &job, now).await?;
    }
    Ok(())
}

/// What a deposit's files say.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    /// Recognised files: every file outside a series, and the first frame of each series.
    pub files: Vec<FileFacts>,
    /// Files whose header has not been read yet (the job runs after each upload).
    pub pending: u64,
    /// Files read and not recognised (skipped).
    pub unrecognised: u64,
    /// Bytes read from the start of the deposit's files to find all this.
    pub bytes_read: u64,
    pub series: Vec<SeriesReport>,
    /// NeXus master files that link to data files: which are here, and whether the
    /// frames they hold are the ones the master announces.
    pub masters: Vec<MasterReport>,
    /// For each field of the deposit form the files say something about, what they say.
    /// One value: the files agree; several: they differ (shown, never averaged).
    pub suggestions: Vec<Suggestion>,
}

/// Pictures a page shows at most.
pub const PICTURES_SHOWN: usize = 12;

impl Report {
    /// The files a page pictures, each with the file drawn for it (itself, or a
    /// master's first data file).
    pub fn pictures(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .filter_map(|f| Some((f.path.as_str(), f.picture.as_deref()?)))
            .take(PICTURES_SHOWN)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileFacts {
    pub path: String,
    pub format: Format,
    /// What its header says; absent when it could not be read (see `problem`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub bytes_read: u64,
    /// The series this file is the first frame of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// The file whose first frame pictures this one: itself for an image, a master's
    /// first data file (absent when there is nothing to draw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MasterReport {
    pub path: String,
    /// The data files it links to, as paths in the deposit.
    pub data_files: Vec<String>,
    /// Those not in the deposit.
    pub missing: Vec<String>,
    /// The frames the master says the collection has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames_announced: Option<u64>,
    /// The frames its data files hold (once every one is here and read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames_found: Option<u64>,
    /// What is wrong, for people.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesReport {
    #[serde(flatten)]
    pub series: Series,
    /// What is wrong with the series (missing frames), for people.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// What the files say about one field of the deposit form.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    /// The field, as a JSON Pointer into the deposit (`/facility/beamline/name`).
    pub pointer: String,
    pub values: Vec<SuggestedValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestedValue {
    /// As the field takes it: text, a number, or a list (PDB entries).
    pub value: serde_json::Value,
    /// How many files say so.
    pub files: u64,
    /// One of them.
    pub example: String,
}

impl Service<'_> {
    /// The job: read one object's header and record what it says. Reads the first
    /// [`extract::SNIFF_BYTES`], and more only for a format that needs it, up to
    /// [`extract::read_len`]; never the whole object.
    pub async fn run(&self, sha256: &str) -> ServiceResult<()> {
        {
            let mut conn = self.db.conn().await?;
            if !db::extractions::is_waiting(&mut conn, sha256).await? {
                return Ok(());
            }
        }
        // An object collected since (its file removed) has nothing left to read; one
        // missing while still a file is the fixity audit's to report.
        let Some(size) = self.storage.object_size(sha256).await? else {
            return Ok(());
        };
        let mut head = match self.head(sha256, size, extract::SNIFF_BYTES).await {
            Err(ServiceError::Storage(StorageError::Missing(_))) => return Ok(()),
            other => other?,
        };
        let format = extract::sniff(&head);
        let mut bytes_read = head.len() as u64;
        let read = match format {
            Some(Format::Hdf5) => {
                let (facts, read) = self.hdf5(sha256, size, extract::hdf5::read).await?;
                bytes_read = bytes_read.max(read);
                Some(facts)
            }
            Some(f) => {
                let want = extract::read_len(f, &head);
                if want > head.len() && (head.len() as u64) < size {
                    head = self.head(sha256, size, want).await?;
                    bytes_read = head.len() as u64;
                }
                Some(extract::read(f, &head))
            }
            None => None,
        };
        let facts = match &read {
            Some(Ok(f)) => Some(serde_json::to_string(f).map_err(|e| {
                ServiceError::Internal(format!("facts of {sha256} did not serialise: {e}"))
            })?),
            _ => None,
        };
        let problem = match &read {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        };
        let outcome = db::extractions::Outcome {
            format,
            facts: facts.as_deref(),
            problem: problem.as_deref(),
            bytes_read: bytes_read as i64,
        };
        let mut tx = self.db.begin_write().await?;
        db::extractions::record(&mut tx, sha256, &outcome, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs an HDF5 reader on a blocking thread over the stored object, which it reads
    /// by byte ranges (the object is never fetched whole).
    pub(super) async fn hdf5<T: Send + 'static>(
        &self,
        sha256: &str,
        size: u64,
        reader: impl FnOnce(extract::hdf5::DynStorage) -> T + Send + 'static,
    ) -> ServiceResult<T> {
        let storage = self.storage.clone();
        let sha = sha256.to_owned();
        let runtime = tokio::runtime::Handle::current();
        let ranges = hdf5_reader::RangeRequestStorage::new(size, move |offset, len| {
            let read = async {
                let end = offset + len as u64;
                let parts: Vec<bytes::Bytes> = storage
                    .read(&sha, Some(offset..end), len.max(1))
                    .await?
                    .try_collect()
                    .await?;
                Ok::<_, StorageError>(parts.concat())
            };
            runtime.block_on(read).map_err(|e| {
                hdf5_reader::error::Error::InvalidData(format!("reading the object: {e}"))
            })
        });
        tokio::task::spawn_blocking(move || reader(std::sync::Arc::new(ranges)))
            .await
            .map_err(|e| ServiceError::Internal(format!("reading an HDF5 file: {e}")))
    }

    /// The first `n` bytes of an object of `size` bytes (all of it when smaller).
    async fn head(&self, sha256: &str, size: u64, n: usize) -> ServiceResult<Vec<u8>> {
        let end = size.min(n as u64);
        if end == 0 {
            return Ok(Vec::new());
        }
        let chunks = self.storage.read(sha256, Some(0..end), n).await?;
        let parts: Vec<bytes::Bytes> = chunks.try_collect().await?;
        Ok(parts.concat())
    }

    /// What a deposit's files say, for its author or a curator.
    pub async fn report(&self, actor: &Actor, id: &str) -> ServiceResult<Report> {
        let v = {
            let mut conn = self.db.conn().await?;
            load_visible(&mut conn, actor, id).await?
        };
        self.of_version(&v.id).await
    }

    /// The report of a version the caller has already shown the visitor may see.
    pub(super) async fn of_version(&self, version_id: &str) -> ServiceResult<Report> {
        let mut conn = self.db.conn().await?;
        let rows = db::extractions::for_version(&mut conn, version_id).await?;
        Ok(build_report(&rows))
    }
}

/// The report from every file's row (pure, so its rules are tested without a catalogue).
pub fn build_report(rows: &[db::extractions::FileExtraction]) -> Report {
    let series = extract::series::group(rows.iter().map(|r| r.path.as_str()));
    let first_frames: BTreeMap<String, &str> = series
        .iter()
        .map(|s| (s.path_of(s.first), s.template.as_str()))
        .collect();
    let by_path: BTreeMap<&str, &db::extractions::FileExtraction> =
        rows.iter().map(|r| (r.path.as_str(), r)).collect();
    let facts_of = |r: &db::extractions::FileExtraction| -> Option<Facts> {
        r.facts
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok())
    };
    let masters: Vec<MasterReport> = rows
        .iter()
        .filter_map(|r| Some((r, facts_of(r)?)))
        .filter(|(_, f)| !f.linked_files.is_empty())
        .map(|(r, f)| master_report(&r.path, &f, &by_path, &facts_of))
        .collect();
    let in_master: std::collections::BTreeSet<&str> = masters
        .iter()
        .flat_map(|m| m.data_files.iter().map(String::as_str))
        .collect();
    let mut report = Report {
        files: Vec::new(),
        pending: 0,
        unrecognised: 0,
        bytes_read: 0,
        series: Vec::new(),
        masters: Vec::new(),
        suggestions: Vec::new(),
    };
    let mut all_facts: Vec<(&str, Facts)> = Vec::new();
    for r in rows {
        report.bytes_read += r.bytes_read as u64;
        if !r.done {
            report.pending += 1;
            continue;
        }
        let Some(format) = r.format else {
            report.unrecognised += 1;
            continue;
        };
        let facts: Option<Facts> = facts_of(r);
        if let Some(f) = &facts {
            all_facts.push((r.path.as_str(), f.clone()));
        }
        let in_series = extract::series::frame_of(&r.path)
            .is_some_and(|(t, _)| series.iter().any(|s| s.template == t));
        let first_of = first_frames.get(&r.path).map(|t| (*t).to_owned());
        // A master's data files are shown through it; a series through its first frame.
        if (in_series && first_of.is_none()) || in_master.contains(r.path.as_str()) {
            continue;
        }
        let picture = match (&facts, masters.iter().find(|m| m.path == r.path)) {
            (_, Some(m)) => m
                .data_files
                .iter()
                .find(|p| !m.missing.contains(p))
                .cloned(),
            (Some(f), None) if f.image_size.is_some() && f.frames != Some(0) => {
                (format != Format::Mmcif).then(|| r.path.clone())
            }
            _ => None,
        };
        report.files.push(FileFacts {
            picture,
            path: r.path.clone(),
            format,
            facts,
            problem: r.problem.clone(),
            bytes_read: r.bytes_read as u64,
            series: first_of,
        });
    }
    report.series = series
        .into_iter()
        .map(|s| {
            let problems = series_problems(&s);
            SeriesReport {
                series: s,
                problems,
            }
        })
        .collect();
    report.masters = masters;
    report.suggestions = suggestions(&all_facts);
    report
}

/// A master's data files against the deposit's: present, read, and holding the frames
/// it announces.
fn master_report(
    path: &str,
    f: &Facts,
    files: &BTreeMap<&str, &db::extractions::FileExtraction>,
    facts_of: &dyn Fn(&db::extractions::FileExtraction) -> Option<Facts>,
) -> MasterReport {
    // Links are relative to the master's folder.
    let dir = path.rsplit_once('/').map(|(d, _)| d);
    let data_files: Vec<String> = f
        .linked_files
        .iter()
        .map(|l| {
            let l = l.trim_start_matches("./");
            dir.map_or_else(|| l.to_owned(), |d| format!("{d}/{l}"))
        })
        .collect();
    let missing: Vec<String> = data_files
        .iter()
        .filter(|p| !files.contains_key(p.as_str()))
        .cloned()
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        let listed: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let more = if missing.len() > listed.len() {
            ", …"
        } else {
            ""
        };
        problems.push(format!(
            "{path}: {} of its {} data files are not in the deposit ({}{more})",
            missing.len(),
            data_files.len(),
            listed.join(", ")
        ));
    }
    // Frames found: only once every data file is here and read.
    let frames_found = missing.is_empty().then(|| {
        data_files.iter().try_fold(0u64, |sum, p| {
            let r = files.get(p.as_str())?;
            Some(sum + facts_of(r)?.frames?)
        })
    });
    let frames_found = frames_found.flatten();
    if let (Some(announced), Some(found)) = (f.frames, frames_found)
        && announced != found
    {
        problems.push(format!(
            "{path}: announces {announced} frames, its data files hold {found}"
        ));
    }
    MasterReport {
        path: path.to_owned(),
        data_files,
        missing,
        frames_announced: f.frames,
        frames_found,
        problems,
    }
}

pub(super) fn series_problems(s: &Series) -> Vec<String> {
    if s.is_complete() {
        return Vec::new();
    }
    let listed: Vec<String> = s
        .missing
        .iter()
        .map(|[a, b]| {
            if a == b {
                format!("{a}")
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    let more = if s.missing.len() < extract::series::MAX_LISTED_GAPS {
        ""
    } else {
        ", …"
    };
    vec![format!(
        "{}: {} of {} frames between {} and {} are missing ({}{more})",
        s.template,
        s.missing_count,
        s.last - s.first + 1,
        s.first,
        s.last,
        listed.join(", ")
    )]
}

/// The form's fields the facts speak to, each with the values files give.
fn suggestions(facts: &[(&str, Facts)]) -> Vec<Suggestion> {
    type Pick = fn(&Facts) -> Option<serde_json::Value>;
    fn text(v: &Option<String>) -> Option<serde_json::Value> {
        v.as_deref().map(serde_json::Value::from)
    }
    let fields: [(&str, Pick); 7] = [
        ("/facility/facility/name", |f| text(&f.facility)),
        ("/facility/beamline/name", |f| text(&f.beamline)),
        ("/facility/collection/technique", |f| text(&f.technique)),
        ("/facility/collection/detector", |f| text(&f.detector)),
        ("/facility/collection/wavelength_angstrom", |f| {
            f.wavelength_angstrom.map(serde_json::Value::from)
        }),
        ("/facility/collection/temperature_kelvin", |f| {
            f.temperature_kelvin.map(serde_json::Value::from)
        }),
        ("/facility/sample/name", |f| text(&f.sample)),
    ];
    let mut out = Vec::new();
    for (pointer, pick) in fields {
        // Distinct values in the order first seen, with how many files give each.
        let mut values: Vec<SuggestedValue> = Vec::new();
        for (path, f) in facts {
            let Some(v) = pick(f) else { continue };
            match values.iter_mut().find(|s| s.value == v) {
                Some(s) => s.files += 1,
                None => values.push(SuggestedValue {
                    value: v,
                    files: 1,
                    example: (*path).to_owned(),
                }),
            }
        }
        if !values.is_empty() {
            out.push(Suggestion {
                pointer: pointer.to_owned(),
                values,
            });
        }
    }
    // The collection's dates: from the earliest start to the latest end any file gives.
    let day = |t: &String| t.get(..10).map(str::to_owned);
    let starts = facts
        .iter()
        .filter_map(|(p, f)| Some((f.collected_from.as_ref().and_then(day)?, *p)));
    let ends = facts.iter().filter_map(|(p, f)| {
        let t = f.collected_until.as_ref().or(f.collected_from.as_ref())?;
        Some((day(t)?, *p))
    });
    let count = |pick: Option<(String, &str)>, pointer: &str, all: usize| {
        pick.map(|(d, p)| Suggestion {
            pointer: pointer.to_owned(),
            values: vec![SuggestedValue {
                value: d.into(),
                files: all as u64,
                example: p.to_owned(),
            }],
        })
    };
    let n = facts
        .iter()
        .filter(|(_, f)| f.collected_from.is_some())
        .count();
    out.extend(count(starts.min(), "/facility/collection/start", n));
    out.extend(count(ends.max(), "/facility/collection/end", n));
    // Every PDB entry the structures name, as the list the form takes.
    let mut pdb: Vec<String> = facts.iter().filter_map(|(_, f)| f.pdb_id.clone()).collect();
    pdb.sort();
    pdb.dedup();
    if let Some((example, _)) = facts.iter().find(|(_, f)| f.pdb_id.is_some()) {
        out.push(Suggestion {
            pointer: "/facility/pdb_ids".into(),
            values: vec![SuggestedValue {
                files: facts.iter().filter(|(_, f)| f.pdb_id.is_some()).count() as u64,
                value: pdb.into(),
                example: (*example).to_owned(),
            }],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use db::extractions::FileExtraction;

    fn row(path: &str, format: Option<Format>, facts: Option<Facts>) -> FileExtraction {
        FileExtraction {
            path: path.into(),
            sha256: String::new(),
            format,
            facts: facts.map(|f| serde_json::to_string(&f).unwrap()),
            problem: None,
            bytes_read: 100,
            done: true,
        }
    }

    fn frame(n: u64, wavelength: f64) -> FileExtraction {
        let f = Facts {
            wavelength_angstrom: Some(wavelength),
            detector: Some("PILATUS 6M".into()),
            collected_from: Some(format!("2010-06-{:02}T12:00:00", 9 + n / 3)),
            ..Facts::default()
        };
        row(&format!("img/x_{n:05}.cbf"), Some(Format::Cbf), Some(f))
    }

    #[test]
    fn series_are_summarised_and_differences_kept_apart() {
        let mut rows: Vec<FileExtraction> = (1..=6)
            .filter(|n| *n != 4)
            .map(|n| frame(n, 0.9795))
            .collect();
        rows[4] = frame(6, 1.0);
        let structure = Facts {
            pdb_id: Some("1LYZ".into()),
            beamline: Some("ID23-1".into()),
            ..Facts::default()
        };
        rows.push(row("model.cif", Some(Format::Mmcif), Some(structure)));
        rows.push(row("notes.txt", None, None));
        let mut pending = row("late.cbf", None, None);
        pending.done = false;
        rows.push(pending);
        let r = build_report(&rows);
        assert_eq!((r.pending, r.unrecognised), (1, 1));
        let paths: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["img/x_00001.cbf", "model.cif"],
            "one frame per series"
        );
        assert_eq!(r.files[0].series.as_deref(), Some("img/x_#####.cbf"));
        assert_eq!(r.series[0].series.missing, [[4, 4]]);
        assert!(
            r.series[0].problems[0].contains("1 of 6 frames"),
            "{:?}",
            r.series
        );
        let get = |p: &str| r.suggestions.iter().find(|s| s.pointer == p).unwrap();
        let w = get("/facility/collection/wavelength_angstrom");
        let seen: Vec<(f64, u64)> = w
            .values
            .iter()
            .map(|v| (v.value.as_f64().unwrap(), v.files))
            .collect();
        assert_eq!(
            seen,
            [(0.9795, 4), (1.0, 1)],
            "two wavelengths, not averaged"
        );
        assert_eq!(
            get("/facility/collection/start").values[0].value,
            "2010-06-09"
        );
        assert_eq!(
            get("/facility/collection/end").values[0].value,
            "2010-06-11"
        );
        assert_eq!(
            get("/facility/pdb_ids").values[0].value,
            serde_json::json!(["1LYZ"])
        );
        assert_eq!(
            get("/facility/beamline/name").values[0].example,
            "model.cif"
        );
        assert_eq!(r.bytes_read, 800);
    }
}
