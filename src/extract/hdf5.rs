//! NeXus (NXmx) HDF5 files: the master file's instrument, beam, detector, sample and
//! times, the data files it links to, and a detector data file's frames. Read with
//! `hdf5-reader` (pure Rust: a hostile file gives an error, never a crash of the whole
//! process, and it reads byte ranges, so only the file's metadata is fetched from the
//! object store, never the whole file). Every read goes through [`Budget`], which counts
//! the bytes and stops at a named limit.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hdf5_reader::error::{Error, Result as H5Result};
use hdf5_reader::group::Group;
pub use hdf5_reader::storage::DynStorage;
use hdf5_reader::{
    Dataset, Datatype, ExternalLinkResolver, FilterRegistry, Hdf5File, OpenOptions, SliceInfo,
    SliceInfoElem, Storage, StorageBuffer,
};

use super::preview::{MAX_FRAME_PIXELS, Picture};
use super::{ExtractError, Facts};

/// At most this many bytes of an HDF5 file are read for its facts (a master file's
/// metadata is tens of kB; the data it may also hold is never read).
pub const HEADER_BYTES: u64 = 16 << 20;
/// At most this many bytes are read to draw a frame (one frame of a 16-megapixel
/// detector at 32 bits is 72 MB uncompressed, far less compressed).
pub const FRAME_BYTES: u64 = 160 << 20;
/// Reads are fetched in blocks of this size (small metadata reads share one request).
const BLOCK: usize = 64 * 1024;
/// Numeric datasets longer than this are not read as facts (an angle per frame is a few
/// thousand values).
const MAX_VALUES: u64 = 1 << 20;
/// The registered HDF5 filter id of bitshuffle (with LZ4 or Zstandard inside).
const FILTER_BITSHUFFLE: u16 = 32008;

/// Bytes in memory as a storage (tests, fuzzing, a file already read).
pub fn in_memory(bytes: Vec<u8>) -> DynStorage {
    Arc::new(hdf5_reader::BytesStorage::new(bytes))
}

/// A storage that counts the bytes read through it and refuses to go past a limit.
pub struct Budget {
    inner: DynStorage,
    read: AtomicU64,
    limit: u64,
}

impl Budget {
    pub fn new(inner: DynStorage, limit: u64) -> Arc<Self> {
        Arc::new(Budget {
            inner,
            read: AtomicU64::new(0),
            limit,
        })
    }

