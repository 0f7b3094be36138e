//! Replaces every operation the target cannot do in hardware by a call to a
//! runtime helper through the builtins table (contract 6), where LLVM would
//! otherwise call a libgcc routine (`__divdi3`, `__addsf3`, ...) that
//! compiled code cannot reach.
//!
//! It runs on the optimised IR, just before code generation, so that the
//! operations LLVM's own passes introduce (a multiply from strength
//! reduction, a narrowed divide) are caught as well as the translator's.
//! What it leaves, code generation expands inline; should a libcall still
//! appear, linking fails and names it. Vector (SIMD) operations whose
//! lanes need helpers are split into one scalar operation per lane first.

use std::collections::BTreeSet;

use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::types::{AnyType, AnyTypeEnum, BasicMetadataTypeEnum, IntType};
use inkwell::values::{
    AsValueRef, BasicValue, BasicValueEnum, CallSiteValue, FloatValue, InstructionOpcode,
    InstructionValue, IntValue,
};
use inkwell::{AddressSpace, FloatPredicate};
use wamr_aot::target::Capabilities;
use wamr_runtime::helpers::{Helper, Width};
use wamr_runtime::vmctx::layout;

use crate::translate::TranslateError;

type Res<T = ()> = Result<T, TranslateError>;

/// Rewrites `llvm` for a target with `caps`; returns the helpers the code
/// now calls. `signext_i32` is set where the C ABI passes 32-bit integers
/// sign-extended in 64-bit registers (riscv64).
pub fn legalize<'ctx>(
    cx: &'ctx Context,
    llvm: &Module<'ctx>,
    caps: Capabilities,
    signext_i32: bool,
) -> Res<BTreeSet<Helper>> {
    rewrite_each(cx, llvm, caps, signext_i32, |rewriter, inst| {
        rewriter.rewrite(inst)
    })
}

/// Replaces every scalar `llvm.fma.f64` call of `llvm` by the `f64_fma`
/// helper; returns the helpers the code now calls. For targets without a
/// fused multiply-add instruction, where LLVM would call `fma` (the
/// translator emits these calls only there, see `simd::fma`). It runs
/// before optimisation, so that no pass joins lanes into a vector `fma`.
pub fn fma_through_helper<'ctx>(
    cx: &'ctx Context,
    llvm: &Module<'ctx>,
    signext_i32: bool,
) -> Res<BTreeSet<Helper>> {
    let caps = Capabilities::for_target("x86_64", "");
    rewrite_each(cx, llvm, caps, signext_i32, |rewriter, inst| {
        let callee = CallSiteValue::try_from(inst)
            .ok()
            .and_then(|c| c.get_called_fn_value());
        if callee.is_some_and(|f| f.get_name().to_bytes() == b"llvm.fma.f64") {
            let args: Vec<_> = (0..3)
                .map(|i| inst.get_operand(i).and_then(|o| o.value()))
                .collect();
            rewriter.replace_float(inst, Helper::F64Fma, &args)?;
        }
        Ok(())
    })
}

/// Calls `rewrite` on every instruction of every function `llvm` defines,
/// with a rewriter for that function; returns the helpers the rewrites
/// call.
fn rewrite_each<'ctx>(
    cx: &'ctx Context,
    llvm: &Module<'ctx>,
    caps: Capabilities,
    signext_i32: bool,
    mut rewrite: impl FnMut(&mut Rewriter<'_, 'ctx>, InstructionValue<'ctx>) -> Res,
) -> Res<BTreeSet<Helper>> {
    let mut used = BTreeSet::new();
    let b = cx.create_builder();
    let mut func = llvm.get_first_function();
    while let Some(f) = func {
        func = f.get_next_function();
        let Some(vmctx) = f.get_first_param().filter(|p| p.is_pointer_value()) else {
            continue; // a declaration or an intrinsic: no body to rewrite
        };
        let mut rewriter = Rewriter {
            cx,
            llvm,
            b: &b,
            caps,
            signext_i32,
            vmctx: vmctx.into_pointer_value(),
            used: &mut used,
        };
        for block in f.get_basic_blocks() {
            let mut next = block.get_first_instruction();
            while let Some(inst) = next {
                next = inst.get_next_instruction();
                rewrite(&mut rewriter, inst)?;
            }
        }
    }
    Ok(used)
}

struct Rewriter<'a, 'ctx> {
    cx: &'ctx Context,
    llvm: &'a Module<'ctx>,
    b: &'a Builder<'ctx>,
    caps: Capabilities,
    signext_i32: bool,
    vmctx: inkwell::values::PointerValue<'ctx>,
    used: &'a mut BTreeSet<Helper>,
}

