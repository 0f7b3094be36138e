//! Issue 16, defect 3: growing a memory64 must not touch pages the guest
//! never wrote. Doubling a fresh memory64 to 8 GiB used to copy the whole
//! memory into a new mapping at each move (4.2 GB of RSS, 15 s).
//!
//! The process's RSS is shared by every test in a binary, so this file
//! holds a single test, and the tiers run one after another in it.
#![cfg(feature = "llvm")]

use std::time::Instant;

use wamr_rs::{Config, Linker, Runtime, Tier, TierUpPolicy, Val};

/// `double_to(target)` doubles memory until it has `target` pages and
/// returns the page count (-1 if a grow failed); `store`/`load` reach any
/// address.
const DOUBLING: &str = r#"(module
  (memory (export "memory") i64 1)
  (func (export "double_to") (param $target i64) (result i64)
    (loop $l
      (if (i64.lt_u (memory.size) (local.get $target))
        (then
          (if (i64.eq (memory.grow (memory.size)) (i64.const -1))
            (then (return (i64.const -1))))
          (br $l))))
    (memory.size))
  (func (export "store") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "load") (param i64) (result i64) (i64.load (local.get 0))))"#;

/// 8 GiB.
const TARGET_PAGES: i64 = 131072;
const PAGE: i64 = 65536;

/// The resident set of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Doubles a fresh memory64 of `runtime` to `pages`, checking that RSS grows
/// by less than 64 MB and that the memory keeps its contents and works up
/// to its last byte.
fn double_untouched(runtime: &Runtime, pages: i64) {
    let tier = runtime.tier();
    let wasm = wat::parse_str(DOUBLING).unwrap();
    let module = runtime.load(&wasm).unwrap();
    let mut store = runtime.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    // The first call also compiles the module under forced tier-up, so
    // that the compiler's memory is not counted below.
    let marker = 0x0123_4567_89ab_cdef_i64;
    instance
        .call(&mut store, "store", &[Val::I64(8), Val::I64(marker)])
        .unwrap();

    let before = rss();
    let started = Instant::now();
    let grown_to = instance
        .call(&mut store, "double_to", &[Val::I64(pages)])
        .unwrap();
    let took = started.elapsed();
    let grown = rss().saturating_sub(before);
    eprintln!(
        "{tier}: doubled to {pages} pages in {took:?}, RSS +{} KiB",
        grown >> 10
    );
    assert_eq!(grown_to, vec![Val::I64(pages)], "{tier}");
    assert!(grown < 64 << 20, "{tier}: RSS grew by {grown} bytes");

    // Contents survive the growth, and the last page works.
    let at = |addr: i64| [Val::I64(addr)];
    let loaded = instance.call(&mut store, "load", &at(8)).unwrap();
    assert_eq!(loaded, vec![Val::I64(marker)], "{tier}");
    let last = pages * PAGE - 8;
    instance
        .call(&mut store, "store", &[Val::I64(last), Val::I64(-2)])
        .unwrap();
    let loaded = instance.call(&mut store, "load", &at(last)).unwrap();
    assert_eq!(loaded, vec![Val::I64(-2)], "{tier}");
    let past = instance.call(&mut store, "load", &at(last + 8));
    assert!(past.is_err(), "{tier}: a load past the end must trap");
}

fn forced_tier_up() -> Config {
    Config {
        tier_up: TierUpPolicy::immediate(),
        ..Config::default()
    }
}

#[test]
fn doubling_an_untouched_memory64_commits_nothing_in_any_tier() {
    let runtimes = [
        Runtime::new().with_tier(Tier::Interp).unwrap(),
        Runtime::new().with_tier(Tier::Aot).unwrap(),
        Runtime::with_config(forced_tier_up())
            .with_tier(Tier::Auto)
            .unwrap(),
    ];
    for runtime in &runtimes {
        double_untouched(runtime, TARGET_PAGES);
    }
    // With a raised limit, a memory64 outgrows the address space reserved
    // up front and moves: its pages move with it, uncopied. (32 GiB.)
    let raised = Config::default().with_memory_page_limit(1 << 20);
    double_untouched(&Runtime::with_config(raised), 1 << 19);
}
