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

/// Proposals the module's declarations rely on (what can be seen without
/// reading code bodies).
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
    if m.types().iter().any(|t| {
        t.params()
            .iter()
            .chain(t.results())
            .any(|&v| v == ValType::V128)
    }) {
        used.push("simd");
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
