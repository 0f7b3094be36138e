//! `poll_oneoff`: clock subscriptions sleep; descriptor subscriptions are
//! reported ready at once (files and pipes never block here, and an
//! inherited stdin is reported ready for the guest's next read to wait on).

use std::time::Duration;

use super::abi::{
    CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME, CLOCK_REALTIME, CLOCK_THREAD_CPUTIME, EVENT_SIZE,
    EVENTTYPE_CLOCK, EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE, SUBSCRIPTION_CLOCK_ABSTIME,
    SubscriptionKind,
};
use super::clock;
use super::ctx::{Descriptor, Stream};
use super::errno::Errno;
use super::{Call, HostResult, WasiCtx, memory};
use crate::store::Caller;

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
}

/// Bytes a read would return without blocking, where known.
fn readable_bytes(d: &Descriptor) -> Result<u64, Errno> {
    match d {
        Descriptor::File(f) => {
            let size = f.file.metadata()?.len();
            let pos = rustix::fs::seek(&f.file, rustix::fs::SeekFrom::Current(0))?;
            Ok(size.saturating_sub(pos))
        }
        Descriptor::Stream(Stream::Input(pipe)) => Ok(pipe.available() as u64),
        Descriptor::Stream(_) => Ok(0),
        Descriptor::Dir(_) => Err(Errno::Badf),
    }
}

fn fd_event(ctx: &WasiCtx, userdata: u64, fd: u32, read: bool) -> Event {
    let kind = if read {
        EVENTTYPE_FD_READ
    } else {
        EVENTTYPE_FD_WRITE
    };
    let outcome = ctx.fds.get(fd).and_then(|d| match (d, read) {
        (_, true) => readable_bytes(d),
        (Descriptor::Dir(_), false) => Err(Errno::Badf),
        (_, false) => Ok(0),
    });
    let (error, nbytes) = match outcome {
        Ok(n) => (Errno::Success, n),
        Err(e) => (e, 0),
    };
    Event {
        userdata,
        error,
        kind,
        nbytes,
    }
}

pub fn poll_oneoff(ctx: &mut WasiCtx, caller: &mut Caller<'_>, a: &Call<'_>) -> HostResult {
    let (subs_ptr, events_ptr, count, out) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if count == 0 {
        return Err(Errno::Inval.into());
    }
    let mut mem = memory(caller)?;
    let size = a.flavor.subscription_size();
    mem.check_array(subs_ptr, count, size)?;
    mem.check_array(events_ptr, count, EVENT_SIZE)?;
    mem.check_array(out, 1, 4)?;

    let mut ready = Vec::new();
    // (userdata, time left) of each clock subscription.
    let mut timers: Vec<(u64, Duration)> = Vec::new();
    for i in 0..count {
        let sub = mem.read_subscription(subs_ptr + i * size, a.flavor)?;
        match sub.kind {
            SubscriptionKind::Clock { id, timeout, flags } => match id {
                CLOCK_REALTIME | CLOCK_MONOTONIC => {
                    let left = if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                        timeout.saturating_sub(clock::now(id)?)
                    } else {
                        timeout
                    };
                    timers.push((sub.userdata, Duration::from_nanos(left)));
                }
                // Sleeping cannot wait for CPU time to pass.
                CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => ready.push(Event {
                    userdata: sub.userdata,
                    error: Errno::NotSup,
                    kind: EVENTTYPE_CLOCK,
                    nbytes: 0,
                }),
                _ => ready.push(Event {
                    userdata: sub.userdata,
                    error: Errno::Inval,
                    kind: EVENTTYPE_CLOCK,
                    nbytes: 0,
                }),
            },
            SubscriptionKind::FdRead(fd) => ready.push(fd_event(ctx, sub.userdata, fd, true)),
            SubscriptionKind::FdWrite(fd) => ready.push(fd_event(ctx, sub.userdata, fd, false)),
        }
    }

    // With something ready, only timers already due fire; otherwise sleep
    // until the first one and fire every timer due by then.
    let wait = match ready.is_empty() {
        true => timers
            .iter()
            .map(|&(_, left)| left)
            .min()
            .unwrap_or_default(),
        false => Duration::ZERO,
    };
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
    ready.extend(
        timers
            .iter()
            .filter(|&&(_, left)| left <= wait)
            .map(|&(userdata, _)| Event {
                userdata,
                error: Errno::Success,
                kind: EVENTTYPE_CLOCK,
                nbytes: 0,
            }),
    );

    for (i, e) in (0u32..).zip(&ready) {
        mem.write_event(
            events_ptr + i * EVENT_SIZE,
            e.userdata,
            e.error,
            e.kind,
            e.nbytes,
            0,
        )?;
    }
    mem.write_u32(out, ready.len() as u32)?;
    Ok(())
}