    /// Bytes read so far.
    pub fn used(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    fn exhausted(&self) -> bool {
        self.used() > self.limit
    }
}

impl Storage for Budget {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_range(&self, offset: u64, len: usize) -> H5Result<StorageBuffer> {
        let total = self.read.fetch_add(len as u64, Ordering::Relaxed) + len as u64;
        if total > self.limit {
            return Err(Error::ResourceLimit(format!(
                "more than {} bytes read",
                self.limit
            )));
        }
        self.inner.read_range(offset, len)
    }
}

/// Records the files external links name, without opening them: they are other files of
/// the deposit, checked against its list.
#[derive(Default)]
struct LinkedFiles(Mutex<Vec<String>>);

impl ExternalLinkResolver for LinkedFiles {
    fn resolve_external_link(&self, filename: &str) -> H5Result<Option<Hdf5File>> {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.iter().any(|f| f == filename) {
            seen.push(filename.to_owned());
        }
        Ok(None)
    }
}

fn failed(budget: &Budget, e: Error) -> ExtractError {
    if budget.exhausted() {
        return ExtractError::Hdf5(format!(
            "reading it needed more than {} bytes (the limit for one file)",
            budget.limit
        ));
    }
    match e {
        Error::UnexpectedEof { .. } | Error::OffsetOutOfBounds(_) => {
            ExtractError::Hdf5(format!("the file ends early (is it truncated?): {e}"))
        }
        other => ExtractError::Hdf5(other.to_string()),
    }
}

/// Opens the file, refusing one shorter than its superblock says (cut off in transfer:
/// whatever lies past the cut would otherwise just seem absent).
fn open(budget: &Arc<Budget>, links: Option<Arc<LinkedFiles>>) -> Result<Hdf5File, ExtractError> {
    let file = open_storage(budget, links).map_err(|e| failed(budget, e))?;
    let sb = file.superblock();
    let end = sb.base_address.saturating_add(sb.eof_address);
    if sb.eof_address != u64::MAX && end > budget.len() {
        return Err(ExtractError::Hdf5(format!(
            "the file is {} bytes and its superblock says {end}: it is truncated",
            budget.len()
        )));
    }
    Ok(file)
}

fn open_storage(budget: &Arc<Budget>, links: Option<Arc<LinkedFiles>>) -> H5Result<Hdf5File> {
    let cached: DynStorage = Arc::new(hdf5_reader::BlockCacheStorage::new(
        budget.clone(),
        BLOCK,
        (budget.limit as usize / BLOCK).clamp(16, 1024),
    ));
    let mut filters = FilterRegistry::new();
    filters.register(
        FILTER_BITSHUFFLE,
        Box::new(|d, data, element_size| {
            bitshuffle_lz4(&d.client_data, data, element_size).map_err(Error::InvalidData)
        }),
    );
    let mut options = OpenOptions::default()
        .with_filter_registry(filters)
        .with_max_read_bytes(FRAME_BYTES as usize)
        .with_max_chunk_bytes(FRAME_BYTES as usize)
        .with_max_object_header_bytes(1 << 20)
        .with_chunk_cache_bytes(0);
    if let Some(links) = links {
        options = options.with_external_link_resolver(links);
    }
    Hdf5File::from_storage_with_options(cached, options)
}

/// Runs the reader, turning a panic inside it (a bug in a parser of hostile bytes) into
/// the file's problem: the job records it instead of failing again and again. Under
/// fuzzing the panic goes through, so the fuzzer sees it.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, ExtractError>) -> Result<T, ExtractError> {
    if cfg!(fuzzing) {
        return f();
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ExtractError::Hdf5(format!(
            "the HDF5 reader failed on this file while {what}"
        )))
    })
}

/// What an HDF5 file says: an NXmx master's collection, or a data file's frames. Returns
/// the bytes read too, whatever the outcome.
pub fn read(storage: DynStorage) -> (Result<Facts, ExtractError>, u64) {
    let budget = Budget::new(storage, HEADER_BYTES);
    let facts = guarded("reading its metadata", || read_within(&budget));
    (facts, budget.used())
}

fn read_within(budget: &Arc<Budget>) -> Result<Facts, ExtractError> {
    let links = Arc::new(LinkedFiles::default());
    open(budget, Some(links.clone()))
        .and_then(|file| facts_of(&file).map_err(|e| failed(budget, e)))
        .map(|mut f| {
            f.linked_files =
                std::mem::take(&mut *links.0.lock().unwrap_or_else(|e| e.into_inner()));
            // In name order: a master of many links keeps them by hash.
            f.linked_files.sort();
            f
        })
}

fn class_of(g: &Group) -> Option<String> {
    g.attribute("NX_class").ok()?.read_string().ok()
}

/// A child group by its usual name, or else the first of its NeXus class.
fn child(g: &Group, name: &str, class: &str) -> Option<Group> {
    g.group(name).ok().or_else(|| {
        g.groups()
            .ok()?
            .into_iter()
            .find(|c| class_of(c).as_deref() == Some(class))
    })
}

fn text(g: &Group, name: &str) -> Option<String> {
    let ds = g.dataset(name).ok()?;
    let s = match ds.read_strings() {
        Ok(mut all) if !all.is_empty() => all.swap_remove(0),
        _ => return None,
    };
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty() && s.len() <= 1024).then(|| s.to_owned())
}

