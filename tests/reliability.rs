//! Regression tests for defects found by running modules from outside
//! (issue 16): each runs in every tier and must give the interpreter's
//! answer.
#![cfg(feature = "llvm")]

use wamr_rs::{
    CodeCacheConfig, Config, Linker, OutputPipe, Runtime, Tier, TierUpPolicy, Trap, Val,
    WasiCtxBuilder,
};

/// The interpreter, the compiled tier, and tier-up forced at the first
/// call (so that compiled code runs from the start).
fn runtimes() -> Vec<(&'static str, Runtime)> {
    let forced = Config {
        tier_up: TierUpPolicy::immediate(),
        ..Config::default()
    };
    let cached = Config {
        code_cache: Some(CodeCacheConfig::new(cache_dir())),
        ..forced.clone()
    };
    vec![
        ("interp", Runtime::new().with_tier(Tier::Interp).unwrap()),
        ("aot", Runtime::new().with_tier(Tier::Aot).unwrap()),
        (
            "auto",
            Runtime::with_config(forced).with_tier(Tier::Auto).unwrap(),
        ),
        // The first compiles and stores; the second runs what it stored.
        (
            "aot, code cache",
            Runtime::with_config(cached.clone())
                .with_tier(Tier::Aot)
                .unwrap(),
        ),
        (
            "auto, code cache",
            Runtime::with_config(cached).with_tier(Tier::Auto).unwrap(),
        ),
    ]
}

/// A code cache for this test process, emptied when first used: entries
/// an earlier build wrote carry the same compiler version.
fn cache_dir() -> std::path::PathBuf {
    static EMPTIED: std::sync::Once = std::sync::Once::new();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reliability-code-cache");
    EMPTIED.call_once(|| {
        let _ = std::fs::remove_dir_all(&dir);
    });
    dir
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
            linker
                .func_wrap(&mut store, "host", "id", |x: i32| x)
                .func_wrap(&mut store, "host", "fail", || -> Result<(), Trap> {
                    Err(Trap::host("refused"))
                });
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

/// Defect 2: LLVM aborted the process on a guaranteed tail call to a
/// function whose results do not fit in registers. Tail calls of every
/// kind to such functions, deep enough that only a real tail call
/// survives, and ordinary calls of them, direct and indirect.
#[test]
fn tail_calls_with_many_results() {
    let wat = r#"(module
      (type $t (func (param i64 i64) (result i64 i64 i32 f64 f32)))
      (type $null (func (result i64 i64 i64 i64)))
      (table $fs 2 funcref)
      (table $none 1 funcref)
      (elem (table $fs) (i32.const 0) func $direct $indirect)
      (func $done (type $t)
        (local.get 1) (i64.mul (local.get 1) (i64.const 3)) (i32.wrap_i64 (local.get 0))
        (f64.convert_i64_s (local.get 1)) (f32.const -1.5))
      (func $direct (export "direct") (type $t)
        (if (i64.eqz (local.get 0)) (then (return_call $done (local.get 0) (local.get 1))))
        (return_call $direct (i64.sub (local.get 0) (i64.const 1))
                             (i64.add (local.get 1) (local.get 0))))
      (func $indirect (export "indirect") (type $t)
        (if (i64.eqz (local.get 0)) (then (return_call $done (local.get 0) (local.get 1))))
        (return_call_indirect $fs (type $t) (i64.sub (local.get 0) (i64.const 1))
                                  (i64.add (local.get 1) (local.get 0))
                                  (i32.wrap_i64 (i64.and (local.get 0) (i64.const 1)))))
      (func (export "sum") (param i64) (result f64)
        (local $a i64) (local $b i64) (local $c i32) (local $d f64) (local $e f32)
        (call $direct (local.get 0) (i64.const 0))
        (local.set $e) (local.set $d) (local.set $c) (local.set $b) (local.set $a)
        (call_indirect $fs (type $t) (local.get 0) (i64.const 0) (i32.const 1))
        (drop) (drop) (drop) (i64.add) (local.get $b) (i64.add) (local.get $a) (i64.add)
        (f64.convert_i64_s) (local.get $d) (f64.add) (local.get $e) (f64.promote_f32) (f64.add))
      (func (export "null") (type $null) (return_call_indirect $none (type $null) (i32.const 0))))"#;
    let n: i64 = 1_000_000;
    let total = n * (n + 1) / 2;
    let expected = vec![
        Val::I64(total),
        Val::I64(total * 3),
        Val::I32(0),
        Val::F64((total as f64).to_bits()),
        Val::F32((-1.5f32).to_bits()),
    ];
    for export in ["direct", "indirect"] {
        for (tier, out) in call_everywhere(wat, export, &[Val::I64(n), Val::I64(0)]) {
            assert_eq!(out, Ok(expected.clone()), "{tier}: {export}");
        }
    }
    let sum = (8 * total) as f64 + total as f64 - 1.5;
    for (tier, out) in call_everywhere(wat, "sum", &[Val::I64(n)]) {
        assert_eq!(out, Ok(vec![Val::F64(sum.to_bits())]), "{tier}: sum");
    }
    for (tier, out) in call_everywhere(wat, "null", &[]) {
        let trap = out.expect_err("a null entry traps");
        assert!(trap.starts_with("uninitialized element"), "{tier}: {trap}");
    }
}

