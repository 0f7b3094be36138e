//! wamr-rs threaded-code interpreter tier.
//!
//! Each function is translated on its first call (`translate`) into
//! register-style code whose operands are frame slots (`code`), then run by
//! the instruction loop (`exec`). Every tier shares the runtime's store,
//! memories and traps, so the interpreter has no rules of its own.

mod code;
mod exec;
mod translate;

pub use exec::Interpreter;
