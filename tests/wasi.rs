//! WASI through the embedding API and the interpreter: linking, the legacy
//! module name, memory64 refusal, and bad pointers from real guest code.

use wamr_rs::wasi::Errno;
use wamr_rs::{Error, Linker, OutputPipe, Runtime, Val, WasiCtxBuilder};

fn instantiate(
    wat: &str,
    stdout: &OutputPipe,
) -> wamr_rs::Result<(wamr_rs::Store, wamr_rs::Instance)> {
    let runtime = Runtime::new();
    let module = runtime.load(&wat::parse_str(wat).expect("valid text"))?;
    let mut store = runtime.new_store();
    let ctx = WasiCtxBuilder::new()
        .arg("prog")
        .stdout(stdout.clone())
        .build()
        .expect("context");
    let mut linker = Linker::new();
    linker.define_wasi(ctx);
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance))
}

#[test]
fn a_memory64_module_importing_wasi_fails_to_link() {
    let err = instantiate(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write"
                (func (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") i64 1))"#,
        &OutputPipe::new(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err}");
    assert!(err.to_string().contains("no wasm64 ABI"), "{err}");
}

#[test]
fn wasi_unstable_imports_work_and_exit_unwinds() {
    let stdout = OutputPipe::new();
    let (mut store, instance) = instantiate(
        r#"(module
            (import "wasi_unstable" "fd_write"
                (func $write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_unstable" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "old abi\n")
            (func (export "_start")
                (i32.store (i32.const 0) (i32.const 16))
                (i32.store (i32.const 4) (i32.const 8))
                (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
                (call $exit (i32.const 3))
                unreachable))"#,
        &stdout,
    )
    .unwrap();
    let err = instance.call(&mut store, "_start", &[]).unwrap_err();
    assert_eq!(err.as_trap().and_then(|t| t.exit_code()), Some(3), "{err}");
    assert_eq!(stdout.contents(), b"old abi\n");
}

#[test]
fn bad_guest_pointers_come_back_as_efault() {
    let stdout = OutputPipe::new();
    let (mut store, instance) = instantiate(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write"
                (func $write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "args_get"
                (func $args (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            ;; an iovec whose buffer runs past the end of memory
            (func (export "write_bad_buffer") (result i32)
                (i32.store (i32.const 0) (i32.const 65530))
                (i32.store (i32.const 4) (i32.const 100))
                (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (func (export "args_far_away") (result i32)
                (call $args (i32.const -16) (i32.const 0))))"#,
        &stdout,
    )
    .unwrap();
    let efault = Val::I32(Errno::Fault as i32);
    assert_eq!(
        instance.call(&mut store, "write_bad_buffer", &[]).unwrap(),
        [efault]
    );
    assert_eq!(
        instance.call(&mut store, "args_far_away", &[]).unwrap(),
        [efault]
    );
    assert!(stdout.contents().is_empty());
}

/// WASI functions are made as modules import them: an unknown name is a
/// link error naming it, a wrong signature is refused like any import's,
/// and the linker's own definitions take precedence over WASI's.
#[test]
fn wasi_imports_resolve_by_name_and_own_definitions_win() {
    let err = instantiate(
        r#"(module (import "wasi_snapshot_preview1" "no_such_call" (func)))"#,
        &OutputPipe::new(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err}");
    assert!(err.to_string().contains("no_such_call"), "{err}");
    let err = instantiate(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))))"#,
        &OutputPipe::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("fd_write"), "{err}");

    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "go") (result i32 i32 i32)
              (call $random (i32.const 0) (i32.const 4))
              (drop (call $sizes (i32.const 8) (i32.const 12)))
              (i32.load (i32.const 8))
              (i32.load (i32.const 0))))"#,
    )
    .unwrap();
    let runtime = Runtime::new();
    let module = runtime.load(&wasm).unwrap();
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    linker.define_wasi(WasiCtxBuilder::new().args(["a", "b"]).build().unwrap());
    linker.func_wrap(
        &mut store,
        "wasi_snapshot_preview1",
        "random_get",
        |_: i32, _: i32| 77,
    );
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let got = instance.call(&mut store, "go", &[]).unwrap();
    assert_eq!(got, [Val::I32(77), Val::I32(2), Val::I32(0)]);
}
