//! Process-level functions: arguments, environment, clocks, randomness,
//! exit, and the socket calls (no socket can be opened here).

use super::abi::GuestMemory;
use super::clock;
use super::errno::Errno;
use super::{Call, HostResult, WasiCtx, memory};
use crate::store::Caller;
use crate::trap::Trap;

/// Writes `strings` as a C `argv`: pointers at `ptrs`, NUL-terminated bytes
/// at `buf`. Both areas are checked before anything is written.
fn write_strings(mem: &mut GuestMemory<'_>, strings: &[String], ptrs: u32, buf: u32) -> HostResult {
    let count = u32::try_from(strings.len()).map_err(|_| Errno::TooBig)?;
    let size = buffer_size(strings)?;
    mem.check_array(ptrs, count, 4)?;
    mem.check_array(buf, size, 1)?;
    let mut at = buf;
    for (i, s) in (0u32..).zip(strings) {
        mem.write_u32(ptrs + 4 * i, at)?;
        mem.write(at, s.as_bytes())?;
        mem.write_u8(at + s.len() as u32, 0)?;
        at += s.len() as u32 + 1;
    }
    Ok(())
}

fn buffer_size(strings: &[String]) -> Result<u32, Errno> {
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    u32::try_from(total).map_err(|_| Errno::TooBig)
}

fn write_sizes(mem: &mut GuestMemory<'_>, strings: &[String], count: u32, size: u32) -> HostResult {
    let n = u32::try_from(strings.len()).map_err(|_| Errno::TooBig)?;
    mem.check_array(size, 1, 4)?;
    mem.write_u32(count, n)?;
    mem.write_u32(size, buffer_size(strings)?)?;
    Ok(())
}

pub fn args_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    write_strings(&mut memory(caller)?, &ctx.args, a.u32(0), a.u32(1))
}

pub fn args_sizes_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    write_sizes(&mut memory(caller)?, &ctx.args, a.u32(0), a.u32(1))
}

pub fn environ_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    write_strings(&mut memory(caller)?, &ctx.env, a.u32(0), a.u32(1))
}

pub fn environ_sizes_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    write_sizes(&mut memory(caller)?, &ctx.env, a.u32(0), a.u32(1))
}

pub fn clock_res_get(_: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    Ok(clock::clock_res_get(
        &mut memory(caller)?,
        a.u32(0),
        a.u32(1),
    )?)
}

pub fn clock_time_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    if let Some(det) = &mut ctx.deterministic {
        let id = a.u32(0);
        clock::resolution(id)?;
        let now = det.now(id == super::abi::CLOCK_REALTIME);
        return Ok(memory(caller)?.write_u64(a.u32(2), now)?);
    }
    Ok(clock::clock_time_get(
        &mut memory(caller)?,
        a.u32(0),
        a.u32(2),
    )?)
}

pub fn random_get(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let mut mem = memory(caller)?;
    let mut buf = mem.slice_mut(a.u32(0), a.u32(1))?;
    if let Some(det) = &mut ctx.deterministic {
        det.fill(buf);
        return Ok(());
    }
    while !buf.is_empty() {
        let n = rustix::rand::getrandom(&mut *buf, rustix::rand::GetRandomFlags::empty())
            .map_err(Errno::from)?;
        buf = &mut buf[n..];
    }
    Ok(())
}

/// Unwinds the guest with its exit code, like a trap the embedder can tell apart.
pub fn proc_exit(_: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    Err(Trap::exit(a.u32(0) as i32).into())
}

/// Signals are not delivered to WASI guests.
pub fn proc_raise(_: &mut WasiCtx, _: &mut Caller<'_>, _: &Call<'_>) -> HostResult {
    Err(Errno::NoSys.into())
}

pub fn sched_yield(_: &mut WasiCtx, _: &mut Caller<'_>, _: &Call<'_>) -> HostResult {
    std::thread::yield_now();
    Ok(())
}

/// Preview1 cannot create sockets and none is ever preopened here, so any
/// open descriptor is not a socket (ENOTSOCK, as POSIX says) and any other
/// number is EBADF.
fn not_a_socket(ctx: &WasiCtx, fd: u32) -> HostResult {
    ctx.fds.get(fd)?;
    Err(Errno::NotSock.into())
}

pub fn sock_accept(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    not_a_socket(ctx, a.u32(0))
}

pub fn sock_recv(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    not_a_socket(ctx, a.u32(0))
}

pub fn sock_send(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    not_a_socket(ctx, a.u32(0))
}

pub fn sock_shutdown(ctx: &mut WasiCtx, _: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    not_a_socket(ctx, a.u32(0))
}
