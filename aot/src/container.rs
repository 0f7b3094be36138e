//! The `.aot` file: compiled code for one wasm module and one target, with
//! everything needed to decide whether it may run here.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! 0   magic            8 bytes  "\0wamrAOT"
//! 8   format version   u32
//! 12  file length      u64      (truncation is reported as such)
//! 20  checksum         32 bytes SHA-256 of the file with this field left out
//! 52  compiler version str      (str = u32 length + UTF-8)
//!     target triple    str
//!     CPU              str
//!     features         str      LLVM feature string, e.g. "+sse4.1,+popcnt"
//!     ABI              str      e.g. "lp64d"; empty for the target's default
//!     opt level        u8       0..=3
//!     wasm features    u32      bitset, see WASM_FEATURE_BITS
//!     wasm SHA-256     32 bytes
//!     helpers          u32 count, str each: runtime helpers the code calls
//!     sections         u32 count, { kind u32, offset u64, length u64 } each
//! sections, anywhere after the header, not overlapping:
//!     wasm       (1)   the module's bytes; loading re-validates them
//!     code       (2)   the linked code blob; offset is a multiple of
//!                      CODE_ALIGN so it can be mapped straight from the file
//!     functions  (3)   u32 count, { native u32, array_call u32, osr u32 }
//!                      each: entry offsets into the code, per defined
//!                      function; `osr` is u32::MAX when there is none
//!     fault sites (4)  optional: u32 count, { code offset u32, func u32 }
//!                      each, by increasing offset: the guarded memory
//!                      accesses and the wasm function (index space with
//!                      imports) whose code each is; absent = none
//! ```
//!
//! Loading checks, in order: magic, version, length, checksum, then the
//! header and section table; every failure is a `ContainerError`.

mod features;
mod file;
mod target;

use std::fmt;
use std::ops::Range;

use sha2::{Digest, Sha256};

pub use features::{WASM_FEATURE_BITS, WasmFeatures};
pub use file::AotFile;
pub use target::HostTarget;
use target::Incompatible;
pub use wamr_runtime::guard::FaultSite;

pub const MAGIC: [u8; 8] = *b"\0wamrAOT";
/// 3: code for x86_64 Linux leaves memory32 accesses to guard regions
/// (`target::guards_memory32`). 4: the target ABI, and software helpers.
pub const FORMAT_VERSION: u32 = 4;
/// Alignment of the code section within the file (the page size of every
/// supported target).
pub const CODE_ALIGN: u64 = 4096;

const VERSION_AT: usize = 8;
const FILE_LEN_AT: usize = 12;
const CHECKSUM_AT: usize = 20;
const CHECKSUM_LEN: usize = 32;
const FIXED_HEADER_LEN: usize = CHECKSUM_AT + CHECKSUM_LEN;

/// What the code was compiled from and for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AotMeta {
    /// `crate::COMPILER_VERSION` of the compiler that wrote the file.
    pub compiler_version: String,
    pub triple: String,
    pub cpu: String,
    /// LLVM feature string, e.g. `+sse4.1,+popcnt`.
    pub features: String,
    /// The target ABI (`lp64d`, `ilp32`, ...); empty for the default.
    pub abi: String,
    /// LLVM optimisation level, 0..=3.
    pub opt_level: u8,
    /// The feature set the wasm was validated and compiled with.
    pub wasm_features: WasmFeatures,
    /// Runtime helpers the code calls (`wamr_runtime::helpers::Helper`
    /// names), in slot order.
    pub helpers: Vec<String>,
}

/// Entry points of one defined wasm function, as offsets into the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionEntry {
    /// The function itself, with its native signature.
    pub native: u32,
    /// The trampoline taking arguments and results as an array of values.
    pub array_call: u32,
    /// On-stack replacement: `fn(vmctx, frame: *mut u64, loop: u32)` enters
    /// the function at the header of its `loop`-th loop with the locals
    /// read from `frame`, and writes the results back there. Only code
    /// compiled for tier-up has it.
    pub osr: Option<u32>,
}

