//! `wamr-rs`: run, validate and inspect WebAssembly modules.

mod input;
mod inspect;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Run a module (.wasm or .wat).
    Run(run::RunArgs),
    /// Decode and validate a module; print nothing and exit 0 when it is valid.
    Validate { file: PathBuf },
    /// Print a module's imports, exports, memories, tables and features.
    Inspect { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.log.as_deref());
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate { file } => input::load(&file, &wamr_rs::Config::default()).map(|_| 0),
        Command::Inspect { file } => inspect::inspect(&file).map(|_| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing(filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match filter {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
