//! A crash of the compiler never takes the host down: by default every
//! compile runs in a child process (the host's own executable, re-run as a
//! worker), so that LLVM aborting ends only the child. Here the compiler
//! aborts on every compile (the `WAMR_TEST_COMPILER_CRASH` hook of
//! `wamr_llvm_aot::compile`): the `aot` tier reports an error and the
//! `auto` tier keeps the module in the interpreter.
#![cfg(feature = "llvm")]

use wamr_rs::{Config, Linker, Runtime, Tier, TierUpPolicy, Val};

const FIB: &str = r#"(module
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;

/// One test, so that the environment is set before any other thread of
/// this process could read it.
#[test]
fn the_host_outlives_a_compiler_crash() {
    // SAFETY: no other thread of this test binary runs yet or reads the
    // environment (this file holds one test).
    unsafe { std::env::set_var("WAMR_TEST_COMPILER_CRASH", "1") };
    let wasm = wat::parse_str(FIB).unwrap();

    let aot = Runtime::new().with_tier(Tier::Aot).unwrap();
    let module = aot.load(&wasm).unwrap();
    let mut store = aot.new_store();
    let error = Linker::new()
        .instantiate(&mut store, &module)
        .expect_err("the compile fails")
        .to_string();
    assert!(error.contains("compiler process"), "{error}");
    assert!(error.contains("SIGABRT"), "{error}");

    let forced = Config {
        tier_up: TierUpPolicy::immediate(),
        ..Config::default()
    };
    let auto = Runtime::with_config(forced).with_tier(Tier::Auto).unwrap();
    let module = auto.load(&wasm).unwrap();
    let mut store = auto.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    for _ in 0..3 {
        let out = instance.call(&mut store, "fib", &[Val::I32(20)]).unwrap();
        assert_eq!(out, vec![Val::I32(6765)]);
    }
    let manager = auto.tier_manager().expect("the auto tier");
    let events = manager.events();
    assert!(
        !events.is_empty() && events.iter().all(|e| e.failed),
        "{events:?}"
    );
}
