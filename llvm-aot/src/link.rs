//! Turns the ELF relocatable object LLVM emits into one flat code blob.
//!
//! No system linker exists at run time, and compiled code must run mapped
//! read-only at any address without patching (contract 6). So every
//! relocation is resolved here, once: the object's own allocated sections
//! are laid out back to back (code first, then read-only data), and each
//! relocation must be PC-relative between two places inside the blob.
//! Anything else — an undefined symbol, an absolute address, writable data —
//! is an error naming what caused it.
//!
//! One writable section is expected: [`FAULT_SECTION`], where LLVM records
//! each guarded memory access (the translator tags them with `!pcsections`
//! metadata). It is laid out after everything else, relocated like the
//! rest, decoded into [`LinkedCode::fault_sites`] and cut off the blob.
//!
//! RISC-V: the target machine may have linker relaxation on or off. With it
//! on, the assembler leaves even intra-function branches as relocations
//! (all handled here) and pads alignment directives with `R_RISCV_ALIGN`
//! NOPs that a relaxing linker would shrink; we keep the code exactly as
//! emitted (the NOPs stay, only the alignment of the padded label is not
//! achieved), so disabling `relax` gives tighter code.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use object::elf;
use object::{
    Architecture, BinaryFormat, Object, ObjectKind, ObjectSection, ObjectSymbol, RelocationFlags,
    RelocationTarget, SectionIndex, SymbolKind, SymbolSection,
};
pub use wamr_runtime::guard::FaultSite;

/// The largest section alignment the blob can honour: code memory is
/// page-aligned, and the `.aot` container page-aligns the code section.
pub const MAX_SECTION_ALIGN: u64 = 4096;

/// The section `!pcsections !{!"wamr_faults!C", !{i32 func}}` metadata
/// makes LLVM emit. Per function and tag, a group: the address of each
/// instruction with that tag relative to its own field (32 bits, a
/// PC-relative relocation each), then `func` once, as a ULEB128. Only the
/// relocations tell where a group's addresses end.
pub const FAULT_SECTION: &str = "wamr_faults";

/// Position-independent machine code with every relocation resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedCode {
    /// Code followed by its read-only data; runs unmodified at any
    /// `MAX_SECTION_ALIGN`-aligned address.
    pub blob: Vec<u8>,
    /// Defined function symbols (global and local) -> offset in `blob`.
    pub symbols: BTreeMap<String, u32>,
    /// The guarded memory accesses in the code and the wasm function each
    /// belongs to, sorted by offset, one per offset.
    pub fault_sites: Vec<FaultSite>,
    /// Diagnostics: how many relocations of each kind were resolved.
    pub relocations: BTreeMap<String, u32>,
}

/// Where a relocation sits and what it refers to, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocSite {
    pub kind: String,
    pub symbol: String,
    pub section: String,
    pub offset: u64,
}

