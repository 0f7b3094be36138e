//! `clock_res_get` / `clock_time_get`: the four preview1 clocks, read with
//! `clock_gettime` (through rustix, so no libc).

use rustix::time::{ClockId, Timespec};

use super::abi::{
    CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME, CLOCK_REALTIME, CLOCK_THREAD_CPUTIME, GuestMemory,
};
use super::errno::Errno;

fn clock(id: u32) -> Result<ClockId, Errno> {
    Ok(match id {
        CLOCK_REALTIME => ClockId::Realtime,
        CLOCK_MONOTONIC => ClockId::Monotonic,
        CLOCK_PROCESS_CPUTIME => ClockId::ProcessCPUTime,
        CLOCK_THREAD_CPUTIME => ClockId::ThreadCPUTime,
        _ => return Err(Errno::Inval),
    })
}

fn nanos(t: Timespec) -> u64 {
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nsec = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// The current value of clock `id`, in nanoseconds.
pub fn now(id: u32) -> Result<u64, Errno> {
    Ok(nanos(rustix::time::clock_gettime(clock(id)?)))
}

/// The resolution of clock `id`, in nanoseconds (never 0).
pub fn resolution(id: u32) -> Result<u64, Errno> {
    Ok(nanos(rustix::time::clock_getres(clock(id)?)).max(1))
}

pub fn clock_res_get(mem: &mut GuestMemory<'_>, id: u32, out: u32) -> Result<(), Errno> {
    mem.write_u64(out, resolution(id)?)
}

/// `precision` is a hint the host may ignore; clock_gettime is exact enough.
pub fn clock_time_get(mem: &mut GuestMemory<'_>, id: u32, out: u32) -> Result<(), Errno> {
    mem.write_u64(out, now(id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preview1_clock_reads() {
        for id in 0..4 {
            assert!(now(id).is_ok(), "clock {id}");
            assert!(resolution(id).unwrap() >= 1);
        }
        assert_eq!(now(4), Err(Errno::Inval));
        let a = now(CLOCK_MONOTONIC).unwrap();
        let b = now(CLOCK_MONOTONIC).unwrap();
        assert!(b >= a);
    }
}
