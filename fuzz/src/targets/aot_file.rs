//! The corrupted `.aot` target: a generated module compiled to an `.aot`
//! image, some bytes corrupted, then loaded. It must be refused (the
//! container is checksummed) or, if still valid, run as the interpreter
//! runs its wasm.

use std::io::Write;

use wamr_rs::{AotImage, CompileOptions};

use crate::compare::{CompareOptions, Verdict, compare};
use crate::engines::wamr::{self, Variant};
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::rng::Rng;
use crate::targets::diff;

pub fn input(seed: u64) -> Result<Vec<u8>, String> {
    let wasm = diff::input(seed)?;
    let image = wamr::runtime(Variant::Aot)
        .precompile(&wasm, &CompileOptions::host(3), 1, None)
        .map_err(|e| format!("cannot compile: {e}"))?;
    Ok(corrupt(&mut Rng::new(!seed), image))
}

/// Flips bits, overwrites a run of bytes or truncates.
fn corrupt(rng: &mut Rng, mut image: Vec<u8>) -> Vec<u8> {
    for _ in 0..=rng.below(3) {
        let at = rng.below(image.len() as u64) as usize;
        match rng.below(4) {
            0 => image.truncate(at),
            1 => {
                let end = (at + 1 + rng.below(16) as usize).min(image.len());
                image[at..end].fill(rng.next_u64() as u8);
            }
            _ => image[at] ^= 1 << rng.below(8),
        }
    }
    image
}

pub fn check(bytes: &[u8], seed: u64) -> Outcome {
    let file = tempfile::NamedTempFile::new().and_then(|mut f| {
        f.write_all(bytes)?;
        Ok(f)
    });
    let file = match file {
        Ok(f) => f,
        Err(e) => return Outcome::Skip(format!("temp file: {e}")),
    };
    let runtime = wamr::runtime(Variant::Aot);
    let Ok(module) = runtime.load_aot_file(file.path()) else {
        return Outcome::Pass;
    };
    // Loaded: the wasm inside must have passed its hash check.
    let wasm = match AotImage::from_bytes(bytes) {
        Ok(image) => image.wasm.to_vec(),
        Err(e) => {
            return Outcome::fail(
                "loaded an image the container refuses",
                format!("load_aot_file accepted it, AotImage::from_bytes says: {e}"),
            );
        }
    };
    let Some(plan) = Plan::new(&wasm, seed) else {
        return Outcome::fail("loaded invalid wasm", "the image's wasm does not validate");
    };
    let aot = wamr::run_module(&runtime, &module, &plan, seed);
    let interp = wamr::run(Variant::Interp, &wasm, &plan, seed);
    match compare(
        &[("interp", &interp), ("corrupt .aot", &aot)],
        None,
        CompareOptions::default(),
    ) {
        Verdict::Same => Outcome::Pass,
        Verdict::Skip(why) => Outcome::Skip(why),
        Verdict::Diverge { signature, detail } => Outcome::fail(signature, detail),
    }
}
