//! `Runtime`: configuration plus the choice of tier, and the factory for
//! modules and stores.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use wamr_aot::{AotExecutor, CodeCache, CompileJob, CompileOptions, Compiler, WasmFeatures};
use wamr_runtime::{Config, Error, Executor, Module, Result, Store};

use crate::tiering::{TierManager, TieredExecutor};

/// Which execution tier runs wasm code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// The threaded-code interpreter only.
    Interp,
    /// LLVM-compiled native code only.
    Aot,
    /// Start in the interpreter, tier up to LLVM code in the background.
    Auto,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Interp, Tier::Aot, Tier::Auto];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Interp => "interp",
            Tier::Aot => "aot",
            Tier::Auto => "auto",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Tier {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Tier::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                Error::Other(format!("unknown tier `{s}` (expected interp, aot or auto)"))
            })
    }
}

/// The entry point of the embedding API.
#[derive(Clone)]
pub struct Runtime {
    config: Config,
    tier: Tier,
    executor: Option<Arc<dyn Executor>>,
    /// Compiles for the `aot` tier and [`Runtime::precompile`]; by default
    /// the LLVM plugin in a child process (see `compile_process`).
    compiler: Arc<dyn Compiler>,
    /// The `auto` tier's manager, when that tier is selected.
    tier_manager: Option<Arc<TierManager>>,
    /// What the `aot` and `auto` tiers compile for; `None`: this host at
    /// -O3, found when first needed (probing the CPU is start-up cost an
    /// interpreted run need not pay).
    compile_options: Option<CompileOptions>,
    /// From `Config::code_cache`, shared by the `aot` and `auto` tiers.
    code_cache: Option<Arc<CodeCache>>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.config)
            .field("tier", &self.tier)
            .finish()
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Runtime {
    /// A runtime with the default configuration, running code in the interpreter.
    pub fn new() -> Self {
        Runtime::with_config(Config::default())
    }

    /// A runtime with `config`, running code in the interpreter. Limits out
    /// of range ([`Config::validate`]) are reported by [`Runtime::load`].
    pub fn with_config(config: Config) -> Self {
        let compiler = crate::compile_process::default_compiler();
        let code_cache = config
            .code_cache
            .as_ref()
            .map(|c| Arc::new(CodeCache::new(c)));
        Runtime {
            config,
            tier: Tier::Interp,
            executor: Some(Arc::new(wamr_interp::Interpreter::new())),
            compiler,
            tier_manager: None,
            compile_options: None,
            code_cache,
        }
    }

    /// Compiles with `compiler` instead of the LLVM plugin, e.g.
    /// `wamr_llvm_aot::LlvmCompiler` linked into the process. Takes effect
    /// for tiers selected after this call.
    pub fn with_compiler(mut self, compiler: Arc<dyn Compiler>) -> Self {
        self.compiler = compiler;
        self
    }

    /// Compiles for `options` instead of this host's best CPU level at
    /// -O3 (the code must still run here). Takes effect for tiers selected
    /// after this call.
    pub fn with_compile_options(mut self, options: CompileOptions) -> Self {
        self.compile_options = Some(options);
        self
    }

    fn compile_options(&self) -> CompileOptions {
        self.compile_options
            .clone()
            .unwrap_or_else(|| CompileOptions::host(3))
    }

    /// Selects the tier. A tier this build cannot run yet is an error, never
    /// a silent fallback to another.
    pub fn with_tier(mut self, tier: Tier) -> Result<Self> {
        self.tier_manager = None;
        let executor: Arc<dyn Executor> = match tier {
            Tier::Interp => Arc::new(wamr_interp::Interpreter::new()),
            Tier::Aot => Arc::new(self.aot_executor()),
            Tier::Auto => {
                let manager = Arc::new(
                    TierManager::new(
                        self.compiler.clone(),
                        self.compile_options.clone(),
                        self.config.tier_up,
                    )
                    .with_code_cache(self.code_cache.clone()),
                );
                self.tier_manager = Some(manager.clone());
                Arc::new(TieredExecutor::new(manager))
            }
        };
        self.executor = Some(executor);
        self.tier = tier;
        Ok(self)
    }

    /// The `aot` tier: modules loaded from `.aot` files run their own code;
    /// others are compiled for `compile_options`.
    fn aot_executor(&self) -> AotExecutor {
        AotExecutor::new(self.compiler.clone(), self.compile_options())
            .with_code_cache(self.code_cache.clone())
    }

    /// The persistent code cache (`Config::code_cache`), if configured.
    pub fn code_cache(&self) -> Option<&Arc<CodeCache>> {
        self.code_cache.as_ref()
    }

    /// The `auto` tier's manager (what it compiled, and when), when that
    /// tier is selected.
    pub fn tier_manager(&self) -> Option<&Arc<TierManager>> {
        self.tier_manager.as_ref()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// Whether this runtime can execute wasm code (a tier is available).
    pub fn can_execute(&self) -> bool {
        self.executor.is_some()
    }

    /// Decodes and validates a wasm binary. Fails first if the
    /// configuration is out of range ([`Config::validate`]). The `aot` tier
    /// compiles the module when it is first instantiated, after its imports
    /// have linked (a compile failure is an error of instantiation).
    pub fn load(&self, bytes: &[u8]) -> Result<Module> {
        self.config.validate()?;
        Module::new(&self.config, bytes)
    }

    /// Reads, decodes and validates the wasm binary in `path`. (For text
    /// format, convert with the `wat` crate and use [`Runtime::load`].)
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Other(format!("cannot read {}: {e}", path.display())))?;
        self.load(&bytes)
    }

    /// Loads an `.aot` file: checks that it fits this runtime and host,
    /// validates the wasm inside with this runtime's features (contract 1)
    /// and maps its code in place. Its functions run as that code in the
    /// `aot` tier; the interpreter runs the same module from its wasm.
    pub fn load_aot_file(&self, path: impl AsRef<Path>) -> Result<Module> {
        self.config.validate()?;
        let path = path.as_ref();
        wamr_aot::load_aot_file(&self.config, path)
            .map_err(|e| Error::Other(format!("cannot load {}: {e}", path.display())))
    }

    /// Validates `wasm` and compiles it ahead of time for `options`,
    /// returning the bytes of an `.aot` file. `progress` is called with
    /// (functions done, functions in all); `threads` 0 uses every core.
    pub fn precompile(
        &self,
        wasm: &[u8],
        options: &CompileOptions,
        threads: usize,
        progress: Option<&(dyn Fn(u32, u32) + Sync)>,
    ) -> Result<Vec<u8>> {
        self.load(wasm)?;
        self.compiler
            .compile(&CompileJob {
                wasm,
                features: WasmFeatures::from_runtime(&self.config.features),
                options,
                threads,
                progress,
                osr: wamr_aot::OsrFuncs::NONE,
            })
            .map_err(|e| Error::Other(format!("AOT compilation failed: {e}")))
    }

    /// A new, empty store whose code runs in this runtime's tier.
    pub fn new_store(&self) -> Store {
        let mut store = Store::new(self.config.clone());
        if let Some(executor) = &self.executor {
            store.set_executor(executor.clone());
        }
        store
    }
}
