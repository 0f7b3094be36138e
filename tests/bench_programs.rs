//! End to end: the real programs in `../shared/bench` run to completion
//! under the interpreter through the embedding API, and print exactly what
//! they should.
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

use wamr_rs::{Linker, OutputPipe, Runtime, Tier, WasiCtxBuilder};

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
struct Output {
    exit_code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// How often `bench.start` and `bench.end` were called.
    markers: [u32; 2],
}

/// Runs the WASI command `wasm` under `tier`, with `preopen` (if any) as `.`.
fn run_command(tier: Tier, wasm: &Path, preopen: Option<&Path>) -> Output {
    let runtime = Runtime::new().with_tier(tier).expect("tier available");
    let module = runtime
        .load_file(wasm)
        .unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let (stdout, stderr) = (OutputPipe::new(), OutputPipe::new());
    let mut builder = WasiCtxBuilder::new();
    builder
        .arg(wasm.file_name().unwrap().to_string_lossy())
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    if let Some(dir) = preopen {
        builder.preopened_dir(dir, ".");
    }
    let ctx = builder.build().unwrap();
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    linker.define_wasi(&mut store, ctx);
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
    Output {
        exit_code,
        stdout: stdout.take(),
        stderr: stderr.take(),
        markers: counts.each_ref().map(|c| c.load(Ordering::Relaxed)),
    }
}

/// Runs Sightglass program `folder/stem.wasm` in the interpreter and checks its output.
fn sightglass(folder: &str, stem: &str) {
    sightglass_in(Tier::Interp, folder, stem)
}

/// Runs Sightglass program `folder/stem.wasm` under `tier` and checks its output.
fn sightglass_in(tier: Tier, folder: &str, stem: &str) {
    let source = bench_root().join("sightglass").join(folder);
    let scratch = tempfile::tempdir().unwrap();
    copy_files(&source, scratch.path());
    let wasm = scratch.path().join(format!("{stem}.wasm"));
    let out = run_command(tier, &wasm, Some(scratch.path()));
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

/// The same programs compiled by the LLVM tier: identical output and exit
/// code (the expected files are the interpreter's too). The shootout
/// programs are small, so compiling each at -O3 takes about a second.
#[cfg(feature = "llvm")]
mod aot {
    use super::*;

    macro_rules! aot_tests {
        ($($test:ident: $stem:literal;)*) => {$(
            #[test]
            fn $test() {
                sightglass_in(Tier::Aot, "shootout", $stem);
            }
        )*};
    }

    aot_tests! {
        ackermann: "shootout-ackermann";
        base64: "shootout-base64";
        ctype: "shootout-ctype";
        ed25519: "shootout-ed25519";
        fib2: "shootout-fib2";
        gimli: "shootout-gimli";
        heapsort: "shootout-heapsort";
        keccak: "shootout-keccak";
        matrix: "shootout-matrix";
        memmove: "shootout-memmove";
        minicsv: "shootout-minicsv";
        nestedloop: "shootout-nestedloop";
        random: "shootout-random";
        ratelimit: "shootout-ratelimit";
        seqhash: "shootout-seqhash";
        sieve: "shootout-sieve";
        switch: "shootout-switch";
        xblabla20: "shootout-xblabla20";
        xchacha20: "shootout-xchacha20";
    }
}
