//! The AOT tier as an [`Executor`]: each module is compiled once (for the
//! host CPU), its code mapped read+exec, and calls enter compiled code
//! through array-call trampolines.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use wamr_runtime::vmctx::VMContext;
use wamr_runtime::{Executor, Module, Store, Trap, Val, WasmFunc};

use crate::code_memory::CodeMemory;
use crate::compile::{CompileOptions, compile_object};
use crate::link::link;
use crate::translate::{func_symbol, trampoline_symbol};

/// Native code of one module: entry and trampoline of each defined function.
#[derive(Debug)]
pub struct CompiledModule {
    code: CodeMemory,
    /// Per defined function: (native entry, trampoline) offsets in `code`.
    entries: Vec<(u32, u32)>,
}

// SAFETY: the code mapping is immutable (read+exec) once created.
unsafe impl Send for CompiledModule {}
unsafe impl Sync for CompiledModule {}

impl CompiledModule {
    /// Compiles, links and maps `module`.
    pub fn compile(module: &Module, opts: &CompileOptions) -> Result<Self, String> {
        let object = compile_object(module, opts).map_err(|e| e.to_string())?;
        let linked = link(&object).map_err(|e| e.to_string())?;
        let mut entries = Vec::new();
        for index in module.num_imported_funcs()..module.num_funcs() {
            let find = |name: String| {
                linked
                    .symbols
                    .get(&name)
                    .copied()
                    .ok_or_else(|| format!("compiled code lacks symbol {name}"))
            };
            entries.push((find(func_symbol(index))?, find(trampoline_symbol(index))?));
        }
        let code = CodeMemory::from_bytes(&linked.blob).map_err(|e| e.to_string())?;
        Ok(CompiledModule { code, entries })
    }

    fn entry(&self, defined: usize) -> (*const u8, *const u8) {
        let (f, t) = self.entries[defined];
        (
            self.code.entry(f).expect("entry inside the code"),
            self.code.entry(t).expect("trampoline inside the code"),
        )
    }
}

/// The compiled code a module maps to, cached on the module.
struct ModuleCode(Result<CompiledModule, String>);

/// Runs wasm functions as native code compiled by LLVM.
#[derive(Debug, Clone)]
pub struct AotExecutor {
    options: CompileOptions,
}

impl AotExecutor {
    pub fn new(options: CompileOptions) -> Self {
        AotExecutor { options }
    }

    /// The compiled code of `module`, compiling it on first use.
    fn compiled(&self, module: &Module) -> Result<Arc<ModuleCode>, Trap> {
        let code = module.extension(|m| ModuleCode(CompiledModule::compile(m, &self.options)));
        match &code.0 {
            Ok(_) => Ok(code),
            Err(e) => Err(Trap::host(format!("AOT compilation failed: {e}"))),
        }
    }
}

impl Executor for AotExecutor {
    fn call(
        &self,
        store: &mut Store,
        func: WasmFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let WasmFunc {
            id: func,
            instance,
            index,
        } = func;
        let module = store.instance(instance).module().clone();
        let code = self.compiled(&module)?;
        let compiled = code.0.as_ref().expect("checked by `compiled`");
        // Publish native entries into the instance's slots (contract 5), so
        // indirect calls from compiled code go native.
        let imported = module.num_imported_funcs() as usize;
        for (defined, &id) in store.instance(instance).funcs()[imported..]
            .iter()
            .enumerate()
        {
            let slot = &store.func(id).slot().code;
            if slot.load(Ordering::Acquire).is_null() {
                slot.store(compiled.entry(defined).0 as *mut u8, Ordering::Release);
            }
        }
        let (_, trampoline) = compiled.entry(index as usize - imported);
        let ty = store.func(func).ty().clone();
        let mut values = vec![0u64; ty.params().len().max(ty.results().len()).max(1)];
        for (slot, arg) in values.iter_mut().zip(args) {
            *slot = arg.to_bits();
        }
        let vmctx = store.instance(instance).vmctx() as *mut VMContext;
        // SAFETY: the trampoline was compiled for this module's function
        // `index` with the array-call signature; `vmctx` is the live
        // instance's context and `values` has room for arguments and results.
        let call: unsafe extern "C" fn(*mut VMContext, *mut u64) =
            unsafe { std::mem::transmute(trampoline) };
        store.with_current(|_| unsafe { call(vmctx, values.as_mut_ptr()) });
        if let Some(trap) = store.take_compiled_trap() {
            let name = module.func_name(index);
            return Err(trap.in_function(|| name));
        }
        for ((out, &ty), &bits) in results.iter_mut().zip(ty.results()).zip(&values) {
            *out = Val::from_bits(ty, bits);
        }
        Ok(())
    }
}