impl fmt::Display for RelocSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} against `{}` at {}+{:#x}",
            self.kind, self.symbol, self.section, self.offset
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot read the object file: {0}")]
    Object(#[from] object::Error),
    #[error("unsupported object file: {0}")]
    UnsupportedObject(String),
    #[error(
        "the object has undefined symbols: {}; compiled code may reach the runtime only through \
         the VM context's function table",
        .0.join(", ")
    )]
    UndefinedSymbols(Vec<String>),
    #[error("common symbol `{0}`: compiled code must keep no writable state of its own")]
    CommonSymbol(String),
    #[error(
        "section `{section}` holds {size} bytes of writable or thread-local data; compiled code \
         must keep its state in the VM context"
    )]
    WritableData { section: String, size: u64 },
    #[error(
        "section `{section}` needs {align}-byte alignment, more than the {MAX_SECTION_ALIGN} bytes \
         code memory guarantees"
    )]
    Alignment { section: String, align: u64 },
    #[error(
        "absolute relocation {0}: the code must run unpatched at any address (emit \
         position-independent code)"
    )]
    AbsoluteRelocation(RelocSite),
    #[error("unsupported relocation {site}: {reason}")]
    UnsupportedRelocation { site: RelocSite, reason: String },
    #[error("relocation {site} is out of range (value {value:#x})")]
    Overflow { site: RelocSite, value: i64 },
    #[error("relocation {0} refers to a place outside the code blob")]
    OutsideBlob(RelocSite),
    #[error("duplicate function symbol `{0}`")]
    DuplicateSymbol(String),
    #[error("code blob of {0} bytes exceeds the 4 GiB limit")]
    TooLarge(u64),
    #[error("section `{FAULT_SECTION}` is malformed at {offset:#x}: {reason}")]
    FaultSites { offset: u64, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arch {
    X86_64,
    Riscv64,
    Riscv32,
}

impl Arch {
    fn reloc_name(self, r_type: elf::RelocationType) -> String {
        let names = match self {
            Arch::X86_64 => &elf::NAMES_R_X86_64,
            Arch::Riscv64 | Arch::Riscv32 => &elf::NAMES_R_RISCV,
        };
        names
            .name(r_type)
            .map_or_else(|| format!("relocation type {}", r_type.0), str::to_string)
    }
}

/// Links one object file into a flat blob. See the module documentation.
pub fn link(object_bytes: &[u8]) -> Result<LinkedCode, LinkError> {
    link_objects(&[object_bytes])
}

/// Links several objects of one target into one flat blob: the objects a
/// module's functions were compiled into in parallel. A symbol undefined in
/// one object must be a global defined by another.
pub fn link_objects(objects: &[&[u8]]) -> Result<LinkedCode, LinkError> {
    let files = objects
        .iter()
        .map(|bytes| object::File::parse(*bytes))
        .collect::<Result<Vec<_>, _>>()?;
    let mut arch = None;
    for file in &files {
        let this = object_arch(file)?;
        if arch.is_some_and(|a| a != this) {
            return Err(LinkError::UnsupportedObject(
                "objects for different architectures".into(),
            ));
        }
        arch = Some(this);
    }
    let Some(arch) = arch else {
        return Ok(LinkedCode {
            blob: Vec::new(),
            symbols: BTreeMap::new(),
            fault_sites: Vec::new(),
            relocations: BTreeMap::new(),
        });
    };
    check_symbols(&files)?;
    let mut linker = Linker::layout(&files, arch)?;
    let symbols = linker.function_symbols()?;
    linker.relocate()?;
    let fault_sites = linker.fault_sites()?;
    linker.blob.truncate(linker.kept_len as usize);
    tracing::debug!(
        arch = ?arch,
        bytes = linker.blob.len(),
        functions = symbols.len(),
        fault_sites = fault_sites.len(),
        relocations = ?linker.stats,
        "linked object into a flat code blob"
    );
    Ok(LinkedCode {
        blob: linker.blob,
        symbols,
        fault_sites,
        relocations: linker.stats,
    })
}

fn object_arch(file: &object::File<'_>) -> Result<Arch, LinkError> {
    if file.format() != BinaryFormat::Elf || file.kind() != ObjectKind::Relocatable {
        return Err(LinkError::UnsupportedObject(format!(
            "expected an ELF relocatable object, found {:?} {:?}",
            file.format(),
            file.kind()
        )));
    }
    if !file.is_little_endian() {
        return Err(LinkError::UnsupportedObject("big-endian object".into()));
    }
    match file.architecture() {
        Architecture::X86_64 => Ok(Arch::X86_64),
        Architecture::Riscv64 => Ok(Arch::Riscv64),
        Architecture::Riscv32 => Ok(Arch::Riscv32),
        other => Err(LinkError::UnsupportedObject(format!(
            "architecture {other:?} (supported: x86_64, riscv64, riscv32)"
        ))),
    }
}

/// Fails naming every symbol no object defines (and any common symbol),
/// all at once.
fn check_symbols(files: &[object::File<'_>]) -> Result<(), LinkError> {
    let defined: std::collections::HashSet<&str> = files
        .iter()
        .flat_map(|f| f.symbols())
        .filter(|s| s.is_global() && s.is_definition())
        .filter_map(|s| s.name().ok())
        .collect();
    let mut undefined = Vec::new();
    for sym in files.iter().flat_map(|f| f.symbols()) {
        if matches!(sym.kind(), SymbolKind::File | SymbolKind::Section) {
            continue;
        }
        let name = sym.name().unwrap_or("<invalid name>");
        match sym.section() {
            SymbolSection::Undefined if !name.is_empty() && !defined.contains(name) => {
                undefined.push(name.to_string())
            }
            SymbolSection::Common => return Err(LinkError::CommonSymbol(name.to_string())),
            _ => {}
        }
    }
    if undefined.is_empty() {
        Ok(())
    } else {
        undefined.sort();
        undefined.dedup();
        Err(LinkError::UndefinedSymbols(undefined))
    }
}

/// How a section takes part in the blob.
enum Placement {
    Code,
    ReadOnly,
    FaultSites,
    Skip,
}

fn placement(section: &object::Section<'_, '_>) -> Result<Placement, LinkError> {
    let name = section.name().unwrap_or("");
    let (sh_type, sh_flags) = match section.flags() {
        object::SectionFlags::Elf { sh_type, sh_flags } => (sh_type, sh_flags),
        _ => return Ok(Placement::Skip),
    };
    // Unwind tables and the exception tables only they refer to are not
    // needed (functions are `nounwind`); notes, debug info, attributes and
    // symbol tables are not loaded.
    if !sh_flags.contains(elf::SHF_ALLOC)
        || name.starts_with(".eh_frame")
        || name.starts_with(".gcc_except_table")
        || name.starts_with(".note")
    {
        return Ok(Placement::Skip);
    }
    let size = section.size();
    // Writable only because LLVM marks it so; nothing writes it at run time.
    if name == FAULT_SECTION
        && sh_type == elf::SHT_PROGBITS
        && !sh_flags.contains(elf::SHF_TLS | elf::SHF_EXECINSTR)
    {
        return Ok(Placement::FaultSites);
    }
    // `.data.rel.ro` is only writable so a dynamic loader can relocate it;
    // once its relocations are resolved here it is plain read-only data.
    let relro = name.starts_with(".data.rel.ro");
    let writable = (sh_flags.contains(elf::SHF_WRITE) && !relro)
        || sh_flags.contains(elf::SHF_TLS)
        || sh_type == elf::SHT_NOBITS;
    if writable {
        return if size == 0 {
            Ok(Placement::Skip)
        } else {
            Err(LinkError::WritableData {
                section: name.to_string(),
                size,
            })
        };
    }
    Ok(if sh_flags.contains(elf::SHF_EXECINSTR) {
        Placement::Code
    } else {
        Placement::ReadOnly
    })
}

/// A section of one of the objects being linked: (object, section).
type SectionKey = (usize, SectionIndex);

struct Linker<'a, 'data> {
    files: &'a [object::File<'data>],
    arch: Arch,
    blob: Vec<u8>,
    /// Blob offset of every section placed in the blob.
    bases: HashMap<SectionKey, u64>,
    /// Placed sections in layout order, with their object.
    placed: Vec<(usize, object::Section<'data, 'a>)>,
    /// Length of the code sections, which come first.
    code_len: u64,
    /// Length of the blob without the fault-site sections, which follow.
    kept_len: u64,
    /// Blob offsets of the relocated fields in fault-site sections.
    fault_fields: std::collections::BTreeSet<u64>,
    /// Blob offset of every global symbol some object defines.
    globals: HashMap<String, u64>,
    stats: BTreeMap<String, u32>,
}

/// One relocation, decoded and with its place resolved.
struct Reloc {
    r_type: elf::RelocationType,
    /// Blob offset of the field being patched.
    place: u64,
    /// Blob range of the section holding it: fields and the instruction
    /// bytes a relaxation rewrites must stay inside.
    section: std::ops::Range<u64>,
    /// Blob offset of the target (S), or the reason it has none.
    target: Result<u64, TargetProblem>,
    addend: i64,
    site: RelocSite,
}

enum TargetProblem {
    Absolute,
    Outside,
}

impl Reloc {
    /// S + A.
    fn target_value(&self) -> Result<i64, LinkError> {
        match self.target {
            Ok(s) => Ok((s as i64).wrapping_add(self.addend)),
            Err(TargetProblem::Absolute) => Err(LinkError::AbsoluteRelocation(self.site.clone())),
            Err(TargetProblem::Outside) => Err(LinkError::OutsideBlob(self.site.clone())),
        }
    }

    /// S + A - P.
    fn pc_relative(&self) -> Result<i64, LinkError> {
        Ok(self.target_value()?.wrapping_sub(self.place as i64))
    }

    fn unsupported(&self, reason: impl Into<String>) -> LinkError {
        LinkError::UnsupportedRelocation {
            site: self.site.clone(),
            reason: reason.into(),
        }
    }

    fn overflow(&self, value: i64) -> LinkError {
        LinkError::Overflow {
            site: self.site.clone(),
            value,
        }
    }
}

impl<'a, 'data> Linker<'a, 'data> {
    fn layout(files: &'a [object::File<'data>], arch: Arch) -> Result<Self, LinkError> {
        let mut code = Vec::new();
        let mut rodata = Vec::new();
        let mut faults = Vec::new();
        for (obj, file) in files.iter().enumerate() {
            for section in file.sections() {
                match placement(&section)? {
                    Placement::Code => code.push((obj, section)),
                    Placement::ReadOnly => rodata.push((obj, section)),
                    Placement::FaultSites => faults.push((obj, section)),
                    Placement::Skip => {}
                }
            }
        }
        let mut blob = Vec::new();
        let mut bases = HashMap::new();
        let mut placed = Vec::new();
        let mut code_len = 0;
        let mut kept_len = None;
        let code = code.into_iter().map(|s| (Placement::Code, s));
        let rodata = rodata.into_iter().map(|s| (Placement::ReadOnly, s));
        let faults = faults.into_iter().map(|s| (Placement::FaultSites, s));
        for (kind, (obj, section)) in code.chain(rodata).chain(faults) {
            if matches!(kind, Placement::FaultSites) && kept_len.is_none() {
                kept_len = Some(blob.len() as u64);
            }
            let name = section.name().unwrap_or("").to_string();
            let align = section.align().max(1);
            if !align.is_power_of_two() || align > MAX_SECTION_ALIGN {
                return Err(LinkError::Alignment {
                    section: name,
                    align,
                });
            }
            let base = (blob.len() as u64).next_multiple_of(align);
            let data = section.data()?;
            if data.len() as u64 != section.size() {
                return Err(LinkError::UnsupportedObject(format!(
                    "section `{name}` has {} bytes of content for a size of {}",
                    data.len(),
                    section.size()
                )));
            }
            let end = base + data.len() as u64;
            if end > u64::from(u32::MAX) {
                return Err(LinkError::TooLarge(end));
            }
            blob.resize(base as usize, 0);
            blob.extend_from_slice(data);
            bases.insert((obj, section.index()), base);
            placed.push((obj, section));
            if matches!(kind, Placement::Code) {
                code_len = end;
            }
        }
        let mut globals = HashMap::new();
        for (obj, file) in files.iter().enumerate() {
            for sym in file.symbols() {
                if !sym.is_global() || !sym.is_definition() {
                    continue;
                }
                let (Ok(name), Some(base)) = (
                    sym.name(),
                    sym.section_index().and_then(|i| bases.get(&(obj, i))),
                ) else {
                    continue;
                };
                if globals
                    .insert(name.to_string(), base + sym.address())
                    .is_some()
                {
                    return Err(LinkError::DuplicateSymbol(name.to_string()));
                }
            }
        }
        let kept_len = kept_len.unwrap_or(blob.len() as u64);
        Ok(Linker {
            files,
            arch,
            blob,
            bases,
            placed,
            code_len,
            kept_len,
            fault_fields: Default::default(),
            globals,
            stats: BTreeMap::new(),
        })
    }

    fn function_symbols(&self) -> Result<BTreeMap<String, u32>, LinkError> {
        let mut symbols = BTreeMap::new();
        let several = self.files.len() > 1;
        for (obj, file) in self.files.iter().enumerate() {
            for sym in file.symbols() {
                if sym.kind() != SymbolKind::Text {
                    continue;
                }
                let Some(base) = sym.section_index().and_then(|i| self.bases.get(&(obj, i))) else {
                    continue;
                };
                let name = sym.name()?;
                // Local names may repeat across objects; only globals are
                // entry points then.
                if name.is_empty() || (several && !sym.is_global()) {
                    continue;
                }
                let offset = u32::try_from(base + sym.address())
                    .map_err(|_| LinkError::TooLarge(base + sym.address()))?;
                if symbols.insert(name.to_string(), offset).is_some() {
                    return Err(LinkError::DuplicateSymbol(name.to_string()));
                }
            }
        }
        Ok(symbols)
    }

    /// Decodes every relocation of the placed sections, in layout order.
    fn collect(&self) -> Result<Vec<Reloc>, LinkError> {
        let mut relocs = Vec::new();
        for (obj, section) in &self.placed {
            let obj = *obj;
            let base = self.bases[&(obj, section.index())];
            let section_name = section.name().unwrap_or("");
            for (offset, reloc) in section.relocations() {
                let RelocationFlags::Elf { r_type } = reloc.flags() else {
                    return Err(LinkError::UnsupportedObject(
                        "non-ELF relocation in an ELF file".into(),
                    ));
                };
                let (target, symbol) = self.resolve(obj, reloc.target())?;
                let site = RelocSite {
                    kind: self.arch.reloc_name(r_type),
                    symbol,
                    section: section_name.to_string(),
                    offset,
                };
                if reloc.has_implicit_addend() {
                    return Err(LinkError::UnsupportedRelocation {
                        site,
                        reason: "REL relocations with implicit addends".into(),
                    });
                }
                relocs.push(Reloc {
                    r_type,
                    place: base + offset,
                    section: base..base + section.size(),
                    target,
                    addend: reloc.addend(),
                    site,
                });
            }
        }
        Ok(relocs)
    }

    /// A relocation target's blob offset, and a name for messages.
    fn resolve(
        &self,
        obj: usize,
        target: RelocationTarget,
    ) -> Result<(Result<u64, TargetProblem>, String), LinkError> {
        let file = &self.files[obj];
        let section_place = |index: SectionIndex, value: u64| {
            self.bases
                .get(&(obj, index))
                .map(|base| base + value)
                .ok_or(TargetProblem::Outside)
        };
        let section_name = |index: SectionIndex| {
            file.section_by_index(index)
                .ok()
                .and_then(|s| s.name().ok().map(str::to_string))
                .unwrap_or_else(|| format!("section #{}", index.0))
        };
        Ok(match target {
            RelocationTarget::Symbol(index) => {
                let sym = file.symbol_by_index(index)?;
                let mut name = sym.name().unwrap_or("").to_string();
                let place = match sym.section() {
                    SymbolSection::Section(si) => {
                        if name.is_empty() {
                            name = section_name(si);
                        }
                        section_place(si, sym.address())
                    }
                    SymbolSection::Absolute | SymbolSection::None => Err(TargetProblem::Absolute),
                    // Defined by another object (checked by `check_symbols`).
                    SymbolSection::Undefined => self
                        .globals
                        .get(&name)
                        .copied()
                        .ok_or(TargetProblem::Outside),
                    _ => Err(TargetProblem::Outside),
                };
                (place, name)
            }
            RelocationTarget::Section(si) => (section_place(si, 0), section_name(si)),
            _ => (Err(TargetProblem::Absolute), "<absolute>".to_string()),
        })
    }

    fn relocate(&mut self) -> Result<(), LinkError> {
        let relocs = self.collect()?;
        // The fault-site sections are cut off the blob after linking.
        let into_cut = |r: &&Reloc| {
            r.place < self.kept_len && r.target.as_ref().is_ok_and(|&t| t >= self.kept_len)
        };
        if let Some(r) = relocs.iter().find(into_cut) {
            return Err(LinkError::OutsideBlob(r.site.clone()));
        }
        self.fault_fields = relocs
            .iter()
            .filter(|r| r.place >= self.kept_len)
            .map(|r| r.place)
            .collect();
        match self.arch {
            Arch::X86_64 => {
                for r in &relocs {
                    self.apply_x86_64(r)?;
                    *self.stats.entry(r.site.kind.clone()).or_default() += 1;
                }
            }
            Arch::Riscv64 | Arch::Riscv32 => self.apply_riscv(&relocs)?,
        }
        Ok(())
    }

    /// Decodes the relocated fault-site sections (see [`FAULT_SECTION`]).
    fn fault_sites(&self) -> Result<Vec<FaultSite>, LinkError> {
        let mut sites = Vec::new();
        for (obj, section) in &self.placed {
            let base = self.bases[&(*obj, section.index())];
            if base < self.kept_len {
                continue;
            }
            // Placed sections lie inside the blob (checked by layout).
            let bytes = &self.blob[base as usize..(base + section.size()) as usize];
            let is_field = |at: usize| self.fault_fields.contains(&(base + at as u64));
            // Code offsets of the group being read, before its function.
            let mut group = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                let malformed = |reason: &str| LinkError::FaultSites {
                    offset: at as u64,
                    reason: reason.to_string(),
                };
                if is_field(at) {
                    let field = bytes
                        .get(at..at + 4)
                        .ok_or_else(|| malformed("an address is cut short"))?;
                    let delta = i32::from_le_bytes(field.try_into().expect("4 bytes"));
                    let code_offset = (base + at as u64)
                        .checked_add_signed(i64::from(delta))
                        .filter(|&o| o < self.code_len)
                        .ok_or_else(|| malformed("an address lies outside the code"))?;
                    group.push(code_offset as u32);
                    at += 4;
                    continue;
                }
                let (func, len) = uleb128_u32(&bytes[at..])
                    .filter(|&(_, len)| !(at + 1..at + len).any(is_field))
                    .ok_or_else(|| malformed("a function index is cut short or too large"))?;
                if group.is_empty() {
                    return Err(malformed("a function index follows no address"));
                }
                sites.extend(
                    group
                        .drain(..)
                        .map(|code_offset| FaultSite { code_offset, func }),
                );
                at += len;
            }
            if !group.is_empty() {
                return Err(LinkError::FaultSites {
                    offset: bytes.len() as u64,
                    reason: "the last addresses have no function index".into(),
                });
            }
        }
        // Two tags on one instruction would be LLVM merging two accesses;
        // either function is right, so keep one.
        sites.sort_unstable();
        sites.dedup_by_key(|s| s.code_offset);
        Ok(sites)
    }

    /// The `N` bytes at `at`, which must lie inside `r`'s section.
    fn bytes_mut<const N: usize>(&mut self, r: &Reloc, at: u64) -> Result<&mut [u8; N], LinkError> {
        let field = self.field_mut(r, at, N)?;
        Ok(field.try_into().expect("field_mut returns exactly N bytes"))
    }

    fn field_mut(&mut self, r: &Reloc, at: u64, len: usize) -> Result<&mut [u8], LinkError> {
        let inside = r.section.start <= at
            && at
                .checked_add(len as u64)
                .is_some_and(|end| end <= r.section.end);
        if !inside {
            return Err(r.unsupported("the patched bytes extend outside their section"));
        }
        // Section ranges lie inside the blob (checked by layout).
        Ok(&mut self.blob[at as usize..at as usize + len])
    }

    fn read_u32(&mut self, r: &Reloc, at: u64) -> Result<u32, LinkError> {
        Ok(u32::from_le_bytes(*self.bytes_mut::<4>(r, at)?))
    }

    fn write_u32(&mut self, r: &Reloc, at: u64, value: u32) -> Result<(), LinkError> {
        *self.bytes_mut::<4>(r, at)? = value.to_le_bytes();
        Ok(())
    }

    fn write_i32_checked(&mut self, r: &Reloc, at: u64, value: i64) -> Result<(), LinkError> {
        let v = i32::try_from(value).map_err(|_| r.overflow(value))?;
        self.write_u32(r, at, v as u32)
    }

    fn apply_x86_64(&mut self, r: &Reloc) -> Result<(), LinkError> {
        match r.r_type {
            elf::R_X86_64_NONE => Ok(()),
            // A PLT call to a function defined in the same object is a
            // direct call: nothing can interpose it.
            elf::R_X86_64_PC32 | elf::R_X86_64_PLT32 => {
                let v = r.pc_relative()?;
                self.write_i32_checked(r, r.place, v)
            }
            elf::R_X86_64_PC64 => {
                let v = r.pc_relative()?;
                *self.bytes_mut::<8>(r, r.place)? = v.to_le_bytes();
                Ok(())
            }
            elf::R_X86_64_GOTPCRELX | elf::R_X86_64_REX_GOTPCRELX => self.relax_gotpcrelx(r),
            elf::R_X86_64_64
            | elf::R_X86_64_32
            | elf::R_X86_64_32S
            | elf::R_X86_64_16
            | elf::R_X86_64_8 => Err(LinkError::AbsoluteRelocation(r.site.clone())),
            elf::R_X86_64_GOTPCREL => Err(
                r.unsupported("a GOT load that is not marked relaxable; make the symbol dso_local")
            ),
            _ => Err(r.unsupported("not produced for position-independent code")),
        }
    }

    /// The blob has no GOT: rewrite a GOT load of a local symbol into a
    /// direct PC-relative form, as linkers do for symbols they can resolve.
    fn relax_gotpcrelx(&mut self, r: &Reloc) -> Result<(), LinkError> {
        let value = r.pc_relative()?;
        let not_relaxable = || r.unsupported("instruction form cannot be relaxed without a GOT");
        let at = r.place.wrapping_sub(2);
        let [op, modrm] = *self.bytes_mut::<2>(r, at)?;
        // Only RIP-relative operands (mod = 00, r/m = 101) are GOT loads.
        if modrm & 0xc7 != 0x05 {
            return Err(not_relaxable());
        }
        let rex_ok = r.r_type != elf::R_X86_64_REX_GOTPCRELX
            || self
                .bytes_mut::<1>(r, r.place.wrapping_sub(3))
                .is_ok_and(|[rex]| *rex & 0xf0 == 0x40);
        match (op, modrm) {
            // mov foo@GOTPCREL(%rip), %reg -> lea foo(%rip), %reg
            (0x8b, _) if rex_ok => {
                self.blob[at as usize] = 0x8d;
                self.write_i32_checked(r, r.place, value)
            }
            // call *foo@GOTPCREL(%rip) -> addr32 call foo
            (0xff, 0x15) if r.r_type == elf::R_X86_64_GOTPCRELX => {
                *self.bytes_mut::<2>(r, at)? = [0x67, 0xe8];
                self.write_i32_checked(r, r.place, value)
            }
            // jmp *foo@GOTPCREL(%rip) -> jmp foo; nop (the displacement
            // moves one byte earlier, so it is relative to one byte later).
            (0xff, 0x25) if r.r_type == elf::R_X86_64_GOTPCRELX => {
                self.blob[at as usize] = 0xe9;
                self.write_i32_checked(r, r.place - 1, value + 1)?;
                *self.bytes_mut::<1>(r, r.place + 3)? = [0x90];
                Ok(())
            }
            _ => Err(not_relaxable()),
        }
    }

    fn apply_riscv(&mut self, relocs: &[Reloc]) -> Result<(), LinkError> {
        // A %pcrel_lo relocation names the AUIPC that carries the high
        // part; its value is that AUIPC's (S + A - P). `true` marks a GOT
        // access relaxed into a direct address.
        let mut hi_parts: HashMap<u64, (i64, bool)> = HashMap::new();
        for r in relocs {
            match r.r_type {
                elf::R_RISCV_PCREL_HI20 => {
                    hi_parts.insert(r.place, (r.pc_relative()?, false));
                }
                elf::R_RISCV_GOT_HI20 => {
                    hi_parts.insert(r.place, (r.pc_relative()?, true));
                }
                _ => {}
            }
        }
        // ADD/SUB pairs encode label differences; an unpaired one would
        // leave an absolute address behind.
        let mut pairs: HashMap<(u64, usize), (i32, usize)> = HashMap::new();
        for (i, r) in relocs.iter().enumerate() {
            self.apply_riscv_one(r, &hi_parts)?;
            if let Some((width, add)) = riscv_add_sub(r.r_type) {
                let entry = pairs.entry((r.place, width)).or_insert((0, i));
                entry.0 += if add { 1 } else { -1 };
            }
            *self.stats.entry(r.site.kind.clone()).or_default() += 1;
        }
        if let Some(&(_, i)) = pairs.values().find(|(balance, _)| *balance != 0) {
            return Err(LinkError::AbsoluteRelocation(relocs[i].site.clone()));
        }
        Ok(())
    }

    fn apply_riscv_one(
        &mut self,
        r: &Reloc,
        hi_parts: &HashMap<u64, (i64, bool)>,
    ) -> Result<(), LinkError> {
        if let Some((width, add)) = riscv_add_sub(r.r_type) {
            return self.apply_add_sub(r, width, add);
        }
        match r.r_type {
            // Markers: RELAX permits rewriting we never do; ALIGN padding
            // stays as emitted (see the module documentation).
            elf::R_RISCV_NONE | elf::R_RISCV_RELAX => Ok(()),
            elf::R_RISCV_ALIGN => {
                tracing::debug!(at = %r.site, "R_RISCV_ALIGN: keeping the assembler's NOP padding");
                Ok(())
            }
            elf::R_RISCV_PCREL_HI20 | elf::R_RISCV_GOT_HI20 => {
                let v = r.pc_relative()?;
                let insn = self.read_u32(r, r.place)?;
                let hi = riscv::hi20(v).ok_or_else(|| r.overflow(v))?;
                self.write_u32(r, r.place, riscv::set_u_imm(insn, hi))
            }
            elf::R_RISCV_PCREL_LO12_I | elf::R_RISCV_PCREL_LO12_S => {
                if r.addend != 0 {
                    return Err(r.unsupported("non-zero addend on a %pcrel_lo relocation"));
                }
                let label = r.target_value()? as u64;
                let &(v, got) = hi_parts
                    .get(&label)
                    .ok_or_else(|| r.unsupported("its label has no PCREL_HI20/GOT_HI20"))?;
                let lo = riscv::lo12(v);
                let mut insn = self.read_u32(r, r.place)?;
                if got {
                    insn = self.got_load_to_addi(r, insn)?;
                }
                insn = if r.r_type == elf::R_RISCV_PCREL_LO12_I {
                    riscv::set_i_imm(insn, lo)
                } else {
                    riscv::set_s_imm(insn, lo)
                };
                self.write_u32(r, r.place, insn)
            }
            elf::R_RISCV_CALL | elf::R_RISCV_CALL_PLT => {
                let v = r.pc_relative()?;
                let hi = riscv::hi20(v).ok_or_else(|| r.overflow(v))?;
                let auipc = self.read_u32(r, r.place)?;
                let jalr = self.read_u32(r, r.place + 4)?;
                self.write_u32(r, r.place, riscv::set_u_imm(auipc, hi))?;
                self.write_u32(r, r.place + 4, riscv::set_i_imm(jalr, riscv::lo12(v)))
            }
            elf::R_RISCV_BRANCH => {
                let v = r.pc_relative()?;
                let insn = self.read_u32(r, r.place)?;
                let insn = riscv::set_b_imm(insn, v).ok_or_else(|| r.overflow(v))?;
                self.write_u32(r, r.place, insn)
            }
            elf::R_RISCV_JAL => {
                let v = r.pc_relative()?;
                let insn = self.read_u32(r, r.place)?;
                let insn = riscv::set_j_imm(insn, v).ok_or_else(|| r.overflow(v))?;
                self.write_u32(r, r.place, insn)
            }
            elf::R_RISCV_RVC_BRANCH | elf::R_RISCV_RVC_JUMP => {
                let v = r.pc_relative()?;
                let field = self.bytes_mut::<2>(r, r.place)?;
                let insn = u16::from_le_bytes(*field);
                let insn = if r.r_type == elf::R_RISCV_RVC_BRANCH {
                    riscv::set_cb_imm(insn, v)
                } else {
                    riscv::set_cj_imm(insn, v)
                };
                *field = insn.ok_or_else(|| r.overflow(v))?.to_le_bytes();
                Ok(())
            }
            elf::R_RISCV_32_PCREL | elf::R_RISCV_PLT32 => {
                let v = r.pc_relative()?;
                self.write_i32_checked(r, r.place, v)
            }
            elf::R_RISCV_32
            | elf::R_RISCV_64
            | elf::R_RISCV_HI20
            | elf::R_RISCV_LO12_I
            | elf::R_RISCV_LO12_S
            | elf::R_RISCV_RVC_LUI
            | elf::R_RISCV_SET6
            | elf::R_RISCV_SET8
            | elf::R_RISCV_SET16
            | elf::R_RISCV_SET32 => Err(LinkError::AbsoluteRelocation(r.site.clone())),
            _ => Err(r.unsupported("not produced for position-independent code")),
        }
    }

    /// One half of a label difference: the field += or -= (S + A).
    fn apply_add_sub(&mut self, r: &Reloc, width: usize, add: bool) -> Result<(), LinkError> {
        let v = r.target_value()? as u64;
        let field = self.field_mut(r, r.place, width)?;
        let mut buf = [0u8; 8];
        buf[..width].copy_from_slice(field);
        let old = u64::from_le_bytes(buf);
        let new = if add {
            old.wrapping_add(v)
        } else {
            old.wrapping_sub(v)
        };
        field.copy_from_slice(&new.to_le_bytes()[..width]);
        Ok(())
    }

    /// `ld`/`lw rd, %pcrel_lo(x)(rs)` reading a GOT slot becomes
    /// `addi rd, rs, %pcrel_lo(x)`: the address itself instead of a load.
    fn got_load_to_addi(&self, r: &Reloc, insn: u32) -> Result<u32, LinkError> {
        const LOAD: u32 = 0x03;
        let funct3 = (insn >> 12) & 7;
        let word_load = if self.arch == Arch::Riscv64 { 3 } else { 2 };
        if insn & 0x7f != LOAD || funct3 != word_load {
            return Err(r.unsupported(
                "GOT access other than a pointer-sized load cannot be relaxed without a GOT",
            ));
        }
        const ADDI: u32 = 0x13;
        Ok((insn & !0x707f) | ADDI)
    }
}

