//! The LLVM compiler as a plugin: a shared library (`libwamr_llvm_aot.so`,
//! built by the `wamr-llvm-aot` package) loaded with `dlopen` on the first
//! compile, never before (ARCHITECTURE contract 9).
//!
//! The interface is a C ABI (module [`abi`]) because the two sides are
//! separate Rust images; each frees its own allocations. Both sides are
//! built from one workspace, and [`abi::ABI_VERSION`] plus the compiler
//! version string reject a stale plugin with a clear error.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::compiler::{COMPILER_VERSION, CompileError, CompileJob, Compiler};

/// The C ABI shared with `wamr-llvm-aot`'s exports.
pub mod abi {
    use std::ffi::c_void;

    /// Bumped on every change to the types or functions below.
    pub const ABI_VERSION: u32 = 5;

    /// `u32 wamr_plugin_abi_version(void)`.
    pub const ABI_VERSION_SYMBOL: &[u8] = b"wamr_plugin_abi_version";
    /// `Bytes wamr_plugin_compiler_version(void)`: a static UTF-8 string.
    pub const COMPILER_VERSION_SYMBOL: &[u8] = b"wamr_plugin_compiler_version";
    /// `void wamr_plugin_compile(const Request *, Output *)`.
    pub const COMPILE_SYMBOL: &[u8] = b"wamr_plugin_compile";
    /// `void wamr_plugin_free(Output *)`.
    pub const FREE_SYMBOL: &[u8] = b"wamr_plugin_free";

    pub type AbiVersionFn = unsafe extern "C" fn() -> u32;
    pub type CompilerVersionFn = unsafe extern "C" fn() -> Bytes;
    pub type CompileFn = unsafe extern "C" fn(*const Request, *mut Output);
    pub type FreeFn = unsafe extern "C" fn(*mut Output);
    pub type ProgressFn = unsafe extern "C" fn(ctx: *mut c_void, done: u32, total: u32);

    /// Borrowed bytes.
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct Bytes {
        pub ptr: *const u8,
        pub len: usize,
    }

    impl Bytes {
        pub fn new(bytes: &[u8]) -> Self {
            Bytes {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
            }
        }

        /// # Safety
        /// `ptr` must point at `len` readable bytes that outlive `'a`.
        pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
            if self.len == 0 {
                &[]
            } else {
                // SAFETY: per this function's contract.
                unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
            }
        }
    }

    #[repr(C)]
    pub struct Request {
        pub wasm: Bytes,
        /// `WasmFeatures` bits.
        pub wasm_features: u32,
        pub triple: Bytes,
        pub cpu: Bytes,
        pub features: Bytes,
        pub abi: Bytes,
        pub opt_level: u8,
        /// `CompileJob::osr`: `osr_count` function indices at `osr_funcs`,
        /// `osr_shared_count` at `osr_shared`.
        pub osr_funcs: *const u32,
        pub osr_count: usize,
        pub osr_shared: *const u32,
        pub osr_shared_count: usize,
        pub threads: u32,
        pub progress: Option<ProgressFn>,
        pub progress_ctx: *mut c_void,
    }

    /// A buffer the plugin allocated: the `.aot` bytes when `ok`, else a
    /// UTF-8 error message. Released with `wamr_plugin_free`.
    #[repr(C)]
    pub struct Output {
        pub ok: bool,
        pub ptr: *mut u8,
        pub len: usize,
        pub capacity: usize,
    }

    impl Output {
        pub const EMPTY: Output = Output {
            ok: false,
            ptr: std::ptr::null_mut(),
            len: 0,
            capacity: 0,
        };
    }
}

