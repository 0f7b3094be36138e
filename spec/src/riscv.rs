//! Spec-derived modules compiled for RISC-V, run under qemu user emulation
//! and checked against the interpreter on this host.
//!
//! The runtime itself is not cross-built (only the host Rust target is
//! installed), so each module is compiled with `--format object`, linked
//! with the freestanding C harness in `spec/riscv/harness.c` (which builds
//! the instance from the generated header and implements the builtins and
//! the helpers), and run by `qemu-riscv32`/`qemu-riscv64`. The harness
//! fills only the helper slots the header lists, so a helper the code calls
//! but the compiler did not record crashes the run.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use wamr_rs::{CompileOptions, Config, Features, Linker, Runtime, Val, ValType};
use wast::core::{V128Pattern, WastArgCore, WastRetCore};
use wast::parser;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// One target configuration: how to compile for it, build the harness and
/// run the result.
#[derive(Debug, Clone, Copy)]
pub struct RiscvConfig {
    pub name: &'static str,
    pub target: &'static str,
    pub features: &'static str,
    pub abi: &'static str,
    pub march: &'static str,
    pub qemu: &'static str,
}

impl RiscvConfig {
    pub fn is_64(&self) -> bool {
        self.target == "riscv64"
    }

    pub fn compile_options(&self, opt_level: u8) -> Result<CompileOptions, String> {
        wamr_rs::target::compile_options(
            self.target,
            None,
            Some(self.features),
            Some(self.abi),
            opt_level,
        )
        .map_err(|e| e.to_string())
    }
}

/// The configurations issue 7 names.
pub const CONFIGS: [RiscvConfig; 5] = [
    RiscvConfig {
        name: "rv64gc/lp64d",
        target: "riscv64",
        features: "+m,+a,+f,+d,+c",
        abi: "lp64d",
        march: "rv64gc",
        qemu: "qemu-riscv64",
    },
    RiscvConfig {
        name: "rv64imac/lp64",
        target: "riscv64",
        features: "+m,+a,+c",
        abi: "lp64",
        march: "rv64imac",
        qemu: "qemu-riscv64",
    },
    RiscvConfig {
        name: "rv32imafdc/ilp32d",
        target: "riscv32",
        features: "+m,+a,+f,+d,+c",
        abi: "ilp32d",
        march: "rv32imafdc",
        qemu: "qemu-riscv32",
    },
    RiscvConfig {
        name: "rv32imac/ilp32",
        target: "riscv32",
        features: "+m,+a,+c",
        abi: "ilp32",
        march: "rv32imac",
        qemu: "qemu-riscv32",
    },
    RiscvConfig {
        name: "rv32i/ilp32",
        target: "riscv32",
        features: "",
        abi: "ilp32",
        march: "rv32i",
        qemu: "qemu-riscv32",
    },
];

/// The C compiler for the harness (any RISC-V multilib, no libc needed).
pub const CC: &str = "riscv64-unknown-elf-gcc";

/// Pages the harness reserves; the interpreter runs with the same limit,
/// so `memory.grow` must fail at the same point in both.
pub const PAGE_LIMIT: u64 = 8;

const HARNESS: &str = include_str!("../riscv/harness.c");

/// The first missing tool (with the Debian package that has it), if any.
pub fn missing_tool() -> Option<String> {
    for (tool, package) in [
        (CC, "gcc-riscv64-unknown-elf"),
        ("qemu-riscv64", "qemu-user"),
        ("qemu-riscv32", "qemu-user"),
    ] {
        let found = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("{tool} (Debian package {package})"));
        }
    }
    None
}

/// A module and the calls to make on one instance of it, in order.
#[derive(Debug, Clone)]
pub struct Case {
    /// `file.wast#n`: where the module comes from.
    pub name: String,
    pub wasm: Vec<u8>,
    pub memory64: bool,
    /// Exports the calls name, by position.
    pub exports: Vec<String>,
    pub calls: Vec<Call>,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub export: usize,
    /// Argument slots: a `v128` takes two, low half first.
    pub args: Vec<u64>,
    /// How each result slot is compared.
    pub results: Vec<Slot>,
    /// What the interpreter did.
    pub expected: Outcome,
}

