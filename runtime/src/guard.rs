//! Guard regions: memory32 accesses of compiled code without bounds checks.
//!
//! On hosts where [`MEMORY32_GUARD`] holds, every memory32 memory reserves
//! [`MEMORY32_RESERVATION`] bytes of address space, of which only the
//! current length is accessible. A memory32 effective address (a u32 index
//! plus a u32 offset, plus at most 16 bytes of access) always lies inside
//! that reservation, so compiled code may load and store without comparing
//! against the length: an out-of-bounds access touches an inaccessible page
//! and faults. x86_64 commits no byte of a faulting store, so memory is left
//! as the spec requires.
//!
//! The fault becomes a trap here. Every entry from Rust into compiled code
//! goes through [`call_compiled`], which saves the callee-saved registers and
//! the stack pointer in an assembly stub and publishes where they are in a
//! thread-local. The `SIGSEGV`/`SIGBUS` handler checks that the faulting
//! instruction lies in registered compiled code ([`register_code`]) and that
//! this thread is inside such an entry; it then resumes the thread in the
//! stub's landing, which returns "faulted" to `call_compiled`. Only compiled
//! wasm frames lie between the fault and the innermost entry (host calls
//! from compiled code enter through their own `call_compiled`), so nothing
//! that owns a resource is skipped. Any other fault goes to the handler that
//! was installed before ours (Rust's stack-overflow reporter, or the
//! default action).
//!
//! A trap names the wasm function it happened in, in every tier. The
//! handler keeps the faulting instruction's address for `call_compiled` to
//! report; [`function_at`] then finds the function from what the loader
//! told about the code ([`CodeRegistration::describe_functions`]): the
//! compiler's table of guarded accesses, which names the function whose
//! wasm made the access even where LLVM inlined it into another.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::module::{Module, WeakModule};

/// Whether this host gives memory32 memories guard regions, so that code
/// compiled for it may leave memory32 accesses unchecked. The compiler
/// decides the same from the target triple (`wamr_aot::target`); the
/// loader accepts only code for this host's triple.
pub const MEMORY32_GUARD: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

/// The address space a guarded memory32 reserves: every u32 index plus
/// every u32 offset, plus room for the widest access.
pub const MEMORY32_RESERVATION: u64 = (8 << 30) + 65536;

/// At most this many blobs of compiled code are mapped at once.
const CODE_SLOTS: usize = 8192;

/// Registered code: `(start, end)` per slot; a start of 0 is a free slot
/// and `usize::MAX` one being filled or emptied. Lock-free, because the
/// signal handler reads it while any thread may be registering code.
static CODE: [(AtomicUsize, AtomicUsize); CODE_SLOTS] =
    [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; CODE_SLOTS];
/// One past the highest slot ever used: how far the handler searches.
static CODE_SLOTS_USED: AtomicUsize = AtomicUsize::new(0);

/// Compiled code registered with the fault handler; unregistered on drop.
#[derive(Debug)]
pub struct CodeRegistration {
    slot: usize,
    start: usize,
    end: usize,
}

/// A guarded memory access in compiled code: where its instruction is in
/// the code blob, and the wasm function (index space with imports) whose
/// code it is, also where it was inlined into another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FaultSite {
    pub code_offset: u32,
    pub func: u32,
}

/// The wasm functions of one registered blob, for [`function_at`].
#[derive(Debug)]
struct CodeFunctions {
    end: usize,
    /// Weak: the module owns the code (through an extension), so a strong
    /// handle here would keep both alive for good.
    module: WeakModule,
    /// Sorted by offset, one per offset.
    sites: Vec<FaultSite>,
    /// `(code offset, function)` of every entry point, sorted.
    entries: Vec<(u32, u32)>,
}

/// Registered blobs by start address. Never read by the signal handler,
/// so a lock is fine.
static FUNCTIONS: RwLock<BTreeMap<usize, CodeFunctions>> = RwLock::new(BTreeMap::new());

/// Too many blobs of compiled code are mapped at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {CODE_SLOTS} blobs of compiled code are mapped at once")]
pub struct TooMuchCode;

