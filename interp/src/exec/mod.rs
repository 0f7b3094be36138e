//! Executes translated code: the `Executor` the store calls into, the
//! value stack, frames and calls. The instruction loop is in `run.rs`.

mod bulk;
mod numeric;
mod run;

use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

use wamr_runtime::vmctx::{VMContext, VMMemory};
use wamr_runtime::{Executor, FuncId, FuncKind, InstanceId, Module, Store, Trap, TrapKind, Val};

use crate::code::CompiledFunc;
use crate::translate::translate;

/// The interpreter tier.
#[derive(Debug, Default, Clone, Copy)]
pub struct Interpreter;

impl Executor for Interpreter {
    fn call(
        &self,
        store: &mut Store,
        func: FuncId,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let FuncKind::Wasm { instance, index } = *store.func(func).kind() else {
            return store.call_unchecked(func, args, results);
        };
        if store.call_depth >= store.config().max_call_depth {
            return Err(TrapKind::StackOverflow.into());
        }
        let slots = (store.config().max_stack_bytes / 8).max(1024);
        let mut stack = take_stack(slots);
        for (slot, arg) in stack.iter_mut().zip(args) {
            *slot = arg.to_bits();
        }
        store.call_depth += 1;
        let outcome = Machine::new(store, &mut stack).run(instance, index);
        store.call_depth -= 1;
        if outcome.is_ok() {
            let ty = store.func(func).ty().clone();
            for ((out, &ty), &bits) in results.iter_mut().zip(ty.results()).zip(stack.iter()) {
                *out = Val::from_bits(ty, bits);
            }
        }
        give_stack(stack);
        outcome
    }
}

thread_local! {
    /// Value stacks kept for reuse: allocating megabytes per call from the
    /// host would dominate short calls. Nested entries take separate stacks.
    static STACKS: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

fn take_stack(slots: usize) -> Vec<u64> {
    let reused = STACKS.with(|s| s.borrow_mut().pop());
    match reused {
        Some(stack) if stack.len() == slots => stack,
        _ => vec![0; slots],
    }
}

fn give_stack(stack: Vec<u64>) {
    STACKS.with(|s| s.borrow_mut().push(stack));
}

/// Translated code of one module, shared by all its instances; each
/// function is translated on its first call.
#[derive(Debug)]
pub struct ModuleCode {
    funcs: Box<[OnceLock<Result<CompiledFunc, String>>]>,
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
    fn get(&self, module: &Module, func: u32) -> Result<&CompiledFunc, Trap> {
        let defined = (func - module.num_imported_funcs()) as usize;
        self.funcs[defined]
            .get_or_init(|| translate(module, func).map_err(|e| e.to_string()))
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
    local_code: Box<[Cell<*const CompiledFunc>]>,
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

    /// The code of function `index` if it is one of this instance's own and
    /// already translated.
    #[inline(always)]
    fn local_code(&self, index: u32) -> Option<*const CompiledFunc> {
        let defined = index.checked_sub(self.num_imported_funcs)?;
        let code = self.local_code.get(defined as usize)?.get();
        (!code.is_null()).then_some(code)
    }

    fn func_id(&self, index: u32) -> FuncId {
        // SAFETY: validated code only names functions of its module, and
        // the slice has one entry per function.
        unsafe { *self.funcs.add(index as usize) }
    }
}

/// A suspended caller.
struct Frame {
    func: *const CompiledFunc,
    pc: usize,
    fp: usize,
    ctx: usize,
}

/// One run of the interpreter: from an entry from the host to its return.
struct Machine<'a> {
    store: &'a mut Store,
    /// The value stack, borrowed for `'a`; every access goes through this
    /// one pointer so that frame pointers derived from it stay valid.
    stack: *mut u64,
    stack_len: usize,
    frames: Vec<Frame>,
    ctxs: Vec<InstanceCtx>,
    /// How many frames this run may push before "call stack exhausted".
    depth_limit: usize,
    _stack: std::marker::PhantomData<&'a mut [u64]>,
}

impl<'a> Machine<'a> {
    fn new(store: &'a mut Store, stack: &'a mut [u64]) -> Self {
        let depth_limit = store
            .config()
            .max_call_depth
            .saturating_sub(store.call_depth) as usize;
        Machine {
            depth_limit,
            store,
            stack: stack.as_mut_ptr(),
            stack_len: stack.len(),
            frames: Vec::new(),
            ctxs: Vec::new(),
            _stack: std::marker::PhantomData,
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

    /// The compiled code of function `index` of instance context `ctx`.
    fn code(&self, ctx: usize, index: u32) -> Result<*const CompiledFunc, Trap> {
        let c = &self.ctxs[ctx];
        c.code
            .get(&c.module, index)
            .map(|f| f as *const CompiledFunc)
    }

    /// Checks that a frame for `func` fits at `fp`, and zeroes its locals.
    #[inline(always)]
    fn prepare_frame(&mut self, func: &CompiledFunc, fp: usize) -> Result<(), TrapKind> {
        if self.frames.len() >= self.depth_limit || fp + func.frame_size as usize > self.stack_len {
            return Err(TrapKind::StackOverflow);
        }
        // SAFETY: the frame [fp, fp + frame_size) lies within the stack
        // (checked above), and the locals lie within the frame.
        unsafe {
            let locals = self.stack.add(fp + func.num_params as usize);
            for i in 0..func.num_locals as usize {
                *locals.add(i) = 0;
            }
        }
        Ok(())
    }

    /// Calls host function `func` with arguments in `stack[base..]`, writing
    /// its results there.
    fn call_host(&mut self, ctx: usize, func: FuncId, base: usize) -> Result<(), Trap> {
        let ty = self.store.func(func).ty().clone();
        // SAFETY (both accesses): the translator placed the call's operands
        // in the caller's frame, which lies within the stack.
        let args: Vec<Val> = ty
            .params()
            .iter()
            .enumerate()
            .map(|(i, &t)| Val::from_bits(t, unsafe { *self.stack.add(base + i) }))
            .collect();
        let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
        let caller = Some(self.ctxs[ctx].id);
        self.store.call_from(caller, func, &args, &mut results)?;
        for (i, v) in results.iter().enumerate() {
            unsafe { *self.stack.add(base + i) = v.to_bits() };
        }
        Ok(())
    }

    fn trap_in(&self, trap: Trap, func: *const CompiledFunc, ctx: usize) -> Trap {
        // SAFETY: `func` points into a live `ModuleCode` held by `self.ctxs`.
        let index = unsafe { (*func).func_index };
        trap.in_function(|| self.ctxs[ctx].module.func_name(index))
    }
}
