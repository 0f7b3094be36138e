//! Operator-by-operator translation: numeric instructions, memory, globals
//! and calls.

use inkwell::IntPredicate;
use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicMetadataValueEnum, BasicValueEnum, IntValue, PointerValue};
use wamr_runtime::bulk::bulk_op;
use wamr_runtime::vmctx::layout;
use wamr_runtime::{IndexType, TrapKind, ValType};
use wasmparser::Operator as O;

use super::TranslateError as CompileError;
use super::func::{FuncTranslator, Kind};
use super::{native_fn_type, vm};

type Res<T = ()> = Result<T, CompileError>;

impl<'ctx> FuncTranslator<'_, 'ctx> {
    pub(super) fn operator(&mut self, op: O<'_>) -> Res {
        if matches!(op, O::Loop { .. }) {
            self.loops_seen += 1;
        }
        if !self.reachable {
            match op {
                O::Block { .. } | O::Loop { .. } | O::If { .. } => self.dead_depth += 1,
                O::Else => self.else_()?,
                O::End => self.end()?,
                _ => {}
            }
            return Ok(());
        }
        match op {
            O::Unreachable => {
                let trap = self.trap_block(TrapKind::Unreachable)?;
                self.b.build_unconditional_branch(trap)?;
                self.set_unreachable();
            }
            O::Nop => {}
            O::Block { blockty } => {
                let (p, r) = self.block_types(blockty)?;
                self.push_control(Kind::Block, p, r)?;
            }
            O::Loop { blockty } => {
                let (p, r) = self.block_types(blockty)?;
                let eligible = self.stack.is_empty() && p.is_empty();
                self.push_control(Kind::Loop, p, r)?;
                self.loop_entered(eligible);
            }
            O::If { blockty } => {
                let (p, r) = self.block_types(blockty)?;
                self.push_control(Kind::If, p, r)?;
            }
            O::Else => self.else_()?,
            O::End => self.end()?,
            O::Br { relative_depth } => self.br(relative_depth)?,
            O::BrIf { relative_depth } => self.br_if(relative_depth)?,
            O::BrTable { targets } => self.br_table(&targets)?,
            O::Return => {
                self.do_return()?;
                self.set_unreachable();
            }
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            O::ReturnCall { function_index } => self.return_call(function_index)?,
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.return_call_indirect(type_index, table_index)?,
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let c = self.pop_int();
                let b = self.pop();
                let a = self.pop();
                let nz =
                    self.b
                        .build_int_compare(IntPredicate::NE, c, self.i32().const_zero(), "c")?;
                let v = self.b.build_select(nz, a, b, "select")?;
                self.push(v);
            }
            O::LocalGet { local_index } => {
                let (ptr, ty) = self.locals[local_index as usize];
                let v = self.b.build_load(ty, ptr, "l")?;
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.b.build_store(self.locals[local_index as usize].0, v)?;
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().unwrap();
                self.b.build_store(self.locals[local_index as usize].0, v)?;
            }
            O::GlobalGet { global_index } => {
                let ty = llvm_ty(self, self.module.globals()[global_index as usize].content)?;
                let cell = self.global_cell(global_index)?;
                let v = self.b.build_load(ty, cell, "g")?;
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let cell = self.global_cell(global_index)?;
                self.b.build_store(cell, v)?;
            }

            O::I32Load { memarg } => self.load(&memarg, self.i32().into(), 4, None)?,
            O::I64Load { memarg } => self.load(&memarg, self.i64().into(), 8, None)?,
            O::F32Load { memarg } => self.load(&memarg, self.cx.f32_type().into(), 4, None)?,
            O::F64Load { memarg } => self.load(&memarg, self.cx.f64_type().into(), 8, None)?,
            O::I32Load8S { memarg } => self.load(
                &memarg,
                self.cx.i8_type().into(),
                1,
                Some((self.i32(), true)),
            )?,
            O::I32Load8U { memarg } => self.load(
                &memarg,
                self.cx.i8_type().into(),
                1,
                Some((self.i32(), false)),
            )?,
            O::I32Load16S { memarg } => self.load(
                &memarg,
                self.cx.i16_type().into(),
                2,
                Some((self.i32(), true)),
            )?,
            O::I32Load16U { memarg } => self.load(
                &memarg,
                self.cx.i16_type().into(),
                2,
                Some((self.i32(), false)),
            )?,
            O::I64Load8S { memarg } => self.load(
                &memarg,
                self.cx.i8_type().into(),
                1,
                Some((self.i64(), true)),
            )?,
            O::I64Load8U { memarg } => self.load(
                &memarg,
                self.cx.i8_type().into(),
                1,
                Some((self.i64(), false)),
            )?,
            O::I64Load16S { memarg } => self.load(
                &memarg,
                self.cx.i16_type().into(),
                2,
                Some((self.i64(), true)),
            )?,
            O::I64Load16U { memarg } => self.load(
                &memarg,
                self.cx.i16_type().into(),
                2,
                Some((self.i64(), false)),
            )?,
            O::I64Load32S { memarg } => {
                self.load(&memarg, self.i32().into(), 4, Some((self.i64(), true)))?
            }
            O::I64Load32U { memarg } => {
                self.load(&memarg, self.i32().into(), 4, Some((self.i64(), false)))?
            }
            O::I32Store { memarg } | O::F32Store { memarg } => self.store(&memarg, 4, None)?,
            O::I64Store { memarg } | O::F64Store { memarg } => self.store(&memarg, 8, None)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.store(&memarg, 1, Some(self.cx.i8_type()))?
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.store(&memarg, 2, Some(self.cx.i16_type()))?
            }
            O::I64Store32 { memarg } => self.store(&memarg, 4, Some(self.i32()))?,
            O::MemorySize { mem } => {
                let (_, len) = self.memory_view(mem)?;
                let pages = self.b.build_right_shift(
                    len,
                    self.i64().const_int(16, false),
                    false,
                    "pages",
                )?;
                let v = self.narrow_to_index(mem, pages)?;
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop_int();
                let delta = self.widen_index(mem, delta)?;
                let grow = self.builtin(layout::BUILTIN_MEMORY_GROW)?;
                let ty = self.i64().fn_type(
                    &[self.ptr_t().into(), self.i32().into(), self.i64().into()],
                    false,
                );
                let old = self
                    .b
                    .build_indirect_call(
                        ty,
                        grow,
                        &[
                            self.vmctx.into(),
                            self.i32().const_int(mem as u64, false).into(),
                            delta.into(),
                        ],
                        "grow",
                    )?
                    .try_as_basic_value()
                    .basic()
                    .unwrap()
                    .into_int_value();
                let v = self.narrow_to_index(mem, old)?;
                self.push(v);
            }

            O::MemoryFill { mem } => self.bulk(bulk_op::MEMORY_FILL, mem, 0, 3, None)?,
            O::MemoryCopy { dst_mem, src_mem } => {
                self.bulk(bulk_op::MEMORY_COPY, dst_mem, src_mem, 3, None)?
            }
            O::MemoryInit { data_index, mem } => {
                self.bulk(bulk_op::MEMORY_INIT, mem, data_index, 3, None)?
            }
            O::DataDrop { data_index } => self.bulk(bulk_op::DATA_DROP, data_index, 0, 0, None)?,
            O::TableGet { table } => {
                self.bulk(bulk_op::TABLE_GET, table, 0, 1, Some(Width::I64))?
            }
            O::TableSet { table } => self.bulk(bulk_op::TABLE_SET, table, 0, 2, None)?,
            O::TableSize { table } => {
                let w = self.table_width(table);
                self.bulk(bulk_op::TABLE_SIZE, table, 0, 0, Some(w))?
            }
            O::TableGrow { table } => {
                let w = self.table_width(table);
                self.bulk(bulk_op::TABLE_GROW, table, 0, 2, Some(w))?
            }
            O::TableFill { table } => self.bulk(bulk_op::TABLE_FILL, table, 0, 3, None)?,
            O::TableCopy {
                dst_table,
                src_table,
            } => self.bulk(bulk_op::TABLE_COPY, dst_table, src_table, 3, None)?,
            O::TableInit { elem_index, table } => {
                self.bulk(bulk_op::TABLE_INIT, table, elem_index, 3, None)?
            }
            O::ElemDrop { elem_index } => self.bulk(bulk_op::ELEM_DROP, elem_index, 0, 0, None)?,
            O::I32Const { value } => self.push(self.i32().const_int(value as u32 as u64, false)),
            O::I64Const { value } => self.push(self.i64().const_int(value as u64, false)),
            O::F32Const { value } => {
                let bits = self.i32().const_int(value.bits() as u64, false);
                let v = self.b.build_bit_cast(bits, self.cx.f32_type(), "f")?;
                self.push(v);
            }
            O::F64Const { value } => {
                let bits = self.i64().const_int(value.bits(), false);
                let v = self.b.build_bit_cast(bits, self.cx.f64_type(), "f")?;
                self.push(v);
            }
            O::RefNull { .. } => self.push(self.i64().const_zero()),
            O::RefIsNull => {
                let r = self.pop_int();
                let z = self.b.build_int_compare(
                    IntPredicate::EQ,
                    r,
                    self.i64().const_zero(),
                    "null",
                )?;
                let v = self.b.build_int_z_extend(z, self.i32(), "b")?;
                self.push(v);
            }
            O::RefEq => {
                // References are compared by address.
                let b = self.pop_int();
                let a = self.pop_int();
                let eq = self.b.build_int_compare(IntPredicate::EQ, a, b, "eq")?;
                let v = self.b.build_int_z_extend(eq, self.i32(), "b")?;
                self.push(v);
            }
            O::RefFunc { function_index } => {
                let funcs =
                    vm::load_fixed_ptr(self.cx, &self.b, self.vmctx, layout::VMCTX_FUNCS, "funcs")?;
                let slot = vm::array_ptr(self.cx, &self.b, funcs, function_index, "slot")?;
                let v = self.b.build_ptr_to_int(slot, self.i64(), "ref")?;
                self.push(v);
            }
            other => self.numeric(other)?,
        }
        Ok(())
    }

    // ---- memory ----------------------------------------------------------

    fn is_memory64(&self, mem: u32) -> bool {
        self.module.memories()[mem as usize].index == IndexType::I64
    }

    /// Whether memory `mem` lives in a guard reservation
    /// (`wamr_runtime::guard`), so that its accesses need no bounds check.
    fn guarded(&self, mem: u32) -> bool {
        !self.is_memory64(mem) && self.options.memory32_guard
    }

    /// Memory `mem`'s base pointer and byte length, read from its VM view.
    fn memory_view(&self, mem: u32) -> Res<(PointerValue<'ctx>, IntValue<'ctx>)> {
        let memories =
            vm::load_fixed_ptr(self.cx, &self.b, self.vmctx, layout::VMCTX_MEMORIES, "mems")?;
        let view = vm::array_ptr(self.cx, &self.b, memories, mem, "mem")?;
        // Re-read after every call, even where the base cannot move (a
        // guarded memory32): marking it invariant kept it live across whole
        // functions and cost CoreMark 5% in register pressure.
        let base = vm::load_ptr(self.cx, &self.b, view, layout::VMMEMORY_BASE, "base")?;
        let len_at = vm::field(self.cx, &self.b, view, layout::VMMEMORY_LENGTH)?;
        let len = self
            .b
            .build_load(self.i64(), len_at, "len")?
            .into_int_value();
        Ok((base, len))
    }

    fn widen_index(&self, mem: u32, v: IntValue<'ctx>) -> Res<IntValue<'ctx>> {
        Ok(if self.is_memory64(mem) {
            v
        } else {
            self.b.build_int_z_extend(v, self.i64(), "idx")?
        })
    }

    fn narrow_to_index(&self, mem: u32, v: IntValue<'ctx>) -> Res<IntValue<'ctx>> {
        Ok(if self.is_memory64(mem) {
            v
        } else {
            self.b.build_int_truncate(v, self.i32(), "idx")?
        })
    }

    /// The address of `size` bytes at the popped address + offset, checked
    /// here or, when the second result is true, by the memory's guard
    /// region. A guarded access must then be volatile: LLVM takes loads
    /// and stores to never fault, so it would delete an unused load and
    /// reorder accesses, and a trap would be lost or leave memory in
    /// another state. (Measured: no cost on CoreMark.)
    pub(super) fn address(
        &mut self,
        memarg: &wasmparser::MemArg,
        size: u64,
    ) -> Res<(PointerValue<'ctx>, bool)> {
        let wasmparser::MemArgTarget::Memory(mem) = memarg.target else {
            return Err(CompileError::Unsupported("GC array memory targets".into()));
        };
        let addr = self.pop_int();
        let addr = self.widen_index(mem, addr)?;
        let (base, len) = self.memory_view(mem)?;
        let i64t = self.i64();
        // offset + size fits u64 (offsets are below 2^64 - 8 in practice; a
        // larger one makes every access out of bounds, which the checks catch).
        let extra = memarg.offset.saturating_add(size);
        let end = if self.is_memory64(mem) {
            let sum = self.call_intrinsic(
                "llvm.uadd.with.overflow",
                &[i64t.into()],
                &[addr.into(), i64t.const_int(extra, false).into()],
            )?;
            let s = sum.into_struct_value();
            let overflow = self.b.build_extract_value(s, 1, "ovf")?.into_int_value();
            self.trap_if(overflow, TrapKind::MemoryOutOfBounds)?;
            self.b.build_extract_value(s, 0, "end")?.into_int_value()
        } else {
            self.b
                .build_int_add(addr, i64t.const_int(extra, false), "end")?
        };
        // A guarded memory32 needs no check: every index + offset + size
        // lands inside its reservation, where a fault is the trap.
        let guarded = self.guarded(mem);
        if !guarded {
            let oob = self
                .b
                .build_int_compare(IntPredicate::UGT, end, len, "oob")?;
            self.trap_if(oob, TrapKind::MemoryOutOfBounds)?;
        }
        let ea = self
            .b
            .build_int_add(addr, i64t.const_int(memarg.offset, false), "ea")?;
        // SAFETY (IR): checked against the memory's length above, or inside
        // the guarded reservation.
        let p = unsafe { self.b.build_gep(self.cx.i8_type(), base, &[ea], "p")? };
        Ok((p, guarded))
    }

    fn load(
        &mut self,
        memarg: &wasmparser::MemArg,
        ty: BasicTypeEnum<'ctx>,
        size: u64,
        extend: Option<(inkwell::types::IntType<'ctx>, bool)>,
    ) -> Res {
        let (p, guarded) = self.address(memarg, size)?;
        let v = self.b.build_load(ty, p, "load")?;
        if let Some(i) = inkwell::values::BasicValue::as_instruction_value(&v) {
            self.memory_access(i, guarded)?;
        }
        let v: BasicValueEnum = match extend {
            None => v,
            Some((to, true)) => self
                .b
                .build_int_s_extend(v.into_int_value(), to, "sx")?
                .into(),
            Some((to, false)) => self
                .b
                .build_int_z_extend(v.into_int_value(), to, "zx")?
                .into(),
        };
        self.push(v);
        Ok(())
    }

    /// Stores the popped value: `size` bytes, narrowed to `narrow` if given.
    fn store(
        &mut self,
        memarg: &wasmparser::MemArg,
        size: u64,
        narrow: Option<inkwell::types::IntType<'ctx>>,
    ) -> Res {
        let v = self.pop();
        let (p, guarded) = self.address(memarg, size)?;
        let v: BasicValueEnum = match narrow {
            Some(t) => self
                .b
                .build_int_truncate(v.into_int_value(), t, "narrow")?
                .into(),
            None => v,
        };
        let st = self.b.build_store(p, v)?;
        self.memory_access(st, guarded)
    }

    /// Marks `access`, a load or store of linear memory at an address from
    /// [`Self::address`]: unaligned, and when `guarded`, volatile (see
    /// there) and tagged with this function's index. LLVM keeps the tag
    /// where it inlines the access and lists the instruction it becomes in
    /// the linker's fault-site table, so that a guard-page trap names this
    /// function, as `raise_trap` would (`crate::link::FAULT_SECTION`).
    pub(super) fn memory_access(
        &mut self,
        access: inkwell::values::InstructionValue<'ctx>,
        guarded: bool,
    ) -> Res {
        access.set_alignment(1).map_err(CompileError::llvm)?;
        access.set_volatile(guarded).map_err(CompileError::llvm)?;
        if guarded {
            access
                .set_metadata(self.fault_tag(), self.cx.get_kind_id("pcsections"))
                .map_err(CompileError::llvm)?;
        }
        self.memory_accesses.insert(access);
        Ok(())
    }

    /// `!{!"wamr_faults!C", !{i32 <this function>}}`: `!C` makes LLVM
    /// write the constants after each entry, as ULEB128. Built from raw
    /// metadata: inkwell's `metadata_node` passes nodes as values, and LLVM
    /// turns a node of one constant made a value into the bare constant,
    /// which `!pcsections` then ignores.
    fn fault_tag(&self) -> inkwell::values::MetadataValue<'ctx> {
        use inkwell::llvm_sys::core::{
            LLVMMDNodeInContext2, LLVMMDStringInContext2, LLVMMetadataAsValue, LLVMValueAsMetadata,
        };
        use inkwell::values::AsValueRef;
        let section = format!("{}!C", crate::link::FAULT_SECTION);
        let func = self.i32().const_int(u64::from(self.index), false);
        // SAFETY: plain constructors on this function's live context and a
        // constant of it; LLVM copies the string.
        unsafe {
            let cx = self.cx.raw();
            let mut aux = [LLVMValueAsMetadata(func.as_value_ref())];
            let aux = LLVMMDNodeInContext2(cx, aux.as_mut_ptr(), aux.len());
            let name = LLVMMDStringInContext2(cx, section.as_ptr().cast(), section.len());
            let mut tag = [name, aux];
            let tag = LLVMMDNodeInContext2(cx, tag.as_mut_ptr(), tag.len());
            inkwell::values::MetadataValue::new(LLVMMetadataAsValue(cx, tag))
        }
    }

    fn global_cell(&self, index: u32) -> Res<PointerValue<'ctx>> {
        let globals = vm::load_fixed_ptr(
            self.cx,
            &self.b,
            self.vmctx,
            layout::VMCTX_GLOBALS,
            "globals",
        )?;
        vm::array_ptr(self.cx, &self.b, globals, index, "cell")
    }

    // ---- calls -----------------------------------------------------------

    fn call(&mut self, index: u32) -> Res {
        let ty = self.module.func_type(index).clone();
        let imported = self.module.num_imported_funcs();
        if index < imported {
            let funcs =
                vm::load_fixed_ptr(self.cx, &self.b, self.vmctx, layout::VMCTX_FUNCS, "funcs")?;
            let slot = vm::array_ptr(self.cx, &self.b, funcs, index, "slot")?;
            return self.call_through_builtin(&ty, slot);
        }
        let (call_args, out) = self.native_args(&ty, self.vmctx)?;
        let callee = self.natives[(index - imported) as usize];
        let call = self.b.build_call(callee, &call_args, "call")?;
        call.set_call_convention(self.call_conv);
        // Every wasm call keeps its frame: turned into a jump or a loop,
        // unbounded recursion would spin instead of exhausting the stack.
        call.set_tail_call_kind(inkwell::values::LLVMTailCallKind::LLVMTailCallKindNoTail);
        self.check_pending_trap()?;
        self.push_results(&ty, call, out)
    }

    /// Pops the arguments of a native call of type `ty` to a function of
    /// `callee_vmctx`; with a results buffer (see `results_in_memory`),
    /// passed last and returned too.
    fn native_args(
        &mut self,
        ty: &wamr_runtime::FuncType,
        callee_vmctx: PointerValue<'ctx>,
    ) -> Res<(
        Vec<BasicMetadataValueEnum<'ctx>>,
        Option<PointerValue<'ctx>>,
    )> {
        let args = self.pop_n(ty.params().len());
        let mut call_args: Vec<BasicMetadataValueEnum> = vec![callee_vmctx.into()];
        call_args.extend(args.iter().map(|&a| BasicMetadataValueEnum::from(a)));
        let out = match super::results_in_memory(ty) {
            true => Some(self.slot_buffer(ty.result_slots())?),
            false => None,
        };
        call_args.extend(out.map(BasicMetadataValueEnum::from));
        Ok((call_args, out))
    }

    /// Pushes the results of native `call` of type `ty`: its value, or what
    /// it wrote to `out`.
    fn push_results(
        &mut self,
        ty: &wamr_runtime::FuncType,
        call: inkwell::values::CallSiteValue<'ctx>,
        out: Option<PointerValue<'ctx>>,
    ) -> Res {
        match out {
            Some(out) => self.push_slots(ty.results(), out),
            None => {
                if let Some(v) = call.try_as_basic_value().basic() {
                    self.push(v);
                }
                Ok(())
            }
        }
    }

    /// Pushes values of `types` read from the slots at `slots`, laid out
    /// one after the other (a v128 takes two).
    fn push_slots(&mut self, types: &[ValType], slots: PointerValue<'ctx>) -> Res {
        for (at, t) in vm::slot_offsets(types) {
            let v = vm::load_slots(self.cx, &self.b, slots, at, t)?;
            self.push(v);
        }
        Ok(())
    }

    /// Calls the function of `slot` through the `call_func` builtin, passing
    /// arguments and results in a slot array.
    fn call_through_builtin(
        &mut self,
        ty: &wamr_runtime::FuncType,
        slot: PointerValue<'ctx>,
    ) -> Res {
        let values = self.slot_buffer(ty.value_array_len())?;
        let args = self.pop_n(ty.params().len());
        for ((at, t), a) in vm::slot_offsets(ty.params()).zip(args) {
            vm::store_slots(self.cx, &self.b, values, at, a, t)?;
        }
        let call_func = self.builtin(layout::BUILTIN_CALL_FUNC)?;
        let fty = self.cx.void_type().fn_type(
            &[
                self.ptr_t().into(),
                self.ptr_t().into(),
                self.ptr_t().into(),
            ],
            false,
        );
        self.b.build_indirect_call(
            fty,
            call_func,
            &[self.vmctx.into(), slot.into(), values.into()],
            "call",
        )?;
        self.check_pending_trap()?;
        self.push_slots(ty.results(), values)
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Res {
        let ty = (*self.module.types()[type_index as usize]).clone();
        let slot = self.indirect_slot(type_index, table)?;
        self.call_slot(&ty, slot)
    }

    /// Pops a table index and returns the slot it names, after the
    /// bounds, null and signature checks of `call_indirect`.
    fn indirect_slot(&mut self, type_index: u32, table: u32) -> Res<PointerValue<'ctx>> {
        let index = self.pop_int();
        let index = if self.module.tables()[table as usize].index == IndexType::I64 {
            index
        } else {
            self.b.build_int_z_extend(index, self.i64(), "i")?
        };
        let i64t = self.i64();
        let tables =
            vm::load_fixed_ptr(self.cx, &self.b, self.vmctx, layout::VMCTX_TABLES, "tables")?;
        let view = vm::array_ptr(self.cx, &self.b, tables, table, "table")?;
        let elems = vm::load_ptr(self.cx, &self.b, view, layout::VMTABLE_BASE, "elems")?;
        let len_at = vm::field(self.cx, &self.b, view, layout::VMTABLE_LENGTH)?;
        let len = self.b.build_load(i64t, len_at, "len")?.into_int_value();
        let out = self
            .b
            .build_int_compare(IntPredicate::UGE, index, len, "out")?;
        self.trap_if(out, TrapKind::UndefinedElement)?;
        // SAFETY (IR): index checked against the length.
        let at = unsafe { self.b.build_gep(i64t, elems, &[index], "elem")? };
        let r = self.b.build_load(i64t, at, "ref")?.into_int_value();
        let null = self
            .b
            .build_int_compare(IntPredicate::EQ, r, i64t.const_zero(), "null")?;
        self.trap_if(null, TrapKind::UninitializedElement)?;
        let slot = self.b.build_int_to_ptr(r, self.ptr_t(), "slot")?;
        let type_id_at = vm::field(self.cx, &self.b, slot, layout::VMFUNCREF_TYPE_ID)?;
        let type_id = self.b.build_load(self.i32(), type_id_at, "tid")?;
        vm::mark_invariant(self.cx, type_id)?;
        let type_id = type_id.into_int_value();
        let ids = vm::load_fixed_ptr(self.cx, &self.b, self.vmctx, layout::VMCTX_TYPE_IDS, "ids")?;
        let want_at = vm::field(self.cx, &self.b, ids, type_index as usize * 4)?;
        let want = self.b.build_load(self.i32(), want_at, "want")?;
        vm::mark_invariant(self.cx, want)?;
        let want = want.into_int_value();
        let bad = self
            .b
            .build_int_compare(IntPredicate::NE, type_id, want, "bad")?;
        self.trap_if(bad, TrapKind::IndirectCallTypeMismatch)?;
        Ok(slot)
    }

    /// Calls the function of `slot` (type `ty`): native code when the slot
    /// has it; otherwise the generic path.
    fn call_slot(&mut self, ty: &wamr_runtime::FuncType, slot: PointerValue<'ctx>) -> Res {
        let code = vm::load_ptr(self.cx, &self.b, slot, layout::VMFUNCREF_CODE, "code")?;
        let has_code = self.b.build_is_not_null(code, "native")?;
        let native_bb = self.cx.append_basic_block(self.func, "native");
        let slow_bb = self.cx.append_basic_block(self.func, "slow");
        let join = self.cx.append_basic_block(self.func, "joined");
        self.b
            .build_conditional_branch(has_code, native_bb, slow_bb)?;

        let args = self.pop_n(ty.params().len());
        let base = self.stack.len();
        self.b.position_at_end(native_bb);
        let callee_vmctx =
            vm::load_fixed_ptr(self.cx, &self.b, slot, layout::VMFUNCREF_VMCTX, "cvmctx")?;
        self.stack.extend(args.iter().copied());
        let (call_args, out) = self.native_args(ty, callee_vmctx)?;
        let fty = native_fn_type(self.cx, ty)?;
        let ret = self.b.build_indirect_call(fty, code, &call_args, "icall")?;
        ret.set_call_convention(self.call_conv);
        ret.set_tail_call_kind(inkwell::values::LLVMTailCallKind::LLVMTailCallKindNoTail);
        self.check_pending_trap()?;
        self.push_results(ty, ret, out)?;
        let native_vals = self.stack.split_off(base);
        let native_end = self.current_block();
        self.b.build_unconditional_branch(join)?;

        self.b.position_at_end(slow_bb);
        self.stack.extend(args);
        self.call_through_builtin(ty, slot)?;
        let slow_vals = self.stack.split_off(base);
        let slow_end = self.current_block();
        self.b.build_unconditional_branch(join)?;

        self.b.position_at_end(join);
        for ((n, s), &t) in native_vals.iter().zip(&slow_vals).zip(ty.results()) {
            let phi = self.b.build_phi(llvm_ty(self, t)?, "r")?;
            phi.add_incoming(&[(n, native_end), (s, slow_end)]);
            self.push(phi.as_basic_value());
        }
        Ok(())
    }
}

