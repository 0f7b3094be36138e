//! WebAssembly SIMD (128-bit) and relaxed SIMD.
//!
//! Representation: between operations (operand stack, locals, phis,
//! parameters, results, globals) a v128 is `<2 x i64>`: one type, so that
//! every phi and signature agrees, and the layout of its two slots (lane 0
//! is the low half, see `vm::to_slots`). Each operation bitcasts to the
//! lane shape it works on (`<16 x i8>`, ..., `<4 x float>`, `<2 x double>`)
//! and back; a bitcast between vectors of one size costs nothing.
//!
//! Everything is inline at the target's baseline (contract 6): where LLVM
//! would call a library routine at SSE2 (rounding, fused multiply-add) the
//! code is built from operations the baseline has. On RISC-V (no V
//! extension) code generation splits vectors into lanes, and
//! `legalize` splits first the operations whose lanes need a helper.
//!
//! Relaxed SIMD is given the deterministic semantics the interpreter shares:
//! each relaxed operation computes what its strict counterpart does (see
//! [`FuncTranslator::relaxed`]).

mod float;
mod fma;
mod int;
mod memory;

use inkwell::context::Context;
use inkwell::types::{BasicTypeEnum, IntType, VectorType};
use inkwell::values::{BasicValueEnum, VectorValue};
use wasmparser::Operator as O;

use super::TranslateError as CompileError;
use super::func::FuncTranslator;

type Res<T = ()> = Result<T, CompileError>;

/// The LLVM type of every v128 between operations.
pub(crate) fn v128_type(cx: &Context) -> VectorType<'_> {
    cx.i64_type().vec_type(2)
}

/// The integer type of `bits` bits (lane widths and lane counts: 2 to 64).
pub(super) fn int_type(cx: &Context, bits: u32) -> IntType<'_> {
    match bits {
        8 => cx.i8_type(),
        16 => cx.i16_type(),
        32 => cx.i32_type(),
        64 => cx.i64_type(),
        n => std::num::NonZeroU32::new(n)
            .and_then(|n| cx.custom_width_int_type(n).ok())
            .expect("a small integer width"),
    }
}

/// A lane shape of a v128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl Shape {
    pub(super) fn bits(self) -> u32 {
        match self {
            Shape::I8 => 8,
            Shape::I16 => 16,
            Shape::I32 | Shape::F32 => 32,
            Shape::I64 | Shape::F64 => 64,
        }
    }

    pub(super) fn lanes(self) -> u32 {
        128 / self.bits()
    }

    /// The integer shape of the same lane width.
    pub(super) fn int(self) -> Shape {
        match self {
            Shape::F32 => Shape::I32,
            Shape::F64 => Shape::I64,
            s => s,
        }
    }

    /// The integer type of one lane.
    pub(super) fn lane_int(self, cx: &Context) -> IntType<'_> {
        int_type(cx, self.bits())
    }

    pub(super) fn elem(self, cx: &Context) -> BasicTypeEnum<'_> {
        match self {
            Shape::F32 => cx.f32_type().into(),
            Shape::F64 => cx.f64_type().into(),
            s => s.lane_int(cx).into(),
        }
    }

    /// The vector type of `n` lanes of this shape.
    pub(super) fn vec_n(self, cx: &Context, n: u32) -> VectorType<'_> {
        match self {
            Shape::F32 => cx.f32_type().vec_type(n),
            Shape::F64 => cx.f64_type().vec_type(n),
            s => s.lane_int(cx).vec_type(n),
        }
    }

    /// The 128-bit vector type of this shape.
    pub(super) fn vec(self, cx: &Context) -> VectorType<'_> {
        self.vec_n(cx, self.lanes())
    }
}