/// Defect 5: compiled code named the function the host had called, not
/// the one that trapped. Every tier names the innermost wasm function, for
/// traps it raises, traps of host functions it calls, and stack
/// exhaustion. (The memory64 access here is checked explicitly; for
/// memory32 accesses caught by a guard page see
/// `guard_page_traps_name_the_function_that_made_the_access`.)
#[test]
fn traps_name_the_function_they_happened_in() {
    let wat = r#"(module
      (import "host" "fail" (func $fail))
      (type $v (func (result i32)))
      (table 1 funcref)
      (elem (i32.const 0) $div)
      (memory i64 1)
      (func $outer (export "outer") (param i32) (result i32)
        (i32.add (call $middle (local.get 0)) (i32.const 1)))
      (func $middle (param i32) (result i32)
        (block $e (block $d (block $c (block $b (block $a
          (br_table $a $b $c $d $e (local.get 0)))
          (return (call $unreachable)))
          (return (call_indirect (type $v) (i32.const 0))))
          (return (call $host)))
          (return (call $deep (i32.const 0))))
        (i32.load (i64.const 65536)))
      (func $unreachable (result i32) unreachable)
      (func $div (result i32)
        (i32.div_u (i32.const 1) (i32.wrap_i64 (i64.sub (memory.size) (i64.const 1)))))
      (func $host (result i32) (call $fail) (i32.const 0))
      (func $deep (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1))))"#;
    let expected = [
        "unreachable (in wasm function unreachable)",
        "integer divide by zero (in wasm function div)",
        "refused (in wasm function host)",
        "call stack exhausted (in wasm function deep)",
        "out of bounds memory access (in wasm function middle)",
    ];
    for (case, want) in expected.iter().enumerate() {
        for (tier, out) in call_everywhere(wat, "outer", &[Val::I32(case as i32)]) {
            assert_eq!(out, Err(want.to_string()), "{tier}: case {case}");
        }
    }
}

