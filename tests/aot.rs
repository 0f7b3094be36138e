//! The AOT tier through the embedding API: WASI programs run with their
//! output and exit code as under the interpreter.
#![cfg(feature = "llvm")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wamr_rs::{
    Caller, CompileError, CompileJob, Compiler, Error, Extern, Linker, OutputPipe, Runtime, Tier,
    Val, WasiCtxBuilder,
};

fn i32_of(v: &Val) -> i32 {
    match v {
        Val::I32(x) => *x,
        other => panic!("not an i32: {other:?}"),
    }
}

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
    linker.define_wasi(ctx);
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

/// memory32 accesses of compiled code are left to guard regions where the
/// host has them (`wamr_runtime::guard`): out-of-bounds loads and stores
/// still trap with the spec's message, also from code entered by a host
/// function that compiled code called, and the caller goes on afterwards
/// with memory as the interpreter leaves it.
#[test]
fn guard_region_faults_are_traps_in_every_nesting() {
    let wasm = wat::parse_str(
        r#"(module
            (import "host" "reenter" (func $reenter (param i32) (result i32)))
            (memory (export "memory") 1 2)
            (func $peek (export "peek") (param i32) (result i32)
              (i32.store (i32.const 16) (local.get 0))
              (i32.load offset=65532 (local.get 0)))
            (func (export "dead_load") (param i32)
              (drop (i64.load (local.get 0))))
            (func (export "store_far") (param i32)
              (i64.store offset=4294967295 (local.get 0) (i64.const -1)))
            (func (export "outer") (param i32) (result i32)
              (i32.store (i32.const 32) (i32.const 5))
              (i32.add (call $reenter (local.get 0)) (i32.load (i32.const 32)))))"#,
    )
    .unwrap();
    let run = |tier: Tier| {
        let runtime = Runtime::new().with_tier(tier).unwrap();
        let module = runtime.load(&wasm).unwrap();
        let mut store = runtime.new_store();
        let mut linker = Linker::new();
        // Calls `peek` and reports its trap as the value -1.
        linker.func_wrap(
            &mut store,
            "host",
            "reenter",
            |caller: &mut Caller<'_>, x: i32| -> i32 {
                let Some(Extern::Func(peek)) = caller.export("peek") else {
                    panic!("no peek export");
                };
                let mut out = [Val::I32(0)];
                match caller.store.call_unchecked(peek, &[Val::I32(x)], &mut out) {
                    Ok(()) => i32_of(&out[0]),
                    Err(trap) => {
                        assert!(trap.to_string().starts_with("out of bounds memory access"));
                        -1
                    }
                }
            },
        );
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let mut results = Vec::new();
        for x in [0, 1, 4, 5, 1 << 20] {
            let r = instance.call(&mut store, "peek", &[Val::I32(x)]);
            results.push(r.map(|v| i32_of(&v[0])).map_err(|e| e.to_string()));
        }
        for x in [0, 1, 65536] {
            let r = instance.call(&mut store, "outer", &[Val::I32(x)]);
            results.push(r.map(|v| i32_of(&v[0])).map_err(|e| e.to_string()));
        }
        for (name, x) in [("dead_load", 65529), ("dead_load", 65528), ("store_far", 0)] {
            let r = instance.call(&mut store, name, &[Val::I32(x)]);
            results.push(r.map(|_| 0).map_err(|e| e.to_string()));
        }
        let memory = instance.memory(&store, "memory").unwrap();
        (results, store.memory(memory).data().to_vec())
    };
    let interp = run(Tier::Interp);
    let aot = run(Tier::Aot);
    assert_eq!(aot.0, interp.0);
    assert!(aot.1 == interp.1, "memory differs after the traps");
    let oob = |r: &Result<i32, String>| {
        r.as_ref()
            .is_err_and(|e| e.starts_with("trap: out of bounds memory access"))
    };
    assert_eq!(aot.0[0], Ok(0));
    assert!(oob(&aot.0[2]), "{:?}", aot.0[2]);
    assert_eq!(aot.0[7], Ok(4), "the trap inside the host call is its own");
    assert!(oob(&aot.0[8]), "an unused load still traps: {:?}", aot.0[8]);
    assert_eq!(aot.0[9], Ok(0));
    assert!(oob(&aot.0[10]), "{:?}", aot.0[10]);
}

/// A compiler that counts its calls and refuses each.
#[derive(Debug, Default)]
struct RefusingCompiler {
    calls: AtomicUsize,
}

impl Compiler for RefusingCompiler {
    fn version(&self) -> &str {
        wamr_rs::COMPILER_VERSION
    }

    fn compile(&self, _job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(CompileError("this compiler refuses".into()))
    }
}

/// Issue 16: `--tier aot` compiled the whole module before it found a
/// missing import (30 s for an 80 KB module). Linking comes first; the
/// compile runs only for a module that links, and its failure is an error
/// of instantiation, not a trap.
#[test]
fn a_module_that_cannot_link_is_not_compiled() {
    let wasm = wat::parse_str(
        r#"(module
            (import "env" "missing" (func (param i32)))
            (func (export "f") (result i32) (i32.const 1)))"#,
    )
    .unwrap();
    let compiler = Arc::new(RefusingCompiler::default());
    let runtime = Runtime::new()
        .with_compiler(compiler.clone())
        .with_tier(Tier::Aot)
        .unwrap();
    let module = runtime.load(&wasm).expect("loading compiles nothing");
    let mut store = runtime.new_store();
    let err = Linker::new().instantiate(&mut store, &module).unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err}");
    assert!(err.to_string().contains("env.missing"), "{err}");
    assert_eq!(compiler.calls.load(Ordering::SeqCst), 0);

    // Once the import is there, instantiation compiles, and says why it failed.
    let mut linker = Linker::new();
    linker.func_wrap(&mut store, "env", "missing", |_: i32| {});
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(err.as_trap().is_none(), "{err}");
    assert!(err.to_string().contains("this compiler refuses"), "{err}");
    assert_eq!(compiler.calls.load(Ordering::SeqCst), 1);
}
