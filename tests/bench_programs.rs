//! End to end: the real programs in `../shared/bench` run to completion
//! under the interpreter through the embedding API, and print exactly what
//! they should; then, differentially, under the AOT tier and under `auto`
//! with tier-up thresholds 0 (synchronous), 1, 100 and the default, each
//! must print the same, exit the same and leave the same linear memory
//! (compared by hash) as the interpreter.
//!
//! Each Sightglass program runs as Sightglass runs it: from its own folder,
//! preopened as `.` (here a copy of it, so nothing can write into the shared
//! folder), with `bench.start` and `bench.end` as host functions, and its
//! stdout and stderr compared with the `.stdout.expected` and
//! `.stderr.expected` files.
//!
//! Release-build times on the 2-core reference machine are given per
//! program; all of them together take about two minutes of CPU and one
//! minute of wall time on two test threads (shootout-ed25519, 40 s, and
//! shootout-seqhash, 35 s, dominate), so every one runs by default.
//! In a debug build the interpreter is many times slower, so the programs
//! over one second are ignored there (`cargo test --release` runs them).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use wamr_rs::{Compiler, Config, Linker, OutputPipe, Runtime, Tier, TierUpPolicy, WasiCtxBuilder};

fn bench_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench")
}

/// Copies the files of `from` (not its subfolders: there are none) into `to`.
fn copy_files(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// What a WASI command printed, and how it ended.
#[derive(Debug, PartialEq, Eq)]
struct Output {
    exit_code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// How often `bench.start` and `bench.end` were called.
    markers: [u32; 2],
    /// A hash of the exported linear memory at the end.
    memory_hash: u64,
}

/// How a program is run: a tier, and for `auto` its tier-up policy.
#[derive(Debug, Clone, Copy)]
struct Mode {
    tier: Tier,
    tier_up: TierUpPolicy,
}

const INTERP: Mode = Mode {
    tier: Tier::Interp,
    tier_up: TierUpPolicy {
        threshold: 100_000,
        compiler_threads: 0,
        synchronous: false,
        hot_for: std::time::Duration::ZERO,
        osr_everywhere: false,
    },
};

fn auto(threshold: u64, synchronous: bool) -> Mode {
    let default = TierUpPolicy::default();
    Mode {
        tier: Tier::Auto,
        tier_up: TierUpPolicy {
            threshold,
            synchronous,
            // Explicit thresholds compile as soon as they are crossed; the
            // default policy runs as it ships.
            hot_for: if threshold == default.threshold {
                default.hot_for
            } else {
                std::time::Duration::ZERO
            },
            ..default
        },
    }
}

/// Every mode compared with the interpreter.
fn other_modes() -> Vec<Mode> {
    vec![
        Mode {
            tier: Tier::Aot,
            ..INTERP
        },
        auto(0, true),
        auto(1, false),
        auto(100, false),
        auto(TierUpPolicy::default().threshold, false),
    ]
}

/// One compiler for the whole test process that compiles each module once:
/// the modes differ in when code arrives, not in what is compiled.
fn compiler() -> Arc<dyn Compiler> {
    static COMPILER: OnceLock<Arc<dyn Compiler>> = OnceLock::new();
    COMPILER
        .get_or_init(|| Arc::new(wamr_rs::CachingCompiler::new(wamr_rs::plugin_compiler())))
        .clone()
}

/// Runs the WASI command `wasm` under `tier`, with `preopen` (if any) as `.`.
fn run_command(tier: Tier, wasm: &Path, preopen: Option<&Path>) -> Output {
    run_command_in(Mode { tier, ..INTERP }, wasm, preopen)
}

/// Runs the WASI command `wasm` in `mode`, with `preopen` (if any) as `.`.
fn run_command_in(mode: Mode, wasm: &Path, preopen: Option<&Path>) -> Output {
    run_command_with_args(mode, wasm, preopen, &[])
}

/// A runtime for `mode`, with the shared compiler.
fn runtime_in(mode: Mode) -> Runtime {
    let config = Config {
        tier_up: mode.tier_up,
        ..Config::default()
    };
    Runtime::with_config(config)
        .with_compiler(compiler())
        .with_tier(mode.tier)
        .expect("tier available")
}

/// A hash of `instance`'s exported memory (named `memory`).
fn memory_hash(store: &wamr_rs::Store, instance: &wamr_rs::Instance) -> u64 {
    let memory = instance.memory(store, "memory").expect("exported memory");
    let mut hasher = std::hash::DefaultHasher::new();
    store.memory(memory).data().hash(&mut hasher);
    hasher.finish()
}

/// [`run_command_in`] with command-line arguments after the program name.
fn run_command_with_args(mode: Mode, wasm: &Path, preopen: Option<&Path>, args: &[&str]) -> Output {
    let runtime = runtime_in(mode);
    let module = runtime
        .load_file(wasm)
        .unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let (stdout, stderr) = (OutputPipe::new(), OutputPipe::new());
    let mut builder = WasiCtxBuilder::new();
    builder
        .arg(wasm.file_name().unwrap().to_string_lossy())
        .args(args.iter().copied())
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        // Random bytes and clocks land in memory: the same every run.
        .deterministic(42);
    if let Some(dir) = preopen {
        builder.preopened_dir(dir, ".");
    }
    let ctx = builder.build().unwrap();
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    linker.define_wasi(ctx);
    let counts = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
    for (i, name) in ["start", "end"].into_iter().enumerate() {
        let counts = counts.clone();
        linker.func_wrap(&mut store, "bench", name, move || {
            counts[i].fetch_add(1, Ordering::Relaxed);
        });
    }
    let instance = linker
        .instantiate(&mut store, &module)
        .unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let exit_code = match instance.call(&mut store, "_start", &[]) {
        Ok(_) => 0,
        Err(e) => e
            .as_trap()
            .and_then(|t| t.exit_code())
            .unwrap_or_else(|| panic!("{} failed: {e}", wasm.display())),
    };
    let memory_hash = memory_hash(&store, &instance);
    Output {
        exit_code,
        stdout: stdout.take(),
        stderr: stderr.take(),
        markers: counts.each_ref().map(|c| c.load(Ordering::Relaxed)),
        memory_hash,
    }
}

/// Runs Sightglass program `folder/stem.wasm` in the interpreter and checks
/// its output; then in every other mode, which must behave identically.
fn sightglass(folder: &str, stem: &str) {
    sightglass_from(&bench_root().join("sightglass").join(folder), stem);
}

/// [`sightglass`] for the program `stem.wasm` in folder `source`.
fn sightglass_from(source: &Path, stem: &str) {
    let folder = source.file_name().unwrap().to_string_lossy();
    let reference = sightglass_in(INTERP, source, stem);
    for mode in other_modes() {
        let out = sightglass_in(mode, source, stem);
        assert!(
            out == reference,
            "{folder}/{stem}: {mode:?} differs from the interpreter \
             (exit {} vs {}, memory hash {:#x} vs {:#x}, markers {:?} vs {:?})",
            out.exit_code,
            reference.exit_code,
            out.memory_hash,
            reference.memory_hash,
            out.markers,
            reference.markers
        );
    }
}

/// Runs Sightglass program `stem.wasm` of folder `source` in `mode` and
/// checks its output.
fn sightglass_in(mode: Mode, source: &Path, stem: &str) -> Output {
    let folder = source.file_name().unwrap().to_string_lossy();
    let scratch = tempfile::tempdir().unwrap();
    copy_files(source, scratch.path());
    let wasm = scratch.path().join(format!("{stem}.wasm"));
    let out = run_command_in(mode, &wasm, Some(scratch.path()));
    assert_eq!(out.exit_code, 0, "{stem}: exit code");
    for (stream, actual) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let expected = fs::read(source.join(format!("{stem}.{stream}.expected"))).unwrap();
        assert!(
            *actual == expected,
            "{folder}/{stem}: {stream} differs\n--- expected\n{}\n--- actual\n{}",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        );
    }
    let [starts, ends] = out.markers;
    assert!(
        starts >= 1 && starts == ends,
        "{stem}: bench.start called {starts} times, bench.end {ends} times"
    );
    out
}