/// How an absent OSR entry is written.
const NO_OSR: u32 = u32::MAX;

/// A parsed `.aot` image borrowing the wasm and code from the file bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AotImage<'a> {
    pub meta: AotMeta,
    pub wasm_sha256: [u8; 32],
    pub wasm: &'a [u8],
    pub code: &'a [u8],
    pub functions: Vec<FunctionEntry>,
    /// Where the code's guarded memory accesses are, and whose they are
    /// (`wamr_runtime::guard::function_at`); sorted by offset.
    pub fault_sites: Vec<FaultSite>,
}

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("not a wamr-rs .aot file (bad magic number)")]
    BadMagic,
    #[error(
        "unsupported .aot format version {found} (this build reads version {FORMAT_VERSION}); \
         recompile the module"
    )]
    UnsupportedVersion { found: u32 },
    #[error(".aot file is truncated: {actual} bytes where {expected} are needed")]
    Truncated { expected: u64, actual: u64 },
    #[error(".aot file has {actual} bytes, but its header records {expected}")]
    LengthMismatch { expected: u64, actual: u64 },
    #[error(".aot file is corrupt: checksum mismatch")]
    ChecksumMismatch,
    #[error(".aot file is malformed: {0}")]
    Malformed(String),
    #[error("unknown section kind {0} in the .aot file")]
    UnknownSection(u32),
    #[error("the .aot file has more than one {0} section")]
    DuplicateSection(&'static str),
    #[error("the .aot file has no {0} section")]
    MissingSection(&'static str),
    #[error(
        "{section} section ({len} bytes at {offset:#x}) lies outside the file body \
         ({body_start:#x}..{file_len:#x})"
    )]
    SectionOutOfBounds {
        section: &'static str,
        offset: u64,
        len: u64,
        body_start: u64,
        file_len: u64,
    },
    #[error("{first} and {second} sections overlap")]
    SectionOverlap {
        first: &'static str,
        second: &'static str,
    },
    #[error("code section at {offset:#x} is not aligned to {CODE_ALIGN} bytes")]
    CodeMisaligned { offset: u64 },
    #[error(
        "function {index}: entry offset {offset:#x} lies outside the {code_len}-byte code section"
    )]
    BadFunctionEntry {
        index: usize,
        offset: u32,
        code_len: usize,
    },
    #[error("fault site {index} (code offset {offset:#x}) {reason}")]
    BadFaultSite {
        index: usize,
        offset: u32,
        reason: &'static str,
    },
    #[error("the .aot file enables wasm features unknown to this build (bits {0:#x})")]
    UnknownWasmFeatures(u32),
    #[error("the wasm inside the .aot file does not match the hash in its header")]
    EmbeddedWasmMismatch,
    #[error("the .aot file was compiled for {file}, but this host is {host}")]
    TargetMismatch { file: String, host: String },
    #[error(
        "the .aot file was compiled for {file}, but this host ({host}) lacks {}",
        .missing.join(",")
    )]
    MissingCpuFeatures {
        file: String,
        host: String,
        missing: Vec<String>,
    },
    #[error(
        "the .aot file was compiled for {file}: cannot tell whether this host ({host}) has \
         every feature CPU `{cpu}` implies; compile for a generic CPU with explicit features"
    )]
    UnverifiableCpu {
        cpu: String,
        file: String,
        host: String,
    },
    #[error(
        "the .aot file was written by `{file}`, but this runtime is `{expected}`; recompile it"
    )]
    CompilerMismatch { file: String, expected: String },
    #[error(
        "the .aot file was compiled from wasm with SHA-256 {file}, not from this module ({actual})"
    )]
    WasmMismatch { file: String, actual: String },
    #[error(
        "the .aot file's code calls runtime helpers this runtime does not provide: {}",
        .0.join(", ")
    )]
    UnknownHelpers(Vec<String>),
    #[error("{0} too large for the .aot format")]
    TooLarge(&'static str),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot map the code executable: {0}")]
    CodeMapping(std::io::Error),
}

