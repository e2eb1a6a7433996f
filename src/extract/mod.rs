//! Facts read from the headers of deposited files: where, when and how the data were
//! collected, as the detector or the refinement program wrote them. Pure: the first
//! bytes of a file in, facts out; the service decides how many bytes to read
//! ([`read_len`]) and never reads a whole file.

pub mod cbf;
pub mod cif;
pub mod hdf5;
pub mod mmcif;
pub mod preview;
pub mod series;

use serde::{Deserialize, Serialize};

pub use crate::model::DataFormat as Format;

/// How many bytes are read from the start of a file to recognise it (and, for a CBF
/// image, usually to read its whole header).
pub const SNIFF_BYTES: usize = 4096;
/// At most this much of a CBF image is read for its header (which ends where the binary
/// image starts: a few kB from Pilatus and Eiger detectors).
pub const CBF_HEADER_BYTES: usize = 64 * 1024;
/// At most this much of an mmCIF file is read for its header (the coordinates, which
/// follow it, are never needed).
pub const MMCIF_HEADER_BYTES: usize = 1024 * 1024;

pub const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Recognises a file from its first bytes; `None` for anything else (skipped quietly).
pub fn sniff(head: &[u8]) -> Option<Format> {
    // HDF5's signature sits at 0 or after a user block of 512 · 2^k bytes.
    let mut at = 0usize;
    while at + 8 <= head.len() {
        if &head[at..at + 8] == HDF5_MAGIC {
            return Some(Format::Hdf5);
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return None; // compressed: its header is not readable without inflating it all
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    if text.starts_with("###CBF") || text.contains("_array_data.") {
        return Some(Format::Cbf);
    }
    // A CIF's first token is its data block (after comments and blank lines).
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if first.is_some_and(|l| l.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data_"))) {
        return Some(Format::Mmcif);
    }
    None
}

/// How much of a file of this format the header reader needs, given its first bytes.
pub fn read_len(format: Format, head: &[u8]) -> usize {
    match format {
        Format::Cbf if cbf::header_ends_within(head) => head.len(),
        Format::Cbf => CBF_HEADER_BYTES,
        Format::Mmcif => MMCIF_HEADER_BYTES,
        Format::Hdf5 => head.len(),
    }
}

/// What a header says. Every field is what one file says; differences between files are
/// kept apart by the caller, never averaged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Facts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector_serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wavelength_angstrom: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detector_distance_mm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_angle_deg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub angle_increment_deg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure_time_s: Option<f64>,
    /// The sample's temperature during collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature_kelvin: Option<f64>,
    /// When collection started (local time as written, `YYYY-MM-DDTHH:MM:SS`, or a date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_until: Option<String>,
    /// The light source or synchrotron (`_diffrn_source.pdbx_synchrotron_site`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beamline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technique: Option<String>,
    /// Image width and height in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<[u64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// Unit cell a, b, c (Å), α, β, γ (°).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<[f64; 6]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdb_id: Option<String>,
    /// Files this one refers to (an NXmx master's data files), relative to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub linked_files: Vec<String>,
}

/// Why a recognised file's header could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExtractError {
    #[error("no CIF data block in the first {0} bytes")]
    NoDataBlock(usize),
    #[error(
        "no CBF header (`_array_data.header_contents` or X-Binary lines) in the first {0} bytes"
    )]
    NoCbfHeader(usize),
    #[error("the HDF5 file could not be read: {0}")]
    Hdf5(String),
    /// Why an image cannot be drawn.
    #[error("{0}")]
    Preview(String),
}

