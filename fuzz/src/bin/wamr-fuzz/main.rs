//! The fuzz driver: runs a target over seeds in child processes, so that a
//! crash (e.g. of LLVM) or a hang of the code under test is recorded
//! against its seed instead of ending the campaign.
//!
//! ```text
//! wamr-fuzz diff --seconds 600 --seeds 0.. --out fuzz/failures
//! wamr-fuzz diff --check fuzz/failures/diff-17.wasm --seed 17
//! ```

mod driver;
mod report;
mod worker;

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use wamr_fuzz::Target;

#[derive(Debug, Parser)]
#[command(
    name = "wamr-fuzz",
    about = "Fuzz wamr-rs: diff, malformed, aot, compile or wasi"
)]
pub struct Args {
    /// The target: diff, malformed, aot, compile or wasi.
    #[arg(value_parser = |s: &str| s.parse::<Target>())]
    target: Target,
    /// Seeds to run: `A..B`, or `A..` for as many as time allows.
    #[arg(long, default_value = "0..", value_parser = parse_seeds)]
    seeds: Range<u64>,
    /// Stop after this many seconds (default: when the seeds run out).
    #[arg(long)]
    seconds: Option<u64>,
    /// Where failing inputs (shrunk) and their descriptions are written.
    #[arg(long, default_value = "fuzz/failures")]
    out: PathBuf,
    /// A case running longer than this is a hang.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Time spent shrinking each failing input.
    #[arg(long, default_value_t = 60)]
    shrink_seconds: u64,
    /// Check one input file (as made from `--seed`) in this process and
    /// print its outcome: how failures are reproduced.
    #[arg(long)]
    check: Option<PathBuf>,
    /// The seed of `--check`'s input (arguments and WASI are drawn from it).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Internal: run the seeds in this process, reporting on stdout to the
    /// driver; each input is first written to this file.
    #[arg(long, hide = true)]
    worker: Option<PathBuf>,
}

fn parse_seeds(s: &str) -> Result<Range<u64>, String> {
    let (a, b) = s.split_once("..").ok_or("expected A..B or A..")?;
    let start = a.parse().map_err(|e| format!("{a}: {e}"))?;
    let end = if b.is_empty() {
        u64::MAX
    } else {
        b.parse().map_err(|e| format!("{b}: {e}"))?
    };
    Ok(start..end)
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.check {
        let input = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let outcome = args.target.check(&input, args.seed);
        println!("{}", worker::encode(&outcome));
        return Ok(());
    }
    if let Some(current) = &args.worker {
        return worker::run(args.target, args.seeds.clone(), current);
    }
    if args.seeds.end == u64::MAX && args.seconds.is_none() {
        bail!("give --seconds or a bounded --seeds A..B");
    }
    let summary = driver::run(&driver::Campaign {
        exe: std::env::current_exe().context("finding this program")?,
        target: args.target,
        seeds: args.seeds.clone(),
        time: args.seconds.map(Duration::from_secs),
        out: args.out.clone(),
        timeout: Duration::from_secs(args.timeout),
        shrink: Duration::from_secs(args.shrink_seconds),
    })?;
    println!("{summary}");
    if summary.failures() > 0 {
        std::process::exit(1);
    }
    Ok(())
}
