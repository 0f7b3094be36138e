//! Translation of SIMD operators: each becomes one instruction on `v128`
//! slot pairs (see `code::simd`).

use wamr_runtime::Error;
use wasmparser::Operator as O;

use super::Translator;
use crate::code::Instr as I;
use crate::code::simd::{Shape, SimdMemArg, SimdMemOp as M, SimdOp};

impl Translator<'_> {
    /// Translates a SIMD operator; anything else is unsupported.
    pub(super) fn simd(&mut self, op: O<'_>) -> Result<(), Error> {
        if let Some(simd) = SimdOp::plain(&op) {
            self.simd_op(simd, 0);
            return Ok(());
        }
        if let Some((simd, lane)) = SimdOp::with_lane(&op) {
            self.simd_op(simd, lane.into());
            return Ok(());
        }
        match op {
            O::V128Const { value } => {
                let index = self.v128_immediate(value.i128() as u128);
                let dst = self.stack.push_stack_typed(true);
                self.emit_result(I::V128Const { dst, index });
            }
            O::I8x16Shuffle { lanes } => {
                let index = self.v128_immediate(u128::from_le_bytes(lanes));
                self.simd_op(SimdOp::I8x16Shuffle, index);
            }
            O::V128Load { memarg } => match memory0_offset(&memarg) {
                Some(offset) => {
                    let addr = self.pop_slot();
                    let dst = self.stack.push_stack_typed(true);
                    self.emit_result(I::V128Load { dst, addr, offset });
                }
                None => self.simd_load(M::Load, &memarg, None),
            },
            O::V128Store { memarg } => match memory0_offset(&memarg) {
                Some(offset) => {
                    let value = self.pop_slot();
                    let addr = self.pop_slot();
                    self.emit(I::V128Store {
                        addr,
                        value,
                        offset,
                    });
                }
                None => self.simd_store(M::Store, &memarg, 0),
            },
            O::V128Load8x8S { memarg } => self.simd_load(M::Load8x8S, &memarg, None),
            O::V128Load8x8U { memarg } => self.simd_load(M::Load8x8U, &memarg, None),
            O::V128Load16x4S { memarg } => self.simd_load(M::Load16x4S, &memarg, None),
            O::V128Load16x4U { memarg } => self.simd_load(M::Load16x4U, &memarg, None),
            O::V128Load32x2S { memarg } => self.simd_load(M::Load32x2S, &memarg, None),
            O::V128Load32x2U { memarg } => self.simd_load(M::Load32x2U, &memarg, None),
            O::V128Load8Splat { memarg } => self.simd_load(M::Load8Splat, &memarg, None),
            O::V128Load16Splat { memarg } => self.simd_load(M::Load16Splat, &memarg, None),
            O::V128Load32Splat { memarg } => self.simd_load(M::Load32Splat, &memarg, None),
            O::V128Load64Splat { memarg } => self.simd_load(M::Load64Splat, &memarg, None),
            O::V128Load32Zero { memarg } => self.simd_load(M::Load32Zero, &memarg, None),
            O::V128Load64Zero { memarg } => self.simd_load(M::Load64Zero, &memarg, None),
            O::V128Load8Lane { memarg, lane } => self.simd_load(M::Load8Lane, &memarg, Some(lane)),
            O::V128Load16Lane { memarg, lane } => {
                self.simd_load(M::Load16Lane, &memarg, Some(lane))
            }
            O::V128Load32Lane { memarg, lane } => {
                self.simd_load(M::Load32Lane, &memarg, Some(lane))
            }
            O::V128Load64Lane { memarg, lane } => {
                self.simd_load(M::Load64Lane, &memarg, Some(lane))
            }
            O::V128Store8Lane { memarg, lane } => self.simd_store(M::Store8Lane, &memarg, lane),
            O::V128Store16Lane { memarg, lane } => self.simd_store(M::Store16Lane, &memarg, lane),
            O::V128Store32Lane { memarg, lane } => self.simd_store(M::Store32Lane, &memarg, lane),
            O::V128Store64Lane { memarg, lane } => self.simd_store(M::Store64Lane, &memarg, lane),
            other => {
                return Err(Error::Unsupported(format!(
                    "not supported by the interpreter yet: {other:?}"
                )));
            }
        }
        Ok(())
    }

    /// Adds a `v128` immediate to the function's side table.
    fn v128_immediate(&mut self, value: u128) -> u32 {
        self.v128s.push(value);
        self.v128s.len() as u32 - 1
    }

    /// An operation of [`Shape`] `op.shape()`; `imm` is its lane index or
    /// shuffle mask.
    fn simd_op(&mut self, op: SimdOp, imm: u32) {
        let shape = op.shape();
        let (a, b, c) = match shape {
            Shape::Unary | Shape::Splat | Shape::Test => (self.pop_slot(), 0, 0),
            Shape::Extract => (self.pop_slot(), imm, 0),
            Shape::Binary | Shape::Shift => {
                let b = self.pop_slot();
                (self.pop_slot(), b, 0)
            }
            Shape::Replace | Shape::Shuffle => {
                let b = self.pop_slot();
                (self.pop_slot(), b, imm)
            }
            Shape::Ternary => {
                let c = self.pop_slot();
                let b = self.pop_slot();
                (self.pop_slot(), b, c)
            }
        };
        let wide = !matches!(shape, Shape::Test | Shape::Extract);
        let dst = self.stack.push_stack_typed(wide);
        self.emit_result(I::Simd { op, dst, a, b, c });
    }

    fn simd_mem_arg(&mut self, op: M, memarg: &wasmparser::MemArg, lane: u8) -> u32 {
        self.simd_mem_args.push(SimdMemArg {
            op,
            memory: memory_index(memarg),
            offset: memarg.offset,
            lane,
        });
        self.simd_mem_args.len() as u32 - 1
    }

    /// A load; `lane` for a lane load, which also takes the vector it updates.
    fn simd_load(&mut self, op: M, memarg: &wasmparser::MemArg, lane: Option<u8>) {
        if let (None, Some(offset)) = (lane, memory0_offset(memarg)) {
            let addr = self.pop_slot();
            let dst = self.stack.push_stack_typed(true);
            self.emit_result(I::V128LoadExt {
                dst,
                addr,
                offset,
                op,
            });
            return;
        }
        let ext = self.simd_mem_arg(op, memarg, lane.unwrap_or(0));
        let vec = if lane.is_some() { self.pop_slot() } else { 0 };
        let addr = self.pop_slot();
        let dst = self.stack.push_stack_typed(true);
        self.emit_result(I::SimdLoad {
            dst,
            addr,
            vec,
            ext,
        });
    }

    fn simd_store(&mut self, op: M, memarg: &wasmparser::MemArg, lane: u8) {
        let ext = self.simd_mem_arg(op, memarg, lane);
        let value = self.pop_slot();
        let addr = self.pop_slot();
        self.emit(I::SimdStore { addr, value, ext });
    }
}

fn memory_index(memarg: &wasmparser::MemArg) -> u32 {
    // Validation (without GC) only admits linear-memory targets.
    let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
        unreachable!("array memory targets need the GC proposal");
    };
    memory
}

/// The offset of an access to memory 0 that fits in 32 bits (the fast path).
fn memory0_offset(memarg: &wasmparser::MemArg) -> Option<u32> {
    if memory_index(memarg) != 0 {
        return None;
    }
    u32::try_from(memarg.offset).ok()
}
