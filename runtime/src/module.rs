//! The module model: one decode-and-validate pass with wasmparser (the only
//! validator in wamr-rs, contract 1), producing the read-only description
//! every tier and the instantiation code work from.

use std::any::Any;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use wasmparser::{
    ElementItems, ElementKind, FuncValidatorAllocations, KnownCustom, Name, Parser, Payload,
    TypeRef, ValidPayload, Validator,
};

use crate::config::Config;
use crate::const_expr::{ConstExpr, ConstOp};
use crate::error::{Error, Result};
use crate::types::{
    ExternType, FuncType, GlobalType, IndexType, Limits, MemoryType, TableType, ValType,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
}

impl ExternKind {
    pub fn name(self) -> &'static str {
        match self {
            ExternKind::Func => "function",
            ExternKind::Table => "table",
            ExternKind::Memory => "memory",
            ExternKind::Global => "global",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub ty: ExternType,
}

#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
    pub index: u32,
}

#[derive(Debug, Clone)]
pub enum ElementMode {
    Passive,
    Declared,
    Active { table: u32, offset: ConstExpr },
}

#[derive(Debug, Clone)]
pub struct ElementSegment {
    pub mode: ElementMode,
    pub elem_type: ValType,
    /// One constant expression per element (function-index lists become `ref.func`).
    pub items: Box<[ConstExpr]>,
}

#[derive(Debug, Clone)]
pub enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

#[derive(Debug, Clone)]
pub struct DataSegment {
    pub mode: DataMode,
    /// The segment's bytes within [`Module::bytes`].
    pub range: Range<usize>,
}

/// A function defined (not imported) by the module.
#[derive(Debug, Clone)]
pub struct FuncBody {
    /// Index into [`Module::types`].
    pub type_index: u32,
    /// The body (locals and code) within [`Module::bytes`].
    pub range: Range<usize>,
}

/// Names from the `name` custom section, where present and well-formed.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub module: Option<String>,
    pub funcs: HashMap<u32, String>,
}

/// A decoded, validated module. Cheap to clone; immutable and shared by all
/// instances and tiers.
#[derive(Debug, Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

/// A [`Module`] handle that does not keep it alive (see [`Module::downgrade`]).
#[derive(Debug, Clone)]
pub struct WeakModule {
    inner: std::sync::Weak<ModuleInner>,
}

impl WeakModule {
    /// The module, unless every strong handle is gone.
    pub fn upgrade(&self) -> Option<Module> {
        self.inner.upgrade().map(|inner| Module { inner })
    }
}

#[derive(Debug, Default)]
struct ModuleInner {
    bytes: Arc<[u8]>,
    /// The features the module was validated with.
    features: crate::Features,
    types: Vec<Arc<FuncType>>,
    imports: Vec<Import>,
    /// Type index of every function, imports first.
    func_types: Vec<u32>,
    num_imported_funcs: u32,
    tables: Vec<TableType>,
    num_imported_tables: u32,
    memories: Vec<MemoryType>,
    num_imported_memories: u32,
    globals: Vec<GlobalType>,
    num_imported_globals: u32,
    global_inits: Vec<ConstExpr>,
    exports: Vec<Export>,
    export_index: HashMap<String, usize>,
    start: Option<u32>,
    elements: Vec<ElementSegment>,
    data: Vec<DataSegment>,
    bodies: Vec<FuncBody>,
    names: Names,
    /// Per-tier data derived from this module (e.g. translated code), one
    /// entry per type; see [`Module::extension`].
    extensions: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
}

impl Module {
    /// Decodes and validates `bytes` with the features in `config`.
    pub fn new(config: &Config, bytes: &[u8]) -> Result<Module> {
        let bytes: Arc<[u8]> = Arc::from(bytes);
        let inner = decode(config, bytes)?;
        Ok(Module {
            inner: Arc::new(inner),
        })
    }

