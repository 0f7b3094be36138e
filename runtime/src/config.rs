//! Engine configuration: which proposals are enabled and the resource limits
//! every tier honours.

/// WebAssembly features the validator accepts. Defaults: the wasm 2.0 core
/// (with fixed-width SIMD) plus relaxed SIMD, memory64, table64,
/// extended-const, tail calls and multi-memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub mutable_global: bool,
    pub sign_extension: bool,
    pub saturating_float_to_int: bool,
    pub multi_value: bool,
    pub bulk_memory: bool,
    pub reference_types: bool,
    /// memory64 and table64 (one proposal).
    pub memory64: bool,
    pub extended_const: bool,
    pub tail_call: bool,
    pub multi_memory: bool,
    /// Fixed-width (128-bit) SIMD, part of wasm 2.0: every tier runs it.
    pub simd: bool,
    /// Relaxed SIMD (needs `simd`): each instruction has one result in
    /// every tier, whatever the CPU.
    pub relaxed_simd: bool,
    /// The GC proposal (with typed function references), validated when
    /// enabled. Every tier runs its array types, `arrayref`,
    /// `array.new_default` in constant expressions and `ref.eq`; a module
    /// using any other GC instruction or type is refused as unsupported.
    pub gc: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            mutable_global: true,
            sign_extension: true,
            saturating_float_to_int: true,
            multi_value: true,
            bulk_memory: true,
            reference_types: true,
            memory64: true,
            extended_const: true,
            tail_call: true,
            multi_memory: true,
            simd: true,
            relaxed_simd: true,
            gc: false,
        }
    }
}

impl Features {
    /// Only the WebAssembly 1.0 (MVP) feature set.
    pub fn mvp() -> Self {
        Features {
            mutable_global: true,
            sign_extension: false,
            saturating_float_to_int: false,
            multi_value: false,
            bulk_memory: false,
            reference_types: false,
            memory64: false,
            extended_const: false,
            tail_call: false,
            multi_memory: false,
            simd: false,
            relaxed_simd: false,
            gc: false,
        }
    }

    pub(crate) fn to_wasmparser(self) -> wasmparser::WasmFeatures {
        use wasmparser::WasmFeatures as F;
        let mut f = F::FLOATS | F::GC_TYPES;
        let pairs = [
            (self.mutable_global, F::MUTABLE_GLOBAL),
            (self.sign_extension, F::SIGN_EXTENSION),
            (self.saturating_float_to_int, F::SATURATING_FLOAT_TO_INT),
            (self.multi_value, F::MULTI_VALUE),
            (self.bulk_memory, F::BULK_MEMORY),
            (self.reference_types, F::REFERENCE_TYPES),
            (self.memory64, F::MEMORY64),
            (self.extended_const, F::EXTENDED_CONST),
            (self.tail_call, F::TAIL_CALL),
            (self.multi_memory, F::MULTI_MEMORY),
            (self.simd, F::SIMD),
            (self.relaxed_simd, F::RELAXED_SIMD),
            (self.gc, F::GC),
            (self.gc, F::FUNCTION_REFERENCES),
        ];
        for (on, flag) in pairs {
            f.set(flag, on);
        }
        f
    }
}

/// The cap on a memory64, in 64 KiB pages, when
/// [`Config::memory_page_limit`] is not set: 16 GiB. memory64's own maximum
/// (2^48 pages) would let an untrusted module take all the host's memory;
/// this leaves room beyond memory32's 4 GiB, which is why memory64 exists.
pub const DEFAULT_MEMORY64_PAGE_LIMIT: u64 = 1 << 18;

/// Runtime configuration shared by every tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub features: Features,
    /// The embedder's cap on any linear memory, in 64 KiB pages. Applies to
    /// memory32 and memory64 alike. `None` leaves memory32 the module's and
    /// the index type's maxima, and caps memory64 at
    /// [`DEFAULT_MEMORY64_PAGE_LIMIT`].
    pub memory_page_limit: Option<u64>,
    /// Deepest wasm call nesting before a "call stack exhausted" trap.
    pub max_call_depth: u32,
    /// Bytes of value stack the interpreter may use per entry from the
    /// host, at most [`Config::MAX_STACK_BYTES`]. Address space is reserved
    /// for it, and memory is committed only as deep as calls go.
    pub max_stack_bytes: usize,
    /// Native stack that wasm execution (host functions re-entering wasm,
    /// and compiled code) may use below the host's outermost call into wasm,
    /// at most [`Config::MAX_NATIVE_STACK_BYTES`]. Past it, a call traps
    /// with "call stack exhausted" instead of overflowing the thread's
    /// stack, which must be larger than this.
    pub max_native_stack_bytes: usize,
    /// Tiered execution (`--tier auto`): how the interpreter hands a module
    /// to the compiler.
    pub tier_up: TierUpPolicy,
    /// A persistent cache of compiled code for the `aot` and `auto` tiers;
    /// `None` (the default) compiles afresh in every process.
    pub code_cache: Option<CodeCacheConfig>,
}

/// Where compiled code is kept between processes, and how much of it.
///
/// An entry is trusted as far as the directory is: the cache checks that an
/// entry is whole (checksum), was compiled by this runtime version for this
/// host, options and module, but not who wrote it. Give it a directory only
/// the user can write, as the default under the user's cache directory is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCacheConfig {
    pub dir: std::path::PathBuf,
    /// Bound on the bytes of all entries; the least recently used go first.
    pub max_bytes: u64,
}

impl CodeCacheConfig {
    /// The default bound on a cache's size: 512 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;
    /// Names a directory that overrides the default location.
    pub const DIR_ENV: &str = "WAMR_CACHE_DIR";

