//! `wamr-rs aot` and running the `.aot` files it writes, through the built
//! binary: targets and flags, and corrupt or foreign files rejected with
//! one clear line (never a crash).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wamr(args: &[&str]) -> Output {
    // An empty code cache of its own: never the user's.
    let cache = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_wamr-rs"))
        .args(args)
        .env_remove("RUST_LOG")
        .env("WAMR_CACHE_DIR", cache.path())
        .output()
        .expect("the wamr-rs binary runs")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_error(out: &Output, code: i32, needles: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` missing from: {err}");
    }
}

/// Compiles `source` with extra `flags` into `dir/name`; returns its path.
#[track_caller]
fn compile(dir: &Path, name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let out_path = dir.join(name);
    let mut args = vec!["aot", "-o", out_path.to_str().unwrap()];
    args.extend(flags);
    args.push(source);
    let out = wamr(&args);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("compiled"),
        "{}",
        text(&out.stderr)
    );
    out_path
}

#[test]
fn compiled_files_run_for_every_x86_64_level() {
    let dir = tempfile::tempdir().unwrap();
    let host = wamr_rs::HostTarget::detect();
    for (name, flags) in [
        (
            "base.aot",
            &["--opt-level", "3", "--target", "x86_64", "--cpu", "x86-64"][..],
        ),
        ("sse41.aot", &["--cpu-features", "+sse4.1"]),
        ("v3.aot", &["--cpu", "x86-64-v3", "--opt-level", "1"]),
        ("o0.aot", &["--opt-level", "0", "--threads", "1"]),
    ] {
        let fib = compile(dir.path(), name, &example("fib.wat"), flags);
        let out = wamr(&["run", "--invoke", "fib", fib.to_str().unwrap(), "20"]);
        let needs_v3 = name == "v3.aot" && host.native_cpu() < "x86-64-v3";
        if needs_v3 || (name == "sse41.aot" && !host.has_feature("sse4.1")) {
            assert_error(&out, 1, &["lacks"]);
        } else {
            assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout), "6765\n");
        }
    }
}

#[test]
fn a_wasi_program_runs_from_its_aot_file() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compile(dir.path(), "hello.aot", &example("hello.wat"), &[]);
    let out = wamr(&["run", hello.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
    // The interpreter runs the same file from the wasm inside it.
    let out = wamr(&["run", "--tier", "interp", hello.to_str().unwrap()]);
    assert_eq!(text(&out.stdout), "hello\n");
}

#[test]
fn bad_targets_and_flags_are_refused_before_compiling() {
    let fib = example("fib.wat");
    let out = |flags: &[&str]| {
        let mut args = vec!["aot", "-o", "/nonexistent/never-written.aot"];
        args.extend(flags);
        args.push(&fib);
        wamr(&args)
    };
    assert_error(&out(&["--target", "mips"]), 1, &["unknown target `mips`"]);
    assert_error(&out(&["--cpu", "pentium9"]), 1, &["unknown CPU `pentium9`"]);
    assert_error(
        &out(&["--cpu-features", "+sse9"]),
        1,
        &["unknown CPU feature `sse9`"],
    );
    assert_error(&out(&["--opt-level", "4"]), 2, &["4"]);
    let rv32 = |features: &str, abi: &str| {
        out(&[
            "--target",
            "riscv32",
            "--cpu-features",
            features,
            "--target-abi",
            abi,
        ])
    };
    assert_error(&rv32("+m,+a,+f", "ilp32d"), 1, &["`ilp32d`", "add `+d`"]);
    assert_error(
        &rv32("+m,+d", "lp64d"),
        1,
        &["unknown ABI `lp64d` for riscv32", "ilp32, ilp32f, ilp32d"],
    );
    assert_error(&rv32("+m,+v", "ilp32"), 1, &["unknown CPU feature `v`"]);
    assert_error(&out(&["--target-abi", "ilp32"]), 1, &["x86_64 has one ABI"]);
    assert_error(&out(&["--format", "elf"]), 2, &["elf"]);
}

#[test]
fn object_format_writes_an_elf_object_and_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let obj = compile(
        dir.path(),
        "fib-kit.o",
        &example("fib.wat"),
        &[
            "--target",
            "riscv32",
            "--cpu-features",
            "+m,+c",
            "--format",
            "object",
        ],
    );
    let bytes = std::fs::read(&obj).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(bytes[4], 1, "ELFCLASS32");
    let header = std::fs::read_to_string(dir.path().join("fib-kit.h")).unwrap();
    // Named after the file, with the export's entry and the module's facts.
    assert!(
        header.contains("void fib_kit_fib(struct wamr_vmctx *vmctx, uint64_t *values);"),
        "{header}"
    );
    assert!(
        header.contains("#define FIB_KIT_HELPER_COUNT 0"),
        "{header}"
    );
    assert!(header.contains("_Static_assert(offsetof(struct wamr_vmctx, builtins) == 40"));
    // Soft-float riscv32 needs helpers, and the header lists them.
    let float = dir.path().join("float.wat");
    std::fs::write(
        &float,
        "(module (func (export \"half\") (param f64) (result f64) (f64.div (local.get 0) (f64.const 3))))",
    )
    .unwrap();
    compile(
        dir.path(),
        "soft.o",
        float.to_str().unwrap(),
        &[
            "--target", "riscv32", "--format", "object", "--name", "soft",
        ],
    );
    let header = std::fs::read_to_string(dir.path().join("soft.h")).unwrap();
    assert!(
        header.contains("static const uint16_t soft_helpers[] = {WAMR_HELPER_F64_DIV};"),
        "{header}"
    );
    let inspect = wamr(&["inspect", dir.path().join("fib-kit.o").to_str().unwrap()]);
    assert_ne!(inspect.status.code(), Some(0), "an object is not a module");
}

#[test]
fn an_aot_file_for_another_target_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rv = compile(
        dir.path(),
        "rv.aot",
        &example("fib.wat"),
        &["--target", "riscv64", "--cpu-features", "+m,+a,+f,+d,+c"],
    );
    let out = wamr(&["run", "--invoke", "fib", rv.to_str().unwrap(), "3"]);
    assert_error(&out, 1, &["compiled for riscv64", "this host is x86_64"]);
    // `inspect` reads any target's header.
    let out = wamr(&["inspect", rv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("abi `lp64d`") && shown.contains("runtime helpers (0): none"),
        "{shown}"
    );
}

#[test]
fn corrupt_and_truncated_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = compile(dir.path(), "good.aot", &example("fib.wat"), &[]);
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.path().join("bad.aot");
    let bad_arg = bad.to_str().unwrap();
    // Truncated at the fixed header's fields, in the variable header, and
    // at many points through the sections.
    let mut cuts = vec![0, 4, 8, 12, 20, 51, 52, 60, 100];
    cuts.extend((1..24).map(|i| bytes.len() * i / 24));
    cuts.push(bytes.len() - 1);
    for cut in cuts {
        std::fs::write(&bad, &bytes[..cut]).unwrap();
        let out = wamr(&["run", "--invoke", "fib", bad_arg, "3"]);
        assert_error(&out, 1, &[]);
    }
    // A flipped bit anywhere.
    for i in (0..bytes.len()).step_by(bytes.len() / 40) {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x10;
        std::fs::write(&bad, &flipped).unwrap();
        let out = wamr(&["run", "--invoke", "fib", bad_arg, "3"]);
        assert_error(&out, 1, &[]);
    }
    let mut longer = bytes.clone();
    longer.push(0);
    std::fs::write(&bad, &longer).unwrap();
    assert_error(
        &wamr(&["run", "--invoke", "fib", bad_arg, "3"]),
        1,
        &["header records"],
    );
}

#[test]
fn an_aot_file_is_not_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let fib = compile(dir.path(), "fib.aot", &example("fib.wat"), &[]);
    let out = wamr(&["aot", "-o", "again.aot", fib.to_str().unwrap()]);
    assert_error(&out, 1, &["is an .aot file"]);
}

#[test]
fn perf_map_names_the_compiled_functions() {
    let child = Command::new(env!("CARGO_BIN_EXE_wamr-rs"))
        .args([
            "run",
            "--no-cache",
            "--tier",
            "aot",
            "--invoke",
            "fib",
            &example("fib.wat"),
            "10",
        ])
        .env("WAMR_PERF_MAP", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the wamr-rs binary runs");
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout).trim(), "55");
    let lines = std::fs::read_to_string(&map).expect("the perf map was written");
    std::fs::remove_file(&map).unwrap();
    // `ADDR SIZE NAME`, hex numbers, the function by its name-section name.
    let fib = lines
        .lines()
        .find(|l| l.ends_with(" wasm fib"))
        .unwrap_or_else(|| panic!("no line for fib in:\n{lines}"));
    let fields: Vec<&str> = fib.splitn(3, ' ').collect();
    assert!(u64::from_str_radix(fields[0], 16).unwrap() > 0, "{fib}");
    assert!(u64::from_str_radix(fields[1], 16).unwrap() > 0, "{fib}");
    assert!(lines.contains(" wasm fib (array call)"), "{lines}");
}
