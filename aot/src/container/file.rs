//! An `.aot` file on disk, mapped rather than read.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::{AotImage, AotMeta, ContainerError, FaultSite, FunctionEntry, HostTarget, Parsed};
use crate::code_memory::{CodeMemory, host_page_size};

/// A validated `.aot` file. Its bytes are a read-only shared mapping: like
/// a shared library, the file must not be modified while it is open.
#[derive(Debug)]
pub struct AotFile {
    path: PathBuf,
    file: File,
    /// `None` for an empty file, which cannot be mapped (and never
    /// validates); kept so `bytes()` stays total.
    map: Option<Mmap>,
    parsed: Parsed,
}

impl AotFile {
    /// Opens, maps and validates `path` (magic, version, length, checksum,
    /// header, section table). Whether the code suits this host, runtime
    /// and wasm is checked separately (`check_target`, `check_compiler`,
    /// `check_wasm`).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ContainerError> {
        let path = path.as_ref().to_path_buf();
        let io_err = |source| ContainerError::Io {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the mapping is read-only. Its contents can change only
            // if another process writes the file, which the documented
            // contract forbids; everything read from it is validated first.
            Some(unsafe { Mmap::map(&file) }.map_err(io_err)?)
        };
        let parsed = Parsed::parse(map.as_deref().unwrap_or(&[]))?;
        tracing::debug!(
            path = %path.display(),
            target = %parsed.meta.describe_target(),
            functions = parsed.functions.len(),
            code_bytes = parsed.code.len(),
            "opened .aot file"
        );
        Ok(AotFile {
            path,
            file,
            map,
            parsed,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    pub fn meta(&self) -> &AotMeta {
        &self.parsed.meta
    }

    pub fn wasm_sha256(&self) -> &[u8; 32] {
        &self.parsed.wasm_sha256
    }

    /// The wasm module the code was compiled from.
    pub fn wasm(&self) -> &[u8] {
        &self.bytes()[self.parsed.wasm.clone()]
    }

    /// The code blob (not executable: see `map_code`).
    pub fn code(&self) -> &[u8] {
        &self.bytes()[self.parsed.code.clone()]
    }

    /// Offset of the code blob in the file.
    pub fn code_offset(&self) -> u64 {
        self.parsed.code.start as u64
    }

    pub fn functions(&self) -> &[FunctionEntry] {
        &self.parsed.functions
    }

    pub fn fault_sites(&self) -> &[FaultSite] {
        &self.parsed.fault_sites
    }

    /// The whole file as an image borrowing from the mapping.
    pub fn image(&self) -> AotImage<'_> {
        self.parsed.image(self.bytes())
    }

    pub fn check_target(&self, host: &HostTarget) -> Result<(), ContainerError> {
        self.meta().check_target(host)
    }

    pub fn check_compiler(&self, expected: &str) -> Result<(), ContainerError> {
        self.meta().check_compiler(expected)
    }

    pub fn check_wasm(&self, wasm: &[u8]) -> Result<(), ContainerError> {
        super::check_wasm_hash(self.wasm_sha256(), wasm)
    }

    /// Maps the code read+exec straight from the file, or copies it when
    /// the host's pages are larger than the file's code alignment.
    pub fn map_code(&self) -> Result<CodeMemory, ContainerError> {
        let offset = self.code_offset();
        let mapped = if offset.is_multiple_of(host_page_size() as u64) {
            CodeMemory::from_file(&self.file, offset, self.parsed.code.len())
        } else {
            CodeMemory::from_bytes(self.code())
        };
        mapped.map_err(ContainerError::CodeMapping)
    }
}
