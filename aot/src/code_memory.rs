//! Executable memory for linked code blobs (see `link`).
//!
//! Code is never writable and executable at once: an in-memory blob is
//! copied into a fresh anonymous mapping that is then switched to
//! read+exec, and a blob inside an `.aot` file is mapped read+exec straight
//! from the file. Blobs need no patching (contract 6), so nothing is ever
//! written after the switch.

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapMut, MmapOptions};
use wamr_runtime::Module;
use wamr_runtime::guard::{CodeRegistration, FaultSite, register_code};

/// A read+exec mapping of one code blob.
#[derive(Debug)]
pub struct CodeMemory {
    /// Makes a guard-page fault in this code a trap (`wamr_runtime::guard`);
    /// declared first so that it is dropped before the code is unmapped.
    registration: Option<CodeRegistration>,
    /// `None` for an empty blob: there is nothing to map.
    map: Option<Mmap>,
}

/// The host's page size: mapping offsets into files must be multiples.
pub fn host_page_size() -> usize {
    rustix::param::page_size()
}

impl CodeMemory {
    /// Copies `code` into a new anonymous mapping and makes it read+exec.
    pub fn from_bytes(code: &[u8]) -> io::Result<Self> {
        if code.is_empty() {
            return Ok(CodeMemory::EMPTY);
        }
        let mut map = MmapMut::map_anon(code.len())?;
        map.copy_from_slice(code);
        // mprotect(READ|EXEC): the kernel makes the new contents visible to
        // instruction fetch when it installs executable page-table entries.
        let map = map.make_exec()?;
        tracing::trace!(bytes = code.len(), "mapped code (copied)");
        CodeMemory::registered(map)
    }

    /// Maps `len` bytes of `file` at `offset` read+exec, without copying.
    /// `offset` must be a multiple of the host page size.
    ///
    /// The mapping is shared with the file: whoever maps an `.aot` file
    /// must not modify or truncate it while its code is mapped (as for any
    /// shared library).
    pub fn from_file(file: &File, offset: u64, len: usize) -> io::Result<Self> {
        if len == 0 {
            return Ok(CodeMemory::EMPTY);
        }
        if !offset.is_multiple_of(host_page_size() as u64) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "code offset {offset:#x} is not a multiple of the host page size {}",
                    host_page_size()
                ),
            ));
        }
        // SAFETY: the mapping is read+exec and never written through; its
        // contents are only as stable as the file (documented above), and
        // callers verified the file's checksum before calling into it.
        let map = unsafe { MmapOptions::new().offset(offset).len(len).map_exec(file)? };
        tracing::trace!(bytes = len, offset, "mapped code from file");
        CodeMemory::registered(map)
    }

    const EMPTY: CodeMemory = CodeMemory {
        registration: None,
        map: None,
    };

    fn registered(map: Mmap) -> io::Result<Self> {
        let registration = register_code(map.as_ptr(), map.len()).map_err(io::Error::other)?;
        Ok(CodeMemory {
            registration: Some(registration),
            map: Some(map),
        })
    }

    /// Tells the fault handler which wasm functions of `module` the code
    /// holds, so that a guard-page trap names the right one (see
    /// `CodeRegistration::describe_functions`).
    pub fn describe_functions(
        &self,
        module: &Module,
        sites: Vec<FaultSite>,
        entries: impl IntoIterator<Item = (u32, u32)>,
    ) {
        if let Some(registration) = &self.registration {
            registration.describe_functions(module, sites, entries);
        }
    }

    /// The mapped code.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    /// The address of the code at `offset` in the blob (a function entry
    /// from `LinkedCode::symbols` or the `.aot` function table), or `None`
    /// when `offset` lies outside the blob. Calling it is `unsafe`: the
    /// caller must use the signature the code was compiled for.
    pub fn entry(&self, offset: u32) -> Option<*const u8> {
        let bytes = self.bytes();
        (usize::try_from(offset).ok()? < bytes.len()).then(|| bytes[offset as usize..].as_ptr())
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    const RETURN_42: [u8; 6] = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3]; // mov eax, 42; ret

    #[test]
    fn runs_copied_code() {
        let mem = CodeMemory::from_bytes(&RETURN_42).unwrap();
        let entry = mem.entry(0).unwrap();
        // SAFETY: `entry` points at `mov eax, 42; ret`, a complete function
        // with the C ABI, mapped read+exec for as long as `mem` lives.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn() -> i32>(entry) };
        assert_eq!(f(), 42);
        assert_eq!(mem.entry(6), None);
    }

    #[test]
    fn empty_code_maps_to_nothing() {
        let mem = CodeMemory::from_bytes(&[]).unwrap();
        assert!(mem.is_empty());
        assert_eq!(mem.entry(0), None);
    }

    #[test]
    fn rejects_unaligned_file_offset() {
        let file = tempfile::tempfile().unwrap();
        let err = CodeMemory::from_file(&file, 12, 6).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
