//! `--tier auto` under stress: code is swapped in while calls are in flight
//! (recursion, indirect calls, host functions re-entering wasm, memory.grow
//! during tier-up), and every result must equal the interpreter's.
#![cfg(feature = "llvm")]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use wamr_rs::{
    CachingCompiler, Config, Extern, FuncType, Instance, Linker, Runtime, Store, Tier,
    TierUpPolicy, Val, ValType,
};

/// `work(n)`: recursion (`fib`), indirect calls through a table, a host
/// import that calls back into wasm (`reenter` -> `leaf`), a loop, and
/// memory.grow every 64 rounds; returns a checksum mixing all of it with
/// the memory size and contents.
const STRESS: &str = r#"(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1 64)
  (type $unary (func (param i32) (result i32)))
  (table 3 funcref)
  (elem (i32.const 0) $double $fib $leaf)
  (func $double (type $unary) (i32.shl (local.get 0) (i32.const 1)))
  (func $fib (type $unary)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $leaf (export "leaf") (param i32) (result i32)
    (i32.store (i32.and (i32.mul (local.get 0) (i32.const 4)) (i32.const 0xfffc)) (local.get 0))
    (i32.add (local.get 0) (i32.const 7)))
  (func (export "work") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (call_indirect (type $unary) (i32.and (local.get $i) (i32.const 15))
          (i32.rem_u (local.get $i) (i32.const 3)))))
      (local.set $acc (i32.xor (local.get $acc) (call $reenter (local.get $i))))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 63)))
        (then (drop (memory.grow (i32.const 1)))))
      (local.set $acc (i32.add (local.get $acc)
        (i32.add (memory.size) (i32.load (i32.and (i32.mul (local.get $i) (i32.const 4)) (i32.const 0xfffc))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
)"#;

/// An instance of `wasm` (the stress module) whose `host.reenter` calls
/// back into its `leaf` export.
fn instantiate(runtime: &Runtime, wasm: &[u8]) -> (Store, Instance) {
    let module = runtime.load(wasm).unwrap();
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    let ty = FuncType::new([ValType::I32], [ValType::I32]);
    linker.func(
        &mut store,
        "host",
        "reenter",
        ty,
        |caller, args, results| {
            let Some(Extern::Func(leaf)) = caller.export("leaf") else {
                panic!("no leaf export");
            };
            caller.store.call_unchecked(leaf, args, results)
        },
    );
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// Runs `work(n)` `rounds` times in a fresh instance; returns the results
/// and the final memory, and whether native code was published.
fn run(runtime: &Runtime, wasm: &[u8], n: i32, rounds: usize) -> (Vec<i32>, Vec<u8>, bool) {
    let (mut store, instance) = instantiate(runtime, wasm);
    let work = instance.get_typed_func::<i32, i32>(&store, "work").unwrap();
    let results = (0..rounds)
        .map(|_| work.call(&mut store, n).unwrap())
        .collect();
    let memory = instance.memory(&store, "memory").unwrap();
    let work_id = instance.func(&store, "work").unwrap();
    let published = !store
        .func(work_id)
        .slot()
        .array_call
        .load(Ordering::Acquire)
        .is_null();
    (results, store.memory(memory).data().to_vec(), published)
}

fn auto_runtime(threshold: u64, synchronous: bool) -> Runtime {
    let config = Config {
        tier_up: TierUpPolicy {
            threshold,
            synchronous,
            hot_for: std::time::Duration::ZERO,
            ..TierUpPolicy::default()
        },
        ..Config::default()
    };
    Runtime::with_config(config)
        .with_compiler(Arc::new(CachingCompiler::new(wamr_rs::plugin_compiler())))
        .with_tier(Tier::Auto)
        .unwrap()
}

#[test]
fn tier_up_mid_run_changes_no_result() {
    let wasm = wat::parse_str(STRESS).unwrap();
    let expected = run(&Runtime::new(), &wasm, 3000, 30);
    assert!(!expected.2, "the interpreter publishes nothing");
    for (threshold, synchronous) in [(0, true), (1, false), (100, false), (5000, false)] {
        let runtime = auto_runtime(threshold, synchronous);
        let got = run(&runtime, &wasm, 3000, 30);
        assert_eq!(got.0, expected.0, "threshold {threshold}");
        assert!(got.1 == expected.1, "threshold {threshold}: memory differs");
        let events = runtime.tier_manager().unwrap().events();
        let modules = events.iter().filter(|e| !e.osr_only).count();
        assert_eq!(modules, 1, "one module compile per module: {events:?}");
        if synchronous {
            assert!(got.2, "synchronous tier-up publishes before the first call");
        }
    }
}

#[test]
fn background_code_arrives_and_is_used() {
    let wasm = wat::parse_str(STRESS).unwrap();
    let runtime = auto_runtime(10, false);
    let expected = run(&Runtime::new(), &wasm, 2000, 1).0[0];
    // Keep calling until the background compile lands (bounded: it takes
    // well under a minute even on a loaded machine).
    let (mut store, instance) = instantiate(&runtime, &wasm);
    let work = instance.func(&store, "work").unwrap();
    let started = std::time::Instant::now();
    let mut calls = 0;
    loop {
        // Fresh memory contents each time would change the checksum; the
        // first call's result is what the interpreter computed above.
        let got = store.call(work, &[Val::I32(2000)]).unwrap();
        if calls == 0 {
            assert_eq!(got, [Val::I32(expected)]);
        }
        calls += 1;
        if !store
            .func(work)
            .slot()
            .array_call
            .load(Ordering::Acquire)
            .is_null()
        {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "no native code after {calls} calls"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let events = runtime.tier_manager().unwrap().events();
    assert!(
        events[0].compile_time.is_some() && !events[0].failed && !events[0].osr_only,
        "{events:?}"
    );
    assert!(events[1..].iter().all(|e| e.osr_only), "{events:?}");
}

#[test]
fn a_failed_compile_leaves_the_module_in_the_interpreter() {
    #[derive(Debug)]
    struct Broken;
    impl wamr_rs::Compiler for Broken {
        fn version(&self) -> &str {
            wamr_rs::COMPILER_VERSION
        }
        fn compile(&self, _: &wamr_rs::CompileJob<'_>) -> Result<Vec<u8>, wamr_rs::CompileError> {
            Err(wamr_rs::CompileError("deliberately broken".into()))
        }
    }
    let wasm = wat::parse_str(STRESS).unwrap();
    let expected = run(&Runtime::new(), &wasm, 500, 3);
    let config = Config {
        tier_up: TierUpPolicy {
            threshold: 0,
            synchronous: true,
            ..TierUpPolicy::default()
        },
        ..Config::default()
    };
    let runtime = Runtime::with_config(config)
        .with_compiler(Arc::new(Broken))
        .with_tier(Tier::Auto)
        .unwrap();
    let got = run(&runtime, &wasm, 500, 3);
    assert_eq!(got.0, expected.0);
    assert!(!got.2, "nothing published");
    let events = runtime.tier_manager().unwrap().events();
    assert!(events[0].failed, "{events:?}");
}

/// One call that loops: `outer` (interpreted) calls `inner`, whose loop
/// runs long enough to tier up while it runs; the activation then moves to
/// native code at the loop header (on-stack replacement) and returns into
/// the interpreted caller. `trap_at` makes the loop trap (out of bounds)
/// at that iteration, after the move.
const LONG_LOOP: &str = r#"(module
  (memory (export "memory") 1)
  (func $inner (param $n i32) (param $trap_at i32) (result i64) (local $i i32) (local $acc i64)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.extend_i32_u (i32.mul (local.get $i) (local.get $i)))))
        (i32.store
          (select (i32.const 70000)
                  (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfffc))
                  (i32.eq (local.get $i) (local.get $trap_at)))
          (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.add (local.get $acc) (i64.load (i32.const 40))))
  (func (export "outer") (param $n i32) (param $trap_at i32) (result i64)
    (i64.add (call $inner (local.get $n) (local.get $trap_at)) (i64.const 1)))
)"#;

fn call_outer(runtime: &Runtime, n: i32, trap_at: i32) -> (Result<i64, String>, Vec<u8>) {
    let wasm = wat::parse_str(LONG_LOOP).unwrap();
    let module = runtime.load(&wasm).unwrap();
    let mut store = runtime.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let outer = instance
        .get_typed_func::<(i32, i32), i64>(&store, "outer")
        .unwrap();
    let result = outer
        .call(&mut store, (n, trap_at))
        .map_err(|e| e.to_string());
    let memory = instance.memory(&store, "memory").unwrap();
    (result, store.memory(memory).data().to_vec())
}

#[test]
fn a_running_loop_moves_to_native_code() {
    let n = 200_000;
    let expected = call_outer(&Runtime::new(), n, -1);
    assert!(expected.0.is_ok());
    // Synchronous tier-up at the 1000th back-edge: deterministic.
    let runtime = auto_runtime(1000, true);
    let got = call_outer(&runtime, n, -1);
    assert_eq!(got.0, expected.0);
    assert!(got.1 == expected.1, "memory differs");
    assert_eq!(runtime.tier_manager().unwrap().osr_transfers(), 1);
}

#[test]
fn a_trap_after_the_move_is_the_interpreters_trap() {
    let expected = call_outer(&Runtime::new(), 100_000, 50_000);
    let err = expected.0.clone().unwrap_err();
    assert!(err.contains("out of bounds memory access"), "{err}");
    let runtime = auto_runtime(1000, true);
    let got = call_outer(&runtime, 100_000, 50_000);
    assert_eq!(got.0, expected.0);
    assert!(got.1 == expected.1, "memory differs");
    assert_eq!(runtime.tier_manager().unwrap().osr_transfers(), 1);
}

/// `outer` first calls the host, which re-enters wasm in `warm`; `warm`
/// makes the module hot while `outer` waits in another interpreter run, so
/// the compile gives only `warm` an OSR entry. When `outer`'s own loop then
/// ticks, it asks for one more compile and moves over to its code.
const LATE_LOOP: &str = r#"(module
  (import "host" "warm_up" (func $warm_up))
  (func $warm (export "warm") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 5000)))))
  (func (export "outer") (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (call $warm_up)
    (loop $l
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32.xor (local.get $i) (i32.const 0x5a5a)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
)"#;

#[test]
fn a_loop_that_started_during_the_compile_gets_its_own_entry() {
    let run = |runtime: &Runtime, n: i32| {
        let module = runtime.load(&wat::parse_str(LATE_LOOP).unwrap()).unwrap();
        let mut store = runtime.new_store();
        let mut linker = Linker::new();
        linker.func(
            &mut store,
            "host",
            "warm_up",
            FuncType::new([], []),
            |caller, _, _| {
                let Some(Extern::Func(warm)) = caller.export("warm") else {
                    panic!("no warm export");
                };
                caller.store.call_unchecked(warm, &[], &mut [])
            },
        );
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let outer = instance
            .get_typed_func::<i32, i64>(&store, "outer")
            .unwrap();
        outer.call(&mut store, n).unwrap()
    };
    // `outer` must loop on for longer than the first compile takes, which
    // the interpreter alone would need seconds for: the sum, in Rust.
    let n = 300_000_000u64;
    let expected: i64 = (0..n).map(|i| (i as u32 ^ 0x5a5a) as i64).sum();
    let runtime = auto_runtime(1000, true);
    assert_eq!(run(&runtime, n as i32), expected);
    let manager = runtime.tier_manager().unwrap();
    let events = manager.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(!events[0].osr_only && events[1].osr_only, "{events:?}");
    assert_eq!(manager.osr_transfers(), 2, "warm, then outer");
}

/// Loops three deep, with a sibling before the middle one and code before
/// each inner loop that must run on every outer iteration: whichever loop
/// the move to native code lands at, the rest of the activation (the loops
/// around included) must compute what the interpreter does. `nest` runs
/// as the outermost running function (its body is shared with its OSR
/// entry), `wrapped` runs it below a caller that has a loop of its own
/// (then `nest` keeps its own native copy).
const NESTED_LOOPS: &str = r#"(module
  (func $nest (export "nest") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $k i32) (local $acc i64)
    (loop $outer
      (local.set $j (i32.const 0))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32.mul (local.get $i) (i32.const 1000003)))))
      (loop $first
        (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 3)) (i64.extend_i32_u (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $first (i32.lt_u (local.get $j) (i32.const 3))))
      (local.set $k (i32.const 0))
      (loop $middle
        (local.set $j (i32.and (local.get $k) (i32.const 7)))
        (loop $inner
          (local.set $acc (i64.add (local.get $acc)
            (i64.extend_i32_u (i32.xor (local.get $i) (i32.xor (local.get $k) (local.get $j))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $inner (i32.lt_u (local.get $j) (i32.const 50))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $middle (i32.lt_u (local.get $k) (i32.const 40))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (func (export "wrapped") (param $n i32) (result i64) (local $c i32) (local $r i64)
    (loop $once
      (local.set $r (i64.add (local.get $r) (call $nest (local.get $n))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $once (i32.lt_u (local.get $c) (i32.const 1))))
    (local.get $r))
)"#;

#[test]
fn a_move_into_nested_loops_runs_the_loops_around_them_on() {
    let run = |runtime: &Runtime, export: &str| {
        let module = runtime
            .load(&wat::parse_str(NESTED_LOOPS).unwrap())
            .unwrap();
        let mut store = runtime.new_store();
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        let f = instance.get_typed_func::<i32, i64>(&store, export).unwrap();
        f.call(&mut store, 200).unwrap()
    };
    let expected = run(&Runtime::new(), "nest");
    assert_eq!(run(&Runtime::new(), "wrapped"), expected);
    // Different thresholds land the move at different loops.
    for threshold in [100, 1000, 4321, 20_000, 100_000] {
        for export in ["nest", "wrapped"] {
            let runtime = auto_runtime(threshold, true);
            assert_eq!(
                run(&runtime, export),
                expected,
                "{export}, threshold {threshold}"
            );
            let transfers = runtime.tier_manager().unwrap().osr_transfers();
            assert_eq!(transfers, 1, "{export}, threshold {threshold}");
        }
    }
}