/// Registers `[start, start + len)` as compiled code, so that a memory
/// fault inside it becomes a trap. Installs the fault handler on first use.
pub fn register_code(start: *const u8, len: usize) -> Result<CodeRegistration, TooMuchCode> {
    let start = start as usize;
    let end = start.checked_add(len).ok_or(TooMuchCode)?;
    if start == 0 || start == usize::MAX {
        return Err(TooMuchCode);
    }
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    sys::install_handler();
    for (slot, (s, e)) in CODE.iter().enumerate() {
        if s.compare_exchange(0, usize::MAX, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            e.store(end, Ordering::Relaxed);
            s.store(start, Ordering::Release);
            CODE_SLOTS_USED.fetch_max(slot + 1, Ordering::AcqRel);
            return Ok(CodeRegistration { slot, start, end });
        }
    }
    Err(TooMuchCode)
}

impl CodeRegistration {
    /// Tells which wasm functions of `module` the registered code holds:
    /// `sites` are its guarded accesses, `entries` the `(code offset,
    /// function)` of every function entry point. A fault at no site is
    /// taken to be in the function of the nearest entry below it.
    pub fn describe_functions(
        &self,
        module: &Module,
        mut sites: Vec<FaultSite>,
        entries: impl IntoIterator<Item = (u32, u32)>,
    ) {
        sites.sort_unstable();
        sites.dedup_by_key(|s| s.code_offset);
        let mut entries: Vec<(u32, u32)> = entries.into_iter().collect();
        entries.sort_unstable();
        let functions = CodeFunctions {
            end: self.end,
            module: module.downgrade(),
            sites,
            entries,
        };
        write_functions().insert(self.start, functions);
    }
}

fn write_functions() -> std::sync::RwLockWriteGuard<'static, BTreeMap<usize, CodeFunctions>> {
    FUNCTIONS.write().unwrap_or_else(|e| e.into_inner())
}

/// The module and wasm function whose compiled code holds `pc`: the
/// function of the guarded access there, else the one of the nearest entry
/// point below. `None` for code not described (or whose module is gone).
pub fn function_at(pc: usize) -> Option<(Module, u32)> {
    let functions = FUNCTIONS.read().unwrap_or_else(|e| e.into_inner());
    let (&start, code) = functions.range(..=pc).next_back()?;
    if pc >= code.end {
        return None;
    }
    let offset = u32::try_from(pc - start).ok()?;
    let func = match code.sites.binary_search_by_key(&offset, |s| s.code_offset) {
        Ok(i) => code.sites[i].func,
        Err(_) => {
            let below = code.entries.partition_point(|&(at, _)| at <= offset);
            code.entries.get(below.checked_sub(1)?)?.1
        }
    };
    Some((code.module.upgrade()?, func))
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        write_functions().remove(&self.start);
        let (s, e) = &CODE[self.slot];
        s.store(usize::MAX, Ordering::Release);
        e.store(0, Ordering::Relaxed);
        s.store(0, Ordering::Release);
    }
}

/// Whether `pc` lies in registered compiled code. Async-signal-safe.
fn is_compiled_code(pc: usize) -> bool {
    let used = CODE_SLOTS_USED.load(Ordering::Acquire).min(CODE_SLOTS);
    CODE[..used].iter().any(|(s, e)| {
        let start = s.load(Ordering::Acquire);
        start != 0 && start != usize::MAX && start <= pc && pc < e.load(Ordering::Acquire)
    })
}

/// Compiled code hit a guard page: an out-of-bounds memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardFault {
    /// The address of the faulting instruction (see [`function_at`]).
    pub pc: usize,
}

