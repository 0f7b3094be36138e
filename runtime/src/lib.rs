//! wamr-rs runtime core: everything that is the same for every tier.
//!
//! - [`Module`]: decode and validate once (wasmparser), the model every tier reads.
//! - [`Store`]: functions, tables, memories, globals and instances; instantiation
//!   in spec order, independent of the tier that later runs the code.
//! - [`vmctx`]: the VM context layout shared by the interpreter and compiled code.
//! - [`Trap`] / [`Error`]: the spec's trap kinds and messages, and every other failure.
//! - [`wasi`]: WASI preview1 as host functions, sandboxed with cap-std.

pub mod bulk;
pub mod config;
pub mod const_expr;
pub mod error;
pub mod global;
pub mod guard;
pub mod helpers;
pub mod memory;
pub mod module;
pub mod numeric;
pub mod store;
pub mod table;
pub mod trap;
pub mod types;
pub mod value;
pub mod vmctx;
pub mod wasi;

pub use config::{
    CodeCacheConfig, Config, ConfigError, DEFAULT_MEMORY64_PAGE_LIMIT, Features, TierUpPolicy,
};
pub use const_expr::{ConstExpr, ConstOp};
pub use error::{Error, Result};
pub use memory::{MemoryInstance, PAGE_SIZE};
pub use module::{
    DataMode, DataSegment, ElementMode, ElementSegment, Export, ExternKind, FuncBody, Import,
    Module, WeakModule,
};
pub use store::{
    Caller, Executor, Extern, FuncId, FuncKind, GlobalId, HostFn, InstanceId, MemoryId, Store,
    TableId, WasmFunc,
};
pub use trap::{Trap, TrapKind};
pub use types::{
    ExternType, FuncType, GlobalType, IndexType, Limits, MemoryType, TableType, ValType,
};
pub use value::{RawRef, Val};
