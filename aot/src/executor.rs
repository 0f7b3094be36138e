//! The AOT tier as an [`Executor`]: native code per module, mapped
//! read+exec, entered through array-call trampolines.
//!
//! A module's code comes from one of two places, and is cached on the
//! module either way: an `.aot` file loaded with [`load_aot_file`], or a
//! [`Compiler`] asked on the module's first call.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use wamr_runtime::vmctx::VMContext;
use wamr_runtime::{Config, Executor, FuncId, InstanceId, Module, Store, Trap, Val, WasmFunc};

use crate::cache::{CacheKey, CodeCache};
use crate::code_memory::CodeMemory;
use crate::compiler::{COMPILER_VERSION, CompileJob, CompileOptions, Compiler, OsrFuncs};
use crate::container::{
    AotFile, AotImage, ContainerError, FaultSite, FunctionEntry, HostTarget, WasmFeatures,
};

/// Why an `.aot` file or image cannot run here.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error("the wasm inside the .aot file is not valid: {0}")]
    Module(#[from] wamr_runtime::Error),
    #[error(
        "the .aot file was compiled with wasm features [{file}], but this runtime enables \
         [{runtime}]; recompile it with the same features"
    )]
    FeatureMismatch { file: String, runtime: String },
    #[error("the .aot file has code for {found} functions, but its module defines {expected}")]
    FunctionCount { found: usize, expected: usize },
    #[error("the .aot file names function {func} at a fault site, but its module has {funcs}")]
    FaultSiteFunction { func: u32, funcs: u32 },
}

/// Native code of one module: the entries of each defined function.
#[derive(Debug)]
pub struct CompiledModule {
    code: CodeMemory,
    entries: Vec<FunctionEntry>,
}

impl CompiledModule {
    /// Maps `image`'s code (copied into fresh executable memory) for `module`.
    pub fn from_image(module: &Module, image: &AotImage<'_>) -> Result<Self, LoadError> {
        check_functions(module, &image.functions, &image.fault_sites)?;
        let code = CodeMemory::from_bytes(image.code).map_err(ContainerError::CodeMapping)?;
        Ok(CompiledModule::new(
            module,
            code,
            image.functions.clone(),
            image.fault_sites.clone(),
        ))
    }

    fn new(
        module: &Module,
        code: CodeMemory,
        entries: Vec<FunctionEntry>,
        fault_sites: Vec<FaultSite>,
    ) -> Self {
        crate::perf_map::record(module, code.bytes(), &entries);
        let first = module.num_imported_funcs();
        let entry_points = (first..).zip(&entries).flat_map(|(func, e)| {
            [Some(e.native), Some(e.array_call), e.osr]
                .into_iter()
                .flatten()
                .map(move |at| (at, func))
        });
        code.describe_functions(module, fault_sites, entry_points);
        CompiledModule { code, entries }
    }

    /// The OSR entry of defined function `defined`, if compiled with one
    /// (see `FunctionEntry::osr`).
    pub fn osr_entry(&self, defined: usize) -> Option<*const u8> {
        self.code.entry(self.entries.get(defined)?.osr?)
    }

    /// The native entry and trampoline of defined function `defined`.
    fn entry(&self, defined: usize) -> (*const u8, *const u8) {
        let FunctionEntry {
            native, array_call, ..
        } = self.entries[defined];
        // Entries were checked against the code's length when the image
        // was parsed (`ContainerError::BadFunctionEntry`).
        (
            self.code.entry(native).expect("entry inside the code"),
            self.code
                .entry(array_call)
                .expect("trampoline inside the code"),
        )
    }
}

fn check_functions(
    module: &Module,
    entries: &[FunctionEntry],
    fault_sites: &[FaultSite],
) -> Result<(), LoadError> {
    let expected = (module.num_funcs() - module.num_imported_funcs()) as usize;
    if entries.len() != expected {
        return Err(LoadError::FunctionCount {
            found: entries.len(),
            expected,
        });
    }
    let funcs = module.num_funcs();
    if let Some(site) = fault_sites.iter().find(|s| s.func >= funcs) {
        return Err(LoadError::FaultSiteFunction {
            func: site.func,
            funcs,
        });
    }
    Ok(())
}

