//! `path_*`: operations on paths beneath a directory descriptor.
//!
//! Every path is resolved by cap-std relative to a directory handle, which
//! refuses absolute paths and any `..` or symlink that would leave it; we
//! never join or canonicalise paths ourselves.

use std::os::unix::ffi::OsStrExt;

use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};
use cap_std::fs::{Dir, OpenOptions};

use super::abi::*;
use super::ctx::{Descriptor, OpenDir, OpenFile};
use super::errno::Errno;
use super::fs::{filestat, set_status_flags, time_specs};
use super::{Call, HostResult, WasiCtx, memory};
use crate::store::Caller;

/// Directory `fd` and the guest path at `(ptr, len)`.
fn dir_and_path<'c>(
    ctx: &'c WasiCtx,
    mem: &GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
) -> Result<(&'c Dir, String), Errno> {
    let path = mem.str(ptr, len)?.to_owned();
    Ok((ctx.fds.dir(fd)?, path))
}

pub fn path_create_directory(
    ctx: &mut WasiCtx,
    caller: &mut Caller<'_>,
    a: &Call<'_>,
) -> HostResult {
    let mem = memory(caller)?;
    let (dir, path) = dir_and_path(ctx, &mem, a.u32(0), a.u32(1), a.u32(2))?;
    dir.create_dir(path)?;
    Ok(())
}

pub fn path_remove_directory(
    ctx: &mut WasiCtx,
    caller: &mut Caller<'_>,
    a: &Call<'_>,
) -> HostResult {
    let mem = memory(caller)?;
    let (dir, path) = dir_and_path(ctx, &mem, a.u32(0), a.u32(1), a.u32(2))?;
    dir.remove_dir(path)?;
    Ok(())
}

pub fn path_unlink_file(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let mem = memory(caller)?;
    let (dir, path) = dir_and_path(ctx, &mem, a.u32(0), a.u32(1), a.u32(2))?;
    dir.remove_file(path)?;
    Ok(())
}

pub fn path_filestat_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, flags, out) = (a.u32(0), a.u32(1), a.u32(4));
    let mut mem = memory(caller)?;
    let (dir, path) = dir_and_path(ctx, &mem, fd, a.u32(2), a.u32(3))?;
    let meta = if flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        dir.metadata(path)?
    } else {
        dir.symlink_metadata(path)?
    };
    mem.write_filestat(out, &ctx.guest_filestat(filestat(&meta)), a.flavor)?;
    Ok(())
}

pub fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    caller: &mut Caller<'_>,
    a: &Call<'_>,
) -> HostResult {
    let (fd, flags) = (a.u32(0), a.u32(1));
    let (atime, mtime) = time_specs(a.u64(4), a.u64(5), a.u32(6))?;
    let mem = memory(caller)?;
    let (dir, path) = dir_and_path(ctx, &mem, fd, a.u32(2), a.u32(3))?;
    if flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        dir.set_times(path, atime, mtime)?;
    } else {
        dir.set_symlink_times(path, atime, mtime)?;
    }
    Ok(())
}

pub fn path_link(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (old_fd, old_flags, new_fd) = (a.u32(0), a.u32(1), a.u32(4));
    // cap-std links the symlink itself; following it is not offered.
    if old_flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Errno::Inval.into());
    }
    let mem = memory(caller)?;
    let (old_dir, old_path) = dir_and_path(ctx, &mem, old_fd, a.u32(2), a.u32(3))?;
    let (new_dir, new_path) = dir_and_path(ctx, &mem, new_fd, a.u32(5), a.u32(6))?;
    old_dir.hard_link(old_path, new_dir, new_path)?;
    Ok(())
}

pub fn path_rename(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let mem = memory(caller)?;
    let (old_dir, old_path) = dir_and_path(ctx, &mem, a.u32(0), a.u32(1), a.u32(2))?;
    let (new_dir, new_path) = dir_and_path(ctx, &mem, a.u32(3), a.u32(4), a.u32(5))?;
    old_dir.rename(old_path, new_dir, new_path)?;
    Ok(())
}

