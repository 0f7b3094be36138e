//! WASI preview1 as host functions.
//!
//! [`WasiCtxBuilder`] sets up what the guest sees (arguments, environment,
//! preopened directories, stdio); [`imports`] turns the resulting
//! [`WasiCtx`] into host functions for both `wasi_snapshot_preview1` and
//! the legacy `wasi_unstable`, ready to be defined in a linker.
//!
//! The file system is reached only through `cap-std` directory handles, so
//! no path (`..`, absolute, or through a symlink) leads out of a preopened
//! directory. Every guest pointer is bounds-checked: a bad one makes the
//! call fail with `EFAULT`. Preview1 is a memory32 ABI; a module with a
//! 64-bit memory is refused by [`check_module`] before it is instantiated.

mod abi;
mod clock;
mod ctx;
mod errno;
mod fs;
mod path;
mod pipe;
mod poll;
mod proc;

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::module::{ExternKind, Module};
use crate::store::{Caller, Extern, HostFn};
use crate::trap::Trap;
use crate::types::{FuncType, IndexType, ValType};
use crate::value::Val;

pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use errno::Errno;
pub use pipe::{InputPipe, OutputPipe};

use abi::{Flavor, GuestMemory};

/// The import module of WASI preview1.
pub const PREVIEW1: &str = "wasi_snapshot_preview1";
/// The import module of the snapshot before it, still used by old toolchains.
pub const UNSTABLE: &str = "wasi_unstable";

/// Whether `module` (an import's module name) is one of WASI's.
pub fn is_wasi_module(module: &str) -> bool {
    module == PREVIEW1 || module == UNSTABLE
}

/// Why a WASI context could not be built or a module cannot use WASI.
#[derive(Debug, thiserror::Error)]
pub enum WasiError {
    #[error("cannot preopen directory {}: {source}", host.display())]
    Preopen {
        host: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("invalid {what}: {value:?}")]
    InvalidString { what: &'static str, value: String },
    #[error(
        "module imports WASI ({import}) but its memory is 64-bit; \
         WASI preview1 has no wasm64 ABI"
    )]
    Memory64 { import: String },
}

impl From<WasiError> for crate::Error {
    fn from(e: WasiError) -> Self {
        match e {
            WasiError::Memory64 { .. } => crate::Error::Link(e.to_string()),
            other => crate::Error::Other(other.to_string()),
        }
    }
}

/// The memory WASI functions read and write: the export `memory`, or else
/// the module's first memory.
fn wasi_memory_index(module: &Module) -> Option<u32> {
    match module.export("memory") {
        Some(e) if e.kind == ExternKind::Memory => Some(e.index),
        _ => (!module.memories().is_empty()).then_some(0),
    }
}

/// Refuses a module that imports WASI functions but would hand them a
/// 64-bit memory: preview1 pointers are 32-bit and there is no wasm64 ABI.
/// Checking the module up front gives a clear link error instead of a trap
/// at the first call.
pub fn check_module(module: &Module) -> Result<(), WasiError> {
    let Some(import) = module.imports().iter().find(|i| is_wasi_module(&i.module)) else {
        return Ok(());
    };
    match wasi_memory_index(module).map(|i| module.memories()[i as usize].index) {
        Some(IndexType::I64) => Err(WasiError::Memory64 {
            import: format!("{}.{}", import.module, import.name),
        }),
        _ => Ok(()),
    }
}

/// A WASI import: `(module, name, type, function)`.
pub type WasiImport = (&'static str, &'static str, FuncType, Arc<HostFn>);

/// A WASI context shared by the functions of one [`Wasi`].
type SharedCtx = Arc<Mutex<WasiCtx>>;

/// The WASI functions of one context, made one at a time as a module
/// imports them (a program imports a handful of the ~90).
#[derive(Debug, Clone)]
pub struct Wasi {
    ctx: SharedCtx,
}

impl Wasi {
    pub fn new(ctx: WasiCtx) -> Self {
        Wasi {
            ctx: Arc::new(Mutex::new(ctx)),
        }
    }

    /// The function `module.name`, if WASI has one.
    pub fn import(&self, module: &str, name: &str) -> Option<WasiImport> {
        let (module, flavor) = match module {
            PREVIEW1 => (PREVIEW1, Flavor::Preview1),
            UNSTABLE => (UNSTABLE, Flavor::Unstable),
            _ => return None,
        };
        let def = FUNCS
            .iter()
            .find(|d| d.name == name && (flavor == Flavor::Preview1 || d.in_unstable))?;
        Some(self.function(module, flavor, def))
    }

