//! The malformed, corrupt .aot, compiler-alone and WASI targets over fixed
//! seeds: no failure, and enough cases that really ran.

mod support;

use std::time::Duration;

use wamr_fuzz::Target;

#[test]
fn malformed_modules_are_refused_or_run() {
    let (cases, _) = support::run_seeds(Target::Malformed, 0..300, Duration::from_secs(25));
    assert!(cases >= 100, "{cases}");
}

#[test]
fn corrupt_aot_files_are_refused_or_run() {
    let (cases, skipped) = support::run_seeds(Target::Aot, 0..120, Duration::from_secs(25));
    assert!(
        cases >= 30 && skipped * 2 < cases,
        "{cases} cases, {skipped} skipped"
    );
}

#[test]
fn every_module_compiles_or_is_refused() {
    let (cases, skipped) = support::run_seeds(Target::Compile, 0..150, Duration::from_secs(20));
    assert!(
        cases >= 50 && skipped * 2 < cases,
        "{cases} cases, {skipped} skipped"
    );
}

#[test]
fn wasi_calls_give_errnos_and_stay_in_the_sandbox() {
    let (cases, skipped) = support::run_seeds(Target::Wasi, 0..100, Duration::from_secs(25));
    assert!(
        cases >= 30 && skipped == 0,
        "{cases} cases, {skipped} skipped"
    );
}
