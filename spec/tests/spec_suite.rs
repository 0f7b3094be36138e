//! Runs the whole spec testsuite under every tier and checks the runner's
//! closing line: no failure and nothing skipped.

use std::process::Command;

/// Runs `wamr-spec` with `args`; checks the closing line and returns the
/// counts (passed, failed, skipped).
fn run_spec(args: &[&str]) -> (usize, usize, usize) {
    let out = Command::new(env!("CARGO_BIN_EXE_wamr-spec"))
        .args(args)
        .output()
        .expect("run wamr-spec");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_string();
    let counts: Vec<usize> = last
        .split(", ")
        .map(|part| {
            part.split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected closing line: {last}"))
        })
        .collect();
    let [passed, failed, skipped] = counts[..] else {
        panic!("closing line is not `N passed, M failed, K skipped`: {last}");
    };
    assert!(
        last.ends_with(" skipped") && last.contains(" passed, ") && last.contains(" failed, "),
        "{last}"
    );
    assert_eq!(failed, 0, "spec failures under {args:?}:\n{stdout}");
    assert!(passed > 5000, "too few directives ran: {last}");
    assert!(out.status.success());
    (passed, failed, skipped)
}

#[test]
fn spec_suite_passes_in_every_tier_alike() {
    let interp = run_spec(&["--tier", "interp"]);
    // Compiled by LLVM for the host CPU.
    let aot = run_spec(&["--tier", "aot"]);
    // The SSE2 baseline: float rounding is built inline, not called.
    let baseline = if cfg!(target_arch = "x86_64") {
        run_spec(&["--tier", "aot", "--cpu", "x86-64"])
    } else {
        interp
    };
    // Tier-up forced on each module's first call, synchronously.
    let auto = run_spec(&["--tier", "auto"]);
    // Tier-up in the background: modules switch tiers while they run.
    let background = run_spec(&["--tier", "auto", "--background", "--tier-up-threshold", "1"]);
    // Every function with loops compiled once, as the code on-stack
    // replacement enters, which its native entry forwards to.
    let osr = run_spec(&["--tier", "auto", "--osr-everywhere"]);
    assert_eq!(interp, aot);
    assert_eq!(interp, baseline);
    assert_eq!(interp, auto);
    assert_eq!(interp, background);
    assert_eq!(interp, osr);
    assert_eq!(interp.2, 0, "directives skipped: {interp:?}");
}