/// A ULEB128 that fits a u32 at the start of `bytes`, and its length.
fn uleb128_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(5) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((u32::try_from(value).ok()?, i + 1));
        }
    }
    None
}

/// Width in bytes and direction of a RISC-V ADD/SUB relocation.
fn riscv_add_sub(r_type: elf::RelocationType) -> Option<(usize, bool)> {
    Some(match r_type {
        elf::R_RISCV_ADD8 => (1, true),
        elf::R_RISCV_ADD16 => (2, true),
        elf::R_RISCV_ADD32 => (4, true),
        elf::R_RISCV_ADD64 => (8, true),
        elf::R_RISCV_SUB8 => (1, false),
        elf::R_RISCV_SUB16 => (2, false),
        elf::R_RISCV_SUB32 => (4, false),
        elf::R_RISCV_SUB64 => (8, false),
        _ => return None,
    })
}

/// RISC-V immediate encodings. Each `set_*` returns `None` when the value
/// does not fit the field or is misaligned for it.
pub(crate) mod riscv {
    fn fits(value: i64, bits: u32) -> bool {
        let half = 1i64 << (bits - 1);
        (-half..half).contains(&value)
    }

    /// The AUIPC part of a 32-bit PC-relative value, rounded so that the
    /// sign-extended low 12 bits complete it.
    pub fn hi20(value: i64) -> Option<u32> {
        let hi = (value + 0x800) >> 12;
        fits(hi, 20).then_some((hi as u32) & 0xf_ffff)
    }

