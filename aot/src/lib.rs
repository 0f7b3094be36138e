//! wamr-rs AOT tier, the half without LLVM: everything needed to run
//! compiled code, so that a binary carrying the LLVM tier links no LLVM.
//!
//! - `container`: the `.aot` file format (writer, validating reader,
//!   target checks).
//! - `cache`: compiled code kept on disk between processes.
//! - `code_memory`: maps code blobs read+exec, from memory or in place
//!   from a file.
//! - `compiler`: the [`Compiler`] interface and [`CompileOptions`];
//!   `plugin`: the LLVM compiler loaded lazily from its shared library.
//! - `target`: targets, CPUs and features as users name them, checked.
//! - `executor`: runs modules as native code through the runtime's store,
//!   and loads `.aot` files.
//! - `perf_map`: names for compiled code in `perf` profiles (`WAMR_PERF_MAP=1`).
//! - `worker`: compiling in a child process ([`worker::ProcessCompiler`]).
//!
//! The compiler itself lives in `wamr-llvm-aot`.

pub mod cache;
pub mod code_memory;
pub mod compiler;
pub mod container;
pub mod embed;
pub mod executor;
pub mod perf_map;
pub mod plugin;
pub mod target;
pub mod worker;

pub use cache::{CacheError, CacheKey, CacheStats, CacheSummary, CodeCache};
pub use code_memory::CodeMemory;
pub use compiler::{
    COMPILER_VERSION, CachingCompiler, CompileError, CompileJob, CompileOptions, Compiler, OsrFuncs,
};
pub use container::{
    AotFile, AotImage, AotMeta, ContainerError, FaultSite, FunctionEntry, HostTarget, WasmFeatures,
};
pub use executor::{
    AotExecutor, CompiledModule, LoadError, attach, call_published, compile_module,
    compile_module_cached, compiled_code, is_published, load_aot_file,
};
pub use plugin::PluginCompiler;
pub use worker::ProcessCompiler;
