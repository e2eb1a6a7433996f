//! miniCBF headers, as Pilatus and Eiger detectors (and fabio, and DIALS) write them: a
//! CIF block whose `_array_data.header_contents` holds `# Key value unit` lines, then the
//! binary section's MIME header (image size, element type, compression).

use super::{ExtractError, Facts, cif, normalise_time};

/// Where the binary image starts (CBF's four-byte marker).
const BINARY_MARKER: &[u8] = &[0x0c, 0x1a, 0x04, 0xd5];
const MIME_BOUNDARY: &str = "--CIF-BINARY-FORMAT-SECTION--";

/// The binary section's description, for a preview.
#[derive(Debug, Default, PartialEq)]
pub struct Binary {
    pub width: Option<u64>,
    pub height: Option<u64>,
    /// `x-CBF_BYTE_OFFSET`, `x-CBF_NONE`, …
    pub conversions: Option<String>,
    pub element_type: Option<String>,
    pub size: Option<u64>,
    /// Where the image's bytes start, when the marker was within what was read.
    pub data_at: Option<usize>,
}

/// Whether the header (and the binary section's description) is all within `head`.
pub fn header_ends_within(head: &[u8]) -> bool {
    find(head, BINARY_MARKER).is_some()
}

pub fn read(head: &[u8]) -> Result<Facts, ExtractError> {
    let text_end = find(head, BINARY_MARKER).unwrap_or(head.len());
    let text = String::from_utf8_lossy(&head[..text_end]);
    let (cif_part, mime) = match text.find(MIME_BOUNDARY) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (&text[..], None),
    };
    let block = cif::first_block(cif_part, |t| t == "_array_data.data");
    let contents = block
        .as_ref()
        .and_then(|b| b.get("_array_data.header_contents"));
    let binary = mime.map(|m| binary(m, head)).unwrap_or_default();
    if contents.is_none() && binary.width.is_none() {
        return Err(ExtractError::NoCbfHeader(head.len()));
    }
    let mut f = contents.map(pilatus_header).unwrap_or_default();
    if let (Some(w), Some(h)) = (binary.width, binary.height) {
        f.image_size = Some([w, h]);
    }
    f.frames = Some(1);
    Ok(f)
}

