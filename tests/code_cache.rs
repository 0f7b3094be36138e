//! The persistent code cache through the embedding API: a second runtime
//! finds what the first compiled; damaged, foreign and other-CPU entries
//! are ignored and replaced; the bound evicts; concurrent writers leave one
//! whole entry. Every run's result is checked, so wrong code cannot pass.
#![cfg(feature = "llvm")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wamr_rs::cache::CacheKey;
use wamr_rs::{
    CodeCacheConfig, CompileError, CompileJob, CompileOptions, Compiler, Config, Linker, Runtime,
    Tier, TierUpPolicy, Val,
};

/// `f(n)`: a loop summing `i * MUL`; `MUL` tells modules apart.
fn module(mul: i32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (func (export "f") (param $n i32) (result i32) (local $i i32) (local $acc i32)
              (loop $l
                (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (i32.const {mul}))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
              (local.get $acc)))"#
    ))
    .unwrap()
}

fn expected(mul: i32, n: i32) -> i32 {
    (0..n).fold(0i32, |acc, i| acc.wrapping_add(i.wrapping_mul(mul)))
}

/// The LLVM plugin, counting the compiles that reach it.
#[derive(Debug, Default)]
struct Counting(AtomicUsize);

impl Compiler for Counting {
    fn version(&self) -> &str {
        wamr_rs::COMPILER_VERSION
    }

    fn compile(&self, job: &CompileJob<'_>) -> Result<Vec<u8>, CompileError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        wamr_rs::plugin_compiler().compile(job)
    }
}

/// A runtime of `tier` caching in `dir` (bounded by `max_bytes`); `auto`
/// compiles at once, on the calling thread.
fn cached_runtime(tier: Tier, dir: &Path, max_bytes: u64, compiler: &Arc<Counting>) -> Runtime {
    let config = Config {
        tier_up: TierUpPolicy {
            threshold: 0,
            synchronous: true,
            hot_for: Duration::ZERO,
            ..TierUpPolicy::default()
        },
        ..Config::default()
    }
    .with_code_cache(CodeCacheConfig {
        dir: dir.to_path_buf(),
        max_bytes,
    });
    Runtime::with_config(config)
        .with_compiler(compiler.clone())
        .with_tier(tier)
        .unwrap()
}

fn call_f(runtime: &Runtime, wasm: &[u8], n: i32) -> i32 {
    let module = runtime.load(wasm).unwrap();
    let mut store = runtime.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let f = instance.func(&store, "f").unwrap();
    match store.call(f, &[Val::I32(n)]).unwrap()[..] {
        [Val::I32(v)] => v,
        ref other => panic!("unexpected results {other:?}"),
    }
}

/// One run of `f(1000)` of module `mul` in a fresh runtime; returns the
/// runtime (for its cache's stats) and the compiles it made.
fn run(tier: Tier, dir: &Path, max_bytes: u64, mul: i32) -> (Runtime, usize) {
    let compiler = Arc::new(Counting::default());
    let runtime = cached_runtime(tier, dir, max_bytes, &compiler);
    assert_eq!(call_f(&runtime, &module(mul), 1000), expected(mul, 1000));
    let compiles = compiler.0.load(Ordering::SeqCst);
    (runtime, compiles)
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|items| items.map(|i| i.unwrap().path()).collect())
        .unwrap_or_default();
    all.sort();
    all
}

/// The path of the entry of module `mul` under this host's default options.
fn entry_of(dir: &Path, mul: i32) -> PathBuf {
    let runtime =
        Runtime::with_config(Config::default().with_code_cache(CodeCacheConfig::new(dir)));
    let module = runtime.load(&module(mul)).unwrap();
    let key = CacheKey::for_module(&module, &CompileOptions::host(3));
    runtime.code_cache().unwrap().entry_path(&key)
}

const UNBOUNDED: u64 = u64::MAX;