impl<'ctx> FuncTranslator<'_, 'ctx> {
    /// Returns `call`'s value(s) from this function.
    fn return_call_result(&mut self, call: inkwell::values::CallSiteValue<'ctx>) -> Res {
        match call.try_as_basic_value().basic() {
            Some(v) => self.b.build_return(Some(&v))?,
            None => self.b.build_return(None)?,
        };
        Ok(())
    }

    /// A guaranteed tail call (`musttail` between `tailcc` functions) of
    /// type `ty` with `args` to a function of `callee_vmctx`: unbounded
    /// `return_call` recursion runs in constant stack. (See
    /// `native_call_conv` for targets without `tailcc`.)
    fn tail_call_native(
        &mut self,
        ty: &wamr_runtime::FuncType,
        target: Result<inkwell::values::FunctionValue<'ctx>, PointerValue<'ctx>>,
        callee_vmctx: PointerValue<'ctx>,
        args: &[BasicValueEnum<'ctx>],
    ) -> Res {
        let mut call_args: Vec<BasicMetadataValueEnum> = vec![callee_vmctx.into()];
        call_args.extend(args.iter().map(|&a| BasicMetadataValueEnum::from(a)));
        // The callee's results are this function's: where they are
        // returned in memory, they go where this function's caller wants.
        call_args.extend(self.results_out.map(BasicMetadataValueEnum::from));
        let fty = native_fn_type(self.cx, ty)?;
        let call = match target {
            Ok(f) => self.b.build_call(f, &call_args, "tcall")?,
            Err(p) => self.b.build_indirect_call(fty, p, &call_args, "tcall")?,
        };
        call.set_call_convention(self.call_conv);
        if self.call_conv == super::TAILCC || fty == self.func.get_type() {
            call.set_tail_call_kind(inkwell::values::LLVMTailCallKind::LLVMTailCallKindMustTail);
            self.return_call_result(call)
        } else {
            // No guaranteed tail call for this signature on this target: a
            // call, the callee's trap check, and a return.
            call.set_tail_call_kind(inkwell::values::LLVMTailCallKind::LLVMTailCallKindNoTail);
            self.check_pending_trap()?;
            self.return_call_result(call)
        }
    }

    fn return_call(&mut self, index: u32) -> Res {
        let imported = self.module.num_imported_funcs();
        if index < imported {
            // A host or other-instance callee: an ordinary call, then return.
            self.call(index)?;
            self.do_return()?;
            self.set_unreachable();
            return Ok(());
        }
        let ty = self.module.func_type(index).clone();
        let args = self.pop_n(ty.params().len());
        let callee = self.natives[(index - imported) as usize];
        self.tail_call_native(&ty, Ok(callee), self.vmctx, &args)?;
        self.set_unreachable();
        Ok(())
    }

    fn return_call_indirect(&mut self, type_index: u32, table: u32) -> Res {
        let ty = (*self.module.types()[type_index as usize]).clone();
        let slot = self.indirect_slot(type_index, table)?;
        let code = vm::load_ptr(self.cx, &self.b, slot, layout::VMFUNCREF_CODE, "code")?;
        let has_code = self.b.build_is_not_null(code, "native")?;
        let native_bb = self.cx.append_basic_block(self.func, "native");
        let slow_bb = self.cx.append_basic_block(self.func, "slow");
        self.b
            .build_conditional_branch(has_code, native_bb, slow_bb)?;
        let args = self.pop_n(ty.params().len());

        self.b.position_at_end(native_bb);
        let callee_vmctx =
            vm::load_fixed_ptr(self.cx, &self.b, slot, layout::VMFUNCREF_VMCTX, "cvmctx")?;
        self.tail_call_native(&ty, Err(code), callee_vmctx, &args)?;

        self.b.position_at_end(slow_bb);
        self.stack.extend(args);
        self.call_through_builtin(&ty, slot)?;
        self.do_return()?;
        self.set_unreachable();
        Ok(())
    }
}

