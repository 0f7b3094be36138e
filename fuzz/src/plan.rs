//! What to run in a module, read once with wasmparser so that every engine
//! calls the same exports in the same order with the same arguments.

use wasmparser::{ExternalKind, Parser, Payload, ValType, Validator, WasmFeatures};

use crate::rng::Rng;
use crate::trace::Value;

/// An exported function with the arguments to call it with.
#[derive(Debug, Clone)]
pub struct Call {
    pub export: String,
    pub params: Vec<ValType>,
    pub args: Vec<Value>,
    pub results: Vec<ValType>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub calls: Vec<Call>,
    /// Exported globals and memories, read after every call.
    pub globals: Vec<String>,
    pub memories: Vec<String>,
    /// The export name of memory 0, which WASI functions use when the
    /// module exports no `memory`.
    pub memory0: Option<String>,
}

impl Plan {
    /// The plan for `wasm`, with arguments drawn from `seed`; `None` if
    /// wasmparser (with every feature) does not accept the module.
    pub fn new(wasm: &[u8], seed: u64) -> Option<Plan> {
        let types = Validator::new_with_features(WasmFeatures::all())
            .validate_all(wasm)
            .ok()?;
        let mut rng = Rng::new(seed ^ 0xa5a5_a5a5);
        let mut plan = Plan::default();
        for payload in Parser::new(0).parse_all(wasm) {
            let Ok(Payload::ExportSection(reader)) = payload else {
                continue;
            };
            for export in reader.into_iter().flatten() {
                let name = export.name.to_string();
                match export.kind {
                    ExternalKind::Func => {
                        let id = types.as_ref().core_function_at(export.index);
                        let ty = types[id].unwrap_func();
                        let args = ty.params().iter().map(|t| arg(&mut rng, *t)).collect();
                        plan.calls.push(Call {
                            export: name,
                            params: ty.params().to_vec(),
                            args,
                            results: ty.results().to_vec(),
                        });
                    }
                    ExternalKind::Global => plan.globals.push(name),
                    ExternalKind::Memory => {
                        if export.index == 0 && plan.memory0.is_none() {
                            plan.memory0 = Some(name.clone());
                        }
                        plan.memories.push(name);
                    }
                    _ => {}
                }
            }
        }
        Some(plan)
    }
}

/// An argument of type `ty`: edge values half the time, else random bits.
/// Floats are never NaN with a payload (results are compared with NaNs
/// canonicalised, but a payload passed through would not be).
fn arg(rng: &mut Rng, ty: ValType) -> Value {
    let edge = rng.chance(2);
    let bits = rng.next_u64();
    let pick = |xs: &[u64]| xs[(bits % xs.len() as u64) as usize];
    match ty {
        ValType::I32 if edge => {
            Value::I32(pick(&[0, 1, u32::MAX as u64, 0x8000_0000, 0x7fff_ffff, 16, 65536]) as i32)
        }
        ValType::I32 => Value::I32((bits >> 7) as i32),
        ValType::I64 if edge => {
            Value::I64(pick(&[0, 1, u64::MAX, 1 << 63, (1 << 63) - 1, 8, 1 << 32]) as i64)
        }
        ValType::I64 => Value::I64(bits as i64),
        ValType::F32 if edge => Value::f32(pick(&[
            0,
            0x8000_0000,
            0x3fc0_0000,
            0x7f80_0000,
            0xff80_0000,
            0x7fc0_0000,
            0x4f00_0000,
        ]) as u32),
        ValType::F32 => Value::f32((bits >> 3) as u32),
        ValType::F64 if edge => Value::f64(pick(&[
            0,
            1 << 63,
            0x3ff8_0000_0000_0000,
            0x7ff0_0000_0000_0000,
            0x7ff8_0000_0000_0000,
            0x43e0_0000_0000_0000,
        ])),
        ValType::F64 => Value::f64(bits >> 1),
        ValType::V128 if edge => Value::V128(pick(&[0, u64::MAX, 0x8000_0000_8000_0000]).into()),
        ValType::V128 => Value::V128(u128::from(bits) | u128::from(rng.next_u64()) << 64),
        ValType::Ref(_) => Value::Ref { null: true },
    }
}
