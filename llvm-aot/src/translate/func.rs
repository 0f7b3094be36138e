//! Translation of one function body. The wasm operand stack becomes SSA
//! values; locals are allocas (promoted to registers by LLVM); block results
//! and loop parameters are phi nodes.

use std::collections::HashMap;

use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::Module as LlvmModule;
use inkwell::types::BasicTypeEnum;
use inkwell::values::{
    BasicMetadataValueEnum, BasicValue, BasicValueEnum, FloatValue, FunctionValue, IntValue,
    PhiValue, PointerValue,
};
use inkwell::{AddressSpace, IntPredicate};
use wamr_runtime::vmctx::layout;
use wamr_runtime::{Module, TrapKind, ValType};
use wasmparser::{BinaryReader, FunctionBody};

use super::TranslateError as CompileError;
use super::{llvm_type, vm};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

pub(super) struct Control<'ctx> {
    kind: Kind,
    /// Where `end` continues, with a phi per result.
    end: BasicBlock<'ctx>,
    end_phis: Vec<PhiValue<'ctx>>,
    /// A loop's header, with a phi per parameter.
    header: Option<(BasicBlock<'ctx>, Vec<PhiValue<'ctx>>)>,
    /// An `if`'s else block and the parameter values it starts from.
    else_block: Option<(BasicBlock<'ctx>, Vec<BasicValueEnum<'ctx>>)>,
    params: Vec<ValType>,
    /// Stack height below the parameters.
    height: usize,
    /// Whether the code after `end` can be reached.
    end_reachable: bool,
    /// In an OSR variant, a loop's dispatch point (`OsrVariant::hubs`).
    hub: Option<usize>,
}

pub struct FuncTranslator<'a, 'ctx> {
    pub(super) cx: &'ctx Context,
    pub(super) llvm: &'a LlvmModule<'ctx>,
    pub(super) module: &'a Module,
    pub(super) natives: &'a [FunctionValue<'ctx>],
    pub(super) index: u32,
    pub(super) func: FunctionValue<'ctx>,
    /// Calling convention of native entries (`super::native_call_conv`).
    pub(super) call_conv: u32,
    pub(super) b: Builder<'ctx>,
    pub(super) vmctx: PointerValue<'ctx>,
    pub(super) locals: Vec<(PointerValue<'ctx>, BasicTypeEnum<'ctx>)>,
    pub(super) stack: Vec<BasicValueEnum<'ctx>>,
    pub(super) control: Vec<Control<'ctx>>,
    pub(super) reachable: bool,
    /// Blocks opened inside unreachable code (only their nesting matters).
    pub(super) dead_depth: u32,
    pub(super) trap_blocks: HashMap<TrapKind, BasicBlock<'ctx>>,
    pub(super) bail_block: Option<BasicBlock<'ctx>>,
    pub(super) results: Vec<ValType>,
    /// Where the results go when they are returned in memory
    /// (`super::results_in_memory`): the function's last parameter.
    pub(super) results_out: Option<PointerValue<'ctx>>,
    /// Loads and stores of linear memory, tagged apart from everything else
    /// (see `apply_tbaa`).
    pub(super) memory_accesses: std::collections::HashSet<inkwell::values::InstructionValue<'ctx>>,
    /// The wasm type of every local, parameters first.
    local_types: Vec<ValType>,
    /// `loop` operators seen so far, reachable or not: a loop's ordinal is
    /// how the interpreter and the OSR entry name it.
    pub(super) loops_seen: u32,
    /// Loops where execution can move over from the interpreter: reached
    /// with an empty operand stack and taking no parameters, so the locals
    /// are the whole state.
    pub(super) osr_loops: Vec<u32>,
    /// Set when translating the OSR variant of the function.
    pub(super) osr: Option<OsrVariant<'ctx>>,
    /// What the compile asks of the translation (rounding, bounds checks).
    pub(super) options: super::Options,
    /// The function's buffer of 64-bit slots for calls that pass values in
    /// memory, with its length (see [`FuncTranslator::slot_buffer`]).
    slot_buffer: Option<(PointerValue<'ctx>, u32)>,
}