/// Reads a recognised file's header from its first bytes (an HDF5 file's metadata is
/// spread through it: the service reads it by ranges with [`hdf5::read`]; given only
/// bytes, what they hold is read).
pub fn read(format: Format, head: &[u8]) -> Result<Facts, ExtractError> {
    match format {
        Format::Cbf => cbf::read(head),
        Format::Mmcif => mmcif::read(head),
        Format::Hdf5 => hdf5::read(hdf5::in_memory(head.to_vec())).0,
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A date or time as detectors and PDB files write them (`2010-06-09T12:30:00.000`,
/// `2010-Jun-09T12:30:00`, `2009/Jun/22 10:35:02.123`, `09-JUN-10`, ISO 8601 with a
/// zone), as `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`; `None` when it is not a valid one.
pub fn normalise_time(text: &str) -> Option<String> {
    let text = text.trim();
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    let [a, b, c] = parts[..] else { return None };
    let month = |m: &str| -> Option<i8> {
        m.parse::<i8>().ok().or_else(|| {
            let m = m.to_ascii_lowercase();
            MONTHS.iter().position(|n| *n == m).map(|i| i as i8 + 1)
        })
    };
    let (y, m, d) = if a.len() == 4 {
        (a.parse::<i16>().ok()?, month(b)?, c.parse::<i8>().ok()?)
    } else {
        // PDB's DD-MON-YY: 00–49 is this century (no synchrotron data before 1950).
        let yy: i16 = c.parse().ok()?;
        let y = if c.len() == 2 {
            if yy < 50 { 2000 + yy } else { 1900 + yy }
        } else {
            yy
        };
        (y, month(b)?, a.parse::<i8>().ok()?)
    };
    let date = jiff::civil::Date::new(y, m, d).ok()?;
    let Some(time) = time else {
        return Some(date.to_string());
    };
    // Hours, minutes, seconds; a fraction and a zone are dropped (local time as written).
    let hms: Vec<&str> = time
        .split(['.', 'Z', '+', '-'])
        .next()?
        .split(':')
        .collect();
    let [h, mi, s] = hms[..] else {
        return Some(date.to_string());
    };
    let (h, mi, s): (i8, i8, i8) = (h.parse().ok()?, mi.parse().ok()?, s.parse().ok()?);
    jiff::civil::Time::new(h, mi, s, 0).ok()?;
    Some(format!("{date}T{h:02}:{mi:02}:{s:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats_by_their_start() {
        assert_eq!(sniff(b"\x89HDF\r\n\x1a\n\0\0"), Some(Format::Hdf5));
        let mut user_block = vec![0u8; 1024];
        user_block.extend_from_slice(HDF5_MAGIC);
        assert_eq!(sniff(&user_block), Some(Format::Hdf5));
        assert_eq!(sniff(b"###CBF: VERSION 1.5\n"), Some(Format::Cbf));
        assert_eq!(
            sniff(b"# made by gemmi\ndata_1ABC\n_entry.id 1ABC\n"),
            Some(Format::Mmcif)
        );
        assert_eq!(sniff(b"\x1f\x8b\x08compressed"), None);
        assert_eq!(sniff(b"PNG or anything else"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn times_as_detectors_and_pdb_write_them() {
        let t = |s| normalise_time(s);
        assert_eq!(
            t("2010-06-09T12:30:00.000").as_deref(),
            Some("2010-06-09T12:30:00")
        );
        assert_eq!(
            t("2010-Jun-09T12:30:00.000").as_deref(),
            Some("2010-06-09T12:30:00")
        );
        assert_eq!(
            t("2009/Jun/22 10:35:02.123").as_deref(),
            Some("2009-06-22T10:35:02")
        );
        assert_eq!(
            t("2021-03-04T05:06:07+01:00").as_deref(),
            Some("2021-03-04T05:06:07")
        );
        assert_eq!(
            t("2021-03-04T05:06:07Z").as_deref(),
            Some("2021-03-04T05:06:07")
        );
        assert_eq!(t("09-JUN-10").as_deref(), Some("2010-06-09"));
        assert_eq!(t("2010-06-09").as_deref(), Some("2010-06-09"));
        assert_eq!(t("2010-02-30"), None);
        assert_eq!(t("2010-06-09T25:00:00"), None);
        assert_eq!(t("PILATUS 6M"), None);
        assert_eq!(t(""), None);
    }
}
