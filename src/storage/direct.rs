//! File writes that bypass the page cache where the OS allows it (O_DIRECT on Linux):
//! sequential, durable appends for uploads, and regions of a file written in place for
//! downloads. Copying every uploaded byte into the page cache cost the server four
//! times as much CPU as hashing it; direct I/O hands aligned blocks straight to the
//! device. Where direct I/O is refused, the same code runs on an ordinary file.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Direct I/O wants offsets, lengths and memory aligned to the device block.
const BLOCK: usize = 4096;
/// Bytes gathered before one write to the device.
const CAPACITY: usize = 4 << 20;
/// A window starts this small and doubles as bytes come: a small file costs a small
/// buffer (zeroing 4 MiB for every upload was a twentieth of the server's time when the
/// files were small).
const FIRST: usize = 64 << 10;

/// Bytes waiting to be written, in memory aligned to BLOCK; they belong at a file
/// offset the owner keeps.
struct Window {
    /// Over-allocated by a block so an aligned window of `cap` bytes fits inside.
    storage: Vec<u8>,
    start: usize,
    /// A multiple of BLOCK, at most CAPACITY.
    cap: usize,
    len: usize,
}

impl Window {
    fn new(cap: usize) -> Self {
        let storage = vec![0u8; cap + BLOCK];
        let start = storage.as_ptr().align_offset(BLOCK);
        Self {
            storage,
            start,
            cap,
            len: 0,
        }
    }

    /// Take as much of `data` as fits (growing first, up to CAPACITY); how much it took.
    fn fill(&mut self, data: &[u8]) -> usize {
        if self.len + data.len() > self.cap && self.cap < CAPACITY {
            let cap = (self.len + data.len())
                .next_power_of_two()
                .clamp(FIRST, CAPACITY);
            let mut grown = Window::new(cap);
            grown.storage[grown.start..grown.start + self.len].copy_from_slice(self.bytes());
            grown.len = self.len;
            *self = grown;
        }
        let n = data.len().min(self.cap - self.len);
        let at = self.start + self.len;
        self.storage[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    /// Take `data`, writing the window to `file` at `pos` each time it is full (and
    /// moving `pos` past what was written).
    fn push(&mut self, file: &mut File, pos: &mut u64, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.fill(data);
            data = &data[n..];
            if self.len == CAPACITY {
                write_block_at(file, self.bytes(), *pos)?;
                *pos += CAPACITY as u64;
                self.len = 0;
            }
        }
        Ok(())
    }

    fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    /// The first `n` bytes (n ≤ len).
    fn first(&self, n: usize) -> &[u8] {
        &self.storage[self.start..self.start + n]
    }

    /// The bytes zero-padded to whole blocks.
    fn padded(&mut self) -> &[u8] {
        let padded = self.len.div_ceil(BLOCK) * BLOCK;
        self.storage[self.start + self.len..self.start + padded].fill(0);
        &self.storage[self.start..self.start + padded]
    }

    /// Drop the first `n` bytes (a multiple of BLOCK), keeping the rest at the front.
    fn consume(&mut self, n: usize) {
        let (start, len) = (self.start, self.len);
        self.storage.copy_within(start + n..start + len, start);
        self.len -= n;
    }
}

fn open_direct(path: &Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
    }
    #[cfg(not(target_os = "linux"))]
    {
        OpenOptions::new().read(true).write(true).open(path)
    }
}

fn open_buffered(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open(path)
}

/// Write aligned bytes at `pos` through `file`, which is reopened without direct I/O
/// when the file system refuses it.
fn write_block_at(file: &mut File, data: &[u8], pos: u64) -> io::Result<()> {
    match file.write_all_at(data, pos) {
        // Some file systems accept O_DIRECT at open and refuse it on write.
        Err(e) if e.raw_os_error() == Some(22) => {
            let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(file));
            *file = open_buffered(Path::new(&path))?;
            file.write_all_at(data, pos)
        }
        other => other,
    }
}

/// Writes one region of an existing file in place, from `start` on, bypassing the page
/// cache when asked and where it can: the parts of a file fetched at once each have one.
/// Whole blocks go to the device directly; a last piece shorter than a block, or a
/// region that does not start on a block, goes through the page cache. Nothing outside
/// the region is touched, and nothing is made durable (the caller verifies the whole
/// file instead). Bytes that will be read back soon are better left in the cache.
pub struct RegionWriter {
    direct: File,
    plain: File,
    window: Window,
    /// File offset of the window's first byte.
    pos: u64,
    aligned: bool,
}

