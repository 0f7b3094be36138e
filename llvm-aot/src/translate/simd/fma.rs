//! The fused multiply-add of relaxed SIMD (`relaxed_madd`, `relaxed_nmadd`),
//! exact on every target: one instruction where the target has FMA; else
//! `llvm.fma` would call `fmaf`/`fma`, which compiled code cannot reach.
//! There f32 lanes go through f64 with round-to-odd, inline, and f64 lanes
//! through the runtime's `f64_fma` helper.
//!
//! Why round-to-odd: a product of two f32 is exact in f64, but rounding
//! the f64 sum to nearest and then to f32 rounds twice and can miss by an
//! ulp at a tie. Rounding the sum to odd instead (to the neighbour with an
//! odd last bit whenever it is inexact) keeps the information a second
//! rounding needs, since f64 has more than two bits beyond f32's precision:
//! RN32(RO64(x)) = RN32(x).

use inkwell::IntPredicate;
use inkwell::values::VectorValue;

use super::super::func::FuncTranslator;
use super::{Res, Shape};

impl<'ctx> FuncTranslator<'_, 'ctx> {
    /// `a * b + c` (with `negate`, `-a * b + c`) rounded once.
    pub(super) fn madd(&mut self, s: Shape, negate: bool) -> Res {
        let c = self.vpop(s)?;
        let b = self.vpop(s)?;
        let a = self.vpop(s)?;
        let a = match negate {
            true => self.b.build_float_neg(a, "neg")?,
            false => a,
        };
        let v = if self.options.fma {
            self.vintrinsic("llvm.fma", &[a.into(), b.into(), c.into()])?
        } else if s == Shape::F32 {
            self.fma_f32_round_to_odd(a, b, c)?
        } else {
            self.fma_f64_lanes(a, b, c)?
        };
        self.vpush(v)
    }

    /// Lane by lane through scalar `llvm.fma.f64` calls, which
    /// `legalize::fma_through_helper` turns into calls of the runtime's
    /// `f64_fma` helper (no exact f64 fma is cheap to build inline).
    fn fma_f64_lanes(
        &self,
        a: VectorValue<'ctx>,
        b: VectorValue<'ctx>,
        c: VectorValue<'ctx>,
    ) -> Res<VectorValue<'ctx>> {
        let mut out = a;
        for lane in 0..2 {
            let at = self.i32().const_int(lane, false);
            let [x, y, z] = [a, b, c].map(|v| self.b.build_extract_element(v, at, "lane"));
            let f64t = self.cx.f64_type().into();
            let r = self.call_intrinsic("llvm.fma", &[f64t], &[x?.into(), y?.into(), z?.into()])?;
            out = self.b.build_insert_element(out, r, at, "fma")?;
        }
        Ok(out)
    }

    fn fma_f32_round_to_odd(
        &self,
        a: VectorValue<'ctx>,
        b: VectorValue<'ctx>,
        c: VectorValue<'ctx>,
    ) -> Res<VectorValue<'ctx>> {
        let wide = Shape::F64.vec_n(self.cx, 4);
        let [a, b, c] = [a, b, c].map(|x| self.b.build_float_ext(x, wide, "wide"));
        let (a, b, c) = (a?, b?, c?);
        let p = self.b.build_float_mul(a, b, "p")?; // exact
        let sum = self.b.build_float_add(p, c, "sum")?;
        // The rounding error of `sum`, exactly (Knuth's TwoSum).
        let bv = self.b.build_float_sub(sum, p, "bv")?;
        let av = self.b.build_float_sub(sum, bv, "av")?;
        let ea = self.b.build_float_sub(p, av, "ea")?;
        let eb = self.b.build_float_sub(c, bv, "eb")?;
        let err = self.b.build_float_add(ea, eb, "err")?;
        // Inexact with an even last bit: step one ulp towards the exact
        // value (NaN and infinite sums have a NaN error and stay).
        let i64x4 = self.i64().vec_type(4);
        let bits = self
            .b
            .build_bit_cast(sum, i64x4, "bits")?
            .into_vector_value();
        let err_bits = self.b.build_bit_cast(err, i64x4, "eb")?.into_vector_value();
        let zero = i64x4.const_zero();
        let inexact = self.b.build_float_compare(
            inkwell::FloatPredicate::ONE,
            err,
            wide.const_zero(),
            "inexact",
        )?;
        let one = self.i64().const_int(1, false);
        let ones = inkwell::types::VectorType::const_vector(&[one; 4]);
        let low = self.b.build_and(bits, ones, "low")?;
        let even = self
            .b
            .build_int_compare(IntPredicate::EQ, low, zero, "even")?;
        let step = self.b.build_and(inexact, even, "step")?;
        let signs = self.b.build_xor(bits, err_bits, "signs")?;
        let away = self
            .b
            .build_int_compare(IntPredicate::SGE, signs, zero, "away")?;
        let minus = inkwell::types::VectorType::const_vector(&[self.i64().const_all_ones(); 4]);
        let delta = self.b.build_select(away, ones, minus, "delta")?;
        let stepped = self
            .b
            .build_int_add(bits, delta.into_vector_value(), "odd")?;
        let odd = self.b.build_select(step, stepped, bits, "ro")?;
        let odd = self.b.build_bit_cast(odd, wide, "ro")?.into_vector_value();
        Ok(self
            .b
            .build_float_trunc(odd, Shape::F32.vec(self.cx), "fma")?)
    }
}
