//! Float lane operations: arithmetic, comparisons, rounding, conversions
//! and the fused multiply-add of relaxed SIMD.

use inkwell::FloatPredicate;
use inkwell::values::VectorValue;
use wasmparser::Operator as O;

use super::super::func::FuncTranslator;
use super::super::rounding::Rounding;
use super::{Res, Shape};

impl<'ctx> FuncTranslator<'_, 'ctx> {
    /// A float comparison: each lane all ones where it holds, else 0.
    pub(super) fn fcmp_v(&mut self, s: Shape, pred: FloatPredicate) -> Res {
        let b = self.vpop(s)?;
        let a = self.vpop(s)?;
        let c = self.b.build_float_compare(pred, a, b, "cmp")?;
        let v = self.b.build_int_s_extend(c, s.int().vec(self.cx), "mask")?;
        self.vpush(v)
    }

    /// `v` (of float shape `s`) with the quiet bit set in its NaN lanes:
    /// wasm wants arithmetic NaNs where LLVM may pass a signalling one on.
    fn quiet_lanes(&self, v: VectorValue<'ctx>, s: Shape) -> Res<VectorValue<'ctx>> {
        let bits = self.vcast(v, s.int())?;
        let quiet_bit = if s == Shape::F32 { 1 << 22 } else { 1 << 51 };
        let quiet = self.const_splat(s.int(), quiet_bit);
        let quieted = self.b.build_or(bits, quiet, "q")?;
        let quieted = self.vcast(quieted, s)?;
        let nan = self
            .b
            .build_float_compare(FloatPredicate::UNO, v, v, "nan")?;
        Ok(self
            .b
            .build_select(nan, quieted, v, "canon")?
            .into_vector_value())
    }

    /// Float arithmetic; quieted where an operand is a constant, which LLVM
    /// may fold the operation away with (`x * 1.0` to `x`).
    fn farith(
        &mut self,
        s: Shape,
        f: impl FnOnce(&Self, VectorValue<'ctx>, VectorValue<'ctx>) -> Res<VectorValue<'ctx>>,
    ) -> Res {
        let b = self.vpop(s)?;
        let a = self.vpop(s)?;
        let mut v = f(self, a, b)?;
        if a.is_const() || b.is_const() {
            v = self.quiet_lanes(v, s)?;
        }
        self.vpush(v)
    }

    /// `min`/`max`: NaN-propagating, -0 below +0 (LLVM's `minimum` and
    /// `maximum`), a NaN result quieted.
    fn fminmax(&mut self, s: Shape, name: &str) -> Res {
        let b = self.vpop(s)?;
        let a = self.vpop(s)?;
        let v = self.vintrinsic(name, &[a.into(), b.into()])?;
        let v = self.quiet_lanes(v, s)?;
        self.vpush(v)
    }

    /// `pmin`/`pmax`: `b < a ? b : a` / `a < b ? b : a`, bits unchanged.
    fn pminmax(&mut self, s: Shape, max: bool) -> Res {
        let b = self.vpop(s)?;
        let a = self.vpop(s)?;
        let (x, y) = if max { (a, b) } else { (b, a) };
        let lt = self
            .b
            .build_float_compare(FloatPredicate::OLT, x, y, "lt")?;
        let v = self.b.build_select(lt, b, a, "pminmax")?;
        self.vpush(v.into_vector_value())
    }

    /// `ceil`, `floor`, `trunc`, `nearest`: lane by lane through the scalar
    /// code where the target rounds only through libcalls (`rounding`).
    fn round_v(&mut self, s: Shape, mode: Rounding) -> Res {
        let v = self.vpop(s)?;
        if !self.options.inline_rounding {
            let name = match mode {
                Rounding::Ceil => "llvm.ceil",
                Rounding::Floor => "llvm.floor",
                Rounding::Trunc => "llvm.trunc",
                Rounding::Nearest => "llvm.roundeven",
            };
            let r = self.vintrinsic(name, &[v.into()])?;
            return self.vpush(r);
        }
        let mut out = v;
        for lane in 0..s.lanes() {
            let at = self.i32().const_int(u64::from(lane), false);
            let x = self.b.build_extract_element(v, at, "lane")?;
            self.push(x);
            self.round(mode)?;
            let r = self.pop();
            out = self.b.build_insert_element(out, r, at, "round")?;
        }
        self.vpush(out)
    }

    /// Saturating truncation of the lanes of `v` to `n` lanes of i32
    /// (NaN to 0).
    fn trunc_sat_lanes(&self, v: VectorValue<'ctx>, signed: bool) -> Res<VectorValue<'ctx>> {
        let n = v.get_type().get_size();
        let to = self.i32().vec_type(n);
        let name = if signed {
            "llvm.fptosi.sat"
        } else {
            "llvm.fptoui.sat"
        };
        Ok(self
            .call_intrinsic(name, &[to.into(), v.get_type().into()], &[v.into()])?
            .into_vector_value())
    }

    fn trunc_sat_f32x4(&mut self, signed: bool) -> Res {
        let v = self.vpop(Shape::F32)?;
        let r = self.trunc_sat_lanes(v, signed)?;
        self.vpush(r)
    }

    /// `trunc_sat_f64x2_*_zero`: two lanes, the upper two 0.
    fn trunc_sat_f64x2_zero(&mut self, signed: bool) -> Res {
        let v = self.vpop(Shape::F64)?;
        let r = self.trunc_sat_lanes(v, signed)?;
        let zero = r.get_type().const_zero();
        let r = self.shuffle(r, zero, 0..4)?;
        self.vpush(r)
    }

    fn convert_i32x4(&mut self, signed: bool) -> Res {
        let v = self.vpop(Shape::I32)?;
        let to = Shape::F32.vec(self.cx);
        let r = if signed {
            self.b.build_signed_int_to_float(v, to, "cvt")?
        } else {
            self.b.build_unsigned_int_to_float(v, to, "cvt")?
        };
        self.vpush(r)
    }

    fn convert_low_i32x4(&mut self, signed: bool) -> Res {
        let v = self.vpop(Shape::I32)?;
        let low = self.lanes_of(v, 0..2)?;
        let to = Shape::F64.vec(self.cx);
        let r = if signed {
            self.b.build_signed_int_to_float(low, to, "cvt")?
        } else {
            self.b.build_unsigned_int_to_float(low, to, "cvt")?
        };
        self.vpush(r)
    }

    fn demote_zero(&mut self) -> Res {
        let v = self.vpop(Shape::F64)?;
        let r = self
            .b
            .build_float_trunc(v, Shape::F32.vec_n(self.cx, 2), "demote")?;
        let r = self.quiet_lanes_n(r)?;
        let zero = r.get_type().const_zero();
        let r = self.shuffle(r, zero, 0..4)?;
        self.vpush(r)
    }

    fn promote_low(&mut self) -> Res {
        let v = self.vpop(Shape::F32)?;
        let low = self.lanes_of(v, 0..2)?;
        let r = self
            .b
            .build_float_ext(low, Shape::F64.vec(self.cx), "promote")?;
        self.vpush(r)
    }

    /// Quiets the NaNs of a two-lane f32 vector (a demotion LLVM may fold).
    fn quiet_lanes_n(&self, v: VectorValue<'ctx>) -> Res<VectorValue<'ctx>> {
        let wide = self.shuffle(v, v.get_type().get_undef(), 0..4)?;
        let q = self.quiet_lanes(wide, Shape::F32)?;
        self.lanes_of(q, 0..2)
    }

    /// The float SIMD operators; false if `op` is none of them.
    pub(super) fn float_simd(&mut self, op: &O<'_>) -> Res<bool> {
        use Shape::{F32, F64};
        match *op {
            O::F32x4Add => self.farith(F32, |t, a, b| Ok(t.b.build_float_add(a, b, "fadd")?))?,
            O::F64x2Add => self.farith(F64, |t, a, b| Ok(t.b.build_float_add(a, b, "fadd")?))?,
            O::F32x4Sub => self.farith(F32, |t, a, b| Ok(t.b.build_float_sub(a, b, "fsub")?))?,
            O::F64x2Sub => self.farith(F64, |t, a, b| Ok(t.b.build_float_sub(a, b, "fsub")?))?,
            O::F32x4Mul => self.farith(F32, |t, a, b| Ok(t.b.build_float_mul(a, b, "fmul")?))?,
            O::F64x2Mul => self.farith(F64, |t, a, b| Ok(t.b.build_float_mul(a, b, "fmul")?))?,
            O::F32x4Div => self.farith(F32, |t, a, b| Ok(t.b.build_float_div(a, b, "fdiv")?))?,
            O::F64x2Div => self.farith(F64, |t, a, b| Ok(t.b.build_float_div(a, b, "fdiv")?))?,
            O::F32x4Sqrt => self.vun(F32, |t, a| t.vintrinsic("llvm.sqrt", &[a.into()]))?,
            O::F64x2Sqrt => self.vun(F64, |t, a| t.vintrinsic("llvm.sqrt", &[a.into()]))?,
            O::F32x4Abs => self.vun(F32, |t, a| t.vintrinsic("llvm.fabs", &[a.into()]))?,
            O::F64x2Abs => self.vun(F64, |t, a| t.vintrinsic("llvm.fabs", &[a.into()]))?,
            O::F32x4Neg => self.vun(F32, |t, a| Ok(t.b.build_float_neg(a, "fneg")?))?,
            O::F64x2Neg => self.vun(F64, |t, a| Ok(t.b.build_float_neg(a, "fneg")?))?,
            O::F32x4Min | O::F32x4RelaxedMin => self.fminmax(F32, "llvm.minimum")?,
            O::F64x2Min | O::F64x2RelaxedMin => self.fminmax(F64, "llvm.minimum")?,
            O::F32x4Max | O::F32x4RelaxedMax => self.fminmax(F32, "llvm.maximum")?,
            O::F64x2Max | O::F64x2RelaxedMax => self.fminmax(F64, "llvm.maximum")?,
            O::F32x4PMin => self.pminmax(F32, false)?,
            O::F64x2PMin => self.pminmax(F64, false)?,
            O::F32x4PMax => self.pminmax(F32, true)?,
            O::F64x2PMax => self.pminmax(F64, true)?,
            O::F32x4Ceil => self.round_v(F32, Rounding::Ceil)?,
            O::F64x2Ceil => self.round_v(F64, Rounding::Ceil)?,
            O::F32x4Floor => self.round_v(F32, Rounding::Floor)?,
            O::F64x2Floor => self.round_v(F64, Rounding::Floor)?,
            O::F32x4Trunc => self.round_v(F32, Rounding::Trunc)?,
            O::F64x2Trunc => self.round_v(F64, Rounding::Trunc)?,
            O::F32x4Nearest => self.round_v(F32, Rounding::Nearest)?,
            O::F64x2Nearest => self.round_v(F64, Rounding::Nearest)?,
            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => self.trunc_sat_f32x4(true)?,
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => self.trunc_sat_f32x4(false)?,
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.trunc_sat_f64x2_zero(true)?
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.trunc_sat_f64x2_zero(false)?
            }
            O::F32x4ConvertI32x4S => self.convert_i32x4(true)?,
            O::F32x4ConvertI32x4U => self.convert_i32x4(false)?,
            O::F64x2ConvertLowI32x4S => self.convert_low_i32x4(true)?,
            O::F64x2ConvertLowI32x4U => self.convert_low_i32x4(false)?,
            O::F32x4DemoteF64x2Zero => self.demote_zero()?,
            O::F64x2PromoteLowF32x4 => self.promote_low()?,
            O::F32x4RelaxedMadd => self.madd(F32, false)?,
            O::F32x4RelaxedNmadd => self.madd(F32, true)?,
            O::F64x2RelaxedMadd => self.madd(F64, false)?,
            O::F64x2RelaxedNmadd => self.madd(F64, true)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