/// How a result slot is compared with the interpreter's: a NaN float lane
/// matches any NaN (wasm leaves the payload open, and RISC-V makes every
/// NaN it computes the canonical one where x86 passes payloads on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Bits,
    F32,
    /// Two f32 lanes of a `v128`.
    F32x2,
    F64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Result slots (i32/f32 zero-extended bit patterns).
    Returned(Vec<u64>),
    /// A trap, by `TrapKind` code.
    Trapped(u32),
}

/// The wasm 2.0 feature set of the spec runs, with or without memory64,
/// and relaxed SIMD (which no other file's valid modules use).
fn features(memory64: bool) -> Features {
    Features {
        memory64,
        relaxed_simd: true,
        ..crate::wasm2()
    }
}

/// The cases of one wast file: every module without imports and with a
/// single memory at most, with the invocations on it whose arguments and
/// results are numbers or vectors, and the interpreter's outcome of each.
pub fn cases(file: &str, text: &str, memory64: bool) -> Result<Vec<Case>, String> {
    let buf = crate::parse_buffer(text).map_err(|e| format!("{file}: {e}"))?;
    let wast: Wast = parser::parse(&buf).map_err(|e| format!("{file}: {e}"))?;
    let config = Config::default()
        .with_features(features(memory64))
        .with_memory_page_limit(PAGE_LIMIT);
    let runtime = Runtime::with_config(config).with_compiler(wamr_rs::plugin_compiler());
    let mut out = Vec::new();
    let mut current: Option<(Case, wamr_rs::Store, wamr_rs::Instance)> = None;
    let mut index = 0;
    for directive in wast.directives {
        let (invoke, expected) = match directive {
            WastDirective::Module(QuoteWat::Wat(mut wat)) => {
                if let Some((case, ..)) = current.take() {
                    out.push(case);
                }
                index += 1;
                let Ok(wasm) = wat.encode() else { continue };
                current = instantiate(&runtime, &wasm).map(|(store, instance)| {
                    let case = Case {
                        name: format!("{file}#{index}"),
                        wasm,
                        memory64,
                        exports: Vec::new(),
                        calls: Vec::new(),
                    };
                    (case, store, instance)
                });
                continue;
            }
            WastDirective::Module(_) | WastDirective::Register { .. } => {
                if let Some((case, ..)) = current.take() {
                    out.push(case);
                }
                continue;
            }
            WastDirective::AssertReturn {
                exec: WastExecute::Invoke(invoke),
                results,
                ..
            } => (invoke, results),
            WastDirective::AssertTrap {
                exec: WastExecute::Invoke(invoke),
                ..
            }
            | WastDirective::AssertExhaustion { call: invoke, .. }
            | WastDirective::Invoke(invoke) => (invoke, Vec::new()),
            _ => continue,
        };
        let Some((case, store, instance)) = current.as_mut() else {
            continue;
        };
        if invoke.module.is_some() {
            continue;
        }
        if let Some(call) = record(case, store, *instance, &invoke, &expected) {
            case.calls.push(call);
        }
    }
    if let Some((case, ..)) = current.take() {
        out.push(case);
    }
    out.retain(|c| !c.calls.is_empty());
    Ok(out)
}

/// Instantiates `wasm` in the interpreter if the harness can host it.
fn instantiate(runtime: &Runtime, wasm: &[u8]) -> Option<(wamr_rs::Store, wamr_rs::Instance)> {
    let module = runtime.load(wasm).ok()?;
    let hostable = module.imports().is_empty()
        && module.memories().len() <= 1
        && module.start().is_none()
        && module.num_imported_globals() == 0;
    if !hostable {
        return None;
    }
    let mut store = runtime.new_store();
    let instance = Linker::new().instantiate(&mut store, &module).ok()?;
    Some((store, instance))
}

