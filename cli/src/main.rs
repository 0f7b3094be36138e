//! `wamr-rs`: run, validate and inspect WebAssembly modules.
//!
//! Exit status: the program's own (WASI `proc_exit`, 0 when `_start`
//! returns); 1 when the run cannot start (bad file, invalid module, missing
//! import, bad `--invoke` arguments); 2 for command-line usage errors;
//! [`TRAP_EXIT`] when wasm code traps.

mod aot;
mod cache;
mod input;
mod inspect;
mod run;
mod values;
mod warnings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "wamr-rs", version, about = "A tiered WebAssembly runtime")]
struct Cli {
    /// Diagnostics filter (tracing syntax, e.g. `debug` or `wamr_interp=trace`); overrides RUST_LOG.
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a module (.wasm, .wat or .aot).
    Run(run::RunArgs),
    /// Compile a module ahead of time into an .aot file.
    Aot(aot::AotArgs),
    /// Show the code cache (`show`, the default) or empty it (`clear`).
    Cache {
        #[command(subcommand)]
        action: Option<cache::CacheAction>,
    },
    /// Decode and validate a module; print nothing and exit 0 when it is valid.
    Validate { file: PathBuf },
    /// Print a module's imports, exports, memories, tables and features.
    Inspect { file: PathBuf },
    /// Compile the one request on stdin, answer on stdout (the compiler
    /// process of `run --tier auto`).
    #[command(hide = true)]
    CompileWorker {
        /// The process the compile is for: the worker ends with it.
        #[arg(long)]
        parent: Option<u32>,
    },
    /// Assemble WebAssembly text into a binary module (used by scripts/startup.sh).
    #[command(hide = true)]
    Wat2wasm {
        file: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// The status of a run that trapped: 128 + SIGABRT, as wasmtime reports it,
/// so scripts can tell a trap from a run that never started (1).
pub(crate) const TRAP_EXIT: u8 = 134;

/// `Cli::try_parse`, except that clap's command tree lives until the process
/// ends: freeing it was 2.5% of a hello world's start-up.
fn parse_args() -> Result<Cli, clap::Error> {
    let command = Box::leak(Box::new(Cli::command()));
    let matches = command.try_get_matches_from_mut(std::env::args_os())?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(command))
}

fn main() -> ExitCode {
    let cli = match parse_args() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help or --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{} (see --help)", first_paragraph(&e.render().to_string()));
            return ExitCode::from(2);
        }
    };
    init_tracing(cli.log.as_deref());
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Aot(args) => aot::aot(args).map(|_| 0),
        Command::Cache { action } => cache::cache(action.unwrap_or_default()).map(|_| 0),
        Command::Validate { file } => input::load(&file, &wamr_rs::Config::default()).map(|_| 0),
        Command::Inspect { file } => inspect::inspect(&file).map(|_| 0),
        Command::CompileWorker { parent } => run::compile_worker(parent).map(|_| 0),
        Command::Wat2wasm { file, output } => input::read_wasm(&file).and_then(|wasm| {
            std::fs::write(&output, wasm)
                .map(|_| 0)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // `{:#}` puts the context chain on one line.
            eprintln!("error: {e:#}");
            ExitCode::from(if run::is_trap(&e) { TRAP_EXIT } else { 1 })
        }
    }
}

/// A usage error on one line: clap's message without the usage and tips
/// that follow its first blank line.
fn first_paragraph(text: &str) -> String {
    text.lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

fn init_tracing(filter: Option<&str>) {
    match filter
        .map(str::to_string)
        .or_else(|| std::env::var("RUST_LOG").ok())
    {
        Some(filter) => tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init(),
        // No filter asked for: warnings only, from a subscriber that costs
        // nothing to set up (a short run's start-up is measured).
        None => warnings::install(),
    }
}