impl<'a> AotImage<'a> {
    /// An image for `wasm` and its compiled `code`, hashing the wasm.
    pub fn new(
        meta: AotMeta,
        wasm: &'a [u8],
        code: &'a [u8],
        functions: Vec<FunctionEntry>,
    ) -> Self {
        AotImage {
            meta,
            wasm_sha256: sha256(wasm),
            wasm,
            code,
            functions,
            fault_sites: Vec::new(),
        }
    }

    /// The image with the code's fault sites (see [`AotImage::fault_sites`]).
    pub fn with_fault_sites(self, fault_sites: Vec<FaultSite>) -> Self {
        AotImage {
            fault_sites,
            ..self
        }
    }

    /// Parses and validates a whole `.aot` file; the wasm and code stay in
    /// `bytes`.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, ContainerError> {
        let parsed = Parsed::parse(bytes)?;
        Ok(parsed.image(bytes))
    }

    /// Serialises the image as an `.aot` file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ContainerError> {
        check_functions(&self.functions, self.code.len())?;
        check_fault_sites(&self.fault_sites, self.code.len())?;
        if self.meta.opt_level > 3 {
            return Err(ContainerError::Malformed(format!(
                "opt level {} (0..=3)",
                self.meta.opt_level
            )));
        }
        let functions = encode_functions(&self.functions)?;
        // Only when there are some: files without them stay as they were.
        let fault_sites = (!self.fault_sites.is_empty())
            .then(|| encode_fault_sites(&self.fault_sites))
            .transpose()?;
        let section_count = 3 + usize::from(fault_sites.is_some());
        // The header's length depends on the number of sections only.
        let placeholder = vec![SectionEntry::new(SectionKind::Code, 0, 0); section_count];
        let header_len =
            FIXED_HEADER_LEN + encode_header(&self.meta, &self.wasm_sha256, &placeholder)?.len();
        let functions_at = header_len as u64;
        let fault_sites_at = functions_at + functions.len() as u64;
        let wasm_at = fault_sites_at + fault_sites.as_ref().map_or(0, Vec::len) as u64;
        let code_at = (wasm_at + self.wasm.len() as u64).next_multiple_of(CODE_ALIGN);
        let file_len = code_at + self.code.len() as u64;
        let mut sections = vec![
            SectionEntry::new(SectionKind::Functions, functions_at, functions.len()),
            SectionEntry::new(SectionKind::Wasm, wasm_at, self.wasm.len()),
            SectionEntry::new(SectionKind::Code, code_at, self.code.len()),
        ];
        if let Some(sites) = &fault_sites {
            sections.push(SectionEntry::new(
                SectionKind::FaultSites,
                fault_sites_at,
                sites.len(),
            ));
        }
        let header = encode_header(&self.meta, &self.wasm_sha256, &sections)?;

        let mut out = Vec::with_capacity(file_len as usize);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&file_len.to_le_bytes());
        out.extend_from_slice(&[0; CHECKSUM_LEN]);
        out.extend_from_slice(&header);
        debug_assert_eq!(out.len(), header_len);
        out.extend_from_slice(&functions);
        out.extend_from_slice(fault_sites.as_deref().unwrap_or_default());
        out.extend_from_slice(self.wasm);
        out.resize(code_at as usize, 0);
        out.extend_from_slice(self.code);
        seal(&mut out);
        Ok(out)
    }

    /// Fails unless `host` can run this code (see `AotMeta::check_target`).
    pub fn check_target(&self, host: &HostTarget) -> Result<(), ContainerError> {
        self.meta.check_target(host)
    }

    /// Fails unless the file was compiled from exactly `wasm`.
    pub fn check_wasm(&self, wasm: &[u8]) -> Result<(), ContainerError> {
        check_wasm_hash(&self.wasm_sha256, wasm)
    }
}