macro_rules! sightglass_tests {
    ($($(#[$attr:meta])* $test:ident: $folder:literal / $stem:literal;)*) => {
        /// Every program a test below runs, to check none is missed.
        const PROGRAMS: &[(&str, &str)] = &[$(($folder, $stem)),*];
        $(
            #[test]
            $(#[$attr])*
            fn $test() {
                sightglass($folder, $stem);
            }
        )*
    };
}

// The comment on each test: its release-build run time.
sightglass_tests! {
    blake3_scalar: "blake3-scalar" / "benchmark"; // 0.07 s
    bz2: "bz2" / "benchmark"; // 0.07 s
    noop: "noop" / "benchmark"; // 0.01 s
    pulldown_cmark: "pulldown-cmark" / "benchmark"; // 0.09 s
    regex: "regex" / "benchmark"; // 0.08 s
    shootout_ackermann: "shootout" / "shootout-ackermann"; // 0.01 s
    #[cfg_attr(debug_assertions, ignore = "1.5 s in release, minutes in debug")]
    shootout_base64: "shootout" / "shootout-base64";
    #[cfg_attr(debug_assertions, ignore = "2.9 s in release, minutes in debug")]
    shootout_ctype: "shootout" / "shootout-ctype";
    #[cfg_attr(debug_assertions, ignore = "40 s in release, far longer in debug")]
    shootout_ed25519: "shootout" / "shootout-ed25519";
    #[cfg_attr(debug_assertions, ignore = "7.2 s in release, minutes in debug")]
    shootout_fib2: "shootout" / "shootout-fib2";
    shootout_gimli: "shootout" / "shootout-gimli"; // 0.03 s
    #[cfg_attr(debug_assertions, ignore = "4.7 s in release, minutes in debug")]
    shootout_heapsort: "shootout" / "shootout-heapsort";
    shootout_keccak: "shootout" / "shootout-keccak"; // 0.07 s
    #[cfg_attr(debug_assertions, ignore = "1.5 s in release, minutes in debug")]
    shootout_matrix: "shootout" / "shootout-matrix";
    shootout_memmove: "shootout" / "shootout-memmove"; // 0.02 s
    #[cfg_attr(debug_assertions, ignore = "4.4 s in release, minutes in debug")]
    shootout_minicsv: "shootout" / "shootout-minicsv";
    shootout_nestedloop: "shootout" / "shootout-nestedloop"; // 0.01 s
    shootout_random: "shootout" / "shootout-random"; // 0.46 s
    shootout_ratelimit: "shootout" / "shootout-ratelimit"; // 0.18 s
    #[cfg_attr(debug_assertions, ignore = "35 s in release, far longer in debug")]
    shootout_seqhash: "shootout" / "shootout-seqhash";
    #[cfg_attr(debug_assertions, ignore = "3.4 s in release, minutes in debug")]
    shootout_sieve: "shootout" / "shootout-sieve";
    shootout_switch: "shootout" / "shootout-switch"; // 0.19 s
    shootout_xblabla20: "shootout" / "shootout-xblabla20"; // 0.02 s
    shootout_xchacha20: "shootout" / "shootout-xchacha20"; // 0.03 s
}

/// The Sightglass programs built for wasm SIMD (`../shared/simd`).
fn simd_program(folder: &str) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/simd")
        .join(folder);
    sightglass_from(&source, "benchmark");
}

#[test]
fn blake3_simd() {
    simd_program("blake3-simd"); // 0.09 s
}

#[test]
fn intgemm_simd() {
    simd_program("intgemm-simd"); // 0.2 s
}

/// The project's own kernels (`benches/kernels/`): `(group, name, checksum)`
/// of their native builds, from `expected.txt`.
fn native_checksums(group: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/kernels");
    fs::read_to_string(dir.join("expected.txt"))
        .unwrap()
        .lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [g, name, sum] if g == group => Some((name.to_string(), sum.to_string())),
                _ => None,
            },
        )
        .collect()
}

