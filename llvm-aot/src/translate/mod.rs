//! wasm -> LLVM IR, one LLVM module per wasm module.
//!
//! The code this produces follows one ABI, shared with the runtime through
//! `wamr_runtime::vmctx` (contract 6):
//!
//! - Defined function `i` becomes `wasm_f{i}(ptr vmctx, params...) -> results`
//!   (a struct when there are several), called directly by other compiled
//!   functions of the module.
//! - Its array-call trampoline `wasm_t{i}(ptr vmctx, ptr values)` reads the
//!   arguments from 64-bit slots (the interpreter's encoding: i32 and f32
//!   zero-extended), calls the function and writes the results back; hosts
//!   and other tiers enter compiled code only through trampolines.
//! - Imports and callees without native code are reached through the
//!   `call_func` builtin; memory.grow and traps through builtins as well.
//!   Nothing else is referenced: the object has no undefined symbols.
//! - A trap calls `raise_trap` and returns at once; after every call the
//!   callee's pending-trap flag is checked and the caller returns too.

mod func;
mod numeric;
mod ops;
mod rounding;
mod simd;
mod vm;

use inkwell::AddressSpace;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module as LlvmModule};
use inkwell::types::{BasicMetadataTypeEnum, BasicType, BasicTypeEnum, FunctionType};
use inkwell::values::FunctionValue;
use wamr_runtime::{FuncType, Module, ValType};

/// Why a module could not be translated.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// Valid wasm that the AOT tier does not compile yet.
    #[error("not supported by the AOT tier: {0}")]
    Unsupported(String),
    /// LLVM refused the IR being built (a translator bug).
    #[error("LLVM IR construction failed: {0}")]
    Llvm(String),
}

impl TranslateError {
    pub(crate) fn llvm(msg: impl std::fmt::Display) -> Self {
        TranslateError::Llvm(msg.to_string())
    }
}

impl From<inkwell::builder::BuilderError> for TranslateError {
    fn from(e: inkwell::builder::BuilderError) -> Self {
        TranslateError::llvm(e)
    }
}

use TranslateError as CompileError;

/// LLVM's `tailcc` calling convention: `return_call` can be a guaranteed
/// tail call whatever the signatures.
pub(crate) const TAILCC: u32 = 18;
/// LLVM's C calling convention.
pub(crate) const CCC: u32 = 0;

/// The calling convention of every native entry for `llvm`'s target:
/// `tailcc` where LLVM 19 supports it (x86_64). RISC-V lacks it there and
/// uses the C convention, under which `musttail` needs identical
/// signatures; other `return_call`s become a call and a return.
pub(crate) fn native_call_conv(llvm: &LlvmModule<'_>) -> u32 {
    let triple = llvm.get_triple();
    if triple.as_str().to_bytes().starts_with(b"x86_64") {
        TAILCC
    } else {
        CCC
    }
}

/// Attributes of every function this module defines:
/// - needing nothing outside the object: `nounwind` (no `.eh_frame`),
///   `no-builtins` (no loop turned into a `memset` or `memcpy` call, which
///   compiled code could not reach);
/// - the first parameter is a live VM context: non-null, aligned, and its
///   fields readable anywhere, so LLVM may hoist their loads out of loops.
fn self_contained<'ctx>(cx: &'ctx Context, f: FunctionValue<'ctx>) {
    use inkwell::attributes::{Attribute, AttributeLoc};
    let attr = |name: &str, value: u64| {
        cx.create_enum_attribute(Attribute::get_named_enum_kind_id(name), value)
    };
    f.add_attribute(AttributeLoc::Function, attr("nounwind", 0));
    f.add_attribute(
        AttributeLoc::Function,
        cx.create_string_attribute("no-builtins", ""),
    );
    let vmctx = AttributeLoc::Param(0);
    f.add_attribute(vmctx, attr("nonnull", 0));
    f.add_attribute(vmctx, attr("align", 8));
    f.add_attribute(
        vmctx,
        attr(
            "dereferenceable",
            wamr_runtime::vmctx::layout::VMCTX_SIZE as u64,
        ),
    );
}

