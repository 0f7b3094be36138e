//! Prints the module of a differential seed and what every engine did with
//! it: `cargo run --release -p wamr-fuzz --example trace -- SEED`.
//! With `--json`, prints the module (hex), the plan and the interpreter's
//! and wasmi's traces as one JSON object instead, for `fuzz/settle.py`.

use serde_json::{Value as Json, json};
use wamr_fuzz::engines::{wamr, wasmi};
use wamr_fuzz::plan::Plan;
use wamr_fuzz::targets::diff;
use wamr_fuzz::trace::{Trace, Value};

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let as_json = std::env::args().any(|a| a == "--json");
    let wasm = diff::input(seed).expect("a module");
    let plan = Plan::new(&wasm, seed).expect("valid");
    if as_json {
        let (interp, wasmi) = wamr_fuzz::on_big_stack(|| {
            (
                wamr::run(wamr::Variant::ALL[0], &wasm, &plan, seed),
                wasmi::run(&wasm, &plan, seed, None),
            )
        });
        let calls: Vec<Json> = plan
            .calls
            .iter()
            .map(|c| json!({"export": c.export, "args": c.args.iter().map(value).collect::<Vec<_>>()}))
            .collect();
        let out = json!({
            "calls": calls,
            "globals": plan.globals,
            "wasm": wasm.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "interp": trace(&interp),
            "wasmi": trace(&wasmi),
        });
        println!("{out}");
        return;
    }
    println!("{}", wamr_fuzz::shrink::to_wat(&wasm).unwrap_or_default());
    println!("{plan:#?}");
    wamr_fuzz::on_big_stack(|| {
        for v in wamr::Variant::ALL {
            println!("{}: {:?}", v.name(), wamr::run(v, &wasm, &plan, seed));
        }
        println!("wasmi: {:?}", wasmi::run(&wasm, &plan, seed, None));
    });
}

/// `[kind, value]`; integers as numbers, floats as bit patterns, v128 as a
/// decimal string.
fn value(v: &Value) -> Json {
    match *v {
        Value::I32(x) => json!(["i32", x]),
        Value::I64(x) => json!(["i64", x]),
        Value::F32(bits) => json!(["f32", bits]),
        Value::F64(bits) => json!(["f64", bits]),
        Value::V128(x) => json!(["v128", x.to_string()]),
        Value::Ref { null } => json!(["ref", if null { "null" } else { "non-null" }]),
        Value::Missing => json!(["missing"]),
    }
}

/// Per call: `{"ok": [values]}` or `{"trap": message}`, and the globals.
fn trace(t: &Trace) -> Json {
    match t {
        Trace::Ran { calls, .. } => Json::Array(
            calls
                .iter()
                .map(|c| {
                    let result = match &c.result {
                        Ok(values) => json!({"ok": values.iter().map(value).collect::<Vec<_>>()}),
                        Err(e) => json!({"trap": format!("{e:?}")}),
                    };
                    json!({"result": result, "globals": c.globals.iter().map(value).collect::<Vec<_>>()})
                })
                .collect(),
        ),
        other => json!({"not_run": format!("{other:?}")}),
    }
}
