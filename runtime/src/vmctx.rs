//! The VM context: the one data layout compiled code and the interpreter
//! agree on, defined here once.
//!
//! Every instance owns one [`VMContext`]. Its fields point at per-instance
//! arrays of pointers, so an imported entity is reached exactly like a
//! defined one: through a pointer to the single object that owns it
//! (contract 2: one memory, read by every tier).
//!
//! ```text
//! VMContext (repr(C), offsets fixed by `layout` below)
//!   +0   memories   -> [*mut VMMemory; n]   base, length (bytes)
//!   +8   tables     -> [*mut VMTable; n]    base (RawRef elements), length
//!   +16  globals    -> [*mut VMGlobal; n]   16-byte cells
//!   +24  funcs      -> [*const VMFuncRef; n] one slot per function, imports first
//!   +32  type_ids   -> [u32; n]             canonical signature id per module type
//!   +40  builtins   -> Builtins             runtime entry points for compiled code
//!   +48  state      -> VMStoreState         per store: pending trap, native stack limit
//! ```
//!
//! Every pointer here sits in an 8-byte little-endian cell, on 32-bit
//! targets too (the address in the low half): one layout for every target,
//! which the C header of `wamr-rs aot --format object` spells out for
//! embedders that run compiled code without this runtime.
//!
//! Compiled code never unwinds: a trap is recorded in `VMStoreState::trap`
//! (through the `raise_trap` builtin) and every compiled function returns
//! at once when it finds the flag set after a call; the host entry turns
//! the flag into a [`crate::Trap`].

use std::sync::atomic::AtomicPtr;

/// The view of a linear memory that code reads: base and current length.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemory {
    pub base: *mut u8,
    /// Current length in bytes (a multiple of the page size).
    pub length: u64,
}

/// The view of a table that code reads.
#[repr(C)]
#[derive(Debug)]
pub struct VMTable {
    /// Elements, each a [`crate::RawRef`].
    pub base: *mut u64,
    /// Current length in elements.
    pub length: u64,
}

/// A global's storage: 16 bytes so that a v128 fits; scalars use the low bytes
/// (little-endian), references hold a [`crate::RawRef`].
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobal {
    pub bits: [u64; 2],
}

/// A function slot (contract 5). `code` holds the native entry once a
/// compiled version exists, and `array_call` its array-call trampoline
/// (`fn(vmctx, *mut u64)`, arguments in and results out through 64-bit
/// slots: how the interpreter and the host enter compiled code). Both are
/// published with release ordering, `array_call` last, by the thread that
/// owns the store; null means "run in the interpreter". A funcref value is
/// the address of a slot.
#[repr(C)]
#[derive(Debug)]
pub struct VMFuncRef {
    pub code: AtomicPtr<u8>,
    /// Canonical signature id, compared by `call_indirect`.
    pub type_id: u32,
    /// Index of the function in its store.
    pub func_id: u32,
    /// The VM context of the instance that defines the function (null for host functions).
    pub vmctx: *mut VMContext,
    pub array_call: AtomicPtr<u8>,
}

/// State shared by every instance of a store and read by compiled code.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMStoreState {
    /// Non-zero while a trap is pending: the [`crate::TrapKind`] discriminant.
    pub trap: u32,
    pub _reserved: u32,
    /// Lowest native stack address compiled code may use; function
    /// prologues compare the stack pointer against it.
    pub stack_limit: usize,
}

/// Runtime entry points for compiled code (contract 6: the only way compiled
/// code reaches the runtime). Grows with the AOT tier.
#[repr(C)]
#[derive(Debug)]
pub struct Builtins {
    /// `memory.grow`: returns the old size in pages, or `u64::MAX` on failure.
    pub memory_grow: unsafe extern "C" fn(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64,
    /// Records a pending trap of the given [`crate::TrapKind`] discriminant,
    /// raised in function `func` (its index in the module) of the instance
    /// of `vmctx`. With `kind` 0 it records nothing new: each compiled
    /// frame a pending trap passes on its way out calls it so, and the
    /// innermost of them is named as the function the trap happened in.
    pub raise_trap: unsafe extern "C" fn(vmctx: *mut VMContext, kind: u32, func: u32),
    /// Calls the function whose slot is `func`, with arguments in `values`
    /// (64-bit slots) and results written back there: the path for imports
    /// and for callees without native code. A trap is recorded like
    /// `raise_trap`.
    pub call_func:
        unsafe extern "C" fn(vmctx: *mut VMContext, func: *const VMFuncRef, values: *mut u64),
    /// Bulk memory and table operations: `op` from [`crate::bulk::bulk_op`],
    /// index immediates `x`, `y`, operands `a`, `b`, `c`; returns the
    /// result where the operation has one. A trap is recorded like
    /// `raise_trap`.
    pub bulk: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        op: u32,
        x: u32,
        y: u32,
        a: u64,
        b: u64,
        c: u64,
    ) -> u64,
    /// Software helpers for instructions the target lacks, one slot per
    /// [`crate::helpers::Helper`] in discriminant order.
    pub helpers: crate::helpers::HelperTable,
}

/// The builtins every VM context points at.
pub static BUILTINS: Builtins = Builtins {
    memory_grow: builtin_memory_grow,
    raise_trap: crate::store::builtin_raise_trap,
    call_func: crate::store::builtin_call_func,
    bulk: crate::store::builtin_bulk,
    helpers: crate::helpers::HELPER_TABLE,
};

