//! The code cache of `wamr-rs run` as a user meets it: on by default in a
//! directory `WAMR_CACHE_DIR` names, `--no-cache`, `wamr-rs cache`, a
//! damaged entry, and several processes filling it at once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wamr(cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wamr-rs"));
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env("WAMR_CACHE_DIR", cache);
    cmd
}

fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the wamr-rs binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    out
}

fn fib() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/fib.wat")
        .to_string_lossy()
        .into_owned()
}

/// `fib 25` through `run` with `flags`: checks the result, returns stderr.
fn run_fib(cache: &Path, flags: &[&str]) -> String {
    let fib = fib();
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend(["--tier-stats", "--invoke", "fib", &fib, "25"]);
    let out = output(&mut wamr(cache, &args));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "75025\n");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|items| items.map(|i| i.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn a_second_run_starts_in_cached_native_code() {
    let cache = tempfile::tempdir().unwrap();
    let first = run_fib(cache.path(), &["--tier", "aot"]);
    assert!(
        first.contains("0 hit(s), 1 miss(es), 0 rejected, 1 stored"),
        "{first}"
    );
    assert_eq!(entries(cache.path()).len(), 1);

    let second = run_fib(cache.path(), &["--tier", "aot"]);
    assert!(
        second.contains("1 hit(s), 0 miss(es), 0 rejected, 0 stored"),
        "{second}"
    );
    // `auto` finds the same entry and never interprets.
    let auto = run_fib(cache.path(), &[]);
    assert!(auto.contains("1 hit(s)"), "{auto}");
    assert!(auto.contains("native code from the code cache"), "{auto}");
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("never");
    let stats = run_fib(&dir, &["--no-cache", "--tier", "aot"]);
    assert!(!stats.contains("code cache"), "{stats}");
    assert!(!dir.exists());
}

#[test]
fn the_cache_command_shows_and_clears() {
    let cache = tempfile::tempdir().unwrap();
    let show = |cache: &Path| {
        let out = output(&mut wamr(cache, &["cache"]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let empty = show(cache.path());
    assert!(
        empty.contains(&format!("directory: {}", cache.path().display())),
        "{empty}"
    );
    assert!(empty.contains("entries: 0"), "{empty}");
    run_fib(cache.path(), &["--tier", "aot"]);
    let one = show(cache.path());
    assert!(one.contains("entries: 1"), "{one}");
    let size = std::fs::metadata(&entries(cache.path())[0]).unwrap().len();
    assert!(one.contains(&format!("size: {size} bytes")), "{one}");

    let cleared = output(&mut wamr(cache.path(), &["cache", "clear"]));
    assert!(String::from_utf8_lossy(&cleared.stdout).contains("removed 1 entries"));
    assert!(entries(cache.path()).is_empty());
    assert!(show(cache.path()).contains("entries: 0"));
}

#[test]
fn a_truncated_entry_is_replaced_with_a_warning() {
    let cache = tempfile::tempdir().unwrap();
    run_fib(cache.path(), &["--tier", "aot"]);
    let entry = entries(cache.path()).remove(0);
    let whole = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &whole[..whole.len() / 3]).unwrap();
    let stats = run_fib(cache.path(), &[]);
    assert!(stats.contains("ignoring and removing"), "{stats}");
    assert!(stats.contains("1 rejected"), "{stats}");
    // The compile `auto` runs in the background may not finish within
    // this short run; `aot` replaces the entry for sure.
    let stats = run_fib(cache.path(), &["--tier", "aot"]);
    assert!(
        stats.contains("1 stored") || stats.contains("1 hit(s)"),
        "{stats}"
    );
    let stats = run_fib(cache.path(), &["--tier", "aot"]);
    assert!(
        stats.contains("1 hit(s), 0 miss(es), 0 rejected"),
        "{stats}"
    );
}

#[test]
fn concurrent_processes_leave_one_whole_entry() {
    let cache = tempfile::tempdir().unwrap();
    let fib = fib();
    let args = ["run", "--tier", "aot", "--invoke", "fib", &fib, "25"];
    let children: Vec<_> = (0..4)
        .map(|_| {
            wamr(cache.path(), &args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "75025\n");
        assert!(out.stderr.is_empty(), "{out:?}");
    }
    // One entry and no temporary files; a run after them hits it.
    assert_eq!(
        entries(cache.path()).len(),
        1,
        "{:?}",
        entries(cache.path())
    );
    let stats = run_fib(cache.path(), &["--tier", "aot"]);
    assert!(stats.contains("1 hit(s)"), "{stats}");
}