    pub fn lo12(value: i64) -> u32 {
        (value as u32) & 0xfff
    }

    pub fn set_u_imm(insn: u32, hi20: u32) -> u32 {
        (insn & 0xfff) | (hi20 << 12)
    }

    pub fn set_i_imm(insn: u32, lo12: u32) -> u32 {
        (insn & 0x000f_ffff) | (lo12 << 20)
    }

    pub fn set_s_imm(insn: u32, lo12: u32) -> u32 {
        (insn & 0x01ff_f07f) | ((lo12 >> 5) << 25) | ((lo12 & 0x1f) << 7)
    }

    fn bits(v: u32, hi: u32, lo: u32) -> u32 {
        (v >> lo) & ((1 << (hi - lo + 1)) - 1)
    }

    pub fn set_b_imm(insn: u32, value: i64) -> Option<u32> {
        if !fits(value, 13) || value & 1 != 0 {
            return None;
        }
        let v = value as u32;
        Some(
            (insn & 0x01ff_f07f)
                | (bits(v, 12, 12) << 31)
                | (bits(v, 10, 5) << 25)
                | (bits(v, 4, 1) << 8)
                | (bits(v, 11, 11) << 7),
        )
    }

    pub fn set_j_imm(insn: u32, value: i64) -> Option<u32> {
        if !fits(value, 21) || value & 1 != 0 {
            return None;
        }
        let v = value as u32;
        Some(
            (insn & 0xfff)
                | (bits(v, 20, 20) << 31)
                | (bits(v, 10, 1) << 21)
                | (bits(v, 11, 11) << 20)
                | (bits(v, 19, 12) << 12),
        )
    }

