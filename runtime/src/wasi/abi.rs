//! The preview1 ABI: constants from the witx, and bounds-checked guest memory
//! access with the layouts of the structs the functions exchange.
//!
//! Every guest pointer goes through [`GuestMemory`], which answers an
//! out-of-range access with `EFAULT` instead of touching host memory.

use super::errno::Errno;

pub type Result<T, E = Errno> = std::result::Result<T, E>;

// `$filetype`
pub const FILETYPE_UNKNOWN: u8 = 0;
pub const FILETYPE_BLOCK_DEVICE: u8 = 1;
pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub const FILETYPE_DIRECTORY: u8 = 3;
pub const FILETYPE_REGULAR_FILE: u8 = 4;
pub const FILETYPE_SOCKET_STREAM: u8 = 6;
pub const FILETYPE_SYMBOLIC_LINK: u8 = 7;

// `$fdflags`
pub const FDFLAGS_APPEND: u16 = 1 << 0;
pub const FDFLAGS_DSYNC: u16 = 1 << 1;
pub const FDFLAGS_NONBLOCK: u16 = 1 << 2;
pub const FDFLAGS_RSYNC: u16 = 1 << 3;
pub const FDFLAGS_SYNC: u16 = 1 << 4;

// `$oflags`
pub const OFLAGS_CREAT: u16 = 1 << 0;
pub const OFLAGS_DIRECTORY: u16 = 1 << 1;
pub const OFLAGS_EXCL: u16 = 1 << 2;
pub const OFLAGS_TRUNC: u16 = 1 << 3;

// `$lookupflags`
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1 << 0;

// `$fstflags`
pub const FSTFLAGS_ATIM: u16 = 1 << 0;
pub const FSTFLAGS_ATIM_NOW: u16 = 1 << 1;
pub const FSTFLAGS_MTIM: u16 = 1 << 2;
pub const FSTFLAGS_MTIM_NOW: u16 = 1 << 3;

// `$clockid`
pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_PROCESS_CPUTIME: u32 = 2;
pub const CLOCK_THREAD_CPUTIME: u32 = 3;

// `$eventtype` and `$subclockflags`
pub const EVENTTYPE_CLOCK: u8 = 0;
pub const EVENTTYPE_FD_READ: u8 = 1;
pub const EVENTTYPE_FD_WRITE: u8 = 2;
pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1 << 0;

// `$preopentype`
pub const PREOPENTYPE_DIR: u8 = 0;

/// `$rights` bits.
#[allow(dead_code, reason = "the whole witx table, for reference")]
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;

    /// What an open regular file allows, besides reading and writing.
    pub const FILE: u64 = FD_DATASYNC
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// What a directory allows. PATH_FILESTAT_SET_SIZE is left out: there is
    /// no `path_filestat_set_size` in preview1, and advertising it makes
    /// guests expect rights they could then drop.
    pub const DIRECTORY: u64 = FD_SYNC
        | FD_DATASYNC
        | FD_FDSTAT_SET_FLAGS
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;

    /// What files and directories opened beneath a directory may get.
    pub const INHERITED: u64 = DIRECTORY | FILE | FD_READ | FD_WRITE;
}

/// Which of the two preview1-era ABIs an import uses. They share the
/// function names but differ in `$whence` order and in two struct layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `wasi_snapshot_preview1`.
    Preview1,
    /// `wasi_unstable` (snapshot 0).
    Unstable,
}

/// `$filestat`, host-side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

/// `$fdstat`, host-side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fdstat {
    pub filetype: u8,
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