/// A numeric dataset's values as f64 (any integer or float type), if not too long.
fn values(ds: &Dataset) -> Option<Vec<f64>> {
    if ds.num_elements().ok()? > MAX_VALUES {
        return None;
    }
    macro_rules! as_f64 {
        ($t:ty) => {
            ds.read_array::<$t>()
                .ok()
                .map(|a| a.iter().map(|v| *v as f64).collect())
        };
    }
    match ds.dtype() {
        Datatype::FloatingPoint { size: 8, .. } => as_f64!(f64),
        Datatype::FloatingPoint { size: 4, .. } => as_f64!(f32),
        Datatype::FixedPoint { size, signed, .. } => match (size, signed) {
            (1, false) => as_f64!(u8),
            (1, true) => as_f64!(i8),
            (2, false) => as_f64!(u16),
            (2, true) => as_f64!(i16),
            (4, false) => as_f64!(u32),
            (4, true) => as_f64!(i32),
            (8, false) => as_f64!(u64),
            (8, true) => as_f64!(i64),
            _ => None,
        },
        _ => None,
    }
}

fn units(ds: &Dataset) -> Option<String> {
    ds.attribute("units").ok()?.read_string().ok()
}

/// The first value of a numeric dataset, converted to the unit wanted through `scale`
/// (which is given the dataset's `units` attribute and says `None` for an unknown one).
fn number(g: &Group, name: &str, scale: fn(Option<&str>) -> Option<f64>) -> Option<f64> {
    let ds = g.dataset(name).ok()?;
    let v = *values(&ds)?.first()?;
    let k = scale(units(&ds).as_deref().map(str::trim))?;
    let v = v * k;
    v.is_finite().then_some(v)
}

fn to_angstrom(u: Option<&str>) -> Option<f64> {
    match u {
        None | Some("angstrom" | "Angstrom" | "A" | "Å") => Some(1.0),
        Some("nm") => Some(10.0),
        Some("m") => Some(1e10),
        _ => None,
    }
}

fn to_mm(u: Option<&str>) -> Option<f64> {
    match u {
        Some("mm") => Some(1.0),
        // NeXus lengths are in metres unless the file says otherwise.
        None | Some("m") => Some(1000.0),
        Some("cm") => Some(10.0),
        Some("um" | "µm" | "microns") => Some(1e-3),
        _ => None,
    }
}

fn to_seconds(u: Option<&str>) -> Option<f64> {
    match u {
        None | Some("s" | "sec" | "second" | "seconds") => Some(1.0),
        Some("ms") => Some(1e-3),
        Some("us" | "µs") => Some(1e-6),
        _ => None,
    }
}

fn to_kelvin(u: Option<&str>) -> Option<f64> {
    match u {
        None | Some("K" | "kelvin") => Some(1.0),
        _ => None,
    }
}

fn as_is(_: Option<&str>) -> Option<f64> {
    Some(1.0)
}

/// The frames a group's image datasets hold (3-D: frame, row, column) and their size.
fn frames_in(g: &Group) -> Option<(u64, [u64; 2])> {
    let mut frames = 0;
    let mut size = None;
    for ds in g.datasets().ok()? {
        if let [n, h, w] = ds.shape() {
            frames += n;
            size.get_or_insert([*w, *h]);
        }
    }
    Some((frames, size?))
}

