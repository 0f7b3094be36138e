//! The compiler's exports when built as a shared library: the C ABI that
//! `wamr_aot::plugin` loads lazily (see there for the contract).

use wamr_aot::plugin::abi;
use wamr_aot::{COMPILER_VERSION, CompileJob, CompileOptions, OsrFuncs, WasmFeatures};

#[unsafe(no_mangle)]
pub extern "C" fn wamr_plugin_abi_version() -> u32 {
    abi::ABI_VERSION
}

#[unsafe(no_mangle)]
pub extern "C" fn wamr_plugin_compiler_version() -> abi::Bytes {
    abi::Bytes::new(COMPILER_VERSION.as_bytes())
}

/// # Safety
/// `request` points at a valid `abi::Request` whose buffers live for the
/// call; `output` points at writable memory for an `abi::Output`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wamr_plugin_compile(
    request: *const abi::Request,
    output: *mut abi::Output,
) {
    // SAFETY: per this function's contract.
    let request = unsafe { &*request };
    // A panic must not unwind into the caller's frames (another image).
    let result = std::panic::catch_unwind(|| unsafe { compile(request) })
        .unwrap_or_else(|_| Err("the LLVM compiler panicked".to_string()));
    let (ok, mut bytes) = match result {
        Ok(bytes) => (true, bytes),
        Err(message) => (false, message.into_bytes()),
    };
    let out = abi::Output {
        ok,
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        capacity: bytes.capacity(),
    };
    std::mem::forget(bytes);
    // SAFETY: per this function's contract.
    unsafe { output.write(out) };
}

/// # Safety
/// `output` was filled by `wamr_plugin_compile` and not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wamr_plugin_free(output: *mut abi::Output) {
    // SAFETY: per this function's contract, the buffer is a `Vec<u8>`
    // this library allocated.
    unsafe {
        let out = &mut *output;
        if !out.ptr.is_null() {
            drop(Vec::from_raw_parts(out.ptr, out.len, out.capacity));
        }
        *out = abi::Output::EMPTY;
    }
}

/// The `len` u32s at `ptr` (which may be null when `len` is 0).
///
/// # Safety
/// A non-empty list is valid for reads for the lifetime chosen.
unsafe fn list<'a>(ptr: *const u32, len: usize) -> &'a [u32] {
    match len {
        0 => &[],
        // SAFETY: per this function's contract.
        n => unsafe { std::slice::from_raw_parts(ptr, n) },
    }
}

/// # Safety
/// As `wamr_plugin_compile`.
unsafe fn compile(request: &abi::Request) -> Result<Vec<u8>, String> {
    // SAFETY: the request's buffers live for the call.
    let text = |b: abi::Bytes| unsafe { String::from_utf8_lossy(b.as_slice()).into_owned() };
    let features = WasmFeatures::from_bits(request.wasm_features)
        .map_err(|bits| format!("unknown wasm feature bits {bits:#x}"))?;
    let options = CompileOptions {
        triple: text(request.triple),
        cpu: text(request.cpu),
        features: text(request.features),
        abi: text(request.abi),
        opt_level: request.opt_level,
    };
    let report = |done: u32, total: u32| {
        if let Some(progress) = request.progress {
            // SAFETY: the caller's callback and context live for the call.
            unsafe { progress(request.progress_ctx, done, total) };
        }
    };
    struct SyncReport<F>(F);
    // SAFETY: the caller's progress callback is `Sync` (see `CompileJob`).
    unsafe impl<F> Sync for SyncReport<F> {}
    impl<F: Fn(u32, u32)> SyncReport<F> {
        fn call(&self, done: u32, total: u32) {
            (self.0)(done, total)
        }
    }
    let report = SyncReport(report);
    let progress = |done, total| report.call(done, total);
    let job = CompileJob {
        // SAFETY: the wasm lives for the call.
        wasm: unsafe { request.wasm.as_slice() },
        features,
        options: &options,
        threads: request.threads as usize,
        // SAFETY: the caller's lists live for the call.
        osr: unsafe {
            OsrFuncs {
                entries: list(request.osr_funcs, request.osr_count),
                shared: list(request.osr_shared, request.osr_shared_count),
            }
        },
        progress: request.progress.is_some().then_some(&progress as _),
    };
    crate::compile::compile_aot(&job).map_err(|e| e.to_string())
}
