//! The AOT tier through the embedding API: WASI programs run with their
//! output and exit code as under the interpreter.
#![cfg(feature = "llvm")]

use wamr_rs::{Linker, OutputPipe, Runtime, Tier, WasiCtxBuilder};

/// Runs `_start` of `wasm` under `tier`; returns stdout and the exit code.
fn run(tier: Tier, wasm: &[u8]) -> (Vec<u8>, i32) {
    let runtime = Runtime::new().with_tier(tier).expect("tier available");
    let module = runtime.load(wasm).expect("valid module");
    let mut store = runtime.new_store();
    let stdout = OutputPipe::new();
    let ctx = WasiCtxBuilder::new()
        .arg("prog")
        .stdout(stdout.clone())
        .build()
        .expect("context");
    let mut linker = Linker::new();
    linker.define_wasi(&mut store, ctx);
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let code = match instance.call(&mut store, "_start", &[]) {
        Ok(_) => 0,
        Err(e) => e
            .as_trap()
            .and_then(|t| t.exit_code())
            .unwrap_or_else(|| panic!("{e}")),
    };
    (stdout.contents(), code)
}

#[test]
fn wasi_hello_world_matches_the_interpreter() {
    let wasm = wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello.wat")).unwrap();
    let aot = run(Tier::Aot, &wasm);
    assert_eq!(aot, run(Tier::Interp, &wasm));
    assert_eq!(aot.0, b"hello\n");
}

#[test]
fn proc_exit_code_crosses_compiled_frames() {
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func $inner (call $exit (i32.const 7)) unreachable)
            (func (export "_start") (call $inner)))"#,
    )
    .unwrap();
    assert_eq!(run(Tier::Aot, &wasm), (Vec::new(), 7));
}
