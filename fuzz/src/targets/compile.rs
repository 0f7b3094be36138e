//! The compiler alone: every valid generated module compiles ahead of
//! time or is refused with an error. A crash in LLVM ends the process;
//! the driver, which runs cases in a child, records it.

use wamr_rs::CompileOptions;

use crate::engines::wamr::{self, Variant};
use crate::outcome::Outcome;
use crate::targets::diff;

pub fn input(seed: u64) -> Result<Vec<u8>, String> {
    diff::input(seed)
}

pub fn check(wasm: &[u8], _seed: u64) -> Outcome {
    let runtime = wamr::runtime(Variant::Aot);
    match runtime.precompile(wasm, &CompileOptions::host(3), 1, None) {
        Ok(image) if image.starts_with(&wamr_rs::AOT_MAGIC) => Outcome::Pass,
        Ok(_) => Outcome::fail(
            "bad image",
            "precompile returned bytes without the .aot magic",
        ),
        // Refusing is allowed; counted apart so that it shows.
        Err(e) => Outcome::Skip(format!("refused: {e}")),
    }
}