/// The compiled code of a module, cached on it (see `Module::extension`).
struct ModuleCode(Result<Arc<CompiledModule>, String>);

/// Opens an `.aot` file, checks that it fits this runtime and host, and
/// returns its module (validated by the one validator, contract 1) with the
/// file's code mapped in place, read+exec, attached to it.
pub fn load_aot_file(config: &Config, path: impl AsRef<Path>) -> Result<Module, LoadError> {
    let file = AotFile::open(path)?;
    file.check_compiler(COMPILER_VERSION)?;
    file.check_target(&HostTarget::detect())?;
    let module = module_for(config, file.meta().wasm_features, file.wasm())?;
    check_functions(&module, file.functions(), file.fault_sites())?;
    let compiled = CompiledModule::new(
        &module,
        file.map_code()?,
        file.functions().to_vec(),
        file.fault_sites().to_vec(),
    );
    attach(&module, compiled);
    Ok(module)
}

/// Validates the wasm of an `.aot` image under `config`, which must enable
/// exactly the features the code was compiled with.
fn module_for(config: &Config, features: WasmFeatures, wasm: &[u8]) -> Result<Module, LoadError> {
    let runtime = WasmFeatures::from_runtime(&config.features);
    if runtime != features {
        return Err(LoadError::FeatureMismatch {
            file: features.to_string(),
            runtime: runtime.to_string(),
        });
    }
    Ok(Module::new(config, wasm)?)
}

/// Runs wasm functions as native code.
#[derive(Debug, Clone)]
pub struct AotExecutor {
    compiler: Arc<dyn Compiler>,
    options: CompileOptions,
    cache: Option<Arc<CodeCache>>,
}

impl AotExecutor {
    /// Compiles modules that have no code yet with `compiler` for `options`.
    pub fn new(compiler: Arc<dyn Compiler>, options: CompileOptions) -> Self {
        AotExecutor {
            compiler,
            options,
            cache: None,
        }
    }

    /// Takes code from `cache` when it has the module's, and stores there
    /// what it compiles.
    pub fn with_code_cache(mut self, cache: Option<Arc<CodeCache>>) -> Self {
        self.cache = cache;
        self
    }

    /// The compiled code of `module`, compiling it on first use.
    fn compiled(&self, module: &Module) -> Result<Arc<ModuleCode>, Trap> {
        let code = module.extension(|m| ModuleCode(self.compile(m).map(Arc::new)));
        match &code.0 {
            Ok(_) => Ok(code),
            Err(e) => Err(Trap::host(format!("AOT compilation failed: {e}"))),
        }
    }

    fn compile(&self, module: &Module) -> Result<CompiledModule, String> {
        let Some(cache) = &self.cache else {
            return compile_module(&*self.compiler, &self.options, module, 0, OsrFuncs::NONE);
        };
        let key = CacheKey::for_module(module, &self.options);
        if let Some(code) = cache.load(&key, module) {
            return Ok(code);
        }
        compile_module_cached(
            &*self.compiler,
            &self.options,
            module,
            0,
            OsrFuncs::NONE,
            Some((cache, &key)),
        )
    }
}

impl Executor for AotExecutor {
    /// Compiles `module` unless it has code already: the store asks once
    /// its imports have linked.
    fn prepare(&self, module: &Module) -> wamr_runtime::Result<()> {
        let code = module.extension(|m| ModuleCode(self.compile(m).map(Arc::new)));
        match &code.0 {
            Ok(_) => Ok(()),
            Err(e) => Err(wamr_runtime::Error::Other(format!(
                "AOT compilation failed: {e}"
            ))),
        }
    }

    fn call(
        &self,
        store: &mut Store,
        func: WasmFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let module = store.instance(func.instance).module().clone();
        let code = self.compiled(&module)?;
        let compiled = code.0.as_ref().expect("checked by `compiled`");
        compiled.publish(store, func.instance);
        call_published(store, func, args, results)
    }
}

