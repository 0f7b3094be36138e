//! wamr-rs threaded-code interpreter tier.
//!
//! Each function is translated on its first call (`translate`) into
//! register-style code whose operands are frame slots (`code`), then run by
//! the instruction loop (`exec`). Every tier shares the runtime's store,
//! memories and traps, so the interpreter has no rules of its own.

mod code;
mod exec;
mod translate;

pub use exec::{Interpreter, TierUp};

/// Translates every defined function of `module` (normally done lazily, on
/// each function's first call); returns the number of instructions emitted.
/// For benchmarks and tools that measure or inspect translation.
pub fn translate_all(module: &wamr_runtime::Module) -> Result<usize, wamr_runtime::Error> {
    let mut total = 0;
    for f in module.num_imported_funcs()..module.num_funcs() {
        total += exec::lower(translate::translate(module, f)?).ops.len();
    }
    Ok(total)
}
