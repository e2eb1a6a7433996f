//! Sequential, durable file appends that bypass the page cache where the OS allows it
//! (O_DIRECT on Linux). Copying every uploaded byte into the page cache cost the server
//! four times as much CPU as hashing it; direct I/O hands aligned blocks straight to the
//! device. Where direct I/O is refused, the same code runs on an ordinary file.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Direct I/O wants offsets, lengths and memory aligned to the device block.
const BLOCK: usize = 4096;
/// Bytes gathered before one write to the device.
const CAPACITY: usize = 4 << 20;

pub struct Appender {
    file: File,
    /// Backing storage, over-allocated so an aligned window of CAPACITY fits inside.
    storage: Vec<u8>,
    start: usize,
    /// Bytes of the window in use; they belong at file offset `pos`.
    len: usize,
    /// File offset of the window's first byte: always a multiple of BLOCK.
    pos: u64,
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
    storage: Vec<u8>,
    start: usize,
    len: usize,
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
        let storage = vec![0u8; CAPACITY + BLOCK];
        let at = storage.as_ptr().align_offset(BLOCK);
        Ok(Self {
            direct,
            plain,
            storage,
            start: at,
            len: 0,
            pos: start,
            aligned,
        })
    }

    pub fn write(&mut self, mut data: &[u8]) -> io::Result<()> {
        if !self.aligned {
            self.plain.write_all_at(data, self.pos)?;
            self.pos += data.len() as u64;
            return Ok(());
        }
        while !data.is_empty() {
            let n = data.len().min(CAPACITY - self.len);
            let at = self.start + self.len;
            self.storage[at..at + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
            if self.len == CAPACITY {
                let window = &self.storage[self.start..self.start + CAPACITY];
                write_block_at(&mut self.direct, window, self.pos)?;
                self.pos += CAPACITY as u64;
                self.len = 0;
            }
        }
        Ok(())
    }

    /// Write what is still held: its whole blocks directly, the rest through the cache.
    pub fn finish(mut self) -> io::Result<()> {
        let full = self.len / BLOCK * BLOCK;
        if full > 0 {
            let blocks = &self.storage[self.start..self.start + full];
            write_block_at(&mut self.direct, blocks, self.pos)?;
        }
        let rest = &self.storage[self.start + full..self.start + self.len];
        self.plain.write_all_at(rest, self.pos + full as u64)
    }
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
        let storage = vec![0u8; CAPACITY + BLOCK];
        let start = storage.as_ptr().align_offset(BLOCK);
        let mut this = Self {
            file,
            storage,
            start,
            len: 0,
            pos: offset / BLOCK as u64 * BLOCK as u64,
        };
        // The partial block before `offset` is rewritten with the next write, so it
        // must be in the window first.
        let head = (offset - this.pos) as usize;
        if head > 0 {
            let pos = this.pos;
            let n = this.read_block_at(pos, head)?;
            if n != head {
                return Err(io::Error::other("staging file is shorter than its offset"));
            }
            this.len = head;
        }
        Ok(this)
    }

    fn window(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + CAPACITY]
    }

    fn read_block_at(&mut self, pos: u64, want: usize) -> io::Result<usize> {
        let mut got = 0;
        while got < want {
            let file = &self.file;
            let window = &mut self.storage[self.start..self.start + BLOCK];
            let n = file.read_at(&mut window[got..], pos + got as u64)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        Ok(got.min(want))
    }

    /// Write the first `len` bytes of the window (a multiple of BLOCK) at `pos`.
    fn write_window(&mut self, len: usize) -> io::Result<()> {
        let data = &self.storage[self.start..self.start + len];
        write_block_at(&mut self.file, data, self.pos)
    }

    pub fn write(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let len = self.len;
            let n = data.len().min(CAPACITY - len);
            self.window()[len..len + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
            if self.len == CAPACITY {
                self.write_window(CAPACITY)?;
                self.pos += CAPACITY as u64;
                self.len = 0;
            }
        }
        Ok(())
    }

    /// Make every byte written so far durable.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.len > 0 {
            let len = self.len;
            let padded = len.div_ceil(BLOCK) * BLOCK;
            self.window()[len..padded].fill(0);
            self.write_window(padded)?;
            // The padding was only there to satisfy alignment.
            self.file.set_len(self.pos + len as u64)?;
            // Keep the last partial block: the next write completes and rewrites it.
            let full = len / BLOCK * BLOCK;
            let (start, tail) = (self.start, len - full);
            self.storage.copy_within(start + full..start + len, start);
            self.pos += full as u64;
            self.len = tail;
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