/// Symbol of defined function `index`'s native entry.
pub fn func_symbol(index: u32) -> String {
    format!("wasm_f{index}")
}

/// Symbol of defined function `index`'s array-call trampoline.
pub fn trampoline_symbol(index: u32) -> String {
    format!("wasm_t{index}")
}

/// Symbol of defined function `index`'s OSR entry
/// `(vmctx, frame: *mut u64, loop: u32)` (see `wamr_aot::FunctionEntry`).
pub fn osr_symbol(index: u32) -> String {
    format!("wasm_ot{index}")
}

/// After optimisation, before codegen: tags each guarded store of a value
/// computed from a guarded load of the same type at the same address with
/// the load's function. x86 folds such a pair into one read-modify-write
/// instruction, which keeps only the store's tag, while the access that
/// traps is the load's (as in the interpreter); they differ once LLVM has
/// inlined one into the other's function. Where they are not folded the
/// store cannot fault (it writes bytes the load just read), so its tag is
/// never used.
pub fn retag_folded_stores(cx: &Context, llvm: &LlvmModule<'_>) -> Result<(), CompileError> {
    use inkwell::types::AnyType;
    use inkwell::values::{BasicValue, BasicValueEnum, InstructionOpcode, InstructionValue};
    fn operand<'ctx>(i: u32, of: InstructionValue<'ctx>) -> Option<BasicValueEnum<'ctx>> {
        of.get_operand(i)?.value()
    }
    let kind = cx.get_kind_id("pcsections");
    for func in llvm.get_functions() {
        for block in func.get_basic_blocks() {
            let mut next = block.get_first_instruction();
            while let Some(store) = next {
                next = store.get_next_instruction();
                if store.get_opcode() != InstructionOpcode::Store
                    || store.get_metadata(kind).is_none()
                {
                    continue;
                }
                let (Some(value), Some(address)) = (operand(0, store), operand(1, store)) else {
                    continue;
                };
                let Some(op) = value.as_instruction_value() else {
                    continue;
                };
                let tag = (0..op.get_num_operands())
                    .filter_map(|i| operand(i, op)?.as_instruction_value())
                    .filter(|load| {
                        load.get_opcode() == InstructionOpcode::Load
                            && operand(0, *load) == Some(address)
                            && load.get_type() == value.get_type().as_any_type_enum()
                    })
                    .find_map(|load| load.get_metadata(kind));
                if let Some(tag) = tag {
                    store.set_metadata(tag, kind).map_err(CompileError::llvm)?;
                }
            }
        }
    }
    Ok(())
}

/// The LLVM type of a wasm value (references are 64-bit handles).
pub(crate) fn llvm_type<'ctx>(
    cx: &'ctx Context,
    ty: ValType,
) -> Result<BasicTypeEnum<'ctx>, CompileError> {
    Ok(match ty {
        ValType::I32 => cx.i32_type().into(),
        ValType::I64 | ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef => {
            cx.i64_type().into()
        }
        ValType::F32 => cx.f32_type().into(),
        ValType::F64 => cx.f64_type().into(),
        ValType::V128 => simd::v128_type(cx).into(),
    })
}

/// Whether native entries of type `ty` return their results in memory:
/// through a pointer to 64-bit slots laid out like a value array (the
/// encoding of `vm::to_slots`: a v128 takes two), their last parameter.
/// Those with more than one result do. LLVM returns an aggregate in registers only while the target's
/// return registers suffice (on x86_64, three i64) and otherwise through
/// a hidden pointer of its own, with which it cannot make the guaranteed
/// tail call that `return_call` needs (it aborts the process instead).
/// The pointer passed explicitly is just an argument: a tail call hands
/// on its own.
pub(crate) fn results_in_memory(ty: &FuncType) -> bool {
    ty.results().len() > 1
}

