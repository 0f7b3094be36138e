//! Runs a target over a seed range for the CI tests.

use std::time::{Duration, Instant};

use wamr_fuzz::{Outcome, Target};

/// Runs `target` over `seeds` in this process (CI has no crash to survive
/// on a green run) and asserts that nothing failed; stops early, passing,
/// if `budget` runs out. Returns (cases, skipped).
pub fn run_seeds(target: Target, seeds: std::ops::Range<u64>, budget: Duration) -> (u64, u64) {
    let start = Instant::now();
    let (mut cases, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for seed in seeds {
        if start.elapsed() > budget {
            break;
        }
        cases += 1;
        match target.run(seed) {
            Outcome::Pass => {}
            Outcome::Skip(_) => skipped += 1,
            Outcome::Fail { signature, detail } => {
                failures.push(format!("seed {seed}: {signature}\n{detail}"))
            }
        }
    }
    eprintln!(
        "{}: {cases} cases, {} failures, {skipped} skipped in {:?}",
        target.name(),
        failures.len(),
        start.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    (cases, skipped)
}
