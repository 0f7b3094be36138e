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

    /// Writes the value into the first [`ValType::slots`] of `slots`.
    pub fn write_slots(self, slots: &mut [u64]) {
        match self {
            Val::V128(v) => {
                slots[0] = v as u64;
                slots[1] = (v >> 64) as u64;
            }
            other => slots[0] = other.to_bits(),
        }
    }

    /// Reads a value of type `ty` from the first [`ValType::slots`] of
    /// `slots`.
    pub fn read_slots(ty: ValType, slots: &[u64]) -> Val {
        match ty {
            ValType::V128 => Val::V128(u128::from(slots[0]) | u128::from(slots[1]) << 64),
            other => Val::from_bits(other, slots[0]),
        }
    }

    /// Writes `values` one after the other into `slots`.
    pub fn write_all_slots(values: &[Val], slots: &mut [u64]) {
        let mut at = 0;
        for v in values {
            let n = if matches!(v, Val::V128(_)) { 2 } else { 1 };
            v.write_slots(&mut slots[at..at + n]);
            at += n;
        }
    }

    /// Reads values of `types`, one after the other, from `slots`.
    pub fn read_all_slots(types: &[ValType], slots: &[u64]) -> impl Iterator<Item = Val> {
        types.iter().scan(0, move |at, &ty| {
            let v = Val::read_slots(ty, &slots[*at..*at + ty.slots()]);
            *at += ty.slots();
            Some(v)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v128_takes_two_slots_low_half_first() {
        let values = [
            Val::I32(-1),
            Val::V128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff),
            Val::F64(7),
        ];
        let types = [ValType::I32, ValType::V128, ValType::F64];
        let ty = crate::FuncType::new(types, [ValType::V128]);
        assert_eq!((ty.param_slots(), ty.result_slots()), (4, 2));
        assert_eq!(ty.value_array_len(), 4);
        let mut slots = [0u64; 4];
        Val::write_all_slots(&values, &mut slots);
        assert_eq!(
            slots,
            [0xffff_ffff, 0x8899_aabb_ccdd_eeff, 0x0011_2233_4455_6677, 7]
        );
        let back: Vec<Val> = Val::read_all_slots(&types, &slots).collect();
        assert_eq!(back, values);
    }
}