#[test]
fn no_cache_unless_configured() {
    assert!(Runtime::new().code_cache().is_none());
    let bad = Config::default().with_code_cache(CodeCacheConfig::new(""));
    assert!(Runtime::with_config(bad).load(&module(1)).is_err());
}

#[test]
fn a_second_runtime_runs_the_cached_code_in_either_tier() {
    for tier in [Tier::Aot, Tier::Auto] {
        let dir = tempfile::tempdir().unwrap();
        let (first, compiles) = run(tier, dir.path(), UNBOUNDED, 3);
        assert_eq!(compiles, 1, "{tier}");
        assert_eq!(first.code_cache().unwrap().stats().stored, 1, "{tier}");
        assert_eq!(entries(dir.path()), [entry_of(dir.path(), 3)], "{tier}");

        let (second, compiles) = run(tier, dir.path(), UNBOUNDED, 3);
        assert_eq!(compiles, 0, "{tier}: the second run compiled");
        let stats = second.code_cache().unwrap().stats();
        assert_eq!((stats.hits, stats.stored), (1, 0), "{tier}");
        if let Some(manager) = second.tier_manager() {
            let events = manager.events();
            assert!(events.len() == 1 && events[0].from_cache, "{events:?}");
        }
    }
}

#[test]
fn the_tiers_share_entries() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(Tier::Auto, dir.path(), UNBOUNDED, 5).1, 1);
    assert_eq!(run(Tier::Aot, dir.path(), UNBOUNDED, 5).1, 0);
    // Another module is another entry.
    assert_eq!(run(Tier::Aot, dir.path(), UNBOUNDED, 6).1, 1);
    assert_eq!(entries(dir.path()).len(), 2);
}

#[test]
fn a_truncated_or_garbage_entry_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    run(Tier::Aot, dir.path(), UNBOUNDED, 7);
    let entry = entry_of(dir.path(), 7);
    let whole = std::fs::read(&entry).unwrap();
    for damaged in [&whole[..whole.len() / 2], &whole[..100], b"garbage", b""] {
        std::fs::write(&entry, damaged).unwrap();
        for tier in [Tier::Aot, Tier::Auto] {
            let (runtime, compiles) = run(tier, dir.path(), UNBOUNDED, 7);
            assert_eq!(compiles, 1, "{tier}");
            let stats = runtime.code_cache().unwrap().stats();
            assert_eq!((stats.rejected, stats.stored), (1, 1), "{tier}");
            assert_eq!(
                std::fs::read(&entry).unwrap(),
                whole,
                "{tier}: not replaced"
            );
            std::fs::write(&entry, damaged).unwrap();
        }
    }
    // A flipped bit inside the code fails the checksum.
    let mut flipped = whole.clone();
    let at = flipped.len() - 16;
    flipped[at] ^= 1;
    std::fs::write(&entry, &flipped).unwrap();
    let (runtime, compiles) = run(Tier::Aot, dir.path(), UNBOUNDED, 7);
    assert_eq!(
        (compiles, runtime.code_cache().unwrap().stats().rejected),
        (1, 1)
    );
}