impl AotMeta {
    /// Fails unless `host` has the file's architecture and operating
    /// system and every CPU feature the code may use.
    pub fn check_target(&self, host: &HostTarget) -> Result<(), ContainerError> {
        let file = self.describe_target();
        match host.check(&self.triple, &self.cpu, &self.features) {
            Ok(()) => self.check_helpers(),
            Err(Incompatible::Triple) => Err(ContainerError::TargetMismatch {
                file,
                host: host.to_string(),
            }),
            Err(Incompatible::MissingFeatures(missing)) => {
                Err(ContainerError::MissingCpuFeatures {
                    file,
                    host: host.to_string(),
                    missing,
                })
            }
            Err(Incompatible::UnknownCpu) => Err(ContainerError::UnverifiableCpu {
                cpu: self.cpu.clone(),
                file,
                host: host.to_string(),
            }),
        }
    }

    /// Fails unless this runtime provides every helper the code calls.
    pub fn check_helpers(&self) -> Result<(), ContainerError> {
        let unknown: Vec<String> = self
            .helpers
            .iter()
            .filter(|name| wamr_runtime::helpers::Helper::from_name(name).is_none())
            .cloned()
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ContainerError::UnknownHelpers(unknown))
        }
    }

    /// Fails unless the file was written by compiler version `expected`
    /// (normally `crate::COMPILER_VERSION`).
    pub fn check_compiler(&self, expected: &str) -> Result<(), ContainerError> {
        if self.compiler_version == expected {
            Ok(())
        } else {
            Err(ContainerError::CompilerMismatch {
                file: self.compiler_version.clone(),
                expected: expected.to_string(),
            })
        }
    }

    /// `triple (cpu `x`, features `y`)`, for messages.
    pub fn describe_target(&self) -> String {
        let features = if self.features.is_empty() {
            "none"
        } else {
            &self.features
        };
        let abi = if self.abi.is_empty() {
            String::new()
        } else {
            format!(", abi `{}`", self.abi)
        };
        format!(
            "{} (cpu `{}`, features `{features}`{abi})",
            self.triple, self.cpu
        )
    }
}

fn check_wasm_hash(expected: &[u8; 32], wasm: &[u8]) -> Result<(), ContainerError> {
    let actual = sha256(wasm);
    if &actual == expected {
        Ok(())
    } else {
        Err(ContainerError::WasmMismatch {
            file: hex(expected),
            actual: hex(&actual),
        })
    }
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of everything but the checksum field.
fn checksum(file: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(&file[..CHECKSUM_AT]);
    hasher.update(&file[FIXED_HEADER_LEN..]);
    hasher.finalize().into()
}

/// Fills in the checksum of a complete file image.
pub(crate) fn seal(file: &mut [u8]) {
    let sum = checksum(file);
    file[CHECKSUM_AT..FIXED_HEADER_LEN].copy_from_slice(&sum);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectionKind {
    Wasm = 1,
    Code = 2,
    Functions = 3,
    FaultSites = 4,
}

impl SectionKind {
    const ALL: [SectionKind; 4] = [
        SectionKind::Wasm,
        SectionKind::Code,
        SectionKind::Functions,
        SectionKind::FaultSites,
    ];

    fn from_u32(kind: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as u32 == kind)
    }

    fn name(self) -> &'static str {
        match self {
            SectionKind::Wasm => "wasm",
            SectionKind::Code => "code",
            SectionKind::Functions => "function table",
            SectionKind::FaultSites => "fault sites",
        }
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy)]
struct SectionEntry {
    kind: SectionKind,
    offset: u64,
    len: u64,
}

