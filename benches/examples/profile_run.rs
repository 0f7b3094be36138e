//! Runs one benchmark kernel in the interpreter for profiling:
//! `cargo run --release -p wamr-benches --example profile_run -- fib|memory|coremark`.

use wamr_benches::{FIB_WAT, MEMORY_LOOP_WAT, read_bench, wamr_instance};
use wamr_rs::Val;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "fib".into());
    let started = std::time::Instant::now();
    let result = match which.as_str() {
        "fib" => {
            let (mut s, i) = wamr_instance(&wat::parse_str(FIB_WAT).unwrap());
            i.call(&mut s, "fib", &[Val::I32(32)])
        }
        "memory" => {
            let (mut s, i) = wamr_instance(&wat::parse_str(MEMORY_LOOP_WAT).unwrap());
            i.call(&mut s, "run", &[Val::I32(2000)])
        }
        "coremark" => {
            let (mut s, i) = wamr_instance(&read_bench("coremark/coremark-minimal.wasm"));
            i.call(&mut s, "run", &[])
        }
        other => panic!("unknown kernel {other}"),
    };
    eprintln!("{which}: {result:?} in {:?}", started.elapsed());
}