fn facts_of(file: &Hdf5File) -> H5Result<Facts> {
    let root = file.root_group()?;
    let mut f = Facts::default();
    // A detector's data file (no NeXus entry of its own beyond its data): its frames.
    let entry = child(&root, "entry", "NXentry");
    let Some(entry) = entry else {
        if let Some((n, size)) = frames_in(&root) {
            f.frames = Some(n);
            f.image_size = Some(size);
        }
        return Ok(f);
    };
    f.collected_from = text(&entry, "start_time").and_then(|t| super::normalise_time(&t));
    f.collected_until = text(&entry, "end_time").and_then(|t| super::normalise_time(&t));
    if text(&entry, "definition").is_some_and(|d| d.eq_ignore_ascii_case("NXmx")) {
        f.technique = Some("X-RAY DIFFRACTION".into());
    }
    let data = child(&entry, "data", "NXdata");
    if let Some((n, size)) = data.as_ref().and_then(frames_in) {
        f.frames = Some(n);
        f.image_size = Some(size);
    }
    if let Some(data) = &data {
        // Listing the members makes the reader name each external link's file.
        let _ = data.member_names();
    }
    let instrument = child(&entry, "instrument", "NXinstrument");
    if let Some(i) = &instrument {
        f.beamline = text(i, "name");
        if let Some(beam) = child(i, "beam", "NXbeam") {
            f.wavelength_angstrom = number(&beam, "incident_wavelength", to_angstrom);
        }
        if let Some(d) = child(i, "detector", "NXdetector") {
            f.detector = text(&d, "description");
            f.detector_serial = text(&d, "serial_number");
            f.detector_distance_mm = number(&d, "distance", to_mm);
            f.exposure_time_s = number(&d, "count_time", to_seconds);
            if let Ok(s) = d.group("detectorSpecific") {
                let n = number(&s, "nimages", as_is);
                let triggers = number(&s, "ntrigger", as_is).unwrap_or(1.0);
                if f.frames.is_none() {
                    f.frames = n.map(|n| (n * triggers) as u64);
                }
                if f.image_size.is_none() {
                    let x = number(&s, "x_pixels_in_detector", as_is);
                    let y = number(&s, "y_pixels_in_detector", as_is);
                    if let (Some(x), Some(y)) = (x, y) {
                        f.image_size = Some([x as u64, y as u64]);
                    }
                }
            }
        }
    }
    let source = child(&entry, "source", "NXsource").or_else(|| {
        instrument
            .as_ref()
            .and_then(|i| child(i, "source", "NXsource"))
    });
    f.facility = source.and_then(|s| text(&s, "name"));
    if let Some(s) = child(&entry, "sample", "NXsample") {
        f.sample = text(&s, "name");
        f.temperature_kelvin = number(&s, "temperature", to_kelvin);
        // The rotation: omega under the goniometer (Dectris) or the transformations
        // (DIALS and NXmx as written since 2020).
        let omega = ["goniometer", "transformations"]
            .iter()
            .find_map(|g| s.group(g).ok()?.dataset("omega").ok());
        if let Some(values) = omega.as_ref().and_then(values) {
            f.start_angle_deg = values.first().copied();
            if let [a, b, ..] = values[..] {
                f.angle_increment_deg = Some(b - a);
            }
            if f.frames.is_none() && values.len() > 1 {
                f.frames = Some(values.len() as u64);
            }
        }
    }
    Ok(f)
}