/// The native signature of a wasm function type: the VM context, the
/// parameters, then `extra` (an OSR variant's), then the results pointer
/// where [`results_in_memory`].
pub(crate) fn native_fn_type<'ctx>(
    cx: &'ctx Context,
    ty: &FuncType,
) -> Result<FunctionType<'ctx>, CompileError> {
    native_fn_type_with(cx, ty, &[])
}

fn native_fn_type_with<'ctx>(
    cx: &'ctx Context,
    ty: &FuncType,
    extra: &[BasicMetadataTypeEnum<'ctx>],
) -> Result<FunctionType<'ctx>, CompileError> {
    let ptr = cx.ptr_type(AddressSpace::default());
    let mut params: Vec<BasicMetadataTypeEnum> = vec![ptr.into()];
    for &p in ty.params() {
        params.push(llvm_type(cx, p)?.into());
    }
    params.extend_from_slice(extra);
    if results_in_memory(ty) {
        params.push(ptr.into());
        return Ok(cx.void_type().fn_type(&params, false));
    }
    Ok(match ty.results() {
        [] => cx.void_type().fn_type(&params, false),
        [one] => llvm_type(cx, *one)?.fn_type(&params, false),
        _ => unreachable!("several results are returned in memory"),
    })
}

/// What the translation needs to know of the compile.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The target rounds floats only through libcalls (see `rounding`).
    pub inline_rounding: bool,
    /// memory32 accesses need no bounds check: the runtime of the target
    /// reserves guard regions (`wamr_runtime::guard`).
    pub memory32_guard: bool,
    /// The target has a fused multiply-add instruction (see `simd::fma`).
    pub fma: bool,
}

/// Translates the defined functions `functions` (function indices) of
/// `module` into `llvm`. Every other defined function is declared, so that
/// calls to it stay direct: the linker resolves them against the objects
/// the rest of the module was compiled into. Functions in `osr` that have
/// loops also get an OSR entry.
pub fn translate_module<'ctx>(
    cx: &'ctx Context,
    llvm: &LlvmModule<'ctx>,
    module: &Module,
    functions: std::ops::Range<u32>,
    options: Options,
    osr: wamr_aot::OsrFuncs<'_>,
) -> Result<(), CompileError> {
    let imported = module.num_imported_funcs();
    let conv = native_call_conv(llvm);
    let mut natives: Vec<FunctionValue<'ctx>> = Vec::new();
    for index in imported..module.num_funcs() {
        let ty = native_fn_type(cx, module.func_type(index))?;
        // External (so every entry survives optimisation: slots and indirect
        // calls need it) but hidden (so calls stay direct, not via a PLT).
        let f = llvm.add_function(&func_symbol(index), ty, Some(Linkage::External));
        f.as_global_value()
            .set_visibility(inkwell::GlobalVisibility::Hidden);
        f.set_call_conventions(conv);
        self_contained(cx, f);
        natives.push(f);
    }
    for index in functions {
        let f = natives[(index - imported) as usize];
        build_trampoline(cx, llvm, module, index, f)?;
        let wants_osr = osr.entries.binary_search(&index).is_ok();
        // With `tailcc` the native entry can forward to the OSR variant
        // (a guaranteed tail call whatever the signatures), so that the
        // body is compiled once: for functions the caller expects to be
        // hardly called again (`OsrFuncs::shared`), and large ones, whose
        // second copy would cost much compile time. Others keep a native
        // copy of their own, which runs hot calls faster (it inlines
        // better and skips the OSR dispatch).
        let body_len = module.func_body(index).map_or(0, |b| b.range.len());
        let shared = osr.shared.binary_search(&index).is_ok();
        if wants_osr
            && conv == TAILCC
            && (shared || body_len >= shared_osr_body_min())
            && let Some(variant) = osr_variant(cx, llvm, module, &natives, index, conv, options)?
        {
            build_forwarder(cx, f, variant, results_in_memory(module.func_type(index)))?;
            build_osr_entry(cx, llvm, module, index, variant, conv)?;
            continue;
        }
        let t = func::FuncTranslator::new(cx, llvm, module, &natives, index, f, options, false)?;
        let loops = t.translate()?;
        if wants_osr && !loops.is_empty() {
            let variant = osr_variant(cx, llvm, module, &natives, index, conv, options)?
                .expect("a function with loops has an OSR variant");
            build_osr_entry(cx, llvm, module, index, variant, conv)?;
        }
    }
    Ok(())
}

