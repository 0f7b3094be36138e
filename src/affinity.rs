//! Keeping the background compiler off the CPU of the thread running wasm.
//!
//! The scheduler may place a new thread on the CPU of the thread that
//! created it and leave it there for a while. Measured on the CI machines
//! (2 vCPUs): a second busy thread in the process made an interpreted
//! program 1.6x slower (0.35 s to 0.56 s), and 1.0x when the busy thread
//! was kept off the first one's CPU; under `--tier auto`, Sightglass
//! programs of 7 to 20 ms ended 20-30% sooner with the compiler kept off.
//! So the compiler thread, and the threads LLVM starts from it (they
//! inherit its affinity), leave the interpreter's CPU alone whenever
//! another CPU is allowed.

/// The CPU the calling thread runs on now, if the system says.
pub(crate) fn current_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Restricts the calling thread to the CPUs it may use other than `cpu`,
/// if there are any; otherwise leaves it as it is.
pub(crate) fn avoid_cpu(cpu: usize) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `set` is a plain bitmask that the calls below read and
        // write within its size; pid 0 is the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if cpu >= libc::CPU_SETSIZE as usize || libc::sched_getaffinity(0, size, &mut set) != 0
            {
                return;
            }
            libc::CPU_CLR(cpu, &mut set);
            if libc::CPU_COUNT(&set) > 0 && libc::sched_setaffinity(0, size, &set) != 0 {
                tracing::debug!("cannot move the compiler off CPU {cpu}");
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn allowed() -> Vec<usize> {
        // SAFETY: as in `avoid_cpu`.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                0
            );
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &set))
                .collect()
        }
    }

    #[test]
    fn a_thread_leaves_the_cpu_it_avoids_if_it_has_another() {
        let cpu = current_cpu().expect("Linux reports the current CPU");
        let before = allowed();
        assert!(before.contains(&cpu));
        let after = std::thread::spawn(move || {
            avoid_cpu(cpu);
            allowed()
        })
        .join()
        .unwrap();
        if before.len() > 1 {
            let expected: Vec<usize> = before.iter().copied().filter(|&c| c != cpu).collect();
            assert_eq!(after, expected);
        } else {
            // One CPU only: staying on it is the only choice.
            assert_eq!(after, before);
        }
        // The spawning thread itself is untouched.
        assert_eq!(allowed(), before);
    }
}