impl RegionWriter {
    pub fn open(path: &Path, start: u64, direct: bool) -> io::Result<Self> {
        let aligned = direct && start.is_multiple_of(BLOCK as u64);
        let plain = open_buffered(path)?;
        let direct = match aligned {
            true => open_direct(path).or_else(|_| open_buffered(path))?,
            false => plain.try_clone()?,
        };
        Ok(Self {
            direct,
            plain,
            window: Window::new(FIRST),
            pos: start,
            aligned,
        })
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if !self.aligned {
            self.plain.write_all_at(data, self.pos)?;
            self.pos += data.len() as u64;
            return Ok(());
        }
        self.window.push(&mut self.direct, &mut self.pos, data)
    }

    /// Write what is still held: its whole blocks directly, the rest through the cache.
    pub fn finish(mut self) -> io::Result<()> {
        let full = self.window.len / BLOCK * BLOCK;
        if full > 0 {
            write_block_at(&mut self.direct, self.window.first(full), self.pos)?;
        }
        let rest = &self.window.bytes()[full..];
        self.plain.write_all_at(rest, self.pos + full as u64)
    }
}

/// Appends to an upload's staging file, durably at each [`Appender::sync`].
pub struct Appender {
    file: File,
    window: Window,
    /// File offset of the window's first byte: always a multiple of BLOCK.
    pos: u64,
}

impl Appender {
    /// Open `path` to append at `offset`, cutting off anything after it (bytes written
    /// before a crash but never acknowledged).
    pub fn open(path: &Path, offset: u64) -> io::Result<Self> {
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // Never extend: bytes missing here (a lost volume, another server's disk) must
        // not be replaced by zeros under an offset that was acknowledged.
        let len = f.metadata()?.len();
        if len < offset {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("staging file holds {len} bytes, fewer than the offset {offset}"),
            ));
        }
        f.set_len(offset)?;
        drop(f);
        let file = open_direct(path).or_else(|_| open_buffered(path))?;
        let pos = offset / BLOCK as u64 * BLOCK as u64;
        let mut window = Window::new(FIRST);
        // The partial block before `offset` is rewritten with the next write, so it
        // must be in the window first.
        let head = (offset - pos) as usize;
        if head > 0 {
            let block = &mut window.storage[window.start..window.start + BLOCK];
            let mut got = 0;
            while got < head {
                match file.read_at(&mut block[got..], pos + got as u64)? {
                    0 => break,
                    n => got += n,
                }
            }
            if got < head {
                return Err(io::Error::other("staging file is shorter than its offset"));
            }
            window.len = head;
        }
        Ok(Self { file, window, pos })
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.window.push(&mut self.file, &mut self.pos, data)
    }

    /// Make every byte written so far durable.
    pub fn sync(&mut self) -> io::Result<()> {
        let len = self.window.len;
        if len > 0 {
            let padded = self.window.padded();
            write_block_at(&mut self.file, padded, self.pos)?;
            // The padding was only there to satisfy alignment.
            self.file.set_len(self.pos + len as u64)?;
            // Keep the last partial block: the next write completes and rewrites it.
            let full = len / BLOCK * BLOCK;
            self.window.consume(full);
            self.pos += full as u64;
        }
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_written_at_once_give_the_file_whatever_their_alignment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let size = CAPACITY * 2 + 12345;
        let data: Vec<u8> = (0..size).map(|i| (i * 13 % 251) as u8).collect();
        std::fs::File::create(&path)
            .unwrap()
            .set_len(size as u64)
            .unwrap();
        // A region that starts off a block, one across the window size, the file's end,
        // and one through the page cache.
        let cuts = [0, 5000, 1 << 20, CAPACITY + BLOCK, size];
        let mut writers: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let direct = w[0] != 1 << 20;
                let writer = RegionWriter::open(&path, w[0] as u64, direct).unwrap();
                (writer, w[0], w[1])
            })
            .collect();
        for (w, a, b) in writers.iter_mut() {
            for piece in data[*a..*b].chunks(70_001) {
                w.write(piece).unwrap();
            }
        }
        for (w, _, _) in writers {
            w.finish().unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }

    #[test]
    fn appends_at_odd_offsets_with_syncs_anywhere_give_the_exact_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(CAPACITY * 2 + 12345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut a = Appender::open(&path, 0).unwrap();
        a.write(&data[..5000]).unwrap();
        a.sync().unwrap();
        a.write(&data[5000..CAPACITY + 3]).unwrap();
        a.sync().unwrap();
        drop(a);
        // Reopen at an unaligned offset after junk past it (a crash after the write).
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let mut a = Appender::open(&path, 7777).unwrap();
        a.write(&data[7777..]).unwrap();
        a.sync().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);
        let mut a = Appender::open(&path, 10).unwrap();
        a.sync().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), &data[..10]);
    }
}
