//! The differential target: a generated module in every wamr-rs tier and
//! in wasmi, every export called, everything observable compared.

use crate::compare::{CompareOptions, Verdict, compare};
use crate::engines::wamr::{self, Variant};
use crate::engines::wasmi;
use crate::outcome::Outcome;
use crate::plan::Plan;
use crate::trace::Trace;
use crate::{INPUT_LEN, generate};

pub fn input(seed: u64) -> Result<Vec<u8>, String> {
    generate::module(seed, INPUT_LEN).map_err(|e| format!("wasm-smith: {e}"))
}

pub fn check(wasm: &[u8], seed: u64, opts: CompareOptions) -> Outcome {
    let Some(plan) = Plan::new(wasm, seed) else {
        return Outcome::Skip("not valid wasm".into());
    };
    let traces: Vec<(Variant, Trace)> = Variant::ALL
        .iter()
        .map(|&v| (v, wamr::run(v, wasm, &plan, seed)))
        .collect();
    let Some(reference) = wasmi::run_unless_panic(wasm, &plan, seed, None) else {
        return Outcome::Skip("the reference engine panicked".into());
    };
    check_traces(&traces, &reference, opts)
}

/// The verdict on traces already taken (tests feed it a wrong reference
/// to show that it can fail).
pub fn check_traces(
    traces: &[(Variant, Trace)],
    reference: &Trace,
    opts: CompareOptions,
) -> Outcome {
    let named: Vec<(&str, &Trace)> = traces.iter().map(|(v, t)| (v.name(), t)).collect();
    match compare(&named, Some(("wasmi", reference)), opts) {
        Verdict::Same => Outcome::Pass,
        Verdict::Skip(why) => Outcome::Skip(why),
        Verdict::Diverge { signature, detail } => Outcome::fail(signature, detail),
    }
}
