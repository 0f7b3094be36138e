//! `wamr-rs inspect`: a readable summary of a module.

use std::path::Path;

use anyhow::Result;
use wamr_rs::{Config, ExternKind, IndexType, Module, ValType};

use crate::input;

pub fn inspect(path: &Path) -> Result<()> {
    if input::is_aot(path) {
        // The header and the embedded module, readable for any target.
        let bytes = std::fs::read(path)?;
        let image = wamr_rs::AotImage::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        print!("{}", describe_aot(&image.meta));
        let module = Module::new(&Config::default(), image.wasm)?;
        print!("{}", describe(&module));
        return Ok(());
    }
    let module = input::load(path, &Config::default())?;
    print!("{}", describe(&module));
    Ok(())
}

fn describe_aot(meta: &wamr_rs::AotMeta) -> String {
    let helpers = if meta.helpers.is_empty() {
        "none".to_string()
    } else {
        meta.helpers.join(", ")
    };
    format!(
        "aot: {} -O{}\ncompiler: {}\nruntime helpers ({}): {helpers}\n",
        meta.describe_target(),
        meta.opt_level,
        meta.compiler_version,
        meta.helpers.len()
    )
}

fn describe(m: &Module) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let w = &mut out;
    if let Some(name) = &m.names().module {
        let _ = writeln!(w, "module ${name}");
    }
    let _ = writeln!(w, "imports ({}):", m.imports().len());
    for i in m.imports() {
        let _ = writeln!(w, "  {}.{}: {}", i.module, i.name, i.ty);
    }
    let _ = writeln!(w, "exports ({}):", m.exports().len());
    for e in m.exports() {
        let _ = writeln!(w, "  {}: {}", e.name, m.export_type(e));
    }
    let _ = writeln!(
        w,
        "functions: {} ({} imported, {} defined)",
        m.num_funcs(),
        m.num_imported_funcs(),
        m.bodies().len()
    );
    let _ = writeln!(w, "memories ({}):", m.memories().len());
    for (i, mem) in m.memories().iter().enumerate() {
        let origin = if (i as u32) < m.num_imported_memories() {
            "imported"
        } else {
            "defined"
        };
        let _ = writeln!(w, "  {i}: {mem} ({origin})");
    }
    let _ = writeln!(w, "tables ({}):", m.tables().len());
    for (i, t) in m.tables().iter().enumerate() {
        let _ = writeln!(w, "  {i}: {t}");
    }
    let _ = writeln!(w, "globals: {}", m.globals().len());
    let _ = writeln!(
        w,
        "data segments: {}, element segments: {}",
        m.data().len(),
        m.elements().len()
    );
    if let Some(start) = m.start() {
        let _ = writeln!(w, "start: {}", m.func_name(start));
    }
    let _ = writeln!(w, "features used: {}", features_used(m).join(", "));
    out
}

/// Proposals the module relies on: what its declarations show, and SIMD
/// from its code too.
fn features_used(m: &Module) -> Vec<&'static str> {
    let mut used = vec!["mvp"];
    if m.memories().iter().any(|t| t.index == IndexType::I64)
        || m.tables().iter().any(|t| t.index == IndexType::I64)
    {
        used.push("memory64");
    }
    if m.memories().len() > 1 {
        used.push("multi-memory");
    }
    if m.types().iter().any(|t| t.results().len() > 1) {
        used.push("multi-value");
    }
    let uses_refs = m.tables().len() > 1
        || m.globals().iter().any(|g| g.content.is_ref())
        || m.types()
            .iter()
            .any(|t| t.params().iter().chain(t.results()).any(|v| v.is_ref()));
    if uses_refs {
        used.push("reference-types");
    }
    let (simd_code, relaxed_code) = simd_in_code(m);
    let simd_types = m.types().iter().any(|t| {
        t.params()
            .iter()
            .chain(t.results())
            .any(|&v| v == ValType::V128)
    });
    if simd_code || simd_types {
        used.push("simd");
    }
    if relaxed_code {
        used.push("relaxed-simd");
    }
    if !m.data().is_empty()
        && m.data()
            .iter()
            .any(|d| matches!(d.mode, wamr_rs::DataMode::Passive))
    {
        used.push("bulk-memory");
    }
    if m.exports().iter().any(|e| e.kind == ExternKind::Global)
        && m.globals().iter().any(|g| g.mutable)
    {
        used.push("mutable-global");
    }
    used
}

/// Whether any function body has a SIMD instruction, and a relaxed one.
fn simd_in_code(m: &Module) -> (bool, bool) {
    let (mut simd, mut relaxed) = (false, false);
    for func in m.num_imported_funcs()..m.num_funcs() {
        let Some(body) = m.func_body(func) else {
            continue;
        };
        let bytes = &m.bytes()[body.range.clone()];
        let reader = wasmparser::BinaryReader::new(bytes, body.range.start as u64);
        let Ok(ops) = wasmparser::FunctionBody::new(reader).get_operators_reader() else {
            continue;
        };
        for op in ops.into_iter().map_while(Result::ok) {
            // wasmparser names every vector instruction by its lane shape.
            let name = format!("{op:?}");
            const SHAPES: [&str; 7] =
                ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"];
            if SHAPES.iter().any(|s| name.starts_with(s)) {
                simd = true;
                relaxed |= name.contains("Relaxed");
            }
        }
    }
    (simd, relaxed)
}
