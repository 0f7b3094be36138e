//! The differential target over fixed seeds, and proof that its checker
//! can fail.

mod support;

use std::time::Duration;

use wamr_fuzz::Outcome;
use wamr_fuzz::Target;
use wamr_fuzz::compare::CompareOptions;
use wamr_fuzz::engines::{wamr, wasmi};
use wamr_fuzz::plan::Plan;
use wamr_fuzz::targets::diff;
use wamr_fuzz::trace::{Trace, Value};

#[test]
fn seeds_agree_in_every_tier_and_wasmi() {
    let (cases, skipped) = support::run_seeds(Target::Diff, 0..200, Duration::from_secs(60));
    assert!(cases >= 50, "only {cases} cases ran");
    assert!(skipped * 2 < cases, "{skipped} of {cases} skipped");
}

/// A module that loops calling host and WASI functions, with memory.
const LOOPING_HOST_CALLS: &str = r#"(module
  (import "host" "mix" (func $mix (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "run") (param $n i32) (result i32)
    (local $acc i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (call $mix (local.get $n))))
      (drop (call $r (i32.const 32) (i32.const 8)))
      (if (i32.eqz (i32.rem_u (local.get $n) (i32.const 1000)))
        (then (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
      (global.set $g (i32.load (i32.const 32)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc)))"#;

fn traces(wasm: &[u8], plan: &Plan) -> Vec<(wamr::Variant, Trace)> {
    wamr_fuzz::on_big_stack(|| {
        wamr::Variant::ALL
            .iter()
            .map(|&v| (v, wamr::run(v, wasm, plan, 7)))
            .collect()
    })
}

/// Host calls from a hot loop in compiled code (a defect leaked native
/// stack on each one), checked across tiers and against wasmi.
#[test]
fn host_calls_in_a_loop_agree() {
    let wasm = wat::parse_str(LOOPING_HOST_CALLS).unwrap();
    let mut plan = Plan::new(&wasm, 7).unwrap();
    plan.calls[0].args = vec![Value::I32(200_000)];
    let traces = traces(&wasm, &plan);
    let reference = wasmi::run(&wasm, &plan, 7, None);
    let Trace::Ran { calls, output } = &reference else {
        panic!("wasmi: {reference:?}");
    };
    assert!(calls[0].result.is_ok(), "{calls:?}");
    assert_eq!(output.len(), 3 * 200, "one line per 1000 iterations");
    assert_eq!(
        diff::check_traces(&traces, &reference, CompareOptions::default()),
        Outcome::Pass
    );
}

/// The checker is not a test that cannot fail: a reference that differs in
/// a result, a global, memory or output is a divergence.
#[test]
fn a_wrong_reference_is_a_divergence() {
    let wasm = wat::parse_str(LOOPING_HOST_CALLS).unwrap();
    let mut plan = Plan::new(&wasm, 7).unwrap();
    plan.calls[0].args = vec![Value::I32(2000)];
    let traces = traces(&wasm, &plan);
    let good = wasmi::run(&wasm, &plan, 7, None);
    assert_eq!(
        diff::check_traces(&traces, &good, CompareOptions::default()),
        Outcome::Pass
    );
    let wrong: [fn(&mut Trace); 4] = [
        |t| with_call(t, |c| c.result = Ok(vec![Value::I32(1)])),
        |t| with_call(t, |c| c.globals[0] = Value::I32(-1)),
        |t| with_call(t, |c| c.memories[0].1 ^= 1),
        |t| {
            if let Trace::Ran { output, .. } = t {
                output.push(b'!');
            }
        },
    ];
    for (i, corrupt) in wrong.iter().enumerate() {
        let mut bad = good.clone();
        corrupt(&mut bad);
        let outcome = diff::check_traces(&traces, &bad, CompareOptions::default());
        assert!(
            matches!(outcome, Outcome::Fail { .. }),
            "corruption {i}: {outcome:?}"
        );
    }
}

fn with_call(t: &mut Trace, f: impl FnOnce(&mut wamr_fuzz::trace::CallRecord)) {
    if let Trace::Ran { calls, .. } = t {
        f(&mut calls[0]);
    }
}

/// Traps are compared by message and, between wamr-rs's tiers, by the
/// function they name unless told not to.
#[test]
fn trap_function_names_compare_unless_told_not_to() {
    let wasm =
        wat::parse_str(r#"(module (func $inner unreachable) (func (export "f") call $inner))"#)
            .unwrap();
    let plan = Plan::new(&wasm, 0).unwrap();
    let mut traces = traces(&wasm, &plan);
    let reference = wasmi::run(&wasm, &plan, 0, None);
    if let Trace::Ran { calls, .. } = &mut traces[1].1 {
        calls[0].result = Err(wamr_fuzz::trace::Failure::Trap {
            message: "unreachable".into(),
            function: Some("elsewhere".into()),
        });
    }
    let lenient = CompareOptions {
        trap_function: false,
    };
    let strict = CompareOptions::default();
    assert_eq!(
        diff::check_traces(&traces, &reference, lenient),
        Outcome::Pass
    );
    assert!(matches!(
        diff::check_traces(&traces, &reference, strict),
        Outcome::Fail { .. }
    ));
}

/// Seed 128238 made wasmi 2.0 differ from every tier: its `if` with a
/// parameter passes a stale register through
/// (`fuzz/known/`). wasmtime agrees with the value asserted here.
#[test]
fn wasmi_if_param_bug_is_not_ours() {
    let wat = include_str!("../known/wasmi-if-param-128238.wat");
    let wasm = wat::parse_str(wat).unwrap();
    let mut plan = Plan::new(&wasm, 128238).unwrap();
    plan.calls.retain(|c| c.export == "6");
    plan.calls[0].args = vec![Value::I64(8569932961743369420), Value::I32(1)];
    for (variant, trace) in traces(&wasm, &plan) {
        let Trace::Ran { calls, .. } = &trace else {
            panic!("{}: {trace:?}", variant.name());
        };
        assert_eq!(
            calls[0].result,
            Ok(vec![Value::I64(64)]),
            "{}",
            variant.name()
        );
        assert_eq!(calls[0].globals, vec![Value::I32(1)], "{}", variant.name());
    }
}