/// A guest's linear memory (memory32), with every access bounds-checked.
pub struct GuestMemory<'a> {
    data: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    pub fn new(data: &'a mut [u8]) -> Self {
        GuestMemory { data }
    }

    fn range(&self, ptr: u32, len: u64) -> Result<std::ops::Range<usize>> {
        let start = u64::from(ptr);
        let end = start.checked_add(len).ok_or(Errno::Fault)?;
        if end > self.data.len() as u64 {
            return Err(Errno::Fault);
        }
        Ok(start as usize..end as usize)
    }

    /// `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8]> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&self.data[r])
    }

    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8]> {
        let r = self.range(ptr, u64::from(len))?;
        Ok(&mut self.data[r])
    }

    /// Checks that `count` records of `size` bytes fit at `ptr`.
    pub fn check_array(&self, ptr: u32, count: u32, size: u32) -> Result<()> {
        self.range(ptr, u64::from(count) * u64::from(size))
            .map(|_| ())
    }

    /// A guest string (a path): UTF-8 as the witx `string` type requires.
    pub fn str(&self, ptr: u32, len: u32) -> Result<&str> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::Ilseq)
    }

    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::Fault)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    pub fn read_u32(&self, ptr: u32) -> Result<u32> {
        self.array(ptr).map(u32::from_le_bytes)
    }
    #[cfg(test)]
    pub fn read_u64(&self, ptr: u32) -> Result<u64> {
        self.array(ptr).map(u64::from_le_bytes)
    }
    pub fn write_u8(&mut self, ptr: u32, v: u8) -> Result<()> {
        self.write(ptr, &[v])
    }
    pub fn write_u32(&mut self, ptr: u32, v: u32) -> Result<()> {
        self.write(ptr, &v.to_le_bytes())
    }
    pub fn write_u64(&mut self, ptr: u32, v: u64) -> Result<()> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// The `(buf, buf_len)` pairs of an `$iovec_array`/`$ciovec_array` (8
    /// bytes each). Each buffer is checked too, so a bad one fails the whole
    /// call before any I/O happens.
    pub fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<(u32, u32)>> {
        // Linux caps readv/writev at 1024 buffers; the cap also bounds the
        // host allocation a guest can ask for.
        const IOV_MAX: u32 = 1024;
        if count > IOV_MAX {
            return Err(Errno::Inval);
        }
        self.check_array(ptr, count, 8)?;
        (0..count)
            .map(|i| {
                let at = ptr + i * 8;
                let buf = self.read_u32(at)?;
                let len = self.read_u32(at + 4)?;
                self.range(buf, u64::from(len))?;
                Ok((buf, len))
            })
            .collect()
    }

    /// Writes a `$fdstat` (24 bytes).
    pub fn write_fdstat(&mut self, ptr: u32, s: &Fdstat) -> Result<()> {
        let mut b = [0u8; 24];
        b[0] = s.filetype;
        b[2..4].copy_from_slice(&s.flags.to_le_bytes());
        b[8..16].copy_from_slice(&s.rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&s.rights_inheriting.to_le_bytes());
        self.write(ptr, &b)
    }

    /// Writes a `$filestat`: 64 bytes in preview1; 56 in `wasi_unstable`,
    /// whose `nlink` is 32 bits wide.
    pub fn write_filestat(&mut self, ptr: u32, s: &Filestat, flavor: Flavor) -> Result<()> {
        match flavor {
            Flavor::Preview1 => {
                let mut b = [0u8; 64];
                b[0..8].copy_from_slice(&s.dev.to_le_bytes());
                b[8..16].copy_from_slice(&s.ino.to_le_bytes());
                b[16] = s.filetype;
                b[24..32].copy_from_slice(&s.nlink.to_le_bytes());
                b[32..40].copy_from_slice(&s.size.to_le_bytes());
                b[40..48].copy_from_slice(&s.atim.to_le_bytes());
                b[48..56].copy_from_slice(&s.mtim.to_le_bytes());
                b[56..64].copy_from_slice(&s.ctim.to_le_bytes());
                self.write(ptr, &b)
            }
            Flavor::Unstable => {
                let mut b = [0u8; 56];
                b[0..8].copy_from_slice(&s.dev.to_le_bytes());
                b[8..16].copy_from_slice(&s.ino.to_le_bytes());
                b[16] = s.filetype;
                let nlink = u32::try_from(s.nlink).unwrap_or(u32::MAX);
                b[20..24].copy_from_slice(&nlink.to_le_bytes());
                b[24..32].copy_from_slice(&s.size.to_le_bytes());
                b[32..40].copy_from_slice(&s.atim.to_le_bytes());
                b[40..48].copy_from_slice(&s.mtim.to_le_bytes());
                b[48..56].copy_from_slice(&s.ctim.to_le_bytes());
                self.write(ptr, &b)
            }
        }
    }

    /// Writes a `$prestat` for a directory whose name is `name_len` bytes.
    pub fn write_prestat_dir(&mut self, ptr: u32, name_len: u32) -> Result<()> {
        let mut b = [0u8; 8];
        b[0] = PREOPENTYPE_DIR;
        b[4..8].copy_from_slice(&name_len.to_le_bytes());
        self.write(ptr, &b)
    }
}

/// The 24-byte `$dirent` header that precedes each name in `fd_readdir`'s
/// buffer (the same in both flavours).
pub fn dirent_header(next: u64, ino: u64, namlen: u32, filetype: u8) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[0..8].copy_from_slice(&next.to_le_bytes());
    b[8..16].copy_from_slice(&ino.to_le_bytes());
    b[16..20].copy_from_slice(&namlen.to_le_bytes());
    b[20] = filetype;
    b
}