/// Runs `invoke` in the interpreter and records it, if its values are
/// numbers; `results` (what the wast file expects, if it says) gives the
/// lane shape of `v128` results.
fn record(
    case: &mut Case,
    store: &mut wamr_rs::Store,
    instance: wamr_rs::Instance,
    invoke: &WastInvoke<'_>,
    results: &[WastRet<'_>],
) -> Option<Call> {
    let args: Vec<Val> = invoke.args.iter().map(number).collect::<Option<_>>()?;
    let func = instance.func(store, invoke.name)?;
    let ty = store.func(func).ty().clone();
    let numeric = |t: &ValType| {
        matches!(
            t,
            ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64 | ValType::V128
        )
    };
    let slots = |types: &[ValType]| types.iter().map(|t| t.slots()).sum::<usize>();
    // The harness passes values in an array of 64 slots.
    if !ty.results().iter().all(numeric) || slots(ty.params()) > 60 || slots(ty.results()) > 60 {
        return None;
    }
    let mut compare = Vec::new();
    for (i, t) in ty.results().iter().enumerate() {
        compare.extend_from_slice(match t {
            ValType::F32 => &[Slot::F32][..],
            ValType::F64 => &[Slot::F64],
            ValType::V128 => match results.get(i).and_then(v128_pattern) {
                Some(V128Pattern::F32x4(_)) => &[Slot::F32x2, Slot::F32x2],
                Some(V128Pattern::F64x2(_)) => &[Slot::F64, Slot::F64],
                _ => &[Slot::Bits, Slot::Bits],
            },
            _ => &[Slot::Bits],
        });
    }
    let expected = match instance.call(store, invoke.name, &args) {
        Ok(values) => {
            let mut out = vec![0; slots(ty.results())];
            Val::write_all_slots(&values, &mut out);
            Outcome::Returned(out)
        }
        Err(wamr_rs::Error::Trap(t)) => Outcome::Trapped(t.kind() as u32),
        Err(_) => return None,
    };
    let export = match case.exports.iter().position(|e| e == invoke.name) {
        Some(i) => i,
        None => {
            case.exports.push(invoke.name.to_string());
            case.exports.len() - 1
        }
    };
    let mut arg_slots = vec![0; slots(ty.params())];
    Val::write_all_slots(&args, &mut arg_slots);
    Some(Call {
        export,
        args: arg_slots,
        results: compare,
        expected,
    })
}

/// The `v128` pattern of an expected result (the first alternative of an
/// `either`).
fn v128_pattern<'a>(ret: &'a WastRet<'_>) -> Option<&'a V128Pattern> {
    let WastRet::Core(core) = ret else {
        return None;
    };
    match core {
        WastRetCore::V128(p) => Some(p),
        WastRetCore::Either(alternatives) => match alternatives.first()? {
            WastRetCore::V128(p) => Some(p),
            _ => None,
        },
        _ => None,
    }
}

fn number(arg: &WastArg<'_>) -> Option<Val> {
    let WastArg::Core(arg) = arg else { return None };
    Some(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        _ => return None,
    })
}

