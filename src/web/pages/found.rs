//! What a deposit's files say, in words: the section of its page (series, facts,
//! unreadable headers) and the "found in your files" offers next to the form's fields.

use std::collections::BTreeMap;

use super::deposit_form::field_of;
use crate::services::extraction::{MasterReport, Report};
use crate::web::format::url_under;

/// The deposit page's section.
pub struct FoundView {
    /// Files whose header is still to be read.
    pub pending: u64,
    pub series: Vec<SeriesLine>,
    /// What the files say, by the form's label: one value, or each value with its count.
    pub facts: Vec<(&'static str, String)>,
    /// Recognised files whose header could not be read: (path, why).
    pub problems: Vec<(String, String)>,
    /// Pictures of the images (the first frame of each series, each single image).
    pub pictures: Vec<Picture>,
}

/// A picture of an image file on the page, linked to its larger view.
pub struct Picture {
    pub path: String,
    pub small: String,
    pub large: String,
}

impl Picture {
    /// `path` pictured by `drawn`'s first frame, served under `previews`.
    pub fn new(path: &str, previews: &str, drawn: &str) -> Self {
        let small = url_under(previews, drawn);
        Picture {
            path: path.to_owned(),
            large: format!("{small}?size=large"),
            small,
        }
    }
}

pub struct SeriesLine {
    /// "Detector series" or "NeXus master file".
    pub kind: &'static str,
    pub template: String,
    pub summary: String,
    pub problems: Vec<String>,
}

/// One value the files give for a form field.
pub struct Offered {
    /// As the field takes it.
    pub value: String,
    /// "in 3,600 files" / "in model.cif".
    pub whence: String,
}

fn label(pointer: &str) -> Option<&'static str> {
    Some(match pointer {
        "/facility/facility/name" => "Facility",
        "/facility/beamline/name" => "Beamline",
        "/facility/collection/technique" => "Technique",
        "/facility/collection/detector" => "Detector",
        "/facility/collection/wavelength_angstrom" => "Wavelength (Å)",
        "/facility/collection/temperature_kelvin" => "Temperature (K)",
        "/facility/collection/start" => "Collected from",
        "/facility/collection/end" => "Collected until",
        "/facility/sample/name" => "Sample",
        "/facility/pdb_ids" => "PDB entries",
        _ => return None,
    })
}

/// A suggested value as a form field takes it.
fn as_field(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(as_field).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn whence(files: u64, example: &str) -> String {
    if files == 1 {
        format!("in {example}")
    } else {
        format!("in {files} files")
    }
}

impl FoundView {
    /// `previews` is where the pictures of this deposit or dataset are served.
    pub fn of(r: &Report, previews: &str) -> Self {
        let pictures = r
            .pictures()
            .map(|(path, drawn)| Picture::new(path, previews, drawn))
            .collect();
        let series = r
            .series
            .iter()
            .map(|s| SeriesLine {
                kind: "Detector series",
                template: s.series.template.clone(),
                summary: format!(
                    "frames {} to {}, {} present",
                    s.series.first, s.series.last, s.series.count
                ),
                problems: s.problems.clone(),
            })
            .chain(r.masters.iter().map(|m| SeriesLine {
                kind: "NeXus master file",
                template: m.path.clone(),
                summary: master_summary(m),
                problems: m.problems.clone(),
            }))
            .collect();
        let facts = r
            .suggestions
            .iter()
            .filter_map(|s| {
                let values: Vec<String> = match &s.values[..] {
                    [one] => vec![as_field(&one.value)],
                    many => many
                        .iter()
                        .map(|v| {
                            format!("{} ({})", as_field(&v.value), whence(v.files, &v.example))
                        })
                        .collect(),
                };
                Some((label(&s.pointer)?, values.join("; ")))
            })
            .collect();
        let problems = r
            .files
            .iter()
            .filter_map(|f| Some((f.path.clone(), f.problem.clone()?)))
            .collect();
        FoundView {
            pending: r.pending,
            series,
            facts,
            problems,
            pictures,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending == 0
            && self.series.is_empty()
            && self.facts.is_empty()
            && self.problems.is_empty()
            && self.pictures.is_empty()
    }
}

fn master_summary(m: &MasterReport) -> String {
    let mut s = format!(
        "{} data file{}, {} here",
        m.data_files.len(),
        if m.data_files.len() == 1 { "" } else { "s" },
        m.data_files.len() - m.missing.len()
    );
    if let Some(n) = m.frames_announced {
        s += &format!("; {n} frames announced");
    }
    if let Some(n) = m.frames_found {
        s += &format!(", {n} found");
    }
    s
}

/// What the files offer for each field of the form, by field name. The collection's
/// end is left out: the form has one date, the start.
pub fn offers(r: &Report) -> BTreeMap<String, Vec<Offered>> {
    r.suggestions
        .iter()
        .filter(|s| s.pointer != "/facility/collection/end")
        .map(|s| {
            let offered = s
                .values
                .iter()
                .map(|v| Offered {
                    value: as_field(&v.value),
                    whence: whence(v.files, &v.example),
                })
                .collect();
            (field_of(&s.pointer), offered)
        })
        .collect()
}
