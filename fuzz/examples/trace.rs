//! Prints the module of a differential seed and what every engine did with
//! it: `cargo run --release -p wamr-fuzz --example trace -- SEED`.

use wamr_fuzz::engines::{wamr, wasmi};
use wamr_fuzz::plan::Plan;
use wamr_fuzz::targets::diff;

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let wasm = diff::input(seed).expect("a module");
    println!("{}", wamr_fuzz::shrink::to_wat(&wasm).unwrap_or_default());
    let plan = Plan::new(&wasm, seed).expect("valid");
    println!("{plan:#?}");
    wamr_fuzz::on_big_stack(|| {
        for v in wamr::Variant::ALL {
            println!("{}: {:?}", v.name(), wamr::run(v, &wasm, &plan, seed));
        }
        println!("wasmi: {:?}", wasmi::run(&wasm, &plan, seed, None));
    });
}
