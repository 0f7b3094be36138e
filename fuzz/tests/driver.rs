//! The driver survives a crash and a hang of the code under test, records
//! each against its seed, and carries on with the next seed.

use std::process::Command;

fn campaign(env: (&str, &str), extra: &[&str]) -> (String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wamr-fuzz"))
        .args(["diff", "--seeds", "0..5", "--shrink-seconds", "2", "--out"])
        .arg(out.path())
        .args(extra)
        .env(env.0, env.1)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "failures make the exit status 1"
    );
    (String::from_utf8(output.stdout).unwrap(), out)
}

#[test]
fn a_crash_is_recorded_and_the_campaign_goes_on() {
    let (stdout, out) = campaign(("WAMR_FUZZ_ABORT_AT", "2"), &[]);
    assert!(
        stdout.contains("diff: 5 cases, 0 divergences, 1 crashes, 0 hangs"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(out.path().join("diff-2.txt")).unwrap();
    assert!(report.contains("killed by signal 6"), "{report}");
    assert!(out.path().join("diff-2.wasm").exists());
}

#[test]
fn a_hang_is_recorded_and_the_campaign_goes_on() {
    let (stdout, out) = campaign(("WAMR_FUZZ_HANG_AT", "1"), &["--timeout", "2"]);
    assert!(
        stdout.contains("diff: 5 cases, 0 divergences, 0 crashes, 1 hangs"),
        "{stdout}"
    );
    assert!(out.path().join("diff-1.txt").exists());
}
