//! Reading a module from a file: binary wasm, or text (.wat) converted first.

use std::path::Path;

use anyhow::{Context, Result, bail};
use wamr_rs::{Config, Module};

/// The wasm binary in `path`; text format is accepted and assembled.
pub fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    wasm_from(path, bytes)
}

/// The wasm binary in `bytes`, the contents of `path`.
fn wasm_from(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    if bytes.starts_with(&wamr_rs::AOT_MAGIC) {
        bail!(
            "{} is an .aot file; `run` it, or give the .wasm it was compiled from",
            path.display()
        );
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

/// Whether `path` holds an `.aot` file (by its magic number).
pub fn is_aot(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == wamr_rs::AOT_MAGIC)
}

/// Reads, decodes and validates the module in `path`.
pub fn load(path: &Path, config: &Config) -> Result<Module> {
    let bytes = read_wasm(path)?;
    Module::new(config, &bytes).with_context(|| format!("{}", path.display()))
}

/// Loads `path` for `runtime`: an `.aot` file with its code mapped, or a
/// wasm/wat module.
pub fn load_for(path: &Path, runtime: &wamr_rs::Runtime) -> Result<Module> {
    use std::io::Read;
    // One open: the first bytes tell the kind; a module is read on from there.
    let cannot = |e| anyhow::Error::new(e).context(format!("cannot read {}", path.display()));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(wamr_rs::AOT_MAGIC.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes == wamr_rs::AOT_MAGIC {
        // Mapped from the file, so that code runs straight from it.
        Ok(runtime.load_aot_file(path)?)
    } else {
        file.read_to_end(&mut bytes).map_err(cannot)?;
        let wasm = wasm_from(path, bytes)?;
        runtime
            .load(&wasm)
            .with_context(|| format!("{}", path.display()))
    }
}