/// The OSR variant of a function: its entry reads the locals from the
/// interpreter's frame and goes on to the header of the loop it is given,
/// or, given [`OSR_START`], starts the function from its parameters like
/// the native entry (which then just forwards to it; see
/// `translate_module`).
///
/// The entry never jumps into a nested loop: that would give the loops
/// around it a second entry, and LLVM optimises irreducible loops poorly
/// (the sieve ran 1.7x slower so). It jumps to the outermost loop around
/// the target, whose header passes on to the next loop inward, and so on:
/// each loop header checks `pending` (the target, until reached) and, when
/// the target is inside, branches straight to the header of the loop on
/// the way. Every loop keeps one entry, at the cost of a compare per
/// iteration of the loops that have OSR targets inside.
pub struct OsrVariant<'ctx> {
    /// Where the entry's switch over loop ordinals goes, built at the end.
    dispatch: BasicBlock<'ctx>,
    /// Routes from the entry.
    routes: Vec<Route<'ctx>>,
    /// Every loop's header, with its routes inward.
    hubs: Vec<Hub<'ctx>>,
    /// The loop the entry was asked for, [`OSR_START`] once reached (an
    /// i32 alloca, promoted to a register).
    pending: PointerValue<'ctx>,
    /// Whether the entry goes through the headers around the target (see
    /// [`NESTED_ROUTES_BODY_MAX`]); else straight to it.
    nested_routes: bool,
}

/// Bytes of wasm code from which an OSR variant's entry jumps straight
/// into the loop it is given, nested or not: the routes through the
/// headers around cost compile time that grows faster than the body (the
/// 58 KB `main` of ed25519 took 0.5 s longer to compile, 19% more, and ran
/// no faster), while a small function compiles fast either way. (Small
/// ones do not always run faster with them either: sieve's `main` ran
/// 0.72 s with the routes against 0.80 s without, heapsort's 8% slower,
/// as the check of `pending` is carried around its outer loop.)
const NESTED_ROUTES_BODY_MAX: usize = 16 << 10;

/// A loop header of an OSR variant: its phis, then a switch over
/// `pending` (added at the end, if any route passes) on to `body`.
struct Hub<'ctx> {
    header: BasicBlock<'ctx>,
    phis: Vec<PhiValue<'ctx>>,
    body: BasicBlock<'ctx>,
    routes: Vec<Route<'ctx>>,
}

/// One step on the way to OSR target `loop_index`: on to the header `to`
/// (with `phis`, which take a placeholder: nothing on this path reads
/// them); `last` if `to` is the target's own.
struct Route<'ctx> {
    loop_index: u32,
    to: BasicBlock<'ctx>,
    phis: Vec<PhiValue<'ctx>>,
    last: bool,
}

type Res<T = ()> = Result<T, CompileError>;

/// The "loop ordinal" that starts an OSR variant at the function's
/// beginning, with the locals from the parameters; the interpreter only
/// passes ordinals of real loops.
pub const OSR_START: u32 = u32::MAX;

