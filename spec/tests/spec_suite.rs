//! Runs the whole spec testsuite under every tier this build provides and
//! checks the runner's closing line.

use std::process::Command;

#[test]
fn spec_suite_passes_under_interp() {
    let out = Command::new(env!("CARGO_BIN_EXE_wamr-spec"))
        .args(["--tier", "interp"])
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
    let [passed, failed, _skipped] = counts[..] else {
        panic!("closing line is not `N passed, M failed, K skipped`: {last}");
    };
    assert!(
        last.ends_with(" skipped") && last.contains(" passed, ") && last.contains(" failed, "),
        "{last}"
    );
    assert_eq!(failed, 0, "spec failures:\n{stdout}");
    assert!(passed > 5000, "too few directives ran: {last}");
    assert!(out.status.success());
}