#[test]
fn an_entry_of_another_module_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    run(Tier::Aot, dir.path(), UNBOUNDED, 9);
    let nine = std::fs::read(entry_of(dir.path(), 9)).unwrap();
    for tier in [Tier::Aot, Tier::Auto] {
        // Module 9's code, under module 11's name: `f` would return the wrong sum.
        std::fs::write(entry_of(dir.path(), 11), &nine).unwrap();
        let (runtime, compiles) = run(tier, dir.path(), UNBOUNDED, 11);
        assert_eq!(compiles, 1, "{tier}");
        assert_eq!(runtime.code_cache().unwrap().stats().rejected, 1, "{tier}");
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn an_entry_for_another_cpu_level_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let host = CompileOptions::host(3);
    // Code for another x86_64 level than the one this host's key names.
    let other = CompileOptions {
        cpu: if host.cpu == "x86-64" {
            "x86-64-v2"
        } else {
            "x86-64"
        }
        .into(),
        ..host.clone()
    };
    let wasm = module(13);
    let bytes = Runtime::new()
        .with_compiler(wamr_rs::plugin_compiler())
        .precompile(&wasm, &other, 1, None)
        .unwrap();
    let entry = entry_of(dir.path(), 13);
    std::fs::write(&entry, &bytes).unwrap();
    let (runtime, compiles) = run(Tier::Auto, dir.path(), UNBOUNDED, 13);
    assert_eq!(compiles, 1);
    assert_eq!(runtime.code_cache().unwrap().stats().rejected, 1);
    let replaced = std::fs::read(&entry).unwrap();
    let meta = wamr_rs::AotImage::from_bytes(&replaced).unwrap().meta;
    assert_eq!(meta.cpu, host.cpu);
    // Asked for that level, a runtime keys it apart and compiles it.
    let compiler = Arc::new(Counting::default());
    let runtime =
        cached_runtime(Tier::Aot, dir.path(), UNBOUNDED, &compiler).with_compile_options(other);
    let runtime = runtime.with_tier(Tier::Aot).unwrap();
    assert_eq!(call_f(&runtime, &wasm, 1000), expected(13, 1000));
    assert_eq!(compiler.0.load(Ordering::SeqCst), 1);
    assert_eq!(entries(dir.path()).len(), 2);
}

#[test]
fn a_full_cache_evicts_the_least_recently_used() {
    let sizing = tempfile::tempdir().unwrap();
    run(Tier::Aot, sizing.path(), UNBOUNDED, 21);
    let size = std::fs::metadata(entry_of(sizing.path(), 21))
        .unwrap()
        .len();

    // Room for two entries, not three.
    let bound = size * 5 / 2;
    let dir = tempfile::tempdir().unwrap();
    run(Tier::Aot, dir.path(), bound, 21);
    std::thread::sleep(Duration::from_millis(20));
    run(Tier::Aot, dir.path(), bound, 22);
    std::thread::sleep(Duration::from_millis(20));
    // A hit makes 21 the most recently used: 22 goes first.
    assert_eq!(run(Tier::Aot, dir.path(), bound, 21).1, 0);
    std::thread::sleep(Duration::from_millis(20));
    let (runtime, _) = run(Tier::Aot, dir.path(), bound, 23);
    assert_eq!(runtime.code_cache().unwrap().stats().evicted, 1);
    let mut kept = vec![entry_of(dir.path(), 21), entry_of(dir.path(), 23)];
    kept.sort();
    assert_eq!(entries(dir.path()), kept);
    let summary = runtime.code_cache().unwrap().summary().unwrap();
    assert!(
        summary.bytes <= bound && summary.entries == 2,
        "{summary:?}"
    );

    // A bound smaller than any entry keeps nothing, and runs go on.
    let tiny = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        assert_eq!(run(Tier::Auto, tiny.path(), 1, 21).1, 1);
    }
    assert!(entries(tiny.path()).is_empty());
}

#[test]
fn concurrent_runs_leave_one_whole_entry() {
    let dir = tempfile::tempdir().unwrap();
    let start = Arc::new(std::sync::Barrier::new(4));
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let (dir, start) = (dir.path().to_path_buf(), start.clone());
            let tier = if i % 2 == 0 { Tier::Aot } else { Tier::Auto };
            std::thread::spawn(move || {
                let compiler = Arc::new(Counting::default());
                let runtime = cached_runtime(tier, &dir, UNBOUNDED, &compiler);
                start.wait();
                assert_eq!(call_f(&runtime, &module(31), 5000), expected(31, 5000));
            })
        })
        .collect();
    for run in runs {
        run.join().unwrap();
    }
    // No temporary file left, and the one entry is whole.
    assert_eq!(entries(dir.path()), [entry_of(dir.path(), 31)]);
    let (runtime, compiles) = run(Tier::Aot, dir.path(), UNBOUNDED, 31);
    assert_eq!(
        (compiles, runtime.code_cache().unwrap().stats().hits),
        (0, 1)
    );
}