    /// Every function, for both [`PREVIEW1`] and [`UNSTABLE`].
    pub fn all(&self) -> Vec<WasiImport> {
        let mut out = Vec::with_capacity(2 * FUNCS.len());
        for (module, flavor) in [(PREVIEW1, Flavor::Preview1), (UNSTABLE, Flavor::Unstable)] {
            for def in FUNCS
                .iter()
                .filter(|d| flavor == Flavor::Preview1 || d.in_unstable)
            {
                out.push(self.function(module, flavor, def));
            }
        }
        out
    }

    fn function(&self, module: &'static str, flavor: Flavor, def: &'static FuncDef) -> WasiImport {
        let ty = FuncType::new(def.params.iter().copied(), def.results.iter().copied());
        (module, def.name, ty, host_fn(def, flavor, self.ctx.clone()))
    }
}

/// Every WASI function, for both [`PREVIEW1`] and [`UNSTABLE`], sharing `ctx`.
pub fn imports(ctx: WasiCtx) -> Vec<WasiImport> {
    Wasi::new(ctx).all()
}

/// Wraps a handler: checks argument types, locks the context, and turns the
/// outcome into an errno result or a trap.
fn host_fn(def: &'static FuncDef, flavor: Flavor, ctx: SharedCtx) -> Arc<HostFn> {
    Arc::new(
        move |caller: &mut Caller<'_>, args: &[Val], results: &mut [Val]| {
            // Linking and the tiers guarantee the types; a direct call from the
            // embedder might not, and must not reach a panic.
            let typed = args.len() == def.params.len()
                && args.iter().zip(def.params).all(|(a, &t)| a.has_type(t));
            if !typed {
                return Err(Trap::host(format!(
                    "WASI {} called with {args:?}",
                    def.name
                )));
            }
            let mut ctx = ctx.lock().unwrap_or_else(|e| e.into_inner());
            let errno = match (def.handler)(&mut ctx, caller, &Call { args, flavor }) {
                Ok(()) => Errno::Success,
                Err(HostError::Errno(e)) => {
                    tracing::trace!(function = def.name, errno = ?e, "WASI call failed");
                    e
                }
                Err(HostError::Trap(t)) => return Err(t),
            };
            if let Some(r) = results.first_mut() {
                *r = Val::I32(i32::from(errno.raw()));
            }
            Ok(())
        },
    )
}

/// How a WASI function ends short of success: an errno for the guest, or a
/// trap that unwinds it (`proc_exit`, or a module without a usable memory).
#[derive(Debug)]
pub(crate) enum HostError {
    Errno(Errno),
    Trap(Trap),
}

impl From<Errno> for HostError {
    fn from(e: Errno) -> Self {
        HostError::Errno(e)
    }
}

impl From<io::Error> for HostError {
    fn from(e: io::Error) -> Self {
        HostError::Errno(e.into())
    }
}

impl From<Trap> for HostError {
    fn from(t: Trap) -> Self {
        HostError::Trap(t)
    }
}

type HostResult = Result<(), HostError>;

/// The arguments of one call, already type-checked against the signature.
pub(crate) struct Call<'a> {
    args: &'a [Val],
    pub flavor: Flavor,
}

impl Call<'_> {
    /// Argument `i` (an i32: pointer, length, fd or flags) as unsigned.
    pub fn u32(&self, i: usize) -> u32 {
        match self.args[i] {
            Val::I32(v) => v as u32,
            other => unreachable!("WASI argument {i} is {other:?}, the signature says i32"),
        }
    }

    /// Argument `i` (an i64) as unsigned.
    pub fn u64(&self, i: usize) -> u64 {
        match self.args[i] {
            Val::I64(v) => v as u64,
            other => unreachable!("WASI argument {i} is {other:?}, the signature says i64"),
        }
    }
}

/// The caller's memory, as WASI functions see it (see [`wasi_memory_index`]).
pub(crate) fn memory<'c>(caller: &'c mut Caller<'_>) -> Result<GuestMemory<'c>, HostError> {
    let id = caller
        .instance
        .and_then(|inst| match caller.store.export(inst, "memory") {
            Some(Extern::Memory(m)) => Some(m),
            _ => caller.store.instance(inst).memories().first().copied(),
        });
    let Some(id) = id else {
        return Err(Trap::host("WASI function called by a module without a memory").into());
    };
    let mem = caller.store.memory_mut(id);
    // Reachable only when the imports were linked without `check_module`.
    if mem.index_type() == IndexType::I64 {
        return Err(Trap::host("WASI preview1 cannot use a 64-bit memory").into());
    }
    Ok(GuestMemory::new(mem.data_mut()))
}

