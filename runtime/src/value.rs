//! Runtime values as seen by the embedder and by constant evaluation.

use crate::types::ValType;

/// A reference as stored in tables, globals and on the value stack: 0 is
/// null; a funcref is the address of the function's `VMFuncRef`; an externref
/// is the host's payload plus one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct RawRef(pub u64);

impl RawRef {
    pub const NULL: RawRef = RawRef(0);

    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// The externref carrying host value `payload`.
    pub fn extern_ref(payload: u64) -> RawRef {
        RawRef(payload.wrapping_add(1))
    }

    /// The host payload of a non-null externref.
    pub fn extern_payload(self) -> Option<u64> {
        (!self.is_null()).then(|| self.0 - 1)
    }
}

/// A typed wasm value. Floats are kept as bits so NaN payloads survive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// A funcref or externref; the static type says which.
    Ref(RawRef),
}

impl Val {
    /// The zero value of a type (null for references).
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef => Val::Ref(RawRef::NULL),
        }
    }

    /// The value's bits, zero-extended to a 64-bit untyped slot (v128 keeps its low half).
    pub fn to_bits(self) -> u64 {
        match self {
            Val::I32(v) => v as u32 as u64,
            Val::I64(v) => v as u64,
            Val::F32(v) => v as u64,
            Val::F64(v) => v,
            Val::V128(v) => v as u64,
            Val::Ref(r) => r.0,
        }
    }

    /// Rebuilds a value of type `ty` from an untyped 64-bit slot.
    pub fn from_bits(ty: ValType, bits: u64) -> Val {
        match ty {
            ValType::I32 => Val::I32(bits as u32 as i32),
            ValType::I64 => Val::I64(bits as i64),
            ValType::F32 => Val::F32(bits as u32),
            ValType::F64 => Val::F64(bits),
            ValType::V128 => Val::V128(bits as u128),
            ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef => Val::Ref(RawRef(bits)),
        }
    }

    /// Whether this value can have static type `ty`.
    pub fn has_type(&self, ty: ValType) -> bool {
        matches!(
            (self, ty),
            (Val::I32(_), ValType::I32)
                | (Val::I64(_), ValType::I64)
                | (Val::F32(_), ValType::F32)
                | (Val::F64(_), ValType::F64)
                | (Val::V128(_), ValType::V128)
                | (
                    Val::Ref(_),
                    ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef
                )
        )
    }
}