/// Bitshuffle with LZ4 inside, as the HDF5 filter 32008 writes it (the Eiger default):
/// the uncompressed size (8 bytes) and block size in bytes (4, both big-endian), then
/// per block a 4-byte compressed length and an LZ4 block holding the block's elements
/// bit-transposed; elements past the last multiple of 8 are stored as they are.
fn bitshuffle_lz4(params: &[u32], data: &[u8], element_size: usize) -> Result<Vec<u8>, String> {
    // Parameters: major, minor, element size, block size (elements), compression.
    let element_size = match params.get(2) {
        Some(&e) if e > 0 => e as usize,
        _ => element_size,
    };
    match params.get(4) {
        None | Some(0 | 2) => {}
        Some(3) => return Err("bitshuffle with Zstandard is not read (LZ4 is)".into()),
        Some(other) => return Err(format!("bitshuffle compression {other} is not known")),
    }
    if element_size == 0 || data.len() < 12 {
        return Err("bitshuffle chunk shorter than its header".into());
    }
    let total = u64::from_be_bytes(data[..8].try_into().map_err(|_| "header")?);
    let block_bytes = u32::from_be_bytes(data[8..12].try_into().map_err(|_| "header")?) as usize;
    if total > FRAME_BYTES || !(total as usize).is_multiple_of(element_size) {
        return Err(format!("bitshuffle chunk of {total} bytes is not read"));
    }
    let block = block_bytes / element_size;
    if block == 0 || !block.is_multiple_of(8) {
        return Err(format!(
            "bitshuffle block of {block_bytes} bytes is not valid"
        ));
    }
    let elements = total as usize / element_size;
    let mut out = vec![0u8; total as usize];
    let mut at = 12usize;
    let mut done = 0usize;
    let mut plain = vec![0u8; block_bytes];
    while elements - done >= 8 {
        let n = block.min((elements - done) / 8 * 8);
        let len = data
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or("bitshuffle chunk ends early")?;
        let src = data
            .get(at + 4..at + 4 + len)
            .ok_or("bitshuffle chunk ends early")?;
        at += 4 + len;
        let bytes = n * element_size;
        let got = lz4_flex::block::decompress_into(src, &mut plain[..bytes])
            .map_err(|e| format!("bitshuffle block: {e}"))?;
        if got != bytes {
            return Err("bitshuffle block decompressed to the wrong size".into());
        }
        unshuffle_bits(
            &plain[..bytes],
            &mut out[done * element_size..][..bytes],
            n,
            element_size,
        );
        done += n;
    }
    // The last few elements are stored as they are.
    let rest = (elements - done) * element_size;
    let tail = data
        .get(at..at + rest)
        .ok_or("bitshuffle chunk ends early")?;
    out[done * element_size..].copy_from_slice(tail);
    Ok(out)
}

/// Undoes bitshuffle's transpose of one block of `n` elements (n a multiple of 8): bit k
/// of byte b of element i is bit i % 8 of byte i / 8 of row 8·b + k, rows of n/8 bytes.
fn unshuffle_bits(shuffled: &[u8], out: &mut [u8], n: usize, element_size: usize) {
    let row = n / 8;
    out.fill(0);
    for b in 0..element_size {
        for k in 0..8 {
            let bits = &shuffled[(b * 8 + k) * row..][..row];
            for (j, &byte) in bits.iter().enumerate() {
                if byte == 0 {
                    continue;
                }
                for t in 0..8 {
                    if byte >> t & 1 == 1 {
                        out[(j * 8 + t) * element_size + b] |= 1 << k;
                    }
                }
            }
        }
    }
}

/// Draws the first frame of the file's images (`/entry/data/data`, or the first 3-D
/// dataset under the NeXus data group or the root) at most `side` pixels wide or high.
/// Pixels at the largest value of their type (how Eiger marks gaps and bad pixels) and
/// negative ones are shown as masked.
pub fn frame_picture(storage: DynStorage, side: usize) -> Result<Picture, ExtractError> {
    guarded("drawing its first frame", || {
        draw_first_frame(storage, side)
    })
}

