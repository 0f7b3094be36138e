//! `wamr-rs run`: instantiate a module with WASI and run its `_start`, or
//! call one export with `--invoke`. Flags follow wasmtime's where they overlap.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use clap::builder::RangedU64ValueParser;
use wamr_rs::{
    Config, Error, ExternKind, FuncType, Linker, Runtime, Tier, Trap, WasiCtx, WasiCtxBuilder,
};

use crate::{input, values};

#[derive(Args)]
pub struct RunArgs {
    /// Execution tier: interp, aot or auto (default: aot for .aot files, else auto).
    #[arg(long, value_name = "TIER")]
    tier: Option<Tier>,
    /// `--tier auto`: calls plus loop back-edges a module runs in the interpreter before it is compiled.
    #[arg(long, value_name = "N")]
    tier_up_threshold: Option<u64>,
    /// `--tier auto`: compiler threads (default: one fewer than the cores, at least one).
    #[arg(long, value_name = "N")]
    compiler_threads: Option<usize>,
    /// Print to stderr what was compiled, when, and how long it took, and what the code cache did.
    #[arg(long)]
    tier_stats: bool,
    /// Neither use nor fill the code cache (see `wamr-rs cache`).
    #[arg(long)]
    no_cache: bool,
    /// Give the guest a host directory, under the name GUEST (default: HOST as written). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Set a guest environment variable; NAME alone passes the host's value. Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    envs: Vec<String>,
    /// Call this export instead of `_start`; ARGS are parsed as its parameters and results printed one per line.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Cap on every linear memory, in 64 KiB pages (default: memory32 4 GiB, memory64 262144 pages, 16 GiB).
    #[arg(long, value_name = "PAGES")]
    memory_page_limit: Option<u64>,
    /// Bytes of value stack wasm code may use, up to 1 GiB; deeper recursion traps ("call stack exhausted").
    #[arg(long, value_name = "BYTES",
          value_parser = RangedU64ValueParser::<usize>::new().range(..=Config::MAX_STACK_BYTES as u64))]
    max_stack: Option<usize>,
    /// Define no-op `bench.start` and `bench.end` imports (the Sightglass benchmark markers).
    #[arg(long)]
    bench_markers: bool,
    /// The module (.wasm or .wat).
    file: PathBuf,
    /// Arguments for the program (after its name), or for `--invoke`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// Runs the module; `Ok` carries the program's exit status. A trap comes
/// back as an error holding a [`wamr_rs::Error::Trap`] (see [`is_trap`]).
pub fn run(args: RunArgs) -> Result<u8> {
    match execute(&args) {
        Ok(()) => Ok(0),
        Err(e) => match as_trap(&e).and_then(Trap::exit_code) {
            Some(code) => Ok(exit_status(code)),
            None => Err(e),
        },
    }
}

/// Whether `e` is wasm code trapping, as opposed to the run failing to start.
pub fn is_trap(e: &anyhow::Error) -> bool {
    as_trap(e).is_some()
}

fn as_trap(e: &anyhow::Error) -> Option<&Trap> {
    e.downcast_ref::<Error>().and_then(Error::as_trap)
}

/// A WASI exit code as a process status. Codes a process cannot report
/// (outside 0..=255) become 1 rather than being truncated, so that a
/// failure never turns into a success.
fn exit_status(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(1)
}

/// The hidden command that runs a compile for a parent `wamr-rs`.
const COMPILE_WORKER: &str = "compile-worker";

/// `wamr-rs compile-worker`: one compile, from stdin to stdout, with the
/// LLVM plugin.
pub fn compile_worker(parent: Option<u32>) -> Result<()> {
    wamr_rs::worker::serve_parent(parent).map_err(|e| anyhow::anyhow!("compile worker: {e}"))
}

fn execute(args: &RunArgs) -> Result<()> {
    let mut config = Config {
        memory_page_limit: args.memory_page_limit,
        ..Config::default()
    };
    if let Some(bytes) = args.max_stack {
        config.max_stack_bytes = bytes;
    }
    if let Some(threshold) = args.tier_up_threshold {
        config.tier_up.threshold = threshold;
    }
    if let Some(threads) = args.compiler_threads {
        config.tier_up.compiler_threads = threads;
    }
    if !args.no_cache {
        config.code_cache = crate::cache::config();
    }
    let tier = match args.tier {
        Some(tier) => tier,
        None if input::is_aot(&args.file) => Tier::Aot,
        None => Tier::Auto,
    };
    let mut runtime = Runtime::with_config(config);
    if tier == Tier::Auto
        && let Ok(exe) = std::env::current_exe()
    {
        // Tier-up compiles in a child process: LLVM's memory traffic in
        // this address space would slow the program (see `worker`).
        let parent = std::process::id().to_string();
        let worker =
            wamr_rs::worker::ProcessCompiler::new(exe, [COMPILE_WORKER, "--parent", &parent]);
        runtime = runtime.with_compiler(std::sync::Arc::new(worker));
    }
    let runtime = runtime.with_tier(tier)?;
    let started = std::time::Instant::now();
    let outcome = run_module(args, &runtime);
    if args.tier_stats
        && let Some(cache) = runtime.code_cache()
    {
        let s = cache.stats();
        eprintln!(
            "code cache {}: {} hit(s), {} miss(es), {} rejected, {} stored, {} evicted",
            cache.dir().display(),
            s.hits,
            s.misses,
            s.rejected,
            s.stored,
            s.evicted
        );
    }
    if let Some(manager) = runtime.tier_manager() {
        if args.tier_stats {
            print_tier_stats(manager, started.elapsed());
        }
        if manager.busy() {
            // A compile is still running: leave without running the
            // process's exit handlers, which would tear LLVM down under it.
            exit_now(&outcome);
        }
    }
    outcome
}

