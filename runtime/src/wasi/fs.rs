//! `fd_*`: operations on open descriptors (files, directories and stdio
//! streams), and the conversions the `path_*` functions share.

use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::num::NonZeroU64;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, UNIX_EPOCH};

use cap_fs_ext::SystemTimeSpec;
use cap_std::fs::{Dir, FileExt, FileType, FileTypeExt, Metadata, MetadataExt};
use rustix::fs::{Advice, DirEntryExt, FallocateFlags, OFlags, Timespec, Timestamps};

use super::abi::*;
use super::ctx::{Descriptor, DirEntry, OpenDir, OpenFile, Stream};
use super::errno::Errno;
use super::{Call, HostResult, WasiCtx, memory};
use crate::store::Caller;

fn filetype(t: FileType) -> u8 {
    if t.is_dir() {
        FILETYPE_DIRECTORY
    } else if t.is_file() {
        FILETYPE_REGULAR_FILE
    } else if t.is_symlink() {
        FILETYPE_SYMBOLIC_LINK
    } else if t.is_block_device() {
        FILETYPE_BLOCK_DEVICE
    } else if t.is_char_device() {
        FILETYPE_CHARACTER_DEVICE
    } else if t.is_socket() {
        FILETYPE_SOCKET_STREAM
    } else {
        FILETYPE_UNKNOWN
    }
}

fn nanos(secs: i64, nsec: i64) -> u64 {
    let secs = u64::try_from(secs).unwrap_or(0);
    let nsec = u64::try_from(nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

pub(super) fn filestat(m: &Metadata) -> Filestat {
    Filestat {
        dev: m.dev(),
        ino: m.ino(),
        filetype: filetype(m.file_type()),
        nlink: m.nlink(),
        size: m.len(),
        atim: nanos(m.atime(), m.atime_nsec()),
        mtim: nanos(m.mtime(), m.mtime_nsec()),
        ctim: nanos(m.ctime(), m.ctime_nsec()),
    }
}

fn stream_filetype(s: &Stream) -> u8 {
    if s.is_terminal() {
        FILETYPE_CHARACTER_DEVICE
    } else {
        FILETYPE_UNKNOWN
    }
}

/// Rights are reported from what a descriptor can do (its kind and access
/// mode); they are not tracked separately, as in current runtimes.
fn fdstat(d: &Descriptor) -> Result<Fdstat, Errno> {
    Ok(match d {
        Descriptor::Stream(s) => Fdstat {
            filetype: stream_filetype(s),
            flags: 0,
            rights_base: if s.is_output() {
                rights::FD_WRITE
            } else {
                rights::FD_READ
            } | rights::POLL_FD_READWRITE
                | rights::FD_FILESTAT_GET,
            rights_inheriting: 0,
        },
        Descriptor::File(f) => {
            let mut base = rights::FILE;
            if f.readable {
                base |= rights::FD_READ;
            }
            if f.writable {
                base |= rights::FD_WRITE;
            }
            Fdstat {
                filetype: filetype(f.file.metadata()?.file_type()),
                flags: f.flags,
                rights_base: base,
                rights_inheriting: 0,
            }
        }
        Descriptor::Dir(_) => Fdstat {
            filetype: FILETYPE_DIRECTORY,
            flags: 0,
            rights_base: rights::DIRECTORY,
            rights_inheriting: rights::INHERITED,
        },
    })
}

fn descriptor_filestat(d: &Descriptor) -> Result<Filestat, Errno> {
    Ok(match d {
        Descriptor::File(f) => filestat(&f.file.metadata()?),
        Descriptor::Dir(d) => filestat(&d.dir.dir_metadata()?),
        Descriptor::Stream(s) => Filestat {
            filetype: stream_filetype(s),
            ..Filestat::default()
        },
    })
}

/// The open file `fd`: EBADF for a directory, ESPIPE for a stream (the
/// operations that use this need a seekable file).
fn file(ctx: &mut WasiCtx, fd: u32) -> Result<&mut OpenFile, Errno> {
    match ctx.fds.get_mut(fd)? {
        Descriptor::File(f) => Ok(f),
        Descriptor::Dir(_) => Err(Errno::Badf),
        Descriptor::Stream(_) => Err(Errno::Spipe),
    }
}

/// Reads into the guest buffers in order, stopping at the first short read
/// (as `readv` does). An error after some bytes arrived reports the bytes.
fn read_iovecs(
    mem: &mut GuestMemory<'_>,
    bufs: &[(u32, u32)],
    mut read: impl FnMut(&mut [u8], u64) -> io::Result<usize>,
) -> Result<u32, Errno> {
    let mut total: u64 = 0;
    for &(ptr, len) in bufs {
        let buf = mem.slice_mut(ptr, len)?;
        let n = match read(buf, total) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e.into()),
            Err(_) => break,
        };
        total += n as u64;
        if n < len as usize {
            break;
        }
    }
    u32::try_from(total).map_err(|_| Errno::Overflow)
}

