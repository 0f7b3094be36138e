//! The operator-by-operator translation.

use wamr_runtime::{Error, TrapKind, ValType};
use wasmparser::Operator as O;

use super::Translator;
use super::control::ControlKind;
use super::stack::Operand;
use crate::code::{Instr as I, MemOp};

impl Translator<'_> {
    pub(super) fn operator(&mut self, op: O<'_>) -> Result<(), Error> {
        if matches!(op, O::Loop { .. }) {
            self.loops_seen += 1;
        }
        if !self.reachable() {
            return self.dead_operator(op);
        }
        match op {
            O::Unreachable => {
                self.emit(I::Trap {
                    kind: TrapKind::Unreachable,
                });
                self.set_unreachable();
            }
            O::Nop => {}
            O::Block { blockty } => {
                let ty = self.block_type(blockty);
                self.block(ControlKind::Block, ty);
            }
            O::Loop { blockty } => {
                let ty = self.block_type(blockty);
                // The same rule as the LLVM tier's (`loop_entered` there).
                let eligible = ty.params.is_empty() && self.stack.height() == 0;
                self.block(ControlKind::Loop, ty);
                if eligible {
                    let pc = self.control.last().expect("the loop").loop_pc;
                    self.osr_points.push((pc, self.loops_seen - 1));
                }
            }
            O::If { blockty } => {
                let ty = self.block_type(blockty);
                self.if_(ty);
            }
            O::Else => self.else_(),
            O::End => {
                self.end();
            }
            O::Br { relative_depth } => self.br(relative_depth),
            O::BrIf { relative_depth } => self.br_if(relative_depth),
            O::BrTable { targets } => self.br_table(&targets)?,
            O::Return => self.return_(),
            O::Call { function_index } => self.call(function_index, false),
            O::ReturnCall { function_index } => self.call(function_index, true),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true),
            O::Drop => {
                self.stack.pop();
                self.last_result = None;
            }
            O::Select | O::TypedSelect { .. } | O::TypedSelectMulti { .. } => self.select(),
            O::LocalGet { local_index } => self.local_get(local_index),
            O::LocalSet { local_index } => self.local_set(local_index),
            O::LocalTee { local_index } => {
                self.local_set(local_index);
                self.local_get(local_index);
            }
            O::GlobalGet { global_index } => {
                let global = global_index;
                if self.global_is_v128(global) {
                    let dst = self.stack.push_stack_typed(true);
                    self.emit_result(I::GlobalGet128 { dst, global });
                } else {
                    let dst = self.stack.push_stack();
                    self.emit_result(I::GlobalGet { dst, global });
                }
            }
            O::GlobalSet { global_index } => {
                let global = global_index;
                let src = self.pop_slot();
                if self.global_is_v128(global) {
                    self.emit(I::GlobalSet128 { src, global });
                } else {
                    self.emit(I::GlobalSet { src, global });
                }
            }

            O::I32Load { memarg } | O::F32Load { memarg } | O::I64Load32U { memarg } => {
                self.load(MemOp::Load32, &memarg, |dst, addr, offset| I::Load32 {
                    dst,
                    addr,
                    offset,
                })
            }
            O::I64Load { memarg } | O::F64Load { memarg } => {
                self.load(MemOp::Load64, &memarg, |dst, addr, offset| I::Load64 {
                    dst,
                    addr,
                    offset,
                })
            }
            O::I32Load8S { memarg } => self.load(MemOp::I32Load8S, &memarg, |dst, addr, offset| {
                I::I32Load8S { dst, addr, offset }
            }),
            O::I32Load8U { memarg } | O::I64Load8U { memarg } => {
                self.load(MemOp::Load8U, &memarg, |dst, addr, offset| I::Load8U {
                    dst,
                    addr,
                    offset,
                })
            }
            O::I32Load16S { memarg } => {
                self.load(MemOp::I32Load16S, &memarg, |dst, addr, offset| {
                    I::I32Load16S { dst, addr, offset }
                })
            }
            O::I32Load16U { memarg } | O::I64Load16U { memarg } => {
                self.load(MemOp::Load16U, &memarg, |dst, addr, offset| I::Load16U {
                    dst,
                    addr,
                    offset,
                })
            }
            O::I64Load8S { memarg } => self.load(MemOp::I64Load8S, &memarg, |dst, addr, offset| {
                I::I64Load8S { dst, addr, offset }
            }),
            O::I64Load16S { memarg } => {
                self.load(MemOp::I64Load16S, &memarg, |dst, addr, offset| {
                    I::I64Load16S { dst, addr, offset }
                })
            }
            O::I64Load32S { memarg } => {
                self.load(MemOp::I64Load32S, &memarg, |dst, addr, offset| {
                    I::I64Load32S { dst, addr, offset }
                })
            }
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.store(MemOp::Store8, &memarg, |addr, value, offset| I::Store8 {
                    addr,
                    value,
                    offset,
                })
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.store(MemOp::Store16, &memarg, |addr, value, offset| I::Store16 {
                    addr,
                    value,
                    offset,
                })
            }
            O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => self
                .store(MemOp::Store32, &memarg, |addr, value, offset| I::Store32 {
                    addr,
                    value,
                    offset,
                }),
            O::I64Store { memarg } | O::F64Store { memarg } => {
                self.store(MemOp::Store64, &memarg, |addr, value, offset| I::Store64 {
                    addr,
                    value,
                    offset,
                })
            }
            O::MemorySize { mem } => {
                let dst = self.stack.push_stack();
                self.emit_result(I::MemorySize { dst, memory: mem });
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop_slot();
                let dst = self.stack.push_stack();
                self.emit_result(I::MemoryGrow {
                    dst,
                    delta,
                    memory: mem,
                });
            }
            O::MemoryFill { mem } => {
                let base = self.pop_consecutive(3);
                self.emit(I::MemoryFill { base, memory: mem });
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let base = self.pop_consecutive(3);
                self.emit(I::MemoryCopy {
                    base,
                    dst_memory: dst_mem,
                    src_memory: src_mem,
                });
            }
            O::MemoryInit { data_index, mem } => {
                let base = self.pop_consecutive(3);
                self.emit(I::MemoryInit {
                    base,
                    memory: mem,
                    segment: data_index,
                });
            }
            O::DataDrop { data_index } => {
                self.emit(I::DataDrop {
                    segment: data_index,
                });
            }

            O::TableGet { table } => {
                let index = self.pop_slot();
                let dst = self.stack.push_stack();
                self.emit_result(I::TableGet { dst, index, table });
            }
            O::TableSet { table } => {
                let value = self.pop_slot();
                let index = self.pop_slot();
                self.emit(I::TableSet {
                    index,
                    value,
                    table,
                });
            }
            O::TableSize { table } => {
                let dst = self.stack.push_stack();
                self.emit_result(I::TableSize { dst, table });
            }
            O::TableGrow { table } => {
                let base = self.pop_consecutive(2);
                self.stack.push_stack();
                self.emit(I::TableGrow { base, table });
            }
            O::TableFill { table } => {
                let base = self.pop_consecutive(3);
                self.emit(I::TableFill { base, table });
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let base = self.pop_consecutive(3);
                self.emit(I::TableCopy {
                    base,
                    dst_table,
                    src_table,
                });
            }
            O::TableInit { elem_index, table } => {
                let base = self.pop_consecutive(3);
                self.emit(I::TableInit {
                    base,
                    table,
                    segment: elem_index,
                });
            }
            O::ElemDrop { elem_index } => {
                self.emit(I::ElemDrop {
                    segment: elem_index,
                });
            }

            O::I32Const { value } => self.stack.push(Operand::Const(value as u32 as u64)),
            O::I64Const { value } => self.stack.push(Operand::Const(value as u64)),
            O::F32Const { value } => self.stack.push(Operand::Const(value.bits() as u64)),
            O::F64Const { value } => self.stack.push(Operand::Const(value.bits())),
            O::RefNull { .. } => self.stack.push(Operand::Const(0)),
            O::RefIsNull => self.unop(|dst, a| I::I64Eqz { dst, a }),
            // References are compared by address, as 64-bit slot bits.
            O::RefEq => self.binop(|dst, a, b| I::I64Eq { dst, a, b }),
            O::RefFunc { function_index } => {
                let dst = self.stack.push_stack();
                self.emit_result(I::RefFunc {
                    dst,
                    func: function_index,
                });
            }

            other => self.numeric(other)?,
        }
        Ok(())
    }

    /// Operators in unreachable code: only block structure matters.
    fn dead_operator(&mut self, op: O<'_>) -> Result<(), Error> {
        match op {
            O::Block { blockty } | O::Loop { blockty } | O::If { blockty } => {
                let ty = self.block_type(blockty);
                self.block(ControlKind::Block, ty);
            }
            O::Else => self.else_(),
            O::End => {
                self.end();
            }
            _ => {}
        }
        Ok(())
    }

    fn call(&mut self, func: u32, tail: bool) {
        let ty = self.module.func_type(func).clone();
        let base = self.pop_consecutive(ty.params().len());
        if tail {
            self.emit(I::ReturnCall { func, base });
            // A host or native callee leaves its results from `base`: the
            // frame must have room for them.
            self.push_results(ty.results());
            self.set_unreachable();
            return;
        }
        self.emit(I::Call { func, base });
        self.push_results(ty.results());
    }

    fn push_results(&mut self, results: &[ValType]) {
        for &t in results {
            self.stack.push_stack_typed(t == ValType::V128);
        }
    }

    fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) {
        let ty = self.module.types()[type_index as usize].clone();
        let base = self.pop_consecutive(ty.params().len() + 1);
        // The table index follows the arguments.
        let index = base + ty.param_slots() as u32;
        if tail {
            self.emit(I::ReturnCallIndirect {
                type_index,
                table,
                base,
                index,
            });
            self.push_results(ty.results());
            self.set_unreachable();
            return;
        }
        self.emit(I::CallIndirect {
            type_index,
            table,
            base,
            index,
        });
        self.push_results(ty.results());
    }

    fn global_is_v128(&self, global: u32) -> bool {
        self.module.globals()[global as usize].content == ValType::V128
    }

    fn select(&mut self) {
        let height = self.stack.height();
        if self.stack.is_wide(height - 2) {
            let cond = self.pop_slot();
            let b = self.pop_slot();
            let a = self.pop_slot();
            let dst = self.stack.push_stack_typed(true);
            self.emit_result(I::Select128 { dst, cond, a, b });
            return;
        }
        let cond = self.pop_slot();
        let (b, _) = self.pop_slot_or_imm32();
        let (a, a_slot) = self.pop_slot_or_imm32();
        let dst = self.stack.push_stack();
        let instr = match (a, b) {
            (Err(imm), Ok(b)) => I::SelectImmA { dst, cond, imm, b },
            (Ok(a), Err(imm)) => I::SelectImmB { dst, cond, a, imm },
            (a, b) => {
                // Both constant (rare): the second one gets its slot.
                let a = a.unwrap_or_else(|imm| {
                    self.emit(I::Const32 {
                        dst: a_slot,
                        value: imm,
                    });
                    a_slot
                });
                match b {
                    Ok(b) => I::Select { dst, cond, a, b },
                    Err(imm) => I::SelectImmB { dst, cond, a, imm },
                }
            }
        };
        self.emit_result(instr);
    }

    /// Numeric operators: arithmetic, comparisons and conversions.
    fn numeric(&mut self, op: O<'_>) -> Result<(), Error> {
        macro_rules! bin {
            ($v:ident) => {
                self.binop(|dst, a, b| I::$v { dst, a, b })
            };
        }
        macro_rules! un {
            ($v:ident) => {
                self.unop(|dst, a| I::$v { dst, a })
            };
        }
        // `imm!(Op, OpImm)`: a constant right operand becomes an immediate;
        // `imm!(Op, OpImm, LeftImm)`: a constant left operand too, as
        // `LeftImm` (the same op when commutative, the mirrored comparison).
        macro_rules! imm {
            ($v:ident, $vi:ident) => {
                self.binop_imm(
                    |dst, a, b| I::$v { dst, a, b },
                    |dst, a, imm| I::$vi { dst, a, imm },
                    false,
                    None,
                )
            };
            ($v:ident, $vi:ident, $vl:ident) => {
                self.binop_imm(
                    |dst, a, b| I::$v { dst, a, b },
                    |dst, a, imm| I::$vi { dst, a, imm },
                    false,
                    Some(|dst, a, imm| I::$vl { dst, a, imm }),
                )
            };
        }
        macro_rules! imm64 {
            ($v:ident, $vi:ident) => {
                self.binop_imm64(
                    |dst, a, b| I::$v { dst, a, b },
                    |dst, a, imm| I::$vi { dst, a, imm },
                    false,
                )
            };
        }
        match op {
            O::I32Add => imm!(I32Add, I32AddImm, I32AddImm),
            O::I32Sub => self.binop_imm(
                |dst, a, b| I::I32Sub { dst, a, b },
                |dst, a, imm| I::I32AddImm { dst, a, imm },
                true,
                None,
            ),
            O::I32Mul => imm!(I32Mul, I32MulImm, I32MulImm),
            O::I32DivS => bin!(I32DivS),
            O::I32DivU => bin!(I32DivU),
            O::I32RemS => bin!(I32RemS),
            O::I32RemU => bin!(I32RemU),
            O::I32And => self.i32_and(),
            O::I32Or => imm!(I32Or, I32OrImm, I32OrImm),
            O::I32Xor => imm!(I32Xor, I32XorImm, I32XorImm),
            O::I32Shl => imm!(I32Shl, I32ShlImm),
            O::I32ShrS => imm!(I32ShrS, I32ShrSImm),
            O::I32ShrU => imm!(I32ShrU, I32ShrUImm),
            O::I32Rotl => bin!(I32Rotl),
            O::I32Rotr => bin!(I32Rotr),
            O::I32Eq => imm!(I32Eq, I32EqImm, I32EqImm),
            O::I32Ne => imm!(I32Ne, I32NeImm, I32NeImm),
            O::I32LtS => imm!(I32LtS, I32LtSImm, I32GtSImm),
            O::I32LtU => imm!(I32LtU, I32LtUImm, I32GtUImm),
            O::I32GtS => imm!(I32GtS, I32GtSImm, I32LtSImm),
            O::I32GtU => imm!(I32GtU, I32GtUImm, I32LtUImm),
            O::I32LeS => imm!(I32LeS, I32LeSImm, I32GeSImm),
            O::I32LeU => imm!(I32LeU, I32LeUImm, I32GeUImm),
            O::I32GeS => imm!(I32GeS, I32GeSImm, I32LeSImm),
            O::I32GeU => imm!(I32GeU, I32GeUImm, I32LeUImm),
            O::I32Clz => un!(I32Clz),
            O::I32Ctz => un!(I32Ctz),
            O::I32Popcnt => un!(I32Popcnt),
            O::I32Eqz => un!(I32Eqz),

            O::I64Add => imm64!(I64Add, I64AddImm),
            O::I64Sub => self.binop_imm64(
                |dst, a, b| I::I64Sub { dst, a, b },
                |dst, a, imm| I::I64AddImm { dst, a, imm },
                true,
            ),
            O::I64Mul => bin!(I64Mul),
            O::I64DivS => bin!(I64DivS),
            O::I64DivU => bin!(I64DivU),
            O::I64RemS => bin!(I64RemS),
            O::I64RemU => bin!(I64RemU),
            O::I64And => imm64!(I64And, I64AndImm),
            O::I64Or => bin!(I64Or),
            O::I64Xor => bin!(I64Xor),
            O::I64Shl => imm64!(I64Shl, I64ShlImm),
            O::I64ShrS => bin!(I64ShrS),
            O::I64ShrU => imm64!(I64ShrU, I64ShrUImm),
            O::I64Rotl => bin!(I64Rotl),
            O::I64Rotr => bin!(I64Rotr),
            O::I64Eq => bin!(I64Eq),
            O::I64Ne => bin!(I64Ne),
            O::I64LtS => bin!(I64LtS),
            O::I64LtU => bin!(I64LtU),
            O::I64GtS => bin!(I64GtS),
            O::I64GtU => bin!(I64GtU),
            O::I64LeS => bin!(I64LeS),
            O::I64LeU => bin!(I64LeU),
            O::I64GeS => bin!(I64GeS),
            O::I64GeU => bin!(I64GeU),
            O::I64Clz => un!(I64Clz),
            O::I64Ctz => un!(I64Ctz),
            O::I64Popcnt => un!(I64Popcnt),
            O::I64Eqz => un!(I64Eqz),

            O::F32Add => bin!(F32Add),
            O::F32Sub => bin!(F32Sub),
            O::F32Mul => bin!(F32Mul),
            O::F32Div => bin!(F32Div),
            O::F32Min => bin!(F32Min),
            O::F32Max => bin!(F32Max),
            O::F32Copysign => bin!(F32Copysign),
            O::F32Eq => bin!(F32Eq),
            O::F32Ne => bin!(F32Ne),
            O::F32Lt => bin!(F32Lt),
            O::F32Gt => bin!(F32Gt),
            O::F32Le => bin!(F32Le),
            O::F32Ge => bin!(F32Ge),
            O::F32Abs => un!(F32Abs),
            O::F32Neg => un!(F32Neg),
            O::F32Ceil => un!(F32Ceil),
            O::F32Floor => un!(F32Floor),
            O::F32Trunc => un!(F32Trunc),
            O::F32Nearest => un!(F32Nearest),
            O::F32Sqrt => un!(F32Sqrt),
            O::F64Add => bin!(F64Add),
            O::F64Sub => bin!(F64Sub),
            O::F64Mul => bin!(F64Mul),
            O::F64Div => bin!(F64Div),
            O::F64Min => bin!(F64Min),
            O::F64Max => bin!(F64Max),
            O::F64Copysign => bin!(F64Copysign),
            O::F64Eq => bin!(F64Eq),
            O::F64Ne => bin!(F64Ne),
            O::F64Lt => bin!(F64Lt),
            O::F64Gt => bin!(F64Gt),
            O::F64Le => bin!(F64Le),
            O::F64Ge => bin!(F64Ge),
            O::F64Abs => un!(F64Abs),
            O::F64Neg => un!(F64Neg),
            O::F64Ceil => un!(F64Ceil),
            O::F64Floor => un!(F64Floor),
            O::F64Trunc => un!(F64Trunc),
            O::F64Nearest => un!(F64Nearest),
            O::F64Sqrt => un!(F64Sqrt),

            O::I32WrapI64 => un!(I32WrapI64),
            O::I32TruncF32S => un!(I32TruncF32S),
            O::I32TruncF32U => un!(I32TruncF32U),
            O::I32TruncF64S => un!(I32TruncF64S),
            O::I32TruncF64U => un!(I32TruncF64U),
            O::I64ExtendI32S => un!(I64ExtendI32S),
            O::I64TruncF32S => un!(I64TruncF32S),
            O::I64TruncF32U => un!(I64TruncF32U),
            O::I64TruncF64S => un!(I64TruncF64S),
            O::I64TruncF64U => un!(I64TruncF64U),
            O::F32ConvertI32S => un!(F32ConvertI32S),
            O::F32ConvertI32U => un!(F32ConvertI32U),
            O::F32ConvertI64S => un!(F32ConvertI64S),
            O::F32ConvertI64U => un!(F32ConvertI64U),
            O::F32DemoteF64 => un!(F32DemoteF64),
            O::F64ConvertI32S => un!(F64ConvertI32S),
            O::F64ConvertI32U => un!(F64ConvertI32U),
            O::F64ConvertI64S => un!(F64ConvertI64S),
            O::F64ConvertI64U => un!(F64ConvertI64U),
            O::F64PromoteF32 => un!(F64PromoteF32),
            // Same bits in a slot: nothing to do.
            O::I64ExtendI32U
            | O::I32ReinterpretF32
            | O::I64ReinterpretF64
            | O::F32ReinterpretI32
            | O::F64ReinterpretI64 => {}
            O::I32Extend8S => un!(I32Extend8S),
            O::I32Extend16S => un!(I32Extend16S),
            O::I64Extend8S => un!(I64Extend8S),
            O::I64Extend16S => un!(I64Extend16S),
            O::I64Extend32S => un!(I64Extend32S),
            O::I32TruncSatF32S => un!(I32TruncSatF32S),
            O::I32TruncSatF32U => un!(I32TruncSatF32U),
            O::I32TruncSatF64S => un!(I32TruncSatF64S),
            O::I32TruncSatF64U => un!(I32TruncSatF64U),
            O::I64TruncSatF32S => un!(I64TruncSatF32S),
            O::I64TruncSatF32U => un!(I64TruncSatF32U),
            O::I64TruncSatF64S => un!(I64TruncSatF64S),
            O::I64TruncSatF64U => un!(I64TruncSatF64U),
            other => return self.simd(other),
        }
        Ok(())
    }
}
