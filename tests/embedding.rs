//! The typed parts of the embedding API: typed calls checked at lookup, host
//! functions from typed closures, and loading from a file.

use std::sync::{Arc, Mutex};

use wamr_rs::{Caller, Config, Error, Instance, Linker, Runtime, Store, Trap, TypedFunc};

const MODULE: &str = r#"(module
    (import "host" "trace" (func $trace (param i32 i32)))
    (import "host" "check" (func $check (param i64) (result i64)))
    (memory (export "memory") 1)
    (data (i32.const 32) "from wasm")
    (func (export "add") (param i32 i32) (result i32)
        (i32.add (local.get 0) (local.get 1)))
    (func (export "swap") (param i64 f64) (result f64 i64)
        (local.get 1) (local.get 0))
    (func (export "half") (param f32) (result f32)
        (f32.mul (local.get 0) (f32.const 0.5)))
    (func (export "say") (call $trace (i32.const 32) (i32.const 9)))
    (func (export "checked") (param i64) (result i64) (call $check (local.get 0))))"#;

/// Instantiates [`MODULE`]; `trace` appends the guest string it is given.
fn setup() -> (Store, Instance, Arc<Mutex<Vec<String>>>) {
    let runtime = Runtime::new();
    let module = runtime
        .load(&wat::parse_str(MODULE).unwrap())
        .expect("valid module");
    let mut store = runtime.new_store();
    let traced = Arc::new(Mutex::new(Vec::new()));
    let sink = traced.clone();
    let mut linker = Linker::new();
    linker
        .func_wrap(
            &mut store,
            "host",
            "trace",
            move |caller: &mut Caller<'_>, ptr: u32, len: u32| {
                let memory = caller.memory("memory").expect("exported memory");
                let mut bytes = vec![0; len as usize];
                memory
                    .read(u64::from(ptr), &mut bytes)
                    .ok_or_else(|| Trap::host("trace: out of bounds"))?;
                sink.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&bytes).into_owned());
                Ok(())
            },
        )
        .func_wrap(&mut store, "host", "check", |v: i64| {
            if v < 0 {
                Err(Trap::host(format!("negative: {v}")))
            } else {
                Ok(v * 2)
            }
        });
    let instance = linker.instantiate(&mut store, &module).expect("links");
    (store, instance, traced)
}

#[test]
fn typed_calls_of_every_shape() {
    let (mut store, instance, _) = setup();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (40, 2)).unwrap(), 42);
    assert_eq!(add.call(&mut store, (i32::MAX, 1)).unwrap(), i32::MIN);
    // u32 is i32 read as unsigned.
    let add_u = instance
        .get_typed_func::<(u32, u32), u32>(&store, "add")
        .unwrap();
    assert_eq!(add_u.call(&mut store, (u32::MAX, 2)).unwrap(), 1);
    let swap = instance
        .get_typed_func::<(i64, f64), (f64, i64)>(&store, "swap")
        .unwrap();
    assert_eq!(swap.call(&mut store, (7, 1.5)).unwrap(), (1.5, 7));
    let half = instance.get_typed_func::<f32, f32>(&store, "half").unwrap();
    assert_eq!(half.call(&mut store, 3.0).unwrap(), 1.5);
    let say = instance.get_typed_func::<(), ()>(&store, "say").unwrap();
    say.call(&mut store, ()).unwrap();
}

#[test]
fn a_wrong_signature_is_refused_at_lookup() {
    let (store, instance, _) = setup();
    let err = instance
        .get_typed_func::<(i32, i64), i32>(&store, "add")
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`add`"), "{msg}");
    assert!(msg.contains("(func (param i32 i32) (result i32))"), "{msg}");
    assert!(
        instance
            .get_typed_func::<(i32, i32), ()>(&store, "add")
            .is_err()
    );
    let err = instance
        .get_typed_func::<(), ()>(&store, "nope")
        .unwrap_err();
    assert!(
        err.to_string().contains("no exported function `nope`"),
        "{err}"
    );
    // `memory` is an export, but not a function.
    assert!(instance.get_typed_func::<(), ()>(&store, "memory").is_err());
}

#[test]
fn host_functions_see_the_callers_memory_and_can_trap() {
    let (mut store, instance, traced) = setup();
    instance.call(&mut store, "say", &[]).unwrap();
    assert_eq!(*traced.lock().unwrap(), ["from wasm"]);

    let checked: TypedFunc<i64, i64> = instance.get_typed_func(&store, "checked").unwrap();
    assert_eq!(checked.call(&mut store, 21).unwrap(), 42);
    let err = checked.call(&mut store, -1).unwrap_err();
    let trap = err.as_trap().expect("a trap");
    assert!(trap.to_string().starts_with("negative: -1"), "{trap}");
}

