//! Command-line text to wasm values and back, for `run --invoke`.

use anyhow::{Result, anyhow, bail};
use wamr_rs::{FuncType, Val, ValType};

/// Parses `args` by the parameter types of `ty` (the function `name`).
pub fn parse_args(name: &str, ty: &FuncType, args: &[String]) -> Result<Vec<Val>> {
    if ty.params().len() != args.len() {
        bail!(
            "`{name}` takes {} argument(s) {}, {} given",
            ty.params().len(),
            ty,
            args.len()
        );
    }
    ty.params()
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (&t, s))| {
            parse_value(t, s).map_err(|e| anyhow!("argument {} of `{name}`: {e}", i + 1))
        })
        .collect()
}

/// Integers may be given signed or unsigned (`-1` and `4294967295` are the
/// same i32), as wasm does not distinguish them.
fn parse_value(ty: ValType, s: &str) -> Result<Val> {
    let bad = || anyhow!("`{s}` is not a valid {ty}");
    Ok(match ty {
        ValType::I32 => Val::I32(
            s.parse::<i32>()
                .or_else(|_| s.parse::<u32>().map(|v| v as i32))
                .map_err(|_| bad())?,
        ),
        ValType::I64 => Val::I64(
            s.parse::<i64>()
                .or_else(|_| s.parse::<u64>().map(|v| v as i64))
                .map_err(|_| bad())?,
        ),
        ValType::F32 => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
        _ => bail!("arguments of type {ty} cannot be given on the command line"),
    })
}

pub fn format_value(v: Val) -> String {
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
