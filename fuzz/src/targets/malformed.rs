//! The malformed-module target: valid modules, mutated byte-wise, must be
//! refused with an error or run like any other module: never a panic, a
//! crash or a hang.

use crate::engines::wamr::{self, Variant};
use crate::engines::wasmi::{self, OUT_OF_FUEL};
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::rng::Rng;
use crate::trace::{Failure, Trace};
use crate::{INPUT_LEN, generate, mutate};

/// wasmi fuel per call: a mutated module may loop forever (its fuel
/// checks may be what was mutated), so only those wasmi finishes within
/// this are run in wamr-rs, whose execution cannot be interrupted.
const REFERENCE_FUEL: u64 = 2_000_000;

pub fn input(seed: u64) -> Result<Vec<u8>, String> {
    let wasm = generate::module(seed, INPUT_LEN).map_err(|e| format!("wasm-smith: {e}"))?;
    Ok(mutate::mutate(&mut Rng::new(!seed), wasm))
}

pub fn check(bytes: &[u8], seed: u64) -> Outcome {
    let runtime = wamr::runtime(Variant::Interp);
    let module = match runtime.load(bytes) {
        Ok(m) => m,
        Err(_) => return Outcome::Pass,
    };
    let Some(plan) = Plan::new(bytes, seed) else {
        return Outcome::fail(
            "accepted by wamr-rs, refused by wasmparser",
            "wamr-rs loaded a module that wasmparser with every feature refuses",
        );
    };
    match wasmi::run_unless_panic(bytes, &plan, seed, Some(REFERENCE_FUEL)) {
        None => return Outcome::Skip("the reference engine panicked".into()),
        Some(trace) if runs_out_of_fuel(&trace) => {
            return Outcome::Skip("may not terminate".into());
        }
        Some(_) => {}
    }
    match wamr::run_module(&runtime, &module, &plan, seed) {
        Trace::Ran { .. } | Trace::NotInstantiated(_) | Trace::Rejected(_) => Outcome::Pass,
    }
}

fn runs_out_of_fuel(trace: &Trace) -> bool {
    let out = |f: &Failure| *f == Failure::Error(OUT_OF_FUEL.into());
    match trace {
        Trace::Ran { calls, .. } => calls.iter().any(|c| c.result.as_ref().is_err_and(out)),
        Trace::NotInstantiated(f) => out(f),
        Trace::Rejected(_) => false,
    }
}