/// Bytes of wasm code from which a function with an OSR entry is compiled
/// once (see `translate_module`): 16 KiB, or `WAMR_OSR_SHARED_BODY_MIN`
/// (the spec runner's `--osr-everywhere` sets 0, so that every call runs
/// through the forwarder).
fn shared_osr_body_min() -> usize {
    static MIN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MIN.get_or_init(|| {
        std::env::var("WAMR_OSR_SHARED_BODY_MIN")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(16 << 10)
    })
}

/// The OSR variant of function `index`: its native signature plus the
/// interpreter frame and the loop ordinal. `None` (and nothing added) when
/// no loop of the function can be entered.
fn osr_variant<'ctx>(
    cx: &'ctx Context,
    llvm: &LlvmModule<'ctx>,
    module: &Module,
    natives: &[FunctionValue<'ctx>],
    index: u32,
    conv: u32,
    options: Options,
) -> Result<Option<FunctionValue<'ctx>>, CompileError> {
    let fty = module.func_type(index);
    let ptr = cx.ptr_type(AddressSpace::default());
    let variant_ty = native_fn_type_with(cx, fty, &[ptr.into(), cx.i32_type().into()])?;
    let variant = llvm.add_function(
        &format!("wasm_o{index}"),
        variant_ty,
        Some(Linkage::Internal),
    );
    variant.set_call_conventions(conv);
    self_contained(cx, variant);
    let loops =
        func::FuncTranslator::new(cx, llvm, module, natives, index, variant, options, true)?
            .translate()?;
    if loops.is_empty() {
        // SAFETY: nothing refers to the variant yet.
        unsafe { variant.delete() };
        return Ok(None);
    }
    Ok(Some(variant))
}

/// The native entry `f` as a tail call of its OSR `variant` from the start
/// (`results_in_memory`: of `f`'s type).
fn build_forwarder<'ctx>(
    cx: &'ctx Context,
    f: FunctionValue<'ctx>,
    variant: FunctionValue<'ctx>,
    results_in_memory: bool,
) -> Result<(), CompileError> {
    let b = cx.create_builder();
    b.position_at_end(cx.append_basic_block(f, "entry"));
    let mut args: Vec<inkwell::values::BasicMetadataValueEnum> =
        f.get_param_iter().map(Into::into).collect();
    // The results pointer, if any, stays last.
    let results = match results_in_memory {
        true => args.pop(),
        false => None,
    };
    // No frame: the start reads the parameters.
    args.push(cx.ptr_type(AddressSpace::default()).const_null().into());
    args.push(
        cx.i32_type()
            .const_int(u64::from(func::OSR_START), false)
            .into(),
    );
    args.extend(results);
    let call = b.build_call(variant, &args, "start")?;
    call.set_call_convention(f.get_call_conventions());
    call.set_tail_call_kind(inkwell::values::LLVMTailCallKind::LLVMTailCallKindMustTail);
    match call.try_as_basic_value().basic() {
        Some(v) => b.build_return(Some(&v))?,
        None => b.build_return(None)?,
    };
    Ok(())
}

