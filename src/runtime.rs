//! `Runtime`: configuration plus the choice of tier, and the factory for
//! modules and stores.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use wamr_runtime::{Config, Error, Executor, Module, Result, Store};

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

    pub fn with_config(config: Config) -> Self {
        Runtime {
            config,
            tier: Tier::Interp,
            executor: executor_for(Tier::Interp),
        }
    }

    /// Selects the tier. A tier this build cannot run yet is an error, never
    /// a silent fallback to another.
    pub fn with_tier(mut self, tier: Tier) -> Result<Self> {
        self.executor = executor_for(tier);
        if self.executor.is_none() {
            return Err(Error::Unsupported(format!(
                "the `{tier}` tier is not available in this build yet"
            )));
        }
        self.tier = tier;
        Ok(self)
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

    /// Decodes and validates a wasm binary.
    pub fn load(&self, bytes: &[u8]) -> Result<Module> {
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

    /// A new, empty store whose code runs in this runtime's tier.
    pub fn new_store(&self) -> Store {
        let mut store = Store::new(self.config.clone());
        if let Some(executor) = &self.executor {
            store.set_executor(executor.clone());
        }
        store
    }
}

fn executor_for(tier: Tier) -> Option<Arc<dyn Executor>> {
    match tier {
        Tier::Interp => Some(Arc::new(wamr_interp::Interpreter)),
        // Compiles each module for the host CPU at -O3 on first use.
        #[cfg(feature = "llvm")]
        Tier::Aot => Some(Arc::new(wamr_llvm_aot::executor::AotExecutor::new(
            wamr_llvm_aot::compile::CompileOptions::host(3),
        ))),
        #[cfg(not(feature = "llvm"))]
        Tier::Aot => None,
        Tier::Auto => None,
    }
}
