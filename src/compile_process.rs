//! The default compiler of a [`crate::Runtime`]: every compile runs in a
//! child process, so that a crash inside LLVM ends that child and fails
//! the compile, never the host. The child is the host's own executable:
//! every program that links this crate can serve as its compile worker,
//! with no binary of ours to install beside it, because a constructor of
//! this crate runs before the program's `main` and, in a process started
//! as a worker ([`WORKER_ENV`] set), serves the one compile and exits
//! there.
//!
//! Where the executable does not hold that constructor (this crate sits in
//! a shared library loaded by another program, e.g. a Python extension),
//! re-running it would start that other program, so compiles stay in the
//! process (`plugin::shared`) and a crash of LLVM would take the host
//! down. Embedders who want in-process compiles anyway (they are a few
//! milliseconds faster to start and report progress) pass
//! `Runtime::with_compiler(wamr_rs::plugin_compiler())`.

use std::sync::Arc;

use wamr_aot::Compiler;
use wamr_aot::worker::ProcessCompiler;

/// Set in a worker's environment, to the parent's process id.
const WORKER_ENV: &str = "WAMR_RS_COMPILE_WORKER";

/// The compiler a runtime uses unless told otherwise.
pub(crate) fn default_compiler() -> Arc<dyn Compiler> {
    if let Some(exe) = own_executable() {
        let parent = std::process::id().to_string();
        return Arc::new(
            ProcessCompiler::new(exe, std::iter::empty::<&str>()).env(WORKER_ENV, parent),
        );
    }
    tracing::debug!("this executable cannot serve as a compile worker: compiling in-process");
    wamr_aot::plugin::shared()
}

/// The path of this process's executable, if the constructor below is in
/// it (not in a shared library), so that it can be re-run as a worker.
fn own_executable() -> Option<std::path::PathBuf> {
    #[cfg(target_os = "linux")]
    {
        if !sys::constructor_in_executable() {
            return None;
        }
        std::env::current_exe().ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(target_os = "linux")]
mod sys {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Runs before `main` in every process whose executable links this
    /// crate (the ELF `.init_array`): a worker serves its compile and
    /// exits; any other process goes on untouched.
    #[used]
    #[unsafe(link_section = ".init_array")]
    static SERVE_IF_WORKER: extern "C" fn() = serve_if_worker;

    /// Set by [`serve_if_worker`]: proof that the constructor is wired up.
    static RAN: AtomicBool = AtomicBool::new(false);

    extern "C" fn serve_if_worker() {
        RAN.store(true, Ordering::Relaxed);
        let Some(parent) = std::env::var_os(super::WORKER_ENV) else {
            return;
        };
        let parent = parent.to_str().and_then(|p| p.parse().ok());
        let code = match wamr_aot::worker::serve_parent(parent) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("wamr-rs compile worker: {e}");
                1
            }
        };
        // SAFETY: ends this process at once; the program's own `main` and
        // destructors must not run in a worker.
        unsafe { libc::_exit(code) }
    }

    /// Whether [`SERVE_IF_WORKER`] ran in this process and lies in the
    /// main executable's image, not in a shared library (which a re-run
    /// executable might not load).
    pub(super) fn constructor_in_executable() -> bool {
        if !RAN.load(Ordering::Relaxed) {
            return false;
        }
        // SAFETY: `dladdr` only reads the loader's tables; both addresses
        // are valid (a static of ours, the program headers the kernel
        // passed).
        unsafe {
            let phdr = libc::getauxval(libc::AT_PHDR) as *const libc::c_void;
            let ours = std::ptr::addr_of!(SERVE_IF_WORKER).cast::<libc::c_void>();
            let mut exe: libc::Dl_info = std::mem::zeroed();
            let mut lib: libc::Dl_info = std::mem::zeroed();
            libc::dladdr(phdr, &mut exe) != 0
                && libc::dladdr(ours, &mut lib) != 0
                && exe.dli_fbase == lib.dli_fbase
        }
    }
}