impl SectionEntry {
    fn new(kind: SectionKind, offset: u64, len: usize) -> Self {
        SectionEntry {
            kind,
            offset,
            len: len as u64,
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str, what: &'static str) -> Result<(), ContainerError> {
    let len = u32::try_from(s.len()).map_err(|_| ContainerError::TooLarge(what))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// The variable part of the header, after the fixed fields.
fn encode_header(
    meta: &AotMeta,
    wasm_sha256: &[u8; 32],
    sections: &[SectionEntry],
) -> Result<Vec<u8>, ContainerError> {
    let mut out = Vec::new();
    put_str(&mut out, &meta.compiler_version, "compiler version")?;
    put_str(&mut out, &meta.triple, "target triple")?;
    put_str(&mut out, &meta.cpu, "CPU name")?;
    put_str(&mut out, &meta.features, "feature string")?;
    put_str(&mut out, &meta.abi, "ABI name")?;
    out.push(meta.opt_level);
    out.extend_from_slice(&meta.wasm_features.bits().to_le_bytes());
    out.extend_from_slice(wasm_sha256);
    let helpers =
        u32::try_from(meta.helpers.len()).map_err(|_| ContainerError::TooLarge("helper list"))?;
    out.extend_from_slice(&helpers.to_le_bytes());
    for helper in &meta.helpers {
        put_str(&mut out, helper, "helper name")?;
    }
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for s in sections {
        out.extend_from_slice(&(s.kind as u32).to_le_bytes());
        out.extend_from_slice(&s.offset.to_le_bytes());
        out.extend_from_slice(&s.len.to_le_bytes());
    }
    Ok(out)
}

fn encode_functions(functions: &[FunctionEntry]) -> Result<Vec<u8>, ContainerError> {
    let count =
        u32::try_from(functions.len()).map_err(|_| ContainerError::TooLarge("function table"))?;
    let mut out = Vec::with_capacity(4 + functions.len() * 12);
    out.extend_from_slice(&count.to_le_bytes());
    for f in functions {
        out.extend_from_slice(&f.native.to_le_bytes());
        out.extend_from_slice(&f.array_call.to_le_bytes());
        out.extend_from_slice(&f.osr.unwrap_or(NO_OSR).to_le_bytes());
    }
    Ok(out)
}

fn encode_fault_sites(sites: &[FaultSite]) -> Result<Vec<u8>, ContainerError> {
    let count = u32::try_from(sites.len()).map_err(|_| ContainerError::TooLarge("fault sites"))?;
    let mut out = Vec::with_capacity(4 + sites.len() * 8);
    out.extend_from_slice(&count.to_le_bytes());
    for site in sites {
        out.extend_from_slice(&site.code_offset.to_le_bytes());
        out.extend_from_slice(&site.func.to_le_bytes());
    }
    Ok(out)
}

fn decode_fault_sites(bytes: &[u8]) -> Result<Vec<FaultSite>, ContainerError> {
    decode_table(bytes, ("fault site", "fault-site", "sites"), 8, |reader| {
        Ok(FaultSite {
            code_offset: reader.u32("fault site")?,
            func: reader.u32("fault site")?,
        })
    })
}

/// A table section: a u32 count, then `count` records of `record` bytes
/// each read by `read`. `names` are (record, table, plural) for errors.
fn decode_table<T>(
    bytes: &[u8],
    (record_name, table_name, plural): (&str, &str, &str),
    record: u64,
    mut read: impl FnMut(&mut Reader<'_>) -> Result<T, ContainerError>,
) -> Result<Vec<T>, ContainerError> {
    let mut reader = Reader { bytes, pos: 0 };
    let count = reader.u32(&format!("{record_name} count"))? as usize;
    if bytes.len() as u64 != 4 + record * count as u64 {
        return Err(ContainerError::Malformed(format!(
            "{table_name} table of {} bytes for {count} {plural}",
            bytes.len()
        )));
    }
    (0..count).map(|_| read(&mut reader)).collect()
}

/// Every site inside the code, by strictly increasing offset (the lookup
/// binary-searches them).
fn check_fault_sites(sites: &[FaultSite], code_len: usize) -> Result<(), ContainerError> {
    let mut after = None;
    for (index, site) in sites.iter().enumerate() {
        let bad = |reason| ContainerError::BadFaultSite {
            index,
            offset: site.code_offset,
            reason,
        };
        if site.code_offset as usize >= code_len {
            return Err(bad("lies outside the code section"));
        }
        if after.is_some_and(|a| site.code_offset <= a) {
            return Err(bad("is not after the one before it"));
        }
        after = Some(site.code_offset);
    }
    Ok(())
}

fn check_functions(functions: &[FunctionEntry], code_len: usize) -> Result<(), ContainerError> {
    if u32::try_from(code_len).is_err() {
        return Err(ContainerError::TooLarge("code section"));
    }
    for (index, f) in functions.iter().enumerate() {
        for offset in [f.native, f.array_call].into_iter().chain(f.osr) {
            if offset as usize >= code_len {
                return Err(ContainerError::BadFunctionEntry {
                    index,
                    offset,
                    code_len,
                });
            }
        }
    }
    Ok(())
}

/// Bounds-checked little-endian reads over the header.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ContainerError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(ContainerError::Malformed(format!(
                "{what} at offset {:#x} runs past the end of the file",
                self.pos
            )));
        };
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ContainerError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ContainerError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, ContainerError> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, ContainerError> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn string(&mut self, what: &str) -> Result<String, ContainerError> {
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| ContainerError::Malformed(format!("{what} is not UTF-8")))
    }
}

