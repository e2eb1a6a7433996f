//! Pictures of detector frames: a CBF image's pixels decoded (byte-offset compression or
//! none) straight into a smaller grid, each cell the brightest pixel it covers so single
//! spots survive, then log-scaled to grey; masked pixels (negative: module gaps, bad
//! pixels) are shown in a colour of their own. Memory is the picture's, never the frame's.

use super::ExtractError;
use super::cbf;

/// The largest frame drawn, in pixels (a 16-megapixel Eiger has 18 million).
pub const MAX_FRAME_PIXELS: u64 = 64 * 1024 * 1024;
/// Masked pixels, drawn in this colour.
const MASKED: [u8; 3] = [70, 110, 200];

/// A frame reduced to at most `side` pixels on its longer edge.
pub struct Picture {
    pub width: usize,
    pub height: usize,
    /// Per cell: the brightest value, or `None` when every pixel it covers is masked.
    cells: Vec<Option<i64>>,
}

impl Picture {
    fn new(frame_w: usize, frame_h: usize, side: usize) -> Self {
        let scale = (frame_w.max(frame_h) as f64 / side as f64).max(1.0);
        let width = ((frame_w as f64 / scale).ceil() as usize).max(1);
        let height = ((frame_h as f64 / scale).ceil() as usize).max(1);
        Picture {
            width,
            height,
            cells: vec![None; width * height],
        }
    }

    /// RGB bytes: log-scaled grey, dark spots on white as on film, masked cells blue.
    pub fn rgb(&self) -> Vec<u8> {
        // The log of the brightest cell is the top of the scale: background counts stay
        // light and spots of every strength show (a percentile would put a uniform
        // background at the top and draw it black).
        let top = self
            .cells
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(1)
            .max(1);
        let top = (top as f64).ln_1p();
        let mut out = Vec::with_capacity(self.cells.len() * 3);
        for c in &self.cells {
            match c {
                None => out.extend_from_slice(&MASKED),
                Some(v) => {
                    let level = ((*v).max(0) as f64).ln_1p() / top;
                    let grey = 255 - (level.min(1.0) * 255.0).round() as u8;
                    out.extend_from_slice(&[grey, grey, grey]);
                }
            }
        }
        out
    }

    /// The picture as a PNG file.
    pub fn png(&self) -> Result<Vec<u8>, ExtractError> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let fail = |e: png::EncodingError| ExtractError::Preview(format!("PNG: {e}"));
        let mut w = enc.write_header().map_err(fail)?;
        w.write_image_data(&self.rgb()).map_err(fail)?;
        w.finish().map_err(fail)?;
        Ok(out)
    }
}

/// Pools decoded pixels, in row order, into a picture's cells.
pub(super) struct Pool {
    pic: Picture,
    frame_w: usize,
    frame_h: usize,
    at: usize,
}

impl Pool {
    pub(super) fn new(frame_w: usize, frame_h: usize, side: usize) -> Self {
        Pool {
            pic: Picture::new(frame_w, frame_h, side),
            frame_w,
            frame_h,
            at: 0,
        }
    }

    pub(super) fn finish(self) -> Picture {
        self.pic
    }

    /// The next pixel; a negative value is a masked one.
    pub(super) fn push(&mut self, v: i64) {
        let (x, y) = (self.at % self.frame_w, self.at / self.frame_w);
        self.at += 1;
        if y >= self.frame_h {
            return;
        }
        let cx = x * self.pic.width / self.frame_w;
        let cy = y * self.pic.height / self.frame_h;
        let cell = &mut self.pic.cells[cy * self.pic.width + cx];
        if v >= 0 {
            *cell = Some(cell.map_or(v, |c| c.max(v)));
        }
    }
}

/// Draws a whole CBF image (header and binary) at most `side` pixels wide or high.
pub fn cbf_picture(file: &[u8], side: usize) -> Result<Picture, ExtractError> {
    let boundary = b"--CIF-BINARY-FORMAT-SECTION--";
    let mime_at = file
        .windows(boundary.len())
        .position(|w| w == boundary)
        .ok_or(ExtractError::Preview("no binary section in the CBF".into()))?;
    let b = cbf::binary(
        &String::from_utf8_lossy(&file[mime_at..file.len().min(mime_at + 4096)]),
        file,
    );
    let (Some(w), Some(h), Some(start)) = (b.width, b.height, b.data_at) else {
        return Err(ExtractError::Preview(
            "the CBF's binary section does not give the image size".into(),
        ));
    };
    if w == 0 || h == 0 || w.saturating_mul(h) > MAX_FRAME_PIXELS {
        return Err(ExtractError::Preview(format!(
            "a {w} × {h} image is not drawn (at most {MAX_FRAME_PIXELS} pixels)"
        )));
    }
    let (w, h) = (w as usize, h as usize);
    let mut pool = Pool::new(w, h, side);
    let data = &file[start..];
    let n = w * h;
    let conversions = b.conversions.as_deref().unwrap_or("");
    if conversions.eq_ignore_ascii_case("x-CBF_BYTE_OFFSET") {
        byte_offset(data, n, |v| pool.push(v))?;
    } else if conversions.eq_ignore_ascii_case("x-CBF_NONE") || conversions.is_empty() {
        let element = b.element_type.as_deref().unwrap_or("signed 32-bit integer");
        let size = match element {
            e if e.contains("32-bit") => 4,
            e if e.contains("16-bit") => 2,
            _ => {
                return Err(ExtractError::Preview(format!(
                    "uncompressed {element} pixels are not drawn"
                )));
            }
        };
        if data.len() < n * size {
            return Err(ExtractError::Preview("the image ends early".into()));
        }
        let signed = !element.contains("unsigned");
        for px in data[..n * size].chunks_exact(size) {
            let v = match (size, signed) {
                (4, true) => i32::from_le_bytes(px.try_into().unwrap_or_default()) as i64,
                (4, false) => u32::from_le_bytes(px.try_into().unwrap_or_default()) as i64,
                (_, true) => i16::from_le_bytes(px.try_into().unwrap_or_default()) as i64,
                (_, false) => u16::from_le_bytes(px.try_into().unwrap_or_default()) as i64,
            };
            pool.push(v);
        }
    } else {
        return Err(ExtractError::Preview(format!(
            "CBF compression {conversions} is not drawn (byte offset and none are)"
        )));
    }
    Ok(pool.finish())
}