    /// The original binary.
    pub fn bytes(&self) -> &Arc<[u8]> {
        &self.inner.bytes
    }
    /// The features the module was validated with; every tier compiles it
    /// under the same set.
    pub fn features(&self) -> &crate::Features {
        &self.inner.features
    }
    pub fn types(&self) -> &[Arc<FuncType>] {
        &self.inner.types
    }
    pub fn imports(&self) -> &[Import] {
        &self.inner.imports
    }
    pub fn exports(&self) -> &[Export] {
        &self.inner.exports
    }
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.inner
            .export_index
            .get(name)
            .map(|&i| &self.inner.exports[i])
    }
    pub fn start(&self) -> Option<u32> {
        self.inner.start
    }
    pub fn num_funcs(&self) -> u32 {
        self.inner.func_types.len() as u32
    }
    pub fn num_imported_funcs(&self) -> u32 {
        self.inner.num_imported_funcs
    }
    /// Type index of function `func` (imports first).
    pub fn func_type_index(&self, func: u32) -> u32 {
        self.inner.func_types[func as usize]
    }
    pub fn func_type(&self, func: u32) -> &Arc<FuncType> {
        &self.inner.types[self.func_type_index(func) as usize]
    }
    /// Body of defined function `func` (a module function index, not an import).
    pub fn func_body(&self, func: u32) -> Option<&FuncBody> {
        let defined = func.checked_sub(self.inner.num_imported_funcs)?;
        self.inner.bodies.get(defined as usize)
    }
    pub fn bodies(&self) -> &[FuncBody] {
        &self.inner.bodies
    }
    pub fn tables(&self) -> &[TableType] {
        &self.inner.tables
    }
    pub fn num_imported_tables(&self) -> u32 {
        self.inner.num_imported_tables
    }
    pub fn memories(&self) -> &[MemoryType] {
        &self.inner.memories
    }
    pub fn num_imported_memories(&self) -> u32 {
        self.inner.num_imported_memories
    }
    pub fn globals(&self) -> &[GlobalType] {
        &self.inner.globals
    }
    pub fn num_imported_globals(&self) -> u32 {
        self.inner.num_imported_globals
    }
    /// Initialisers of the defined globals, in order.
    pub fn global_inits(&self) -> &[ConstExpr] {
        &self.inner.global_inits
    }
    pub fn elements(&self) -> &[ElementSegment] {
        &self.inner.elements
    }
    pub fn data(&self) -> &[DataSegment] {
        &self.inner.data
    }
    pub fn data_bytes(&self, segment: &DataSegment) -> &[u8] {
        &self.inner.bytes[segment.range.clone()]
    }
    pub fn names(&self) -> &Names {
        &self.inner.names
    }
    /// A printable name for function `func`: its name-section name, else its index.
    pub fn func_name(&self, func: u32) -> String {
        match self.inner.names.funcs.get(&func) {
            Some(name) => name.clone(),
            None => format!("#{func}"),
        }
    }
    /// The module's shared value of type `T`, created by `init` on first use.
    /// Tiers keep what they derive from a module here (one value per type),
    /// so every instance of the module shares it.
    pub fn extension<T: Any + Send + Sync>(&self, init: impl FnOnce(&Module) -> T) -> Arc<T> {
        let mut exts = self
            .inner
            .extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(found) = exts.iter().find_map(|e| e.clone().downcast::<T>().ok()) {
            return found;
        }
        let value = Arc::new(init(self));
        exts.push(value.clone());
        value
    }

    /// The per-tier data of type `T` if some was attached (see
    /// [`Module::extension`]).
    pub fn get_extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let exts = self
            .inner
            .extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        exts.iter().find_map(|e| e.clone().downcast::<T>().ok())
    }

    /// Whether two handles refer to the same decoded module.
    pub fn same(&self, other: &Module) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
    /// A handle that does not keep the module alive: for what the module
    /// itself owns (through an extension) and must refer back to it.
    pub fn downgrade(&self) -> WeakModule {
        WeakModule {
            inner: Arc::downgrade(&self.inner),
        }
    }
    /// The type of the entity exported as `name`.
    pub fn export_type(&self, export: &Export) -> ExternType {
        let i = export.index as usize;
        match export.kind {
            ExternKind::Func => ExternType::Func((**self.func_type(export.index)).clone()),
            ExternKind::Table => ExternType::Table(self.inner.tables[i]),
            ExternKind::Memory => ExternType::Memory(self.inner.memories[i]),
            ExternKind::Global => ExternType::Global(self.inner.globals[i]),
        }
    }
}