/// A validated file: metadata plus where the sections are.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub(crate) meta: AotMeta,
    pub(crate) wasm_sha256: [u8; 32],
    pub(crate) wasm: Range<usize>,
    pub(crate) code: Range<usize>,
    pub(crate) functions: Vec<FunctionEntry>,
    pub(crate) fault_sites: Vec<FaultSite>,
}

impl Parsed {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ContainerError> {
        let actual = bytes.len() as u64;
        let magic_len = bytes.len().min(MAGIC.len());
        if bytes[..magic_len] != MAGIC[..magic_len] {
            return Err(ContainerError::BadMagic);
        }
        let truncated = |expected: usize| ContainerError::Truncated {
            expected: expected as u64,
            actual,
        };
        let version = bytes
            .get(VERSION_AT..VERSION_AT + 4)
            .ok_or_else(|| truncated(VERSION_AT + 4))?;
        let version = u32::from_le_bytes(version.try_into().unwrap_or_default());
        if version != FORMAT_VERSION {
            return Err(ContainerError::UnsupportedVersion { found: version });
        }
        if bytes.len() < FIXED_HEADER_LEN {
            return Err(truncated(FIXED_HEADER_LEN));
        }
        let mut reader = Reader {
            bytes,
            pos: FILE_LEN_AT,
        };
        let file_len = reader.u64("file length")?;
        if file_len > actual {
            return Err(ContainerError::Truncated {
                expected: file_len,
                actual,
            });
        }
        if file_len < actual {
            return Err(ContainerError::LengthMismatch {
                expected: file_len,
                actual,
            });
        }
        if bytes[CHECKSUM_AT..FIXED_HEADER_LEN] != checksum(bytes) {
            return Err(ContainerError::ChecksumMismatch);
        }
        reader.pos = FIXED_HEADER_LEN;

        // From here on the bytes are as written; errors mean a writer bug
        // or a file crafted with a valid checksum.
        let compiler_version = reader.string("compiler version")?;
        let triple = reader.string("target triple")?;
        let cpu = reader.string("CPU name")?;
        let features = reader.string("feature string")?;
        let abi = reader.string("ABI name")?;
        let opt_level = reader.u8("opt level")?;
        if opt_level > 3 {
            return Err(ContainerError::Malformed(format!(
                "opt level {opt_level} (0..=3)"
            )));
        }
        let feature_bits = reader.u32("wasm features")?;
        let wasm_features =
            WasmFeatures::from_bits(feature_bits).map_err(ContainerError::UnknownWasmFeatures)?;
        let wasm_sha256 = reader.array::<32>("wasm hash")?;
        let helper_count = reader.u32("helper count")?;
        let mut helpers = Vec::new();
        for _ in 0..helper_count {
            helpers.push(reader.string("helper name")?);
        }
        let section_count = reader.u32("section count")?;
        let mut sections = Vec::new();
        for _ in 0..section_count {
            let kind = reader.u32("section kind")?;
            let offset = reader.u64("section offset")?;
            let len = reader.u64("section length")?;
            let kind = SectionKind::from_u32(kind).ok_or(ContainerError::UnknownSection(kind))?;
            sections.push(SectionEntry { kind, offset, len });
        }
        let body_start = reader.pos as u64;
        let SectionRanges {
            wasm,
            code,
            functions,
            fault_sites,
        } = section_ranges(&sections, body_start, file_len)?;
        if !(code.start as u64).is_multiple_of(CODE_ALIGN) {
            return Err(ContainerError::CodeMisaligned {
                offset: code.start as u64,
            });
        }
        let functions = decode_functions(&bytes[functions])?;
        check_functions(&functions, code.len())?;
        let fault_sites = match fault_sites {
            Some(range) => decode_fault_sites(&bytes[range])?,
            None => Vec::new(),
        };
        check_fault_sites(&fault_sites, code.len())?;
        if sha256(&bytes[wasm.clone()]) != wasm_sha256 {
            return Err(ContainerError::EmbeddedWasmMismatch);
        }
        Ok(Parsed {
            meta: AotMeta {
                compiler_version,
                triple,
                cpu,
                features,
                abi,
                opt_level,
                wasm_features,
                helpers,
            },
            wasm_sha256,
            wasm,
            code,
            functions,
            fault_sites,
        })
    }