/// Compiles `case` for `cfg`, links it with the harness in `dir`, runs it
/// under qemu and compares every call with the interpreter's outcome.
/// Returns the helpers the code was compiled to call.
pub fn run_case(
    case: &Case,
    cfg: &RiscvConfig,
    runtime: &Runtime,
    dir: &Path,
) -> Result<Vec<String>, String> {
    let options = cfg.compile_options(2)?;
    let aot = runtime
        .precompile(&case.wasm, &options, 1, None)
        .map_err(|e| format!("compile: {e}"))?;
    let image = wamr_rs::AotImage::from_bytes(&aot).map_err(|e| e.to_string())?;
    let kit = wamr_rs::embed::embed_kit(&image, "m").map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("cannot write {name}: {e}"))
    };
    write("m.o", &kit.object)?;
    write("m.h", kit.header.as_bytes())?;
    write("harness.c", HARNESS.as_bytes())?;
    write("main.c", main_c(case).as_bytes())?;
    let exe = dir.join("main");
    // At -O0: compiling the harness takes most of a run, twice as long at
    // -O1, and what it runs is a few calls.
    let built = Command::new(CC)
        .current_dir(dir)
        .args([
            &format!("-march={}", cfg.march),
            &format!("-mabi={}", cfg.abi),
            "-O0",
            "-ffreestanding",
            "-fno-builtin",
            "-nostdlib",
            "-static",
            "-mno-relax",
            "-Wl,--no-relax",
            "-o",
            "main",
            "main.c",
            "m.o",
            "-lgcc",
        ])
        .output()
        .map_err(|e| format!("cannot run {CC}: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "building the harness failed:\n{}",
            String::from_utf8_lossy(&built.stderr)
        ));
    }
    let ran = Command::new(cfg.qemu)
        .arg(&exe)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cfg.qemu))?;
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let mut problems = Vec::new();
    for (i, call) in case.calls.iter().enumerate() {
        let Some(line) = lines.get(i) else {
            problems.push(format!(
                "call {i} ({}) and later: no output (exit {:?}, stderr {})",
                case.exports[call.export],
                ran.status.code(),
                String::from_utf8_lossy(&ran.stderr).trim()
            ));
            break;
        };
        if !outcome_matches(call, line) {
            problems.push(format!(
                "call {i}: {}({}) gave `{line}`, the interpreter {:?}",
                case.exports[call.export],
                call.args
                    .iter()
                    .map(|a| format!("{a:#x}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                call.expected
            ));
        }
    }
    if !ran.status.success() && problems.is_empty() {
        problems.push(format!("the harness exited with {:?}", ran.status.code()));
    }
    if problems.is_empty() {
        Ok(image.meta.helpers.clone())
    } else {
        problems.truncate(8);
        Err(problems.join("\n"))
    }
}

/// Whether a harness output line is the interpreter's outcome; NaN results
/// match any NaN of their type (wasm leaves the payload open).
fn outcome_matches(call: &Call, line: &str) -> bool {
    let mut words = line.split(' ');
    match (&call.expected, words.next()) {
        (Outcome::Trapped(code), Some("trap")) => words.next() == Some(&code.to_string()),
        (Outcome::Returned(values), Some("ok")) => {
            let got: Vec<u64> = words
                .filter_map(|w| u64::from_str_radix(w, 16).ok())
                .collect();
            got.len() == values.len()
                && got
                    .iter()
                    .zip(values)
                    .zip(&call.results)
                    .all(|((&g, &e), t)| same_value(*t, g, e))
        }
        _ => false,
    }
}

fn same_value(slot: Slot, got: u64, expected: u64) -> bool {
    let f32_lane = |got: u64, expected: u64| {
        let nan = |b: u64| f32::from_bits(b as u32).is_nan();
        got as u32 == expected as u32 || (nan(got) && nan(expected))
    };
    match slot {
        Slot::F32 => got == expected || f32_lane(got, expected),
        Slot::F32x2 => f32_lane(got, expected) && f32_lane(got >> 32, expected >> 32),
        Slot::F64 => {
            let nan = |b: u64| f64::from_bits(b).is_nan();
            got == expected || (nan(got) && nan(expected))
        }
        Slot::Bits => got == expected,
    }
}

/// The harness's main file for `case`: its exports and calls as data.
fn main_c(case: &Case) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "#include \"m.h\"\n#define PAGE_LIMIT {PAGE_LIMIT}u");
    let _ = writeln!(
        c,
        "struct invocation {{ uint16_t func; uint8_t nargs, nresults; const uint64_t *args; }};"
    );
    let config = Config::default().with_features(features(case.memory64));
    let symbols = wamr_rs::Module::new(&config, &case.wasm)
        .map(|m| wamr_rs::embed::export_symbols(&m, "m"))
        .unwrap_or_default();
    let entries: Vec<String> = case
        .exports
        .iter()
        .map(|e| {
            symbols
                .iter()
                .find(|s| s.export == *e)
                .map_or("0".to_string(), |s| s.symbol.clone())
        })
        .collect();
    let _ = writeln!(
        c,
        "static const wamr_array_call_fn exports[] = {{{}}};",
        entries.join(", ")
    );
    for (i, call) in case.calls.iter().enumerate() {
        let args: Vec<String> = call.args.iter().map(|a| format!("{a:#x}ull")).collect();
        let _ = writeln!(
            c,
            "static const uint64_t args{i}[] = {{{}}};",
            if args.is_empty() {
                "0".into()
            } else {
                args.join(",")
            }
        );
    }
    let _ = writeln!(c, "static const struct invocation invocations[] = {{");
    for (i, call) in case.calls.iter().enumerate() {
        let _ = writeln!(
            c,
            "  {{{}, {}, {}, args{i}}},",
            call.export,
            call.args.len(),
            call.results.len()
        );
    }
    let _ = writeln!(
        c,
        "}};\n#define INVOCATION_COUNT {}\n#include \"harness.c\"",
        case.calls.len()
    );
    c
}
