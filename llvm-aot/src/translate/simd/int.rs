//! Integer lane operations: arithmetic, comparisons, shifts, lane tests,
//! narrowing and widening, dot products.

use inkwell::IntPredicate;
use inkwell::values::VectorValue;
use wasmparser::Operator as O;

use super::super::func::FuncTranslator;
use super::{Res, Shape};

/// How a widened lane is extended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ext {
    S,
    U,
}

impl<'ctx> FuncTranslator<'_, 'ctx> {
    /// An integer comparison: each lane all ones where it holds, else 0.
    pub(super) fn icmp_v(&mut self, s: Shape, pred: IntPredicate) -> Res {
        self.vbin(s, |t, a, b| {
            let c = t.b.build_int_compare(pred, a, b, "cmp")?;
            Ok(t.b.build_int_s_extend(c, s.vec(t.cx), "mask")?)
        })
    }

    pub(super) fn any_true(&mut self) -> Res {
        let v = self.vpop(Shape::I64)?;
        let i128t = self.cx.i128_type();
        let bits = self.b.build_bit_cast(v, i128t, "bits")?.into_int_value();
        let c = self
            .b
            .build_int_compare(IntPredicate::NE, bits, i128t.const_zero(), "any")?;
        let v = self.b.build_int_z_extend(c, self.i32(), "b")?;
        self.push(v);
        Ok(())
    }

    /// The lanes of `v` where `pred` holds against 0, as the bits of an
    /// integer (lane 0 lowest).
    fn lane_bits(
        &self,
        v: VectorValue<'ctx>,
        s: Shape,
        pred: IntPredicate,
    ) -> Res<inkwell::values::IntValue<'ctx>> {
        let zero = s.vec(self.cx).const_zero();
        let c = self.b.build_int_compare(pred, v, zero, "lanes")?;
        let it = super::int_type(self.cx, s.lanes());
        Ok(self.b.build_bit_cast(c, it, "bits")?.into_int_value())
    }

    fn all_true(&mut self, s: Shape) -> Res {
        let v = self.vpop(s)?;
        let bits = self.lane_bits(v, s, IntPredicate::NE)?;
        let all = self.b.build_int_compare(
            IntPredicate::EQ,
            bits,
            bits.get_type().const_all_ones(),
            "all",
        )?;
        let v = self.b.build_int_z_extend(all, self.i32(), "b")?;
        self.push(v);
        Ok(())
    }

    fn bitmask(&mut self, s: Shape) -> Res {
        let v = self.vpop(s)?;
        let bits = self.lane_bits(v, s, IntPredicate::SLT)?;
        let v = self.b.build_int_z_extend(bits, self.i32(), "mask")?;
        self.push(v);
        Ok(())
    }

    /// `i8x16.swizzle`: lane i is lane `idx[i]` of `a`, or 0 when `idx[i]`
    /// is 16 or more. Built from compares and selects (a byte shuffle with
    /// a variable index needs SSSE3).
    pub(super) fn swizzle(&mut self) -> Res {
        let idx = self.vpop(Shape::I8)?;
        let a = self.vpop(Shape::I8)?;
        // A vector built lane by lane from `a[idx[j] & 15]` is the pattern
        // the x86 backend turns into one `pshufb` where SSSE3 exists (and
        // into byte loads at the SSE2 baseline); lanes with an index of 16
        // or more are zeroed after.
        let in_range = self.const_splat(Shape::I8, 15);
        let wrapped = self.b.build_and(idx, in_range, "idx")?;
        let i32t = self.i32();
        let mut picked = Shape::I8.vec(self.cx).get_poison();
        for j in 0..16 {
            let k = self
                .b
                .build_extract_element(wrapped, i32t.const_int(j, false), "k")?;
            let lane = self
                .b
                .build_extract_element(a, k.into_int_value(), "lane")?;
            picked =
                self.b
                    .build_insert_element(picked, lane, i32t.const_int(j, false), "picked")?;
        }
        let keep = self.b.build_int_compare(
            IntPredicate::ULT,
            idx,
            self.const_splat(Shape::I8, 16),
            "keep",
        )?;
        let zero = Shape::I8.vec(self.cx).const_zero();
        let v = self.b.build_select(keep, picked, zero, "swizzle")?;
        self.vpush(v.into_vector_value())
    }

    /// Shifts by the popped count modulo the lane width.
    fn shift(&mut self, s: Shape, op: O<'_>) -> Res {
        let count = self.pop_int();
        let count = self.b.build_and(
            count,
            self.i32().const_int(u64::from(s.bits() - 1), false),
            "n",
        )?;
        let lane = s.lane_int(self.cx);
        let count = match s {
            Shape::I64 => self.b.build_int_z_extend(count, lane, "n")?,
            Shape::I32 => count,
            _ => self.b.build_int_truncate(count, lane, "n")?,
        };
        let counts = self.splat_n(count.into(), s.lanes())?;
        let v = self.vpop(s)?;
        let v = match op {
            O::I8x16Shl | O::I16x8Shl | O::I32x4Shl | O::I64x2Shl => {
                self.b.build_left_shift(v, counts, "shl")?
            }
            O::I8x16ShrS | O::I16x8ShrS | O::I32x4ShrS | O::I64x2ShrS => {
                self.b.build_right_shift(v, counts, true, "shr")?
            }
            _ => self.b.build_right_shift(v, counts, false, "shr")?,
        };
        self.vpush(v)
    }

    /// Lanes `indices` of `v` (of shape `s`) extended to twice their width.
    fn widen(
        &self,
        v: VectorValue<'ctx>,
        s: Shape,
        indices: impl IntoIterator<Item = u32>,
        ext: Ext,
    ) -> Res<VectorValue<'ctx>> {
        let part = self.lanes_of(v, indices)?;
        let n = part.get_type().get_size();
        let wide = wider(s).vec_n(self.cx, n);
        Ok(match ext {
            Ext::S => self.b.build_int_s_extend(part, wide, "sx")?,
            Ext::U => self.b.build_int_z_extend(part, wide, "zx")?,
        })
    }

    /// The low or high half of the lanes of `v`, widened.
    fn half(&self, v: VectorValue<'ctx>, s: Shape, high: bool, ext: Ext) -> Res<VectorValue<'ctx>> {
        let n = s.lanes() / 2;
        let first = if high { n } else { 0 };
        self.widen(v, s, first..first + n, ext)
    }

    /// `extend_low`/`extend_high` from lanes of shape `from`.
    fn extend(&mut self, from: Shape, high: bool, ext: Ext) -> Res {
        let v = self.vpop(from)?;
        let v = self.half(v, from, high, ext)?;
        self.vpush(v)
    }

    fn extmul(&mut self, from: Shape, high: bool, ext: Ext) -> Res {
        let b = self.vpop(from)?;
        let a = self.vpop(from)?;
        let a = self.half(a, from, high, ext)?;
        let b = self.half(b, from, high, ext)?;
        let v = self.b.build_int_mul(a, b, "extmul")?;
        self.vpush(v)
    }

    /// Adds the even and odd lanes of `v` (of `n` lanes) pairwise.
    fn pairwise_add(&self, v: VectorValue<'ctx>) -> Res<VectorValue<'ctx>> {
        let n = v.get_type().get_size();
        let even = self.lanes_of(v, (0..n).step_by(2))?;
        let odd = self.lanes_of(v, (1..n).step_by(2))?;
        Ok(self.b.build_int_add(even, odd, "pairs")?)
    }

    fn extadd_pairwise(&mut self, from: Shape, ext: Ext) -> Res {
        let v = self.vpop(from)?;
        let wide = self.widen(v, from, 0..from.lanes(), ext)?;
        let v = self.pairwise_add(wide)?;
        self.vpush(v)
    }

    /// Saturating narrowing of two vectors of shape `from` into one.
    fn narrow(&mut self, from: Shape, ext: Ext) -> Res {
        let b = self.vpop(from)?;
        let a = self.vpop(from)?;
        let both = self.shuffle(a, b, 0..from.lanes() * 2)?;
        let narrow_bits = from.bits() / 2;
        let (lo, hi) = match ext {
            Ext::S => (
                (-(1i64 << (narrow_bits - 1))) as u64,
                (1u64 << (narrow_bits - 1)) - 1,
            ),
            Ext::U => (0, (1u64 << narrow_bits) - 1),
        };
        let n = from.lanes() * 2;
        let splat = |v: u64| {
            let lane = from.lane_int(self.cx).const_int(v, false);
            inkwell::types::VectorType::const_vector(&vec![lane; n as usize])
        };
        let v = self.vintrinsic("llvm.smax", &[both.into(), splat(lo).into()])?;
        let v = self.vintrinsic("llvm.smin", &[v.into(), splat(hi).into()])?;
        let to = super::int_type(self.cx, narrow_bits).vec_type(n);
        let v = self.b.build_int_truncate(v, to, "narrow")?;
        self.vpush(v)
    }

    /// `avgr_u`: (a + b + 1) / 2 without overflow.
    fn avgr_u(&mut self, s: Shape) -> Res {
        self.vbin(s, |t, a, b| {
            let wide = wider(s).vec_n(t.cx, s.lanes());
            let a = t.b.build_int_z_extend(a, wide, "a")?;
            let b = t.b.build_int_z_extend(b, wide, "b")?;
            let sum = t.b.build_int_add(a, b, "sum")?;
            let one = wider(s).lane_int(t.cx).const_int(1, false);
            let ones = inkwell::types::VectorType::const_vector(&vec![one; s.lanes() as usize]);
            let sum = t.b.build_int_add(sum, ones, "round")?;
            let avg = t.b.build_right_shift(sum, ones, false, "avg")?;
            Ok(t.b.build_int_truncate(avg, s.vec(t.cx), "avgr")?)
        })
    }

    /// `q15mulr_sat_s`: (a * b + 2^14) >> 15, saturated to i16.
    fn q15mulr(&mut self) -> Res {
        let b = self.vpop(Shape::I16)?;
        let a = self.vpop(Shape::I16)?;
        let a = self.widen(a, Shape::I16, 0..8, Ext::S)?;
        let b = self.widen(b, Shape::I16, 0..8, Ext::S)?;
        let p = self.b.build_int_mul(a, b, "p")?;
        let i32x8 = |v: u64| {
            let lane = self.i32().const_int(v, false);
            inkwell::types::VectorType::const_vector(&[lane; 8])
        };
        let p = self.b.build_int_add(p, i32x8(1 << 14), "r")?;
        let p = self.b.build_right_shift(p, i32x8(15), true, "q")?;
        // Only -1 * -1 (in Q15) exceeds the range, and only upwards.
        let p = self.vintrinsic("llvm.smin", &[p.into(), i32x8(0x7fff).into()])?;
        let v = self
            .b
            .build_int_truncate(p, Shape::I16.vec(self.cx), "q15")?;
        self.vpush(v)
    }

    /// `i32x4.dot_i16x8_s`: products of signed lanes, added pairwise.
    fn dot_i16x8_s(&mut self) -> Res {
        let b = self.vpop(Shape::I16)?;
        let a = self.vpop(Shape::I16)?;
        let a = self.widen(a, Shape::I16, 0..8, Ext::S)?;
        let b = self.widen(b, Shape::I16, 0..8, Ext::S)?;
        let p = self.b.build_int_mul(a, b, "p")?;
        let v = self.pairwise_add(p)?;
        self.vpush(v)
    }

    /// Products of the signed bytes of the two popped vectors, as 16 lanes
    /// of `to` (`relaxed_dot`: both operands' bytes signed).
    fn byte_products(&mut self, to: Shape) -> Res<VectorValue<'ctx>> {
        let b = self.vpop(Shape::I8)?;
        let a = self.vpop(Shape::I8)?;
        let wide = to.vec_n(self.cx, 16);
        let a = self.b.build_int_s_extend(a, wide, "a")?;
        let b = self.b.build_int_s_extend(b, wide, "b")?;
        Ok(self.b.build_int_mul(a, b, "p")?)
    }

    /// `i16x8.relaxed_dot_i8x16_i7x16_s`: products added pairwise, wrapping.
    fn relaxed_dot(&mut self) -> Res {
        let p = self.byte_products(Shape::I16)?;
        let v = self.pairwise_add(p)?;
        self.vpush(v)
    }

    /// `i32x4.relaxed_dot_i8x16_i7x16_add_s`: products summed in fours,
    /// plus the accumulator, wrapping.
    fn relaxed_dot_add(&mut self) -> Res {
        let acc = self.vpop(Shape::I32)?;
        let p = self.byte_products(Shape::I32)?;
        let mut sum = acc;
        for k in 0..4 {
            let part = self.lanes_of(p, (0..4).map(|i| 4 * i + k))?;
            sum = self.b.build_int_add(sum, part, "dot")?;
        }
        self.vpush(sum)
    }

    /// The integer SIMD operators; false if `op` is none of them.
    pub(super) fn int_simd(&mut self, op: &O<'_>) -> Res<bool> {
        use Shape::*;
        match *op {
            O::I8x16Add | O::I16x8Add | O::I32x4Add | O::I64x2Add => self
                .vbin(int_shape(op), |t, a, b| {
                    Ok(t.b.build_int_add(a, b, "add")?)
                })?,
            O::I8x16Sub | O::I16x8Sub | O::I32x4Sub | O::I64x2Sub => self
                .vbin(int_shape(op), |t, a, b| {
                    Ok(t.b.build_int_sub(a, b, "sub")?)
                })?,
            O::I16x8Mul | O::I32x4Mul | O::I64x2Mul => self.vbin(int_shape(op), |t, a, b| {
                Ok(t.b.build_int_mul(a, b, "mul")?)
            })?,
            O::I8x16Neg | O::I16x8Neg | O::I32x4Neg | O::I64x2Neg => {
                self.vun(int_shape(op), |t, a| Ok(t.b.build_int_neg(a, "neg")?))?
            }
            O::I8x16Abs | O::I16x8Abs | O::I32x4Abs | O::I64x2Abs => {
                self.vun(int_shape(op), |t, a| {
                    let poison = t.cx.bool_type().const_zero();
                    let v = t.call_intrinsic(
                        "llvm.abs",
                        &[a.get_type().into()],
                        &[a.into(), poison.into()],
                    )?;
                    Ok(v.into_vector_value())
                })?
            }
            O::I8x16AddSatS | O::I16x8AddSatS => {
                self.vbin_intrinsic(int_shape(op), "llvm.sadd.sat")?
            }
            O::I8x16AddSatU | O::I16x8AddSatU => {
                self.vbin_intrinsic(int_shape(op), "llvm.uadd.sat")?
            }
            O::I8x16SubSatS | O::I16x8SubSatS => {
                self.vbin_intrinsic(int_shape(op), "llvm.ssub.sat")?
            }
            O::I8x16SubSatU | O::I16x8SubSatU => {
                self.vbin_intrinsic(int_shape(op), "llvm.usub.sat")?
            }
            O::I8x16MinS | O::I16x8MinS | O::I32x4MinS => {
                self.vbin_intrinsic(int_shape(op), "llvm.smin")?
            }
            O::I8x16MinU | O::I16x8MinU | O::I32x4MinU => {
                self.vbin_intrinsic(int_shape(op), "llvm.umin")?
            }
            O::I8x16MaxS | O::I16x8MaxS | O::I32x4MaxS => {
                self.vbin_intrinsic(int_shape(op), "llvm.smax")?
            }
            O::I8x16MaxU | O::I16x8MaxU | O::I32x4MaxU => {
                self.vbin_intrinsic(int_shape(op), "llvm.umax")?
            }
            O::I8x16AvgrU | O::I16x8AvgrU => self.avgr_u(int_shape(op))?,
            O::I8x16Popcnt => self.vun(I8, |t, a| t.vintrinsic("llvm.ctpop", &[a.into()]))?,
            O::I8x16AllTrue | O::I16x8AllTrue | O::I32x4AllTrue | O::I64x2AllTrue => {
                self.all_true(int_shape(op))?
            }
            O::I8x16Bitmask | O::I16x8Bitmask | O::I32x4Bitmask | O::I64x2Bitmask => {
                self.bitmask(int_shape(op))?
            }
            O::I8x16Shl | O::I8x16ShrS | O::I8x16ShrU => self.shift(I8, op.clone())?,
            O::I16x8Shl | O::I16x8ShrS | O::I16x8ShrU => self.shift(I16, op.clone())?,
            O::I32x4Shl | O::I32x4ShrS | O::I32x4ShrU => self.shift(I32, op.clone())?,
            O::I64x2Shl | O::I64x2ShrS | O::I64x2ShrU => self.shift(I64, op.clone())?,
            O::I8x16NarrowI16x8S => self.narrow(I16, Ext::S)?,
            O::I8x16NarrowI16x8U => self.narrow(I16, Ext::U)?,
            O::I16x8NarrowI32x4S => self.narrow(I32, Ext::S)?,
            O::I16x8NarrowI32x4U => self.narrow(I32, Ext::U)?,
            O::I16x8ExtendLowI8x16S => self.extend(I8, false, Ext::S)?,
            O::I16x8ExtendHighI8x16S => self.extend(I8, true, Ext::S)?,
            O::I16x8ExtendLowI8x16U => self.extend(I8, false, Ext::U)?,
            O::I16x8ExtendHighI8x16U => self.extend(I8, true, Ext::U)?,
            O::I32x4ExtendLowI16x8S => self.extend(I16, false, Ext::S)?,
            O::I32x4ExtendHighI16x8S => self.extend(I16, true, Ext::S)?,
            O::I32x4ExtendLowI16x8U => self.extend(I16, false, Ext::U)?,
            O::I32x4ExtendHighI16x8U => self.extend(I16, true, Ext::U)?,
            O::I64x2ExtendLowI32x4S => self.extend(I32, false, Ext::S)?,
            O::I64x2ExtendHighI32x4S => self.extend(I32, true, Ext::S)?,
            O::I64x2ExtendLowI32x4U => self.extend(I32, false, Ext::U)?,
            O::I64x2ExtendHighI32x4U => self.extend(I32, true, Ext::U)?,
            O::I16x8ExtMulLowI8x16S => self.extmul(I8, false, Ext::S)?,
            O::I16x8ExtMulHighI8x16S => self.extmul(I8, true, Ext::S)?,
            O::I16x8ExtMulLowI8x16U => self.extmul(I8, false, Ext::U)?,
            O::I16x8ExtMulHighI8x16U => self.extmul(I8, true, Ext::U)?,
            O::I32x4ExtMulLowI16x8S => self.extmul(I16, false, Ext::S)?,
            O::I32x4ExtMulHighI16x8S => self.extmul(I16, true, Ext::S)?,
            O::I32x4ExtMulLowI16x8U => self.extmul(I16, false, Ext::U)?,
            O::I32x4ExtMulHighI16x8U => self.extmul(I16, true, Ext::U)?,
            O::I64x2ExtMulLowI32x4S => self.extmul(I32, false, Ext::S)?,
            O::I64x2ExtMulHighI32x4S => self.extmul(I32, true, Ext::S)?,
            O::I64x2ExtMulLowI32x4U => self.extmul(I32, false, Ext::U)?,
            O::I64x2ExtMulHighI32x4U => self.extmul(I32, true, Ext::U)?,
            O::I16x8ExtAddPairwiseI8x16S => self.extadd_pairwise(I8, Ext::S)?,
            O::I16x8ExtAddPairwiseI8x16U => self.extadd_pairwise(I8, Ext::U)?,
            O::I32x4ExtAddPairwiseI16x8S => self.extadd_pairwise(I16, Ext::S)?,
            O::I32x4ExtAddPairwiseI16x8U => self.extadd_pairwise(I16, Ext::U)?,
            O::I32x4DotI16x8S => self.dot_i16x8_s()?,
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => self.q15mulr()?,
            O::I16x8RelaxedDotI8x16I7x16S => self.relaxed_dot()?,
            O::I32x4RelaxedDotI8x16I7x16AddS => self.relaxed_dot_add()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The integer shape twice as wide.
fn wider(s: Shape) -> Shape {
    match s {
        Shape::I8 => Shape::I16,
        Shape::I16 => Shape::I32,
        _ => Shape::I64,
    }
}

/// The lane shape of an integer operator of the shared arms above.
fn int_shape(op: &O<'_>) -> Shape {
    use O::*;
    match op {
        I8x16Add | I8x16Sub | I8x16Neg | I8x16Abs | I8x16AddSatS | I8x16AddSatU | I8x16SubSatS
        | I8x16SubSatU | I8x16MinS | I8x16MinU | I8x16MaxS | I8x16MaxU | I8x16AvgrU
        | I8x16AllTrue | I8x16Bitmask => Shape::I8,
        I16x8Add | I16x8Sub | I16x8Mul | I16x8Neg | I16x8Abs | I16x8AddSatS | I16x8AddSatU
        | I16x8SubSatS | I16x8SubSatU | I16x8MinS | I16x8MinU | I16x8MaxS | I16x8MaxU
        | I16x8AvgrU | I16x8AllTrue | I16x8Bitmask => Shape::I16,
        I32x4Add | I32x4Sub | I32x4Mul | I32x4Neg | I32x4Abs | I32x4MinS | I32x4MinU
        | I32x4MaxS | I32x4MaxU | I32x4AllTrue | I32x4Bitmask => Shape::I32,
        _ => Shape::I64,
    }
}
