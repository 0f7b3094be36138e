//! The compile driver: a validated wasm module to object code for a target,
//! through translation, LLVM's optimisation pipeline and codegen; and the
//! whole way to `.aot` bytes.
//!
//! A module's defined functions are split into contiguous chunks of about
//! equal code size, each compiled in its own LLVM context on its own thread;
//! `link_objects` joins the objects into one blob. Contiguous, because
//! producers emit related functions next to each other and LLVM inlines
//! only within a chunk.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use inkwell::OptimizationLevel;
use inkwell::context::Context;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::FileType;
use wamr_aot::target::{Arch, Capabilities};
use wamr_aot::{
    AotImage, AotMeta, COMPILER_VERSION, CompileJob, CompileOptions, FunctionEntry, HostTarget,
    OsrFuncs,
};
use wamr_runtime::helpers::Helper;
use wamr_runtime::{Config, Module};

use crate::link::{LinkError, link_objects};
use crate::translate::{
    TranslateError, func_symbol, osr_symbol, trampoline_symbol, translate_module,
};

#[derive(Debug, thiserror::Error)]
pub enum CompileFailure {
    #[error("invalid module: {0}")]
    Module(#[from] wamr_runtime::Error),
    #[error(transparent)]
    Translate(#[from] TranslateError),
    #[error(transparent)]
    Target(#[from] crate::CompileError),
    #[error("generated IR failed verification: {0}")]
    Verify(String),
    #[error("LLVM failed: {0}")]
    Llvm(String),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("compiled code lacks symbol `{0}`")]
    MissingSymbol(String),
    #[error(transparent)]
    Container(#[from] wamr_aot::ContainerError),
}

/// LLVM's inliner threshold at -O3, in place of its default of 250. A wasm
/// call costs compiled code more than a native call does (the prologue's
/// stack check, the trap-flag check after it, callee-popped `tailcc`
/// arguments, and values that the wasm passes through linear memory which
/// only inlining lets stay in registers), so inlining pays off sooner.
/// Measured: CoreMark +2% (33,200 to 33,900, the same at every code
/// placement), Sightglass geometric mean -1% run time, compile time +10%.
const O3_INLINE_THRESHOLD: i32 = 500;

fn pass_options(opt_level: u8) -> PassBuilderOptions {
    let options = PassBuilderOptions::create();
    if opt_level >= 3 {
        // SAFETY: `options` is a live pass-builder options object, which
        // this call only configures.
        unsafe {
            inkwell::llvm_sys::transforms::pass_builder::LLVMPassBuilderOptionsSetInlinerThreshold(
                options.as_mut_ptr(),
                O3_INLINE_THRESHOLD,
            );
        }
    }
    options
}

/// `cpu` as LLVM gets it: `native` means the host's best verifiable level.
pub fn resolve_cpu(opts: &CompileOptions) -> CompileOptions {
    let mut resolved = opts.clone();
    if resolved.cpu == "native" {
        resolved.cpu = HostTarget::detect().native_cpu().to_string();
    }
    resolved
}

/// Set in its environment, the compiler aborts the process on every
/// compile, as LLVM does on one of its own bugs: a test hook, for tests that
/// the host outlives a compiler crash.
pub const CRASH_FOR_TESTS: &str = "WAMR_TEST_COMPILER_CRASH";

/// Compiles `job.wasm` into the bytes of an `.aot` file.
pub fn compile_aot(job: &CompileJob<'_>) -> Result<Vec<u8>, CompileFailure> {
    if std::env::var_os(CRASH_FOR_TESTS).is_some() {
        // What LLVM does on a bug of its own (an assertion ends in abort).
        std::process::abort();
    }
    let config = Config::default().with_features(job.features.to_runtime());
    // The one validator (contract 1): the same code the loader runs.
    let module = Module::new(&config, job.wasm)?;
    let opts = resolve_cpu(job.options);
    let started = std::time::Instant::now();
    let objects = compile_objects(&module, &opts, job.threads, job.osr, job.progress)?;
    let linked = link_objects(
        &objects
            .iter()
            .map(|o| o.bytes.as_slice())
            .collect::<Vec<_>>(),
    )?;
    let helpers: std::collections::BTreeSet<Helper> = objects
        .iter()
        .flat_map(|o| o.helpers.iter().copied())
        .collect();
    let find = |name: String| {
        linked
            .symbols
            .get(&name)
            .copied()
            .ok_or(CompileFailure::MissingSymbol(name))
    };
    let mut entries = Vec::new();
    for index in module.num_imported_funcs()..module.num_funcs() {
        entries.push(FunctionEntry {
            native: find(func_symbol(index))?,
            array_call: find(trampoline_symbol(index))?,
            osr: linked.symbols.get(&osr_symbol(index)).copied(),
        });
    }
    let meta = AotMeta {
        compiler_version: COMPILER_VERSION.to_string(),
        triple: opts.triple.clone(),
        cpu: opts.cpu.clone(),
        features: opts.features.clone(),
        abi: opts.abi.clone(),
        opt_level: opts.opt_level.min(3),
        wasm_features: job.features,
        helpers: helpers.iter().map(|h| h.name().to_string()).collect(),
    };
    let bytes = AotImage::new(meta, job.wasm, &linked.blob, entries)
        .with_fault_sites(linked.fault_sites.clone())
        .to_bytes()?;
    tracing::debug!(
        functions = module.num_funcs() - module.num_imported_funcs(),
        objects = objects.len(),
        code_bytes = linked.blob.len(),
        elapsed = ?started.elapsed(),
        "compiled module"
    );
    Ok(bytes)
}

/// A relocatable object of compiled functions, and the runtime helpers its
/// code calls.
#[derive(Debug, Clone)]
pub struct CompiledObject {
    pub bytes: Vec<u8>,
    pub helpers: BTreeSet<Helper>,
}

/// Compiles every defined function of `module` into one object per chunk,
/// on `threads` threads (0: one per core).
pub fn compile_objects(
    module: &Module,
    opts: &CompileOptions,
    threads: usize,
    osr: OsrFuncs<'_>,
    progress: Option<&(dyn Fn(u32, u32) + Sync)>,
) -> Result<Vec<CompiledObject>, CompileFailure> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let chunks = chunks(module, CHUNK_BYTES);
    let total = module.num_funcs() - module.num_imported_funcs();
    if chunks.len() <= 1 {
        let object = compile_object(
            module,
            opts,
            module.num_imported_funcs()..module.num_funcs(),
            osr,
        )?;
        if let Some(report) = progress {
            report(total, total);
        }
        return Ok(vec![object]);
    }
    // Backends are initialised once, before any thread uses them.
    crate::init_backends();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    type Slot = Option<Result<CompiledObject, CompileFailure>>;
    let results: Mutex<Vec<Slot>> = Mutex::new((0..chunks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(chunks.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(range) = chunks.get(i) else { break };
                    let result = compile_object(module, opts, range.clone(), osr);
                    let failed = result.is_err();
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                    let finished = done.fetch_add(range.len(), Ordering::Relaxed) + range.len();
                    if let Some(report) = progress {
                        report(finished as u32, total);
                    }
                    if failed {
                        // Stop handing out work; the first error is reported.
                        next.store(chunks.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.into_iter().flatten().collect()
}

/// Code bytes per LLVM module compiled on its own. Calls across modules
/// cannot be inlined (on CoreMark, two halves instead of one cost 10%), so
/// only large modules are split. The split depends on the module alone,
/// never on the thread count, so every compile of a module (ahead of time
/// or for tier-up) yields the same code.
const CHUNK_BYTES: u64 = 128 << 10;

/// Contiguous ranges of defined function indices with about equal body
/// bytes, one per `chunk_bytes` of code.
fn chunks(module: &Module, chunk_bytes: u64) -> Vec<Range<u32>> {
    let first = module.num_imported_funcs();
    let end = module.num_funcs();
    let size = |index: u32| module.func_body(index).map_or(0, |b| b.range.len() as u64) + 16;
    let total: u64 = (first..end).map(size).sum();
    let wanted = total
        .div_ceil(chunk_bytes)
        .clamp(1, u64::from(end - first).max(1));
    let target = total.div_ceil(wanted);
    let mut ranges = Vec::new();
    let mut start = first;
    let mut acc = 0;
    for index in first..end {
        acc += size(index);
        if acc >= target && ranges.len() + 1 < wanted as usize {
            ranges.push(start..index + 1);
            start = index + 1;
            acc = 0;
        }
    }
    if start < end || ranges.is_empty() {
        ranges.push(start..end);
    }
    ranges
}

/// Compiles the defined functions `functions` of `module` to a relocatable
/// object for `opts`' target.
pub fn compile_object(
    module: &Module,
    opts: &CompileOptions,
    functions: Range<u32>,
    osr: OsrFuncs<'_>,
) -> Result<CompiledObject, CompileFailure> {
    let level = match opts.opt_level {
        0 => OptimizationLevel::None,
        1 => OptimizationLevel::Less,
        2 => OptimizationLevel::Default,
        _ => OptimizationLevel::Aggressive,
    };
    let opts = resolve_cpu(opts);
    let machine = crate::target_machine(&opts.triple, &opts.cpu, &opts.features, &opts.abi, level)?;
    let cx = Context::create();
    let llvm = cx.create_module("wasm");
    llvm.set_triple(&machine.get_triple());
    llvm.set_data_layout(&machine.get_target_data().get_data_layout());
    let options = crate::translate::Options {
        inline_rounding: !has_rounding_instructions(&opts),
        memory32_guard: wamr_aot::target::guards_memory32(&opts.triple),
        fma: has_fma(&opts),
    };
    translate_module(&cx, &llvm, module, functions.clone(), options, osr)?;
    let arch = Arch::parse(&opts.triple).map(|(arch, _)| arch);
    let mut helpers = match options.fma {
        true => BTreeSet::new(),
        false => crate::legalize::fma_through_helper(&cx, &llvm, arch == Ok(Arch::Riscv64))?,
    };
    // A debugging aid: `WAMR_AOT_DUMP_IR=file` writes the unoptimised IR
    // (of the chunk starting at the first defined function).
    if functions.start == module.num_imported_funcs()
        && let Some(path) = std::env::var_os("WAMR_AOT_DUMP_IR")
        && let Err(e) = std::fs::write(&path, llvm.print_to_string().to_string())
    {
        let path = std::path::Path::new(&path).display().to_string();
        tracing::warn!("cannot write IR to {path}: {e}");
    }
    llvm.verify()
        .map_err(|e| CompileFailure::Verify(e.to_string()))?;
    let passes = format!("default<O{}>", opts.opt_level.min(3));
    llvm.run_passes(&passes, &machine, pass_options(opts.opt_level))
        .map_err(|e| CompileFailure::Llvm(e.to_string()))?;
    if options.memory32_guard {
        crate::translate::retag_folded_stores(&cx, &llvm)?;
    }
    if let Ok(arch @ (Arch::Riscv32 | Arch::Riscv64)) = arch {
        let caps = Capabilities::of(&opts);
        if !caps.mul && opts.opt_level > 0 {
            // Loop strength reduction, which code generation runs after
            // this rewrite, multiplies strides by constants (LLVM expands
            // only some constants into shifts). Run here first, its
            // multiplies are rewritten too; a second run finds the loops
            // already reduced.
            llvm.run_passes("loop-reduce", &machine, PassBuilderOptions::create())
                .map_err(|e| CompileFailure::Llvm(e.to_string()))?;
        }
        helpers.extend(crate::legalize::legalize(
            &cx,
            &llvm,
            caps,
            arch == Arch::Riscv64,
        )?);
    }
    let buffer = machine
        .write_to_memory_buffer(&llvm, FileType::Object)
        .map_err(|e| CompileFailure::Llvm(e.to_string()))?;
    Ok(CompiledObject {
        bytes: buffer.as_slice().to_vec(),
        helpers,
    })
}

/// Whether the target rounds floats in hardware (SSE4.1's `roundss`);
/// elsewhere LLVM would call `ceilf` and friends.
fn has_rounding_instructions(opts: &CompileOptions) -> bool {
    if !opts.triple.starts_with("x86_64") {
        return false;
    }
    let level_has_it = matches!(opts.cpu.as_str(), "x86-64-v2" | "x86-64-v3" | "x86-64-v4");
    let features: Vec<&str> = opts.features.split(',').map(str::trim).collect();
    if features.contains(&"-sse4.1") {
        return false;
    }
    level_has_it
        || ["+sse4.1", "+sse4.2", "+avx", "+avx2", "+avx512f"]
            .iter()
            .any(|f| features.contains(f))
}

/// Whether `opts`' target fuses multiply-add in hardware: x86_64 from
/// x86-64-v3 or with `+fma`, RISC-V with F and D.
fn has_fma(opts: &CompileOptions) -> bool {
    let features: Vec<&str> = opts.features.split(',').map(str::trim).collect();
    match Arch::parse(&opts.triple) {
        Ok((Arch::X86_64, _)) => {
            !features.contains(&"-fma")
                && (matches!(opts.cpu.as_str(), "x86-64-v3" | "x86-64-v4")
                    || features.contains(&"+fma"))
        }
        Ok(_) => {
            let caps = Capabilities::of(opts);
            caps.f32 && caps.f64
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(funcs: usize) -> Module {
        let body = "(func (result i32) i32.const 1)".repeat(funcs);
        let wat = format!("(module (import \"m\" \"f\" (func)) {body})");
        Module::new(&Config::default(), &wat::parse_str(wat).unwrap()).unwrap()
    }

    #[test]
    fn chunks_cover_every_defined_function_once() {
        // Each function is 20 bytes here (body and per-function allowance).
        for (funcs, chunk_bytes, wanted) in
            [(1, 5, 1), (7, 70, 2), (10, 70, 3), (3, 100, 1), (0, 1, 1)]
        {
            let m = module(funcs);
            let ranges = chunks(&m, chunk_bytes);
            assert_eq!(ranges.len(), wanted, "{ranges:?}");
            let covered: Vec<u32> = ranges.iter().flat_map(Clone::clone).collect();
            assert_eq!(
                covered,
                (1..=funcs as u32).collect::<Vec<_>>(),
                "{ranges:?}"
            );
        }
        assert_eq!(chunks(&module(10), 100), [1..6, 6..11]);
        assert_eq!(chunks(&module(10), CHUNK_BYTES), vec![(1..11)]);
    }
}