    /// c.beqz / c.bnez: offset[8|4:3] in bits 12:10, offset[7:6|2:1|5] in 6:2.
    pub fn set_cb_imm(insn: u16, value: i64) -> Option<u16> {
        if !fits(value, 9) || value & 1 != 0 {
            return None;
        }
        let v = value as u32;
        let imm = (bits(v, 8, 8) << 12)
            | (bits(v, 4, 3) << 10)
            | (bits(v, 7, 6) << 5)
            | (bits(v, 2, 1) << 3)
            | (bits(v, 5, 5) << 2);
        Some((insn & 0xe383) | imm as u16)
    }

    /// c.j / c.jal: offset[11|4|9:8|10|6|7|3:1|5] in bits 12:2.
    pub fn set_cj_imm(insn: u16, value: i64) -> Option<u16> {
        if !fits(value, 12) || value & 1 != 0 {
            return None;
        }
        let v = value as u32;
        let imm = (bits(v, 11, 11) << 12)
            | (bits(v, 4, 4) << 11)
            | (bits(v, 9, 8) << 9)
            | (bits(v, 10, 10) << 8)
            | (bits(v, 6, 6) << 7)
            | (bits(v, 7, 7) << 6)
            | (bits(v, 3, 1) << 3)
            | (bits(v, 5, 5) << 2);
        Some((insn & 0xe003) | imm as u16)
    }
}

#[cfg(test)]
mod tests;
