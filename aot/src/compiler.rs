//! What the runtime asks of a compiler, independent of LLVM.
//!
//! A [`Compiler`] turns wasm bytes into the bytes of an `.aot` file. The
//! LLVM backend implements it in `wamr-llvm-aot`, both in-process and as a
//! plugin that this crate loads lazily (see `plugin`), so that a binary
//! carrying the LLVM tier pays nothing for it until it compiles
//! (ARCHITECTURE contract 9).

use std::fmt;

use crate::container::{HostTarget, WasmFeatures};

/// The version every `.aot` file records and every loader requires. It
/// names the runtime, not LLVM: what compiled code depends on is the VM
/// context layout and the builtins table of this runtime version.
pub const COMPILER_VERSION: &str = concat!("wamr-rs ", env!("CARGO_PKG_VERSION"), " (aot abi 3)");

/// Where and how to compile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompileOptions {
    /// An LLVM target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub triple: String,
    /// An LLVM CPU name (`x86-64`, `x86-64-v3`, `generic-rv64`, ...).
    pub cpu: String,
    /// An LLVM feature string, e.g. `+sse4.1,+popcnt`.
    pub features: String,
    /// The target ABI (`lp64d`, `ilp32`, ...; see `crate::target`); empty
    /// where a target has only one.
    pub abi: String,
    /// 0 to 3, as `-O`.
    pub opt_level: u8,
}

impl CompileOptions {
    /// The machine this process runs on, at its best CPU level that a
    /// loader can verify (see [`HostTarget::native_cpu`]).
    pub fn host(opt_level: u8) -> Self {
        let host = HostTarget::detect();
        CompileOptions {
            cpu: host.native_cpu().to_string(),
            triple: host.triple,
            features: String::new(),
            abi: String::new(),
            opt_level,
        }
    }
}

/// One request to a compiler.
pub struct CompileJob<'a> {
    pub wasm: &'a [u8],
    /// The features the wasm is validated and compiled with.
    pub features: WasmFeatures,
    pub options: &'a CompileOptions,
    /// Compiler threads; 0 means one per core.
    pub threads: usize,
    /// The functions that also get an on-stack-replacement entry.
    pub osr: OsrFuncs<'a>,
    /// Called with (functions done, functions in all) as work completes.
    pub progress: Option<&'a (dyn Fn(u32, u32) + Sync)>,
}

impl fmt::Debug for CompileJob<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompileJob")
            .field("wasm_len", &self.wasm.len())
            .field("features", &self.features)
            .field("options", &self.options)
            .field("threads", &self.threads)
            .field("osr", &self.osr)
            .finish_non_exhaustive()
    }
}

/// The functions of a compile that get an on-stack-replacement entry
/// (`FunctionEntry::osr`), for code that takes over running interpreter
/// activations of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OsrFuncs<'a> {
    /// Module indices, ascending.
    pub entries: &'a [u32],
    /// Of `entries`, those compiled once, as their OSR variant (the native
    /// entry forwards to it): functions hardly called again, such as the
    /// outermost running one, whose own native copy would only cost
    /// compile time. Ascending.
    pub shared: &'a [u32],
}

impl OsrFuncs<'_> {
    /// No OSR entries.
    pub const NONE: OsrFuncs<'static> = OsrFuncs {
        entries: &[],
        shared: &[],
    };
}

/// A compiler failure, as one readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CompileError(pub String);

/// Compiles wasm to `.aot` bytes.
pub trait Compiler: Send + Sync + fmt::Debug {
    /// The version written into the files it produces; must equal
    /// [`COMPILER_VERSION`] for this runtime to load them.
    fn version(&self) -> &str;

    /// Compiles every defined function of `job.wasm` into one `.aot` image.
    fn compile(&self, job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError>;
}

/// A compiler that keeps what it compiled, keyed by the wasm, its features
/// and the options, and answers a repeated request from memory.
#[derive(Debug)]
pub struct CachingCompiler {
    inner: std::sync::Arc<dyn Compiler>,
    cache: std::sync::Mutex<CacheMap>,
}

type CacheKey = ([u8; 32], u32, [Vec<u32>; 2], CompileOptions);
type CacheMap = std::collections::HashMap<CacheKey, std::sync::Arc<Vec<u8>>>;

impl CachingCompiler {
    pub fn new(inner: std::sync::Arc<dyn Compiler>) -> Self {
        CachingCompiler {
            inner,
            cache: Default::default(),
        }
    }
}

impl Compiler for CachingCompiler {
    fn version(&self) -> &str {
        self.inner.version()
    }

    fn compile(&self, job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError> {
        let key = (
            crate::container::sha256(job.wasm),
            job.features.bits(),
            [job.osr.entries.to_vec(), job.osr.shared.to_vec()],
            job.options.clone(),
        );
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(bytes) = cached {
            return Ok((*bytes).clone());
        }
        // Compiled outside the lock: other modules need not wait.
        let bytes = self.inner.compile(job)?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, std::sync::Arc::new(bytes.clone()));
        Ok(bytes)
    }
}
