//! Writes a failing input and the description of its failure.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use wamr_fuzz::{Target, shrink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Divergence,
    Crash,
    Hang,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Divergence => "divergence",
            Kind::Crash => "crash",
            Kind::Hang => "hang",
        })
    }
}

pub struct Report<'a> {
    pub out: &'a Path,
    pub target: Target,
    pub seed: u64,
    pub kind: Kind,
    pub signature: &'a str,
    pub detail: &'a str,
    /// The worker's stderr before the failure (crashes print there).
    pub log: &'a str,
    pub original: &'a [u8],
    pub shrunk: &'a [u8],
}

/// Writes `<target>-<seed>.<ext>` (shrunk), the original beside it when
/// shrinking changed it, and `<target>-<seed>.txt`; returns the `.txt`.
pub fn write(r: &Report<'_>) -> Result<PathBuf> {
    let stem = format!("{}-{}", r.target.name(), r.seed);
    let ext = r.target.extension();
    let input = r.out.join(format!("{stem}.{ext}"));
    std::fs::write(&input, r.shrunk)?;
    if r.shrunk != r.original {
        std::fs::write(r.out.join(format!("{stem}.orig.{ext}")), r.original)?;
    }
    let mut text = String::new();
    writeln!(
        text,
        "target: {}\nseed: {}\n{}: {}",
        r.target.name(),
        r.seed,
        r.kind,
        r.signature
    )?;
    writeln!(
        text,
        "input: {stem}.{ext} ({} bytes; original {} bytes)",
        r.shrunk.len(),
        r.original.len()
    )?;
    writeln!(
        text,
        "rerun: cargo run --release -p wamr-fuzz -- {} --check <out>/{stem}.{ext} --seed {}\n",
        r.target.name(),
        r.seed
    )?;
    writeln!(text, "{}\n", r.detail)?;
    if !r.log.trim().is_empty() {
        writeln!(text, "stderr (tail):\n{}\n", r.log.trim_end())?;
    }
    if let Some(wat) = (ext == "wasm").then(|| shrink::to_wat(r.shrunk)).flatten() {
        writeln!(text, "module:\n{wat}")?;
    }
    let path = r.out.join(format!("{stem}.txt"));
    std::fs::write(&path, text)?;
    Ok(path)
}