fn draw_first_frame(storage: DynStorage, side: usize) -> Result<Picture, ExtractError> {
    let budget = Budget::new(storage, FRAME_BYTES);
    let file = open(&budget, None)?;
    let ds = first_image(&file)
        .map_err(|e| failed(&budget, e))?
        .ok_or_else(|| ExtractError::Preview("no 3-D image dataset in the file (its frames may be in the data files it links to)".into()))?;
    let [_, h, w] = ds.shape() else {
        return Err(ExtractError::Preview("not a stack of frames".into()));
    };
    let (w, h) = (*w, *h);
    if w == 0 || h == 0 || w.saturating_mul(h) > MAX_FRAME_PIXELS {
        return Err(ExtractError::Preview(format!(
            "a {w} × {h} image is not drawn (at most {MAX_FRAME_PIXELS} pixels)"
        )));
    }
    let first = SliceInfo {
        selections: vec![
            SliceInfoElem::Index(0),
            SliceInfoElem::Slice {
                start: 0,
                end: h,
                step: 1,
            },
            SliceInfoElem::Slice {
                start: 0,
                end: w,
                step: 1,
            },
        ],
    };
    let mut pic = super::preview::Pool::new(w as usize, h as usize, side);
    macro_rules! draw {
        ($t:ty, $masked:expr) => {{
            let frame = ds
                .read_slice::<$t>(&first)
                .map_err(|e| failed(&budget, e))?;
            let masked: fn($t) -> bool = $masked;
            for v in frame.iter() {
                pic.push(if masked(*v) { -1 } else { *v as i64 });
            }
        }};
    }
    match ds.dtype() {
        Datatype::FixedPoint { size, signed, .. } => match (size, signed) {
            (1, false) => draw!(u8, |v| v == u8::MAX),
            (2, false) => draw!(u16, |v| v == u16::MAX),
            (4, false) => draw!(u32, |v| v == u32::MAX),
            (1, true) => draw!(i8, |v| v < 0),
            (2, true) => draw!(i16, |v| v < 0),
            (4, true) => draw!(i32, |v| v < 0),
            (8, true) => draw!(i64, |v| v < 0),
            other => {
                return Err(ExtractError::Preview(format!(
                    "{}-byte {} pixels are not drawn",
                    other.0,
                    if *other.1 { "signed" } else { "unsigned" }
                )));
            }
        },
        Datatype::FloatingPoint { size: 4, .. } => draw!(f32, |v| !v.is_finite() || v < 0.0),
        Datatype::FloatingPoint { size: 8, .. } => draw!(f64, |v| !v.is_finite() || v < 0.0),
        other => {
            return Err(ExtractError::Preview(format!(
                "pixels of type {other:?} are not drawn"
            )));
        }
    }
    Ok(pic.finish())
}

