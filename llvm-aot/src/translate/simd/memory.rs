//! v128 loads and stores, with the bounds discipline of scalar accesses
//! (`FuncTranslator::address`).

use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicValue, BasicValueEnum, VectorValue};
use wasmparser::{MemArg, Operator as O};

use super::super::func::FuncTranslator;
use super::{Res, Shape};

impl<'ctx> FuncTranslator<'_, 'ctx> {
    /// Loads a `ty` of `size` bytes from the popped address.
    fn mem_load(
        &mut self,
        memarg: &MemArg,
        ty: BasicTypeEnum<'ctx>,
        size: u64,
    ) -> Res<BasicValueEnum<'ctx>> {
        let (p, guarded) = self.address(memarg, size)?;
        let v = self.b.build_load(ty, p, "load")?;
        let i = v.as_instruction_value().expect("a load instruction");
        self.memory_access(i, guarded)?;
        Ok(v)
    }

    /// Stores `v` (`size` bytes) at the popped address.
    fn mem_store(&mut self, memarg: &MemArg, v: BasicValueEnum<'ctx>, size: u64) -> Res {
        let (p, guarded) = self.address(memarg, size)?;
        let st = self.b.build_store(p, v)?;
        self.memory_access(st, guarded)
    }

    /// `v128.loadNxM_s/u`: 8 bytes of `from` lanes, each widened.
    fn load_extend(&mut self, memarg: &MemArg, from: Shape, signed: bool) -> Res {
        let n = from.lanes() / 2;
        let v = self
            .mem_load(memarg, from.vec_n(self.cx, n).into(), 8)?
            .into_vector_value();
        let wide = match from {
            Shape::I8 => Shape::I16,
            Shape::I16 => Shape::I32,
            _ => Shape::I64,
        }
        .vec(self.cx);
        let v = match signed {
            true => self.b.build_int_s_extend(v, wide, "sx")?,
            false => self.b.build_int_z_extend(v, wide, "zx")?,
        };
        self.vpush(v)
    }

    fn load_splat(&mut self, memarg: &MemArg, s: Shape) -> Res {
        let x = self.mem_load(memarg, s.elem(self.cx), u64::from(s.bits() / 8))?;
        let v = self.splat_n(x, s.lanes())?;
        self.vpush(v)
    }

    /// `v128.load32_zero`/`load64_zero`: one lane loaded, the others 0.
    fn load_zero(&mut self, memarg: &MemArg, s: Shape) -> Res {
        let x = self.mem_load(memarg, s.elem(self.cx), u64::from(s.bits() / 8))?;
        let zero = s.vec(self.cx).const_zero();
        let v = self
            .b
            .build_insert_element(zero, x, self.i32().const_zero(), "zero")?;
        self.vpush(v)
    }

    fn load_lane(&mut self, memarg: &MemArg, s: Shape, lane: u8) -> Res {
        let v: VectorValue = self.vpop(s)?;
        let x = self.mem_load(memarg, s.elem(self.cx), u64::from(s.bits() / 8))?;
        let at = self.i32().const_int(u64::from(lane), false);
        let v = self.b.build_insert_element(v, x, at, "lane")?;
        self.vpush(v)
    }

    fn store_lane(&mut self, memarg: &MemArg, s: Shape, lane: u8) -> Res {
        let v = self.vpop(s)?;
        let at = self.i32().const_int(u64::from(lane), false);
        let x = self.b.build_extract_element(v, at, "lane")?;
        self.mem_store(memarg, x, u64::from(s.bits() / 8))
    }

    /// The SIMD memory operators; false if `op` is none of them.
    pub(super) fn memory_simd(&mut self, op: &O<'_>) -> Res<bool> {
        use Shape::*;
        match *op {
            O::V128Load { memarg } => {
                let v = self.mem_load(&memarg, super::v128_type(self.cx).into(), 16)?;
                self.push(v);
            }
            O::V128Store { memarg } => {
                let v = self.pop();
                self.mem_store(&memarg, v, 16)?;
            }
            O::V128Load8x8S { memarg } => self.load_extend(&memarg, I8, true)?,
            O::V128Load8x8U { memarg } => self.load_extend(&memarg, I8, false)?,
            O::V128Load16x4S { memarg } => self.load_extend(&memarg, I16, true)?,
            O::V128Load16x4U { memarg } => self.load_extend(&memarg, I16, false)?,
            O::V128Load32x2S { memarg } => self.load_extend(&memarg, I32, true)?,
            O::V128Load32x2U { memarg } => self.load_extend(&memarg, I32, false)?,
            O::V128Load8Splat { memarg } => self.load_splat(&memarg, I8)?,
            O::V128Load16Splat { memarg } => self.load_splat(&memarg, I16)?,
            O::V128Load32Splat { memarg } => self.load_splat(&memarg, I32)?,
            O::V128Load64Splat { memarg } => self.load_splat(&memarg, I64)?,
            O::V128Load32Zero { memarg } => self.load_zero(&memarg, I32)?,
            O::V128Load64Zero { memarg } => self.load_zero(&memarg, I64)?,
            O::V128Load8Lane { memarg, lane } => self.load_lane(&memarg, I8, lane)?,
            O::V128Load16Lane { memarg, lane } => self.load_lane(&memarg, I16, lane)?,
            O::V128Load32Lane { memarg, lane } => self.load_lane(&memarg, I32, lane)?,
            O::V128Load64Lane { memarg, lane } => self.load_lane(&memarg, I64, lane)?,
            O::V128Store8Lane { memarg, lane } => self.store_lane(&memarg, I8, lane)?,
            O::V128Store16Lane { memarg, lane } => self.store_lane(&memarg, I16, lane)?,
            O::V128Store32Lane { memarg, lane } => self.store_lane(&memarg, I32, lane)?,
            O::V128Store64Lane { memarg, lane } => self.store_lane(&memarg, I64, lane)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