fn malformed(e: wasmparser::BinaryReaderError) -> Error {
    Error::Malformed(format!("{} (at offset {:#x})", e.message(), e.offset()))
}

fn invalid(e: wasmparser::BinaryReaderError) -> Error {
    Error::Invalid(format!("{} (at offset {:#x})", e.message(), e.offset()))
}

fn to_usize_range(r: Range<u64>) -> Range<usize> {
    r.start as usize..r.end as usize
}

fn limits(min: u64, max: Option<u64>) -> Limits {
    Limits { min, max }
}

fn memory_type(t: wasmparser::MemoryType) -> Result<MemoryType> {
    if t.page_size_log2.is_some() {
        return Err(Error::Unsupported("custom page sizes".into()));
    }
    Ok(MemoryType {
        index: if t.memory64 {
            IndexType::I64
        } else {
            IndexType::I32
        },
        limits: limits(t.initial, t.maximum),
        shared: t.shared,
    })
}

fn table_type(t: wasmparser::TableType) -> Result<TableType> {
    Ok(TableType {
        index: if t.table64 {
            IndexType::I64
        } else {
            IndexType::I32
        },
        element: ValType::from_ref_type(t.element_type)?,
        limits: limits(t.initial, t.maximum),
    })
}

fn global_type(t: wasmparser::GlobalType) -> Result<GlobalType> {
    Ok(GlobalType {
        content: ValType::from_wasmparser(t.content_type)?,
        mutable: t.mutable,
    })
}

fn func_type(t: &wasmparser::FuncType) -> Result<FuncType> {
    let params = t
        .params()
        .iter()
        .map(|&v| ValType::from_wasmparser(v))
        .collect::<Result<Vec<_>>>()?;
    let results = t
        .results()
        .iter()
        .map(|&v| ValType::from_wasmparser(v))
        .collect::<Result<Vec<_>>>()?;
    Ok(FuncType::new(params, results))
}

fn decode(config: &Config, bytes: Arc<[u8]>) -> Result<ModuleInner> {
    let features = config.features.to_wasmparser();
    let mut validator = Validator::new_with_features(features);
    // The parser must know the features too: e.g. memory limits are u32
    // LEBs unless memory64 is on.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut allocs = FuncValidatorAllocations::default();
    let mut m = ModuleInner {
        bytes: bytes.clone(),
        features: config.features,
        ..Default::default()
    };
    for payload in parser.parse_all(&bytes) {
        let payload = payload.map_err(malformed)?;
        if let ValidPayload::Func(to_validate, body) =
            validator.payload(&payload).map_err(invalid)?
        {
            let mut fv = to_validate.into_validator(std::mem::take(&mut allocs));
            fv.validate(&body).map_err(invalid)?;
            allocs = fv.into_allocations();
            let type_index = m.func_types[m.num_imported_funcs as usize + m.bodies.len()];
            m.bodies.push(FuncBody {
                type_index,
                range: to_usize_range(body.range()),
            });
        }
        read_payload(&mut m, payload)?;
    }
    Ok(m)
}