    /// A cache in `dir` with the default bound.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        CodeCacheConfig {
            dir: dir.into(),
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }

    /// The user's cache: `$WAMR_CACHE_DIR`, else `$XDG_CACHE_HOME/wamr-rs`,
    /// else `$HOME/.cache/wamr-rs`; `None` when none of them is set.
    pub fn user() -> Option<Self> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        let dir = var(Self::DIR_ENV)
            .map(std::path::PathBuf::from)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| std::path::Path::new(&d).join("wamr-rs")))
            .or_else(|| var("HOME").map(|d| std::path::Path::new(&d).join(".cache/wamr-rs")))?;
        Some(Self::new(dir))
    }
}

/// When and how `--tier auto` compiles a module in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierUpPolicy {
    /// Calls plus loop back-edges the interpreter runs in a module before
    /// the module is compiled; 0 compiles it when first entered.
    pub threshold: u64,
    /// Compiler threads for one module; 0 means one fewer than the cores
    /// (at least one), so the program keeps a core.
    pub compiler_threads: usize,
    /// Compile on the calling thread and publish before continuing, instead
    /// of in the background: deterministic tier-up, for tests.
    pub synchronous: bool,
    /// How long a module must stay past the threshold before its
    /// background compile starts. A compile lands 40 ms or more after it
    /// starts (a worker process, LLVM's start-up, the compile itself) and
    /// slows the program beside it by a few percent, so a program that
    /// ends within this time should not pay for one; a longer one starts
    /// native code this much later.
    pub hot_for: std::time::Duration,
    /// Give every function with loops an on-stack-replacement entry, not
    /// only those running when the module got hot: every call then runs
    /// the code that OSR enters (the tests run the spec suite so).
    pub osr_everywhere: bool,
}

impl TierUpPolicy {
    /// Compiles a module at its first call and waits for the code, so that
    /// compiled code runs from the start (tests, differential fuzzing).
    pub fn immediate() -> Self {
        TierUpPolicy {
            threshold: 0,
            synchronous: true,
            hot_for: std::time::Duration::ZERO,
            ..TierUpPolicy::default()
        }
    }
}

impl Default for TierUpPolicy {
    fn default() -> Self {
        TierUpPolicy {
            threshold: 100_000,
            compiler_threads: 0,
            synchronous: false,
            hot_for: std::time::Duration::from_millis(10),
            osr_everywhere: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            features: Features::default(),
            memory_page_limit: None,
            max_call_depth: 10_000,
            max_stack_bytes: 8 << 20,
            max_native_stack_bytes: 1 << 20,
            tier_up: TierUpPolicy::default(),
            code_cache: None,
        }
    }
}

/// A [`Config`] value out of its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the value stack limit (max_stack_bytes) of {0} bytes exceeds the most allowed, {max} bytes", max = Config::MAX_STACK_BYTES)]
    StackTooLarge(usize),
    #[error("the native stack limit (max_native_stack_bytes) of {0} bytes exceeds the most allowed, {max} bytes", max = Config::MAX_NATIVE_STACK_BYTES)]
    NativeStackTooLarge(usize),
    #[error("the code cache directory (code_cache.dir) is empty")]
    EmptyCacheDir,
}

impl Config {
    /// The largest [`Config::max_stack_bytes`]: 1 GiB, 2^27 value slots,
    /// far deeper than `max_call_depth` lets calls go. Each nested entry
    /// from the host reserves this much address space.
    pub const MAX_STACK_BYTES: usize = 1 << 30;
    /// The largest [`Config::max_native_stack_bytes`]: 1 GiB, beyond any
    /// thread's stack. (A limit the thread's stack cannot hold lets
    /// recursion overflow it instead of trapping.)
    pub const MAX_NATIVE_STACK_BYTES: usize = 1 << 30;

    /// Checks that every limit is within its allowed range. Loading a
    /// module and running code check this too, so that no limit is acted
    /// on before it has been checked.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_stack_bytes > Self::MAX_STACK_BYTES {
            return Err(ConfigError::StackTooLarge(self.max_stack_bytes));
        }
        if self.max_native_stack_bytes > Self::MAX_NATIVE_STACK_BYTES {
            return Err(ConfigError::NativeStackTooLarge(
                self.max_native_stack_bytes,
            ));
        }
        if self
            .code_cache
            .as_ref()
            .is_some_and(|c| c.dir.as_os_str().is_empty())
        {
            return Err(ConfigError::EmptyCacheDir);
        }
        Ok(())
    }

    /// Keeps compiled code in `cache` between processes.
    pub fn with_code_cache(mut self, cache: CodeCacheConfig) -> Self {
        self.code_cache = Some(cache);
        self
    }

    pub fn with_memory_page_limit(mut self, pages: u64) -> Self {
        self.memory_page_limit = Some(pages);
        self
    }

    pub fn with_features(mut self, features: Features) -> Self {
        self.features = features;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_huge_stacks_are_not() {
        assert_eq!(Config::default().validate(), Ok(()));
        let most = Config {
            max_stack_bytes: Config::MAX_STACK_BYTES,
            max_native_stack_bytes: Config::MAX_NATIVE_STACK_BYTES,
            ..Config::default()
        };
        assert_eq!(most.validate(), Ok(()));
        let huge = Config {
            max_stack_bytes: usize::MAX,
            ..Config::default()
        };
        assert_eq!(huge.validate(), Err(ConfigError::StackTooLarge(usize::MAX)));
        let huge = Config {
            max_native_stack_bytes: Config::MAX_NATIVE_STACK_BYTES + 1,
            ..Config::default()
        };
        assert!(
            huge.validate()
                .unwrap_err()
                .to_string()
                .contains("max_native_stack_bytes")
        );
    }
}