    pub(crate) fn image<'a>(&self, bytes: &'a [u8]) -> AotImage<'a> {
        AotImage {
            meta: self.meta.clone(),
            wasm_sha256: self.wasm_sha256,
            wasm: &bytes[self.wasm.clone()],
            code: &bytes[self.code.clone()],
            functions: self.functions.clone(),
            fault_sites: self.fault_sites.clone(),
        }
    }
}

/// Where the sections are in the file.
struct SectionRanges {
    wasm: Range<usize>,
    code: Range<usize>,
    functions: Range<usize>,
    fault_sites: Option<Range<usize>>,
}

/// Checks the section table; returns where each section is.
fn section_ranges(
    sections: &[SectionEntry],
    body_start: u64,
    file_len: u64,
) -> Result<SectionRanges, ContainerError> {
    let mut found: [Option<Range<usize>>; 4] = Default::default();
    let mut placed: Vec<(Range<u64>, SectionKind)> = Vec::new();
    for s in sections {
        let end = s.offset.checked_add(s.len).filter(|&end| end <= file_len);
        let (Some(end), true) = (end, s.offset >= body_start) else {
            return Err(ContainerError::SectionOutOfBounds {
                section: s.kind.name(),
                offset: s.offset,
                len: s.len,
                body_start,
                file_len,
            });
        };
        let slot = &mut found[s.kind as usize - 1];
        if slot.is_some() {
            return Err(ContainerError::DuplicateSection(s.kind.name()));
        }
        // In bounds of an in-memory file, so these fit in usize.
        *slot = Some(s.offset as usize..end as usize);
        placed.push((s.offset..end, s.kind));
    }
    placed.sort_by_key(|(range, _)| (range.start, range.end));
    for pair in placed.windows(2) {
        if pair[0].0.end > pair[1].0.start {
            return Err(ContainerError::SectionOverlap {
                first: pair[0].1.name(),
                second: pair[1].1.name(),
            });
        }
    }
    let take = |kind: SectionKind, slot: &mut Option<Range<usize>>| {
        slot.take()
            .ok_or(ContainerError::MissingSection(kind.name()))
    };
    let [wasm, code, functions, fault_sites] = &mut found;
    Ok(SectionRanges {
        wasm: take(SectionKind::Wasm, wasm)?,
        code: take(SectionKind::Code, code)?,
        functions: take(SectionKind::Functions, functions)?,
        fault_sites: fault_sites.take(),
    })
}

fn decode_functions(bytes: &[u8]) -> Result<Vec<FunctionEntry>, ContainerError> {
    decode_table(bytes, ("function", "function", "functions"), 12, |reader| {
        Ok(FunctionEntry {
            native: reader.u32("function entry")?,
            array_call: reader.u32("function entry")?,
            osr: Some(reader.u32("function entry")?).filter(|&o| o != NO_OSR),
        })
    })
}

#[cfg(test)]
mod tests;