/// `benches/kernels/kernels.c` built with `-msimd128` (auto-vectorised),
/// at 1% of its benchmark size: every kernel's checksum equals the native
/// build's in every mode, and the modes leave the same memory.
#[test]
fn auto_vectorised_kernels_match_native() {
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/kernels/kernels-simd128.wasm");
    let expected = native_checksums("kernels");
    assert_eq!(expected.len(), 6, "expected.txt lists the six kernels");
    let run = |mode: Mode| {
        let out = run_command_with_args(mode, &wasm, None, &["all", "1"]);
        assert_eq!(out.exit_code, 0, "{mode:?}");
        // Lines are `name seconds checksum`; the seconds come from the clock.
        let checksums: Vec<(String, String)> = String::from_utf8(out.stdout.clone())
            .unwrap()
            .lines()
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w[0].to_string(), w[2].to_string())
            })
            .collect();
        assert_eq!(checksums, expected, "{mode:?}");
        out.memory_hash
    };
    let reference = run(INTERP);
    for mode in [
        Mode {
            tier: Tier::Aot,
            ..INTERP
        },
        auto(0, true),
        auto(1, false),
    ] {
        assert_eq!(
            run(mode),
            reference,
            "{mode:?}: memory differs from the interpreter"
        );
    }
}

/// The hand-written `wasm_simd128.h` kernels (`benches/kernels/simd.c`:
/// byte search, 16-bit dot product, f32 matrix multiply, hex encoding with
/// swizzles and shuffles, saturating narrowing) give the native build's
/// checksums in every mode and leave the same memory.
#[test]
fn hand_written_simd_kernels_match_native() {
    let wasm =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/kernels/simd.wasm")).unwrap();
    let expected = native_checksums("simd");
    assert_eq!(expected.len(), 5, "expected.txt lists the five kernels");
    let run = |mode: Mode| {
        let runtime = runtime_in(mode);
        let module = runtime.load(&wasm).unwrap();
        let mut store = runtime.new_store();
        let instance = Linker::new().instantiate(&mut store, &module).unwrap();
        for (name, checksum) in &expected {
            let result = instance
                .call(&mut store, name, &[wamr_rs::Val::I32(3)])
                .unwrap_or_else(|e| panic!("{name} in {mode:?}: {e}"));
            let wamr_rs::Val::I64(got) = result[0] else {
                panic!("{name}: {result:?}");
            };
            assert_eq!((got as u64).to_string(), *checksum, "{name} in {mode:?}");
        }
        memory_hash(&store, &instance)
    };
    let reference = run(INTERP);
    for mode in other_modes() {
        assert_eq!(
            run(mode),
            reference,
            "{mode:?}: memory differs from the interpreter"
        );
    }
}

#[test]
fn every_sightglass_program_has_a_test() {
    let root = bench_root().join("sightglass");
    let mut found = Vec::new();
    for folder in fs::read_dir(&root).unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        for file in fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "wasm") {
                let folder = folder.file_name().unwrap().to_string_lossy().into_owned();
                let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
                found.push((folder, stem));
            }
        }
    }
    found.sort();
    let mut listed: Vec<(String, String)> = PROGRAMS
        .iter()
        .map(|&(f, s)| (f.to_string(), s.to_string()))
        .collect();
    listed.sort();
    assert_eq!(found, listed);
}

/// CoreMark prints its score as `CoreMark 1.0 : N / ...`.
#[test]
#[ignore = "about 20 s in release; run with \
            `cargo test --release -p wamr-rs --test bench_programs -- --ignored coremark`"]
fn coremark() {
    let out = run_command(
        Tier::Interp,
        &bench_root().join("coremark/coremark.wasm"),
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.exit_code, 0, "{stdout}");
    assert!(stdout.contains("Correct operation validated."), "{stdout}");
    let score = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CoreMark 1.0 : "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no `CoreMark 1.0 : N` line in:\n{stdout}"));
    assert!(score > 0.0, "{stdout}");
}
