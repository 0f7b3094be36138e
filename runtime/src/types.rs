//! The type vocabulary every tier shares: value, function, memory, table and
//! global types, converted once from wasmparser's.

use std::fmt;

/// A WebAssembly value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// `(ref null array)`, from the GC proposal: the one GC type wamr-rs
    /// has. Arrays can be created in constant expressions (element
    /// segments, globals), stored in tables and globals, and compared
    /// (`ref.eq`); no instruction reads their elements yet.
    ArrayRef,
}

impl ValType {
    /// The 64-bit slots a value of this type takes wherever values sit in
    /// untyped slots (interpreter frames, array-call and host-call value
    /// arrays, OSR frames): 2 for `v128` (low half first), else 1.
    pub const fn slots(self) -> usize {
        match self {
            ValType::V128 => 2,
            _ => 1,
        }
    }

    pub fn is_ref(self) -> bool {
        matches!(
            self,
            ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef
        )
    }

    pub(crate) fn from_wasmparser(ty: wasmparser::ValType) -> Result<Self, crate::Error> {
        use wasmparser::ValType as W;
        Ok(match ty {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => ValType::from_ref_type(r)?,
        })
    }

    pub(crate) fn from_ref_type(ty: wasmparser::RefType) -> Result<Self, crate::Error> {
        if ty.is_func_ref() {
            Ok(ValType::FuncRef)
        } else if ty.is_extern_ref() {
            Ok(ValType::ExternRef)
        } else if ty.is_array_ref() {
            Ok(ValType::ArrayRef)
        } else {
            Err(crate::Error::Unsupported(format!("reference type {ty}")))
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ArrayRef => "arrayref",
        })
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    pub fn results(&self) -> &[ValType] {
        &self.results
    }

    /// The slots the parameters take in a value array (see
    /// [`ValType::slots`]): each value starts where the one before ends.
    pub fn param_slots(&self) -> usize {
        self.params.iter().map(|t| t.slots()).sum()
    }

    /// The slots the results take in a value array.
    pub fn result_slots(&self) -> usize {
        self.results.iter().map(|t| t.slots()).sum()
    }

    /// The length of an array-call value array for this type: room for
    /// the parameters, then for the results written over them, and at
    /// least one slot.
    pub fn value_array_len(&self) -> usize {
        self.param_slots().max(self.result_slots()).max(1)
    }
}

impl fmt::Display for FuncType {
    /// In the text format: `(func (param i32 i64) (result f32))`, an empty
    /// list left out (`(func)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        for (keyword, items) in [("param", &self.params), ("result", &self.results)] {
            if !items.is_empty() {
                write!(f, " ({keyword}")?;
                for item in items.iter() {
                    write!(f, " {item}")?;
                }
                f.write_str(")")?;
            }
        }
        f.write_str(")")
    }
}

/// Whether a memory or table is indexed by i32 or by i64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexType {
    I32,
    I64,
}

impl IndexType {
    pub fn val_type(self) -> ValType {
        match self {
            IndexType::I32 => ValType::I32,
            IndexType::I64 => ValType::I64,
        }
    }
}

/// Minimum and optional maximum, in pages (memories) or elements (tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    pub min: u64,
    pub max: Option<u64>,
}

impl Limits {
    /// Import matching (spec "limits subtyping"): `self` (the provided
    /// entity's current limits) fits where `required` is expected.
    pub fn matches(&self, required: &Limits) -> bool {
        self.min >= required.min
            && match (self.max, required.max) {
                (_, None) => true,
                (Some(have), Some(want)) => have <= want,
                (None, Some(_)) => false,
            }
    }
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) => write!(f, "{}..{}", self.min, max),
            None => write!(f, "{}..", self.min),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub index: IndexType,
    /// Limits in 64 KiB pages.
    pub limits: Limits,
    pub shared: bool,
}

impl MemoryType {
    /// The largest page count the index type can address.
    pub fn index_max_pages(&self) -> u64 {
        match self.index {
            IndexType::I32 => crate::memory::MAX_PAGES_32,
            IndexType::I64 => crate::memory::MAX_PAGES_64,
        }
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idx = match self.index {
            IndexType::I32 => "i32",
            IndexType::I64 => "i64",
        };
        write!(f, "memory {idx} {} pages", self.limits)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableType {
    pub index: IndexType,
    pub element: ValType,
    pub limits: Limits,
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idx = match self.index {
            IndexType::I32 => "i32",
            IndexType::I64 => "i64",
        };
        write!(f, "table {idx} {} {}", self.limits, self.element)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalType {
    pub content: ValType,
    pub mutable: bool,
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mutable {
            write!(f, "global (mut {})", self.content)
        } else {
            write!(f, "global {}", self.content)
        }
    }
}

/// The type of an importable or exportable entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternType {
    Func(FuncType),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
}

impl ExternType {
    pub fn kind_name(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "function",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Global(_) => "global",
        }
    }
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => t.fmt(f),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
            ExternType::Global(t) => t.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn func_types_print_in_the_text_format() {
        let show = |p: &[ValType], r: &[ValType]| FuncType::new(p.to_vec(), r.to_vec()).to_string();
        assert_eq!(show(&[], &[]), "(func)");
        assert_eq!(
            show(&[ValType::I32, ValType::V128], &[]),
            "(func (param i32 v128))"
        );
        assert_eq!(show(&[], &[ValType::F64]), "(func (result f64))");
        assert_eq!(
            show(&[ValType::I64], &[ValType::I32, ValType::F32]),
            "(func (param i64) (result i32 f32))"
        );
    }
}