/// CBF byte-offset decompression: each pixel is the previous plus a delta of 1 byte,
/// or, after an escape, of 2, 4 or 8 (little-endian).
fn byte_offset(data: &[u8], n: usize, mut emit: impl FnMut(i64)) -> Result<(), ExtractError> {
    let short = || ExtractError::Preview("the image ends early".into());
    let mut at = 0usize;
    let mut v: i64 = 0;
    for _ in 0..n {
        let take = |at: &mut usize, k: usize| -> Result<&[u8], ExtractError> {
            let s = data.get(*at..*at + k).ok_or_else(short)?;
            *at += k;
            Ok(s)
        };
        let d8 = take(&mut at, 1)?[0] as i8;
        let delta = if d8 != i8::MIN {
            d8 as i64
        } else {
            let d16 = i16::from_le_bytes(take(&mut at, 2)?.try_into().map_err(|_| short())?);
            if d16 != i16::MIN {
                d16 as i64
            } else {
                let d32 = i32::from_le_bytes(take(&mut at, 4)?.try_into().map_err(|_| short())?);
                if d32 != i32::MIN {
                    d32 as i64
                } else {
                    i64::from_le_bytes(take(&mut at, 8)?.try_into().map_err(|_| short())?)
                }
            }
        };
        v = v.wrapping_add(delta);
        emit(v);
    }
    Ok(())
}

/// Byte-offset CBF images for tests (the interoperability tests use fabio's).
#[cfg(any(test, feature = "test-hooks"))]
pub mod testing {
    /// Byte-offset compression, as CBFlib writes it.
    pub fn compress(values: &[i64]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = 0i64;
        for &v in values {
            let d = v - prev;
            prev = v;
            if (-127..=127).contains(&d) {
                out.push(d as i8 as u8);
            } else {
                out.push(0x80);
                if (-32767..=32767).contains(&d) {
                    out.extend_from_slice(&(d as i16).to_le_bytes());
                } else {
                    out.extend_from_slice(&i16::MIN.to_le_bytes());
                    out.extend_from_slice(&(d as i32).to_le_bytes());
                }
            }
        }
        out
    }

    /// A miniCBF of `w` × `h` pixels holding `values`, byte-offset compressed.
    pub fn cbf(w: usize, h: usize, values: &[i64]) -> Vec<u8> {
        let mut f = format!(
            "###CBF: VERSION 1.5\r\ndata_t\r\n_array_data.data\r\n;\r\n--CIF-BINARY-FORMAT-SECTION--\r\n\
             Content-Type: application/octet-stream;\r\n     conversions=\"x-CBF_BYTE_OFFSET\"\r\n\
             X-Binary-Size-Fastest-Dimension: {w}\r\nX-Binary-Size-Second-Dimension: {h}\r\n\r\n"
        )
        .into_bytes();
        f.extend_from_slice(&[0x0c, 0x1a, 0x04, 0xd5]);
        f.extend_from_slice(&compress(values));
        f
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{cbf, compress};
    use super::*;

    #[test]
    fn decodes_byte_offset_with_every_escape() {
        let values = [0, 5, -1, 300, -40_000, 100_000, 7, 7];
        let mut got = Vec::new();
        byte_offset(&compress(&values), values.len(), |v| got.push(v)).unwrap();
        assert_eq!(got, values);
        let cut = &compress(&values)[..5];
        assert!(byte_offset(cut, values.len(), |_| ()).is_err());
    }

    #[test]
    fn a_spot_survives_shrinking_and_masked_pixels_keep_their_colour() {
        // 100 × 60 of background 1, one bright pixel, one masked module row.
        let (w, h) = (100, 60);
        let mut values = vec![1i64; w * h];
        values[30 * w + 77] = 50_000;
        for v in &mut values[8 * w..12 * w] {
            *v = -1;
        }
        let pic = cbf_picture(&cbf(w, h, &values), 25).unwrap();
        assert_eq!((pic.width, pic.height), (25, 15));
        let rgb = pic.rgb();
        let px = |x: usize, y: usize| &rgb[(y * pic.width + x) * 3..][..3];
        assert_eq!(
            px(77 / 4, 30 / 4),
            [0, 0, 0],
            "the spot is the darkest cell"
        );
        assert_eq!(px(3, 2), [70, 110, 200], "masked rows are blue");
        assert!(px(3, 14)[0] > 150, "background is light");
        let png = pic.png().unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn refuses_what_it_cannot_draw_by_name() {
        let e = cbf_picture(&cbf(100_000_000, 1, &[]), 256)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("at most"), "{e}");
        let short = cbf(10, 10, &[1, 2, 3]);
        assert!(
            cbf_picture(&short, 256)
                .err()
                .unwrap()
                .to_string()
                .contains("ends early")
        );
    }
}
