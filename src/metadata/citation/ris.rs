use super::{Name, doi, is_software, title, year};
use crate::metadata::datacite::model::Resource;

/// RIS: `TY  - DATA` for datasets, `COMP` for software.
pub fn ris(r: &Resource) -> String {
    let mut lines = vec![format!(
        "TY  - {}",
        if is_software(r) { "COMP" } else { "DATA" }
    )];
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    for c in &r.creators {
        lines.push(format!("AU  - {}", one_line(&Name::of(c).inverted())));
    }
    lines.push(format!("TI  - {}", one_line(&title(r))));
    if let Some(y) = year(r) {
        lines.push(format!("PY  - {y}"));
    }
    if let Some(p) = &r.publisher {
        lines.push(format!("PB  - {}", one_line(&p.name)));
    }
    if let Some(v) = &r.version {
        lines.push(format!("ET  - {}", one_line(v)));
    }
    if let Some(d) = doi(r) {
        lines.push(format!("DO  - {d}"));
        lines.push(format!("UR  - https://doi.org/{d}"));
    }
    for s in &r.subjects {
        lines.push(format!("KW  - {}", one_line(&s.subject)));
    }
    if let Some(a) = r
        .descriptions
        .iter()
        .find(|d| d.description_type.as_str() == "Abstract")
    {
        lines.push(format!("AB  - {}", one_line(&a.description)));
    }
    lines.push("ER  - ".into());
    lines.join("\r\n") + "\r\n"
}
