//! Chooses the interpreter's dispatch: handlers that tail-call the next
//! handler (each instruction gets its own indirect jump, which predicts far
//! better than one shared `match`) where the optimiser turns those calls
//! into jumps, i.e. optimised builds on x86_64 and aarch64; elsewhere (debug
//! builds) handlers return to a loop, so the native stack never grows.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wamr_tail_dispatch)");
    println!("cargo:rerun-if-env-changed=WAMR_LOOP_DISPATCH");
    let opt = std::env::var("OPT_LEVEL").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let optimised = matches!(opt.as_str(), "2" | "3");
    let forced_loop = std::env::var_os("WAMR_LOOP_DISPATCH").is_some();
    if optimised && matches!(arch.as_str(), "x86_64" | "aarch64") && !forced_loop {
        println!("cargo:rustc-cfg=wamr_tail_dispatch");
    }
}