/// A `$subscription`, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub userdata: u64,
    pub kind: SubscriptionKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionKind {
    Clock { id: u32, timeout: u64, flags: u16 },
    FdRead(u32),
    FdWrite(u32),
}

impl Flavor {
    /// Size of a `$subscription`: `wasi_unstable`'s clock variant carries an
    /// extra 8-byte identifier.
    pub fn subscription_size(self) -> u32 {
        match self {
            Flavor::Preview1 => 48,
            Flavor::Unstable => 56,
        }
    }
}

pub const EVENT_SIZE: u32 = 32;

impl GuestMemory<'_> {
    /// Reads the `$subscription` at `ptr`; an unknown tag is EINVAL.
    pub fn read_subscription(&self, ptr: u32, flavor: Flavor) -> Result<Subscription> {
        let b = self.slice(ptr, flavor.subscription_size())?;
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().expect("2 bytes"));
        // The union starts at 16; the unstable clock skips its identifier.
        let clock = match flavor {
            Flavor::Preview1 => 16,
            Flavor::Unstable => 24,
        };
        let kind = match b[8] {
            EVENTTYPE_CLOCK => SubscriptionKind::Clock {
                id: u32_at(clock),
                timeout: u64_at(clock + 8),
                flags: u16_at(clock + 24),
            },
            EVENTTYPE_FD_READ => SubscriptionKind::FdRead(u32_at(16)),
            EVENTTYPE_FD_WRITE => SubscriptionKind::FdWrite(u32_at(16)),
            _ => return Err(Errno::Inval),
        };
        Ok(Subscription {
            userdata: u64_at(0),
            kind,
        })
    }

    /// Writes an `$event` (32 bytes, the same in both flavours).
    pub fn write_event(
        &mut self,
        ptr: u32,
        userdata: u64,
        error: Errno,
        eventtype: u8,
        nbytes: u64,
        flags: u16,
    ) -> Result<()> {
        let mut b = [0u8; EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&userdata.to_le_bytes());
        b[8..10].copy_from_slice(&error.raw().to_le_bytes());
        b[10] = eventtype;
        b[16..24].copy_from_slice(&nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&flags.to_le_bytes());
        self.write(ptr, &b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_is_efault_not_a_panic() {
        let mut data = vec![0u8; 64];
        let mut m = GuestMemory::new(&mut data);
        assert_eq!(m.read_u32(61), Err(Errno::Fault));
        assert_eq!(m.read_u32(60), Ok(0));
        assert_eq!(m.write_u64(u32::MAX, 1), Err(Errno::Fault));
        assert_eq!(m.slice(64, 0).map(<[u8]>::len), Ok(0));
        assert_eq!(m.slice(65, 0).err(), Some(Errno::Fault));
        assert_eq!(m.check_array(0, u32::MAX, u32::MAX), Err(Errno::Fault));
        assert_eq!(
            m.write_filestat(16, &Filestat::default(), Flavor::Preview1),
            Err(Errno::Fault)
        );
        assert_eq!(
            m.write_filestat(8, &Filestat::default(), Flavor::Unstable),
            Ok(())
        );
    }

    #[test]
    fn iovecs_check_every_buffer() {
        let mut data = vec![0u8; 64];
        let mut m = GuestMemory::new(&mut data);
        m.write_u32(0, 32).unwrap();
        m.write_u32(4, 32).unwrap();
        assert_eq!(m.iovecs(0, 1), Ok(vec![(32, 32)]));
        m.write_u32(4, 33).unwrap();
        assert_eq!(m.iovecs(0, 1), Err(Errno::Fault));
        assert_eq!(m.iovecs(60, 1), Err(Errno::Fault));
        assert_eq!(m.iovecs(0, 5000), Err(Errno::Inval));
    }

    #[test]
    fn filestat_layouts_differ_between_flavours() {
        let mut data = vec![0u8; 64];
        let mut m = GuestMemory::new(&mut data);
        let s = Filestat {
            nlink: 7,
            size: 9,
            ..Filestat::default()
        };
        m.write_filestat(0, &s, Flavor::Preview1).unwrap();
        assert_eq!(m.read_u64(24), Ok(7));
        assert_eq!(m.read_u64(32), Ok(9));
        m.write_filestat(0, &s, Flavor::Unstable).unwrap();
        assert_eq!(m.read_u32(20), Ok(7));
        assert_eq!(m.read_u64(24), Ok(9));
    }
}
