//! A tar stream's headers, checked as the bytes pass, before a tar reader buffers them.
//!
//! Tar readers keep GNU long names and PAX extension records in memory whole, however
//! large their headers say they are; a crafted bag could make the server allocate
//! gigabytes for one "file name". This scanner walks the same block structure (headers,
//! padded data, PAX `size` overrides) and refuses an extension header over
//! [`MAX_EXTENSION`] and a stream over the caller's byte limit, so what reaches the tar
//! reader is bounded. It only reads headers; entry data passes through uncopied.

/// The largest GNU long name/link or PAX extension header accepted (real ones are a few
/// hundred bytes: a path of up to 4 KiB and a handful of records).
pub const MAX_EXTENSION: u64 = 64 << 10;

const BLOCK: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarScanError {
    #[error("the archive is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(
        "a tar extension header (long name or PAX) of {size} bytes is over the limit of {MAX_EXTENSION} bytes"
    )]
    ExtensionTooLarge { size: u64 },
    #[error("a tar header has an unreadable size field")]
    BadSize,
}

#[derive(Debug)]
enum State {
    /// Collecting a 512-byte header.
    Header,
    /// Passing `left` bytes of data (padding included); PAX data is kept to read `size`.
    Data { left: u64, pax: bool },
}

#[derive(Debug)]
pub struct TarScan {
    limit: u64,
    seen: u64,
    state: State,
    header: Vec<u8>,
    /// The unpadded size of the PAX data being collected, and the data so far.
    pax: Vec<u8>,
    pax_size: u64,
    /// A `size` a PAX header set for the next entry.
    next_size: Option<u64>,
}

impl TarScan {
    /// A scanner that refuses streams longer than `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            seen: 0,
            state: State::Header,
            header: Vec::with_capacity(BLOCK),
            pax: Vec::new(),
            pax_size: 0,
            next_size: None,
        }
    }

    /// Bytes seen so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Feed the next bytes of the stream.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), TarScanError> {
        self.seen = self.seen.saturating_add(bytes.len() as u64);
        if self.seen > self.limit {
            return Err(TarScanError::TooLarge { limit: self.limit });
        }
        while !bytes.is_empty() {
            match &mut self.state {
                State::Header => {
                    let take = (BLOCK - self.header.len()).min(bytes.len());
                    self.header.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if self.header.len() == BLOCK {
                        let header = std::mem::replace(&mut self.header, Vec::with_capacity(BLOCK));
                        self.begin_entry(&header)?;
                    }
                }
                State::Data { left, pax } => {
                    let take = (*left).min(bytes.len() as u64) as usize;
                    if *pax {
                        let want = (self.pax_size as usize).saturating_sub(self.pax.len());
                        self.pax.extend_from_slice(&bytes[..take.min(want)]);
                    }
                    *left -= take as u64;
                    bytes = &bytes[take..];
                    if *left == 0 {
                        if *pax {
                            self.next_size = pax_size(&self.pax);
                            self.pax.clear();
                        }
                        self.state = State::Header;
                    }
                }
            }
        }
        Ok(())
    }

    fn begin_entry(&mut self, h: &[u8]) -> Result<(), TarScanError> {
        if h.iter().all(|b| *b == 0) {
            return Ok(()); // end-of-archive blocks
        }
        let kind = h[156];
        // Solaris `X` is a local PAX header only in a ustar header (as tar readers take it).
        let pax = kind == b'x' || (kind == b'X' && &h[257..263] == b"ustar\0");
        let extension = pax || matches!(kind, b'L' | b'K' | b'g');
        let mut size = numeric(&h[124..136]).ok_or(TarScanError::BadSize)?;
        if !extension && let Some(s) = self.next_size.take() {
            size = s;
        }
        if extension && size > MAX_EXTENSION {
            return Err(TarScanError::ExtensionTooLarge { size });
        }
        // Every entry, links and directories too, is followed by as much data as its size
        // says: tar readers skip it the same way, so the scanner stays in step.
        if pax {
            self.pax_size = size;
            self.pax.clear();
        }
        let padded = size.div_ceil(BLOCK as u64).saturating_mul(BLOCK as u64);
        if padded > 0 {
            self.state = State::Data { left: padded, pax };
        } else if pax {
            self.next_size = None;
        }
        Ok(())
    }
}

/// A header's numeric field: octal text, or GNU base-256 (high bit set).
fn numeric(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        // As tar readers do: the last 8 bytes are the number.
        let tail = &field[field.len() - 8..];
        return Some(tail.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)));
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|b| *b != 0)
        .filter(|b| *b != b' ')
        .collect();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(std::str::from_utf8(&text).ok()?, 8).ok()
}

/// The `size` record of PAX extension data ("<len> size=<n>\n" records).
fn pax_size(data: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(data).ok()?;
    text.lines()
        .filter_map(|rec| rec.split_once(' ').map(|(_, kv)| kv))
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "size")
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u8, size: u64) -> Vec<u8> {
        let mut h = vec![0u8; BLOCK];
        h[..4].copy_from_slice(b"name");
        let s = format!("{size:011o}");
        if s.len() == 11 {
            h[124..135].copy_from_slice(s.as_bytes());
        } else {
            h[128..136].copy_from_slice(&size.to_be_bytes());
            h[124] = 0x80;
        }
        h[156] = kind;
        h
    }

    fn entry(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut out = header(kind, data.len() as u64);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        out
    }

    #[test]
    fn ordinary_archives_pass_in_any_chunking() {
        let mut tar = entry(b'L', b"a/very/long/name\0");
        tar.extend(entry(b'0', &[7u8; 1000]));
        let pax = b"16 size=1000000\n";
        tar.extend(entry(b'x', pax));
        tar.extend(header(b'0', 0));
        tar.extend(vec![0u8; 1_000_000usize.div_ceil(BLOCK) * BLOCK]);
        tar.extend(entry(b'0', b"tail"));
        tar.extend([0u8; 1024]);
        for chunk in [1, 7, 512, 4096, tar.len()] {
            let mut s = TarScan::new(u64::MAX);
            for c in tar.chunks(chunk) {
                s.feed(c).unwrap();
            }
            assert!(matches!(s.state, State::Header), "chunk {chunk}");
            assert!(s.header.is_empty(), "chunk {chunk}");
        }
    }

    #[test]
    fn a_huge_long_name_is_refused_from_its_header() {
        let mut s = TarScan::new(u64::MAX);
        let e = s.feed(&header(b'L', 8 << 30)).unwrap_err();
        assert_eq!(e, TarScanError::ExtensionTooLarge { size: 8 << 30 });
        assert!(e.to_string().contains("limit of 65536 bytes"));
        let mut s = TarScan::new(u64::MAX);
        assert!(s.feed(&header(b'x', MAX_EXTENSION + 1)).is_err());
    }

    #[test]
    fn the_byte_limit_is_named() {
        let mut s = TarScan::new(1000);
        s.feed(&[0u8; 1000]).unwrap();
        let e = s.feed(&[0u8]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the archive is larger than the limit of 1000 bytes"
        );
    }

    #[test]
    fn base256_sizes_are_read() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 1;
        f[10] = 2;
        assert_eq!(numeric(&f), Some(513));
    }
}