pub fn fd_read(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, out) = (a.u32(0), a.u32(3));
    let mut mem = memory(caller)?;
    let bufs = mem.iovecs(a.u32(1), a.u32(2))?;
    mem.check_array(out, 1, 4)?;
    let n = match ctx.fds.get_mut(fd)? {
        Descriptor::File(f) if f.readable => {
            read_iovecs(&mut mem, &bufs, |buf, _| f.file.read(buf))?
        }
        Descriptor::Stream(Stream::Stdin) => {
            read_iovecs(&mut mem, &bufs, |buf, _| io::stdin().read(buf))?
        }
        Descriptor::Stream(Stream::Input(pipe)) => {
            read_iovecs(&mut mem, &bufs, |buf, _| Ok(pipe.read(buf)))?
        }
        _ => return Err(Errno::Badf.into()),
    };
    mem.write_u32(out, n)?;
    Ok(())
}

pub fn fd_pread(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, offset, out) = (a.u32(0), a.u64(3), a.u32(4));
    let mut mem = memory(caller)?;
    let bufs = mem.iovecs(a.u32(1), a.u32(2))?;
    mem.check_array(out, 1, 4)?;
    let f = file(ctx, fd)?;
    if !f.readable {
        return Err(Errno::Badf.into());
    }
    let n = read_iovecs(&mut mem, &bufs, |buf, done| {
        f.file.read_at(buf, offset.saturating_add(done))
    })?;
    mem.write_u32(out, n)?;
    Ok(())
}

/// Writes the guest buffers to `fd`; returns the byte count.
fn write_to(ctx: &mut WasiCtx, fd: u32, bufs: &[&[u8]]) -> Result<usize, Errno> {
    fn to_stdio(mut out: impl Write, bufs: &[&[u8]]) -> io::Result<usize> {
        for b in bufs {
            out.write_all(b)?;
        }
        out.flush()?;
        Ok(bufs.iter().map(|b| b.len()).sum())
    }
    Ok(match ctx.fds.get_mut(fd)? {
        Descriptor::File(f) if f.writable => {
            let slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
            f.file.write_vectored(&slices)?
        }
        Descriptor::Stream(Stream::Stdout) => to_stdio(io::stdout().lock(), bufs)?,
        Descriptor::Stream(Stream::Stderr) => to_stdio(io::stderr().lock(), bufs)?,
        Descriptor::Stream(Stream::Output(pipe)) => pipe.write(bufs),
        Descriptor::Stream(Stream::Sink) => bufs.iter().map(|b| b.len()).sum(),
        _ => return Err(Errno::Badf),
    })
}

pub fn fd_write(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, out) = (a.u32(0), a.u32(3));
    let mut mem = memory(caller)?;
    let iovs = mem.iovecs(a.u32(1), a.u32(2))?;
    mem.check_array(out, 1, 4)?;
    let n = {
        let bufs = iovs
            .iter()
            .map(|&(p, l)| mem.slice(p, l))
            .collect::<Result<Vec<_>, _>>()?;
        write_to(ctx, fd, &bufs)?
    };
    mem.write_u32(out, u32::try_from(n).map_err(|_| Errno::Overflow)?)?;
    Ok(())
}

pub fn fd_pwrite(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, offset, out) = (a.u32(0), a.u64(3), a.u32(4));
    let mut mem = memory(caller)?;
    let iovs = mem.iovecs(a.u32(1), a.u32(2))?;
    mem.check_array(out, 1, 4)?;
    let f = file(ctx, fd)?;
    if !f.writable {
        return Err(Errno::Badf.into());
    }
    let mut total: u64 = 0;
    for &(ptr, len) in &iovs {
        let n = match f
            .file
            .write_at(mem.slice(ptr, len)?, offset.saturating_add(total))
        {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e.into()),
            Err(_) => break,
        };
        total += n as u64;
        if n < len as usize {
            break;
        }
    }
    mem.write_u32(out, u32::try_from(total).map_err(|_| Errno::Overflow)?)?;
    Ok(())
}

pub fn fd_seek(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, offset, whence, out) = (a.u32(0), a.u64(1) as i64, a.u32(2), a.u32(3));
    // The two ABIs order `$whence` differently.
    let from = match (a.flavor, whence) {
        (Flavor::Preview1, 0) | (Flavor::Unstable, 2) => {
            SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?)
        }
        (Flavor::Preview1, 1) | (Flavor::Unstable, 0) => SeekFrom::Current(offset),
        (Flavor::Preview1, 2) | (Flavor::Unstable, 1) => SeekFrom::End(offset),
        _ => return Err(Errno::Inval.into()),
    };
    let mut mem = memory(caller)?;
    mem.check_array(out, 1, 8)?;
    let pos = file(ctx, fd)?.file.seek(from)?;
    mem.write_u64(out, pos)?;
    Ok(())
}