/// The plugin's file name on this platform.
pub fn plugin_file_name() -> String {
    format!(
        "{}wamr_llvm_aot{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Environment variable naming the plugin file, overriding the search.
pub const PLUGIN_ENV: &str = "WAMR_LLVM_PLUGIN";

/// Where the plugin is looked for: `$WAMR_LLVM_PLUGIN`, else in the
/// running executable's `deps/` (where cargo builds it, so the freshest
/// copy comes first), beside the executable (an installed layout, or a
/// test binary, which lives in `deps/`), and in `../lib/`.
pub fn plugin_candidates() -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os(PLUGIN_ENV) {
        return vec![PathBuf::from(path)];
    }
    let name = plugin_file_name();
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    let mut candidates = vec![dir.join("deps").join(&name), dir.join(&name)];
    // Test binaries live in `deps/` themselves.
    if let Some(parent) = dir.parent() {
        candidates.push(parent.join(&name));
        candidates.push(parent.join("lib").join(&name));
    }
    candidates
}

/// The process's one plugin compiler: the library is loaded at most once.
pub fn shared() -> std::sync::Arc<PluginCompiler> {
    static SHARED: OnceLock<std::sync::Arc<PluginCompiler>> = OnceLock::new();
    SHARED.get_or_init(Default::default).clone()
}

/// The LLVM compiler, loaded from its plugin on first use.
#[derive(Debug, Default)]
pub struct PluginCompiler {
    loaded: OnceLock<Result<Plugin, CompileError>>,
}

impl PluginCompiler {
    pub fn new() -> Self {
        PluginCompiler::default()
    }

    /// Loads the plugin now (it is otherwise loaded by the first compile).
    pub fn load(&self) -> Result<(), CompileError> {
        self.plugin().map(|_| ())
    }

    fn plugin(&self) -> Result<&Plugin, CompileError> {
        self.loaded
            .get_or_init(Plugin::find)
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Compiler for PluginCompiler {
    fn version(&self) -> &str {
        COMPILER_VERSION
    }

    fn compile(&self, job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError> {
        self.plugin()?.compile(job)
    }
}

/// A loaded, version-checked plugin.
#[derive(Debug)]
struct Plugin {
    path: PathBuf,
    compile: abi::CompileFn,
    free: abi::FreeFn,
    /// Keeps the functions above mapped; never unloaded before them.
    _library: libloading::Library,
}

impl Plugin {
    fn find() -> Result<Plugin, CompileError> {
        let candidates = plugin_candidates();
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            return Err(CompileError(format!(
                "the LLVM compiler plugin `{}` was not found (looked in: {}); build it with \
                 `cargo build --release -p wamr-llvm-aot` or set {PLUGIN_ENV}",
                plugin_file_name(),
                tried.join(", ")
            )));
        };
        let plugin = Plugin::open(path)?;
        tracing::debug!(path = %plugin.path.display(), "loaded the LLVM compiler plugin");
        Ok(plugin)
    }

    fn open(path: &Path) -> Result<Plugin, CompileError> {
        let fail = |what: String| {
            CompileError(format!(
                "cannot use the LLVM compiler plugin {}: {what}",
                path.display()
            ))
        };
        // SAFETY: loading runs the library's initialisers; the plugin is
        // ours (LLVM and a Rust cdylib), whose initialisers only register
        // LLVM's passes and options.
        let library = unsafe { libloading::Library::new(path) }.map_err(|e| fail(e.to_string()))?;
        // SAFETY (all symbol lookups): each name is declared with the type
        // given in `abi`, and `ABI_VERSION` is checked before any other
        // function is called.
        unsafe {
            let abi_version = *library
                .get::<abi::AbiVersionFn>(abi::ABI_VERSION_SYMBOL)
                .map_err(|e| fail(e.to_string()))?;
            let found = abi_version();
            if found != abi::ABI_VERSION {
                return Err(fail(format!(
                    "plugin ABI {found}, this runtime needs ABI {}",
                    abi::ABI_VERSION
                )));
            }
            let version = *library
                .get::<abi::CompilerVersionFn>(abi::COMPILER_VERSION_SYMBOL)
                .map_err(|e| fail(e.to_string()))?;
            let version = String::from_utf8_lossy(version().as_slice()).into_owned();
            if version != COMPILER_VERSION {
                return Err(fail(format!(
                    "it is `{version}`, this runtime is `{COMPILER_VERSION}`; rebuild it"
                )));
            }
            let compile = *library
                .get::<abi::CompileFn>(abi::COMPILE_SYMBOL)
                .map_err(|e| fail(e.to_string()))?;
            let free = *library
                .get::<abi::FreeFn>(abi::FREE_SYMBOL)
                .map_err(|e| fail(e.to_string()))?;
            Ok(Plugin {
                path: path.to_path_buf(),
                compile,
                free,
                _library: library,
            })
        }
    }

    fn compile(&self, job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError> {
        unsafe extern "C" fn report(ctx: *mut c_void, done: u32, total: u32) {
            // SAFETY: `ctx` is the `&&dyn Fn` below, alive for the call.
            let progress = unsafe { &*(ctx as *const &(dyn Fn(u32, u32) + Sync)) };
            progress(done, total);
        }
        let progress = job.progress;
        let request = abi::Request {
            wasm: abi::Bytes::new(job.wasm),
            wasm_features: job.features.bits(),
            triple: abi::Bytes::new(job.options.triple.as_bytes()),
            cpu: abi::Bytes::new(job.options.cpu.as_bytes()),
            features: abi::Bytes::new(job.options.features.as_bytes()),
            abi: abi::Bytes::new(job.options.abi.as_bytes()),
            opt_level: job.options.opt_level,
            osr_funcs: job.osr.entries.as_ptr(),
            osr_count: job.osr.entries.len(),
            osr_shared: job.osr.shared.as_ptr(),
            osr_shared_count: job.osr.shared.len(),
            threads: u32::try_from(job.threads).unwrap_or(u32::MAX),
            progress: progress.is_some().then_some(report as abi::ProgressFn),
            progress_ctx: match &progress {
                Some(p) => p as *const &(dyn Fn(u32, u32) + Sync) as *mut c_void,
                None => std::ptr::null_mut(),
            },
        };
        let mut output = abi::Output::EMPTY;
        // SAFETY: `request` borrows live data for the whole call; the
        // plugin fills `output`, which is handed back to it to free.
        let (ok, bytes) = unsafe {
            (self.compile)(&request, &mut output);
            let bytes = abi::Bytes {
                ptr: output.ptr,
                len: output.len,
            }
            .as_slice()
            .to_vec();
            let ok = output.ok;
            (self.free)(&mut output);
            (ok, bytes)
        };
        if ok {
            Ok(bytes)
        } else {
            Err(CompileError(String::from_utf8_lossy(&bytes).into_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_plugin_is_a_clear_error() {
        let dir = std::env::temp_dir().join("wamr-no-such-plugin.so");
        let err = Plugin::open(&dir).unwrap_err();
        assert!(err.0.contains("wamr-no-such-plugin.so"), "{err}");
    }

    #[test]
    fn a_library_without_the_interface_is_rejected() {
        // Any shared library that is not the plugin: the C library.
        let err = Plugin::open(Path::new("libc.so.6")).unwrap_err();
        assert!(err.0.contains("wamr_plugin_abi_version"), "{err}");
    }
}
