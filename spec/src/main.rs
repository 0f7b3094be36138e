//! `wamr-spec`: runs the official spec testsuite against a wamr-rs tier.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use wamr_rs::{Tier, TierUpPolicy};
use wamr_spec::{SUITE_NAMES, Summary, default_shared_dir, load_suite, run_suite};

#[derive(Parser)]
#[command(about = "Run the WebAssembly spec testsuite against a wamr-rs tier")]
struct Args {
    /// Tier to run: interp, aot or auto.
    #[arg(long, default_value = "interp")]
    tier: Tier,
    /// Run only this suite (repeatable); default: all.
    #[arg(long = "suite", value_parser = clap::builder::PossibleValuesParser::new(SUITE_NAMES))]
    suites: Vec<String>,
    /// Run only files whose `suite/file.wast` label contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// `--tier auto`: compile in the background instead of forcing tier-up
    /// synchronously on a module's first call.
    #[arg(long)]
    background: bool,
    /// `--tier auto`: calls plus back-edges before a module is compiled.
    #[arg(long, default_value_t = 0)]
    tier_up_threshold: u64,
    /// `--tier auto`: compile every function with loops with an
    /// on-stack-replacement entry, and as that entry's code only (its
    /// native entry forwards to it).
    #[arg(long)]
    osr_everywhere: bool,
    /// `--tier aot|auto`: compile for this CPU level (x86-64, x86-64-v2,
    /// ...) instead of the host's best; the code must run here.
    #[arg(long)]
    cpu: Option<String>,
    /// The shared/ folder (holds spec/memory64).
    #[arg(long)]
    shared: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.osr_everywhere {
        // Every function's body is then compiled once, as the code OSR
        // enters, even the small ones (see `wamr_llvm_aot`'s
        // `shared_osr_body_min`).
        // SAFETY: set before any other thread starts.
        unsafe { std::env::set_var("WAMR_OSR_SHARED_BODY_MIN", "0") };
    }
    let shared = args.shared.unwrap_or_else(default_shared_dir);
    let names: Vec<&str> = if args.suites.is_empty() {
        SUITE_NAMES.to_vec()
    } else {
        args.suites.iter().map(String::as_str).collect()
    };
    let tier_up = TierUpPolicy {
        threshold: args.tier_up_threshold,
        synchronous: !args.background,
        // Modules switch tiers as soon as they cross the threshold.
        hot_for: std::time::Duration::ZERO,
        osr_everywhere: args.osr_everywhere,
        ..TierUpPolicy::default()
    };
    let cpu = match args.cpu.as_deref().map(|cpu| {
        let host = wamr_rs::HostTarget::detect();
        wamr_rs::target::compile_options(&host.triple, Some(cpu), None, None, 3)
    }) {
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        other => other.map(Result::unwrap),
    };
    let mut total = Summary::default();
    for name in names {
        let suite = match load_suite(name, &shared) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        match run_suite(
            &suite,
            args.tier,
            tier_up,
            cpu.as_ref(),
            args.filter.as_deref(),
        ) {
            Ok(summary) => {
                for line in &summary.failures {
                    println!("{line}");
                }
                eprintln!("{name}: {summary}");
                for (why, n) in &summary.skip_reasons {
                    eprintln!("  skipped {n}: {why}");
                }
                total.add(summary);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    println!("{total}");
    if total.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
