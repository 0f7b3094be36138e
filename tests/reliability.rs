//! Regression tests for defects found by running modules from outside
//! (issue 16): each runs in every tier and must give the interpreter's
//! answer.
#![cfg(feature = "llvm")]

use wamr_rs::{Config, Linker, OutputPipe, Runtime, Tier, TierUpPolicy, Val, WasiCtxBuilder};

/// The interpreter, the compiled tier, and tier-up forced at the first
/// call (so that compiled code runs from the start).
fn runtimes() -> Vec<(&'static str, Runtime)> {
    let forced = Config {
        tier_up: TierUpPolicy {
            threshold: 0,
            synchronous: true,
            hot_for: std::time::Duration::ZERO,
            ..TierUpPolicy::default()
        },
        ..Config::default()
    };
    vec![
        ("interp", Runtime::new().with_tier(Tier::Interp).unwrap()),
        ("aot", Runtime::new().with_tier(Tier::Aot).unwrap()),
        (
            "auto",
            Runtime::with_config(forced).with_tier(Tier::Auto).unwrap(),
        ),
    ]
}

/// Calls export `name` of `wat` with `args` in every tier; returns each
/// tier's results, or its trap as displayed (the message, then the
/// function it happened in).
fn call_everywhere(
    wat: &str,
    name: &str,
    args: &[Val],
) -> Vec<(&'static str, Result<Vec<Val>, String>)> {
    let wasm = wat::parse_str(wat).unwrap();
    runtimes()
        .into_iter()
        .map(|(tier, runtime)| {
            let module = runtime.load(&wasm).expect("valid module");
            let mut store = runtime.new_store();
            let mut linker = Linker::new();
            linker.func_wrap(&mut store, "host", "id", |x: i32| x);
            let instance = linker.instantiate(&mut store, &module).expect("links");
            let out = instance
                .call(&mut store, name, args)
                .map_err(|e| e.as_trap().map_or_else(|| e.to_string(), |t| t.to_string()));
            (tier, out)
        })
        .collect()
}

/// Defect 0: compiled code allocated the argument slots of every host call
/// on the native stack where the call was, so a loop of host calls took
/// more stack each iteration until the process aborted. The loop also
/// calls a wasm function, whose prologue would trap on the leaked stack
/// long before the million iterations end.
#[test]
fn host_calls_in_a_loop_take_no_stack() {
    let wat = r#"(module
      (import "host" "id" (func $id (param i32) (result i32)))
      (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func (export "run") (param $n i32) (result i32) (local $i i32) (local $acc i32)
        (loop $l
          (local.set $acc (call $leaf (i32.add (local.get $acc) (call $id (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $acc)))"#;
    let n: i32 = 1_000_000;
    let expected = (0..n).fold(0i32, |acc, i| acc.wrapping_add(i).wrapping_add(1));
    for (tier, out) in call_everywhere(wat, "run", &[Val::I32(n)]) {
        assert_eq!(out, Ok(vec![Val::I32(expected)]), "{tier}");
    }
}

/// Defect 0 as found: a WASI program writing from its main loop.
#[test]
fn a_wasi_write_loop_runs_to_the_end() {
    let wasm = wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "\10\00\00\00\01\00\00\00") (data (i32.const 16) "x")
          (func (export "_start") (local $i i32)
            (loop $l
              (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 300000))))))"#,
    )
    .unwrap();
    for (tier, runtime) in runtimes() {
        let module = runtime.load(&wasm).unwrap();
        let mut store = runtime.new_store();
        let stdout = OutputPipe::new();
        let ctx = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .build()
            .unwrap();
        let mut linker = Linker::new();
        linker.define_wasi(ctx);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let out = instance.call(&mut store, "_start", &[]);
        assert!(out.is_ok(), "{tier}: {out:?}");
        assert_eq!(stdout.contents(), vec![b'x'; 300_000], "{tier}");
    }
}

/// Defect 1: a trapping conversion of a constant NaN folds to `poison`,
/// and the compiler asked LLVM for the double value of that constant
/// (a segfault). Every such fold must compile and trap at run time.
#[test]
fn conversions_of_constant_nans_and_infinities_trap() {
    const NAN: &str = "invalid conversion to integer";
    const INF: &str = "integer overflow";
    let cases = [
        (
            "f64.const nan i64.trunc_f64_s f64.convert_i64_u f64.const 2 f64.add",
            NAN,
        ),
        (
            "f64.const inf i64.trunc_f64_u f64.convert_i64_s f64.const 1 f64.mul",
            INF,
        ),
        (
            "f32.const -nan i32.trunc_f32_s f64.convert_i32_u f64.const 0 f64.sub",
            NAN,
        ),
        (
            "f64.const -inf i32.trunc_f64_u f64.convert_i32_s f64.const -1 f64.div",
            INF,
        ),
        (
            "f32.const nan i64.trunc_f32_u f64.convert_i64_u f64.const 1 f64.copysign",
            NAN,
        ),
    ];
    for (body, message) in cases {
        let wat = format!(r#"(module (func (export "f") (result f64) {body}))"#);
        for (tier, out) in call_everywhere(&wat, "f", &[]) {
            let trap = out.expect_err("traps");
            assert!(trap.starts_with(message), "{tier}: {body}: {trap}");
        }
    }
}