/// Calls compiled code `entry(vmctx, a, b)` (an array-call trampoline
/// `(vmctx, values)` ignores `b`). Fails when the code hit a guard page;
/// the call is then over and the caller reports the trap.
///
/// # Safety
/// `entry` is compiled code, registered while it runs, whose signature
/// takes (at most) these three arguments, which must be valid for it.
pub unsafe fn call_compiled(
    entry: *const u8,
    vmctx: *mut u8,
    a: *mut u64,
    b: u32,
) -> Result<(), GuardFault> {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        // SAFETY: forwarded from the caller.
        unsafe { sys::call_guarded(entry, vmctx, a, b) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    {
        // SAFETY: forwarded from the caller; extra integer arguments are
        // ignored by a callee of the C ABI that does not declare them.
        let f: unsafe extern "C" fn(*mut u8, *mut u64, u32) = unsafe { std::mem::transmute(entry) };
        unsafe { f(vmctx, a, b) };
        Ok(())
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod sys {
    use std::cell::Cell;
    use std::sync::OnceLock;

    // `wamr_guarded_call(entry, vmctx, a, b, sp_out)`: saves rbp, rbx and
    // r12-r15, writes the stack pointer to `*sp_out`, calls
    // `entry(vmctx, a, b)` and returns 0. The fault handler resumes a
    // faulting thread at `wamr_guarded_landing` with that stack pointer,
    // which restores the registers and returns 1 from the same call.
    std::arch::global_asm!(
        ".text",
        ".p2align 4",
        ".globl wamr_guarded_call",
        ".hidden wamr_guarded_call",
        ".type wamr_guarded_call, @function",
        "wamr_guarded_call:",
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        // Six pushes after the return address: 16-byte aligned after this.
        "sub rsp, 8",
        "mov [r8], rsp",
        "mov rax, rdi",
        "mov rdi, rsi",
        "mov rsi, rdx",
        "mov edx, ecx",
        "call rax",
        "xor eax, eax",
        "2:",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        ".globl wamr_guarded_landing",
        ".hidden wamr_guarded_landing",
        "wamr_guarded_landing:",
        "mov eax, 1",
        "jmp 2b",
        ".size wamr_guarded_call, . - wamr_guarded_call",
    );

    unsafe extern "C" {
        fn wamr_guarded_call(
            entry: *const u8,
            vmctx: *mut u8,
            a: *mut u64,
            b: u32,
            sp_out: *mut usize,
        ) -> u32;
        fn wamr_guarded_landing();
    }

    thread_local! {
        /// The saved stack pointer of this thread's innermost guarded
        /// call, or null outside compiled code. Const-initialised without
        /// a destructor, so the fault handler may read it.
        static LANDING: Cell<*const usize> = const { Cell::new(std::ptr::null()) };
        /// Where this thread's last guard fault happened, set by the
        /// handler (const-initialised, no destructor: signal-safe).
        static FAULT_PC: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) unsafe fn call_guarded(
        entry: *const u8,
        vmctx: *mut u8,
        a: *mut u64,
        b: u32,
    ) -> Result<(), super::GuardFault> {
        let mut sp = 0usize;
        let sp: *mut usize = &mut sp;
        let outer = LANDING.with(|l| l.replace(sp));
        // SAFETY: the stub calls `entry` with these arguments (the caller's
        // contract) and saves what the landing needs in `sp`, which lives
        // until the call returns.
        let faulted = unsafe { wamr_guarded_call(entry, vmctx, a, b, sp) } != 0;
        LANDING.with(|l| l.set(outer));
        if faulted {
            Err(super::GuardFault {
                pc: FAULT_PC.with(Cell::get),
            })
        } else {
            Ok(())
        }
    }

    /// The handlers in place before ours, for faults that are not ours.
    static PREVIOUS: OnceLock<[libc::sigaction; 2]> = OnceLock::new();
    const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

    pub(super) fn install_handler() {
        PREVIOUS.get_or_init(|| {
            SIGNALS.map(|signal| {
                // SAFETY: plain sigaction calls with initialised structs.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_fault as *const () as usize;
                    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                    libc::sigemptyset(&mut action.sa_mask);
                    let mut previous: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, &action, &mut previous) != 0 {
                        tracing::warn!(signal, "cannot install the guard-page fault handler");
                    }
                    previous
                }
            })
        });
    }

    /// The fault handler. Async-signal-safe: it reads atomics, sets
    /// thread-local cells and rewrites the interrupted context.
    unsafe extern "C" fn on_fault(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
        let uc = unsafe { &mut *context.cast::<libc::ucontext_t>() };
        let regs = &mut uc.uc_mcontext.gregs;
        let pc = regs[libc::REG_RIP as usize] as usize;
        let landing = LANDING.with(Cell::get);
        if !landing.is_null() && super::is_compiled_code(pc) {
            FAULT_PC.with(|p| p.set(pc));
            // SAFETY: `landing` points at the live `sp` of this thread's
            // innermost `call_guarded`, which is below us on this stack.
            regs[libc::REG_RSP as usize] = unsafe { *landing } as i64;
            regs[libc::REG_RIP as usize] = wamr_guarded_landing as *const () as usize as i64;
            return;
        }
        // SAFETY: chaining to the previous handler as it was registered.
        unsafe { chain(signal, info, context) }
    }

    unsafe fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        let index = usize::from(signal != libc::SIGSEGV);
        let Some(previous) = PREVIOUS.get().map(|p| p[index]) else {
            return;
        };
        match previous.sa_sigaction {
            libc::SIG_DFL | libc::SIG_IGN => {
                // Put the default back; returning re-runs the faulting
                // instruction, which now ends the process as it would have.
                // SAFETY: restores a handler the kernel gave us.
                unsafe { libc::sigaction(signal, &previous, std::ptr::null_mut()) };
            }
            handler if previous.sa_flags & libc::SA_SIGINFO != 0 => {
                // SAFETY: the previous handler was registered with this signature.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(handler) };
                f(signal, info, context);
            }
            handler => {
                // SAFETY: a handler registered without SA_SIGINFO takes the signal only.
                let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
                f(signal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_cover_their_range_until_dropped() {
        let code = [0u8; 64];
        let at = code.as_ptr() as usize;
        let registration = register_code(code.as_ptr(), code.len()).unwrap();
        assert!(is_compiled_code(at));
        assert!(is_compiled_code(at + 63));
        assert!(!is_compiled_code(at + 64));
        drop(registration);
        assert!(!is_compiled_code(at));
    }

    #[test]
    fn function_at_prefers_the_site_then_the_entry_below() {
        let module = Module::new(&crate::Config::default(), b"\0asm\x01\0\0\0").unwrap();
        let code = [0u8; 256];
        let at = code.as_ptr() as usize;
        let registration = register_code(code.as_ptr(), code.len()).unwrap();
        // Undescribed code names no function.
        assert!(function_at(at + 16).is_none());
        let sites = vec![
            FaultSite {
                code_offset: 100,
                func: 7,
            },
            FaultSite {
                code_offset: 40,
                func: 9,
            },
        ];
        registration.describe_functions(&module, sites, [(64, 3), (0, 2), (128, 4)]);
        let func = |pc: usize| function_at(pc).map(|(m, f)| (m.same(&module), f));
        // Exact sites: the function whose access it is (here inlined into 2 and 3).
        assert_eq!(func(at + 40), Some((true, 9)));
        assert_eq!(func(at + 100), Some((true, 7)));
        // Elsewhere: the function of the nearest entry at or below.
        assert_eq!(func(at), Some((true, 2)));
        assert_eq!(func(at + 41), Some((true, 2)));
        assert_eq!(func(at + 64), Some((true, 3)));
        assert_eq!(func(at + 255), Some((true, 4)));
        // Outside the code.
        assert_eq!(func(at + 256), None);
        assert_eq!(func(at - 1), None);
        // A weak module: the table does not keep it alive.
        let other = Module::new(&crate::Config::default(), b"\0asm\x01\0\0\0").unwrap();
        registration.describe_functions(&other, Vec::new(), [(0, 1)]);
        drop(other);
        assert_eq!(func(at), None);
        registration.describe_functions(&module, Vec::new(), [(0, 1)]);
        assert_eq!(func(at), Some((true, 1)));
        drop(registration);
        assert_eq!(func(at), None);
    }
}