/// The OSR entry `wasm_ot{index}(vmctx, frame, loop)` of function `index`:
/// runs its OSR `variant` from the loop and writes the results back into
/// the frame.
fn build_osr_entry<'ctx>(
    cx: &'ctx Context,
    llvm: &LlvmModule<'ctx>,
    module: &Module,
    index: u32,
    variant: FunctionValue<'ctx>,
    conv: u32,
) -> Result<(), CompileError> {
    let fty = module.func_type(index);
    let ptr = cx.ptr_type(AddressSpace::default());
    let ty = cx
        .void_type()
        .fn_type(&[ptr.into(), ptr.into(), cx.i32_type().into()], false);
    let entry = llvm.add_function(&osr_symbol(index), ty, Some(Linkage::External));
    self_contained(cx, entry);
    entry
        .as_global_value()
        .set_visibility(inkwell::GlobalVisibility::Hidden);
    let b = cx.create_builder();
    b.position_at_end(cx.append_basic_block(entry, "entry"));
    let vmctx = entry.get_nth_param(0).unwrap();
    let frame = entry.get_nth_param(1).unwrap().into_pointer_value();
    let which = entry.get_nth_param(2).unwrap();
    let mut args: Vec<inkwell::values::BasicMetadataValueEnum> = vec![vmctx.into()];
    for &p in fty.params() {
        // Unused: the variant reads every local from the frame.
        args.push(llvm_type(cx, p)?.const_zero().into());
    }
    args.push(frame.into());
    args.push(which.into());
    if results_in_memory(fty) {
        args.push(frame.into());
    }
    let call = b.build_call(variant, &args, "osr")?;
    call.set_call_convention(conv);
    store_results(cx, &b, fty, call, frame)?;
    b.build_return(None)?;
    Ok(())
}

/// Writes the results of `call` (a function of type `fty`) into `values`,
/// unless the callee wrote them there itself ([`results_in_memory`]: it was
/// given `values` as its results pointer).
fn store_results<'ctx>(
    cx: &'ctx Context,
    b: &inkwell::builder::Builder<'ctx>,
    fty: &FuncType,
    call: inkwell::values::CallSiteValue<'ctx>,
    values: inkwell::values::PointerValue<'ctx>,
) -> Result<(), CompileError> {
    if results_in_memory(fty) {
        return Ok(());
    }
    if let (Some(v), [ty]) = (call.try_as_basic_value().basic(), fty.results()) {
        vm::store_slots(cx, b, values, 0, v, *ty)?;
    }
    Ok(())
}

/// `wasm_t{i}(vmctx, values)`: slots in, call, slots out.
fn build_trampoline<'ctx>(
    cx: &'ctx Context,
    llvm: &LlvmModule<'ctx>,
    module: &Module,
    index: u32,
    native: FunctionValue<'ctx>,
) -> Result<(), CompileError> {
    let ptr = cx.ptr_type(AddressSpace::default());
    let ty = cx.void_type().fn_type(&[ptr.into(), ptr.into()], false);
    let t = llvm.add_function(&trampoline_symbol(index), ty, Some(Linkage::External));
    t.as_global_value()
        .set_visibility(inkwell::GlobalVisibility::Hidden);
    self_contained(cx, t);
    let b = cx.create_builder();
    b.position_at_end(cx.append_basic_block(t, "entry"));
    let vmctx = t.get_nth_param(0).unwrap().into_pointer_value();
    let values = t.get_nth_param(1).unwrap().into_pointer_value();
    let fty = module.func_type(index);
    let mut args = vec![vmctx.into()];
    for (at, p) in vm::slot_offsets(fty.params()) {
        args.push(vm::load_slots(cx, &b, values, at, p)?.into());
    }
    if results_in_memory(fty) {
        args.push(values.into());
    }
    let call = b.build_call(native, &args, "call")?;
    call.set_call_convention(native_call_conv(llvm));
    store_results(cx, &b, fty, call, values)?;
    b.build_return(None)?;
    Ok(())
}