impl<'a, 'ctx> FuncTranslator<'a, 'ctx> {
    /// A translator of function `index` into `func`: its native entry, or
    /// with `osr` its OSR variant (`func` then takes two more parameters: the
    /// interpreter frame and the loop ordinal).
    #[allow(clippy::too_many_arguments)] // the module's parts, one function
    pub fn new(
        cx: &'ctx Context,
        llvm: &'a LlvmModule<'ctx>,
        module: &'a Module,
        natives: &'a [FunctionValue<'ctx>],
        index: u32,
        func: FunctionValue<'ctx>,
        options: super::Options,
        osr: bool,
    ) -> Res<Self> {
        let b = cx.create_builder();
        let entry = cx.append_basic_block(func, "entry");
        b.position_at_end(entry);
        let vmctx = func.get_nth_param(0).unwrap().into_pointer_value();
        let results = module.func_type(index).results().to_vec();
        let results_out = super::results_in_memory(module.func_type(index))
            .then(|| func.get_last_param().unwrap().into_pointer_value());
        let osr = match osr {
            false => None,
            true => {
                let pending = b.build_alloca(cx.i32_type(), "osr.pending")?;
                let none = cx.i32_type().const_int(u64::from(OSR_START), false);
                b.build_store(pending, none)?;
                Some(OsrVariant {
                    dispatch: cx.append_basic_block(func, "osr"),
                    routes: Vec::new(),
                    hubs: Vec::new(),
                    pending,
                    nested_routes: module.func_body(index).map_or(0, |b| b.range.len())
                        < NESTED_ROUTES_BODY_MAX,
                })
            }
        };
        Ok(FuncTranslator {
            cx,
            llvm,
            module,
            natives,
            index,
            func,
            call_conv: super::native_call_conv(llvm),
            b,
            vmctx,
            locals: Vec::new(),
            stack: Vec::new(),
            control: Vec::new(),
            reachable: true,
            dead_depth: 0,
            trap_blocks: HashMap::new(),
            bail_block: None,
            results,
            results_out,
            memory_accesses: Default::default(),
            local_types: Vec::new(),
            loops_seen: 0,
            osr_loops: Vec::new(),
            osr,
            options,
            slot_buffer: None,
        })
    }

    /// Translates the body; returns the ordinals of the loops an OSR entry
    /// can enter.
    pub fn translate(mut self) -> Res<Vec<u32>> {
        let body = self
            .module
            .func_body(self.index)
            .ok_or_else(|| {
                CompileError::Unsupported(format!("function {} has no body", self.index))
            })?
            .clone();
        let bytes = &self.module.bytes()[body.range.clone()];
        let body = FunctionBody::new(BinaryReader::new(bytes, body.range.start as u64));
        self.declare_locals(&body)?;
        self.stack_check()?;
        if self.osr.is_some() {
            self.osr_entry()?;
        }
        let end = self.cx.append_basic_block(self.func, "return");
        let end_phis = self.phis_in(end, &self.results.clone())?;
        self.control.push(Control {
            kind: Kind::Func,
            end,
            end_phis,
            header: None,
            else_block: None,
            params: Vec::new(),
            height: 0,
            end_reachable: false,
            hub: None,
        });
        let mut reader = body.get_operators_reader().map_err(malformed)?;
        while !reader.eof() {
            let op = reader.read().map_err(malformed)?;
            self.operator(op)?;
        }
        if let Some(osr) = self.osr.take() {
            self.osr_dispatch(osr)?;
        }
        self.apply_tbaa()?;
        Ok(self.osr_loops)
    }

    /// The OSR variant's entry: for [`OSR_START`] on to the function's own
    /// beginning (the locals are initialised from the parameters already);
    /// else the locals from the frame (64-bit slots, the interpreter's
    /// encoding), then on to the dispatch switch.
    fn osr_entry(&mut self) -> Res {
        let n = self.module.func_type(self.index).params().len() as u32;
        let frame = self.func.get_nth_param(n + 1).unwrap().into_pointer_value();
        let which = self.func.get_nth_param(n + 2).unwrap().into_int_value();
        let load = self.cx.append_basic_block(self.func, "osr.load");
        let body = self.cx.append_basic_block(self.func, "body");
        let start = self.i32().const_int(u64::from(OSR_START), false);
        let is_start = self
            .b
            .build_int_compare(IntPredicate::EQ, which, start, "start")?;
        self.b.build_conditional_branch(is_start, body, load)?;
        self.b.position_at_end(load);
        let types = self.local_types.clone();
        for (i, (at, ty)) in vm::slot_offsets(&types).enumerate() {
            // The frame holds the locals in slots, a v128 in two.
            let v = vm::load_slots(self.cx, &self.b, frame, at, ty)?;
            self.b.build_store(self.locals[i].0, v)?;
        }
        let osr = self.osr.as_ref().expect("OSR variant");
        self.b.build_store(osr.pending, which)?;
        self.b.build_unconditional_branch(osr.dispatch)?;
        self.b.position_at_end(body);
        Ok(())
    }

    /// The switches on the way from the entry to the loop header the
    /// interpreter names: the entry's over its parameter, the hubs' over
    /// `pending`.
    fn osr_dispatch(&mut self, osr: OsrVariant<'ctx>) -> Res {
        let n = self.module.func_type(self.index).params().len() as u32;
        let which = self.func.get_nth_param(n + 2).unwrap().into_int_value();
        let bad = self.cx.append_basic_block(self.func, "osr.bad");
        self.b.position_at_end(bad);
        self.b.build_unreachable()?;
        self.b.position_at_end(osr.dispatch);
        self.route_switch(which, bad, &osr.routes, osr.pending)?;
        for hub in &osr.hubs {
            if hub.routes.is_empty() {
                continue;
            }
            let to_body = hub.header.get_terminator().expect("a hub ends in a branch");
            to_body.erase_from_basic_block();
            self.b.position_at_end(hub.header);
            let target = self.b.build_load(self.i32(), osr.pending, "osr.target")?;
            self.route_switch(target.into_int_value(), hub.body, &hub.routes, osr.pending)?;
        }
        Ok(())
    }

    /// A switch over `target` along `routes` (else to `default`), at the
    /// builder's position. A route's last step clears `pending`, so that
    /// later iterations of the loops around run their bodies.
    fn route_switch(
        &self,
        target: IntValue<'ctx>,
        default: BasicBlock<'ctx>,
        routes: &[Route<'ctx>],
        pending: PointerValue<'ctx>,
    ) -> Res {
        let here = self.current_block();
        let mut cases = Vec::new();
        let mut edges: Vec<(BasicBlock<'ctx>, bool, BasicBlock<'ctx>)> = Vec::new();
        for r in routes {
            let edge = match edges
                .iter()
                .find(|&&(to, last, _)| to == r.to && last == r.last)
            {
                Some(&(_, _, edge)) => edge,
                None => {
                    let edge = self.cx.append_basic_block(self.func, "osr.route");
                    self.b.position_at_end(edge);
                    if r.last {
                        let none = self.i32().const_int(u64::from(OSR_START), false);
                        self.b.build_store(pending, none)?;
                    }
                    self.b.build_unconditional_branch(r.to)?;
                    for phi in &r.phis {
                        phi.add_incoming(&[(&phi.as_basic_value().get_type().const_zero(), edge)]);
                    }
                    edges.push((r.to, r.last, edge));
                    edge
                }
            };
            cases.push((self.i32().const_int(u64::from(r.loop_index), false), edge));
        }
        self.b.position_at_end(here);
        self.b.build_switch(target, default, &cases)?;
        Ok(())
    }

    /// A `loop` was entered; `eligible` if the locals are its whole state.
    /// In the OSR variant, adds the routes to it from the entry and from
    /// the headers of the loops around it.
    pub(super) fn loop_entered(&mut self, eligible: bool) {
        let k = self.loops_seen - 1;
        if !eligible {
            return;
        }
        self.osr_loops.push(k);
        let Some(osr) = &mut self.osr else {
            return;
        };
        let (own, around) = self.control.split_last().expect("the loop");
        let Some(own) = own.hub else {
            // Without nested routes: straight from the entry.
            let (header, _) = own.header.as_ref().expect("a loop has a header");
            osr.routes.push(Route {
                loop_index: k,
                to: *header,
                phis: Vec::new(),
                last: true,
            });
            return;
        };
        // Headers on the way in, outermost first; each routes to the next.
        let hubs: Vec<usize> = around.iter().filter_map(|c| c.hub).collect();
        let from = std::iter::once(None).chain(hubs.iter().copied().map(Some));
        let to = hubs.iter().copied().chain(std::iter::once(own));
        for (from, to) in from.zip(to) {
            let route = Route {
                loop_index: k,
                to: osr.hubs[to].header,
                phis: osr.hubs[to].phis.clone(),
                last: to == own,
            };
            match from {
                None => osr.routes.push(route),
                Some(hub) => osr.hubs[hub].routes.push(route),
            }
        }
    }

    /// Type-based alias information: linear memory and the runtime's own
    /// structures (VM context, memory views, globals, tables, locals) never
    /// alias, so LLVM may keep a memory's base and length in registers
    /// across wasm stores (calls still clobber both: they may grow memory).
    fn apply_tbaa(&self) -> Res {
        let cx = self.cx;
        let kind = cx.get_kind_id("tbaa");
        let zero = cx.i64_type().const_zero();
        let root = cx.metadata_node(&[cx.metadata_string("wamr-rs").into()]);
        let scalar = |name: &str| {
            cx.metadata_node(&[cx.metadata_string(name).into(), root.into(), zero.into()])
        };
        let (memory, runtime) = (scalar("linear memory"), scalar("runtime data"));
        let tag = |ty: inkwell::values::MetadataValue<'ctx>| {
            cx.metadata_node(&[ty.into(), ty.into(), zero.into()])
        };
        let (memory_tag, runtime_tag) = (tag(memory), tag(runtime));
        for bb in self.func.get_basic_blocks() {
            let mut next = bb.get_first_instruction();
            while let Some(inst) = next {
                next = inst.get_next_instruction();
                use inkwell::values::InstructionOpcode::{Load, Store};
                if !matches!(inst.get_opcode(), Load | Store) {
                    continue;
                }
                let t = if self.memory_accesses.contains(&inst) {
                    memory_tag
                } else {
                    runtime_tag
                };
                inst.set_metadata(t, kind).map_err(CompileError::llvm)?;
            }
        }
        Ok(())
    }

    pub(super) fn declare_locals(&mut self, body: &FunctionBody<'_>) -> Res {
        let ty = self.module.func_type(self.index).clone();
        for (i, &p) in ty.params().iter().enumerate() {
            let lt = llvm_type(self.cx, p)?;
            let slot = self.b.build_alloca(lt, "param")?;
            let v = self.func.get_nth_param(i as u32 + 1).unwrap();
            self.b.build_store(slot, v)?;
            self.locals.push((slot, lt));
            self.local_types.push(p);
        }
        for local in body.get_locals_reader().map_err(malformed)? {
            let (count, vt) = local.map_err(malformed)?;
            let vt = wasm_type(vt)?;
            let lt = llvm_type(self.cx, vt)?;
            for _ in 0..count {
                let slot = self.b.build_alloca(lt, "local")?;
                self.b.build_store(slot, lt.const_zero())?;
                self.locals.push((slot, lt));
                self.local_types.push(vt);
            }
        }
        Ok(())
    }

    // ---- helpers -------------------------------------------------------

    pub(super) fn i32(&self) -> inkwell::types::IntType<'ctx> {
        self.cx.i32_type()
    }
    pub(super) fn i64(&self) -> inkwell::types::IntType<'ctx> {
        self.cx.i64_type()
    }
    pub(super) fn ptr_t(&self) -> inkwell::types::PointerType<'ctx> {
        self.cx.ptr_type(AddressSpace::default())
    }

    pub(super) fn pop(&mut self) -> BasicValueEnum<'ctx> {
        self.stack
            .pop()
            .expect("validated code never pops an empty stack")
    }
    pub(super) fn pop_int(&mut self) -> IntValue<'ctx> {
        self.pop().into_int_value()
    }
    pub(super) fn pop_float(&mut self) -> FloatValue<'ctx> {
        self.pop().into_float_value()
    }
    pub(super) fn pop_n(&mut self, n: usize) -> Vec<BasicValueEnum<'ctx>> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }
    pub(super) fn push(&mut self, v: impl BasicValue<'ctx>) {
        self.stack.push(v.as_basic_value_enum());
    }

    pub(super) fn current_block(&self) -> BasicBlock<'ctx> {
        self.b.get_insert_block().expect("builder is positioned")
    }

    /// Phi nodes for `types` at the top of `block`.
    pub(super) fn phis_in(
        &self,
        block: BasicBlock<'ctx>,
        types: &[ValType],
    ) -> Res<Vec<PhiValue<'ctx>>> {
        let here = self.b.get_insert_block();
        self.b.position_at_end(block);
        let mut phis = Vec::new();
        for &t in types {
            phis.push(self.b.build_phi(llvm_type(self.cx, t)?, "phi")?);
        }
        if let Some(here) = here {
            self.b.position_at_end(here);
        }
        Ok(phis)
    }

    pub(super) fn intrinsic(
        &self,
        name: &str,
        types: &[BasicTypeEnum<'ctx>],
    ) -> Res<FunctionValue<'ctx>> {
        let i = Intrinsic::find(name)
            .ok_or_else(|| CompileError::Unsupported(format!("intrinsic {name}")))?;
        i.get_declaration(self.llvm, types)
            .ok_or_else(|| CompileError::Unsupported(format!("intrinsic {name} for {types:?}")))
    }

    pub(super) fn call_intrinsic(
        &self,
        name: &str,
        types: &[BasicTypeEnum<'ctx>],
        args: &[BasicMetadataValueEnum<'ctx>],
    ) -> Res<BasicValueEnum<'ctx>> {
        let f = self.intrinsic(name, types)?;
        let call = self.b.build_call(f, args, "i")?;
        Ok(call
            .try_as_basic_value()
            .basic()
            .expect("intrinsic returns a value"))
    }

    /// Zero values of the function's results (what a trapping function returns).
    /// Returns after a trap: the results do not matter.
    pub(super) fn default_return(&self) -> Res {
        match (self.results_out, self.results.as_slice()) {
            (None, [one]) => self
                .b
                .build_return(Some(&llvm_type(self.cx, *one)?.const_zero()))?,
            _ => self.b.build_return(None)?,
        };
        Ok(())
    }

    /// Returns `values`, the function's results.
    pub(super) fn return_values(&self, values: &[BasicValueEnum<'ctx>]) -> Res {
        if let Some(out) = self.results_out {
            // The caller passes slots for the results (see `results_in_memory`).
            for ((at, t), &v) in vm::slot_offsets(&self.results).zip(values) {
                vm::store_slots(self.cx, &self.b, out, at, v, t)?;
            }
            self.b.build_return(None)?;
            return Ok(());
        }
        match values {
            [] => self.b.build_return(None)?,
            [one] => self.b.build_return(Some(one))?,
            _ => unreachable!("several results are returned in memory"),
        };
        Ok(())
    }

    /// The block that raises trap `kind` and returns.
    pub(super) fn trap_block(&mut self, kind: TrapKind) -> Res<BasicBlock<'ctx>> {
        if let Some(&bb) = self.trap_blocks.get(&kind) {
            return Ok(bb);
        }
        let here = self.current_block();
        let bb = self.cx.append_basic_block(self.func, "trap");
        self.b.position_at_end(bb);
        self.raise_trap(kind as u32)?;
        self.default_return()?;
        self.b.position_at_end(here);
        self.trap_blocks.insert(kind, bb);
        Ok(bb)
    }

    /// Calls the `raise_trap` builtin with trap code `code` (0: the trap
    /// pending already, which passes this function on its way out).
    fn raise_trap(&self, code: u32) -> Res {
        let raise = self.builtin(layout::BUILTIN_RAISE_TRAP)?;
        let i32t = self.i32();
        let ty = self
            .cx
            .void_type()
            .fn_type(&[self.ptr_t().into(), i32t.into(), i32t.into()], false);
        self.b.build_indirect_call(
            ty,
            raise,
            &[
                self.vmctx.into(),
                i32t.const_int(u64::from(code), false).into(),
                i32t.const_int(u64::from(self.index), false).into(),
            ],
            "raise",
        )?;
        Ok(())
    }

    /// Branches to the trap block for `kind` when `cond` holds.
    pub(super) fn trap_if(&mut self, cond: IntValue<'ctx>, kind: TrapKind) -> Res {
        let trap = self.trap_block(kind)?;
        let cont = self.cx.append_basic_block(self.func, "ok");
        self.b.build_conditional_branch(cond, trap, cont)?;
        self.b.position_at_end(cont);
        Ok(())
    }

    /// After a call: return at once if the callee left a trap pending.
    pub(super) fn check_pending_trap(&mut self) -> Res {
        let state = vm::load_fixed_ptr(self.cx, &self.b, self.vmctx, layout::VMCTX_STATE, "state")?;
        let flag = self
            .b
            .build_load(self.i32(), state, "trap")?
            .into_int_value();
        let pending =
            self.b
                .build_int_compare(IntPredicate::NE, flag, self.i32().const_zero(), "pending")?;
        let bail = match self.bail_block {
            Some(bb) => bb,
            None => {
                let here = self.current_block();
                let bb = self.cx.append_basic_block(self.func, "bail");
                self.b.position_at_end(bb);
                // Names this function as where the trap happened, unless
                // it came from a wasm callee (a host function's has none).
                self.raise_trap(0)?;
                self.default_return()?;
                self.b.position_at_end(here);
                self.bail_block = Some(bb);
                bb
            }
        };
        let cont = self.cx.append_basic_block(self.func, "cont");
        self.b.build_conditional_branch(pending, bail, cont)?;
        self.b.position_at_end(cont);
        Ok(())
    }

    /// A buffer of at least `n` 64-bit slots, for passing values to and from
    /// a call in memory. It is one static alloca in the entry block, shared
    /// by every call of the function (each fills it just before the call and
    /// reads it just after): an alloca anywhere else would take more stack
    /// every time it ran, and a call inside a loop would exhaust the native
    /// stack. Asked for more than it has, it is replaced by a larger one.
    pub(super) fn slot_buffer(&mut self, n: usize) -> Res<PointerValue<'ctx>> {
        let n = u32::try_from(n.max(1)).expect("a wasm signature has under 2^32 values");
        if let Some((buffer, len)) = self.slot_buffer
            && len >= n
        {
            return Ok(buffer);
        }
        let entry = self.func.get_first_basic_block().expect("the entry block");
        let at_entry = self.cx.create_builder();
        match entry.get_first_instruction() {
            Some(first) => at_entry.position_before(&first),
            None => at_entry.position_at_end(entry),
        }
        let buffer = at_entry.build_alloca(self.i64().array_type(n), "slots")?;
        if let Some((old, _)) = self.slot_buffer {
            old.replace_all_uses_with(buffer);
            old.as_instruction()
                .expect("the old buffer is an alloca")
                .erase_from_basic_block();
        }
        self.slot_buffer = Some((buffer, n));
        Ok(buffer)
    }

    /// The builtin function pointer at byte `offset` of the builtins table.
    pub(super) fn builtin(&self, offset: usize) -> Res<PointerValue<'ctx>> {
        let table = vm::load_fixed_ptr(
            self.cx,
            &self.b,
            self.vmctx,
            layout::VMCTX_BUILTINS,
            "builtins",
        )?;
        vm::load_fixed_ptr(self.cx, &self.b, table, offset, "builtin")
    }

    /// Prologue: trap when the native stack is below the store's limit.
    pub(super) fn stack_check(&mut self) -> Res {
        let frame = self.call_intrinsic(
            "llvm.frameaddress",
            &[self.ptr_t().into()],
            &[self.i32().const_zero().into()],
        )?;
        let sp = self
            .b
            .build_ptr_to_int(frame.into_pointer_value(), self.i64(), "sp")?;
        let state = vm::load_fixed_ptr(self.cx, &self.b, self.vmctx, layout::VMCTX_STATE, "state")?;
        let limit_at = vm::field(self.cx, &self.b, state, layout::STATE_STACK_LIMIT)?;
        let limit = self
            .b
            .build_load(self.i64(), limit_at, "limit")?
            .into_int_value();
        let low = self
            .b
            .build_int_compare(IntPredicate::ULT, sp, limit, "low")?;
        self.trap_if(low, TrapKind::StackOverflow)
    }

    // ---- control flow --------------------------------------------------

    pub(super) fn block_types(
        &self,
        ty: wasmparser::BlockType,
    ) -> Res<(Vec<ValType>, Vec<ValType>)> {
        Ok(match ty {
            wasmparser::BlockType::Empty => (vec![], vec![]),
            wasmparser::BlockType::Type(t) => (vec![], vec![wasm_type(t)?]),
            wasmparser::BlockType::FuncType(i) => {
                let ft = &self.module.types()[i as usize];
                (ft.params().to_vec(), ft.results().to_vec())
            }
        })
    }

    pub(super) fn push_control(
        &mut self,
        kind: Kind,
        params: Vec<ValType>,
        results: Vec<ValType>,
    ) -> Res {
        let end = self.cx.append_basic_block(self.func, "end");
        let end_phis = self.phis_in(end, &results)?;
        // An `if`'s condition sits above its parameters.
        let cond_slots = usize::from(kind == Kind::If);
        let height = self.stack.len() - cond_slots - params.len();
        let mut c = Control {
            kind,
            end,
            end_phis,
            header: None,
            else_block: None,
            params,
            height,
            end_reachable: false,
            hub: None,
        };
        match kind {
            Kind::Loop => {
                let header = self.cx.append_basic_block(self.func, "loop");
                let phis = self.phis_in(header, &c.params)?;
                let from = self.current_block();
                let args = self.pop_n(c.params.len());
                for (phi, v) in phis.iter().zip(&args) {
                    phi.add_incoming(&[(v, from)]);
                }
                self.b.build_unconditional_branch(header)?;
                self.b.position_at_end(header);
                if let Some(osr) = &mut self.osr
                    && osr.nested_routes
                {
                    // The switch of OSR routes goes between the phis and
                    // the body (`osr_dispatch`).
                    let body = self.cx.append_basic_block(self.func, "loop.body");
                    self.b.build_unconditional_branch(body)?;
                    self.b.position_at_end(body);
                    c.hub = Some(osr.hubs.len());
                    osr.hubs.push(Hub {
                        header,
                        body,
                        phis: phis.clone(),
                        routes: Vec::new(),
                    });
                }
                for phi in &phis {
                    self.stack.push(phi.as_basic_value());
                }
                c.header = Some((header, phis));
            }
            Kind::If => {
                let cond = self.pop_int();
                let then = self.cx.append_basic_block(self.func, "then");
                let els = self.cx.append_basic_block(self.func, "else");
                let nz = self.b.build_int_compare(
                    IntPredicate::NE,
                    cond,
                    self.i32().const_zero(),
                    "cond",
                )?;
                self.b.build_conditional_branch(nz, then, els)?;
                self.b.position_at_end(then);
                let params = self.stack[self.stack.len() - c.params.len()..].to_vec();
                c.else_block = Some((els, params));
            }
            _ => {}
        }
        self.control.push(c);
        Ok(())
    }

    /// Branches to control `index`'s label (a loop's header, else its
    /// end), passing the top values to its phis.
    pub(super) fn branch_to(&mut self, index: usize) -> Res {
        self.jump(index, false)
    }

    /// Jumps to control `index`'s label, or with `to_end` to its end (the
    /// fall-through out of a block, loops included).
    fn jump(&mut self, index: usize, to_end: bool) -> Res {
        let from = self.current_block();
        let c = &self.control[index];
        let (target, phis) = match (&c.kind, &c.header, to_end) {
            (Kind::Loop, Some((header, phis)), false) => (*header, phis.clone()),
            _ => (c.end, c.end_phis.clone()),
        };
        let values = &self.stack[self.stack.len() - phis.len()..];
        for (phi, v) in phis.iter().zip(values) {
            phi.add_incoming(&[(v, from)]);
        }
        if to_end || self.control[index].kind != Kind::Loop {
            self.control[index].end_reachable = true;
        }
        self.b.build_unconditional_branch(target)?;
        Ok(())
    }

    pub(super) fn set_unreachable(&mut self) {
        self.reachable = false;
        let height = self.control.last().map_or(0, |c| c.height);
        self.stack.truncate(height);
    }

    pub(super) fn do_return(&mut self) -> Res {
        let vals = self.pop_n(self.results.len());
        self.return_values(&vals)
    }

    pub(super) fn else_(&mut self) -> Res {
        if self.dead_depth > 0 {
            return Ok(());
        }
        let idx = self.control.len() - 1;
        if self.reachable {
            self.jump(idx, true)?;
        }
        let c = &mut self.control[idx];
        let (els, params) = c.else_block.take().expect("else follows if");
        c.kind = Kind::Else;
        let height = c.height;
        self.b.position_at_end(els);
        self.stack.truncate(height);
        self.stack.extend(params);
        self.reachable = true;
        Ok(())
    }

    pub(super) fn end(&mut self) -> Res {
        if self.dead_depth > 0 {
            self.dead_depth -= 1;
            return Ok(());
        }
        let idx = self.control.len() - 1;
        if self.reachable {
            self.jump(idx, true)?;
        }
        let mut c = self.control.pop().expect("validated nesting");
        if let Some((els, params)) = c.else_block.take() {
            // `if` without `else`: a false condition carries the parameters
            // (which equal the results) to the end.
            self.b.position_at_end(els);
            for (phi, v) in c.end_phis.iter().zip(&params) {
                phi.add_incoming(&[(v, els)]);
            }
            self.b.build_unconditional_branch(c.end)?;
            c.end_reachable = true;
        }
        self.b.position_at_end(c.end);
        self.stack.truncate(c.height);
        if !c.end_reachable {
            for phi in &c.end_phis {
                phi.as_instruction().erase_from_basic_block();
            }
            self.b.build_unreachable()?;
            self.reachable = false;
            return Ok(());
        }
        self.reachable = true;
        for phi in &c.end_phis {
            self.stack.push(phi.as_basic_value());
        }
        if c.kind == Kind::Func {
            self.do_return()?;
            self.reachable = false;
        }
        Ok(())
    }

    pub(super) fn br(&mut self, depth: u32) -> Res {
        let idx = self.control.len() - 1 - depth as usize;
        self.branch_to(idx)?;
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn br_if(&mut self, depth: u32) -> Res {
        let cond = self.pop_int();
        let nz = self
            .b
            .build_int_compare(IntPredicate::NE, cond, self.i32().const_zero(), "c")?;
        let taken = self.cx.append_basic_block(self.func, "br_if");
        let cont = self.cx.append_basic_block(self.func, "br_if_cont");
        self.b.build_conditional_branch(nz, taken, cont)?;
        self.b.position_at_end(taken);
        let idx = self.control.len() - 1 - depth as usize;
        self.branch_to(idx)?;
        self.b.position_at_end(cont);
        Ok(())
    }

    pub(super) fn br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Res {
        let index = self.pop_int();
        let depths: Vec<u32> = targets
            .targets()
            .collect::<Result<_, _>>()
            .map_err(malformed)?;
        // One edge block per case: each adds its own incoming values.
        let edge = |t: &mut Self, depth: u32| -> Res<BasicBlock<'ctx>> {
            let here = t.current_block();
            let bb = t.cx.append_basic_block(t.func, "case");
            t.b.position_at_end(bb);
            let idx = t.control.len() - 1 - depth as usize;
            t.branch_to(idx)?;
            t.b.position_at_end(here);
            Ok(bb)
        };
        let default = edge(self, targets.default())?;
        let mut cases = Vec::with_capacity(depths.len());
        for (i, &d) in depths.iter().enumerate() {
            cases.push((self.i32().const_int(i as u64, false), edge(self, d)?));
        }
        self.b.build_switch(index, default, &cases)?;
        self.set_unreachable();
        Ok(())
    }
}

pub(super) fn malformed(e: wasmparser::BinaryReaderError) -> CompileError {
    CompileError::Unsupported(format!("malformed function body: {}", e.message()))
}

pub(super) fn wasm_type(t: wasmparser::ValType) -> Res<ValType> {
    use wasmparser::ValType as W;
    Ok(match t {
        W::I32 => ValType::I32,
        W::I64 => ValType::I64,
        W::F32 => ValType::F32,
        W::F64 => ValType::F64,
        W::V128 => ValType::V128,
        W::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        W::Ref(_) => ValType::ExternRef,
    })
}
