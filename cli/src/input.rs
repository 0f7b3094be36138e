//! Reading a module from a file: binary wasm, or text (.wat) converted first.

use std::path::Path;

use anyhow::{Context, Result, bail};
use wamr_rs::{Config, Module};

/// The wasm binary in `path`; text format is accepted and assembled.
pub fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    let is_text_name = path.extension().is_some_and(|e| e == "wat" || e == "wast");
    match std::str::from_utf8(&bytes) {
        Ok(text) if is_text_name || text.trim_start().starts_with('(') => assemble(path, text),
        _ => bail!(
            "{} is not a WebAssembly module (no \\0asm header, and not WebAssembly text)",
            path.display()
        ),
    }
}

/// Assembles WebAssembly text. Goes through `wast` rather than `wat` so a
/// syntax error can be reported on one line (`file:line:col: message`)
/// instead of `wat`'s multi-line snippet.
fn assemble(path: &Path, text: &str) -> Result<Vec<u8>> {
    let one_line = |e: wast::Error| {
        let (line, col) = e.span().linecol_in(text);
        anyhow::anyhow!(
            "{}:{}:{}: {}",
            path.display(),
            line + 1,
            col + 1,
            e.message()
        )
    };
    let buf = wast::parser::ParseBuffer::new(text).map_err(one_line)?;
    let mut wat: wast::Wat = wast::parser::parse(&buf).map_err(one_line)?;
    wat.encode().map_err(one_line)
}

/// Reads, decodes and validates the module in `path`.
pub fn load(path: &Path, config: &Config) -> Result<Module> {
    let bytes = read_wasm(path)?;
    Module::new(config, &bytes).with_context(|| format!("{}", path.display()))
}