/// # Safety
/// `vmctx` must be a live instance's context and `memory` a valid index in it.
unsafe extern "C" fn builtin_memory_grow(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64 {
    // SAFETY: guaranteed by the caller; `VMMemory` is the first field of the
    // `repr(C)` `MemoryInstance` that owns it.
    unsafe {
        let vm = *(*vmctx).memories.add(memory as usize);
        let mem = &mut *vm.cast::<crate::memory::MemoryInstance>();
        mem.grow(delta).unwrap_or(u64::MAX)
    }
}

#[repr(C)]
#[derive(Debug)]
pub struct VMContext {
    pub memories: *const *mut VMMemory,
    pub tables: *const *mut VMTable,
    pub globals: *const *mut VMGlobal,
    pub funcs: *const *const VMFuncRef,
    pub type_ids: *const u32,
    pub builtins: *const Builtins,
    pub state: *mut VMStoreState,
}

/// Byte offsets that generated code uses; checked against the Rust layout by a test.
pub mod layout {
    pub const VMCTX_MEMORIES: usize = 0;
    pub const VMCTX_TABLES: usize = 8;
    pub const VMCTX_GLOBALS: usize = 16;
    pub const VMCTX_FUNCS: usize = 24;
    pub const VMCTX_TYPE_IDS: usize = 32;
    pub const VMCTX_BUILTINS: usize = 40;
    pub const VMCTX_STATE: usize = 48;
    pub const VMCTX_SIZE: usize = 56;
    pub const STATE_TRAP: usize = 0;
    pub const STATE_STACK_LIMIT: usize = 8;
    pub const VMMEMORY_BASE: usize = 0;
    pub const VMMEMORY_LENGTH: usize = 8;
    pub const VMTABLE_BASE: usize = 0;
    pub const VMTABLE_LENGTH: usize = 8;
    pub const VMFUNCREF_CODE: usize = 0;
    pub const VMFUNCREF_TYPE_ID: usize = 8;
    pub const VMFUNCREF_FUNC_ID: usize = 12;
    pub const VMFUNCREF_VMCTX: usize = 16;
    pub const VMFUNCREF_ARRAY_CALL: usize = 24;
    pub const VMGLOBAL_SIZE: usize = 16;
    pub const BUILTIN_MEMORY_GROW: usize = 0;
    pub const BUILTIN_RAISE_TRAP: usize = 8;
    pub const BUILTIN_CALL_FUNC: usize = 16;
    pub const BUILTIN_BULK: usize = 24;
    /// Slot of helper `h` at `BUILTIN_HELPERS + 8 * h as usize`.
    pub const BUILTIN_HELPERS: usize = 32;
}

#[cfg(test)]
mod tests {
    use super::layout::*;
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_documented_offsets() {
        assert_eq!(offset_of!(VMContext, memories), VMCTX_MEMORIES);
        assert_eq!(offset_of!(VMContext, tables), VMCTX_TABLES);
        assert_eq!(offset_of!(VMContext, globals), VMCTX_GLOBALS);
        assert_eq!(offset_of!(VMContext, funcs), VMCTX_FUNCS);
        assert_eq!(offset_of!(VMContext, type_ids), VMCTX_TYPE_IDS);
        assert_eq!(offset_of!(VMContext, builtins), VMCTX_BUILTINS);
        assert_eq!(offset_of!(VMContext, state), VMCTX_STATE);
        assert_eq!(offset_of!(VMStoreState, trap), STATE_TRAP);
        assert_eq!(offset_of!(VMStoreState, stack_limit), STATE_STACK_LIMIT);
        assert_eq!(size_of::<VMContext>(), VMCTX_SIZE);
        assert_eq!(offset_of!(VMMemory, base), VMMEMORY_BASE);
        assert_eq!(offset_of!(VMMemory, length), VMMEMORY_LENGTH);
        assert_eq!(offset_of!(VMTable, base), VMTABLE_BASE);
        assert_eq!(offset_of!(VMTable, length), VMTABLE_LENGTH);
        assert_eq!(offset_of!(VMFuncRef, code), VMFUNCREF_CODE);
        assert_eq!(offset_of!(VMFuncRef, type_id), VMFUNCREF_TYPE_ID);
        assert_eq!(offset_of!(VMFuncRef, func_id), VMFUNCREF_FUNC_ID);
        assert_eq!(offset_of!(VMFuncRef, vmctx), VMFUNCREF_VMCTX);
        assert_eq!(offset_of!(VMFuncRef, array_call), VMFUNCREF_ARRAY_CALL);
        assert_eq!(size_of::<VMGlobal>(), VMGLOBAL_SIZE);
        assert_eq!(offset_of!(Builtins, memory_grow), BUILTIN_MEMORY_GROW);
        assert_eq!(offset_of!(Builtins, raise_trap), BUILTIN_RAISE_TRAP);
        assert_eq!(offset_of!(Builtins, call_func), BUILTIN_CALL_FUNC);
        assert_eq!(offset_of!(Builtins, bulk), BUILTIN_BULK);
        assert_eq!(offset_of!(Builtins, helpers), BUILTIN_HELPERS);
        assert_eq!(
            size_of::<Builtins>(),
            BUILTIN_HELPERS + 8 * crate::helpers::Helper::COUNT
        );
    }
}
