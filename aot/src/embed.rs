//! Compiled code for projects that link it statically instead of loading an
//! `.aot` file (`wamr-rs aot --format object`): an ELF relocatable object
//! holding the code, and a C header describing everything the code expects
//! of its caller.
//!
//! The object is the `.aot` code blob as one `.text` section with no
//! relocations (the blob is position independent, contract 6), and a
//! global symbol per entry point:
//!
//! - `<prefix>_f<i>`: defined function `i` (module index) with its native
//!   signature: what a function slot's `code` must hold;
//! - `<prefix>_t<i>`: its array-call trampoline
//!   `void (struct wamr_vmctx *, uint64_t *values)`: arguments in, results
//!   out, one 64-bit slot each (i32/f32 zero-extended bit patterns; a
//!   v128 takes two, low half first);
//! - `<prefix>_<export>`: the trampoline of each exported function.
//!
//! The header gives the VM context layout (from `wamr_runtime::vmctx`, so
//! it cannot drift from what the code reads), the builtins table with its
//! helper slots, the helpers this code calls, the trap codes, and the
//! module's memories, tables, globals, segments and signature ids, so the
//! embedder can build the instance the code runs in.

use std::fmt::Write;

use object::write::{Object, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, FileFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};
use wamr_runtime::helpers::Helper;
use wamr_runtime::vmctx::layout;
use wamr_runtime::{
    ConstOp, DataMode, ElementMode, ExternKind, FuncType, IndexType, Module, TrapKind,
};

use crate::container::AotImage;
use crate::target::Arch;

/// Why compiled code could not be packaged for embedding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error("cannot write an object for target `{0}`")]
    Target(String),
    #[error("the module does not fit the embedding header: {0}")]
    Unsupported(String),
    #[error("the .aot file's wasm is invalid: {0}")]
    Module(String),
    #[error("cannot write the object: {0}")]
    Object(String),
}

/// An object file and the C header that goes with it.
#[derive(Debug, Clone)]
pub struct EmbedKit {
    pub object: Vec<u8>,
    pub header: String,
}

/// Packages `image` (compiled for any supported target) for static linking;
/// every symbol and C name starts with `prefix` (a C identifier).
pub fn embed_kit(image: &AotImage<'_>, prefix: &str) -> Result<EmbedKit, EmbedError> {
    if prefix.is_empty() || !is_c_identifier(prefix) {
        return Err(EmbedError::Unsupported(format!(
            "prefix `{prefix}` is not a C identifier"
        )));
    }
    let config =
        wamr_runtime::Config::default().with_features(image.meta.wasm_features.to_runtime());
    let module = Module::new(&config, image.wasm).map_err(|e| EmbedError::Module(e.to_string()))?;
    let exports = export_symbols(&module, prefix);
    let object = write_object(image, &module, prefix, &exports)?;
    let header = Header {
        image,
        module: &module,
        prefix,
        exports: &exports,
    }
    .write()?;
    Ok(EmbedKit { object, header })
}

/// The symbol of an exported function's array-call entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSymbol {
    /// The export's name in the module.
    pub export: String,
    /// `<prefix>_<export>`, every character outside `[A-Za-z0-9_]` as `_`,
    /// made unique with a `_2`, `_3`, ... suffix.
    pub symbol: String,
    /// Module function index.
    pub func: u32,
}

/// The symbols of `module`'s exported (defined) functions.
pub fn export_symbols(module: &Module, prefix: &str) -> Vec<ExportSymbol> {
    let mut out: Vec<ExportSymbol> = Vec::new();
    for export in module.exports() {
        if export.kind != ExternKind::Func || export.index < module.num_imported_funcs() {
            continue;
        }
        let base: String = export
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut symbol = format!("{prefix}_{base}");
        let mut n = 1;
        while out.iter().any(|taken| taken.symbol == symbol) {
            n += 1;
            symbol = format!("{prefix}_{base}_{n}");
        }
        out.push(ExportSymbol {
            export: export.name.clone(),
            symbol,
            func: export.index,
        });
    }
    out
}

fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_object(
    image: &AotImage<'_>,
    module: &Module,
    prefix: &str,
    exports: &[ExportSymbol],
) -> Result<Vec<u8>, EmbedError> {
    let meta = &image.meta;
    let (arch, _) =
        Arch::parse(&meta.triple).map_err(|_| EmbedError::Target(meta.triple.clone()))?;
    let (architecture, e_flags) = match arch {
        Arch::X86_64 => (Architecture::X86_64, 0),
        Arch::Riscv32 => (Architecture::Riscv32, riscv_e_flags(meta)),
        Arch::Riscv64 => (Architecture::Riscv64, riscv_e_flags(meta)),
    };
    let mut obj = Object::new(BinaryFormat::Elf, architecture, Endianness::Little);
    obj.flags = FileFlags::Elf {
        os_abi: object::elf::OsAbi(0),
        abi_version: 0,
        e_flags: object::elf::FileFlags(e_flags),
    };
    let text = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
    // The blob's own layout assumes a page-aligned start (`link`).
    obj.set_section_data(text, image.code.to_vec(), crate::container::CODE_ALIGN);
    let mut add = |name: String, offset: u32| {
        obj.add_symbol(Symbol {
            name: name.into_bytes(),
            value: u64::from(offset),
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
    };
    let first = module.num_imported_funcs();
    for (i, entry) in image.functions.iter().enumerate() {
        let index = first + i as u32;
        add(format!("{prefix}_f{index}"), entry.native);
        add(format!("{prefix}_t{index}"), entry.array_call);
    }
    for export in exports {
        let entry = &image.functions[(export.func - first) as usize];
        add(export.symbol.clone(), entry.array_call);
    }
    obj.write().map_err(|e| EmbedError::Object(e.to_string()))
}

/// ELF header flags of RISC-V code: compressed instructions, float ABI.
fn riscv_e_flags(meta: &crate::container::AotMeta) -> u32 {
    const RVC: u32 = 0x1;
    const FLOAT_SINGLE: u32 = 0x2;
    const FLOAT_DOUBLE: u32 = 0x4;
    let caps = crate::target::Capabilities::for_target(&meta.triple, &meta.features);
    let float = match meta.abi.chars().last() {
        Some('d') => FLOAT_DOUBLE,
        Some('f') => FLOAT_SINGLE,
        _ => 0,
    };
    float | if caps.compressed { RVC } else { 0 }
}

struct Header<'a> {
    image: &'a AotImage<'a>,
    module: &'a Module,
    prefix: &'a str,
    exports: &'a [ExportSymbol],
}

impl Header<'_> {
    fn write(&self) -> Result<String, EmbedError> {
        let mut h = String::new();
        let guard = format!("{}_H", self.prefix.to_ascii_uppercase());
        let meta = &self.image.meta;
        let _ = writeln!(
            h,
            "/* Generated by {} for code compiled for {} -O{}.\n * Do not edit: regenerate with `wamr-rs aot --format object`. */",
            meta.compiler_version,
            meta.describe_target(),
            meta.opt_level
        );
        let _ = writeln!(h, "#ifndef {guard}\n#define {guard}\n");
        let _ = writeln!(h, "#include <stdint.h>\n#include <stddef.h>\n");
        h.push_str(&layout_section());
        self.module_section(&mut h)?;
        let _ = writeln!(h, "#endif /* {guard} */");
        Ok(h)
    }

    fn module_section(&self, h: &mut String) -> Result<(), EmbedError> {
        let p = self.prefix;
        let m = self.module;
        let meta = &self.image.meta;
        let _ = writeln!(h, "/* ---- This module ---- */\n");
        let helpers: Vec<String> = meta
            .helpers
            .iter()
            .map(|name| format!("WAMR_HELPER_{}", name.to_ascii_uppercase()))
            .collect();
        let _ = writeln!(
            h,
            "/* Helpers the code calls: their slots must hold implementations. */\n#define {P}_HELPER_COUNT {}\nstatic const uint16_t {p}_helpers[] = {{{}}};\n",
            helpers.len(),
            if helpers.is_empty() {
                "0 /* none */".to_string()
            } else {
                helpers.join(", ")
            },
            P = p.to_ascii_uppercase(),
        );
        if m.num_imported_funcs() > 0 || !m.imports().is_empty() {
            let list: Vec<String> = m
                .imports()
                .iter()
                .map(|i| format!(" *   {}.{}: {}", i.module, i.name, i.ty))
                .collect();
            let _ = writeln!(
                h,
                "/* Imports, reached through the `call_func` builtin with their\n * function slots (functions) or the VM context arrays (others):\n{}\n */",
                list.join("\n")
            );
        }
        let first = m.num_imported_funcs();
        let _ = writeln!(
            h,
            "#define {P}_FUNC_COUNT {}\n#define {P}_IMPORTED_FUNC_COUNT {first}",
            m.num_funcs(),
            P = p.to_ascii_uppercase()
        );
        for index in first..m.num_funcs() {
            let _ = writeln!(
                h,
                "extern const char {p}_f{index}[];  /* {} */\nvoid {p}_t{index}(struct wamr_vmctx *vmctx, uint64_t *values);",
                m.func_type(index)
            );
        }
        let defined: Vec<u32> = (first..m.num_funcs()).collect();
        let list = |kind: char| {
            if defined.is_empty() {
                "NULL".to_string()
            } else {
                defined
                    .iter()
                    .map(|i| format!("{p}_{kind}{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let _ = writeln!(
            h,
            "/* Entries of defined function i at [i - {P}_IMPORTED_FUNC_COUNT]. */\nstatic const void *const {p}_natives[] = {{{}}};\nstatic const wamr_array_call_fn {p}_trampolines[] = {{{}}};",
            list('f'),
            list('t'),
            P = p.to_ascii_uppercase()
        );
        let _ = writeln!(h, "\n/* Exported functions (array-call entries). */");
        for export in self.exports {
            let _ = writeln!(
                h,
                "void {}(struct wamr_vmctx *vmctx, uint64_t *values);  /* \"{}\": {} */",
                export.symbol,
                export.export.escape_default(),
                m.func_type(export.func)
            );
        }
        self.signatures(h);
        self.memories_and_tables(h)?;
        self.globals(h)?;
        Ok(())
    }

    /// Canonical signature ids: structurally equal types share one, so a
    /// `call_indirect` accepts every function of an equal type.
    fn signatures(&self, h: &mut String) {
        let p = self.prefix;
        let m = self.module;
        let types = m.types();
        let canonical = |i: usize| -> usize {
            let t: &FuncType = &types[i];
            (0..=i).find(|&j| *types[j] == *t).unwrap_or(i)
        };
        let ids: Vec<String> = (0..types.len()).map(|i| canonical(i).to_string()).collect();
        let _ = writeln!(
            h,
            "\n/* vmctx->type_ids: the signature id of each module type. */\nstatic const uint32_t {p}_type_ids[] = {{{}}};",
            if ids.is_empty() {
                "0".into()
            } else {
                ids.join(", ")
            }
        );
        let funcs: Vec<String> = (0..m.num_funcs())
            .map(|f| canonical(m.func_type_index(f) as usize).to_string())
            .collect();
        let _ = writeln!(
            h,
            "/* The signature id of each function (a slot's `type_id`). */\nstatic const uint32_t {p}_func_type_ids[] = {{{}}};",
            if funcs.is_empty() {
                "0".into()
            } else {
                funcs.join(", ")
            }
        );
    }

    fn memories_and_tables(&self, h: &mut String) -> Result<(), EmbedError> {
        let p = self.prefix;
        let m = self.module;
        let limits = |min: u64, max: Option<u64>| {
            format!(
                "{{{min}u, {}}}",
                max.map_or("UINT64_MAX".to_string(), |v| format!("{v}u"))
            )
        };
        let mems: Vec<String> = m
            .memories()
            .iter()
            .map(|mem| {
                let (min, max) = (mem.limits.min, mem.limits.max);
                let l = limits(min, max);
                format!(
                    "{{{}, {}}}",
                    &l[1..l.len() - 1],
                    u8::from(mem.index == IndexType::I64)
                )
            })
            .collect();
        let _ = writeln!(
            h,
            "\n/* Memories, in 64 KiB pages (max UINT64_MAX: none declared). */\nstruct wamr_memory_limits {{ uint64_t min_pages, max_pages; uint8_t memory64; }};\n#define {P}_MEMORY_COUNT {}\nstatic const struct wamr_memory_limits {p}_memories[] = {{{}}};",
            mems.len(),
            if mems.is_empty() {
                "{0, 0, 0}".into()
            } else {
                mems.join(", ")
            },
            P = p.to_ascii_uppercase()
        );
        let tables: Vec<String> = m
            .tables()
            .iter()
            .map(|t| limits(t.limits.min, t.limits.max))
            .collect();
        let _ = writeln!(
            h,
            "/* Tables, in elements. */\nstruct wamr_table_limits {{ uint64_t min, max; }};\n#define {P}_TABLE_COUNT {}\nstatic const struct wamr_table_limits {p}_tables[] = {{{}}};",
            tables.len(),
            if tables.is_empty() {
                "{0, 0}".into()
            } else {
                tables.join(", ")
            },
            P = p.to_ascii_uppercase()
        );

        let globals = self.global_values()?;
        let mut data = Vec::new();
        for (i, seg) in m.data().iter().enumerate() {
            let DataMode::Active { memory, offset } = &seg.mode else {
                continue;
            };
            let offset = const_int(offset.ops(), &globals)
                .ok_or_else(|| unsupported(format!("data segment {i}'s offset")))?;
            let bytes = m.data_bytes(seg);
            let _ = writeln!(
                h,
                "static const uint8_t {p}_data{i}[] = {{{}}};",
                if bytes.is_empty() {
                    "0".to_string()
                } else {
                    bytes
                        .iter()
                        .map(|b| b.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                }
            );
            data.push(format!(
                "{{{memory}, {offset}u, {}, {p}_data{i}}}",
                bytes.len()
            ));
        }
        let _ = writeln!(
            h,
            "/* Active data segments, copied in order at instantiation. */\nstruct wamr_data_init {{ uint32_t memory; uint64_t offset; size_t length; const uint8_t *bytes; }};\n#define {P}_DATA_COUNT {}\nstatic const struct wamr_data_init {p}_data[] = {{{}}};",
            data.len(),
            if data.is_empty() {
                "{0, 0, 0, NULL}".into()
            } else {
                data.join(", ")
            },
            P = p.to_ascii_uppercase()
        );
        let mut elems = Vec::new();
        for (i, seg) in m.elements().iter().enumerate() {
            let ElementMode::Active { table, offset } = &seg.mode else {
                continue;
            };
            let offset = const_int(offset.ops(), &globals)
                .ok_or_else(|| unsupported(format!("element segment {i}'s offset")))?;
            let items = seg
                .items
                .iter()
                .map(|item| match item.ops() {
                    [ConstOp::RefFunc(f)] => Ok(f.to_string()),
                    [ConstOp::RefNull] => Ok("-1".to_string()),
                    _ => Err(unsupported(format!("element segment {i}'s items"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let _ = writeln!(
                h,
                "static const int32_t {p}_elem{i}[] = {{{}}};",
                if items.is_empty() {
                    "0".into()
                } else {
                    items.join(",")
                }
            );
            elems.push(format!(
                "{{{table}, {offset}u, {}, {p}_elem{i}}}",
                items.len()
            ));
        }
        let _ = writeln!(
            h,
            "/* Active element segments: function indices (-1: null), whose\n * function slots' addresses go into the table. */\nstruct wamr_elem_init {{ uint32_t table; uint64_t offset; size_t length; const int32_t *funcs; }};\n#define {P}_ELEM_COUNT {}\nstatic const struct wamr_elem_init {p}_elems[] = {{{}}};",
            elems.len(),
            if elems.is_empty() {
                "{0, 0, 0, NULL}".into()
            } else {
                elems.join(", ")
            },
            P = p.to_ascii_uppercase()
        );
        Ok(())
    }

    /// The initial value of every defined global: bits, or a function index
    /// whose slot address the global holds.
    fn global_values(&self) -> Result<Vec<GlobalInit>, EmbedError> {
        let m = self.module;
        if m.num_imported_globals() > 0 {
            return Err(unsupported("imported globals".to_string()));
        }
        let mut values: Vec<GlobalInit> = Vec::new();
        for (i, init) in m.global_inits().iter().enumerate() {
            let v = match init.ops() {
                [ConstOp::RefFunc(f)] => GlobalInit::Func(*f),
                [ConstOp::RefNull] => GlobalInit::Bits(0, 0),
                [ConstOp::V128(v)] => GlobalInit::Bits(*v as u64, (*v >> 64) as u64),
                [ConstOp::F32(b)] => GlobalInit::Bits(u64::from(*b), 0),
                [ConstOp::F64(b)] => GlobalInit::Bits(*b, 0),
                ops => {
                    let bits = const_int(ops, &values)
                        .ok_or_else(|| unsupported(format!("global {i}'s initializer")))?;
                    GlobalInit::Bits(bits, 0)
                }
            };
            values.push(v);
        }
        Ok(values)
    }

    fn globals(&self, h: &mut String) -> Result<(), EmbedError> {
        let p = self.prefix;
        let types = self.module.globals();
        let inits: Vec<String> = self
            .global_values()?
            .iter()
            .zip(types)
            .map(|(v, t)| match v {
                GlobalInit::Bits(lo, hi) => format!("{{{{{lo}u, {hi}u}}, -1}}  /* {t} */"),
                GlobalInit::Func(f) => format!("{{{{0, 0}}, {f}}}  /* {t} */"),
            })
            .collect();
        let _ = writeln!(
            h,
            "/* Defined globals' initial cells (func >= 0: the address of that\n * function's slot). */\nstruct wamr_global_init {{ uint64_t bits[2]; int32_t func; }};\n#define {P}_GLOBAL_COUNT {}\nstatic const struct wamr_global_init {p}_globals[] = {{\n  {}\n}};\n",
            inits.len(),
            if inits.is_empty() {
                "{{0, 0}, -1}".into()
            } else {
                inits.join(",\n  ")
            },
            P = p.to_ascii_uppercase()
        );
        Ok(())
    }
}

enum GlobalInit {
    Bits(u64, u64),
    Func(u32),
}

/// Evaluates an integer constant expression over the defined globals so
/// far; `None` for anything else.
fn const_int(ops: &[ConstOp], globals: &[GlobalInit]) -> Option<u64> {
    let mut stack: Vec<u64> = Vec::new();
    for op in ops {
        let v = match *op {
            ConstOp::I32(v) => u64::from(v as u32),
            ConstOp::I64(v) => v as u64,
            ConstOp::GlobalGet(g) => match globals.get(g as usize)? {
                GlobalInit::Bits(lo, _) => *lo,
                GlobalInit::Func(_) => return None,
            },
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let (b, a) = (stack.pop()? as u32, stack.pop()? as u32);
                u64::from(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let (b, a) = (stack.pop()?, stack.pop()?);
                match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }
            }
            _ => return None,
        };
        stack.push(v);
    }
    stack.pop()
}

fn unsupported(what: String) -> EmbedError {
    EmbedError::Unsupported(format!("{what} is not a constant the header can express"))
}

/// The part of the header that is the same for every module: the VM
/// context, the builtins and helpers, the trap codes.
fn layout_section() -> String {
    use layout::*;
    let mut h = String::new();
    let _ = writeln!(
        h,
        "/* ---- The VM context (wamr_runtime::vmctx) ----\n * Every pointer sits in an 8-byte little-endian cell, on 32-bit targets\n * too: write it through the `p` member of a zeroed cell. */\ntypedef union {{ void *p; uint64_t bits; }} wamr_cell;\n"
    );
    // (C declaration, field, offset the code reads) per struct, then its size.
    type Fields<'a> = &'a [(&'a str, &'a str, usize)];
    let structs: [(&str, Fields, usize); 6] = [
        (
            "wamr_memory",
            &[
                ("wamr_cell base", "base", VMMEMORY_BASE),
                ("uint64_t length", "length", VMMEMORY_LENGTH),
            ],
            16,
        ),
        (
            "wamr_table",
            &[
                ("wamr_cell base", "base", VMTABLE_BASE),
                ("uint64_t length", "length", VMTABLE_LENGTH),
            ],
            16,
        ),
        (
            "wamr_funcref",
            &[
                ("wamr_cell code", "code", VMFUNCREF_CODE),
                ("uint32_t type_id", "type_id", VMFUNCREF_TYPE_ID),
                ("uint32_t func_id", "func_id", VMFUNCREF_FUNC_ID),
                ("wamr_cell vmctx", "vmctx", VMFUNCREF_VMCTX),
                ("wamr_cell array_call", "array_call", VMFUNCREF_ARRAY_CALL),
            ],
            32,
        ),
        (
            "wamr_store_state",
            &[
                ("uint32_t trap", "trap", STATE_TRAP),
                ("uint32_t reserved", "reserved", STATE_TRAP + 4),
                ("uint64_t stack_limit", "stack_limit", STATE_STACK_LIMIT),
            ],
            16,
        ),
        (
            "wamr_vmctx",
            &[
                ("wamr_cell memories", "memories", VMCTX_MEMORIES),
                ("wamr_cell tables", "tables", VMCTX_TABLES),
                ("wamr_cell globals", "globals", VMCTX_GLOBALS),
                ("wamr_cell funcs", "funcs", VMCTX_FUNCS),
                ("wamr_cell type_ids", "type_ids", VMCTX_TYPE_IDS),
                ("wamr_cell builtins", "builtins", VMCTX_BUILTINS),
                ("wamr_cell state", "state", VMCTX_STATE),
            ],
            VMCTX_SIZE,
        ),
        (
            "wamr_builtins",
            &[
                ("wamr_cell memory_grow", "memory_grow", BUILTIN_MEMORY_GROW),
                ("wamr_cell raise_trap", "raise_trap", BUILTIN_RAISE_TRAP),
                ("wamr_cell call_func", "call_func", BUILTIN_CALL_FUNC),
                ("wamr_cell bulk", "bulk", BUILTIN_BULK),
                (
                    "wamr_cell helpers[WAMR_HELPER_SLOTS]",
                    "helpers",
                    BUILTIN_HELPERS,
                ),
            ],
            BUILTIN_HELPERS + 8 * Helper::COUNT,
        ),
    ];
    let _ = writeln!(h, "#define WAMR_HELPER_SLOTS {}", Helper::COUNT);
    let _ = writeln!(
        h,
        "/* memories -> wamr_cell[n] of struct wamr_memory *; tables, globals and\n * funcs likewise (funcs: one struct wamr_funcref * per function, imports\n * first); type_ids -> uint32_t[types]; a table element is the address of\n * a function slot, 0 for null. A global is a 16-byte cell. */"
    );
    for (name, fields, size) in structs {
        let _ = writeln!(h, "struct {name} {{");
        for (decl, _, _) in fields {
            let _ = writeln!(h, "  {decl};");
        }
        let _ = writeln!(h, "}};");
        for (_, field, offset) in fields {
            let _ = writeln!(
                h,
                "_Static_assert(offsetof(struct {name}, {field}) == {offset}, \"layout\");"
            );
        }
        let _ = writeln!(
            h,
            "_Static_assert(sizeof(struct {name}) == {size}, \"layout\");\n"
        );
    }
    let _ = writeln!(
        h,
        "struct wamr_global {{ uint64_t bits[2]; }} __attribute__((aligned(16)));\n\n/* Builtins (C calling convention of the target). A trap is recorded in\n * state->trap; compiled code returns at once when it finds it set. */\ntypedef uint64_t (*wamr_memory_grow_fn)(struct wamr_vmctx *vmctx, uint32_t memory, uint64_t delta_pages); /* old size in pages, or UINT64_MAX */\ntypedef void (*wamr_raise_trap_fn)(struct wamr_vmctx *vmctx, uint32_t trap, uint32_t func); /* trap 0: one is pending already; func: where it passed */\ntypedef void (*wamr_call_func_fn)(struct wamr_vmctx *vmctx, const struct wamr_funcref *func, uint64_t *values);\ntypedef uint64_t (*wamr_bulk_fn)(struct wamr_vmctx *vmctx, uint32_t op, uint32_t x, uint32_t y, uint64_t a, uint64_t b, uint64_t c);\n/* An array-call entry: arguments in, results out, a 64-bit slot each (a v128 takes two, low half first). */\ntypedef void (*wamr_array_call_fn)(struct wamr_vmctx *vmctx, uint64_t *values);\n"
    );
    {
        use wamr_runtime::bulk::bulk_op::*;
        let ops = [
            (
                "MEMORY_FILL",
                MEMORY_FILL,
                "x: memory; a: dest, b: byte, c: length",
            ),
            (
                "MEMORY_COPY",
                MEMORY_COPY,
                "x: dest memory, y: source memory; a: dest, b: source, c: length",
            ),
            (
                "MEMORY_INIT",
                MEMORY_INIT,
                "x: memory, y: data segment; a: dest, b: offset, c: length",
            ),
            ("DATA_DROP", DATA_DROP, "x: data segment"),
            (
                "TABLE_GET",
                TABLE_GET,
                "x: table; a: index; returns the element",
            ),
            ("TABLE_SET", TABLE_SET, "x: table; a: index, b: element"),
            ("TABLE_SIZE", TABLE_SIZE, "x: table; returns the length"),
            (
                "TABLE_GROW",
                TABLE_GROW,
                "x: table; a: element, b: delta; returns the old length or -1",
            ),
            (
                "TABLE_FILL",
                TABLE_FILL,
                "x: table; a: index, b: element, c: length",
            ),
            (
                "TABLE_COPY",
                TABLE_COPY,
                "x: dest table, y: source table; a: dest, b: source, c: length",
            ),
            (
                "TABLE_INIT",
                TABLE_INIT,
                "x: table, y: element segment; a: dest, b: offset, c: length",
            ),
            ("ELEM_DROP", ELEM_DROP, "x: element segment"),
        ];
        let _ = writeln!(
            h,
            "/* Operations of the `bulk` builtin. */\nenum wamr_bulk_op {{\n{}\n}};\n",
            ops.iter()
                .map(|(name, code, doc)| format!("  WAMR_BULK_{name} = {code},  /* {doc} */"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let _ = writeln!(
        h,
        "/* Trap codes (state->trap). */\nenum wamr_trap {{\n{}\n}};\n",
        TrapKind::ALL
            .iter()
            .map(|k| format!(
                "  WAMR_TRAP_{} = {},  /* {} */",
                screaming(&format!("{k:?}")),
                *k as u32,
                k.message()
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = writeln!(
        h,
        "/* Helper slots. Integers and floats travel as bit patterns: i32/f32 as\n * uint32_t, i64/f64 as uint64_t. Compiled code checks division by zero,\n * overflow and out-of-range conversions before it calls a helper. */\nenum wamr_helper {{\n{}\n}};",
        Helper::ALL
            .iter()
            .map(|&hp| format!(
                "  WAMR_HELPER_{} = {},  /* {} */",
                hp.name().to_ascii_uppercase(),
                hp as u32,
                helper_signature(hp)
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let _ = writeln!(h);
    h
}

/// `uint64_t (uint64_t, uint64_t)` and the like.
fn helper_signature(h: Helper) -> String {
    let c = |w| match w {
        wamr_runtime::helpers::Width::W32 => "uint32_t",
        wamr_runtime::helpers::Width::W64 => "uint64_t",
    };
    let params: Vec<&str> = h.params().iter().map(|&w| c(w)).collect();
    format!("{} ({})", c(h.result()), params.join(", "))
}

/// `IntegerDivideByZero` -> `INTEGER_DIVIDE_BY_ZERO`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}