fn first_image(file: &Hdf5File) -> H5Result<Option<Dataset>> {
    let root = file.root_group()?;
    let data = child(&root, "entry", "NXentry").and_then(|e| child(&e, "data", "NXdata"));
    for g in data.iter().chain(std::iter::once(&root)) {
        if let Ok(ds) = g.dataset("data")
            && ds.ndim() == 3
        {
            return Ok(Some(ds));
        }
        if let Ok(all) = g.datasets()
            && let Some(ds) = all.into_iter().find(|d| d.ndim() == 3)
        {
            return Ok(Some(ds));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitshuffle's forward transpose, straight from its definition, to test the inverse.
    fn shuffle_bits(plain: &[u8], n: usize, e: usize) -> Vec<u8> {
        let row = n / 8;
        let mut out = vec![0u8; n * e];
        for i in 0..n {
            for b in 0..e {
                for k in 0..8 {
                    if plain[i * e + b] >> k & 1 == 1 {
                        out[(b * 8 + k) * row + i / 8] |= 1 << (i % 8);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn bitshuffle_lz4_round_trips_with_a_short_last_block_and_a_tail() {
        let e = 4usize;
        let values: Vec<u32> = (0..1000u32)
            .map(|i| i.wrapping_mul(2654435761) >> 20)
            .collect();
        let plain: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let block = 256usize; // elements: 3 whole blocks, one of 232, then a tail of 0
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&(plain.len() as u64).to_be_bytes());
        chunk.extend_from_slice(&((block * e) as u32).to_be_bytes());
        let mut done = 0;
        let elements = values.len();
        while elements - done >= 8 {
            let n = block.min((elements - done) / 8 * 8);
            let shuffled = shuffle_bits(&plain[done * e..(done + n) * e], n, e);
            let c = lz4_flex::block::compress(&shuffled);
            chunk.extend_from_slice(&(c.len() as u32).to_be_bytes());
            chunk.extend_from_slice(&c);
            done += n;
        }
        chunk.extend_from_slice(&plain[done * e..]);
        let params = [0, 3, 4, 0, 2];
        assert_eq!(bitshuffle_lz4(&params, &chunk, 4).unwrap(), plain);
        // Cut anywhere: an error, never a panic.
        for cut in [0, 5, 12, 20, chunk.len() - 1] {
            assert!(bitshuffle_lz4(&params, &chunk[..cut], 4).is_err());
        }
        assert!(
            bitshuffle_lz4(&[0, 3, 4, 0, 3], &chunk, 4)
                .unwrap_err()
                .contains("Zstandard")
        );
    }

    /// Files h5py and hdf5plugin wrote (the fuzz target's seeds).
    fn seed(name: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/file_headers/");
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    #[test]
    fn an_h5py_master_names_its_collection_and_data_files() {
        let (facts, read) = read(in_memory(seed("nxmx_master.h5")));
        let f = facts.unwrap();
        assert_eq!(f.beamline.as_deref(), Some("BEAMLINE I04"));
        assert_eq!(f.wavelength_angstrom, Some(0.98));
        // No units: NeXus lengths are metres.
        assert_eq!(f.detector_distance_mm, Some(200.0));
        assert_eq!(f.sample.as_deref(), Some("lyso"));
        assert_eq!(
            (f.frames, f.angle_increment_deg.map(|a| (a * 10.0).round())),
            (Some(4), Some(1.0))
        );
        assert_eq!(f.collected_from.as_deref(), Some("2024-03-05T10:11:12"));
        assert_eq!(f.linked_files, ["x_data_000001.h5"]);
        assert!(read > 0 && read <= 16792 + BLOCK as u64);
    }

    #[test]
    fn frames_compressed_with_bitshuffle_lz4_and_deflate_are_drawn() {
        let p = frame_picture(in_memory(seed("bitshuffle_frames.h5")), 64).unwrap();
        assert_eq!((p.width, p.height), (16, 8));
        let rgb = p.rgb();
        let at = |x: usize, y: usize| &rgb[(y * 16 + x) * 3..][..3];
        assert_eq!(at(5, 2), [0, 0, 0], "the spot");
        assert_eq!(at(0, 6), [70, 110, 200], "the largest uint32 is masked");
        assert!(at(0, 0)[0] > 150, "the background");
        let p = frame_picture(in_memory(seed("gzip_frames.h5")), 64).unwrap();
        assert_eq!((p.width, p.height), (16, 8));
        // The first frame holds 0..127: its last pixel is the brightest.
        assert_eq!(&p.rgb()[127 * 3..], [0, 0, 0]);
        // A master without frames of its own says where they are.
        let e = frame_picture(in_memory(seed("nxmx_master.h5")), 64)
            .err()
            .unwrap();
        assert!(e.to_string().contains("data files it links to"), "{e}");
    }

    #[test]
    fn a_cut_file_and_a_spent_budget_are_named() {
        let whole = seed("nxmx_master.h5");
        let (r, _) = read(in_memory(whole[..whole.len() / 2].to_vec()));
        assert!(r.unwrap_err().to_string().contains("truncated"));
        let budget = Budget::new(in_memory(whole), 100);
        let e = open(&budget, None).and_then(|f| facts_of(&f).map_err(|e| failed(&budget, e)));
        assert!(e.unwrap_err().to_string().contains("more than 100 bytes"));
    }

    #[test]
    fn a_panic_in_the_reader_is_the_files_problem_not_the_jobs() {
        let r: Result<(), _> = guarded("reading its metadata", || panic!("a bug"));
        assert_eq!(
            r.unwrap_err().to_string(),
            "the HDF5 file could not be read: the HDF5 reader failed on this file while reading its metadata"
        );
    }

    #[test]
    fn garbage_after_the_signature_is_a_clear_error() {
        let mut bytes = super::super::HDF5_MAGIC.to_vec();
        bytes.extend(std::iter::repeat_n(0xA5u8, 4000));
        let (r, read) = read(in_memory(bytes));
        let e = r.unwrap_err().to_string();
        assert!(e.starts_with("the HDF5 file could not be read"), "{e}");
        assert!(read > 0);
    }
}