impl CompiledModule {
    /// Publishes the native entries of `instance`'s own functions into
    /// their slots (contract 5), unless already there. Runs on the thread
    /// that owns the store; `array_call` is stored last, so whoever sees it
    /// (acquire) sees the native entry too.
    pub fn publish(&self, store: &Store, instance: InstanceId) {
        let inst = store.instance(instance);
        let imported = inst.module().num_imported_funcs() as usize;
        for (defined, &id) in inst.funcs()[imported..].iter().enumerate() {
            let slot = store.func(id).slot();
            if slot.array_call.load(Ordering::Acquire).is_null() {
                let (native, trampoline) = self.entry(defined);
                slot.code.store(native as *mut u8, Ordering::Release);
                slot.array_call
                    .store(trampoline as *mut u8, Ordering::Release);
            }
        }
    }
}

/// The compiled code attached to `module`, if any (from an `.aot` file,
/// an earlier compile, or [`attach`]).
pub fn compiled_code(module: &Module) -> Option<Arc<CompiledModule>> {
    module
        .get_extension::<ModuleCode>()?
        .0
        .as_ref()
        .ok()
        .cloned()
}

/// Attaches `code` to `module` unless some is attached already; returns
/// what is attached then.
pub fn attach(module: &Module, code: CompiledModule) -> Arc<CompiledModule> {
    let code = Arc::new(code);
    match &module.extension(|_| ModuleCode(Ok(code.clone()))).0 {
        Ok(attached) => attached.clone(),
        // An earlier compile failed; the new code is still good to use.
        Err(_) => code,
    }
}

/// Compiles `module` with `compiler` for `options` into native code (not
/// yet attached to it).
pub fn compile_module(
    compiler: &dyn Compiler,
    options: &CompileOptions,
    module: &Module,
    threads: usize,
    osr: OsrFuncs<'_>,
) -> Result<CompiledModule, String> {
    compile_module_cached(compiler, options, module, threads, osr, None)
}

/// [`compile_module`], then, with `cache`, stores the code under `key`
/// (once it has loaded: only code that maps and fits the module is kept).
pub fn compile_module_cached(
    compiler: &dyn Compiler,
    options: &CompileOptions,
    module: &Module,
    threads: usize,
    osr: OsrFuncs<'_>,
    cache: Option<(&CodeCache, &CacheKey)>,
) -> Result<CompiledModule, String> {
    let bytes = compiler
        .compile(&CompileJob {
            wasm: module.bytes(),
            features: WasmFeatures::from_runtime(module.features()),
            options,
            threads,
            osr,
            progress: None,
        })
        .map_err(|e| e.to_string())?;
    let image = AotImage::from_bytes(&bytes).map_err(|e| e.to_string())?;
    let code = CompiledModule::from_image(module, &image).map_err(|e| e.to_string())?;
    if let Some((cache, key)) = cache {
        cache.put(key, &bytes);
    }
    Ok(code)
}

/// Whether `func`'s slot holds published native code.
pub fn is_published(store: &Store, func: FuncId) -> bool {
    !store
        .func(func)
        .slot()
        .array_call
        .load(Ordering::Acquire)
        .is_null()
}

/// Calls `func` through the array-call trampoline published in its slot.
/// The slot must hold one (see [`CompiledModule::publish`]).
pub fn call_published(
    store: &mut Store,
    func: WasmFunc,
    args: &[Val],
    results: &mut [Val],
) -> Result<(), Trap> {
    let trampoline = store
        .func(func.id)
        .slot()
        .array_call
        .load(Ordering::Acquire);
    assert!(
        !trampoline.is_null(),
        "no native code published for the function"
    );
    let ty = store.func(func.id).ty().clone();
    let mut values = vec![0u64; ty.value_array_len()];
    Val::write_all_slots(args, &mut values);
    let vmctx = store.instance(func.instance).vmctx() as *mut VMContext;
    // SAFETY: the trampoline was compiled for this function with the
    // array-call signature and is kept mapped by the module's attached
    // code; `vmctx` is the live instance's context and `values` has room
    // for arguments and results.
    unsafe { store.enter_compiled(trampoline, vmctx, values.as_mut_ptr(), 0) };
    if let Some(trap) = store.take_compiled_trap() {
        let module = store.instance(func.instance).module().clone();
        return Err(trap.in_function(|| module.func_name(func.index)));
    }
    for (out, v) in results
        .iter_mut()
        .zip(Val::read_all_slots(ty.results(), &values))
    {
        *out = v;
    }
    Ok(())
}
