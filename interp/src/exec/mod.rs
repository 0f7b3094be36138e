//! Executes translated code: the `Executor` the store calls into, the value
//! stack, frames and calls. Instructions are handler-threaded ops
//! (`op`, `handlers`).

mod bulk;
#[macro_use]
mod handlers;
mod lanes;
mod op;
mod regs;
mod simd;
mod stack;
mod vector;

use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

use wamr_runtime::vmctx::{VMContext, VMFuncRef, VMGlobal, VMMemory};
use wamr_runtime::{
    Executor, FuncId, FuncKind, InstanceId, Module, Store, Trap, TrapKind, Val, WasmFunc,
};

use crate::translate::translate;
use op::{Exit, Function, Op};
use regs::{Mem, Regs};
use stack::ValueStack;

pub use handlers::lower;

/// The interpreter tier.
#[derive(Debug, Default, Clone)]
pub struct Interpreter {
    tier_up: Option<Arc<dyn TierUp>>,
}

/// What the interpreter tells a tier manager (`wamr_rs`'s `--tier auto`),
/// and how native code gets in.
///
/// Calls and loop back-edges count down a budget of [`TierUp::interval`];
/// each time it runs out the interpreter calls [`TierUp::tick`] for the
/// running instance. Calls to functions whose slots hold published native
/// code (contract 5) run that code; activations already running finish in
/// the interpreter.
pub trait TierUp: Send + Sync + std::fmt::Debug {
    /// Calls plus back-edges between ticks.
    fn interval(&self) -> u32;

    /// `instance` ran another interval's worth. Returns whether native code
    /// was newly published into its slots (the interpreter then drops its
    /// caches of translated code for direct calls).
    /// `running` lists the functions of `instance` with interpreted
    /// activations in this thread's run (module indices, each once, by
    /// their outermost activation, outermost first): the ones whose compile
    /// wants on-stack-replacement entries.
    fn tick(&self, store: &Store, instance: InstanceId, running: &dyn Fn() -> Vec<u32>) -> bool;

    /// The OSR entry of function `func` (module index) of `instance`, once
    /// compiled: `fn(vmctx, frame: *mut u64, loop: u32)` runs the rest of
    /// an interpreted activation from the header of its `loop`-th loop,
    /// reading the locals from `frame` and leaving the results there.
    /// When there is none yet, the manager may compile one, with entries
    /// for the `running` functions too (see [`TierUp::tick`]).
    fn osr_entry(
        &self,
        store: &Store,
        instance: InstanceId,
        func: u32,
        running: &dyn Fn() -> Vec<u32>,
    ) -> Option<*const u8>;
}

/// What `Machine::tick_at_loop` did.
pub(crate) mod tick {
    /// Go on at the jump's target.
    pub const CONTINUE: u8 = 0;
    /// Native code finished the function: resume at `Machine::resume`.
    pub const RETURNED: u8 = 1;
    /// Native code finished the entry function: the run is done.
    pub const DONE: u8 = 2;
    /// Native code trapped (`Machine::trap` holds it).
    pub const TRAP: u8 = 3;
}

impl Interpreter {
    pub fn new() -> Self {
        Interpreter::default()
    }

    /// An interpreter that reports to and takes native code from `tier_up`.
    pub fn with_tier_up(tier_up: Arc<dyn TierUp>) -> Self {
        Interpreter {
            tier_up: Some(tier_up),
        }
    }
}

impl Executor for Interpreter {
    fn call(
        &self,
        store: &mut Store,
        func: WasmFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let slots = (store.config().max_stack_bytes / 8).max(1024);
        let Some(mut stack) = take_stack(slots) else {
            return Err(Trap::host(format!(
                "cannot reserve a value stack of {} bytes",
                slots * 8
            )));
        };
        let values = stack.as_mut_slice();
        Val::write_all_slots(args, values);
        let outcome =
            Machine::new(store, values, self.tier_up.clone()).run(func.instance, func.index);
        if outcome.is_ok() {
            let ty = store.func(func.id).ty().clone();
            let values = stack.as_mut_slice();
            for (out, v) in results
                .iter_mut()
                .zip(Val::read_all_slots(ty.results(), values))
            {
                *out = v;
            }
        }
        give_stack(stack);
        outcome
    }
}

