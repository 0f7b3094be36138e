//! Runs one benchmark kernel once, for profiling and quick comparisons:
//! `cargo run --release -p wamr-benches --example profile_run -- fib|memory|coremark [wamr|aot|wasmi]`.

use wamr_benches::{FIB_WAT, MEMORY_LOOP_WAT, clock_ms, read_bench, wamr_instance_in};
use wamr_rs::Val;

fn wasmi_call(wasm: &[u8], name: &str, arg: Option<i32>) -> String {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, wasm).expect("valid module");
    let mut store = wasmi::Store::new(&engine, ());
    let mut linker = wasmi::Linker::<()>::new(&engine);
    linker.func_wrap("env", "clock_ms", clock_ms).unwrap();
    let inst = linker.instantiate_and_start(&mut store, &module).unwrap();
    let f = inst.get_func(&store, name).unwrap();
    let params: Vec<wasmi::Val> = arg.into_iter().map(wasmi::Val::I32).collect();
    let mut results = vec![wasmi::Val::I32(0); f.ty(&store).results().len()];
    f.call(&mut store, &params, &mut results).unwrap();
    format!("{results:?}")
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "fib".into());
    let engine = std::env::args().nth(2).unwrap_or_else(|| "wamr".into());
    let (wasm, name, arg) = match which.as_str() {
        "fib" => (wat::parse_str(FIB_WAT).unwrap(), "fib", Some(32)),
        "memory" => (wat::parse_str(MEMORY_LOOP_WAT).unwrap(), "run", Some(2000)),
        "coremark" => (read_bench("coremark/coremark-minimal.wasm"), "run", None),
        other => panic!("unknown kernel {other}"),
    };
    let started = std::time::Instant::now();
    let result = match engine.as_str() {
        "wamr" | "aot" => {
            let tier = if engine == "aot" {
                wamr_rs::Tier::Aot
            } else {
                wamr_rs::Tier::Interp
            };
            let (mut s, i) = wamr_instance_in(tier, &wasm);
            let args: Vec<Val> = arg.into_iter().map(Val::I32).collect();
            format!("{:?}", i.call(&mut s, name, &args))
        }
        "wasmi" => wasmi_call(&wasm, name, arg),
        other => panic!("unknown engine {other}"),
    };
    eprintln!("{which} on {engine}: {result} in {:?}", started.elapsed());
}
