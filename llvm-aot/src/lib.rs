//! wamr-rs LLVM tier: translates validated wasm to LLVM IR, optimises it and
//! emits object code for a target, then links it into an `.aot` image.
//!
//! - `translate`: wasm -> LLVM IR under the ABI of `wamr_runtime::vmctx`
//!   (native entries, array-call trampolines, builtins, pending-trap flag).
//! - `compile`: IR -> optimised relocatable objects, compiled in parallel,
//!   and the whole way to `.aot` bytes.
//! - `legalize`: operations the target lacks -> calls of runtime helpers.
//! - `link`: objects -> one position-independent blob with no relocations
//!   left and no undefined symbols (contract 6).
//! - `plugin`: the C ABI this crate exports when built as the shared
//!   library the runtime loads lazily (`wamr_aot::plugin`).
//!
//! Running compiled code needs none of this: see `wamr-aot`.

pub mod compile;
pub mod legalize;
pub mod link;
pub mod plugin;
pub mod translate;

pub use link::{LinkError, LinkedCode, link, link_objects};

use inkwell::OptimizationLevel;
use inkwell::targets::{
    CodeModel, InitializationConfig, RelocMode, Target, TargetMachine, TargetMachineOptions,
    TargetTriple,
};

/// The LLVM compiler, linked into this process (the plugin is the same
/// code behind a C ABI).
#[derive(Debug, Default, Clone, Copy)]
pub struct LlvmCompiler;

impl wamr_aot::Compiler for LlvmCompiler {
    fn version(&self) -> &str {
        wamr_aot::COMPILER_VERSION
    }

    fn compile(&self, job: &wamr_aot::CompileJob<'_>) -> Result<Vec<u8>, wamr_aot::CompileError> {
        compile::compile_aot(job).map_err(|e| wamr_aot::CompileError(e.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("unknown or unsupported target `{0}`: {1}")]
    UnknownTarget(String, String),
    #[error(
        "LLVM could not create a target machine for `{triple}` (cpu `{cpu}`, features `{features}`)"
    )]
    TargetMachine {
        triple: String,
        cpu: String,
        features: String,
    },
}

/// LLVM's version, as linked.
pub fn llvm_version() -> (u32, u32, u32) {
    inkwell::support::get_llvm_version()
}

/// Initialises the backends wamr-rs can target (x86 and RISC-V). Idempotent.
pub fn init_backends() {
    let config = InitializationConfig::default();
    Target::initialize_x86(&config);
    Target::initialize_riscv(&config);
}

/// Creates a position-independent target machine (compiled code is mapped
/// wherever the loader puts it, contract 6). `abi` (RISC-V: `lp64d`, ...)
/// must have been checked against the features (`wamr_aot::target`):
/// LLVM aborts the process on some mismatches.
pub fn target_machine(
    triple: &str,
    cpu: &str,
    features: &str,
    abi: &str,
    opt: OptimizationLevel,
) -> Result<TargetMachine, CompileError> {
    init_backends();
    let triple_ref = TargetTriple::create(triple);
    let target = Target::from_triple(&triple_ref)
        .map_err(|e| CompileError::UnknownTarget(triple.to_string(), e.to_string()))?;
    let mut options = TargetMachineOptions::new()
        .set_cpu(cpu)
        .set_features(features)
        .set_level(opt)
        .set_reloc_mode(RelocMode::PIC)
        .set_code_model(CodeModel::Default);
    if !abi.is_empty() {
        options = options.set_abi(abi);
    }
    target
        .create_target_machine_from_options(&triple_ref, options)
        .ok_or_else(|| CompileError::TargetMachine {
            triple: triple.to_string(),
            cpu: cpu.to_string(),
            features: features.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_llvm_19() {
        assert_eq!(llvm_version().0, 19);
    }

    #[test]
    fn creates_x86_64_and_riscv_machines() {
        let x86 = target_machine(
            "x86_64-unknown-linux-gnu",
            "x86-64",
            "+sse4.1",
            "",
            OptimizationLevel::Aggressive,
        )
        .unwrap();
        assert_eq!(
            x86.get_triple().as_str().to_str().unwrap(),
            "x86_64-unknown-linux-gnu"
        );
        assert!(
            target_machine(
                "riscv64-unknown-linux-gnu",
                "generic-rv64",
                "+m,+a",
                "lp64",
                OptimizationLevel::Default
            )
            .is_ok()
        );
    }

    #[test]
    fn unknown_target_is_an_error() {
        let err =
            target_machine("mips-unknown-linux", "", "", "", OptimizationLevel::None).unwrap_err();
        assert!(err.to_string().contains("mips-unknown-linux"), "{err}");
    }
}
