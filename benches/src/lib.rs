//! Shared helpers for the criterion benchmarks in `benches/benches/`: where
//! the bench programs are, and small wasm kernels of our own.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use wamr_rs::{FuncType, Instance, Linker, Runtime, Store, Val, ValType};

/// `shared/bench/` beside the project root.
pub fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench")
}

pub fn read_bench(rel: &str) -> Vec<u8> {
    let path = bench_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Milliseconds since the first call: the `env.clock_ms` CoreMark imports.
pub fn clock_ms() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as i64
}

/// Recursive Fibonacci, exported as `fib: (i32) -> i64`.
pub const FIB_WAT: &str = r#"(module
  (func $fib (export "fib") (param $n i32) (result i64)
    (if (result i64) (i32.lt_u (local.get $n) (i32.const 2))
      (then (i64.extend_i32_u (local.get $n)))
      (else (i64.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2))))))))"#;

/// A tight memory loop: `run: (i32 rounds) -> i32` fills 64 KiB with a
/// pattern and sums it back, `rounds` times.
pub const MEMORY_LOOP_WAT: &str = r#"(module
  (memory 1)
  (func (export "run") (param $rounds i32) (result i32) (local $i i32) (local $sum i32)
    (block $done (loop $round
      (br_if $done (i32.eqz (local.get $rounds)))
      (local.set $i (i32.const 0))
      (loop $fill
        (i32.store (local.get $i) (i32.xor (local.get $i) (local.get $rounds)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $fill (i32.lt_u (local.get $i) (i32.const 65536))))
      (local.set $i (i32.const 0))
      (loop $sum
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $sum (i32.lt_u (local.get $i) (i32.const 65536))))
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br $round)))
    (local.get $sum)))"#;

/// Instantiates `wasm` in wamr-rs's interpreter, providing `env.clock_ms`.
pub fn wamr_instance(wasm: &[u8]) -> (Store, Instance) {
    wamr_instance_in(wamr_rs::Tier::Interp, wasm)
}

/// Instantiates `wasm` in wamr-rs's `tier`, providing `env.clock_ms`.
pub fn wamr_instance_in(tier: wamr_rs::Tier, wasm: &[u8]) -> (Store, Instance) {
    let runtime = Runtime::new().with_tier(tier).expect("tier available");
    let module = runtime.load(wasm).expect("valid module");
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    linker.func(
        &mut store,
        "env",
        "clock_ms",
        FuncType::new([], [ValType::I64]),
        |_, _, results| {
            results[0] = Val::I64(clock_ms());
            Ok(())
        },
    );
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    (store, instance)
}