thread_local! {
    /// Value stacks kept for reuse: reserving megabytes per call from the
    /// host would dominate short calls. Nested entries take separate stacks.
    static STACKS: RefCell<Vec<ValueStack>> = const { RefCell::new(Vec::new()) };
}

fn take_stack(slots: usize) -> Option<ValueStack> {
    let reused = STACKS.with(|s| s.borrow_mut().pop());
    match reused {
        Some(stack) if stack.len() == slots => Some(stack),
        _ => ValueStack::new(slots),
    }
}

fn give_stack(stack: ValueStack) {
    STACKS.with(|s| s.borrow_mut().push(stack));
}

/// Translated code of one module, shared by all its instances; each
/// function is translated on its first call.
#[derive(Debug)]
pub struct ModuleCode {
    funcs: Box<[OnceLock<Result<Function, String>>]>,
}

impl ModuleCode {
    fn new(module: &Module) -> Self {
        ModuleCode {
            funcs: (0..module.bodies().len())
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// The code of defined function `func` (module index space).
    fn get(&self, module: &Module, func: u32) -> Result<&Function, Trap> {
        let defined = (func - module.num_imported_funcs()) as usize;
        self.funcs[defined]
            .get_or_init(|| {
                translate(module, func)
                    .map(lower)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Trap::host(format!("cannot translate function {func}: {e}")))
    }
}

/// What the interpreter caches about an instance while it runs its code.
struct InstanceCtx {
    id: InstanceId,
    module: Module,
    code: Arc<ModuleCode>,
    /// The instance's function index space (a boxed slice owned by the
    /// store's instance, which is never freed while the store lives).
    funcs: *const FuncId,
    vmctx: *const VMContext,
    /// Memory 0's view, or null without memories.
    memory0: *mut VMMemory,
    num_imported_funcs: u32,
    /// Code of the instance's own functions once resolved: the fast path
    /// for direct calls within an instance.
    local_code: Box<[Cell<*const Function>]>,
}

impl InstanceCtx {
    fn new(store: &Store, id: InstanceId) -> Self {
        let inst = store.instance(id);
        let module = inst.module().clone();
        let code = module.extension(ModuleCode::new);
        let vmctx = inst.vmctx();
        // SAFETY: the VM context's memory array has one entry per memory.
        let memory0 = if inst.memories().is_empty() {
            std::ptr::null_mut()
        } else {
            unsafe { *(*vmctx).memories }
        };
        let defined = module.bodies().len();
        InstanceCtx {
            id,
            num_imported_funcs: module.num_imported_funcs(),
            module,
            code,
            funcs: inst.funcs().as_ptr(),
            vmctx,
            memory0,
            local_code: (0..defined).map(|_| Cell::new(std::ptr::null())).collect(),
        }
    }

    fn memory0(&self) -> Mem {
        if self.memory0.is_null() {
            return Mem::EMPTY;
        }
        // SAFETY: `memory0` points at the live memory's view.
        let vm = unsafe { &*self.memory0 };
        Mem {
            base: vm.base,
            len: vm.length,
        }
    }
}

/// A suspended caller.
struct Frame {
    /// Where the caller resumes.
    ret: *const Op,
    fp: *mut u64,
    func: *const Function,
    ctx: usize,
}

/// Where dispatch continues: an op, its frame and memory 0's view.
#[derive(Clone, Copy)]
struct Resume {
    ip: *const Op,
    fp: *mut u64,
    mem: *mut u8,
    len: u64,
}

/// One run of the interpreter: from an entry from the host to its return.
pub struct Machine<'a> {
    store: &'a mut Store,
    /// The value stack, borrowed for `'a`; every access goes through this
    /// one pointer so that frame pointers derived from it stay valid.
    stack: *mut u64,
    stack_end: *mut u64,
    frames: Vec<Frame>,
    ctxs: Vec<InstanceCtx>,
    /// How many frames this run may push before "call stack exhausted".
    depth_limit: usize,
    /// The running function and its instance context.
    func: *const Function,
    ctx: usize,
    /// The running instance's globals (from its VM context).
    globals: *const *mut VMGlobal,
    trap: Option<Trap>,
    /// Calls and back-edges left before the next `tick`.
    pub(crate) budget: u32,
    /// Ticks so far (see `tick`).
    ticks: u32,
    /// Where a jump that ran out of budget goes on after the tick.
    pub(crate) after_tick: *const Op,
    tier_up: Option<Arc<dyn TierUp>>,
    /// Where dispatch goes on: the next op in loop-dispatch builds, and
    /// the caller after an on-stack replacement.
    resume: Resume,
    /// The accumulator to go on with, in loop-dispatch builds.
    #[cfg_attr(wamr_tail_dispatch, allow(dead_code))]
    resume_acc: u64,
    _stack: std::marker::PhantomData<&'a mut [u64]>,
}

impl<'a> Machine<'a> {
    fn new(store: &'a mut Store, stack: &'a mut [u64], tier_up: Option<Arc<dyn TierUp>>) -> Self {
        let depth_limit = store
            .config()
            .max_call_depth
            .saturating_sub(store.call_depth) as usize;
        let range = stack.as_mut_ptr_range();
        Machine {
            depth_limit,
            store,
            stack: range.start,
            stack_end: range.end,
            frames: Vec::new(),
            ctxs: Vec::new(),
            func: std::ptr::null(),
            ctx: 0,
            globals: std::ptr::null(),
            trap: None,
            budget: tier_up.as_ref().map_or(u32::MAX, |t| t.interval().max(1)),
            ticks: 0,
            after_tick: std::ptr::null(),
            tier_up,
            resume: Resume {
                ip: std::ptr::null(),
                fp: range.start,
                mem: std::ptr::null_mut(),
                len: 0,
            },
            resume_acc: 0,
            _stack: std::marker::PhantomData,
        }
    }

    /// Counts a call or back-edge against the tier-up budget.
    #[inline(always)]
    pub(crate) fn count(&mut self) {
        self.budget -= 1;
        if self.budget == 0 {
            self.tick();
        }
    }

    /// The budget ran out: report to the tier manager, and take up native
    /// code it published.
    #[cold]
    #[inline(never)]
    pub(crate) fn tick(&mut self) {
        let Some(tier_up) = self.tier_up.clone() else {
            self.budget = u32::MAX;
            return;
        };
        // Every other budget is one longer, so that ticks drift through
        // the counted points of a loop instead of always landing on the
        // same call (when the loop's count divides the interval) and never
        // on the back-edge, where on-stack replacement can happen.
        self.ticks = self.ticks.wrapping_add(1);
        self.budget = tier_up.interval().max(1).saturating_add(self.ticks & 1);
        let instance = self.ctxs[self.ctx].id;
        if tier_up.tick(self.store, instance, &|| self.running_funcs(instance)) {
            // Direct calls must go through the slots again to find it.
            for ctx in &self.ctxs {
                for code in ctx.local_code.iter() {
                    code.set(std::ptr::null());
                }
            }
        }
    }

    /// The functions of `instance` with activations in this run that have
    /// OSR points, outermost activation first, each once.
    fn running_funcs(&self, instance: InstanceId) -> Vec<u32> {
        let frames = self.frames.iter().map(|f| (f.func, f.ctx));
        let mut funcs: Vec<u32> = Vec::new();
        for (func, ctx) in frames.chain(std::iter::once((self.func, self.ctx))) {
            if func.is_null() || self.ctxs[ctx].id != instance {
                continue;
            }
            // SAFETY: a frame's function lives while the frame does.
            let f = unsafe { &*func };
            if !f.osr_points.is_empty() && !funcs.contains(&f.func_index) {
                funcs.push(f.func_index);
            }
        }
        funcs
    }

    /// A loop back-edge ran out of budget: tick, and if native code for the
    /// running function can take over at this loop (the jump's target is an
    /// OSR point), run the rest of the activation there. Returns a
    /// [`tick`] code; `fp` is the running frame.
    pub(crate) fn tick_at_loop(&mut self, fp: *mut u64) -> u8 {
        self.tick();
        let Some(tier_up) = self.tier_up.clone() else {
            return tick::CONTINUE;
        };
        // SAFETY: `self.func` is the running function, live while it runs.
        let f = unsafe { &*self.func };
        if f.osr_points.is_empty() {
            return tick::CONTINUE;
        }
        let pc = (self.after_tick as usize - f.ops.as_ptr() as usize) / size_of::<Op>();
        let Some(&(_, loop_index)) = f.osr_points.iter().find(|&&(at, _)| at as usize == pc) else {
            return tick::CONTINUE;
        };
        let instance = self.ctxs[self.ctx].id;
        let running = || self.running_funcs(instance);
        let Some(entry) = tier_up.osr_entry(self.store, instance, f.func_index, &running) else {
            return tick::CONTINUE;
        };
        tracing::trace!(func = f.func_index, loop_index, "on-stack replacement");
        let vmctx = self.store.instance(instance).vmctx() as *mut VMContext;
        // SAFETY: the entry has the OSR signature and stays mapped while its
        // module lives; `fp` is this activation's frame, which holds every
        // local (the state at an OSR point) and has room for the results.
        unsafe { self.store.enter_compiled(entry, vmctx, fp, loop_index) };
        if let Some(trap) = self.store.take_compiled_trap() {
            let name = self.ctxs[self.ctx].module.func_name(f.func_index);
            self.trap = Some(trap.in_function(|| name));
            return tick::TRAP;
        }
        match self.pop_frame() {
            None => tick::DONE,
            Some(to) => {
                self.resume = to;
                tick::RETURNED
            }
        }
    }

    /// The array-call trampoline published in `id`'s slot, if any.
    #[inline]
    fn native_entry(&self, id: FuncId) -> Option<*mut u8> {
        let code = self
            .store
            .func(id)
            .slot()
            .array_call
            .load(std::sync::atomic::Ordering::Acquire);
        (!code.is_null()).then_some(code)
    }

    /// Runs function `index` of `instance` as native code through its
    /// trampoline, with arguments and then results at `values`.
    fn call_native(
        &mut self,
        instance: InstanceId,
        index: u32,
        trampoline: *mut u8,
        values: *mut u64,
    ) -> Result<(), Trap> {
        let vmctx = self.store.instance(instance).vmctx() as *mut VMContext;
        // SAFETY: a published trampoline has the array-call signature and
        // stays mapped while its module lives; `values` lies in the caller's
        // frame, which has room for the callee's arguments and results.
        unsafe { self.store.enter_compiled(trampoline, vmctx, values, 0) };
        match self.store.take_compiled_trap() {
            None => Ok(()),
            Some(trap) => {
                let module = self.store.instance(instance).module().clone();
                Err(trap.in_function(|| module.func_name(index)))
            }
        }
    }

    /// The index of `id`'s context, creating it on first use.
    fn ctx_index(&mut self, id: InstanceId) -> usize {
        if let Some(i) = self.ctxs.iter().position(|c| c.id == id) {
            return i;
        }
        self.ctxs.push(InstanceCtx::new(self.store, id));
        self.ctxs.len() - 1
    }

    /// Makes `ctx` the running context.
    fn switch_ctx(&mut self, ctx: usize) {
        self.ctx = ctx;
        // SAFETY: the context's VM context is live while the store is.
        self.globals = unsafe { (*self.ctxs[ctx].vmctx).globals };
    }

    /// The compiled code of function `index` of context `ctx` (translating
    /// it on first use).
    fn code(&self, ctx: usize, index: u32) -> Result<*const Function, Trap> {
        let c = &self.ctxs[ctx];
        let f = c.code.get(&c.module, index)? as *const Function;
        let defined = (index - c.num_imported_funcs) as usize;
        c.local_code[defined].set(f);
        Ok(f)
    }

    /// The code of function `index` of the running instance, if it is one
    /// of its own and already translated.
    #[inline(always)]
    fn local_code(&self, index: u32) -> Option<*const Function> {
        let c = &self.ctxs[self.ctx];
        let defined = index.checked_sub(c.num_imported_funcs)?;
        let code = c.local_code.get(defined as usize)?.get();
        (!code.is_null()).then_some(code)
    }

    /// The store's id of function `index` of the running instance.
    fn func_id(&self, index: u32) -> FuncId {
        // SAFETY: validated code only names functions of its module, and
        // the slice has one entry per function.
        unsafe { *self.ctxs[self.ctx].funcs.add(index as usize) }
    }

    fn memory0(&self) -> Mem {
        self.ctxs[self.ctx].memory0()
    }

    /// Suspends the running frame (resuming at `ret` with frame `fp`) and
    /// enters `func` with its frame at `callee_fp`.
    #[inline(always)]
    fn push_frame(
        &mut self,
        func: *const Function,
        callee_fp: *mut u64,
        ret: *const Op,
        fp: *mut u64,
    ) -> Result<(), TrapKind> {
        // SAFETY: `func` is live (compiled code outlives `self.ctxs`).
        let f = unsafe { &*func };
        self.check_frame(f, callee_fp)?;
        self.frames.push(Frame {
            ret,
            fp,
            func: self.func,
            ctx: self.ctx,
        });
        self.func = func;
        Ok(())
    }

    /// Checks that a frame for `f` fits at `fp`, and zeroes its locals.
    #[inline(always)]
    fn check_frame(&self, f: &Function, fp: *mut u64) -> Result<(), TrapKind> {
        let room = (self.stack_end as usize - fp as usize) / 8;
        if self.frames.len() >= self.depth_limit || f.frame_size as usize > room {
            return Err(TrapKind::StackOverflow);
        }
        // SAFETY: the frame lies within the stack (checked above), and the
        // locals lie within the frame.
        unsafe {
            let locals = fp.add(f.num_params as usize);
            for i in 0..f.num_locals as usize {
                *locals.add(i) = 0;
            }
        }
        Ok(())
    }

    /// Returns to the suspended caller, if any.
    #[inline(always)]
    fn pop_frame(&mut self) -> Option<Resume> {
        let caller = self.frames.pop()?;
        self.func = caller.func;
        if caller.ctx != self.ctx {
            self.switch_ctx(caller.ctx);
        }
        let mem = self.memory0();
        Some(Resume {
            ip: caller.ret,
            fp: caller.fp,
            mem: mem.base,
            len: mem.len,
        })
    }

    /// A call that is not the fast path: another instance, a host function,
    /// or a function translated on this first call.
    fn call_slow(
        &mut self,
        id: FuncId,
        ret: *const Op,
        fp: *mut u64,
        callee_fp: *mut u64,
    ) -> Result<Resume, Trap> {
        match *self.store.func(id).kind() {
            FuncKind::Wasm { instance, index } => {
                if let Some(trampoline) = self.native_entry(id) {
                    self.call_native(instance, index, trampoline, callee_fp)?;
                    // Native code may have grown memory.
                    let mem = self.memory0();
                    return Ok(Resume {
                        ip: ret,
                        fp,
                        mem: mem.base,
                        len: mem.len,
                    });
                }
                let ctx = self.ctx_index(instance);
                let func = self.code(ctx, index)?;
                self.push_frame(func, callee_fp, ret, fp)?;
                if ctx != self.ctx {
                    self.switch_ctx(ctx);
                }
                let mem = self.memory0();
                Ok(Resume {
                    // SAFETY: `func` is live.
                    ip: unsafe { (*func).ops.as_ptr() },
                    fp: callee_fp,
                    mem: mem.base,
                    len: mem.len,
                })
            }
            FuncKind::Host(_) => {
                self.call_host(id, callee_fp)?;
                let mem = self.memory0();
                Ok(Resume {
                    ip: ret,
                    fp,
                    mem: mem.base,
                    len: mem.len,
                })
            }
        }
    }

    /// `return_call`: replaces the running frame (at `fp`) with a call to
    /// `id` whose arguments are at slot `base`. `None`: the run finished.
    fn tail_call(&mut self, id: FuncId, fp: *mut u64, base: u32) -> Result<Option<Resume>, Trap> {
        let regs = Regs(fp);
        match *self.store.func(id).kind() {
            FuncKind::Wasm { instance, index } if self.native_entry(id).is_some() => {
                let trampoline = self.native_entry(id).expect("checked");
                // SAFETY: the arguments start at slot `base` of the frame.
                self.call_native(instance, index, trampoline, unsafe {
                    fp.add(base as usize)
                })?;
                let n = self.store.func(id).ty().result_slots() as u32;
                for i in 0..n {
                    regs.set(i, regs.get(base + i));
                }
                Ok(self.pop_frame())
            }
            FuncKind::Wasm { instance, index } => {
                let ctx = self.ctx_index(instance);
                let func = self.code(ctx, index)?;
                // SAFETY: `func` is live.
                let f = unsafe { &*func };
                for i in 0..f.num_params {
                    regs.set(i, regs.get(base + i));
                }
                self.check_frame(f, fp)?;
                self.func = func;
                if ctx != self.ctx {
                    self.switch_ctx(ctx);
                }
                let mem = self.memory0();
                Ok(Some(Resume {
                    ip: f.ops.as_ptr(),
                    fp,
                    mem: mem.base,
                    len: mem.len,
                }))
            }
            FuncKind::Host(_) => {
                // SAFETY: the arguments start at slot `base` of the frame.
                self.call_host(id, unsafe { fp.add(base as usize) })?;
                let n = self.store.func(id).ty().result_slots() as u32;
                for i in 0..n {
                    regs.set(i, regs.get(base + i));
                }
                Ok(self.pop_frame())
            }
        }
    }

    /// Calls host function `func` with arguments at `args`, writing its
    /// results there (both in the slot layout).
    fn call_host(&mut self, func: FuncId, args: *mut u64) -> Result<(), Trap> {
        let ty = self.store.func(func).ty().clone();
        // SAFETY: the caller's frame holds the arguments and has room for
        // the results from `args` on (the translator sized it so).
        let values = unsafe { std::slice::from_raw_parts_mut(args, ty.value_array_len()) };
        let params: Vec<Val> = Val::read_all_slots(ty.params(), values).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
        let caller = Some(self.ctxs[self.ctx].id);
        self.store.call_from(caller, func, &params, &mut results)?;
        Val::write_all_slots(&results, values);
        Ok(())
    }

    /// The function a `call_indirect` reaches at element `index`, after
    /// the table and signature checks.
    fn indirect_target(&mut self, table: u32, type_index: u32, index: u64) -> Result<FuncId, Trap> {
        let c = &self.ctxs[self.ctx];
        let inst = self.store.instance(c.id);
        let table_id = inst.tables()[table as usize];
        let expected = inst.type_ids()[type_index as usize];
        let Some(r) = self.store.table(table_id).get(index) else {
            return Err(TrapKind::UndefinedElement.into());
        };
        if r.is_null() {
            return Err(TrapKind::UninitializedElement.into());
        }
        // SAFETY: non-null funcrefs are addresses of live slots of this store.
        let slot = unsafe { &*(r.0 as *const VMFuncRef) };
        if slot.type_id != expected {
            return Err(TrapKind::IndirectCallTypeMismatch.into());
        }
        Ok(FuncId(slot.func_id))
    }

    #[inline(always)]
    fn global(&self, index: u32) -> u64 {
        // SAFETY: validated code names existing globals; the VM context's
        // array holds one live cell per global.
        unsafe { (**self.globals.add(index as usize)).bits[0] }
    }

    #[inline(always)]
    fn set_global(&mut self, index: u32, value: u64) {
        // SAFETY: as in `global`.
        unsafe { (**self.globals.add(index as usize)).bits[0] = value }
    }

    /// A `v128` global (cells are 16 bytes, low half first).
    fn global128(&self, index: u32) -> u128 {
        // SAFETY: as in `global`.
        let bits = unsafe { (**self.globals.add(index as usize)).bits };
        bits[0] as u128 | (bits[1] as u128) << 64
    }

    fn set_global128(&mut self, index: u32, value: u128) {
        // SAFETY: as in `global`.
        unsafe { (**self.globals.add(index as usize)).bits = [value as u64, (value >> 64) as u64] }
    }

    fn func_ref(&self, index: u32) -> u64 {
        // SAFETY: validated code names existing functions.
        unsafe { *(*self.ctxs[self.ctx].vmctx).funcs.add(index as usize) as u64 }
    }

    /// Records a trap; the dispatch chain then unwinds.
    #[cold]
    fn trap(&mut self, kind: TrapKind) -> Exit {
        self.trap_with(kind.into())
    }

    #[cold]
    fn trap_with(&mut self, trap: Trap) -> Exit {
        self.trap = Some(trap);
        Exit::Trap
    }

    /// Runs function `index` of `instance` with its arguments at the bottom
    /// of the stack; leaves its results there.
    fn run(&mut self, instance: InstanceId, index: u32) -> Result<(), Trap> {
        let ctx = self.ctx_index(instance);
        self.switch_ctx(ctx);
        let func = self.code(ctx, index)?;
        // SAFETY: `func` points into the module's code, kept alive by `self.ctxs`.
        let f = unsafe { &*func };
        self.check_frame(f, self.stack)?;
        self.func = func;
        let mem = self.memory0();
        let exit = dispatch(f.ops.as_ptr(), self.stack, mem.base, mem.len, self);
        match exit {
            Exit::Done => Ok(()),
            _ => {
                let trap = self
                    .trap
                    .take()
                    .unwrap_or_else(|| Trap::host("interpreter stopped without a trap"));
                // SAFETY: `self.func` is live.
                let index = unsafe { (*self.func).func_index };
                let name = self.ctxs[self.ctx].module.func_name(index);
                Err(trap.in_function(|| name))
            }
        }
    }
}

/// Runs ops from `ip` until the entry function returns or traps.
#[cfg(wamr_tail_dispatch)]
fn dispatch(ip: *const Op, fp: *mut u64, mem: *mut u8, len: u64, m: &mut Machine<'_>) -> Exit {
    // SAFETY: `ip` is the first op of a live function.
    unsafe { ((*ip).handler)(ip, fp, mem, len, 0, m) }
}

/// Runs ops from `ip` until the entry function returns or traps; each
/// handler returns here with the next op in `m.resume`.
#[cfg(not(wamr_tail_dispatch))]
fn dispatch(ip: *const Op, fp: *mut u64, mem: *mut u8, len: u64, m: &mut Machine<'_>) -> Exit {
    let mut at = Resume { ip, fp, mem, len };
    loop {
        // SAFETY: `at.ip` is a valid op of a live function.
        let acc = m.resume_acc;
        match unsafe { ((*at.ip).handler)(at.ip, at.fp, at.mem, at.len, acc, m) } {
            Exit::Continue => at = m.resume,
            done => return done,
        }
    }
}
