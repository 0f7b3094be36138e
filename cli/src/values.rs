//! Command-line text to wasm values and back, for `run --invoke`.

use anyhow::{Result, anyhow, bail};
use wamr_rs::{ExternKind, FuncKind, FuncType, Instance, Module, RawRef, Store, Val, ValType};

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
        // As printed: the 128 bits as one hexadecimal number.
        ValType::V128 => Val::V128(
            s.strip_prefix("0x")
                .and_then(|h| u128::from_str_radix(h, 16).ok())
                .ok_or_else(bad)?,
        ),
        _ => bail!("arguments of type {ty} cannot be given on the command line"),
    })
}

/// `v`, a value of type `ty` returned by a function of `instance`, as
/// text. A reference names what it refers to, never a host address, so
/// the output is the same on every run.
pub fn format_value(store: &Store, instance: &Instance, ty: ValType, v: Val) -> String {
    match v {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(b) => f32::from_bits(b).to_string(),
        Val::F64(b) => f64::from_bits(b).to_string(),
        Val::V128(v) => format!("{v:#034x}"),
        Val::Ref(r) if r.is_null() => "null".into(),
        Val::Ref(r) => match ty {
            ValType::FuncRef => format!("funcref:{}", func_name(store, instance, r)),
            // The host's value, opaque (and possibly an address).
            other => other.to_string(),
        },
    }
}

/// The function `r` refers to, as `instance` sees it: its name-section
/// name, else an export name, else `func[INDEX]` in its function index
/// space.
fn func_name(store: &Store, instance: &Instance, r: RawRef) -> String {
    let Some(id) = store.func_of_ref(r) else {
        return "?".into();
    };
    let inst = store.instance(instance.id());
    if let Some(index) = inst.funcs().iter().position(|&f| f == id) {
        return name_in(inst.module(), index as u32);
    }
    // Not in the instance's index space (another instance's function).
    match *store.func(id).kind() {
        FuncKind::Wasm { instance, index } => name_in(store.instance(instance).module(), index),
        FuncKind::Host(_) => "host".into(),
    }
}

fn name_in(module: &Module, index: u32) -> String {
    let exported = || {
        module
            .exports()
            .iter()
            .find(|e| e.kind == ExternKind::Func && e.index == index)
            .map(|e| e.name.clone())
    };
    module
        .names()
        .funcs
        .get(&index)
        .cloned()
        .or_else(exported)
        .unwrap_or_else(|| format!("func[{index}]"))
}
