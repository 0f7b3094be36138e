//! The compile driver: a validated wasm module to an object file for a
//! target, through translation, LLVM's optimisation pipeline and codegen.

use inkwell::OptimizationLevel;
use inkwell::context::Context;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::FileType;
use wamr_runtime::Module;

use crate::translate::{TranslateError, translate_module};

/// Where and how to compile.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    pub triple: String,
    pub cpu: String,
    pub features: String,
    /// 0 to 3, as `-O`.
    pub opt_level: u8,
}

impl CompileOptions {
    /// The machine this process runs on.
    pub fn host(opt_level: u8) -> Self {
        crate::init_backends();
        let triple = inkwell::targets::TargetMachine::get_default_triple();
        CompileOptions {
            triple: triple.as_str().to_string_lossy().into_owned(),
            cpu: inkwell::targets::TargetMachine::get_host_cpu_name().to_string(),
            features: inkwell::targets::TargetMachine::get_host_cpu_features().to_string(),
            opt_level,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CompileFailure {
    #[error(transparent)]
    Translate(#[from] TranslateError),
    #[error(transparent)]
    Target(#[from] crate::CompileError),
    #[error("generated IR failed verification: {0}")]
    Verify(String),
    #[error("LLVM failed: {0}")]
    Llvm(String),
}

/// Compiles `module` to a relocatable object for `opts`' target.
pub fn compile_object(module: &Module, opts: &CompileOptions) -> Result<Vec<u8>, CompileFailure> {
    let level = match opts.opt_level {
        0 => OptimizationLevel::None,
        1 => OptimizationLevel::Less,
        2 => OptimizationLevel::Default,
        _ => OptimizationLevel::Aggressive,
    };
    let machine = crate::target_machine(&opts.triple, &opts.cpu, &opts.features, level)?;
    let cx = Context::create();
    let llvm = cx.create_module("wasm");
    llvm.set_triple(&machine.get_triple());
    llvm.set_data_layout(&machine.get_target_data().get_data_layout());
    translate_module(&cx, &llvm, module)?;
    // A debugging aid: `WAMR_AOT_DUMP_IR=file` writes the unoptimised IR.
    if let Some(path) = std::env::var_os("WAMR_AOT_DUMP_IR")
        && let Err(e) = std::fs::write(&path, llvm.print_to_string().to_string())
    {
        let path = std::path::Path::new(&path).display().to_string();
        tracing::warn!("cannot write IR to {path}: {e}");
    }
    llvm.verify()
        .map_err(|e| CompileFailure::Verify(e.to_string()))?;
    let passes = format!("default<O{}>", opts.opt_level.min(3));
    llvm.run_passes(&passes, &machine, PassBuilderOptions::create())
        .map_err(|e| CompileFailure::Llvm(e.to_string()))?;
    let buffer = machine
        .write_to_memory_buffer(&llvm, FileType::Object)
        .map_err(|e| CompileFailure::Llvm(e.to_string()))?;
    Ok(buffer.as_slice().to_vec())
}
