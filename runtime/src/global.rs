//! Global variables, stored in a [`VMGlobal`] cell that every tier reads.

use crate::types::{GlobalType, ValType};
use crate::value::{RawRef, Val};
use crate::vmctx::VMGlobal;

#[derive(Debug)]
pub struct GlobalInstance {
    cell: VMGlobal,
    ty: GlobalType,
}

impl GlobalInstance {
    pub fn new(ty: GlobalType, value: Val) -> Self {
        let mut g = GlobalInstance {
            cell: VMGlobal::default(),
            ty,
        };
        g.set(value);
        g
    }

    pub fn ty(&self) -> GlobalType {
        self.ty
    }

    pub fn get(&self) -> Val {
        match self.ty.content {
            ValType::V128 => {
                Val::V128(self.cell.bits[0] as u128 | (self.cell.bits[1] as u128) << 64)
            }
            ValType::FuncRef | ValType::ExternRef | ValType::ArrayRef => {
                Val::Ref(RawRef(self.cell.bits[0]))
            }
            ty => Val::from_bits(ty, self.cell.bits[0]),
        }
    }

    /// Stores `value`, which the caller has checked has the global's type.
    pub fn set(&mut self, value: Val) {
        self.cell.bits = match value {
            Val::V128(v) => [v as u64, (v >> 64) as u64],
            v => [v.to_bits(), 0],
        };
    }

    pub fn vm(&mut self) -> *mut VMGlobal {
        &mut self.cell
    }
}
