//! Interpreter benchmarks, with wasmi 2.0 run side by side in the same
//! process so each ratio comes from one machine and one run.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wamr_benches::{FIB_WAT, MEMORY_LOOP_WAT, clock_ms, read_bench, wamr_instance};
use wamr_rs::Val;

fn coremark(c: &mut Criterion) {
    let wasm = read_bench("coremark/coremark-minimal.wasm");
    let mut group = c.benchmark_group("coremark");
    group.sample_size(10);
    group.bench_function("wamr-interp", |b| {
        b.iter(|| {
            let (mut store, inst) = wamr_instance(&wasm);
            inst.call(&mut store, "run", &[]).expect("run")
        })
    });
    group.bench_function("wasmi", |b| {
        b.iter(|| {
            let (mut store, inst) = wasmi_instance(&wasm);
            let run = inst.get_typed_func::<(), f32>(&store, "run").expect("run");
            run.call(&mut store, ()).expect("run")
        })
    });
    group.finish();
}

fn fib(c: &mut Criterion) {
    let wasm = wat::parse_str(FIB_WAT).unwrap();
    let n = 25;
    let mut group = c.benchmark_group("fib");
    let (mut store, inst) = wamr_instance(&wasm);
    group.bench_with_input(BenchmarkId::new("wamr-interp", n), &n, |b, &n| {
        b.iter(|| inst.call(&mut store, "fib", &[Val::I32(n)]).unwrap())
    });
    let (mut wstore, winst) = wasmi_instance(&wasm);
    let wfib = winst.get_typed_func::<i32, i64>(&wstore, "fib").unwrap();
    group.bench_with_input(BenchmarkId::new("wasmi", n), &n, |b, &n| {
        b.iter(|| wfib.call(&mut wstore, n).unwrap())
    });
    group.finish();
}

fn memory_loop(c: &mut Criterion) {
    let wasm = wat::parse_str(MEMORY_LOOP_WAT).unwrap();
    let rounds = 20;
    let mut group = c.benchmark_group("memory-loop");
    group.throughput(Throughput::Bytes(rounds as u64 * 2 * 65536));
    let (mut store, inst) = wamr_instance(&wasm);
    group.bench_function("wamr-interp", |b| {
        b.iter(|| inst.call(&mut store, "run", &[Val::I32(rounds)]).unwrap())
    });
    let (mut wstore, winst) = wasmi_instance(&wasm);
    let wrun = winst.get_typed_func::<i32, i32>(&wstore, "run").unwrap();
    group.bench_function("wasmi", |b| {
        b.iter(|| wrun.call(&mut wstore, rounds).unwrap())
    });
    group.finish();
}

/// The hand-written SIMD kernels of `benches/kernels/simd.c`, one group
/// each; `benches/simd.py` prints the ratios.
fn simd_kernels(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/simd.wasm");
    let wasm = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Rounds per call: tens of milliseconds each in the interpreter.
    let kernels = [
        ("count_byte", 40),
        ("dot_i16", 400),
        ("matmul_f32", 20),
        ("hex_encode", 20),
        ("brighten", 20),
    ];
    for (name, rounds) in kernels {
        let mut group = c.benchmark_group(format!("simd-{name}"));
        group.sample_size(10);
        let (mut store, inst) = wamr_instance(&wasm);
        group.bench_function("wamr-interp", |b| {
            b.iter(|| inst.call(&mut store, name, &[Val::I32(rounds)]).unwrap())
        });
        let (mut wstore, winst) = wasmi_instance(&wasm);
        let wrun = winst.get_typed_func::<i32, i64>(&wstore, name).unwrap();
        group.bench_function("wasmi", |b| {
            b.iter(|| wrun.call(&mut wstore, rounds).unwrap())
        });
        group.finish();
    }
}

/// Instantiates `wasm` in wasmi, providing `env.clock_ms`.
pub fn wasmi_instance(wasm: &[u8]) -> (wasmi::Store<()>, wasmi::Instance) {
    let mut config = wasmi::Config::default();
    config.wasm_simd(true);
    let engine = wasmi::Engine::new(&config);
    let module = wasmi::Module::new(&engine, wasm).expect("valid module");
    let mut store = wasmi::Store::new(&engine, ());
    let mut linker = wasmi::Linker::<()>::new(&engine);
    linker
        .func_wrap("env", "clock_ms", clock_ms)
        .expect("define clock_ms");
    let instance = linker
        .instantiate_and_start(&mut store, &module)
        .expect("instantiate");
    (store, instance)
}

/// Translation throughput on the largest bench module, in MB of code bodies.
fn translation(c: &mut Criterion) {
    let wasm = read_bench("sightglass/regex/benchmark.wasm");
    let module = wamr_rs::Runtime::new().load(&wasm).unwrap();
    let code_bytes: usize = module.bodies().iter().map(|b| b.range.len()).sum();
    let mut group = c.benchmark_group("translate");
    group.throughput(Throughput::Bytes(code_bytes as u64));
    group.sample_size(20);
    group.bench_function("regex.wasm", |b| {
        b.iter(|| wamr_interp::translate_all(&module).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    coremark,
    fib,
    memory_loop,
    simd_kernels,
    translation
);
criterion_main!(benches);
