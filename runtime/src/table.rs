//! Tables of references, bounded like memories: least of the declared max,
//! the index type's max and an implementation cap.

use crate::error::{Error, Result};
use crate::types::{IndexType, TableType};
use crate::value::RawRef;
use crate::vmctx::VMTable;

/// No table grows past this many elements (the spec lets an implementation cap it).
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

#[derive(Debug)]
pub struct TableInstance {
    vm: VMTable,
    ty: TableType,
    elements: Vec<u64>,
    max: u64,
}

// SAFETY: `vm` only points into `elements`, owned by this instance.
unsafe impl Send for TableInstance {}

impl TableInstance {
    pub fn new(ty: TableType, init: RawRef) -> Result<Self> {
        let index_max = match ty.index {
            IndexType::I32 => u32::MAX as u64,
            IndexType::I64 => u64::MAX,
        };
        let max = ty
            .limits
            .max
            .unwrap_or(index_max)
            .min(index_max)
            .min(MAX_TABLE_ELEMENTS);
        if ty.limits.min > max {
            return Err(Error::Instantiation(format!(
                "table minimum of {} elements exceeds the maximum of {max}",
                ty.limits.min
            )));
        }
        let mut table = TableInstance {
            vm: VMTable {
                base: std::ptr::null_mut(),
                length: 0,
            },
            ty,
            elements: vec![init.0; ty.limits.min as usize],
            max,
        };
        table.sync_vm();
        Ok(table)
    }

    fn sync_vm(&mut self) {
        self.vm.base = self.elements.as_mut_ptr();
        self.vm.length = self.elements.len() as u64;
    }

    pub fn ty(&self) -> TableType {
        self.ty
    }

    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    pub fn vm(&mut self) -> *mut VMTable {
        &mut self.vm
    }

    pub fn get(&self, index: u64) -> Option<RawRef> {
        self.elements
            .get(usize::try_from(index).ok()?)
            .map(|&r| RawRef(r))
    }

    pub fn set(&mut self, index: u64, value: RawRef) -> Option<()> {
        *self.elements.get_mut(usize::try_from(index).ok()?)? = value.0;
        Some(())
    }

    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// Grows by `delta` elements set to `init`; returns the old size or `None` (wasm's -1).
    pub fn grow(&mut self, delta: u64, init: RawRef) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        if new > self.max {
            return None;
        }
        self.elements.resize(new as usize, init.0);
        self.sync_vm();
        Some(old)
    }

    /// The current limits, as import matching sees them.
    pub fn current_type(&self) -> TableType {
        let mut ty = self.ty;
        ty.limits.min = self.size();
        ty
    }
}
