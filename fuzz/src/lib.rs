//! Fuzzing wamr-rs: seeded, reproducible targets (see [`Target`]) that the
//! driver binary runs in child processes, the CI tests run over fixed
//! seeds, and `fuzz/libfuzzer` exposes to cargo-fuzz.
//!
//! A seed names a case for good: its bytes come from [`rng::Rng`], and
//! wasm-smith turns them into a module through `arbitrary::Unstructured`.

pub mod compare;
pub mod engines;
pub mod generate;
pub mod host;
pub mod mutate;
pub mod outcome;
pub mod plan;
pub mod rng;
pub mod shrink;
pub mod targets;
pub mod trace;

pub use outcome::Outcome;
pub use targets::Target;

/// Pseudo-random bytes wasm-smith gets per module.
pub const INPUT_LEN: usize = 16 << 10;

/// Stack of the thread that runs a case: wasm may use
/// [`engines::wamr::NATIVE_STACK`] of it, and the thread must have more.
const CASE_STACK: usize = 64 << 20;

/// Runs `f` on a thread with [`CASE_STACK`] of stack.
pub fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("fuzz-case".into())
            .stack_size(CASE_STACK)
            .spawn_scoped(s, f)
            .expect("spawn a case thread")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}
