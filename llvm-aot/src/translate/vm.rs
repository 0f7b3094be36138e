//! Reading the VM context from compiled code, and converting between wasm
//! values and the 64-bit slots used at tier boundaries.

use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::values::{BasicValueEnum, IntValue, PointerValue};
use wamr_runtime::ValType;

use super::TranslateError as CompileError;

/// Loads the pointer at byte `offset` of the struct at `base`.
pub fn load_ptr<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    base: PointerValue<'ctx>,
    offset: usize,
    name: &str,
) -> Result<PointerValue<'ctx>, CompileError> {
    let at = field(cx, b, base, offset)?;
    Ok(b.build_load(cx.ptr_type(Default::default()), at, name)?
        .into_pointer_value())
}

/// Loads the pointer at byte `offset` of the struct at `base`, a field
/// that never changes while the instance lives (the VM context's fields,
/// its arrays' elements, the builtins): marked `invariant.load`, so LLVM
/// may reuse one load across calls and hoist it out of loops.
pub fn load_fixed_ptr<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    base: PointerValue<'ctx>,
    offset: usize,
    name: &str,
) -> Result<PointerValue<'ctx>, CompileError> {
    let ptr = load_ptr(cx, b, base, offset, name)?;
    mark_invariant(cx, ptr.into())?;
    Ok(ptr)
}

/// Marks the load `v` as reading memory that never changes.
pub fn mark_invariant<'ctx>(
    cx: &'ctx Context,
    v: BasicValueEnum<'ctx>,
) -> Result<(), CompileError> {
    use inkwell::values::BasicValue;
    let inst = v
        .as_instruction_value()
        .ok_or_else(|| CompileError::llvm("invariant mark on a non-instruction"))?;
    inst.set_metadata(cx.metadata_node(&[]), cx.get_kind_id("invariant.load"))
        .map_err(CompileError::llvm)
}

/// The address of byte `offset` of the struct at `base`.
pub fn field<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    base: PointerValue<'ctx>,
    offset: usize,
) -> Result<PointerValue<'ctx>, CompileError> {
    if offset == 0 {
        return Ok(base);
    }
    let i8t = cx.i8_type();
    // SAFETY (IR): offsets come from `wamr_runtime::vmctx::layout`.
    Ok(unsafe {
        b.build_gep(
            i8t,
            base,
            &[cx.i64_type().const_int(offset as u64, false)],
            "field",
        )?
    })
}

/// Element `index` of one of the VM context's pointer arrays (fixed while
/// the instance lives).
pub fn array_ptr<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    array: PointerValue<'ctx>,
    index: u32,
    name: &str,
) -> Result<PointerValue<'ctx>, CompileError> {
    load_fixed_ptr(cx, b, array, index as usize * 8, name)
}

/// A wasm value from its slot encoding: `bits` holds
/// [`ValType::slots`] 64-bit slots (a v128's low half first).
pub fn from_slots<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    bits: &[IntValue<'ctx>],
    ty: ValType,
) -> Result<BasicValueEnum<'ctx>, CompileError> {
    let first = bits[0];
    Ok(match ty {
        ValType::I32 => b.build_int_truncate(first, cx.i32_type(), "i32")?.into(),
        ValType::I64 | ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef => first.into(),
        ValType::F32 => {
            let low = b.build_int_truncate(first, cx.i32_type(), "f32bits")?;
            b.build_bit_cast(low, cx.f32_type(), "f32")?
        }
        ValType::F64 => b.build_bit_cast(first, cx.f64_type(), "f64")?,
        ValType::V128 => {
            let i32t = cx.i32_type();
            let mut v = super::simd::v128_type(cx).get_undef();
            for (lane, &half) in bits.iter().enumerate() {
                let at = i32t.const_int(lane as u64, false);
                v = b.build_insert_element(v, half, at, "v128")?;
            }
            v.into()
        }
    })
}

/// The slot encoding of a wasm value: [`ValType::slots`] 64-bit slots,
/// i32/f32 zero-extended, a v128's low half first.
pub fn to_slots<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    v: BasicValueEnum<'ctx>,
    ty: ValType,
) -> Result<Vec<IntValue<'ctx>>, CompileError> {
    let i64t = cx.i64_type();
    Ok(vec![match ty {
        ValType::I32 => b.build_int_z_extend(v.into_int_value(), i64t, "slot")?,
        ValType::I64 | ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef => {
            v.into_int_value()
        }
        ValType::F32 => {
            let bits = b.build_bit_cast(v, cx.i32_type(), "bits")?.into_int_value();
            b.build_int_z_extend(bits, i64t, "slot")?
        }
        ValType::F64 => b.build_bit_cast(v, i64t, "slot")?.into_int_value(),
        ValType::V128 => {
            let v = v.into_vector_value();
            let i32t = cx.i32_type();
            let half = |lane: u64| -> Result<IntValue<'ctx>, CompileError> {
                Ok(
                    b.build_extract_element(v, i32t.const_int(lane, false), "half")?
                        .into_int_value(),
                )
            };
            return Ok(vec![half(0)?, half(1)?]);
        }
    }])
}

/// The address of 64-bit slot `at` of the array at `slots`.
fn slot_at<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    slots: PointerValue<'ctx>,
    at: usize,
) -> Result<PointerValue<'ctx>, CompileError> {
    let i64t = cx.i64_type();
    // SAFETY (IR): callers pass offsets inside the slot array they own.
    Ok(unsafe { b.build_gep(i64t, slots, &[i64t.const_int(at as u64, false)], "slot")? })
}

/// Reads a value of type `ty` from the slots at `slots`, starting at slot
/// `at`.
pub fn load_slots<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    slots: PointerValue<'ctx>,
    at: usize,
    ty: ValType,
) -> Result<BasicValueEnum<'ctx>, CompileError> {
    let mut bits = Vec::with_capacity(ty.slots());
    for k in 0..ty.slots() {
        let p = slot_at(cx, b, slots, at + k)?;
        bits.push(b.build_load(cx.i64_type(), p, "bits")?.into_int_value());
    }
    from_slots(cx, b, &bits, ty)
}

/// Writes `v`, of type `ty`, into the slots at `slots` from slot `at`.
pub fn store_slots<'ctx>(
    cx: &'ctx Context,
    b: &Builder<'ctx>,
    slots: PointerValue<'ctx>,
    at: usize,
    v: BasicValueEnum<'ctx>,
    ty: ValType,
) -> Result<(), CompileError> {
    for (k, bits) in to_slots(cx, b, v, ty)?.into_iter().enumerate() {
        b.build_store(slot_at(cx, b, slots, at + k)?, bits)?;
    }
    Ok(())
}

/// The slot offset of each of `types` laid out one after the other.
pub fn slot_offsets(types: &[ValType]) -> impl Iterator<Item = (usize, ValType)> + '_ {
    types.iter().scan(0, |at, &ty| {
        let here = *at;
        *at += ty.slots();
        Some((here, ty))
    })
}