/// How an integer operand is widened to the helper's width.
#[derive(Clone, Copy)]
enum Extend {
    Zero,
    Sign,
}

impl<'ctx> Rewriter<'_, 'ctx> {
    fn rewrite(&mut self, inst: InstructionValue<'ctx>) -> Res {
        use InstructionOpcode as Op;
        if self.lanes_need_helpers(inst) {
            return self.by_lane(inst);
        }
        let op = |i: u32| inst.get_operand(i).and_then(|o| o.value());
        let ty = inst.get_type();
        match inst.get_opcode() {
            Op::Mul if !self.caps.mul => self.int_binary(inst, ty, Extend::Zero, Helper::I32Mul),
            Op::SDiv => self.divide(inst, ty, Extend::Sign, Helper::I32DivS),
            Op::UDiv => self.divide(inst, ty, Extend::Zero, Helper::I32DivU),
            Op::SRem => self.divide(inst, ty, Extend::Sign, Helper::I32RemS),
            Op::URem => self.divide(inst, ty, Extend::Zero, Helper::I32RemU),
            Op::FAdd | Op::FSub | Op::FMul | Op::FDiv if self.soft(ty) => {
                let is64 = self.is_f64(ty);
                let helper = match (inst.get_opcode(), is64) {
                    (Op::FAdd, false) => Helper::F32Add,
                    (Op::FSub, false) => Helper::F32Sub,
                    (Op::FMul, false) => Helper::F32Mul,
                    (Op::FDiv, false) => Helper::F32Div,
                    (Op::FAdd, true) => Helper::F64Add,
                    (Op::FSub, true) => Helper::F64Sub,
                    (Op::FMul, true) => Helper::F64Mul,
                    _ => Helper::F64Div,
                };
                self.replace_float(inst, helper, &[op(0), op(1)])
            }
            Op::FCmp => {
                let operand_ty = op(0).map(|v| v.get_type().as_any_type_enum());
                match operand_ty {
                    Some(t) if self.soft(t) => self.compare(inst, t),
                    _ => Ok(()),
                }
            }
            Op::FPExt if !self.caps.f64 => {
                self.replace_float(inst, Helper::F64PromoteF32, &[op(0)])
            }
            Op::FPTrunc if !self.caps.f64 => {
                self.replace_float(inst, Helper::F32DemoteF64, &[op(0)])
            }
            Op::FPToSI | Op::FPToUI => {
                let signed = inst.get_opcode() == Op::FPToSI;
                self.float_to_int(inst, op(0), signed, false)
            }
            Op::SIToFP | Op::UIToFP => {
                let signed = inst.get_opcode() == Op::SIToFP;
                self.int_to_float(inst, op(0), signed)
            }
            Op::Call => self.intrinsic(inst),
            _ => Ok(()),
        }
    }

    /// Whether `inst` works on vectors (SIMD code) and a lane of it needs
    /// a helper as the scalar operation would. Without V, code generation
    /// splits every vector into lanes anyway; splitting here first lets
    /// each lane be rewritten as a scalar is, where LLVM would otherwise
    /// call libgcc per lane or fail to soften the operation at all.
    fn lanes_need_helpers(&self, inst: InstructionValue<'ctx>) -> bool {
        use InstructionOpcode as Op;
        let lane = |t: AnyTypeEnum<'ctx>| match t {
            AnyTypeEnum::VectorType(v) => Some(v.get_element_type().as_any_type_enum()),
            _ => None,
        };
        let Some(res) = lane(inst.get_type()) else {
            return false;
        };
        let src = inst
            .get_operand(0)
            .and_then(|o| o.value())
            .and_then(|v| lane(v.get_type().as_any_type_enum()));
        let wide = |t: Option<AnyTypeEnum<'ctx>>| {
            t.and_then(Self::int_width)
                .is_some_and(|b| b > self.caps.xlen)
        };
        let soft = |t: Option<AnyTypeEnum<'ctx>>| t.is_some_and(|t| self.soft(t));
        let res = Some(res);
        match inst.get_opcode() {
            Op::Mul => !self.caps.mul,
            Op::SDiv | Op::UDiv | Op::SRem | Op::URem => !self.caps.div || wide(res),
            Op::FAdd | Op::FSub | Op::FMul | Op::FDiv => soft(res),
            Op::FCmp => soft(src),
            Op::FPExt | Op::FPTrunc => !self.caps.f64,
            Op::FPToSI | Op::FPToUI => soft(src) || wide(res),
            Op::SIToFP | Op::UIToFP => soft(res) || wide(src),
            Op::Call => match intrinsic_name(inst).as_deref().map(family) {
                Some((f, false)) if FLOAT_FAMILIES.contains(&f) => soft(res),
                Some(("fptosi" | "fptoui", true)) => soft(src) || wide(res),
                Some(("ctpop" | "ctlz" | "cttz", _)) => !self.caps.mul && !self.caps.bit_count,
                _ => false,
            },
            _ => false,
        }
    }

    /// Replaces the vector operation `inst` by one scalar operation per
    /// lane, and rewrites each of those.
    fn by_lane(&mut self, inst: InstructionValue<'ctx>) -> Res {
        use InstructionOpcode as Op;
        let AnyTypeEnum::VectorType(vt) = inst.get_type() else {
            return Ok(());
        };
        let opcode = inst.get_opcode();
        let lane_ty = vt.get_element_type();
        // A call's last operand is the callee.
        let (count, callee) = match CallSiteValue::try_from(inst) {
            Ok(call) => (
                call.count_arguments(),
                Some(self.scalar_intrinsic(inst, lane_ty)?),
            ),
            Err(_) => (inst.get_num_operands(), None),
        };
        let operands: Vec<BasicValueEnum<'ctx>> = (0..count)
            .map(|i| inst.get_operand(i).and_then(|o| o.value()))
            .collect::<Option<_>>()
            .ok_or_else(|| unsupported(inst, "a missing operand"))?;
        self.b.position_before(&inst);
        let i32t = self.cx.i32_type();
        let mut out = vt.get_poison();
        let mut lanes = Vec::new();
        for i in 0..vt.get_size() {
            let at = i32t.const_int(u64::from(i), false);
            let mut args = Vec::new();
            for &v in &operands {
                args.push(match v {
                    BasicValueEnum::VectorValue(v) => self.b.build_extract_element(v, at, "x")?,
                    other => other,
                });
            }
            let r: BasicValueEnum = match (opcode, callee) {
                (Op::FCmp, _) => {
                    let pred = inst
                        .get_fcmp_predicate()
                        .ok_or_else(|| unsupported(inst, "an fcmp without predicate"))?;
                    let (x, y) = (args[0].into_float_value(), args[1].into_float_value());
                    self.b.build_float_compare(pred, x, y, "lane")?.into()
                }
                (Op::FPExt | Op::FPTrunc | Op::FPToSI | Op::FPToUI, _)
                | (Op::SIToFP | Op::UIToFP, _) => {
                    self.b.build_cast(opcode, args[0], lane_ty, "lane")?
                }
                (Op::Call, Some(f)) => {
                    let args: Vec<_> = args.iter().map(|&a| a.into()).collect();
                    self.b
                        .build_call(f, &args, "lane")?
                        .try_as_basic_value()
                        .basic()
                        .ok_or_else(|| unsupported(inst, "a call without result"))?
                }
                _ => self.b.build_binop(opcode, args[0], args[1], "lane")?,
            };
            lanes.extend(r.as_instruction_value());
            out = self.b.build_insert_element(out, r, at, "lanes")?;
        }
        // SAFETY: both are live values of the same vector type; `inst` is
        // erased right after and never used again.
        unsafe {
            inkwell::llvm_sys::core::LLVMReplaceAllUsesWith(
                inst.as_value_ref(),
                out.as_value_ref(),
            );
        }
        inst.erase_from_basic_block();
        for lane in lanes {
            self.rewrite(lane)?;
        }
        Ok(())
    }

    /// The declaration of the scalar form of the intrinsic `inst` calls,
    /// whose result lanes are `lane_ty`.
    fn scalar_intrinsic(
        &self,
        inst: InstructionValue<'ctx>,
        lane_ty: inkwell::types::BasicTypeEnum<'ctx>,
    ) -> Res<inkwell::values::FunctionValue<'ctx>> {
        let missing = || unsupported(inst, "an unknown intrinsic");
        let name = intrinsic_name(inst).ok_or_else(missing)?;
        let (fam, sat) = family(&name);
        let generic = format!("llvm.{fam}{}", if sat { ".sat" } else { "" });
        let intrinsic = inkwell::intrinsics::Intrinsic::find(&generic).ok_or_else(missing)?;
        let mut types = vec![lane_ty];
        if sat {
            // Overloaded on the result and on the source.
            let src = inst
                .get_operand(0)
                .and_then(|o| o.value())
                .map(|v| v.into_vector_value().get_type().get_element_type())
                .ok_or_else(missing)?;
            types.push(src);
        }
        intrinsic
            .get_declaration(self.llvm, &types)
            .ok_or_else(missing)
    }

    /// Whether float type `ty` has no hardware arithmetic.
    fn soft(&self, ty: AnyTypeEnum<'ctx>) -> bool {
        match ty {
            AnyTypeEnum::FloatType(t) if t == self.cx.f32_type() => !self.caps.f32,
            AnyTypeEnum::FloatType(t) if t == self.cx.f64_type() => !self.caps.f64,
            _ => false,
        }
    }

    fn is_f64(&self, ty: AnyTypeEnum<'ctx>) -> bool {
        ty == self.cx.f64_type().into()
    }

    fn int_width(ty: AnyTypeEnum<'ctx>) -> Option<u32> {
        match ty {
            AnyTypeEnum::IntType(t) => Some(t.get_bit_width()),
            _ => None,
        }
    }

    /// `sdiv`/`udiv`/`srem`/`urem`: a helper without M, and for 64 bits on
    /// riscv32.
    fn divide(
        &mut self,
        inst: InstructionValue<'ctx>,
        ty: AnyTypeEnum<'ctx>,
        extend: Extend,
        helper32: Helper,
    ) -> Res {
        let Some(bits) = Self::int_width(ty) else {
            return Ok(());
        };
        if self.caps.div && bits <= self.caps.xlen {
            return Ok(());
        }
        self.int_binary(inst, ty, extend, helper32)
    }

    /// An integer binary operation through `helper32` or its 64-bit twin.
    fn int_binary(
        &mut self,
        inst: InstructionValue<'ctx>,
        ty: AnyTypeEnum<'ctx>,
        extend: Extend,
        helper32: Helper,
    ) -> Res {
        let Some(bits) = Self::int_width(ty) else {
            return Err(unsupported(inst, "a vector"));
        };
        let helper = match bits {
            0..=32 => helper32,
            33..=64 => wide(helper32),
            _ => return Err(unsupported(inst, "wider than 64 bits")),
        };
        let args = [
            self.operand_int(inst, 0, helper, extend)?,
            self.operand_int(inst, 1, helper, extend)?,
        ];
        self.b.position_before(&inst);
        let r = self.call(helper, &args)?;
        let r = self
            .b
            .build_int_truncate_or_bit_cast(r, ty.into_int_type(), "r")?;
        replace_int(inst, r);
        Ok(())
    }

    /// Operand `i` of `inst`, an integer widened to the helper's width.
    fn operand_int(
        &self,
        inst: InstructionValue<'ctx>,
        i: u32,
        helper: Helper,
        extend: Extend,
    ) -> Res<BasicValueEnum<'ctx>> {
        let v = inst
            .get_operand(i)
            .and_then(|o| o.value())
            .ok_or_else(|| unsupported(inst, "a missing operand"))?;
        self.b.position_before(&inst);
        let to = self.width_type(helper.params()[i as usize]);
        Ok(self.widen(v.into_int_value(), to, extend)?.into())
    }

    fn widen(&self, v: IntValue<'ctx>, to: IntType<'ctx>, extend: Extend) -> Res<IntValue<'ctx>> {
        if v.get_type().get_bit_width() == to.get_bit_width() {
            return Ok(v);
        }
        Ok(match extend {
            Extend::Zero => self.b.build_int_z_extend(v, to, "zx")?,
            Extend::Sign => self.b.build_int_s_extend(v, to, "sx")?,
        })
    }

    fn width_type(&self, w: Width) -> IntType<'ctx> {
        match w {
            Width::W32 => self.cx.i32_type(),
            Width::W64 => self.cx.i64_type(),
        }
    }

    /// A float operation through `helper`, operands and result as bits.
    fn replace_float(
        &mut self,
        inst: InstructionValue<'ctx>,
        helper: Helper,
        operands: &[Option<BasicValueEnum<'ctx>>],
    ) -> Res {
        self.b.position_before(&inst);
        let mut args = Vec::new();
        for (i, v) in operands.iter().enumerate() {
            let v = v.ok_or_else(|| unsupported(inst, "a missing operand"))?;
            args.push(self.to_bits(v, helper.params()[i])?);
        }
        let r = self.call(helper, &args)?;
        self.replace_float_result(inst, r)
    }

    /// Replaces the float-valued `inst` by the float with bits `r`.
    fn replace_float_result(&self, inst: InstructionValue<'ctx>, r: IntValue<'ctx>) -> Res {
        let result = FloatValue::try_from(inst).map_err(|_| unsupported(inst, "a non-float"))?;
        let r = self.b.build_bit_cast(r, result.get_type(), "f")?;
        result.replace_all_uses_with(r.into_float_value());
        inst.erase_from_basic_block();
        Ok(())
    }

    /// A float or integer value as the integer bits a helper takes.
    fn to_bits(&self, v: BasicValueEnum<'ctx>, w: Width) -> Res<BasicValueEnum<'ctx>> {
        let to = self.width_type(w);
        Ok(match v {
            BasicValueEnum::FloatValue(_) => self.b.build_bit_cast(v, to, "bits")?,
            BasicValueEnum::IntValue(i) => self.widen(i, to, Extend::Zero)?.into(),
            _ => v,
        })
    }

    /// `fcmp` through the `eq`, `lt`, `le` and `unord` helpers.
    fn compare(&mut self, inst: InstructionValue<'ctx>, ty: AnyTypeEnum<'ctx>) -> Res {
        use FloatPredicate as P;
        let pred = inst
            .get_fcmp_predicate()
            .ok_or_else(|| unsupported(inst, "an fcmp without predicate"))?;
        let x = inst.get_operand(0).and_then(|o| o.value());
        let y = inst.get_operand(1).and_then(|o| o.value());
        let (Some(x), Some(y)) = (x, y) else {
            return Err(unsupported(inst, "a missing operand"));
        };
        let is64 = self.is_f64(ty);
        let pick = |h32, h64| if is64 { h64 } else { h32 };
        let (eq, lt, le, unord) = (
            pick(Helper::F32Eq, Helper::F64Eq),
            pick(Helper::F32Lt, Helper::F64Lt),
            pick(Helper::F32Le, Helper::F64Le),
            pick(Helper::F32Unord, Helper::F64Unord),
        );
        self.b.position_before(&inst);
        let w = eq.params()[0];
        let (xb, yb) = (self.to_bits(x, w)?, self.to_bits(y, w)?);
        // (helper, swap operands, negate result); ONE/UEQ need two calls.
        let one = |h, swap, negate| Some((h, swap, negate));
        let plan = match pred {
            P::OEQ => one(eq, false, false),
            P::UNE => one(eq, false, true),
            P::OLT => one(lt, false, false),
            P::OGT => one(lt, true, false),
            P::OLE => one(le, false, false),
            P::OGE => one(le, true, false),
            P::UGE => one(lt, false, true),
            P::ULE => one(lt, true, true),
            P::UGT => one(le, false, true),
            P::ULT => one(le, true, true),
            P::UNO => one(unord, false, false),
            P::ORD => one(unord, false, true),
            _ => None,
        };
        let bool_t = self.cx.bool_type();
        let result = match (plan, pred) {
            (Some((h, swap, negate)), _) => {
                let (a, c) = if swap { (yb, xb) } else { (xb, yb) };
                let r = self.call(h, &[a, c])?;
                let zero = r.get_type().const_zero();
                let pred = if negate {
                    inkwell::IntPredicate::EQ
                } else {
                    inkwell::IntPredicate::NE
                };
                self.b.build_int_compare(pred, r, zero, "c")?
            }
            (None, P::ONE | P::UEQ) => {
                let a = self.call(lt, &[xb, yb])?;
                let c = self.call(lt, &[yb, xb])?;
                let either = self.b.build_or(a, c, "ne")?;
                let zero = either.get_type().const_zero();
                let pred = if pred == P::ONE {
                    inkwell::IntPredicate::NE
                } else {
                    inkwell::IntPredicate::EQ
                };
                self.b.build_int_compare(pred, either, zero, "c")?
            }
            (None, P::PredicateTrue) => bool_t.const_all_ones(),
            _ => bool_t.const_zero(),
        };
        replace_int(inst, result);
        Ok(())
    }

    /// `fptosi`/`fptoui` (in range, or LLVM makes the result poison, so the
    /// saturating helper computes it exactly) and, `saturate`d,
    /// `fpto{s,u}i.sat`, which the helpers do to 32 and 64 bits only.
    fn float_to_int(
        &mut self,
        inst: InstructionValue<'ctx>,
        x: Option<BasicValueEnum<'ctx>>,
        signed: bool,
        saturate: bool,
    ) -> Res {
        let Some(x) = x else { return Ok(()) };
        let (Some(bits), src) = (Self::int_width(inst.get_type()), x.get_type()) else {
            return Ok(());
        };
        let src = src.as_any_type_enum();
        if !self.soft(src) && bits <= self.caps.xlen {
            return Ok(());
        }
        if bits > 64 || (saturate && bits != 32 && bits != 64) {
            return Err(unsupported(inst, "a saturating conversion to an odd width"));
        }
        let helper = trunc_sat_helper(self.is_f64(src), bits > 32, signed);
        self.b.position_before(&inst);
        let xb = self.to_bits(x, helper.params()[0])?;
        let r = self.call(helper, &[xb])?;
        let r = self
            .b
            .build_int_truncate_or_bit_cast(r, inst.get_type().into_int_type(), "r")?;
        replace_int(inst, r);
        Ok(())
    }

    /// `sitofp`/`uitofp`.
    fn int_to_float(
        &mut self,
        inst: InstructionValue<'ctx>,
        x: Option<BasicValueEnum<'ctx>>,
        signed: bool,
    ) -> Res {
        let Some(x) = x else { return Ok(()) };
        let Some(bits) = Self::int_width(x.get_type().as_any_type_enum()) else {
            return Ok(());
        };
        let dst = inst.get_type();
        if !self.soft(dst) && bits <= self.caps.xlen {
            return Ok(());
        }
        if bits > 64 {
            return Err(unsupported(inst, "wider than 64 bits"));
        }
        let helper = convert_helper(self.is_f64(dst), bits > 32, signed);
        self.b.position_before(&inst);
        let extend = if signed { Extend::Sign } else { Extend::Zero };
        let to = self.width_type(helper.params()[0]);
        let arg = self.widen(x.into_int_value(), to, extend)?;
        let r = self.call(helper, &[arg.into()])?;
        self.replace_float_result(inst, r)
    }

    /// Calls of LLVM intrinsics that become libcalls on this target.
    fn intrinsic(&mut self, inst: InstructionValue<'ctx>) -> Res {
        let Ok(call) = CallSiteValue::try_from(inst) else {
            return Ok(());
        };
        let Some(callee) = call.get_called_fn_value() else {
            return Ok(());
        };
        let name = callee.get_name().to_string_lossy().into_owned();
        let Some(base) = name.strip_prefix("llvm.") else {
            return Ok(());
        };
        let family = base.split('.').next().unwrap_or("");
        let arg0 = inst.get_operand(0).and_then(|o| o.value());
        let ty = inst.get_type();
        match family {
            f if FLOAT_FAMILIES.contains(&f) && self.soft(ty) => {
                let is64 = self.is_f64(ty);
                let helper = float_intrinsic_helper(family, is64);
                let arity = helper.params().len() as u32;
                let args: Vec<_> = (0..arity)
                    .map(|i| inst.get_operand(i).and_then(|o| o.value()))
                    .collect();
                self.replace_float(inst, helper, &args)
            }
            "fptosi" | "fptoui" if base.contains(".sat.") => {
                self.float_to_int(inst, arg0, family == "fptosi", true)
            }
            "umul" | "smul" if base.contains(".with.overflow.") => {
                let Some(bits) = inst
                    .get_operand(0)
                    .and_then(|o| o.value())
                    .and_then(|v| Self::int_width(v.get_type().as_any_type_enum()))
                else {
                    return Ok(());
                };
                if self.caps.mul && bits <= self.caps.xlen {
                    return Ok(());
                }
                self.mul_with_overflow(inst, family == "smul", bits)
            }
            "ctpop" | "ctlz" | "cttz" if !self.caps.mul && !self.caps.bit_count => {
                let (Some(x), Some(bits)) = (arg0, Self::int_width(ty)) else {
                    return Ok(());
                };
                self.bit_count(inst, family, x.into_int_value(), bits)
            }
            _ => Ok(()),
        }
    }

    /// `{u,s}mul.with.overflow`: the product from a 64-bit multiply; for
    /// 32 bits and less, overflow when the wide product does not fit, for
    /// 64 bits when dividing it by one factor does not give the other.
    fn mul_with_overflow(&mut self, inst: InstructionValue<'ctx>, signed: bool, bits: u32) -> Res {
        if bits > 64 {
            return Err(unsupported(inst, "wider than 64 bits"));
        }
        let operand = |i| {
            inst.get_operand(i)
                .and_then(|o| o.value())
                .map(|v| v.into_int_value())
                .ok_or_else(|| unsupported(inst, "a missing operand"))
        };
        let (a, c) = (operand(0)?, operand(1)?);
        let call = CallSiteValue::try_from(inst).map_err(|_| unsupported(inst, "a non-call"))?;
        let Some(BasicValueEnum::StructValue(old)) = call.try_as_basic_value().basic() else {
            return Err(unsupported(inst, "a non-struct result"));
        };
        self.b.position_before(&inst);
        let i64t = self.cx.i64_type();
        let extend = if signed { Extend::Sign } else { Extend::Zero };
        let (wa, wc) = (self.widen(a, i64t, extend)?, self.widen(c, i64t, extend)?);
        let product = self.mul64(wa, wc)?;
        let low = self
            .b
            .build_int_truncate_or_bit_cast(product, a.get_type(), "lo")?;
        let overflow = if bits < 64 {
            let back = self.widen(low, i64t, extend)?;
            self.b
                .build_int_compare(inkwell::IntPredicate::NE, back, product, "ovf")?
        } else {
            use inkwell::IntPredicate as I;
            let zero = i64t.const_zero();
            let nonzero = self.b.build_int_compare(I::NE, wa, zero, "nz")?;
            let divisor = self
                .b
                .build_select(nonzero, wa, i64t.const_int(1, false), "d")?
                .into_int_value();
            let helper = if signed {
                Helper::I64DivS
            } else {
                Helper::I64DivU
            };
            let quotient = self.call(helper, &[product.into(), divisor.into()])?;
            let differs = self.b.build_int_compare(I::NE, quotient, wc, "q")?;
            let mut bad = self.b.build_and(nonzero, differs, "bad")?;
            if signed {
                // MIN * -1 wraps to MIN, and MIN / -1 wraps back to MIN.
                let minus1 = self
                    .b
                    .build_int_compare(I::EQ, wa, i64t.const_all_ones(), "m1")?;
                let min =
                    self.b
                        .build_int_compare(I::EQ, wc, i64t.const_int(1 << 63, false), "min")?;
                let both = self.b.build_and(minus1, min, "mm")?;
                bad = self.b.build_or(bad, both, "ovf")?;
            }
            bad
        };
        let ty = old.get_type();
        let agg = self
            .b
            .build_insert_value(ty.get_undef(), low, 0, "r")?
            .into_struct_value();
        let agg = self
            .b
            .build_insert_value(agg, overflow, 1, "r")?
            .into_struct_value();
        old.replace_all_uses_with(agg);
        inst.erase_from_basic_block();
        Ok(())
    }

    /// A 64-bit multiply: inline with a multiplier, else the helper.
    fn mul64(&mut self, a: IntValue<'ctx>, c: IntValue<'ctx>) -> Res<IntValue<'ctx>> {
        if self.caps.mul {
            Ok(self.b.build_int_mul(a, c, "mul")?)
        } else {
            self.call(Helper::I64Mul, &[a.into(), c.into()])
        }
    }

    /// `ctpop`/`ctlz`/`cttz` of any width up to 64 through the 32- or 64-bit
    /// helper (without a multiplier LLVM's expansions would multiply).
    fn bit_count(
        &mut self,
        inst: InstructionValue<'ctx>,
        family: &str,
        x: IntValue<'ctx>,
        bits: u32,
    ) -> Res {
        let wide_op = bits > 32;
        if bits > 64 {
            return Err(unsupported(inst, "wider than 64 bits"));
        }
        let helper = match (family, wide_op) {
            ("ctpop", false) => Helper::I32Popcnt,
            ("ctlz", false) => Helper::I32Clz,
            ("cttz", false) => Helper::I32Ctz,
            ("ctpop", true) => Helper::I64Popcnt,
            ("ctlz", true) => Helper::I64Clz,
            _ => Helper::I64Ctz,
        };
        self.b.position_before(&inst);
        let to = self.width_type(helper.params()[0]);
        let full = to.get_bit_width();
        let mut arg = self.widen(x, to, Extend::Zero)?;
        if family == "cttz" && bits < full {
            // A zero input must count `bits`, not the helper's width.
            arg = self
                .b
                .build_or(arg, to.const_int(1u64 << bits, false), "stop")?;
        }
        let mut r = self.call(helper, &[arg.into()])?;
        if family == "ctlz" && bits < full {
            r = self
                .b
                .build_int_sub(r, to.const_int(u64::from(full - bits), false), "lz")?;
        }
        let r = self
            .b
            .build_int_truncate_or_bit_cast(r, x.get_type(), "r")?;
        replace_int(inst, r);
        Ok(())
    }

    /// Calls `helper` through `vmctx->builtins->helpers[helper]`.
    fn call(&mut self, helper: Helper, args: &[BasicValueEnum<'ctx>]) -> Res<IntValue<'ctx>> {
        self.used.insert(helper);
        let ptr = self.cx.ptr_type(AddressSpace::default());
        let i8t = self.cx.i8_type();
        let i64t = self.cx.i64_type();
        let at = |base, offset: usize, name| -> Res<_> {
            // SAFETY (IR): offsets from `wamr_runtime::vmctx::layout`.
            let field = unsafe {
                self.b
                    .build_gep(i8t, base, &[i64t.const_int(offset as u64, false)], name)?
            };
            Ok(self.b.build_load(ptr, field, name)?.into_pointer_value())
        };
        let builtins = at(self.vmctx, layout::VMCTX_BUILTINS, "builtins")?;
        let slot = layout::BUILTIN_HELPERS + 8 * helper as usize;
        let target = at(builtins, slot, helper.name())?;
        let params: Vec<BasicMetadataTypeEnum> = helper
            .params()
            .iter()
            .map(|&w| self.width_type(w).into())
            .collect();
        let fn_type = self.width_type(helper.result()).fn_type(&params, false);
        let args: Vec<_> = args.iter().map(|&a| a.into()).collect();
        let call = self
            .b
            .build_indirect_call(fn_type, target, &args, helper.name())?;
        if self.signext_i32 {
            let signext = self
                .cx
                .create_enum_attribute(Attribute::get_named_enum_kind_id("signext"), 0);
            for (i, &w) in helper.params().iter().enumerate() {
                if w == Width::W32 {
                    call.add_attribute(AttributeLoc::Param(i as u32), signext);
                }
            }
        }
        Ok(call
            .try_as_basic_value()
            .basic()
            .expect("helpers return a value")
            .into_int_value())
    }
}

/// The float intrinsics with a helper per scalar type.
const FLOAT_FAMILIES: [&str; 9] = [
    "sqrt",
    "minimum",
    "maximum",
    "ceil",
    "floor",
    "trunc",
    "roundeven",
    "nearbyint",
    "rint",
];

/// The name of the LLVM intrinsic `inst` calls, without `llvm.`.
fn intrinsic_name(inst: InstructionValue<'_>) -> Option<String> {
    let callee = CallSiteValue::try_from(inst).ok()?.get_called_fn_value()?;
    let name = callee.get_name().to_str().ok()?;
    name.strip_prefix("llvm.").map(str::to_string)
}

/// An intrinsic's family (`fptosi` of `fptosi.sat.i32.f32`) and whether it
/// saturates.
fn family(base: &str) -> (&str, bool) {
    let family = base.split('.').next().unwrap_or("");
    (family, base.starts_with(&format!("{family}.sat.")))
}

/// Replaces the integer-valued `inst` by `value` and deletes it.
fn replace_int<'ctx>(inst: InstructionValue<'ctx>, value: IntValue<'ctx>) {
    if let Ok(old) = IntValue::try_from(inst) {
        old.replace_all_uses_with(value);
    }
    inst.erase_from_basic_block();
}

fn unsupported(inst: InstructionValue<'_>, what: &str) -> TranslateError {
    TranslateError::Unsupported(format!(
        "{:?} on {what} needs a runtime helper that does not exist",
        inst.get_opcode()
    ))
}

/// The 64-bit twin of a 32-bit integer helper.
fn wide(helper32: Helper) -> Helper {
    match helper32 {
        Helper::I32Mul => Helper::I64Mul,
        Helper::I32DivS => Helper::I64DivS,
        Helper::I32DivU => Helper::I64DivU,
        Helper::I32RemS => Helper::I64RemS,
        Helper::I32RemU => Helper::I64RemU,
        other => other,
    }
}

fn trunc_sat_helper(from_f64: bool, to_i64: bool, signed: bool) -> Helper {
    match (to_i64, from_f64, signed) {
        (false, false, true) => Helper::I32TruncSatF32S,
        (false, false, false) => Helper::I32TruncSatF32U,
        (false, true, true) => Helper::I32TruncSatF64S,
        (false, true, false) => Helper::I32TruncSatF64U,
        (true, false, true) => Helper::I64TruncSatF32S,
        (true, false, false) => Helper::I64TruncSatF32U,
        (true, true, true) => Helper::I64TruncSatF64S,
        (true, true, false) => Helper::I64TruncSatF64U,
    }
}

fn convert_helper(to_f64: bool, from_i64: bool, signed: bool) -> Helper {
    match (to_f64, from_i64, signed) {
        (false, false, true) => Helper::F32ConvertI32S,
        (false, false, false) => Helper::F32ConvertI32U,
        (false, true, true) => Helper::F32ConvertI64S,
        (false, true, false) => Helper::F32ConvertI64U,
        (true, false, true) => Helper::F64ConvertI32S,
        (true, false, false) => Helper::F64ConvertI32U,
        (true, true, true) => Helper::F64ConvertI64S,
        (true, true, false) => Helper::F64ConvertI64U,
    }
}

fn float_intrinsic_helper(family: &str, is64: bool) -> Helper {
    let (h32, h64) = match family {
        "sqrt" => (Helper::F32Sqrt, Helper::F64Sqrt),
        "minimum" => (Helper::F32Min, Helper::F64Min),
        "maximum" => (Helper::F32Max, Helper::F64Max),
        "ceil" => (Helper::F32Ceil, Helper::F64Ceil),
        "floor" => (Helper::F32Floor, Helper::F64Floor),
        "trunc" => (Helper::F32Trunc, Helper::F64Trunc),
        // roundeven, nearbyint, rint: round to nearest, ties to even.
        _ => (Helper::F32Nearest, Helper::F64Nearest),
    };
    if is64 { h64 } else { h32 }
}
