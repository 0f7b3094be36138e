//! `wamr-rs run`: instantiate a module and run its entry point.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use wamr_rs::{Config, Linker, Runtime, Tier, Val};

use crate::input;

#[derive(Args)]
pub struct RunArgs {
    /// Execution tier.
    #[arg(long, default_value = "interp")]
    tier: Tier,
    /// Call this export instead of `_start`; remaining ARGS are its arguments.
    #[arg(long)]
    invoke: Option<String>,
    /// Cap on every linear memory, in 64 KiB pages.
    #[arg(long)]
    memory_page_limit: Option<u64>,
    /// The module (.wasm or .wat).
    file: PathBuf,
    /// Arguments for the program, or for `--invoke`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub fn run(args: RunArgs) -> Result<u8> {
    let config = Config {
        memory_page_limit: args.memory_page_limit,
        ..Config::default()
    };
    let runtime = Runtime::with_config(config).with_tier(args.tier)?;
    let module = input::load(&args.file, runtime.config())?;
    let mut store = runtime.new_store();
    let instance = Linker::new()
        .instantiate(&mut store, &module)
        .with_context(|| format!("{}", args.file.display()))?;
    let name = args.invoke.as_deref().unwrap_or("_start");
    let func = instance
        .func(&store, name)
        .with_context(|| format!("the module exports no function `{name}`"))?;
    let ty = store.func(func).ty().clone();
    if ty.params().len() != args.args.len() {
        bail!(
            "`{name}` takes {} arguments ({}), {} given",
            ty.params().len(),
            ty,
            args.args.len()
        );
    }
    let values = ty
        .params()
        .iter()
        .zip(&args.args)
        .map(|(&t, s)| parse_value(t, s))
        .collect::<Result<Vec<_>>>()?;
    let results = store.call(func, &values)?;
    for v in results {
        println!("{}", format_value(v));
    }
    Ok(0)
}

fn parse_value(ty: wamr_rs::ValType, s: &str) -> Result<Val> {
    use wamr_rs::ValType as T;
    let bad = || anyhow::anyhow!("`{s}` is not a valid {ty}");
    Ok(match ty {
        T::I32 => Val::I32(
            s.parse::<i32>()
                .or_else(|_| s.parse::<u32>().map(|v| v as i32))
                .map_err(|_| bad())?,
        ),
        T::I64 => Val::I64(
            s.parse::<i64>()
                .or_else(|_| s.parse::<u64>().map(|v| v as i64))
                .map_err(|_| bad())?,
        ),
        T::F32 => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
        T::F64 => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
        _ => bail!("arguments of type {ty} cannot be given on the command line"),
    })
}

fn format_value(v: Val) -> String {
    match v {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(b) => f32::from_bits(b).to_string(),
        Val::F64(b) => f64::from_bits(b).to_string(),
        Val::V128(v) => format!("{v:#034x}"),
        Val::Ref(r) if r.is_null() => "null".into(),
        Val::Ref(r) => format!("ref({:#x})", r.0),
    }
}