/// The link's contents are stored as given; cap-std refuses absolute ones,
/// and refuses to follow any link out of the sandbox later.
pub fn path_symlink(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let mem = memory(caller)?;
    let target = mem.str(a.u32(0), a.u32(1))?.to_owned();
    let (dir, path) = dir_and_path(ctx, &mem, a.u32(2), a.u32(3), a.u32(4))?;
    dir.symlink(target, path)?;
    Ok(())
}

pub fn path_readlink(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, buf, buf_len, out) = (a.u32(0), a.u32(3), a.u32(4), a.u32(5));
    let mut mem = memory(caller)?;
    mem.check_array(buf, buf_len, 1)?;
    mem.check_array(out, 1, 4)?;
    let (dir, path) = dir_and_path(ctx, &mem, fd, a.u32(1), a.u32(2))?;
    let target = dir.read_link_contents(path)?;
    let bytes = target.as_os_str().as_bytes();
    // Like readlink(2), a short buffer gets a truncated name.
    let n = bytes.len().min(buf_len as usize);
    mem.write(buf, &bytes[..n])?;
    mem.write_u32(out, n as u32)?;
    Ok(())
}

/// Preview1's access-mode hint: FD_WRITE asks for a writable descriptor.
/// Creating or truncating needs one too (the host's open refuses them on a
/// read-only descriptor).
fn access_mode(base_rights: u64, oflags: u16) -> (bool, bool) {
    let write = base_rights & rights::FD_WRITE != 0 || oflags & (OFLAGS_CREAT | OFLAGS_TRUNC) != 0;
    let read = base_rights & rights::FD_READ != 0 || !write;
    (read, write)
}

pub fn path_open(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (fd, dirflags, out) = (a.u32(0), a.u32(1), a.u32(8));
    let oflags = u16::try_from(a.u32(4)).map_err(|_| Errno::Inval)?;
    let fdflags = u16::try_from(a.u32(7)).map_err(|_| Errno::Inval)?;
    let base_rights = a.u64(5);
    let mut mem = memory(caller)?;
    mem.check_array(out, 1, 4)?;
    let (dir, path) = dir_and_path(ctx, &mem, fd, a.u32(2), a.u32(3))?;
    let follow = dirflags & LOOKUP_SYMLINK_FOLLOW != 0;

    let descriptor = if oflags & OFLAGS_DIRECTORY != 0 {
        if oflags & (OFLAGS_CREAT | OFLAGS_TRUNC) != 0 {
            return Err(Errno::Inval.into());
        }
        // As open(2) with O_DIRECTORY | O_RDWR: a directory is not writable.
        if base_rights & rights::FD_WRITE != 0 {
            return Err(Errno::IsDir.into());
        }
        let d = if follow {
            dir.open_dir(&path)?
        } else {
            dir.open_dir_nofollow(&path)?
        };
        Descriptor::Dir(OpenDir::new(d, None))
    } else {
        let (read, write) = access_mode(base_rights, oflags);
        let mut opts = OpenOptions::new();
        opts.read(read)
            .write(write)
            .truncate(oflags & OFLAGS_TRUNC != 0)
            .maybe_dir(true)
            .follow(if follow {
                FollowSymlinks::Yes
            } else {
                FollowSymlinks::No
            })
            .dsync(fdflags & FDFLAGS_DSYNC != 0)
            .rsync(fdflags & FDFLAGS_RSYNC != 0)
            .sync(fdflags & FDFLAGS_SYNC != 0)
            .nonblock(fdflags & FDFLAGS_NONBLOCK != 0);
        if oflags & OFLAGS_CREAT != 0 {
            if oflags & OFLAGS_EXCL != 0 {
                opts.create_new(true);
            } else {
                opts.create(true);
            }
        }
        let file = dir.open_with(&path, &opts)?;
        if file.metadata()?.is_dir() {
            Descriptor::Dir(OpenDir::new(Dir::from_std_file(file.into_std()), None))
        } else {
            let f = OpenFile {
                file,
                readable: read,
                writable: write,
                flags: fdflags,
            };
            // O_APPEND is set afterwards: cap-std refuses append together
            // with truncate, which POSIX allows.
            if fdflags & FDFLAGS_APPEND != 0 {
                set_status_flags(&f, fdflags)?;
            }
            Descriptor::File(f)
        }
    };
    let new_fd = ctx.fds.insert(descriptor)?;
    mem.write_u32(out, new_fd)?;
    Ok(())
}