#[test]
fn a_host_signature_mismatch_is_a_link_error() {
    let runtime = Runtime::new();
    let module = runtime
        .load(&wat::parse_str(r#"(module (import "env" "f" (func (param i32))))"#).unwrap())
        .unwrap();
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    linker.func_wrap(&mut store, "env", "f", |_: i64| {});
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(matches!(err, Error::Link(_)), "{err}");
    assert!(err.to_string().contains("env.f"), "{err}");
}

#[test]
fn load_file_reads_binaries_and_names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("add.wasm");
    std::fs::write(
        &path,
        wat::parse_str(r#"(module (func (export "one") (result i32) (i32.const 1)))"#).unwrap(),
    )
    .unwrap();
    let runtime = Runtime::new();
    let module = runtime.load_file(&path).unwrap();
    let mut store = runtime.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let one = instance.get_typed_func::<(), i32>(&store, "one").unwrap();
    assert_eq!(one.call(&mut store, ()).unwrap(), 1);

    let missing = dir.path().join("missing.wasm");
    let err = runtime.load_file(&missing).unwrap_err();
    assert!(err.to_string().contains("missing.wasm"), "{err}");
}

/// A host function that panics ends the call with a trap naming the panic,
/// in every tier (the wasm frames below it cannot unwind), and the store
/// stays usable.
#[test]
fn a_panicking_host_function_is_a_trap() {
    let wasm = wat::parse_str(
        r#"(module
            (import "env" "check" (func $check (param i32) (result i32)))
            (func (export "run") (param i32) (result i32)
              (i32.add (call $check (local.get 0)) (i32.const 1))))"#,
    )
    .unwrap();
    for tier in [
        wamr_rs::Tier::Interp,
        wamr_rs::Tier::Aot,
        wamr_rs::Tier::Auto,
    ] {
        let Ok(runtime) = Runtime::new().with_tier(tier) else {
            continue; // a build without that tier
        };
        let module = runtime.load(&wasm).unwrap();
        let mut store = runtime.new_store();
        let mut linker = Linker::new();
        linker.func_wrap(&mut store, "env", "check", |x: i32| {
            assert!(x >= 0, "negative input {x}");
            x * 2
        });
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let run: TypedFunc<i32, i32> = instance.get_typed_func(&store, "run").unwrap();
        let err = run.call(&mut store, -3).unwrap_err();
        assert!(
            err.to_string()
                .contains("host function panicked: negative input -3"),
            "{tier:?}: {err}"
        );
        assert_eq!(run.call(&mut store, 4).unwrap(), 9, "{tier:?}");
    }
}

/// Issue 16, defect 4: an out-of-range stack limit in `Config` aborted the
/// process (allocating it all) or panicked (`capacity overflow`); it is an
/// error naming the limit, from `load` and from a store that runs code.
#[test]
fn out_of_range_stack_limits_are_errors() {
    let wasm =
        wat::parse_str(r#"(module (func (export "f") (result i32) (i32.const 7)))"#).unwrap();
    let huge = [
        Config {
            max_stack_bytes: 100_000_000_000,
            ..Config::default()
        },
        Config {
            max_stack_bytes: usize::MAX,
            ..Config::default()
        },
        Config {
            max_native_stack_bytes: usize::MAX,
            ..Config::default()
        },
    ];
    for config in huge {
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("stack"), "{err}");
        let runtime = Runtime::with_config(config.clone());
        let err = runtime.load(&wasm).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        // A store made with the limits still refuses to run code with them.
        let module = Runtime::new().load(&wasm).unwrap();
        let mut store = runtime.new_store();
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        let err = instance.call(&mut store, "f", &[]).unwrap_err();
        assert!(err.to_string().contains("stack"), "{err}");
    }
    // The most allowed value stack runs, reserved rather than allocated.
    let config = Config {
        max_stack_bytes: Config::MAX_STACK_BYTES,
        ..Config::default()
    };
    let runtime = Runtime::with_config(config);
    let module = runtime.load(&wasm).unwrap();
    let mut store = runtime.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let out = instance.call(&mut store, "f", &[]).unwrap();
    assert_eq!(out, vec![wamr_rs::Val::I32(7)]);
}
