//! Seed -> valid, terminating wasm module (wasm-smith), with the host
//! imports every engine of the differential target provides.

use arbitrary::Unstructured;
use wasm_smith::{Config, Module};

use crate::rng::Rng;

/// Fuel for the whole instance (every call shares it): each loop iteration
/// and function entry costs one, so it also bounds recursion depth, which
/// keeps every engine well inside its stack.
pub const FUEL: u32 = 1_000;

/// Largest memory any generated module may declare or grow to, in pages.
pub const MAX_PAGES: u64 = 16;

/// Host functions a module may import. `host.*` are plain functions with
/// state (a call counter, so a skipped or repeated host call shows in the
/// results); the WASI ones write to a captured pipe and fill memory from a
/// seeded generator.
const HOST_IMPORTS: &str = r#"(module
  (import "host" "mix" (func (param i32) (result i32)))
  (import "host" "mix64" (func (param i64 i32) (result i64)))
  (import "host" "sink" (func (param i32 i64 f32 f64)))
)"#;
const WASI_IMPORTS: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
)"#;

/// What a seed's module may use. WASI preview1 has no wasm64 ABI (wamr-rs
/// refuses to link it to a memory64 module), so a seed gets one or the
/// other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// memory32 only; imports host and WASI functions.
    Wasi,
    /// memory64 enabled; imports host functions only.
    Memory64,
}

impl Flavor {
    pub fn of_seed(seed: u64) -> Flavor {
        if seed.is_multiple_of(2) {
            Flavor::Wasi
        } else {
            Flavor::Memory64
        }
    }
}

/// The wasm-smith configuration: every feature wamr-rs runs in all its
/// tiers (see `Features` in runtime/src/config.rs), nothing else. New
/// features are enabled here as they land in every tier.
pub fn smith_config(flavor: Flavor) -> Config {
    let imports = match flavor {
        Flavor::Wasi => merge_imports(),
        Flavor::Memory64 => HOST_IMPORTS.to_string(),
    };
    Config {
        available_imports: Some(wat::parse_str(imports).expect("import list is valid text")),
        // Supported by every tier.
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        tail_call_enabled: true,
        extended_const_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        memory64_enabled: flavor == Flavor::Memory64,
        max_memories: 2, // multi-memory
        max_tables: 2,
        simd_enabled: true,
        // Not compared with wasmi, whose relaxed results may differ.
        relaxed_simd_enabled: false,
        // Not run by wamr-rs (or only a sliver of GC): keep out.
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        // Deterministic results across engines, bounded resources.
        canonicalize_nans: true,
        export_everything: true,
        memory_max_size_required: true,
        max_memory32_bytes: MAX_PAGES * 65536,
        max_memory64_bytes: u128::from(MAX_PAGES * 65536),
        table_max_size_required: true,
        max_table_elements: 1_000,
        min_funcs: 2,
        max_funcs: 24,
        max_instructions: 200,
        max_nesting_depth: 8,
        ..Config::default()
    }
}

fn merge_imports() -> String {
    let body = |m: &str| {
        m.trim()
            .trim_start_matches("(module")
            .trim_end_matches(')')
            .to_string()
    };
    format!("(module {} {})", body(HOST_IMPORTS), body(WASI_IMPORTS))
}

/// The module of `seed`, generated from `len` pseudo-random bytes.
pub fn module(seed: u64, len: usize) -> Result<Vec<u8>, arbitrary::Error> {
    module_with(seed, len, smith_config(Flavor::of_seed(seed)))
}

/// The module of `seed` under `config`, made to terminate.
pub fn module_with(seed: u64, len: usize, config: Config) -> Result<Vec<u8>, arbitrary::Error> {
    from_bytes(&Rng::new(seed).bytes(len), config)
}

/// A module from a fuzzer's bytes (libFuzzer's instead of a seed's).
pub fn module_from_bytes(bytes: &[u8]) -> Result<Vec<u8>, arbitrary::Error> {
    let flavor = Flavor::of_seed(bytes.first().copied().unwrap_or(0).into());
    from_bytes(bytes, smith_config(flavor))
}

fn from_bytes(bytes: &[u8], config: Config) -> Result<Vec<u8>, arbitrary::Error> {
    let mut u = Unstructured::new(bytes);
    let mut module = Module::new(config, &mut u)?;
    module
        .ensure_termination(FUEL)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    Ok(module.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_valid() {
        for seed in 0..8 {
            let a = module(seed, 2048).unwrap();
            assert_eq!(a, module(seed, 2048).unwrap());
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&a)
                .unwrap();
        }
    }
}