impl<'ctx> FuncTranslator<'_, 'ctx> {
    /// Pops a v128 as a vector of shape `s`.
    pub(super) fn vpop(&mut self, s: Shape) -> Res<VectorValue<'ctx>> {
        let v = self.pop().into_vector_value();
        self.vcast(v, s)
    }

    /// Pushes a 128-bit vector of any shape as a v128.
    pub(super) fn vpush(&mut self, v: VectorValue<'ctx>) -> Res {
        let v = self.b.build_bit_cast(v, v128_type(self.cx), "v128")?;
        self.push(v);
        Ok(())
    }

    /// `v` (128 bits) as a vector of shape `s`.
    pub(super) fn vcast(&self, v: VectorValue<'ctx>, s: Shape) -> Res<VectorValue<'ctx>> {
        if v.get_type() == s.vec(self.cx) {
            return Ok(v);
        }
        Ok(self
            .b
            .build_bit_cast(v, s.vec(self.cx), "lanes")?
            .into_vector_value())
    }

    /// A constant vector of the i32 `indices` (a shuffle mask).
    fn mask(&self, indices: impl IntoIterator<Item = u32>) -> VectorValue<'ctx> {
        let lanes: Vec<_> = indices
            .into_iter()
            .map(|i| self.i32().const_int(u64::from(i), false))
            .collect();
        VectorType::const_vector(&lanes)
    }

    /// Lanes `indices` of `a` followed by `b` (each of the same type).
    pub(super) fn shuffle(
        &self,
        a: VectorValue<'ctx>,
        b: VectorValue<'ctx>,
        indices: impl IntoIterator<Item = u32>,
    ) -> Res<VectorValue<'ctx>> {
        Ok(self
            .b
            .build_shuffle_vector(a, b, self.mask(indices), "shuffle")?)
    }

    /// Lanes `indices` of `a`.
    pub(super) fn lanes_of(
        &self,
        a: VectorValue<'ctx>,
        indices: impl IntoIterator<Item = u32>,
    ) -> Res<VectorValue<'ctx>> {
        self.shuffle(a, a.get_type().get_undef(), indices)
    }

    /// A vector of `n` lanes, each `x`.
    pub(super) fn splat_n(&self, x: BasicValueEnum<'ctx>, n: u32) -> Res<VectorValue<'ctx>> {
        let ty = match x.get_type() {
            BasicTypeEnum::IntType(t) => t.vec_type(n),
            BasicTypeEnum::FloatType(t) => t.vec_type(n),
            other => return Err(CompileError::llvm(format!("splat of {other:?}"))),
        };
        let one = self
            .b
            .build_insert_element(ty.get_undef(), x, self.i32().const_zero(), "one")?;
        self.lanes_of(one, std::iter::repeat_n(0, n as usize))
    }

    /// An integer vector constant of shape `s` with every lane `value`.
    pub(super) fn const_splat(&self, s: Shape, value: u64) -> VectorValue<'ctx> {
        let lane = s.lane_int(self.cx).const_int(value, false);
        VectorType::const_vector(&vec![lane; s.lanes() as usize])
    }

    /// Calls intrinsic `name` overloaded on the type of the first argument.
    pub(super) fn vintrinsic(
        &self,
        name: &str,
        args: &[BasicValueEnum<'ctx>],
    ) -> Res<VectorValue<'ctx>> {
        let ty = args[0].get_type();
        let args: Vec<_> = args.iter().map(|&a| a.into()).collect();
        Ok(self.call_intrinsic(name, &[ty], &args)?.into_vector_value())
    }

    /// A unary operation on shape `s`.
    pub(super) fn vun(
        &mut self,
        s: Shape,
        f: impl FnOnce(&mut Self, VectorValue<'ctx>) -> Res<VectorValue<'ctx>>,
    ) -> Res {
        let a = self.vpop(s)?;
        let v = f(self, a)?;
        self.vpush(v)
    }

    /// A binary operation on shape `s`.
    pub(super) fn vbin(
        &mut self,
        s: Shape,
        f: impl FnOnce(&mut Self, VectorValue<'ctx>, VectorValue<'ctx>) -> Res<VectorValue<'ctx>>,
    ) -> Res {
        let b = self.vpop(s)?;
        let a = self.vpop(s)?;
        let v = f(self, a, b)?;
        self.vpush(v)
    }

    /// A binary LLVM intrinsic on shape `s`.
    fn vbin_intrinsic(&mut self, s: Shape, name: &str) -> Res {
        self.vbin(s, |t, a, b| t.vintrinsic(name, &[a.into(), b.into()]))
    }

    fn v128_const(&mut self, value: wasmparser::V128) -> Res {
        let bits = value.i128() as u128;
        let i64t = self.i64();
        let halves = [
            i64t.const_int(bits as u64, false),
            i64t.const_int((bits >> 64) as u64, false),
        ];
        self.push(VectorType::const_vector(&halves));
        Ok(())
    }

    fn splat(&mut self, s: Shape) -> Res {
        let x = self.pop();
        let x: BasicValueEnum = match s {
            Shape::I8 | Shape::I16 => self
                .b
                .build_int_truncate(x.into_int_value(), s.lane_int(self.cx), "lane")?
                .into(),
            _ => x,
        };
        let v = self.splat_n(x, s.lanes())?;
        self.vpush(v)
    }

    /// `extract_lane`: i8 and i16 lanes extended to i32 (`signed` or not).
    fn extract_lane(&mut self, s: Shape, lane: u8, signed: bool) -> Res {
        let v = self.vpop(s)?;
        let at = self.i32().const_int(u64::from(lane), false);
        let x = self.b.build_extract_element(v, at, "lane")?;
        let x: BasicValueEnum = match (s, signed) {
            (Shape::I8 | Shape::I16, true) => self
                .b
                .build_int_s_extend(x.into_int_value(), self.i32(), "sx")?
                .into(),
            (Shape::I8 | Shape::I16, false) => self
                .b
                .build_int_z_extend(x.into_int_value(), self.i32(), "zx")?
                .into(),
            _ => x,
        };
        self.push(x);
        Ok(())
    }

    fn replace_lane(&mut self, s: Shape, lane: u8) -> Res {
        let x = self.pop();
        let v = self.vpop(s)?;
        let x: BasicValueEnum = match s {
            Shape::I8 | Shape::I16 => self
                .b
                .build_int_truncate(x.into_int_value(), s.lane_int(self.cx), "lane")?
                .into(),
            _ => x,
        };
        let at = self.i32().const_int(u64::from(lane), false);
        let v = self.b.build_insert_element(v, x, at, "replace")?;
        self.vpush(v)
    }

    /// `v128.bitselect`: bits of `a` where `mask` is set, else of `b`.
    fn bitselect(&mut self) -> Res {
        let mask = self.vpop(Shape::I64)?;
        let b = self.vpop(Shape::I64)?;
        let a = self.vpop(Shape::I64)?;
        let from_a = self.b.build_and(a, mask, "a")?;
        let not_mask = self.b.build_not(mask, "nm")?;
        let from_b = self.b.build_and(b, not_mask, "b")?;
        let v = self.b.build_or(from_a, from_b, "bitselect")?;
        self.vpush(v)
    }

    /// Translates a SIMD operator; any other is refused by name.
    pub(in crate::translate) fn simd(&mut self, op: O<'_>) -> Res {
        use Shape::*;
        use inkwell::FloatPredicate as F;
        use inkwell::IntPredicate as I;
        match op {
            O::V128Const { value } => self.v128_const(value)?,
            O::I8x16Shuffle { lanes } => {
                let b = self.vpop(I8)?;
                let a = self.vpop(I8)?;
                let v = self.shuffle(a, b, lanes.iter().map(|&l| u32::from(l)))?;
                self.vpush(v)?;
            }
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => self.swizzle()?,
            O::I8x16Splat => self.splat(I8)?,
            O::I16x8Splat => self.splat(I16)?,
            O::I32x4Splat => self.splat(I32)?,
            O::I64x2Splat => self.splat(I64)?,
            O::F32x4Splat => self.splat(F32)?,
            O::F64x2Splat => self.splat(F64)?,
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8, lane, true)?,
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8, lane, false)?,
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16, lane, true)?,
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16, lane, false)?,
            O::I32x4ExtractLane { lane } => self.extract_lane(I32, lane, false)?,
            O::I64x2ExtractLane { lane } => self.extract_lane(I64, lane, false)?,
            O::F32x4ExtractLane { lane } => self.extract_lane(F32, lane, false)?,
            O::F64x2ExtractLane { lane } => self.extract_lane(F64, lane, false)?,
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8, lane)?,
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16, lane)?,
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32, lane)?,
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64, lane)?,
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32, lane)?,
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64, lane)?,

            O::I8x16Eq => self.icmp_v(I8, I::EQ)?,
            O::I8x16Ne => self.icmp_v(I8, I::NE)?,
            O::I8x16LtS => self.icmp_v(I8, I::SLT)?,
            O::I8x16LtU => self.icmp_v(I8, I::ULT)?,
            O::I8x16GtS => self.icmp_v(I8, I::SGT)?,
            O::I8x16GtU => self.icmp_v(I8, I::UGT)?,
            O::I8x16LeS => self.icmp_v(I8, I::SLE)?,
            O::I8x16LeU => self.icmp_v(I8, I::ULE)?,
            O::I8x16GeS => self.icmp_v(I8, I::SGE)?,
            O::I8x16GeU => self.icmp_v(I8, I::UGE)?,
            O::I16x8Eq => self.icmp_v(I16, I::EQ)?,
            O::I16x8Ne => self.icmp_v(I16, I::NE)?,
            O::I16x8LtS => self.icmp_v(I16, I::SLT)?,
            O::I16x8LtU => self.icmp_v(I16, I::ULT)?,
            O::I16x8GtS => self.icmp_v(I16, I::SGT)?,
            O::I16x8GtU => self.icmp_v(I16, I::UGT)?,
            O::I16x8LeS => self.icmp_v(I16, I::SLE)?,
            O::I16x8LeU => self.icmp_v(I16, I::ULE)?,
            O::I16x8GeS => self.icmp_v(I16, I::SGE)?,
            O::I16x8GeU => self.icmp_v(I16, I::UGE)?,
            O::I32x4Eq => self.icmp_v(I32, I::EQ)?,
            O::I32x4Ne => self.icmp_v(I32, I::NE)?,
            O::I32x4LtS => self.icmp_v(I32, I::SLT)?,
            O::I32x4LtU => self.icmp_v(I32, I::ULT)?,
            O::I32x4GtS => self.icmp_v(I32, I::SGT)?,
            O::I32x4GtU => self.icmp_v(I32, I::UGT)?,
            O::I32x4LeS => self.icmp_v(I32, I::SLE)?,
            O::I32x4LeU => self.icmp_v(I32, I::ULE)?,
            O::I32x4GeS => self.icmp_v(I32, I::SGE)?,
            O::I32x4GeU => self.icmp_v(I32, I::UGE)?,
            O::I64x2Eq => self.icmp_v(I64, I::EQ)?,
            O::I64x2Ne => self.icmp_v(I64, I::NE)?,
            O::I64x2LtS => self.icmp_v(I64, I::SLT)?,
            O::I64x2GtS => self.icmp_v(I64, I::SGT)?,
            O::I64x2LeS => self.icmp_v(I64, I::SLE)?,
            O::I64x2GeS => self.icmp_v(I64, I::SGE)?,
            O::F32x4Eq => self.fcmp_v(F32, F::OEQ)?,
            O::F32x4Ne => self.fcmp_v(F32, F::UNE)?,
            O::F32x4Lt => self.fcmp_v(F32, F::OLT)?,
            O::F32x4Gt => self.fcmp_v(F32, F::OGT)?,
            O::F32x4Le => self.fcmp_v(F32, F::OLE)?,
            O::F32x4Ge => self.fcmp_v(F32, F::OGE)?,
            O::F64x2Eq => self.fcmp_v(F64, F::OEQ)?,
            O::F64x2Ne => self.fcmp_v(F64, F::UNE)?,
            O::F64x2Lt => self.fcmp_v(F64, F::OLT)?,
            O::F64x2Gt => self.fcmp_v(F64, F::OGT)?,
            O::F64x2Le => self.fcmp_v(F64, F::OLE)?,
            O::F64x2Ge => self.fcmp_v(F64, F::OGE)?,

            O::V128Not => self.vun(I64, |t, a| Ok(t.b.build_not(a, "not")?))?,
            O::V128And => self.vbin(I64, |t, a, b| Ok(t.b.build_and(a, b, "and")?))?,
            O::V128AndNot => self.vbin(I64, |t, a, b| {
                let nb = t.b.build_not(b, "nb")?;
                Ok(t.b.build_and(a, nb, "andnot")?)
            })?,
            O::V128Or => self.vbin(I64, |t, a, b| Ok(t.b.build_or(a, b, "or")?))?,
            O::V128Xor => self.vbin(I64, |t, a, b| Ok(t.b.build_xor(a, b, "xor")?))?,
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => self.bitselect()?,
            O::V128AnyTrue => self.any_true()?,

            op => {
                if !self.int_simd(&op)? && !self.float_simd(&op)? && !self.memory_simd(&op)? {
                    return Err(CompileError::Unsupported(format!(
                        "{op:?} is not supported by the AOT tier yet"
                    )));
                }
            }
        }
        Ok(())
    }
}