/// The width of a bulk operation's result.
#[derive(Clone, Copy)]
enum Width {
    I32,
    I64,
}

impl<'ctx> FuncTranslator<'_, 'ctx> {
    fn table_width(&self, table: u32) -> Width {
        match self.module.tables()[table as usize].index {
            IndexType::I32 => Width::I32,
            IndexType::I64 => Width::I64,
        }
    }

    /// Calls the `bulk` builtin for `op` with immediates `x`, `y` and the
    /// top `arity` operands (widened to i64); pushes its result if `result`.
    fn bulk(&mut self, op: u32, x: u32, y: u32, arity: usize, result: Option<Width>) -> Res {
        let i64t = self.i64();
        let operands = self.pop_n(arity);
        let mut args: Vec<BasicMetadataValueEnum> = vec![
            self.vmctx.into(),
            self.i32().const_int(op as u64, false).into(),
            self.i32().const_int(x as u64, false).into(),
            self.i32().const_int(y as u64, false).into(),
        ];
        for i in 0..3 {
            let v = match operands.get(i) {
                Some(v) if v.into_int_value().get_type().get_bit_width() == 64 => {
                    v.into_int_value()
                }
                Some(v) => self.b.build_int_z_extend(v.into_int_value(), i64t, "w")?,
                None => i64t.const_zero(),
            };
            args.push(v.into());
        }
        let bulk = self.builtin(layout::BUILTIN_BULK)?;
        let fty = i64t.fn_type(
            &[
                self.ptr_t().into(),
                self.i32().into(),
                self.i32().into(),
                self.i32().into(),
                i64t.into(),
                i64t.into(),
                i64t.into(),
            ],
            false,
        );
        let ret = self
            .b
            .build_indirect_call(fty, bulk, &args, "bulk")?
            .try_as_basic_value()
            .basic()
            .expect("bulk returns a value")
            .into_int_value();
        self.check_pending_trap()?;
        match result {
            None => {}
            Some(Width::I64) => self.push(ret),
            Some(Width::I32) => {
                let v = self.b.build_int_truncate(ret, self.i32(), "r")?;
                self.push(v);
            }
        }
        Ok(())
    }
}

pub(super) fn llvm_ty<'ctx>(t: &FuncTranslator<'_, 'ctx>, ty: ValType) -> Res<BasicTypeEnum<'ctx>> {
    super::llvm_type(t.cx, ty)
}