pub fn fd_tell(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, out) = (a.u32(0), a.u32(1));
    let mut mem = memory(caller)?;
    mem.check_array(out, 1, 8)?;
    let pos = file(ctx, fd)?.file.stream_position()?;
    mem.write_u64(out, pos)?;
    Ok(())
}

pub fn fd_advise(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, offset, len) = (a.u32(0), a.u64(1), a.u64(2));
    let advice = match a.u32(3) {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::Inval.into()),
    };
    let f = file(ctx, fd)?;
    rustix::fs::fadvise(&f.file, offset, NonZeroU64::new(len), advice).map_err(Errno::from)?;
    Ok(())
}

pub fn fd_allocate(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, offset, len) = (a.u32(0), a.u64(1), a.u64(2));
    let f = file(ctx, fd)?;
    rustix::fs::fallocate(&f.file, FallocateFlags::empty(), offset, len).map_err(Errno::from)?;
    Ok(())
}

pub fn fd_close(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    ctx.fds.remove(a.u32(0))?;
    Ok(())
}

pub fn fd_renumber(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    ctx.fds.renumber(a.u32(0), a.u32(1))?;
    Ok(())
}

fn sync(ctx: &mut WasiCtx, fd: u32, data_only: bool) -> HostResult {
    match ctx.fds.get(fd)? {
        Descriptor::File(f) if data_only => f.file.sync_data()?,
        Descriptor::File(f) => f.file.sync_all()?,
        Descriptor::Dir(d) => rustix::fs::fsync(&d.dir).map_err(Errno::from)?,
        Descriptor::Stream(_) => return Err(Errno::Inval.into()),
    }
    Ok(())
}

pub fn fd_sync(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    sync(ctx, a.u32(0), false)
}

pub fn fd_datasync(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    sync(ctx, a.u32(0), true)
}

pub fn fd_fdstat_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let stat = fdstat(ctx.fds.get(a.u32(0))?)?;
    memory(caller)?.write_fdstat(a.u32(1), &stat)?;
    Ok(())
}

/// Sets or clears O_APPEND / O_NONBLOCK on an open file.
pub(super) fn set_status_flags(f: &OpenFile, flags: u16) -> Result<(), Errno> {
    let mut os = rustix::fs::fcntl_getfl(&f.file)?;
    os.set(OFlags::APPEND, flags & FDFLAGS_APPEND != 0);
    os.set(OFlags::NONBLOCK, flags & FDFLAGS_NONBLOCK != 0);
    rustix::fs::fcntl_setfl(&f.file, os)?;
    Ok(())
}

/// APPEND and NONBLOCK can change after opening; the sync flags cannot
/// (Linux's fcntl ignores them), so asking to change those is ENOTSUP.
pub fn fd_fdstat_set_flags(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, flags) = (a.u32(0), a.u32(1));
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    const SYNC: u16 = FDFLAGS_DSYNC | FDFLAGS_RSYNC | FDFLAGS_SYNC;
    match ctx.fds.get_mut(fd)? {
        Descriptor::File(f) => {
            if flags & SYNC != f.flags & SYNC {
                return Err(Errno::NotSup.into());
            }
            set_status_flags(f, flags)?;
            f.flags = flags;
        }
        _ if flags & !FDFLAGS_NONBLOCK != 0 => return Err(Errno::NotSup.into()),
        _ => {}
    }
    Ok(())
}

/// Rights are not tracked (see [`fdstat`]), so they cannot be dropped.
pub fn fd_fdstat_set_rights(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    ctx.fds.get(a.u32(0))?;
    Err(Errno::NotSup.into())
}

pub fn fd_filestat_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let stat = ctx.guest_filestat(descriptor_filestat(ctx.fds.get(a.u32(0))?)?);
    memory(caller)?.write_filestat(a.u32(1), &stat, a.flavor)?;
    Ok(())
}

pub fn fd_filestat_set_size(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let f = file(ctx, a.u32(0))?;
    f.file.set_len(a.u64(1))?;
    Ok(())
}

