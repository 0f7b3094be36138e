//! Numeric instructions: integer and float arithmetic, comparisons and
//! conversions. Float-to-int conversions are inline (contract 6): checked
//! ones branch to trap blocks, saturating ones use LLVM's `fpto*i.sat`.

use inkwell::types::{BasicTypeEnum, FloatType, IntType};
use inkwell::values::{BasicValueEnum, FloatValue, IntValue};
use inkwell::{FloatPredicate, IntPredicate};
use wamr_runtime::TrapKind;
use wasmparser::Operator as O;

use super::TranslateError as CompileError;
use super::func::FuncTranslator;
use super::rounding::Rounding;

type Res<T = ()> = Result<T, CompileError>;

impl<'ctx> FuncTranslator<'_, 'ctx> {
    fn bool_to_i32(&self, b: IntValue<'ctx>) -> Res<IntValue<'ctx>> {
        Ok(self.b.build_int_z_extend(b, self.i32(), "b")?)
    }

    fn icmp(&mut self, pred: IntPredicate) -> Res {
        let y = self.pop_int();
        let x = self.pop_int();
        let c = self.b.build_int_compare(pred, x, y, "cmp")?;
        let v = self.bool_to_i32(c)?;
        self.push(v);
        Ok(())
    }

    fn fcmp(&mut self, pred: FloatPredicate) -> Res {
        let y = self.pop_float();
        let x = self.pop_float();
        let c = self.b.build_float_compare(pred, x, y, "cmp")?;
        let v = self.bool_to_i32(c)?;
        self.push(v);
        Ok(())
    }

    fn eqz(&mut self) -> Res {
        let x = self.pop_int();
        let c = self
            .b
            .build_int_compare(IntPredicate::EQ, x, x.get_type().const_zero(), "eqz")?;
        let v = self.bool_to_i32(c)?;
        self.push(v);
        Ok(())
    }

    fn ibin(
        &mut self,
        f: impl FnOnce(&Self, IntValue<'ctx>, IntValue<'ctx>) -> Res<IntValue<'ctx>>,
    ) -> Res {
        let y = self.pop_int();
        let x = self.pop_int();
        let v = f(self, x, y)?;
        self.push(v);
        Ok(())
    }

    fn fbin(
        &mut self,
        f: impl FnOnce(&Self, FloatValue<'ctx>, FloatValue<'ctx>) -> Res<BasicValueEnum<'ctx>>,
    ) -> Res {
        let y = self.pop_float();
        let x = self.pop_float();
        let v = f(self, x, y)?;
        self.push(v);
        // LLVM folds `x - 0.0`, `x * 1.0`, `x / -1.0`, ... to `x` or `-x`,
        // which hands a signalling NaN back unquieted; wasm wants an
        // arithmetic NaN. Quieting explicitly where an operand is such a
        // constant keeps every other operation as fast as before.
        if is_identity_constant(x) || is_identity_constant(y) {
            self.quiet_top()?;
        }
        Ok(())
    }

    /// A unary or binary LLVM intrinsic over the popped operands.
    pub(super) fn intrinsic_op(&mut self, name: &str, arity: usize) -> Res {
        let args = self.pop_n(arity);
        let ty: BasicTypeEnum = args[0].get_type();
        let mut call_args: Vec<_> = args.iter().map(|&a| a.into()).collect();
        if name == "llvm.ctlz" || name == "llvm.cttz" {
            call_args.push(self.cx.bool_type().const_zero().into());
        }
        let v = self.call_intrinsic(name, &[ty], &call_args)?;
        self.push(v);
        Ok(())
    }

    /// Shifts and rotates take the count modulo the bit width.
    fn masked(&self, y: IntValue<'ctx>) -> Res<IntValue<'ctx>> {
        let bits = y.get_type().get_bit_width() as u64;
        Ok(self
            .b
            .build_and(y, y.get_type().const_int(bits - 1, false), "n")?)
    }

    fn rotate(&mut self, name: &str) -> Res {
        let y = self.pop_int();
        let x = self.pop_int();
        let v = self.call_intrinsic(
            name,
            &[x.get_type().into()],
            &[x.into(), x.into(), y.into()],
        )?;
        self.push(v);
        Ok(())
    }

    /// Division and remainder, trapping on a zero divisor and (signed
    /// division) on MIN / -1; signed remainder of MIN by -1 is 0.
    fn divrem(&mut self, signed: bool, rem: bool) -> Res {
        let y = self.pop_int();
        let x = self.pop_int();
        let t = x.get_type();
        let zero = self
            .b
            .build_int_compare(IntPredicate::EQ, y, t.const_zero(), "z")?;
        self.trap_if(zero, TrapKind::IntegerDivideByZero)?;
        let v = if !signed {
            if rem {
                self.b.build_int_unsigned_rem(x, y, "rem")?
            } else {
                self.b.build_int_unsigned_div(x, y, "div")?
            }
        } else {
            let bits = t.get_bit_width();
            let min = t.const_int(1u64 << (bits - 1), false);
            let is_min = self.b.build_int_compare(IntPredicate::EQ, x, min, "min")?;
            let is_neg1 =
                self.b
                    .build_int_compare(IntPredicate::EQ, y, t.const_all_ones(), "m1")?;
            let both = self.b.build_and(is_min, is_neg1, "ovf")?;
            if rem {
                // x % -1 is 0 for every x; dividing MIN by -1 in hardware faults.
                let safe_y = self
                    .b
                    .build_select(both, t.const_int(1, false), y, "y")?
                    .into_int_value();
                self.b.build_int_signed_rem(x, safe_y, "rem")?
            } else {
                self.trap_if(both, TrapKind::IntegerOverflow)?;
                self.b.build_int_signed_div(x, y, "div")?
            }
        };
        self.push(v);
        Ok(())
    }

    /// Trapping float-to-int conversion: NaN -> invalid conversion; out of
    /// the target range (bounds exclusive, exact in the source type) ->
    /// integer overflow.
    fn trunc(&mut self, to: IntType<'ctx>, signed: bool) -> Res {
        let x = self.pop_float();
        let ft = x.get_type();
        let nan = self
            .b
            .build_float_compare(FloatPredicate::UNO, x, x, "nan")?;
        self.trap_if(nan, TrapKind::InvalidConversionToInteger)?;
        let (lo, hi) = trunc_bounds(ft, to.get_bit_width(), signed, self.is_f32(ft));
        let lo_ok = self
            .b
            .build_float_compare(FloatPredicate::OGT, x, ft.const_float(lo), "lo")?;
        let hi_ok = self
            .b
            .build_float_compare(FloatPredicate::OLT, x, ft.const_float(hi), "hi")?;
        let ok = self.b.build_and(lo_ok, hi_ok, "ok")?;
        let bad = self.b.build_not(ok, "bad")?;
        self.trap_if(bad, TrapKind::IntegerOverflow)?;
        let v = if signed {
            self.b.build_float_to_signed_int(x, to, "trunc")?
        } else {
            self.b.build_float_to_unsigned_int(x, to, "trunc")?
        };
        self.push(self.opaque_int(v));
        Ok(())
    }

    /// `v` behind a `freeze`, which LLVM does not look through when it
    /// folds a conversion back to float: LLVM 19 folds `fptoui (uitofp
    /// (fptosi x))` to `fptosi x` as if the round trip were exact, which it
    /// is not for negative `x` (the unsigned value has 64 significant
    /// bits), and the wasm result then differs from the interpreter's
    /// (found by the differential fuzzer, seed 100643). The value is in
    /// range here, so `freeze` changes nothing else.
    fn opaque_int(&self, v: IntValue<'ctx>) -> IntValue<'ctx> {
        use inkwell::values::AsValueRef;
        // SAFETY: the builder is positioned and `v` is a live value of its
        // context; LLVMBuildFreeze returns a new value of `v`'s type.
        unsafe {
            IntValue::new(inkwell::llvm_sys::core::LLVMBuildFreeze(
                self.b.as_mut_ptr(),
                v.as_value_ref(),
                c"frozen".as_ptr(),
            ))
        }
    }

    /// Sets the quiet bit of a NaN on top of the stack.
    pub(super) fn quiet_top(&mut self) -> Res {
        let x = self.pop_float();
        let ft = x.get_type();
        let (it, quiet) = if self.is_f32(ft) {
            (self.i32(), 1u64 << 22)
        } else {
            (self.i64(), 1u64 << 51)
        };
        let bits = self.b.build_bit_cast(x, it, "bits")?.into_int_value();
        let quieted = self.b.build_or(bits, it.const_int(quiet, false), "q")?;
        let quieted = self.b.build_bit_cast(quieted, ft, "qf")?;
        let nan = self
            .b
            .build_float_compare(FloatPredicate::UNO, x, x, "nan")?;
        let v = self.b.build_select(nan, quieted, x.into(), "canon")?;
        self.push(v);
        Ok(())
    }

    fn is_f32(&self, t: FloatType<'ctx>) -> bool {
        t == self.cx.f32_type()
    }

    fn trunc_sat(&mut self, to: IntType<'ctx>, signed: bool) -> Res {
        let x = self.pop_float();
        let name = if signed {
            "llvm.fptosi.sat"
        } else {
            "llvm.fptoui.sat"
        };
        let v = self.call_intrinsic(name, &[to.into(), x.get_type().into()], &[x.into()])?;
        self.push(v);
        Ok(())
    }

    fn convert(&mut self, to: FloatType<'ctx>, signed: bool) -> Res {
        let x = self.pop_int();
        let v = if signed {
            self.b.build_signed_int_to_float(x, to, "cvt")?
        } else {
            self.b.build_unsigned_int_to_float(x, to, "cvt")?
        };
        self.push(v);
        Ok(())
    }

    fn sign_extend_low(&mut self, from: IntType<'ctx>) -> Res {
        let x = self.pop_int();
        let t = x.get_type();
        let low = self.b.build_int_truncate(x, from, "low")?;
        let v = self.b.build_int_s_extend(low, t, "sx")?;
        self.push(v);
        Ok(())
    }

    fn reinterpret(&mut self, to: BasicTypeEnum<'ctx>) -> Res {
        let x = self.pop();
        let v = self.b.build_bit_cast(x, to, "re")?;
        self.push(v);
        Ok(())
    }

    pub(super) fn numeric(&mut self, op: O<'_>) -> Res {
        use FloatPredicate as F;
        use IntPredicate as I;
        let (i32t, i64t) = (self.i32(), self.i64());
        let (f32t, f64t) = (self.cx.f32_type(), self.cx.f64_type());
        match op {
            O::I32Eqz | O::I64Eqz => self.eqz()?,
            O::I32Eq | O::I64Eq => self.icmp(I::EQ)?,
            O::I32Ne | O::I64Ne => self.icmp(I::NE)?,
            O::I32LtS | O::I64LtS => self.icmp(I::SLT)?,
            O::I32LtU | O::I64LtU => self.icmp(I::ULT)?,
            O::I32GtS | O::I64GtS => self.icmp(I::SGT)?,
            O::I32GtU | O::I64GtU => self.icmp(I::UGT)?,
            O::I32LeS | O::I64LeS => self.icmp(I::SLE)?,
            O::I32LeU | O::I64LeU => self.icmp(I::ULE)?,
            O::I32GeS | O::I64GeS => self.icmp(I::SGE)?,
            O::I32GeU | O::I64GeU => self.icmp(I::UGE)?,
            O::F32Eq | O::F64Eq => self.fcmp(F::OEQ)?,
            O::F32Ne | O::F64Ne => self.fcmp(F::UNE)?,
            O::F32Lt | O::F64Lt => self.fcmp(F::OLT)?,
            O::F32Gt | O::F64Gt => self.fcmp(F::OGT)?,
            O::F32Le | O::F64Le => self.fcmp(F::OLE)?,
            O::F32Ge | O::F64Ge => self.fcmp(F::OGE)?,

            O::I32Clz | O::I64Clz => self.intrinsic_op("llvm.ctlz", 1)?,
            O::I32Ctz | O::I64Ctz => self.intrinsic_op("llvm.cttz", 1)?,
            O::I32Popcnt | O::I64Popcnt => self.intrinsic_op("llvm.ctpop", 1)?,
            O::I32Add | O::I64Add => self.ibin(|t, x, y| Ok(t.b.build_int_add(x, y, "add")?))?,
            O::I32Sub | O::I64Sub => self.ibin(|t, x, y| Ok(t.b.build_int_sub(x, y, "sub")?))?,
            O::I32Mul | O::I64Mul => self.ibin(|t, x, y| Ok(t.b.build_int_mul(x, y, "mul")?))?,
            O::I32DivS | O::I64DivS => self.divrem(true, false)?,
            O::I32DivU | O::I64DivU => self.divrem(false, false)?,
            O::I32RemS | O::I64RemS => self.divrem(true, true)?,
            O::I32RemU | O::I64RemU => self.divrem(false, true)?,
            O::I32And | O::I64And => self.ibin(|t, x, y| Ok(t.b.build_and(x, y, "and")?))?,
            O::I32Or | O::I64Or => self.ibin(|t, x, y| Ok(t.b.build_or(x, y, "or")?))?,
            O::I32Xor | O::I64Xor => self.ibin(|t, x, y| Ok(t.b.build_xor(x, y, "xor")?))?,
            O::I32Shl | O::I64Shl => {
                self.ibin(|t, x, y| Ok(t.b.build_left_shift(x, t.masked(y)?, "shl")?))?
            }
            O::I32ShrS | O::I64ShrS => {
                self.ibin(|t, x, y| Ok(t.b.build_right_shift(x, t.masked(y)?, true, "shr")?))?
            }
            O::I32ShrU | O::I64ShrU => {
                self.ibin(|t, x, y| Ok(t.b.build_right_shift(x, t.masked(y)?, false, "shr")?))?
            }
            O::I32Rotl | O::I64Rotl => self.rotate("llvm.fshl")?,
            O::I32Rotr | O::I64Rotr => self.rotate("llvm.fshr")?,

            O::F32Abs | O::F64Abs => self.intrinsic_op("llvm.fabs", 1)?,
            O::F32Neg | O::F64Neg => {
                let x = self.pop_float();
                let v = self.b.build_float_neg(x, "neg")?;
                self.push(v);
            }
            O::F32Ceil | O::F64Ceil => self.round(Rounding::Ceil)?,
            O::F32Floor | O::F64Floor => self.round(Rounding::Floor)?,
            O::F32Trunc | O::F64Trunc => self.round(Rounding::Trunc)?,
            O::F32Nearest | O::F64Nearest => self.round(Rounding::Nearest)?,
            O::F32Sqrt | O::F64Sqrt => self.intrinsic_op("llvm.sqrt", 1)?,
            O::F32Add | O::F64Add => {
                self.fbin(|t, x, y| Ok(t.b.build_float_add(x, y, "fadd")?.into()))?
            }
            O::F32Sub | O::F64Sub => {
                self.fbin(|t, x, y| Ok(t.b.build_float_sub(x, y, "fsub")?.into()))?
            }
            O::F32Mul | O::F64Mul => {
                self.fbin(|t, x, y| Ok(t.b.build_float_mul(x, y, "fmul")?.into()))?
            }
            O::F32Div | O::F64Div => {
                self.fbin(|t, x, y| Ok(t.b.build_float_div(x, y, "fdiv")?.into()))?
            }
            // NaN-propagating, -0 < +0: LLVM's minimum/maximum, with a NaN
            // result quieted (wasm requires an arithmetic NaN).
            O::F32Min | O::F64Min => {
                self.intrinsic_op("llvm.minimum", 2)?;
                self.quiet_top()?;
            }
            O::F32Max | O::F64Max => {
                self.intrinsic_op("llvm.maximum", 2)?;
                self.quiet_top()?;
            }
            O::F32Copysign | O::F64Copysign => self.intrinsic_op("llvm.copysign", 2)?,

            O::I32WrapI64 => {
                let x = self.pop_int();
                let v = self.b.build_int_truncate(x, i32t, "wrap")?;
                self.push(v);
            }
            O::I64ExtendI32S => {
                let x = self.pop_int();
                let v = self.b.build_int_s_extend(x, i64t, "ext")?;
                self.push(v);
            }
            O::I64ExtendI32U => {
                let x = self.pop_int();
                let v = self.b.build_int_z_extend(x, i64t, "ext")?;
                self.push(v);
            }
            O::I32TruncF32S | O::I32TruncF64S => self.trunc(i32t, true)?,
            O::I32TruncF32U | O::I32TruncF64U => self.trunc(i32t, false)?,
            O::I64TruncF32S | O::I64TruncF64S => self.trunc(i64t, true)?,
            O::I64TruncF32U | O::I64TruncF64U => self.trunc(i64t, false)?,
            O::I32TruncSatF32S | O::I32TruncSatF64S => self.trunc_sat(i32t, true)?,
            O::I32TruncSatF32U | O::I32TruncSatF64U => self.trunc_sat(i32t, false)?,
            O::I64TruncSatF32S | O::I64TruncSatF64S => self.trunc_sat(i64t, true)?,
            O::I64TruncSatF32U | O::I64TruncSatF64U => self.trunc_sat(i64t, false)?,
            O::F32ConvertI32S | O::F32ConvertI64S => self.convert(f32t, true)?,
            O::F32ConvertI32U | O::F32ConvertI64U => self.convert(f32t, false)?,
            O::F64ConvertI32S | O::F64ConvertI64S => self.convert(f64t, true)?,
            O::F64ConvertI32U | O::F64ConvertI64U => self.convert(f64t, false)?,
            O::F32DemoteF64 => {
                let x = self.pop_float();
                // `demote(promote(y))` folds to `y`: quiet as the spec asks.
                let folds = x
                    .as_instruction()
                    .is_some_and(|i| i.get_opcode() == inkwell::values::InstructionOpcode::FPExt);
                let v = self.b.build_float_trunc(x, f32t, "demote")?;
                self.push(v);
                if folds {
                    self.quiet_top()?;
                }
            }
            O::F64PromoteF32 => {
                let x = self.pop_float();
                let v = self.b.build_float_ext(x, f64t, "promote")?;
                self.push(v);
            }
            O::I32ReinterpretF32 => self.reinterpret(i32t.into())?,
            O::I64ReinterpretF64 => self.reinterpret(i64t.into())?,
            O::F32ReinterpretI32 => self.reinterpret(f32t.into())?,
            O::F64ReinterpretI64 => self.reinterpret(f64t.into())?,
            O::I32Extend8S | O::I64Extend8S => self.sign_extend_low(self.cx.i8_type())?,
            O::I32Extend16S | O::I64Extend16S => self.sign_extend_low(self.cx.i16_type())?,
            O::I64Extend32S => self.sign_extend_low(i32t)?,
            other => self.simd(other)?,
        }
        Ok(())
    }
}

/// Exclusive bounds (exact in the source float type) of the values whose
/// truncation fits the integer type.
fn trunc_bounds(_ft: FloatType<'_>, bits: u32, signed: bool, from_f32: bool) -> (f64, f64) {
    match (bits, signed) {
        (32, true) if from_f32 => (-2147483904.0, 2147483648.0),
        (32, true) => (-2147483649.0, 2147483648.0),
        (32, false) => (-1.0, 4294967296.0),
        (64, true) if from_f32 => (-9223373136366403584.0, 9223372036854775808.0),
        (64, true) => (-9223372036854777856.0, 9223372036854775808.0),
        _ => (-1.0, 18446744073709551616.0),
    }
}

/// ±0.0 or ±1.0: the constants with which LLVM folds an arithmetic
/// operation away (see `fbin`).
fn is_identity_constant(v: FloatValue<'_>) -> bool {
    float_constant(v).is_some_and(|c| c == 0.0 || c.abs() == 1.0)
}

/// The value of `v` if it is a plain floating-point constant. Folding may
/// leave other constants where a value is expected (`poison` from
/// converting a NaN that traps first, `undef`, constant expressions), and
/// asking LLVM for the double value of those crashes it.
pub(super) fn float_constant(v: FloatValue<'_>) -> Option<f64> {
    use inkwell::values::AsValueRef;
    // SAFETY: `v` is a live value of this context; the call only reads its
    // kind.
    let is_fp = unsafe { !inkwell::llvm_sys::core::LLVMIsAConstantFP(v.as_value_ref()).is_null() };
    if !is_fp {
        return None;
    }
    v.get_constant().map(|(c, _)| c)
}