/// The MIME header of the binary section.
pub fn binary(mime: &str, head: &[u8]) -> Binary {
    let mut b = Binary {
        data_at: find(head, BINARY_MARKER).map(|at| at + BINARY_MARKER.len()),
        ..Binary::default()
    };
    for line in mime.lines().take(64) {
        let Some((k, v)) = line.split_once(':') else {
            if let Some(c) = line.trim().strip_prefix("conversions=") {
                b.conversions = Some(c.trim_matches(['"', ';']).to_owned());
            }
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim().to_ascii_lowercase().as_str() {
            "x-binary-size-fastest-dimension" => b.width = v.parse().ok(),
            "x-binary-size-second-dimension" => b.height = v.parse().ok(),
            "x-binary-element-type" => b.element_type = Some(v.to_owned()),
            "x-binary-size" => b.size = v.parse().ok(),
            "content-type" => {
                if let Some((_, c)) = v.split_once("conversions=") {
                    b.conversions = Some(c.trim_matches(['"', ';', ' ']).to_owned());
                }
            }
            _ => {}
        }
    }
    b
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The first number of a value, in the unit it names converted by `scale`.
fn quantity(v: &str, units: &[(&str, f64)]) -> Option<f64> {
    let mut words = v.split_whitespace();
    let n = cif::number(words.next()?)?;
    let unit = words.next().unwrap_or("").trim_end_matches('.');
    units
        .iter()
        .find(|(u, _)| u.eq_ignore_ascii_case(unit))
        .or(units.first().filter(|_| unit.is_empty()))
        .map(|(_, s)| n * s)
}

/// The `# Key value` lines of a Pilatus-convention header.
fn pilatus_header(contents: &str) -> Facts {
    const LENGTH_MM: &[(&str, f64)] = &[("m", 1000.0), ("mm", 1.0)];
    const ANGLE: &[(&str, f64)] = &[("deg", 1.0)];
    const SECONDS: &[(&str, f64)] = &[("s", 1.0), ("ms", 0.001)];
    const ANGSTROM: &[(&str, f64)] = &[("A", 1.0), ("nm", 10.0)];
    let mut f = Facts::default();
    for line in contents.lines() {
        let line = line.trim().trim_start_matches('#').trim();
        let (key, value) = line
            .split_once([' ', ':'])
            .map_or((line, ""), |(k, v)| (k, v.trim_start_matches(':').trim()));
        match key.to_ascii_lowercase().as_str() {
            "detector" => {
                // `PILATUS 6M, S/N 60-0100 Diamond`
                let (name, serial) = match value.split_once(", S/N") {
                    Some((n, s)) => (n, s.split_whitespace().next()),
                    None => (value, None),
                };
                f.detector = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
                f.detector_serial = serial.map(str::to_owned);
            }
            "wavelength" => f.wavelength_angstrom = quantity(value, ANGSTROM),
            "detector_distance" => f.detector_distance_mm = quantity(value, LENGTH_MM),
            "start_angle" => f.start_angle_deg = quantity(value, ANGLE),
            "angle_increment" => f.angle_increment_deg = quantity(value, ANGLE),
            "exposure_time" => f.exposure_time_s = quantity(value, SECONDS),
            _ if f.collected_from.is_none() => f.collected_from = normalise_time(line),
            _ => {}
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header a Pilatus 6M at Diamond wrote (abridged), and its binary section.
    fn pilatus() -> Vec<u8> {
        let mut v = b"###CBF: VERSION 1.5, CBFlib v0.7.8 - PILATUS detectors\r\n\r\n\
data_insulin_1_00001\r\n\r\n\
_array_data.header_convention \"PILATUS_1.2\"\r\n\
_array_data.header_contents\r\n\
;\r\n\
# Detector: PILATUS 6M, S/N 60-0100 Diamond\r\n\
# 2010-Jun-09T12:30:00.000\r\n\
# Pixel_size 172e-6 m x 172e-6 m\r\n\
# Exposure_time 0.200000 s\r\n\
# Wavelength 0.97950 A\r\n\
# Detector_distance 0.24500 m\r\n\
# Start_angle 10.0000 deg.\r\n\
# Angle_increment 0.1000 deg.\r\n\
;\r\n\r\n\
_array_data.data\r\n\
;\r\n\
--CIF-BINARY-FORMAT-SECTION--\r\n\
Content-Type: application/octet-stream;\r\n\
     conversions=\"x-CBF_BYTE_OFFSET\"\r\n\
Content-Transfer-Encoding: BINARY\r\n\
X-Binary-Size: 6224001\r\n\
X-Binary-Element-Type: \"signed 32-bit integer\"\r\n\
X-Binary-Size-Fastest-Dimension: 2463\r\n\
X-Binary-Size-Second-Dimension: 2527\r\n\
\r\n"
            .to_vec();
        v.extend_from_slice(BINARY_MARKER);
        v.extend_from_slice(&[0x80, 0x01, 0x00, 0xff, 0x0c, 0x1a]);
        v
    }

    #[test]
    fn reads_a_pilatus_header() {
        let f = read(&pilatus()).unwrap();
        assert_eq!(f.detector.as_deref(), Some("PILATUS 6M"));
        assert_eq!(f.detector_serial.as_deref(), Some("60-0100"));
        assert_eq!(f.collected_from.as_deref(), Some("2010-06-09T12:30:00"));
        assert_eq!(f.wavelength_angstrom, Some(0.9795));
        assert_eq!(f.detector_distance_mm, Some(245.0));
        assert_eq!(f.start_angle_deg, Some(10.0));
        assert_eq!(f.angle_increment_deg, Some(0.1));
        assert_eq!(f.exposure_time_s, Some(0.2));
        assert_eq!(f.image_size, Some([2463, 2527]));
        let head = pilatus();
        let at = find(&head, MIME_BOUNDARY.as_bytes()).unwrap();
        let b = binary(&String::from_utf8_lossy(&head[at..]), &head);
        assert_eq!(b.conversions.as_deref(), Some("x-CBF_BYTE_OFFSET"));
        assert_eq!(b.element_type.as_deref(), Some("signed 32-bit integer"));
        assert_eq!(b.data_at, Some(head.len() - 6));
    }

    #[test]
    fn a_cut_or_foreign_header_is_an_error_or_less_never_a_panic() {
        let head = pilatus();
        for cut in 0..head.len() {
            let _ = read(&head[..cut]);
        }
        assert_eq!(
            read(b"###CBF but nothing else"),
            Err(ExtractError::NoCbfHeader(23))
        );
    }
}
