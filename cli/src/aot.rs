//! `wamr-rs aot`: compile a module ahead of time into an `.aot` file.
//! Flag names follow the peers' AOT compilers (`wamrc`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use wamr_rs::{Config, Runtime};

use crate::input;

#[derive(Args)]
pub struct AotArgs {
    /// Optimisation level, 0 to 3.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=3))]
    opt_level: u8,
    /// Target architecture or triple: x86_64, riscv32, riscv64.
    #[arg(long, default_value = "x86_64")]
    target: String,
    /// Target CPU: x86-64, x86-64-v2, x86-64-v3, x86-64-v4, native; generic-rv32/64 for RISC-V.
    #[arg(long)]
    cpu: Option<String>,
    /// CPU features to add or remove, e.g. `+sse4.1,+popcnt`, `+m,+a,+c,+f,+d`.
    #[arg(long, value_name = "FEATURES")]
    cpu_features: Option<String>,
    /// RISC-V ABI: ilp32, ilp32f, ilp32d (riscv32); lp64, lp64f, lp64d
    /// (riscv64). Default: hard float in the widest float registers the
    /// features give.
    #[arg(long, value_name = "ABI")]
    target_abi: Option<String>,
    /// What to write: `aot` (a file `wamr-rs run` maps) or `object` (an ELF
    /// relocatable object to link statically, plus a C header beside it).
    #[arg(long, value_enum, default_value_t = Format::Aot)]
    format: Format,
    /// With `--format object`: the prefix of every symbol and C name
    /// (default: the output file's name).
    #[arg(long, value_name = "IDENT")]
    name: Option<String>,
    /// Compiler threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Where to write the .aot file.
    #[arg(short, long)]
    output: PathBuf,
    /// The module (.wasm or .wat).
    file: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Aot,
    Object,
}

pub fn aot(args: AotArgs) -> Result<()> {
    let options = wamr_rs::target::compile_options(
        &args.target,
        args.cpu.as_deref(),
        args.cpu_features.as_deref(),
        args.target_abi.as_deref(),
        args.opt_level,
    )?;
    let wasm = input::read_wasm(&args.file)?;
    // In-process, so that progress is reported (a crash of LLVM can only
    // end this command, whose whole job the compile is).
    let runtime = Runtime::with_config(Config::default()).with_compiler(wamr_rs::plugin_compiler());
    let progress = Progress::new(std::io::stderr().is_terminal());
    let report = |done, total| progress.report(done, total);
    let started = Instant::now();
    let bytes = runtime
        .precompile(&wasm, &options, args.threads, Some(&report))
        .with_context(|| args.file.display().to_string())?;
    let elapsed = started.elapsed();
    progress.finish();
    match args.format {
        Format::Aot => write(&args.output, &bytes)?,
        Format::Object => write_object(&args, &bytes)?,
    }
    eprintln!(
        "compiled {} for {} (cpu {}, features `{}`, -O{}) in {:.2}s: {} bytes",
        args.file.display(),
        options.triple,
        options.cpu,
        options.features,
        options.opt_level,
        elapsed.as_secs_f64(),
        bytes.len()
    );
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The object at `args.output` and its header beside it (`.h`).
fn write_object(args: &AotArgs, aot: &[u8]) -> Result<()> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => c_name(&args.output),
    };
    let image = wamr_rs::AotImage::from_bytes(aot)?;
    let kit = wamr_rs::embed::embed_kit(&image, &name)?;
    let header = args.output.with_extension("h");
    write(&args.output, &kit.object)?;
    write(&header, kit.header.as_bytes())?;
    eprintln!(
        "wrote {} and {} (symbols `{name}_*`)",
        args.output.display(),
        header.display()
    );
    Ok(())
}

/// A C identifier from a file name: `app-1.o` -> `app_1`.
fn c_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map_or("module".into(), |s| s.to_string_lossy());
    let mut name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// `functions done/total` on one terminal line, redrawn in place.
struct Progress {
    on_terminal: bool,
    shown: Mutex<bool>,
}

impl Progress {
    fn new(on_terminal: bool) -> Self {
        Progress {
            on_terminal,
            shown: Mutex::new(false),
        }
    }

    fn report(&self, done: u32, total: u32) {
        if !self.on_terminal {
            return;
        }
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        *shown = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\rcompiling: {done}/{total} functions");
        let _ = err.flush();
    }

    fn finish(&self) {
        if *self.shown.lock().unwrap_or_else(|e| e.into_inner()) {
            eprintln!();
        }
    }
}
