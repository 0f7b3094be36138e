//! The child side: runs seeds in order and reports each on stdout, one
//! line per event, flushed, so the driver knows which seed was running if
//! the process dies.

use std::io::Write;
use std::ops::Range;
use std::path::Path;

use anyhow::Result;
use wamr_fuzz::{Outcome, Target};

pub fn run(target: Target, seeds: Range<u64>, current: &Path) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for seed in seeds {
        let outcome = match target.input(seed) {
            Ok(input) => {
                // Kept for the driver, should this case crash or hang.
                std::fs::write(current, &input)?;
                writeln!(out, "begin {seed}")?;
                out.flush()?;
                test_hooks(seed);
                target.check(&input, seed)
            }
            Err(why) => {
                writeln!(out, "begin {seed}")?;
                Outcome::Skip(why)
            }
        };
        writeln!(out, "end {seed} {}", encode(&outcome))?;
        out.flush()?;
    }
    Ok(())
}

/// One line: `pass`, `skip REASON` or `fail SIGNATURE\tDETAIL` (newlines
/// escaped).
pub fn encode(outcome: &Outcome) -> String {
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\t', " ")
    };
    match outcome {
        Outcome::Pass => "pass".into(),
        Outcome::Skip(why) => format!("skip {}", esc(why)),
        Outcome::Fail { signature, detail } => format!("fail {}\t{}", esc(signature), esc(detail)),
    }
}

pub fn decode(line: &str) -> Option<Outcome> {
    let unesc = |s: &str| s.replace("\\n", "\n").replace("\\\\", "\\");
    if line == "pass" {
        return Some(Outcome::Pass);
    }
    if let Some(why) = line.strip_prefix("skip ") {
        return Some(Outcome::Skip(unesc(why)));
    }
    let (signature, detail) = line.strip_prefix("fail ")?.split_once('\t')?;
    Some(Outcome::fail(unesc(signature), unesc(detail)))
}

/// For the driver's own tests: crash or hang at a chosen seed.
fn test_hooks(seed: u64) {
    let at = |var: &str| std::env::var(var).is_ok_and(|v| v == seed.to_string());
    if at("WAMR_FUZZ_ABORT_AT") {
        std::process::abort();
    }
    if at("WAMR_FUZZ_HANG_AT") {
        loop {
            std::thread::park();
        }
    }
}
