//! Runs the WASI preview1 conformance tests in `../shared/wasi-testsuite`
//! under the interpreter tier, following each test's JSON specification.
//!
//! Each suite folder is copied to a temporary directory first, and `*.cleanup`
//! files are deleted before every test. A test's `root` folder (next to it)
//! is preopened as `/`. Tests that need sockets or http are skipped.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wamr_rs::{Linker, OutputPipe, Runtime, WasiCtxBuilder};

fn suite_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/wasi-testsuite")
}

/// Copies `from` into `to`, keeping symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ty = entry.file_type().unwrap();
        if ty.is_dir() {
            copy_tree(&src, &dst);
        } else if ty.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Removes what earlier tests left behind: every `*.cleanup` file or folder.
fn remove_cleanup_files(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let ty = entry.file_type().unwrap();
        if path.extension().is_some_and(|e| e == "cleanup") {
            if ty.is_dir() {
                fs::remove_dir_all(&path).unwrap();
            } else {
                fs::remove_file(&path).unwrap();
            }
        } else if ty.is_dir() {
            remove_cleanup_files(&path);
        }
    }
}

/// One step of a test: the plain form becomes run, wait, then reads.
#[derive(Debug)]
enum Op {
    Run {
        args: Vec<String>,
        env: Vec<(String, String)>,
        root: Option<String>,
    },
    Wait {
        exit_code: i64,
    },
    /// The next bytes of stream `id` must be `payload`.
    Read {
        id: String,
        payload: String,
    },
    /// The whole of stream `id` must be `payload` (the plain form's checks).
    ReadAll {
        id: String,
        payload: String,
    },
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn env_of(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn run_op(v: &Value) -> Op {
    Op::Run {
        args: strings(v.get("args")),
        env: env_of(v.get("env")),
        root: v.get("root").and_then(Value::as_str).map(String::from),
    }
}

/// The steps of a test, or why it is skipped.
fn plan(spec: &Value) -> Result<Vec<Op>, String> {
    let proposals = strings(spec.get("proposals"));
    if let Some(p) = proposals
        .iter()
        .find(|p| p.contains("socket") || p.contains("http"))
    {
        return Err(format!("needs the `{p}` proposal, which is out of scope"));
    }
    let Some(ops) = spec.get("operations").and_then(Value::as_array) else {
        let mut ops = vec![
            run_op(spec),
            Op::Wait {
                exit_code: spec.get("exit_code").and_then(Value::as_i64).unwrap_or(0),
            },
        ];
        for id in ["stdout", "stderr"] {
            if let Some(payload) = spec.get(id).and_then(Value::as_str) {
                ops.push(Op::ReadAll {
                    id: id.into(),
                    payload: payload.into(),
                });
            }
        }
        return Ok(ops);
    };
    ops.iter()
        .map(|op| match op.get("type").and_then(Value::as_str) {
            Some("run") => Ok(run_op(op)),
            Some("wait") => Ok(Op::Wait {
                exit_code: op.get("exit_code").and_then(Value::as_i64).unwrap_or(0),
            }),
            Some("read") => Ok(Op::Read {
                id: op
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("stdout")
                    .into(),
                payload: op
                    .get("payload")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
            }),
            other => Err(format!("operation {other:?} is not supported here")),
        })
        .collect()
}

/// What one run of a program produced.
struct Outcome {
    exit: Result<i32, String>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run(
    runtime: &Runtime,
    wasm: &Path,
    args: &[String],
    env: &[(String, String)],
    root: Option<&Path>,
) -> Result<Outcome, String> {
    let bytes = if wasm.extension().is_some_and(|e| e == "wat") {
        wat::parse_file(wasm).map_err(|e| e.to_string())?
    } else {
        fs::read(wasm).map_err(|e| e.to_string())?
    };
    let module = runtime.load(&bytes).map_err(|e| e.to_string())?;
    let (stdout, stderr) = (OutputPipe::new(), OutputPipe::new());
    let mut builder = WasiCtxBuilder::new();
    let name = wasm.file_name().unwrap().to_string_lossy().into_owned();
    builder
        .arg(name)
        .args(args.iter().cloned())
        .envs(env.iter().cloned())
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    if let Some(root) = root {
        builder.preopened_dir(root, "/");
    }
    let ctx = builder.build().map_err(|e| e.to_string())?;
    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    linker.define_wasi(ctx);
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| e.to_string())?;
    let exit = match instance.call(&mut store, "_start", &[]) {
        Ok(_) => Ok(0),
        Err(e) => match e.as_trap().and_then(|t| t.exit_code()) {
            Some(code) => Ok(code),
            None => Err(e.to_string()),
        },
    };
    Ok(Outcome {
        exit,
        stdout: stdout.take(),
        stderr: stderr.take(),
    })
}

/// Runs one test; `Err` describes the first failed check.
fn run_test(runtime: &Runtime, wasm: &Path, ops: &[Op]) -> Result<(), String> {
    let dir = wasm.parent().unwrap();
    let mut outcome: Option<Outcome> = None;
    // How much of stdout / stderr the `read` steps have consumed.
    let mut cursor = [0usize; 2];
    for op in ops {
        match op {
            Op::Run { args, env, root } => {
                let root = root.as_ref().map(|r| dir.join(r));
                outcome = Some(run(runtime, wasm, args, env, root.as_deref())?);
                cursor = [0, 0];
            }
            Op::Wait { exit_code } => {
                let out = outcome.as_ref().ok_or("`wait` before `run`")?;
                match &out.exit {
                    Ok(code) if i64::from(*code) == *exit_code => {}
                    Ok(code) => {
                        return Err(format!(
                            "exit code {code}, expected {exit_code}; stderr: {}",
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                    Err(trap) => {
                        return Err(format!(
                            "trapped ({trap}), expected exit code {exit_code}; stderr: {}",
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                }
            }
            Op::Read { id, payload } | Op::ReadAll { id, payload } => {
                let out = outcome.as_ref().ok_or("`read` before `run`")?;
                let (stream, at) = match id.as_str() {
                    "stdout" => (&out.stdout, &mut cursor[0]),
                    "stderr" => (&out.stderr, &mut cursor[1]),
                    other => return Err(format!("unknown stream `{other}`")),
                };
                let rest = &stream[(*at).min(stream.len())..];
                let ok = match op {
                    Op::ReadAll { .. } => rest == payload.as_bytes(),
                    _ => rest.starts_with(payload.as_bytes()),
                };
                if !ok {
                    return Err(format!(
                        "{id} was {:?}, expected {payload:?}",
                        String::from_utf8_lossy(rest)
                    ));
                }
                *at += payload.len();
            }
        }
    }
    Ok(())
}

#[test]
fn wasi_testsuite() {
    let root = suite_root();
    assert!(
        root.is_dir(),
        "the WASI testsuite is missing at {}",
        root.display()
    );
    let runtime = Runtime::new();
    let scratch = tempfile::tempdir().unwrap();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut suites: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    suites.sort();
    for suite in suites {
        let copy = scratch.path().join(suite.file_name().unwrap());
        copy_tree(&suite, &copy);
        let mut tests: Vec<PathBuf> = fs::read_dir(&copy)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm" || e == "wat"))
            .collect();
        tests.sort();
        for wasm in tests {
            let name = format!(
                "{}/{}",
                suite.file_name().unwrap().to_string_lossy(),
                wasm.file_stem().unwrap().to_string_lossy()
            );
            let spec_path = wasm.with_extension("json");
            let spec: Value = match fs::read_to_string(&spec_path) {
                Ok(text) => serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", spec_path.display())),
                Err(_) => Value::Object(Default::default()),
            };
            let ops = match plan(&spec) {
                Ok(ops) => ops,
                Err(why) => {
                    println!("skipped {name}: {why}");
                    skipped += 1;
                    continue;
                }
            };
            remove_cleanup_files(&copy);
            match run_test(&runtime, &wasm, &ops) {
                Ok(()) => passed += 1,
                Err(why) => {
                    println!("FAILED {name}: {why}");
                    failed += 1;
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    assert_eq!(failed, 0, "{failed} WASI tests failed");
}
