//! wamr-rs: a tiered WebAssembly runtime.
//!
//! Modules start in a threaded-code interpreter; an LLVM backend compiles
//! them ahead of time or in the background. This crate is the embedding API
//! and joins the tiers; the shared core lives in `wamr-runtime`.
//!
//! A module that imports a host function, exports a function and a
//! memory: the host function is a typed Rust closure, the export is called
//! through a typed handle, and memory is read at a `u64` address.
//!
//! ```
//! use wamr_rs::{Linker, Runtime};
//!
//! let wasm = wat::parse_str(
//!     r#"(module
//!         (import "host" "scale" (func $scale (param i32) (result i32)))
//!         (memory (export "mem") 1)
//!         (data (i32.const 8) "wamr")
//!         (func (export "add_scaled") (param i32 i32) (result i32)
//!             (i32.add (local.get 0) (call $scale (local.get 1)))))"#,
//! )
//! .expect("valid text");
//! let runtime = Runtime::new();
//! let module = runtime.load(&wasm)?;
//! let mut store = runtime.new_store();
//! let mut linker = Linker::new();
//! // The wasm type (i32) -> i32 is derived from the closure's types.
//! linker.func_wrap(&mut store, "host", "scale", |x: i32| x * 10);
//! let instance = linker.instantiate(&mut store, &module)?;
//!
//! // Checked against the export's signature once, here.
//! let add_scaled = instance.get_typed_func::<(i32, i32), i32>(&store, "add_scaled")?;
//! assert_eq!(add_scaled.call(&mut store, (1, 2))?, 21);
//! // A wrong signature is an error at lookup, not at the call.
//! assert!(instance.get_typed_func::<i64, i32>(&store, "add_scaled").is_err());
//!
//! let memory = instance.memory(&store, "mem").expect("exported memory");
//! let mut bytes = [0u8; 4];
//! store.memory(memory).read(8, &mut bytes).expect("in bounds");
//! assert_eq!(&bytes, b"wamr");
//! # Ok::<(), wamr_rs::Error>(())
//! ```
//!
//! WASI programs: see [`Linker::define_wasi`]. A complete program is
//! `examples/embed.rs`.

mod affinity;
mod compile_process;
mod host;
mod instance;
mod linker;
mod runtime;
pub mod tiering;
mod typed;
pub mod wasi;

pub use host::{HostResult, IntoFunc, WithCaller};
pub use instance::Instance;
pub use linker::Linker;
pub use runtime::{Runtime, Tier};
pub use typed::{TypedFunc, V128, WasmTy, WasmTypeList};
/// The persistent code cache: `cache::CodeCache`, `cache::CacheKey`.
pub use wamr_aot::cache;
/// The first bytes of every `.aot` file.
pub use wamr_aot::container::MAGIC as AOT_MAGIC;
/// Compiled code packaged for static linking: `embed::embed_kit`.
pub use wamr_aot::embed;
/// Compile targets as users name them: `target::compile_options`.
pub use wamr_aot::target;
/// Compiling in a child process: `worker::ProcessCompiler`, `worker::serve`.
pub use wamr_aot::worker;
pub use wamr_aot::{
    AotImage, AotMeta, COMPILER_VERSION, CacheStats, CacheSummary, CachingCompiler, CodeCache,
    CompileError, CompileJob, CompileOptions, Compiler, HostTarget,
};

/// The LLVM compiler plugin, shared by the process and loaded on first use
/// (the default compiler of every [`Runtime`]).
pub fn plugin_compiler() -> std::sync::Arc<dyn Compiler> {
    wamr_aot::plugin::shared()
}
pub use wamr_runtime::{
    Caller, CodeCacheConfig, Config, ConfigError, DEFAULT_MEMORY64_PAGE_LIMIT, DataMode,
    ElementMode, Error, Export, Extern, ExternKind, ExternType, Features, FuncId, FuncKind,
    FuncType, GlobalId, GlobalType, HostFn, Import, IndexType, InstanceId, Limits, MemoryId,
    MemoryInstance, MemoryType, Module, PAGE_SIZE, RawRef, Result, Store, TableId, TableType,
    TierUpPolicy, Trap, TrapKind, Val, ValType,
};
pub use wasi::{InputPipe, OutputPipe, WasiCtx, WasiCtxBuilder, WasiError};