type Handler = fn(&mut WasiCtx, &mut Caller<'_>, &Call<'_>) -> HostResult;

struct FuncDef {
    name: &'static str,
    params: &'static [ValType],
    results: &'static [ValType],
    handler: Handler,
    /// Whether `wasi_unstable` has the function too.
    in_unstable: bool,
}

const I: ValType = ValType::I32;
const L: ValType = ValType::I64;

macro_rules! funcs {
    ($($name:ident ( $($p:ident),* ) $(-> $r:ident)? => $handler:path $(, $only:ident)?;)*) => {
        &[$(FuncDef {
            name: stringify!($name),
            params: &[$($p),*],
            results: &[$($r)?],
            handler: $handler,
            in_unstable: funcs!(@unstable $($only)?),
        },)*]
    };
    (@unstable) => { true };
    (@unstable preview1_only) => { false };
}

/// The preview1 functions (witx order): name, signature, implementation.
const FUNCS: &[FuncDef] = funcs! {
    args_get(I, I) -> I => proc::args_get;
    args_sizes_get(I, I) -> I => proc::args_sizes_get;
    environ_get(I, I) -> I => proc::environ_get;
    environ_sizes_get(I, I) -> I => proc::environ_sizes_get;
    clock_res_get(I, I) -> I => proc::clock_res_get;
    clock_time_get(I, L, I) -> I => proc::clock_time_get;
    fd_advise(I, L, L, I) -> I => fs::fd_advise;
    fd_allocate(I, L, L) -> I => fs::fd_allocate;
    fd_close(I) -> I => fs::fd_close;
    fd_datasync(I) -> I => fs::fd_datasync;
    fd_fdstat_get(I, I) -> I => fs::fd_fdstat_get;
    fd_fdstat_set_flags(I, I) -> I => fs::fd_fdstat_set_flags;
    fd_fdstat_set_rights(I, L, L) -> I => fs::fd_fdstat_set_rights;
    fd_filestat_get(I, I) -> I => fs::fd_filestat_get;
    fd_filestat_set_size(I, L) -> I => fs::fd_filestat_set_size;
    fd_filestat_set_times(I, L, L, I) -> I => fs::fd_filestat_set_times;
    fd_pread(I, I, I, L, I) -> I => fs::fd_pread;
    fd_prestat_get(I, I) -> I => fs::fd_prestat_get;
    fd_prestat_dir_name(I, I, I) -> I => fs::fd_prestat_dir_name;
    fd_pwrite(I, I, I, L, I) -> I => fs::fd_pwrite;
    fd_read(I, I, I, I) -> I => fs::fd_read;
    fd_readdir(I, I, I, L, I) -> I => fs::fd_readdir;
    fd_renumber(I, I) -> I => fs::fd_renumber;
    fd_seek(I, L, I, I) -> I => fs::fd_seek;
    fd_sync(I) -> I => fs::fd_sync;
    fd_tell(I, I) -> I => fs::fd_tell;
    fd_write(I, I, I, I) -> I => fs::fd_write;
    path_create_directory(I, I, I) -> I => path::path_create_directory;
    path_filestat_get(I, I, I, I, I) -> I => path::path_filestat_get;
    path_filestat_set_times(I, I, I, I, L, L, I) -> I => path::path_filestat_set_times;
    path_link(I, I, I, I, I, I, I) -> I => path::path_link;
    path_open(I, I, I, I, I, L, L, I, I) -> I => path::path_open;
    path_readlink(I, I, I, I, I, I) -> I => path::path_readlink;
    path_remove_directory(I, I, I) -> I => path::path_remove_directory;
    path_rename(I, I, I, I, I, I) -> I => path::path_rename;
    path_symlink(I, I, I, I, I) -> I => path::path_symlink;
    path_unlink_file(I, I, I) -> I => path::path_unlink_file;
    poll_oneoff(I, I, I, I) -> I => poll::poll_oneoff;
    proc_exit(I) => proc::proc_exit;
    proc_raise(I) -> I => proc::proc_raise;
    sched_yield() -> I => proc::sched_yield;
    random_get(I, I) -> I => proc::random_get;
    sock_accept(I, I, I) -> I => proc::sock_accept, preview1_only;
    sock_recv(I, I, I, I, I, I) -> I => proc::sock_recv;
    sock_send(I, I, I, I, I) -> I => proc::sock_send;
    sock_shutdown(I, I) -> I => proc::sock_shutdown;
};
