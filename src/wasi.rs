//! WASI preview1 for embedders: one call puts every WASI function in a
//! [`Linker`], under both `wasi_snapshot_preview1` and `wasi_unstable`.

pub use wamr_runtime::wasi::{
    Errno, InputPipe, OutputPipe, PREVIEW1, UNSTABLE, Wasi, WasiCtx, WasiCtxBuilder, WasiError,
    WasiImport, check_module, imports, is_wasi_module,
};

use crate::Linker;

impl Linker {
    /// Defines the WASI preview1 functions, all sharing `ctx`. Each is made
    /// in the store when a module imports it (a program uses a few of the
    /// ~90), after the linker's own definitions, which take precedence.
    ///
    /// From then on [`Linker::instantiate`] refuses, with a link error, a
    /// module that imports WASI but has a 64-bit memory: preview1 passes
    /// 32-bit pointers and has no wasm64 ABI.
    ///
    /// ```
    /// use wamr_rs::{Linker, OutputPipe, Runtime, WasiCtxBuilder};
    ///
    /// let wasm = wat::parse_str(r#"(module
    ///     (import "wasi_snapshot_preview1" "fd_write"
    ///         (func $fd_write (param i32 i32 i32 i32) (result i32)))
    ///     (memory (export "memory") 1)
    ///     (data (i32.const 16) "hi\n")
    ///     (func (export "_start")
    ///         (i32.store (i32.const 0) (i32.const 16))
    ///         (i32.store (i32.const 4) (i32.const 3))
    ///         (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#)
    /// .expect("valid text");
    /// let runtime = Runtime::new();
    /// let module = runtime.load(&wasm)?;
    /// let mut store = runtime.new_store();
    /// let stdout = OutputPipe::new();
    /// let ctx = WasiCtxBuilder::new().stdout(stdout.clone()).build().expect("context");
    /// let mut linker = Linker::new();
    /// linker.define_wasi(ctx);
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// instance.call(&mut store, "_start", &[])?;
    /// assert_eq!(stdout.contents(), b"hi\n");
    /// # Ok::<(), wamr_rs::Error>(())
    /// ```
    pub fn define_wasi(&mut self, ctx: WasiCtx) -> &mut Self {
        self.wasi = Some(Wasi::new(ctx));
        self
    }
}
