//! `wamr-rs run` as a user meets it: the built binary on real files. Bad
//! input must give one `error:` line and status 1 (2 for usage errors, 134
//! for a trap), never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

fn wamr(dir: &Path, args: &[&str]) -> Output {
    // An empty code cache of its own: never the user's.
    let cache = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_wamr-rs"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("WAMR_CACHE_DIR", cache.path())
        .output()
        .expect("the wamr-rs binary runs")
}

/// A scratch folder holding `name` with `contents`.
fn with_file(name: &str, contents: impl AsRef<[u8]>) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), contents).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The run failed with status `code` and a single `error:` line containing
/// every one of `needles`.
#[track_caller]
fn assert_error(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` missing from: {err}");
    }
}

#[track_caller]
fn assert_success(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(out));
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

#[test]
fn hello_world_runs_and_exits_0() {
    let hello = example("hello.wat");
    let out = wamr(Path::new("."), &["run", hello.to_str().unwrap()]);
    assert_success(&out);
    assert_eq!(stdout(&out), "hello\n");
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn invoke_prints_results() {
    let fib = example("fib.wat");
    let out = wamr(
        Path::new("."),
        &["run", "--invoke", "fib", fib.to_str().unwrap(), "20"],
    );
    assert_success(&out);
    assert_eq!(stdout(&out), "6765\n");
}

/// Issue 16, defect 6: a funcref result printed a host heap address
/// (`ref(0x56235468dde0)`), different on every run. It names the function:
/// by its name-section name, else an export name, else its index.
#[test]
fn invoke_prints_references_by_function_never_by_address() {
    let dir = with_file(
        "refs.wat",
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (func $double (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
            (func (result i32) (i32.const 2))
            (func (export "seven") (result i32) (i32.const 7))
            (elem declare func $double 2 3 $exit)
            (func (export "refs") (result funcref funcref funcref funcref funcref externref)
                (ref.func $double) (ref.func 2) (ref.func 3) (ref.func $exit)
                (ref.null func) (ref.null extern)))"#,
    );
    let run = || wamr(dir.path(), &["run", "--invoke", "refs", "refs.wat"]);
    let out = run();
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "funcref:double\nfuncref:func[2]\nfuncref:seven\nfuncref:exit\nnull\nnull\n"
    );
    assert_eq!(stdout(&run()), stdout(&out));
}

#[test]
fn a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = wamr(dir.path(), &["run", "nothing-here.wasm"]);
    assert_error(&out, 1, &["cannot read nothing-here.wasm"]);
}

#[test]
fn usage_errors_exit_2() {
    let dir = with_file("m.wat", "(module)");
    assert_error(
        &wamr(dir.path(), &["run", "--no-such-flag", "m.wat"]),
        2,
        &["--no-such-flag"],
    );
    assert_error(&wamr(dir.path(), &["run"]), 2, &["<FILE>"]);
    assert_error(
        &wamr(dir.path(), &["run", "--tier", "fast", "m.wat"]),
        2,
        &["fast"],
    );
}

#[test]
fn a_file_that_is_not_wasm() {
    let dir = with_file("notes.wasm", "just some notes\n");
    let out = wamr(dir.path(), &["run", "notes.wasm"]);
    assert_error(&out, 1, &["notes.wasm", "not a WebAssembly module"]);
}

#[test]
fn malformed_and_invalid_modules() {
    let dir = with_file("cut.wasm", b"\0asm\x01\0\0\0\x01\x05");
    assert_error(
        &wamr(dir.path(), &["run", "cut.wasm"]),
        1,
        &["cut.wasm", "malformed module"],
    );
    let dir = with_file("bad.wat", "(module (func $f (result i32)))");
    assert_error(
        &wamr(dir.path(), &["run", "bad.wat"]),
        1,
        &["bad.wat", "invalid module"],
    );
    let dir = with_file("typo.wat", "(module\n  (fnuc))");
    assert_error(
        &wamr(dir.path(), &["run", "typo.wat"]),
        1,
        &["typo.wat:2:4"],
    );
}

#[test]
fn the_aot_tier_compiles_in_memory_and_runs() {
    let hello = example("hello.wat");
    let out = wamr(
        Path::new("."),
        &["run", "--tier", "aot", hello.to_str().unwrap()],
    );
    assert_success(&out);
    assert_eq!(stdout(&out), "hello\n");
}

const ADD: &str = r#"(module
    (func (export "add") (param i32 i64) (result i64)
        (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))))"#;

#[test]
fn invoke_argument_errors() {
    let dir = with_file("add.wat", ADD);
    assert_error(
        &wamr(dir.path(), &["run", "--invoke", "add", "add.wat", "1"]),
        1,
        &["`add` takes 2 argument(s)", "1 given"],
    );
    assert_error(
        &wamr(
            dir.path(),
            &["run", "--invoke", "add", "add.wat", "1", "two"],
        ),
        1,
        &["argument 2 of `add`", "`two` is not a valid i64"],
    );
    assert_error(
        &wamr(dir.path(), &["run", "--invoke", "sub", "add.wat"]),
        1,
        &["no function `sub`", "add"],
    );
    // Without `--invoke` a module needs `_start`.
    assert_error(
        &wamr(dir.path(), &["run", "add.wat"]),
        1,
        &["no `_start`", "--invoke"],
    );
    let out = wamr(
        dir.path(),
        &["run", "--invoke", "add", "add.wat", "-5", "4294967296"],
    );
    assert_success(&out);
    assert_eq!(stdout(&out), "4294967291\n");
}

#[test]
fn a_missing_import_names_it_and_its_type() {
    let dir = with_file(
        "imp.wat",
        r#"(module
            (import "env" "missing" (func (param i32) (result i32)))
            (func (export "_start")))"#,
    );
    let out = wamr(dir.path(), &["run", "imp.wat"]);
    assert_error(&out, 1, &["env.missing", "(func (param i32) (result i32))"]);
}

/// Issue 16: `--tier aot` compiled the whole module before it found a
/// missing import. With no compiler to be found, the missing import is
/// still what is reported: nothing was compiled.
#[test]
fn the_aot_tier_links_before_it_compiles() {
    let dir = with_file(
        "imp.wat",
        r#"(module
            (import "env" "missing" (func (param i32) (result i32)))
            (func (export "_start")))"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wamr-rs"))
        .args(["run", "--no-cache", "--tier", "aot", "imp.wat"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env("WAMR_LLVM_PLUGIN", dir.path().join("no-such-plugin.so"))
        .output()
        .unwrap();
    assert_error(&out, 1, &["unknown import", "env.missing"]);
}

#[test]
fn a_trap_names_the_function_and_exits_134() {
    let dir = with_file(
        "trap.wat",
        r#"(module
            (func $inner (unreachable))
            (func $outer (export "_start") (call $inner)))"#,
    );
    let out = wamr(dir.path(), &["run", "trap.wat"]);
    assert_error(&out, 134, &[]);
    assert_eq!(
        stderr(&out),
        "error: trap: unreachable (in wasm function inner)\n"
    );
}

/// `d(n)` recurses `n` deep.
const DEPTH: &str = r#"(module
    (func $d (export "d") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
            (then (i32.const 0))
            (else (i32.add (i32.const 1) (call $d (i32.sub (local.get 0) (i32.const 1))))))))"#;

#[test]
fn max_stack_bounds_recursion_with_a_trap() {
    let dir = with_file("depth.wat", DEPTH);
    let out = wamr(dir.path(), &["run", "--invoke", "d", "depth.wat", "5000"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "5000\n");
    // 10 000 bytes cannot hold 5000 frames.
    assert_error(
        &wamr(
            dir.path(),
            &[
                "run",
                "--max-stack",
                "10000",
                "--invoke",
                "d",
                "depth.wat",
                "5000",
            ],
        ),
        134,
        &["call stack exhausted", "(in wasm function d)"],
    );
    // Unbounded recursion is a trap too, never a crash.
    std::fs::write(
        dir.path().join("rec.wat"),
        r#"(module (func $down (export "_start") (call $down)))"#,
    )
    .unwrap();
    assert_error(
        &wamr(dir.path(), &["run", "rec.wat"]),
        134,
        &["call stack exhausted", "down"],
    );
}

/// Issue 16, defect 4: a huge `--max-stack` aborted the process trying to
/// allocate it (`memory allocation of 100000000000 bytes failed`, or a
/// `capacity overflow` panic at u64::MAX). Past the most allowed it is a
/// usage error naming the flag; the most allowed runs, reserved lazily.
#[test]
fn a_huge_max_stack_is_a_usage_error() {
    let dir = with_file("depth.wat", DEPTH);
    for huge in ["100000000000", "18446744073709551615"] {
        let out = wamr(
            dir.path(),
            &[
                "run",
                "--max-stack",
                huge,
                "--invoke",
                "d",
                "depth.wat",
                "10",
            ],
        );
        assert_error(&out, 2, &["--max-stack", huge, "1073741824"]);
    }
    let out = wamr(
        dir.path(),
        &[
            "run",
            "--max-stack",
            "1073741824",
            "--invoke",
            "d",
            "depth.wat",
            "5000",
        ],
    );
    assert_success(&out);
    assert_eq!(stdout(&out), "5000\n");
}

const EXIT_7: &str = r#"(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start") (call $exit (i32.const 7)) unreachable))"#;

#[test]
fn proc_exit_sets_the_exit_status() {
    let dir = with_file("exit.wat", EXIT_7);
    let out = wamr(dir.path(), &["run", "exit.wat"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

/// Exits with argc; `env_count` returns the number of environment variables.
const ARGS_AND_ENV: &str = r#"(module
    (import "wasi_snapshot_preview1" "args_sizes_get" (func $args (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start")
        (drop (call $args (i32.const 0) (i32.const 4)))
        (call $exit (i32.load (i32.const 0))))
    (func (export "env_count") (result i32)
        (drop (call $env (i32.const 0) (i32.const 4)))
        (i32.load (i32.const 0))))"#;

#[test]
fn program_arguments_and_environment() {
    let dir = with_file("prog.wat", ARGS_AND_ENV);
    // argv = the file name, then ARGS; flags after FILE belong to the program.
    let out = wamr(dir.path(), &["run", "prog.wat", "a", "--b", "c"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    // Only `--env` variables reach the guest, not the host's environment.
    let out = wamr(dir.path(), &["run", "--invoke", "env_count", "prog.wat"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "0\n");
    let out = wamr(
        dir.path(),
        &[
            "run",
            "--env",
            "A=1",
            "--env",
            "B=2",
            "--invoke",
            "env_count",
            "prog.wat",
        ],
    );
    assert_eq!(stdout(&out), "2\n");
}

/// Opens `data.txt` in the first preopened directory (fd 3) and copies it
/// to stdout; exits with 10 + errno if it cannot be opened.
const CAT: &str = r#"(module
    (import "wasi_snapshot_preview1" "path_open"
        (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "data.txt")
    (func (export "_start")
        (local $err i32)
        (local.set $err (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 8)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
        (if (local.get $err) (then (call $exit (i32.add (i32.const 10) (local.get $err)))))
        ;; one iovec at 8: 100 bytes at 200
        (i32.store (i32.const 8) (i32.const 200))
        (i32.store (i32.const 12) (i32.const 100))
        (drop (call $read (i32.load (i32.const 0)) (i32.const 8) (i32.const 1) (i32.const 16)))
        (i32.store (i32.const 12) (i32.load (i32.const 16)))
        (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))))"#;

#[test]
fn dir_gives_the_guest_a_folder() {
    let dir = with_file("cat.wat", CAT);
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("data.txt"), "from the host\n").unwrap();
    let data_arg = format!("{}::/data", data.path().display());
    let out = wamr(dir.path(), &["run", "--dir", &data_arg, "cat.wat"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "from the host\n");
    // Without `--dir` there is no fd 3: EBADF (8).
    let out = wamr(dir.path(), &["run", "cat.wat"]);
    assert_eq!(out.status.code(), Some(18), "{}", stderr(&out));
    // A folder that does not exist.
    assert_error(
        &wamr(dir.path(), &["run", "--dir", "no-such-dir", "cat.wat"]),
        1,
        &["no-such-dir"],
    );
}

#[test]
fn memory_page_limit() {
    let dir = with_file(
        "mem.wat",
        r#"(module
            (memory 1)
            (func (export "_start"))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    );
    std::fs::write(
        dir.path().join("big.wat"),
        r#"(module (memory 3) (func (export "_start")))"#,
    )
    .unwrap();
    assert_error(
        &wamr(dir.path(), &["run", "--memory-page-limit", "2", "big.wat"]),
        1,
        &["memory page limit of 2 pages"],
    );
    let grow = |pages: &str| {
        let out = wamr(
            dir.path(),
            &[
                "run",
                "--memory-page-limit",
                "2",
                "--invoke",
                "grow",
                "mem.wat",
                pages,
            ],
        );
        assert_success(&out);
        stdout(&out)
    };
    assert_eq!(grow("1"), "1\n");
    assert_eq!(grow("2"), "-1\n");
}

#[test]
fn bench_markers_define_bench_start_and_end() {
    let dir = with_file(
        "bench.wat",
        r#"(module
            (import "bench" "start" (func $start))
            (import "bench" "end" (func $end))
            (func (export "_start") (call $start) (call $end)))"#,
    );
    assert_error(
        &wamr(dir.path(), &["run", "bench.wat"]),
        1,
        &["bench.start"],
    );
    assert_success(&wamr(dir.path(), &["run", "--bench-markers", "bench.wat"]));
}

#[test]
fn wat2wasm_writes_a_binary_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let hello = example("hello.wat");
    let out = wamr(
        dir.path(),
        &["wat2wasm", hello.to_str().unwrap(), "-o", "hello.wasm"],
    );
    assert_success(&out);
    let wasm = std::fs::read(dir.path().join("hello.wasm")).unwrap();
    assert!(wasm.starts_with(b"\0asm"));
    let out = wamr(dir.path(), &["run", "hello.wasm"]);
    assert_eq!(stdout(&out), "hello\n");
}

/// `run(n)` of benches/programs/longloop.wat, computed here.
fn longloop(n: u32) -> u64 {
    let mut memory = [0u32; 16384];
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(u64::from(i.wrapping_mul(i)));
        memory[(i % 16384) as usize] = i;
    }
    acc.wrapping_add(u64::from(memory[10]) | u64::from(memory[11]) << 32)
}

#[test]
fn tier_up_compiles_in_a_worker_process_and_moves_a_running_loop() {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/programs/longloop.wat");
    let n = 200_000_000;
    let dir = tempfile::tempdir().unwrap();
    let out = wamr(
        dir.path(),
        &[
            "run",
            "--tier",
            "auto",
            "--tier-stats",
            "--invoke",
            "run",
            program.to_str().unwrap(),
            &n.to_string(),
        ],
    );
    assert_success(&out);
    assert_eq!(stdout(&out).trim(), longloop(n).to_string());
    let stats = stderr(&out);
    assert!(
        stats.contains("moved to native code at a loop: 1"),
        "{stats}"
    );
    assert!(stats.contains("native code after"), "{stats}");
}

#[test]
fn a_compile_worker_refuses_what_is_not_a_request() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wamr-rs"))
        .arg("compile-worker")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_error(&out, 1, &["compile worker", "not a compile request"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_compile_worker_whose_program_has_ended_does_nothing() {
    // Its parent is this test, not the process it was started for.
    let out = Command::new(env!("CARGO_BIN_EXE_wamr-rs"))
        .args(["compile-worker", "--parent", &u32::MAX.to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_success(&out);
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
}

/// The compiler aborting (the `WAMR_TEST_COMPILER_CRASH` hook) ends only
/// the worker it runs in: `--tier aot` fails with one error line naming
/// the crash, `--tier auto` runs the program on in the interpreter.
#[test]
fn a_compiler_crash_ends_only_the_worker() {
    let cache = tempfile::tempdir().unwrap();
    let crashing = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wamr-rs"))
            .args(args)
            .env_remove("RUST_LOG")
            .env("WAMR_TEST_COMPILER_CRASH", "1")
            // A cached entry would spare the compile that must crash.
            .env("WAMR_CACHE_DIR", cache.path())
            .output()
            .expect("the wamr-rs binary runs")
    };
    let fib = example("fib.wat");
    let fib = fib.to_str().unwrap();
    let out = crashing(&["run", "--tier", "aot", "--invoke", "fib", fib, "20"]);
    assert_error(&out, 1, &["compiler process", "SIGABRT"]);
    let out = crashing(&[
        "run",
        "--tier",
        "auto",
        "--tier-up-threshold",
        "0",
        "--tier-stats",
        "--invoke",
        "fib",
        fib,
        "30",
    ]);
    assert_success(&out);
    assert_eq!(stdout(&out).trim(), "832040");
    let err = stderr(&out);
    assert!(err.contains("SIGABRT"), "{err}");
    assert!(err.contains("failed: stays interpreted"), "{err}");
}

/// `--invoke` takes and prints a `v128` as one hexadecimal number.
#[test]
fn invoke_takes_and_prints_v128() {
    let dir = with_file(
        "v.wat",
        r#"(module (func (export "f") (param v128) (result v128)
             (i64x2.add (local.get 0) (v128.const i64x2 1 2))))"#,
    );
    let out = wamr(
        dir.path(),
        &[
            "run",
            "--invoke",
            "f",
            "v.wat",
            "0x00000000000000100000000000000020",
        ],
    );
    assert_success(&out);
    assert_eq!(stdout(&out).trim(), "0x00000000000000120000000000000021");
    let out = wamr(dir.path(), &["run", "--invoke", "f", "v.wat", "12"]);
    assert_error(&out, 1, &["`12` is not a valid v128"]);
}

/// `inspect` finds SIMD and relaxed SIMD in code, not only in signatures.
#[test]
fn inspect_lists_the_simd_a_module_uses() {
    let features = |wat: &str| {
        let dir = with_file("m.wat", wat);
        let out = wamr(dir.path(), &["inspect", "m.wat"]);
        assert_success(&out);
        let text = stdout(&out);
        let line = text.lines().find(|l| l.starts_with("features used:"));
        line.unwrap_or_default().to_string()
    };
    assert_eq!(
        features("(module (func (result i32) (i32x4.extract_lane 0 (v128.const i64x2 7 0))))"),
        "features used: mvp, simd"
    );
    assert_eq!(
        features(
            "(module (func (result i32) (i32x4.extract_lane 0
               (i8x16.relaxed_swizzle (v128.const i64x2 7 0) (v128.const i64x2 0 0)))))"
        ),
        "features used: mvp, simd, relaxed-simd"
    );
    assert_eq!(
        features("(module (func (result i32) (i32.const 1)))"),
        "features used: mvp"
    );
}