/// Defect 5 for memory32 accesses that compiled code leaves to a guard
/// page (x86_64 Linux): the fault named the function the host had called.
/// Each out-of-bounds access here is in a small function LLVM inlines
/// into its caller (see `inlined_guard_faults_are_named_from_the_fault_sites`),
/// so only the compiler's table of accesses can name it. In `rmw`, x86
/// makes the caller's load and the inlined store one instruction; the load
/// traps first.
const GUARDED: &str = r#"(module
  (memory 1)
  (func $outer (export "outer") (result i32) call $inner i32.const 1 i32.add)
  (func $inner (result i32) i32.const -1 i32.load)
  (func $store_outer (export "store") (call $store_inner (i32.const 65530)))
  (func $store_inner (param i32) (i64.store (local.get 0) (i64.const -1)))
  (func $simd_outer (export "simd") (result i32)
    (i32x4.extract_lane 1 (call $simd_inner (i32.const 65521))))
  (func $simd_inner (param i32) (result v128) (v128.load (local.get 0)))
  (func $rmw (export "rmw") (param i32)
    (call $put (local.get 0) (i32.add (i32.load (local.get 0)) (i32.const 1))))
  (func $put (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

/// (export, arguments, the function whose access traps) of [`GUARDED`].
const GUARDED_TRAPS: [(&str, &[Val], &str); 4] = [
    ("outer", &[], "inner"),
    ("store", &[], "store_inner"),
    ("simd", &[], "simd_inner"),
    ("rmw", &[Val::I32(-2)], "rmw"),
];

#[test]
fn guard_page_traps_name_the_function_that_made_the_access() {
    for (export, args, inner) in GUARDED_TRAPS {
        let want = format!("out of bounds memory access (in wasm function {inner})");
        for (tier, out) in call_everywhere(GUARDED, export, args) {
            assert_eq!(out, Err(want.clone()), "{tier}: {export}");
        }
    }
}

/// Host-tier code for [`GUARDED`] at -O3 inlines each inner function:
/// one of its fault sites lies in its caller's code, where the nearest
/// function entry below (the fallback) would name the caller.
#[test]
fn inlined_guard_faults_are_named_from_the_fault_sites() {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return;
    }
    let wasm = wat::parse_str(GUARDED).unwrap();
    let runtime = Runtime::new();
    let aot = runtime
        .precompile(&wasm, &wamr_rs::CompileOptions::host(3), 1, None)
        .unwrap();
    let image = wamr_rs::AotImage::from_bytes(&aot).unwrap();
    let mut entries: Vec<(u32, u32)> = (0u32..)
        .zip(&image.functions)
        .flat_map(|(func, e)| [(e.native, func), (e.array_call, func)])
        .collect();
    entries.sort();
    let fallback = |at: u32| entries.iter().rev().find(|e| e.0 <= at).unwrap().1;
    // (inner, its caller): function indices in `GUARDED`.
    for (inner, outer) in [(1, 0), (3, 2), (5, 4)] {
        assert!(
            image
                .fault_sites
                .iter()
                .any(|s| s.func == inner && fallback(s.code_offset) == outer),
            "function {inner} is not inlined into {outer}: {:?}",
            image.fault_sites
        );
    }
}

/// The same through an `.aot` file: the fault sites come from its
/// section.
#[test]
fn guard_page_traps_from_an_aot_file_name_the_function() {
    let wasm = wat::parse_str(GUARDED).unwrap();
    let runtime = Runtime::new().with_tier(Tier::Aot).unwrap();
    let aot = runtime
        .precompile(&wasm, &wamr_rs::CompileOptions::host(3), 1, None)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guarded.aot");
    std::fs::write(&path, &aot).unwrap();
    let module = runtime.load_aot_file(&path).unwrap();
    let mut store = runtime.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    for (export, args, inner) in GUARDED_TRAPS {
        let err = instance.call(&mut store, export, args).unwrap_err();
        let trap = err.as_trap().expect("a trap").to_string();
        assert_eq!(
            trap,
            format!("out of bounds memory access (in wasm function {inner})")
        );
    }
}

/// Every kind of memory access, in a function its caller inlines; `$a`
/// (-1) is out of bounds for all of them, `$v` a vector.
const ACCESSES: &[&str] = &[
    "(drop (i32.load (local.get $a)))",
    "(drop (i64.load offset=7 (local.get $a)))",
    "(drop (f32.load (local.get $a)))",
    "(drop (f64.load (local.get $a)))",
    "(drop (i32.load8_s (local.get $a)))",
    "(drop (i32.load16_u (local.get $a)))",
    "(drop (i64.load8_u (local.get $a)))",
    "(drop (i64.load32_s (local.get $a)))",
    "(i32.store (local.get $a) (i32.const 1))",
    "(i64.store (local.get $a) (i64.const 1))",
    "(f64.store (local.get $a) (f64.const 1))",
    "(i32.store8 (local.get $a) (i32.const 1))",
    "(i64.store16 (local.get $a) (i64.const 1))",
    "(i64.store32 (local.get $a) (i64.const 1))",
    "(i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 3)))",
    "(drop (v128.load (local.get $a)))",
    "(v128.store (local.get $a) (local.get $v))",
    "(drop (v128.load8x8_s (local.get $a)))",
    "(drop (v128.load32x2_u (local.get $a)))",
    "(drop (v128.load8_splat (local.get $a)))",
    "(drop (v128.load64_splat (local.get $a)))",
    "(drop (v128.load32_zero (local.get $a)))",
    "(drop (v128.load64_zero (local.get $a)))",
    "(drop (v128.load8_lane 3 (local.get $a) (local.get $v)))",
    "(drop (v128.load16_lane 1 (local.get $a) (local.get $v)))",
    "(drop (v128.load32_lane 2 (local.get $a) (local.get $v)))",
    "(drop (v128.load64_lane 1 (local.get $a) (local.get $v)))",
    "(v128.store8_lane 5 (local.get $a) (local.get $v))",
    "(v128.store16_lane 2 (local.get $a) (local.get $v))",
    "(v128.store32_lane 3 (local.get $a) (local.get $v))",
    "(v128.store64_lane 1 (local.get $a) (local.get $v))",
];

#[test]
fn guard_page_traps_name_every_kind_of_access() {
    let funcs: String = (0..ACCESSES.len())
        .map(|i| {
            format!(
                "(func $access{i} (param $a i32) (param $v v128) {})\n\
                 (func (export \"f{i}\") (param i32)\n\
                   (call $access{i} (local.get 0) (v128.const i64x2 1 2)))\n",
                ACCESSES[i]
            )
        })
        .collect();
    let wasm = wat::parse_str(format!("(module (memory 1) {funcs})")).unwrap();
    for (tier, runtime) in runtimes() {
        let module = runtime.load(&wasm).unwrap();
        let mut store = runtime.new_store();
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        for (i, access) in ACCESSES.iter().enumerate() {
            let err = instance
                .call(&mut store, &format!("f{i}"), &[Val::I32(-1)])
                .unwrap_err();
            let trap = err.as_trap().map(Trap::to_string);
            let want = format!("out of bounds memory access (in wasm function access{i})");
            assert_eq!(trap, Some(want), "{tier}: {access}");
        }
    }
}

/// Found by the differential fuzzer (seed 100643): LLVM folded a signed
/// float-to-int conversion followed by an unsigned round trip through f64
/// as exact, which it is not for negative values; compiled code gave
/// -3594324224 where the interpreter (and wasmi) give -3594323968.
#[test]
fn unsigned_round_trips_of_negative_truncations_round() {
    let wat = r#"(module (func (export "f") (param i32) (result i64)
      (i64.trunc_f64_u (f64.convert_i64_u
        (i64.trunc_f32_s (f32.neg (f32.convert_i32_u (local.get 0))))))))"#;
    for x in [3_594_324_203u32, 3_594_324_566, 1 << 31, 4_000_000_001] {
        let f = f64::from(-(x as f32)) as i64 as u64; // the round trip, in Rust
        let expected = (f as f64) as u64 as i64;
        for (tier, out) in call_everywhere(wat, "f", &[Val::I32(x as i32)]) {
            assert_eq!(out, Ok(vec![Val::I64(expected)]), "{tier}: {x}");
        }
    }
}

/// A vector load from a 0-page second memory, its result dropped, in a
/// function LLVM inlines into its caller: the trap names the callee in
/// every tier. (The fuzzer reported the caller once, from a stale compiler
/// plugin copied beside it; this keeps the case.)
#[test]
fn a_dropped_vector_load_out_of_bounds_names_its_function() {
    let wat = r#"(module
      (table 0 12 funcref)
      (memory 4 10)
      (memory 0 3)
      (export "5" (func 1))
      (func (;0;) (param i32) (result i32)
        table.size 0
        v128.load32x2_u 1
        drop
        i32.const 7)
      (func (;1;) (param i64 i32) (result i64)
        block
          i32.const 511
          call 0
          br 0
        end
        unreachable))"#;
    let want = "out of bounds memory access (in wasm function #0)".to_string();
    for (tier, out) in call_everywhere(wat, "5", &[Val::I64(1), Val::I32(2)]) {
        assert_eq!(out, Err(want.clone()), "{tier}");
    }
}