fn run_module(args: &RunArgs, runtime: &Runtime) -> Result<()> {
    let module = input::load_for(&args.file, runtime)?;

    // Everything about the entry point is checked before instantiation,
    // which may already run code (the start function).
    let entry = match &args.invoke {
        Some(name) => {
            let ty = export_func_type(&module, name).ok_or_else(|| {
                anyhow!(
                    "{} exports no function `{name}` (exported functions: {})",
                    args.file.display(),
                    exported_funcs(&module)
                )
            })?;
            Some((name.as_str(), values::parse_args(name, &ty, &args.args)?))
        }
        None if export_func_type(&module, "_start").is_some() => Some(("_start", Vec::new())),
        // A module whose work is all in its start function.
        None if module.start().is_some() => None,
        None => bail!(
            "{} exports no `_start` function; call an export with --invoke NAME (exported functions: {})",
            args.file.display(),
            exported_funcs(&module)
        ),
    };

    let mut store = runtime.new_store();
    let mut linker = Linker::new();
    linker.define_wasi(wasi_ctx(args)?);
    if args.bench_markers {
        linker.func_wrap(&mut store, "bench", "start", || {});
        linker.func_wrap(&mut store, "bench", "end", || {});
    }
    let instance = linker.instantiate(&mut store, &module)?;
    let Some((name, params)) = entry else {
        return Ok(());
    };
    if args.invoke.is_some()
        && let Some(init) = instance.func(&store, "_initialize")
    {
        // A WASI reactor sets itself up here before any other export is called.
        store.call(init, &[])?;
    }
    let func = instance
        .func(&store, name)
        .with_context(|| format!("no exported function `{name}` after instantiation"))?;
    let results = store.call(func, &params)?;
    if args.invoke.is_some() {
        let ty = store.func(func).ty().clone();
        for (v, &t) in results.into_iter().zip(ty.results()) {
            println!("{}", values::format_value(&store, &instance, t, v));
        }
    }
    Ok(())
}

fn export_func_type(module: &wamr_rs::Module, name: &str) -> Option<FuncType> {
    let export = module.export(name)?;
    (export.kind == ExternKind::Func).then(|| (**module.func_type(export.index)).clone())
}

fn exported_funcs(module: &wamr_rs::Module) -> String {
    let names: Vec<&str> = module
        .exports()
        .iter()
        .filter(|e| e.kind == ExternKind::Func)
        .map(|e| e.name.as_str())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// WASI as wasmtime sets it up: argv is the module's file name then ARGS,
/// the environment holds only `--env` variables, `--dir` preopens, and
/// stdio is the process's own.
fn wasi_ctx(args: &RunArgs) -> Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    let program = args.file.file_name().unwrap_or(args.file.as_os_str());
    builder
        .arg(program.to_string_lossy())
        .args(args.args.iter().cloned())
        .inherit_stdio();
    for spec in &args.envs {
        match spec.split_once('=') {
            Some((name, value)) => builder.env(name, value),
            // Like `docker run -e NAME`: a variable the host lacks is left out.
            None => match std::env::var(spec) {
                Ok(value) => builder.env(spec, value),
                Err(_) => &mut builder,
            },
        };
    }
    for spec in &args.dirs {
        let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
        builder.preopened_dir(host, guest);
    }
    Ok(builder.build()?)
}

fn print_tier_stats(manager: &wamr_rs::tiering::TierManager, total: std::time::Duration) {
    let events = manager.events();
    let compiled = events.iter().filter(|e| !e.from_cache).count();
    eprintln!(
        "tier-up: {compiled} module(s) compiled in {:.3}s of running",
        total.as_secs_f64()
    );
    eprintln!(
        "  running interpreter activations moved to native code at a loop: {}",
        manager.osr_transfers()
    );
    for e in events {
        let took = match e.compile_time {
            Some(t) => format!("{:.3}s", t.as_secs_f64()),
            None => "still compiling".into(),
        };
        if e.from_cache {
            eprintln!(
                "  {} ({} functions): native code from the code cache at {:.3}s, loaded in {took}; no compile",
                e.module,
                e.functions,
                e.queued_at.as_secs_f64(),
            );
            continue;
        }
        if e.osr_only {
            eprintln!(
                "  {}: more OSR entries, asked for at {:.3}s, compiled in {took}{}",
                e.module,
                e.queued_at.as_secs_f64(),
                if e.failed { " (failed)" } else { "" }
            );
            continue;
        }
        let native_from = e.compile_time.map(|t| e.queued_at + t);
        eprintln!(
            "  {} ({} functions): hot at {:.3}s, compiled in {took}{}; {}",
            e.module,
            e.functions,
            e.queued_at.as_secs_f64(),
            if e.failed {
                " (failed: stays interpreted)"
            } else {
                ""
            },
            match native_from {
                Some(t) if !e.failed => format!(
                    "interpreter until {:.3}s, native code after",
                    t.as_secs_f64()
                ),
                _ => "interpreter throughout".into(),
            }
        );
    }
}

/// Ends the process at once with the status `outcome` stands for, after
/// flushing what the program wrote.
fn exit_now(outcome: &Result<()>) -> ! {
    use std::io::Write;
    let code = match outcome {
        Ok(()) => 0,
        Err(e) => match as_trap(e).and_then(Trap::exit_code) {
            Some(code) => exit_status(code),
            None => {
                eprintln!("error: {e:#}");
                if is_trap(e) { crate::TRAP_EXIT } else { 1 }
            }
        },
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process without running exit handlers; all
    // output was flushed above.
    unsafe { libc::_exit(i32::from(code)) }
}