/// The access and modification times `fst_flags` asks for (None: leave it).
pub(super) fn time_specs(
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Result<(Option<SystemTimeSpec>, Option<SystemTimeSpec>), Errno> {
    let flags = u16::try_from(fst_flags).map_err(|_| Errno::Inval)?;
    let all = FSTFLAGS_ATIM | FSTFLAGS_ATIM_NOW | FSTFLAGS_MTIM | FSTFLAGS_MTIM_NOW;
    if flags & !all != 0 {
        return Err(Errno::Inval);
    }
    let spec = |set: u16, now: u16, t: u64| match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (false, true) => Ok(Some(SystemTimeSpec::SymbolicNow)),
        (true, false) => Ok(Some(SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(UNIX_EPOCH + Duration::from_nanos(t)),
        ))),
        (false, false) => Ok(None),
    };
    Ok((
        spec(FSTFLAGS_ATIM, FSTFLAGS_ATIM_NOW, atim)?,
        spec(FSTFLAGS_MTIM, FSTFLAGS_MTIM_NOW, mtim)?,
    ))
}

fn timespec(spec: Option<SystemTimeSpec>) -> Timespec {
    match spec {
        None => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        Some(SystemTimeSpec::SymbolicNow) => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        },
        Some(SystemTimeSpec::Absolute(t)) => {
            let d = t
                .into_std()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO);
            Timespec {
                tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: d.subsec_nanos().into(),
            }
        }
    }
}

pub fn fd_filestat_set_times(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (atime, mtime) = time_specs(a.u64(1), a.u64(2), a.u32(3))?;
    let times = Timestamps {
        last_access: timespec(atime),
        last_modification: timespec(mtime),
    };
    match ctx.fds.get(a.u32(0))? {
        Descriptor::File(f) => rustix::fs::futimens(&f.file, &times),
        Descriptor::Dir(d) => rustix::fs::futimens(&d.dir, &times),
        Descriptor::Stream(_) => return Err(Errno::Badf.into()),
    }
    .map_err(Errno::from)?;
    Ok(())
}

pub fn fd_prestat_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let Descriptor::Dir(OpenDir {
        preopen: Some(name),
        ..
    }) = ctx.fds.get(a.u32(0))?
    else {
        return Err(Errno::Badf.into());
    };
    let len = u32::try_from(name.len()).map_err(|_| Errno::NameTooLong)?;
    memory(caller)?.write_prestat_dir(a.u32(1), len)?;
    Ok(())
}

pub fn fd_prestat_dir_name(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, ptr, len) = (a.u32(0), a.u32(1), a.u32(2));
    let Descriptor::Dir(OpenDir {
        preopen: Some(name),
        ..
    }) = ctx.fds.get(fd)?
    else {
        return Err(Errno::Badf.into());
    };
    if (len as usize) < name.len() {
        return Err(Errno::NameTooLong.into());
    }
    memory(caller)?.write(ptr, name.as_bytes())?;
    Ok(())
}

/// `.`, `..` and the directory's entries, in the order cookies index them.
fn list_dir(dir: &Dir) -> Result<Vec<DirEntry>, Errno> {
    let mut out = vec![
        DirEntry {
            name: b".".to_vec(),
            ino: dir.dir_metadata()?.ino(),
            filetype: FILETYPE_DIRECTORY,
        },
        // The parent may lie outside the sandbox, so its inode is not shown.
        DirEntry {
            name: b"..".to_vec(),
            ino: 0,
            filetype: FILETYPE_DIRECTORY,
        },
    ];
    for entry in dir.entries()? {
        let entry = entry?;
        out.push(DirEntry {
            name: entry.file_name().as_bytes().to_vec(),
            ino: entry.ino(),
            filetype: filetype(entry.file_type()?),
        });
    }
    Ok(out)
}

pub fn fd_readdir(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, buf, buf_len, cookie, out) = (a.u32(0), a.u32(1), a.u32(2), a.u64(3), a.u32(4));
    let mut mem = memory(caller)?;
    mem.check_array(buf, buf_len, 1)?;
    mem.check_array(out, 1, 4)?;
    let Descriptor::Dir(d) = ctx.fds.get_mut(fd)? else {
        return Err(Errno::NotDir.into());
    };
    let listing = match &mut d.listing {
        Some(listing) if cookie != 0 => listing,
        slot => slot.insert(list_dir(&d.dir)?),
    };
    // Whole entries while they fit, then a cut one filling the buffer
    // exactly, which tells the guest to call again with a larger buffer.
    let capacity = buf_len as usize;
    let mut bytes = Vec::new();
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, e) in listing.iter().enumerate().skip(start) {
        if bytes.len() >= capacity {
            break;
        }
        let namlen = u32::try_from(e.name.len()).map_err(|_| Errno::NameTooLong)?;
        bytes.extend_from_slice(&dirent_header(i as u64 + 1, e.ino, namlen, e.filetype));
        bytes.extend_from_slice(&e.name);
    }
    bytes.truncate(capacity);
    mem.write(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)?;
    Ok(())
}
