//! `ceil`, `floor`, `trunc` and `nearest` without libcalls (contract 6).
//!
//! With SSE4.1 (x86-64-v2 and up) LLVM has an instruction for each; at the
//! SSE2 baseline, and on RISC-V, it would call `ceilf` and friends, which
//! compiled code cannot reach. There they are built from conversions: a
//! float of magnitude below 2^mantissa-bits is truncated exactly through an
//! i64, and rounded to nearest-even by adding and subtracting 2^mantissa
//! (exact in the hardware's round-to-nearest-even mode). Larger values,
//! infinities and NaNs are already integral and pass through (NaNs
//! quieted).

use inkwell::FloatPredicate;
use inkwell::values::FloatValue;

use super::TranslateError as CompileError;
use super::func::FuncTranslator;

type Res<T = ()> = Result<T, CompileError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rounding {
    Ceil,
    Floor,
    Trunc,
    Nearest,
}

impl Rounding {
    fn intrinsic(self) -> &'static str {
        match self {
            Rounding::Ceil => "llvm.ceil",
            Rounding::Floor => "llvm.floor",
            Rounding::Trunc => "llvm.trunc",
            Rounding::Nearest => "llvm.roundeven",
        }
    }
}

impl<'ctx> FuncTranslator<'_, 'ctx> {
    /// Rounds the top of the stack.
    pub(super) fn round(&mut self, mode: Rounding) -> Res {
        if !self.options.inline_rounding {
            return self.intrinsic_op(mode.intrinsic(), 1);
        }
        let x = self.pop_float();
        let ft = x.get_type();
        let mantissa_bits = if ft == self.cx.f32_type() { 23 } else { 52 };
        let limit = ft.const_float(2f64.powi(mantissa_bits));
        let abs = self.float_intrinsic("llvm.fabs", &[x])?;
        let small = self
            .b
            .build_float_compare(FloatPredicate::OLT, abs, limit, "small")?;
        let rounded = if mode == Rounding::Nearest {
            let up = self.b.build_float_add(abs, limit, "up")?;
            let down = self.b.build_float_sub(up, limit, "down")?;
            self.float_intrinsic("llvm.copysign", &[down, x])?
        } else {
            // Poison for large values and NaN, but then not selected.
            let i = self.b.build_float_to_signed_int(x, self.i64(), "i")?;
            let t = self.b.build_signed_int_to_float(i, ft, "t")?;
            let t = self.float_intrinsic("llvm.copysign", &[t, x])?;
            let one = ft.const_float(1.0);
            match mode {
                Rounding::Trunc => t,
                Rounding::Floor => {
                    let above = self
                        .b
                        .build_float_compare(FloatPredicate::OGT, t, x, "above")?;
                    let less = self.b.build_float_sub(t, one, "less")?;
                    self.b
                        .build_select(above, less, t, "floor")?
                        .into_float_value()
                }
                Rounding::Ceil | Rounding::Nearest => {
                    let below = self
                        .b
                        .build_float_compare(FloatPredicate::OLT, t, x, "below")?;
                    let more = self.b.build_float_add(t, one, "more")?;
                    self.b
                        .build_select(below, more, t, "ceil")?
                        .into_float_value()
                }
            }
        };
        let v = self.b.build_select(small, rounded, x, "round")?;
        self.push(v);
        // NaN passed through: make it an arithmetic NaN as wasm asks.
        self.quiet_top()
    }

    fn float_intrinsic(&self, name: &str, args: &[FloatValue<'ctx>]) -> Res<FloatValue<'ctx>> {
        let ty = args[0].get_type();
        let args: Vec<_> = args.iter().map(|&a| a.into()).collect();
        Ok(self
            .call_intrinsic(name, &[ty.into()], &args)?
            .into_float_value())
    }
}