fn read_payload(m: &mut ModuleInner, payload: Payload<'_>) -> Result<()> {
    match payload {
        Payload::TypeSection(reader) => {
            for group in reader {
                let group = group.map_err(malformed)?;
                // GC type hierarchies would change what `call_indirect`
                // accepts (a subtype's function): not supported.
                if group.is_explicit_rec_group() {
                    return Err(Error::Unsupported("GC recursive type groups".into()));
                }
                for sub in group.into_types() {
                    if !sub.is_final || !sub.supertype_idxs.is_empty() {
                        return Err(Error::Unsupported("GC subtypes".into()));
                    }
                    match &sub.composite_type.inner {
                        wasmparser::CompositeInnerType::Func(f) => {
                            m.types.push(Arc::new(func_type(f)?))
                        }
                        // An array type needs no signature: the entry keeps
                        // type indices aligned, and validation lets no
                        // function or call name it.
                        wasmparser::CompositeInnerType::Array(_) => {
                            m.types.push(Arc::new(FuncType::new([], [])))
                        }
                        _ => return Err(Error::Unsupported("GC struct types".into())),
                    }
                }
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.into_imports() {
                let import = import.map_err(malformed)?;
                let ty = match import.ty {
                    TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                        m.func_types.push(t);
                        m.num_imported_funcs += 1;
                        ExternType::Func((*m.types[t as usize]).clone())
                    }
                    TypeRef::Table(t) => {
                        let t = table_type(t)?;
                        m.tables.push(t);
                        m.num_imported_tables += 1;
                        ExternType::Table(t)
                    }
                    TypeRef::Memory(t) => {
                        let t = memory_type(t)?;
                        m.memories.push(t);
                        m.num_imported_memories += 1;
                        ExternType::Memory(t)
                    }
                    TypeRef::Global(t) => {
                        let t = global_type(t)?;
                        m.globals.push(t);
                        m.num_imported_globals += 1;
                        ExternType::Global(t)
                    }
                    TypeRef::Tag(_) => return Err(Error::Unsupported("exception tags".into())),
                };
                m.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::FunctionSection(reader) => {
            for t in reader {
                m.func_types.push(t.map_err(malformed)?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader {
                let table = table.map_err(malformed)?;
                let ty = table_type(table.ty)?;
                let init = match table.init {
                    wasmparser::TableInit::RefNull => None,
                    wasmparser::TableInit::Expr(e) => Some(ConstExpr::decode(&e)?),
                };
                if init.is_some() {
                    // Table initialisers belong to function-references; wasm 2.0 has none.
                    return Err(Error::Unsupported("table initialiser expressions".into()));
                }
                m.tables.push(ty);
            }
        }
        Payload::MemorySection(reader) => {
            for mem in reader {
                m.memories.push(memory_type(mem.map_err(malformed)?)?);
            }
        }
        Payload::GlobalSection(reader) => {
            for g in reader {
                let g = g.map_err(malformed)?;
                m.globals.push(global_type(g.ty)?);
                m.global_inits.push(ConstExpr::decode(&g.init_expr)?);
            }
        }
        Payload::ExportSection(reader) => {
            for e in reader {
                let e = e.map_err(malformed)?;
                let kind = match e.kind {
                    wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                        ExternKind::Func
                    }
                    wasmparser::ExternalKind::Table => ExternKind::Table,
                    wasmparser::ExternalKind::Memory => ExternKind::Memory,
                    wasmparser::ExternalKind::Global => ExternKind::Global,
                    wasmparser::ExternalKind::Tag => {
                        return Err(Error::Unsupported("exception tags".into()));
                    }
                };
                m.export_index.insert(e.name.to_string(), m.exports.len());
                m.exports.push(Export {
                    name: e.name.to_string(),
                    kind,
                    index: e.index,
                });
            }
        }
        Payload::StartSection { func, .. } => m.start = Some(func),
        Payload::ElementSection(reader) => {
            for e in reader {
                m.elements.push(element_segment(e.map_err(malformed)?)?);
            }
        }
        Payload::DataSection(reader) => {
            for d in reader {
                let d = d.map_err(malformed)?;
                let mode = match d.kind {
                    wasmparser::DataKind::Passive => DataMode::Passive,
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => DataMode::Active {
                        memory: memory_index,
                        offset: ConstExpr::decode(&offset_expr)?,
                    },
                };
                m.data.push(DataSegment {
                    mode,
                    range: {
                        let end = d.range.end as usize;
                        end - d.data.len()..end
                    },
                });
            }
        }
        Payload::CustomSection(reader) => {
            if let KnownCustom::Name(names) = reader.as_known() {
                // A malformed name section is ignored, as the spec asks.
                if let Ok(parsed) = read_names(names) {
                    m.names = parsed;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn element_segment(e: wasmparser::Element<'_>) -> Result<ElementSegment> {
    let mode = match e.kind {
        ElementKind::Passive => ElementMode::Passive,
        ElementKind::Declared => ElementMode::Declared,
        ElementKind::Active {
            table_index,
            offset_expr,
        } => ElementMode::Active {
            table: table_index.unwrap_or(0),
            offset: ConstExpr::decode(&offset_expr)?,
        },
    };
    let (elem_type, items) = match e.items {
        ElementItems::Functions(funcs) => {
            let items = funcs
                .into_iter()
                .map(|f| {
                    f.map(|f| ConstExpr::from_ops([ConstOp::RefFunc(f)]))
                        .map_err(malformed)
                })
                .collect::<Result<Vec<_>>>()?;
            (ValType::FuncRef, items)
        }
        ElementItems::Expressions(ty, exprs) => {
            let items = exprs
                .into_iter()
                .map(|x| ConstExpr::decode(&x.map_err(malformed)?))
                .collect::<Result<Vec<_>>>()?;
            (ValType::from_ref_type(ty)?, items)
        }
    };
    Ok(ElementSegment {
        mode,
        elem_type,
        items: items.into(),
    })
}

fn read_names(
    reader: wasmparser::NameSectionReader<'_>,
) -> Result<Names, wasmparser::BinaryReaderError> {
    let mut names = Names::default();
    for sub in reader {
        match sub? {
            Name::Module { name, .. } => names.module = Some(name.to_string()),
            Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    names.funcs.insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(wat: &str) -> Result<Module> {
        Module::new(&Config::default(), &wat::parse_str(wat).unwrap())
    }

    #[test]
    fn model_lists_every_section() {
        let m = module(
            r#"(module $m
                (import "env" "f" (func $imp (param i32) (result i64)))
                (import "env" "mem" (memory 1 2))
                (table 3 funcref)
                (memory i64 5)
                (global $g (mut i32) (i32.add (i32.const 1) (i32.const 2)))
                (func $add (export "add") (param i32 i32) (result i32)
                    local.get 0 local.get 1 i32.add)
                (elem (i32.const 0) func $add)
                (data (memory 1) (i64.const 8) "hi")
                (start $add2)
                (func $add2))"#,
        )
        .unwrap();
        assert_eq!(m.num_imported_funcs(), 1);
        assert_eq!(m.num_funcs(), 3);
        assert_eq!(m.memories().len(), 2);
        assert_eq!(m.memories()[1].index, IndexType::I64);
        assert_eq!(m.memories()[1].limits, Limits { min: 5, max: None });
        assert_eq!(m.tables()[0].limits.min, 3);
        assert!(m.globals()[0].mutable);
        assert_eq!(m.start(), Some(2));
        assert_eq!(m.export("add").unwrap().index, 1);
        assert_eq!(m.func_type(1).params(), &[ValType::I32, ValType::I32]);
        assert_eq!(m.data_bytes(&m.data()[0]), b"hi");
        assert_eq!(m.elements().len(), 1);
        assert_eq!(m.func_name(1), "add");
        assert_eq!(m.names().module.as_deref(), Some("m"));
    }

    #[test]
    fn invalid_module_is_rejected_with_reason() {
        let err = module("(module (func (result i32) i64.const 1))").unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        assert!(err.to_string().contains("type mismatch"), "{err}");
    }

    #[test]
    fn malformed_bytes_are_rejected() {
        let err = Module::new(&Config::default(), b"\0asm\x02\0\0\0").unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{err}");
    }

    #[test]
    fn simd_is_valid_by_default_and_invalid_when_off() {
        let text = "(module (func (drop (v128.const i64x2 0 0))))";
        assert!(module(text).is_ok());
        let bytes = wat::parse_str(text).unwrap();
        let off = crate::Features {
            simd: false,
            relaxed_simd: false,
            ..Default::default()
        };
        let err = Module::new(&Config::default().with_features(off), &bytes).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        assert!(err.to_string().contains("SIMD"), "{err}");
    }

    #[test]
    fn disabled_feature_is_invalid() {
        let bytes = wat::parse_str("(module (memory i64 1))").unwrap();
        let config = Config::default().with_features(crate::Features::mvp());
        assert!(Module::new(&config, &bytes).is_err());
    }
}
