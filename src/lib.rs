//! wamr-rs: a tiered WebAssembly runtime.
//!
//! Modules start in a threaded-code interpreter; an LLVM backend compiles
//! them ahead of time or in the background. This crate is the embedding API
//! and joins the tiers; the shared core lives in `wamr-runtime`.
//!
//! ```
//! use wamr_rs::{Linker, Runtime, Val};
//!
//! let runtime = Runtime::new();
//! let wasm = wat::parse_str(
//!     r#"(module (memory (export "mem") 1) (data (i32.const 8) "wamr"))"#,
//! )
//! .expect("valid text");
//! let module = runtime.load(&wasm)?;
//! let mut store = runtime.new_store();
//! let instance = Linker::new().instantiate(&mut store, &module)?;
//! let memory = instance.memory(&store, "mem").expect("exported memory");
//! let mut bytes = [0u8; 4];
//! store.memory(memory).read(8, &mut bytes).expect("in bounds");
//! assert_eq!(&bytes, b"wamr");
//! # Ok::<(), wamr_rs::Error>(())
//! ```

mod instance;
mod linker;
mod runtime;
pub mod wasi;

pub use instance::Instance;
pub use linker::Linker;
pub use runtime::{Runtime, Tier};
pub use wamr_runtime::{
    Caller, Config, DataMode, ElementMode, Error, Export, Extern, ExternKind, ExternType, Features,
    FuncId, FuncType, GlobalId, GlobalType, HostFn, Import, IndexType, InstanceId, Limits,
    MemoryId, MemoryInstance, MemoryType, Module, PAGE_SIZE, RawRef, Result, Store, TableId,
    TableType, Trap, TrapKind, Val, ValType,
};
pub use wasi::{InputPipe, OutputPipe, WasiCtx, WasiCtxBuilder, WasiError};
