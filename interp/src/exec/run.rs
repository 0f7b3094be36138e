//! The instruction loop.

use wamr_runtime::vmctx::{VMFuncRef, VMGlobal};
use wamr_runtime::{FuncKind, InstanceId, Trap, TrapKind};

use super::numeric::*;
use super::{Frame, InstanceCtx, Machine};
use crate::code::{CompiledFunc, Instr, MemOp, Slot};

/// The current frame's slots.
///
/// Invariant (what makes `get`/`set` sound): the translator only emits slot
/// indices below the function's `frame_size`, and a frame is entered only
/// after `prepare_frame` checked that `frame_size` slots from its base lie
/// within the value stack.
#[derive(Clone, Copy)]
struct Regs(*mut u64);

impl Regs {
    #[inline(always)]
    fn get(self, s: Slot) -> u64 {
        // SAFETY: see the type's invariant.
        unsafe { *self.0.add(s as usize) }
    }
    #[inline(always)]
    fn set(self, s: Slot, v: u64) {
        // SAFETY: see the type's invariant.
        unsafe { *self.0.add(s as usize) = v }
    }
    #[inline(always)]
    fn i32(self, s: Slot) -> i32 {
        self.get(s) as u32 as i32
    }
    #[inline(always)]
    fn u32(self, s: Slot) -> u32 {
        self.get(s) as u32
    }
    #[inline(always)]
    fn i64(self, s: Slot) -> i64 {
        self.get(s) as i64
    }
    #[inline(always)]
    fn f32(self, s: Slot) -> f32 {
        f32::from_bits(self.get(s) as u32)
    }
    #[inline(always)]
    fn f64(self, s: Slot) -> f64 {
        f64::from_bits(self.get(s))
    }
    /// i32 results are stored zero-extended.
    #[inline(always)]
    fn set_u32(self, s: Slot, v: u32) {
        self.set(s, v as u64)
    }
    #[inline(always)]
    fn set_i32(self, s: Slot, v: i32) {
        self.set(s, v as u32 as u64)
    }
    #[inline(always)]
    fn set_bool(self, s: Slot, v: bool) {
        self.set(s, v as u64)
    }
    #[inline(always)]
    fn set_f32(self, s: Slot, v: f32) {
        self.set(s, v.to_bits() as u64)
    }
    #[inline(always)]
    fn set_f64(self, s: Slot, v: f64) {
        self.set(s, v.to_bits())
    }
}

/// Memory 0 as seen by the running code: reloaded whenever it may have
/// changed (after calls, returns and `memory.grow`).
#[derive(Clone, Copy)]
pub(super) struct Mem {
    base: *mut u8,
    pub(super) len: u64,
}

impl Mem {
    /// A view of `len` accessible bytes at `base`.
    pub(super) fn new(base: *mut u8, len: u64) -> Mem {
        Mem { base, len }
    }

    fn of(ctx: &InstanceCtx) -> Mem {
        if ctx.memory0.is_null() {
            return Mem {
                base: std::ptr::NonNull::dangling().as_ptr(),
                len: 0,
            };
        }
        // SAFETY: `memory0` points at the live memory's view.
        let vm = unsafe { &*ctx.memory0 };
        Mem {
            base: vm.base,
            len: vm.length,
        }
    }

    /// The address of `size` bytes at `addr + offset`, bounds-checked in
    /// u64 arithmetic (memory64 addresses may overflow).
    #[inline(always)]
    fn at(self, addr: u64, offset: u64, size: u64) -> Result<*mut u8, TrapKind> {
        match addr.checked_add(offset) {
            Some(ea) if ea <= self.len.wrapping_sub(size) && self.len >= size => {
                // SAFETY: [ea, ea + size) lies within the accessible memory.
                Ok(unsafe { self.base.add(ea as usize) })
            }
            _ => Err(TrapKind::MemoryOutOfBounds),
        }
    }

    #[inline(always)]
    fn load<const N: usize>(self, addr: u64, offset: u64) -> Result<[u8; N], TrapKind> {
        let p = self.at(addr, offset, N as u64)?;
        // SAFETY: `at` checked the range; wasm accesses may be unaligned.
        Ok(unsafe { std::ptr::read_unaligned(p as *const [u8; N]) })
    }

    #[inline(always)]
    fn store<const N: usize>(self, addr: u64, offset: u64, bytes: [u8; N]) -> Result<(), TrapKind> {
        let p = self.at(addr, offset, N as u64)?;
        // SAFETY: as in `load`.
        unsafe { std::ptr::write_unaligned(p as *mut [u8; N], bytes) };
        Ok(())
    }
}

/// Performs a load of kind `op` and returns the slot value.
#[inline(always)]
fn load(mem: Mem, op: MemOp, addr: u64, offset: u64) -> Result<u64, TrapKind> {
    Ok(match op {
        MemOp::Load32 => u32::from_le_bytes(mem.load(addr, offset)?) as u64,
        MemOp::Load64 => u64::from_le_bytes(mem.load(addr, offset)?),
        MemOp::I32Load8S => i8::from_le_bytes(mem.load(addr, offset)?) as i32 as u32 as u64,
        MemOp::Load8U => u8::from_le_bytes(mem.load(addr, offset)?) as u64,
        MemOp::I32Load16S => i16::from_le_bytes(mem.load(addr, offset)?) as i32 as u32 as u64,
        MemOp::Load16U => u16::from_le_bytes(mem.load(addr, offset)?) as u64,
        MemOp::I64Load8S => i8::from_le_bytes(mem.load(addr, offset)?) as i64 as u64,
        MemOp::I64Load16S => i16::from_le_bytes(mem.load(addr, offset)?) as i64 as u64,
        MemOp::I64Load32S => i32::from_le_bytes(mem.load(addr, offset)?) as i64 as u64,
        MemOp::Store8 | MemOp::Store16 | MemOp::Store32 | MemOp::Store64 => {
            unreachable!("not a load")
        }
    })
}

#[inline(always)]
fn store(mem: Mem, op: MemOp, addr: u64, offset: u64, v: u64) -> Result<(), TrapKind> {
    match op {
        MemOp::Store8 => mem.store(addr, offset, (v as u8).to_le_bytes()),
        MemOp::Store16 => mem.store(addr, offset, (v as u16).to_le_bytes()),
        MemOp::Store32 => mem.store(addr, offset, (v as u32).to_le_bytes()),
        MemOp::Store64 => mem.store(addr, offset, v.to_le_bytes()),
        _ => unreachable!("not a store"),
    }
}

/// Where a call goes.
enum Callee {
    Wasm {
        ctx: usize,
        func: *const CompiledFunc,
    },
    Host(wamr_runtime::FuncId),
}

impl Machine<'_> {
    fn resolve(&mut self, func: wamr_runtime::FuncId) -> Result<Callee, Trap> {
        match *self.store.func(func).kind() {
            FuncKind::Wasm { instance, index } => {
                let ctx = self.ctx_index(instance);
                Ok(Callee::Wasm {
                    ctx,
                    func: self.code(ctx, index)?,
                })
            }
            FuncKind::Host(_) => Ok(Callee::Host(func)),
        }
    }

    /// The function a `call_indirect` reaches, after the table and
    /// signature checks.
    fn indirect_target(
        &mut self,
        ctx: usize,
        table: u32,
        type_index: u32,
        index: u64,
    ) -> Result<wamr_runtime::FuncId, Trap> {
        let c = &self.ctxs[ctx];
        let table_id = self.store.instance(c.id).tables()[table as usize];
        let Some(r) = self.store.table(table_id).get(index) else {
            return Err(TrapKind::UndefinedElement.into());
        };
        if r.is_null() {
            return Err(TrapKind::UninitializedElement.into());
        }
        // SAFETY: non-null funcrefs are addresses of live slots of this store.
        let slot = unsafe { &*(r.0 as *const VMFuncRef) };
        let expected = self.store.instance(c.id).type_ids()[type_index as usize];
        if slot.type_id != expected {
            return Err(TrapKind::IndirectCallTypeMismatch.into());
        }
        Ok(wamr_runtime::FuncId(slot.func_id))
    }

    /// Runs function `index` of `instance` with its arguments at the bottom
    /// of the stack; leaves its results there.
    pub(super) fn run(&mut self, instance: InstanceId, index: u32) -> Result<(), Trap> {
        let ctx = self.ctx_index(instance);
        let func = self.code(ctx, index)?;
        // SAFETY: `func` points into the module's code, kept alive by `self.ctxs`.
        self.prepare_frame(unsafe { &*func }, 0)?;
        self.execute(func, ctx)
    }

    fn execute(&mut self, mut func: *const CompiledFunc, mut ctx: usize) -> Result<(), Trap> {
        let mut fp_index = 0usize;
        let mut pc = 0usize;
        // SAFETY: `func` is live (see `run`); code pointers are re-derived on
        // every function switch.
        let mut code = unsafe { (*func).code.as_ptr() };
        let mut regs = Regs(self.stack);
        let mut mem = Mem::of(&self.ctxs[ctx]);
        let mut vmctx = self.ctxs[ctx].vmctx;

        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => break Trap::from(e),
                }
            };
        }
        macro_rules! bin {
            ($d:ident, $a:ident, $b:ident, $get:ident, $set:ident, |$x:ident, $y:ident| $e:expr) => {{
                let $x = regs.$get($a);
                let $y = regs.$get($b);
                regs.$set($d, $e)
            }};
        }
        macro_rules! un {
            ($d:ident, $a:ident, $get:ident, $set:ident, |$x:ident| $e:expr) => {{
                let $x = regs.$get($a);
                regs.$set($d, $e)
            }};
        }
        macro_rules! imm {
            ($d:ident, $a:ident, $imm:ident, $get:ident, $set:ident, |$x:ident, $y:ident| $e:expr) => {{
                let $x = regs.$get($a);
                let $y = $imm;
                regs.$set($d, $e)
            }};
        }
        // Returns `$count` results found at `$src` to the caller (or to the host).
        macro_rules! do_return {
            ($src:expr, $count:expr) => {{
                let (src, count): (Slot, u32) = ($src, $count);
                if src != 0 {
                    for i in 0..count {
                        regs.set(i, regs.get(src + i));
                    }
                }
                let Some(caller) = self.frames.pop() else {
                    return Ok(());
                };
                func = caller.func;
                pc = caller.pc;
                fp_index = caller.fp;
                ctx = caller.ctx;
                vmctx = self.ctxs[ctx].vmctx;
                // SAFETY: restoring a frame that was valid when suspended.
                regs = Regs(unsafe { self.stack.add(fp_index) });
                // SAFETY: compiled functions live as long as `self.ctxs`.
                code = unsafe { (*func).code.as_ptr() };
                mem = Mem::of(&self.ctxs[ctx]);
            }};
        }
        // Calls `$id` with arguments at slot `$base` (a new frame there).
        macro_rules! do_call {
            ($id:expr, $base:expr) => {{
                let base: Slot = $base;
                let new_fp = fp_index + base as usize;
                match tri!(self.resolve($id)) {
                    Callee::Wasm { ctx: c, func: f } => {
                        // SAFETY: `f` is live (compiled code outlives `self.ctxs`).
                        tri!(self.prepare_frame(unsafe { &*f }, new_fp));
                        self.frames.push(Frame {
                            func,
                            pc,
                            fp: fp_index,
                            ctx,
                        });
                        enter!(f, c, new_fp);
                    }
                    Callee::Host(h) => {
                        tri!(self.call_host(ctx, h, new_fp));
                        mem = Mem::of(&self.ctxs[ctx]);
                    }
                }
            }};
        }
        // Replaces the current frame with a call to `$id` (arguments at `$base`).
        macro_rules! do_tail_call {
            ($id:expr, $base:expr) => {{
                let (id, base): (wamr_runtime::FuncId, Slot) = ($id, $base);
                match tri!(self.resolve(id)) {
                    Callee::Wasm { ctx: c, func: f } => {
                        // SAFETY: `f` is live.
                        let nparams = unsafe { (*f).num_params };
                        for i in 0..nparams {
                            regs.set(i, regs.get(base + i));
                        }
                        tri!(self.prepare_frame(unsafe { &*f }, fp_index));
                        enter!(f, c, fp_index);
                    }
                    Callee::Host(h) => {
                        tri!(self.call_host(ctx, h, fp_index + base as usize));
                        let n = self.store.func(h).ty().results().len() as u32;
                        do_return!(base, n);
                    }
                }
            }};
        }
        // Switches to `$f` in context `$c` with its frame at `$fp`.
        macro_rules! enter {
            ($f:expr, $c:expr, $fp:expr) => {{
                func = $f;
                if ctx != $c {
                    ctx = $c;
                    vmctx = self.ctxs[ctx].vmctx;
                }
                fp_index = $fp;
                // SAFETY: `prepare_frame` checked the frame lies in the stack.
                regs = Regs(unsafe { self.stack.add(fp_index) });
                // SAFETY: compiled functions live as long as `self.ctxs`.
                code = unsafe { (*func).code.as_ptr() };
                pc = 0;
                mem = Mem::of(&self.ctxs[ctx]);
            }};
        }

        let trap: Trap = loop {
            // SAFETY: every path through translated code ends in a jump, a
            // return or a trap, and jump targets are in range, so `pc`
            // stays within the code.
            let instr = unsafe { *code.add(pc) };
            pc += 1;
            match instr {
                Instr::Trap { kind } => break kind.into(),
                Instr::Copy { dst, src } => regs.set(dst, regs.get(src)),
                Instr::Const32 { dst, value } => regs.set(dst, value as u64),
                Instr::Const64 { dst, value } => regs.set(dst, value),

                Instr::Br { target } => pc = target as usize,
                Instr::BrIfNez { cond, target } => {
                    if regs.u32(cond) != 0 {
                        pc = target as usize;
                    }
                }
                Instr::BrIfEqz { cond, target } => {
                    if regs.u32(cond) == 0 {
                        pc = target as usize;
                    }
                }
                Instr::BrTable { index, len, count } => {
                    let i = regs.u32(index).min(len) as usize;
                    // SAFETY: the table is followed by `len + 1` entries.
                    let entry = unsafe { *code.add(pc + i) };
                    let Instr::BrTableTarget { target, dst, src } = entry else {
                        unreachable!("br_table entry expected");
                    };
                    if dst != src {
                        for k in 0..count {
                            regs.set(dst + k, regs.get(src + k));
                        }
                    }
                    pc = target as usize;
                }
                Instr::BrTableTarget { .. } => unreachable!("br_table entries are not executed"),
                Instr::BrIfI32Eq { a, b, target } => {
                    if regs.u32(a) == regs.u32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32Ne { a, b, target } => {
                    if regs.u32(a) != regs.u32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LtS { a, b, target } => {
                    if regs.i32(a) < regs.i32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LtU { a, b, target } => {
                    if regs.u32(a) < regs.u32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GtS { a, b, target } => {
                    if regs.i32(a) > regs.i32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GtU { a, b, target } => {
                    if regs.u32(a) > regs.u32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LeS { a, b, target } => {
                    if regs.i32(a) <= regs.i32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LeU { a, b, target } => {
                    if regs.u32(a) <= regs.u32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GeS { a, b, target } => {
                    if regs.i32(a) >= regs.i32(b) {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GeU { a, b, target } => {
                    if regs.u32(a) >= regs.u32(b) {
                        pc = target as usize;
                    }
                }

                Instr::BrIfI32EqImm { a, imm, target } => {
                    if regs.i32(a) == imm {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32NeImm { a, imm, target } => {
                    if regs.i32(a) != imm {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LtSImm { a, imm, target } => {
                    if regs.i32(a) < imm {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LtUImm { a, imm, target } => {
                    if regs.u32(a) < imm as u32 {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GtSImm { a, imm, target } => {
                    if regs.i32(a) > imm {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GtUImm { a, imm, target } => {
                    if regs.u32(a) > imm as u32 {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LeSImm { a, imm, target } => {
                    if regs.i32(a) <= imm {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32LeUImm { a, imm, target } => {
                    if regs.u32(a) <= imm as u32 {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GeSImm { a, imm, target } => {
                    if regs.i32(a) >= imm {
                        pc = target as usize;
                    }
                }
                Instr::BrIfI32GeUImm { a, imm, target } => {
                    if regs.u32(a) >= imm as u32 {
                        pc = target as usize;
                    }
                }
                Instr::Return { src, count } => do_return!(src, count),
                Instr::Call { func: callee, base } => {
                    if let Some(f) = self.ctxs[ctx].local_code(callee) {
                        // Fast path: an already translated function of this instance.
                        let new_fp = fp_index + base as usize;
                        // SAFETY: compiled functions live as long as `self.ctxs`.
                        tri!(self.prepare_frame(unsafe { &*f }, new_fp));
                        self.frames.push(Frame {
                            func,
                            pc,
                            fp: fp_index,
                            ctx,
                        });
                        func = f;
                        fp_index = new_fp;
                        // SAFETY: `prepare_frame` checked the frame lies in the stack.
                        regs = Regs(unsafe { self.stack.add(fp_index) });
                        // SAFETY: compiled functions live as long as `self.ctxs`.
                        code = unsafe { (*func).code.as_ptr() };
                        pc = 0;
                    } else {
                        let id = self.ctxs[ctx].func_id(callee);
                        do_call!(id, base);
                    }
                }
                Instr::CallIndirect {
                    type_index,
                    table,
                    base,
                } => {
                    let nparams = self.ctxs[ctx].module.types()[type_index as usize]
                        .params()
                        .len();
                    let index = regs.get(base + nparams as Slot);
                    let id = tri!(self.indirect_target(ctx, table, type_index, index));
                    do_call!(id, base);
                }
                Instr::ReturnCall { func: callee, base } => {
                    let id = self.ctxs[ctx].func_id(callee);
                    do_tail_call!(id, base);
                }
                Instr::ReturnCallIndirect {
                    type_index,
                    table,
                    base,
                } => {
                    let nparams = self.ctxs[ctx].module.types()[type_index as usize]
                        .params()
                        .len();
                    let index = regs.get(base + nparams as Slot);
                    let id = tri!(self.indirect_target(ctx, table, type_index, index));
                    do_tail_call!(id, base);
                }
                Instr::Select { dst, a, b } => {
                    let v = if regs.u32(dst + 2) != 0 {
                        regs.get(a)
                    } else {
                        regs.get(b)
                    };
                    regs.set(dst, v);
                }

                Instr::GlobalGet { dst, global } => {
                    // SAFETY: validated code names existing globals; the VM
                    // context's array holds one live cell per global.
                    let v = unsafe { (**(*vmctx).globals.add(global as usize)).bits[0] };
                    regs.set(dst, v);
                }
                Instr::GlobalSet { src, global } => {
                    // SAFETY: as for `GlobalGet`.
                    unsafe {
                        let cell: *mut VMGlobal = *(*vmctx).globals.add(global as usize);
                        (*cell).bits[0] = regs.get(src);
                    }
                }
                Instr::RefFunc { dst, func: f } => {
                    // SAFETY: validated code names existing functions.
                    let slot = unsafe { *(*vmctx).funcs.add(f as usize) };
                    regs.set(dst, slot as u64);
                }

                Instr::Load32 { dst, addr, offset } => {
                    let b = tri!(mem.load::<4>(regs.get(addr), offset as u64));
                    regs.set(dst, u32::from_le_bytes(b) as u64);
                }
                Instr::Load64 { dst, addr, offset } => {
                    let b = tri!(mem.load::<8>(regs.get(addr), offset as u64));
                    regs.set(dst, u64::from_le_bytes(b));
                }
                Instr::I32Load8S { dst, addr, offset } => {
                    let v = tri!(load(mem, MemOp::I32Load8S, regs.get(addr), offset as u64));
                    regs.set(dst, v);
                }
                Instr::Load8U { dst, addr, offset } => {
                    let b = tri!(mem.load::<1>(regs.get(addr), offset as u64));
                    regs.set(dst, b[0] as u64);
                }
                Instr::I32Load16S { dst, addr, offset } => {
                    let v = tri!(load(mem, MemOp::I32Load16S, regs.get(addr), offset as u64));
                    regs.set(dst, v);
                }
                Instr::Load16U { dst, addr, offset } => {
                    let b = tri!(mem.load::<2>(regs.get(addr), offset as u64));
                    regs.set(dst, u16::from_le_bytes(b) as u64);
                }
                Instr::I64Load8S { dst, addr, offset } => {
                    let v = tri!(load(mem, MemOp::I64Load8S, regs.get(addr), offset as u64));
                    regs.set(dst, v);
                }
                Instr::I64Load16S { dst, addr, offset } => {
                    let v = tri!(load(mem, MemOp::I64Load16S, regs.get(addr), offset as u64));
                    regs.set(dst, v);
                }
                Instr::I64Load32S { dst, addr, offset } => {
                    let v = tri!(load(mem, MemOp::I64Load32S, regs.get(addr), offset as u64));
                    regs.set(dst, v);
                }
                Instr::Store8 {
                    addr,
                    value,
                    offset,
                } => {
                    tri!(mem.store(regs.get(addr), offset as u64, [regs.get(value) as u8]));
                }
                Instr::Store16 {
                    addr,
                    value,
                    offset,
                } => {
                    let b = (regs.get(value) as u16).to_le_bytes();
                    tri!(mem.store(regs.get(addr), offset as u64, b));
                }
                Instr::Store32 {
                    addr,
                    value,
                    offset,
                } => {
                    let b = (regs.get(value) as u32).to_le_bytes();
                    tri!(mem.store(regs.get(addr), offset as u64, b));
                }
                Instr::Store64 {
                    addr,
                    value,
                    offset,
                } => {
                    let b = regs.get(value).to_le_bytes();
                    tri!(mem.store(regs.get(addr), offset as u64, b));
                }
                Instr::LoadExt { dst, addr, ext } => {
                    // SAFETY: `func` is live; `ext` indexes its side table.
                    let arg = unsafe { (&(*func).mem_args)[ext as usize] };
                    let m = self.memory_view(ctx, arg.memory);
                    let v = tri!(load(m, arg.op, regs.get(addr), arg.offset));
                    regs.set(dst, v);
                }
                Instr::StoreExt { addr, value, ext } => {
                    // SAFETY: as for `LoadExt`.
                    let arg = unsafe { (&(*func).mem_args)[ext as usize] };
                    let m = self.memory_view(ctx, arg.memory);
                    tri!(store(
                        m,
                        arg.op,
                        regs.get(addr),
                        arg.offset,
                        regs.get(value)
                    ));
                }
                Instr::MemorySize { dst, memory } => {
                    let v = self.memory_view(ctx, memory).len / wamr_runtime::PAGE_SIZE;
                    regs.set(dst, v);
                }
                Instr::MemoryGrow { dst, delta, memory } => {
                    let v = self.memory_grow(ctx, memory, regs.get(delta));
                    regs.set(dst, v);
                    mem = Mem::of(&self.ctxs[ctx]);
                }
                Instr::MemoryFill { base, memory } => {
                    let (d, v, n) = (regs.get(base), regs.get(base + 1), regs.get(base + 2));
                    tri!(self.memory_fill(ctx, memory, d, v as u8, n));
                }
                Instr::MemoryCopy {
                    base,
                    dst_memory,
                    src_memory,
                } => {
                    let (d, s, n) = (regs.get(base), regs.get(base + 1), regs.get(base + 2));
                    tri!(self.memory_copy(ctx, dst_memory, src_memory, d, s, n));
                }
                Instr::MemoryInit {
                    base,
                    memory,
                    segment,
                } => {
                    let (d, s, n) = (regs.get(base), regs.u32(base + 1), regs.u32(base + 2));
                    tri!(self.memory_init(ctx, memory, segment, d, s as u64, n as u64));
                }
                Instr::DataDrop { segment } => {
                    let id = self.ctxs[ctx].id;
                    self.store.instance_mut(id).drop_data_segment(segment);
                }
                Instr::TableGet { dst, index, table } => {
                    let v = tri!(self.table_get(ctx, table, regs.get(index)));
                    regs.set(dst, v);
                }
                Instr::TableSet {
                    index,
                    value,
                    table,
                } => {
                    tri!(self.table_set(ctx, table, regs.get(index), regs.get(value)));
                }
                Instr::TableSize { dst, table } => {
                    let v = self.table_size(ctx, table);
                    regs.set(dst, v);
                }
                Instr::TableGrow { base, table } => {
                    let v = self.table_grow(ctx, table, regs.get(base), regs.get(base + 1));
                    regs.set(base, v);
                }
                Instr::TableFill { base, table } => {
                    let (i, v, n) = (regs.get(base), regs.get(base + 1), regs.get(base + 2));
                    tri!(self.table_fill(ctx, table, i, v, n));
                }
                Instr::TableCopy {
                    base,
                    dst_table,
                    src_table,
                } => {
                    let (d, s, n) = (regs.get(base), regs.get(base + 1), regs.get(base + 2));
                    tri!(self.table_copy(ctx, dst_table, src_table, d, s, n));
                }
                Instr::TableInit {
                    base,
                    table,
                    segment,
                } => {
                    let (d, s, n) = (regs.get(base), regs.u32(base + 1), regs.u32(base + 2));
                    tri!(self.table_init(ctx, table, segment, d, s as u64, n as u64));
                }
                Instr::ElemDrop { segment } => {
                    let id = self.ctxs[ctx].id;
                    self.store.instance_mut(id).drop_element_segment(segment);
                }

                Instr::I32Add { dst, a, b } => {
                    bin!(dst, a, b, u32, set_u32, |x, y| x.wrapping_add(y))
                }
                Instr::I32Sub { dst, a, b } => {
                    bin!(dst, a, b, u32, set_u32, |x, y| x.wrapping_sub(y))
                }
                Instr::I32Mul { dst, a, b } => {
                    bin!(dst, a, b, u32, set_u32, |x, y| x.wrapping_mul(y))
                }
                Instr::I32DivS { dst, a, b } => {
                    let (x, y) = (regs.i32(a), regs.i32(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    if x == i32::MIN && y == -1 {
                        break TrapKind::IntegerOverflow.into();
                    }
                    regs.set_i32(dst, x / y);
                }
                Instr::I32DivU { dst, a, b } => {
                    let (x, y) = (regs.u32(a), regs.u32(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    regs.set_u32(dst, x / y);
                }
                Instr::I32RemS { dst, a, b } => {
                    let (x, y) = (regs.i32(a), regs.i32(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    regs.set_i32(dst, x.wrapping_rem(y));
                }
                Instr::I32RemU { dst, a, b } => {
                    let (x, y) = (regs.u32(a), regs.u32(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    regs.set_u32(dst, x % y);
                }
                Instr::I32And { dst, a, b } => bin!(dst, a, b, u32, set_u32, |x, y| x & y),
                Instr::I32Or { dst, a, b } => bin!(dst, a, b, u32, set_u32, |x, y| x | y),
                Instr::I32Xor { dst, a, b } => bin!(dst, a, b, u32, set_u32, |x, y| x ^ y),
                Instr::I32Shl { dst, a, b } => {
                    bin!(dst, a, b, u32, set_u32, |x, y| x.wrapping_shl(y))
                }
                Instr::I32ShrS { dst, a, b } => {
                    let (x, y) = (regs.i32(a), regs.u32(b));
                    regs.set_i32(dst, x.wrapping_shr(y));
                }
                Instr::I32ShrU { dst, a, b } => {
                    bin!(dst, a, b, u32, set_u32, |x, y| x.wrapping_shr(y))
                }
                Instr::I32Rotl { dst, a, b } => {
                    bin!(dst, a, b, u32, set_u32, |x, y| x.rotate_left(y))
                }
                Instr::I32Rotr { dst, a, b } => {
                    bin!(dst, a, b, u32, set_u32, |x, y| x.rotate_right(y))
                }
                Instr::I32Eq { dst, a, b } => bin!(dst, a, b, u32, set_bool, |x, y| x == y),
                Instr::I32Ne { dst, a, b } => bin!(dst, a, b, u32, set_bool, |x, y| x != y),
                Instr::I32LtS { dst, a, b } => bin!(dst, a, b, i32, set_bool, |x, y| x < y),
                Instr::I32LtU { dst, a, b } => bin!(dst, a, b, u32, set_bool, |x, y| x < y),
                Instr::I32GtS { dst, a, b } => bin!(dst, a, b, i32, set_bool, |x, y| x > y),
                Instr::I32GtU { dst, a, b } => bin!(dst, a, b, u32, set_bool, |x, y| x > y),
                Instr::I32LeS { dst, a, b } => bin!(dst, a, b, i32, set_bool, |x, y| x <= y),
                Instr::I32LeU { dst, a, b } => bin!(dst, a, b, u32, set_bool, |x, y| x <= y),
                Instr::I32GeS { dst, a, b } => bin!(dst, a, b, i32, set_bool, |x, y| x >= y),
                Instr::I32GeU { dst, a, b } => bin!(dst, a, b, u32, set_bool, |x, y| x >= y),
                Instr::I32Clz { dst, a } => un!(dst, a, u32, set_u32, |x| x.leading_zeros()),
                Instr::I32Ctz { dst, a } => un!(dst, a, u32, set_u32, |x| x.trailing_zeros()),
                Instr::I32Popcnt { dst, a } => un!(dst, a, u32, set_u32, |x| x.count_ones()),
                Instr::I32Eqz { dst, a } => un!(dst, a, u32, set_bool, |x| x == 0),
                Instr::I32AddImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_u32, |x, y| x.wrapping_add(y as u32))
                }
                Instr::I32MulImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_u32, |x, y| x.wrapping_mul(y as u32))
                }
                Instr::I32AndImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_u32, |x, y| x & y as u32)
                }
                Instr::I32OrImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_u32, |x, y| x | y as u32)
                }
                Instr::I32XorImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_u32, |x, y| x ^ y as u32)
                }
                Instr::I32ShlImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_u32, |x, y| x.wrapping_shl(y as u32))
                }
                Instr::I32ShrSImm { dst, a, imm } => {
                    imm!(dst, a, imm, i32, set_i32, |x, y| x.wrapping_shr(y as u32))
                }
                Instr::I32ShrUImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_u32, |x, y| x.wrapping_shr(y as u32))
                }
                Instr::I32EqImm { dst, a, imm } => imm!(dst, a, imm, i32, set_bool, |x, y| x == y),
                Instr::I32NeImm { dst, a, imm } => imm!(dst, a, imm, i32, set_bool, |x, y| x != y),
                Instr::I32LtSImm { dst, a, imm } => imm!(dst, a, imm, i32, set_bool, |x, y| x < y),
                Instr::I32LtUImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_bool, |x, y| x < y as u32)
                }
                Instr::I32GtSImm { dst, a, imm } => imm!(dst, a, imm, i32, set_bool, |x, y| x > y),
                Instr::I32GtUImm { dst, a, imm } => {
                    imm!(dst, a, imm, u32, set_bool, |x, y| x > y as u32)
                }

                Instr::I64Add { dst, a, b } => bin!(dst, a, b, get, set, |x, y| x.wrapping_add(y)),
                Instr::I64Sub { dst, a, b } => bin!(dst, a, b, get, set, |x, y| x.wrapping_sub(y)),
                Instr::I64Mul { dst, a, b } => bin!(dst, a, b, get, set, |x, y| x.wrapping_mul(y)),
                Instr::I64DivS { dst, a, b } => {
                    let (x, y) = (regs.i64(a), regs.i64(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    if x == i64::MIN && y == -1 {
                        break TrapKind::IntegerOverflow.into();
                    }
                    regs.set(dst, (x / y) as u64);
                }
                Instr::I64DivU { dst, a, b } => {
                    let (x, y) = (regs.get(a), regs.get(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    regs.set(dst, x / y);
                }
                Instr::I64RemS { dst, a, b } => {
                    let (x, y) = (regs.i64(a), regs.i64(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    regs.set(dst, x.wrapping_rem(y) as u64);
                }
                Instr::I64RemU { dst, a, b } => {
                    let (x, y) = (regs.get(a), regs.get(b));
                    if y == 0 {
                        break TrapKind::IntegerDivideByZero.into();
                    }
                    regs.set(dst, x % y);
                }
                Instr::I64And { dst, a, b } => bin!(dst, a, b, get, set, |x, y| x & y),
                Instr::I64Or { dst, a, b } => bin!(dst, a, b, get, set, |x, y| x | y),
                Instr::I64Xor { dst, a, b } => bin!(dst, a, b, get, set, |x, y| x ^ y),
                Instr::I64Shl { dst, a, b } => {
                    bin!(dst, a, b, get, set, |x, y| x.wrapping_shl(y as u32))
                }
                Instr::I64ShrS { dst, a, b } => {
                    let (x, y) = (regs.i64(a), regs.get(b));
                    regs.set(dst, x.wrapping_shr(y as u32) as u64);
                }
                Instr::I64ShrU { dst, a, b } => {
                    bin!(dst, a, b, get, set, |x, y| x.wrapping_shr(y as u32))
                }
                Instr::I64Rotl { dst, a, b } => {
                    bin!(dst, a, b, get, set, |x, y| x.rotate_left((y & 63) as u32))
                }
                Instr::I64Rotr { dst, a, b } => {
                    bin!(dst, a, b, get, set, |x, y| x.rotate_right((y & 63) as u32))
                }
                Instr::I64Eq { dst, a, b } => bin!(dst, a, b, get, set_bool, |x, y| x == y),
                Instr::I64Ne { dst, a, b } => bin!(dst, a, b, get, set_bool, |x, y| x != y),
                Instr::I64LtS { dst, a, b } => bin!(dst, a, b, i64, set_bool, |x, y| x < y),
                Instr::I64LtU { dst, a, b } => bin!(dst, a, b, get, set_bool, |x, y| x < y),
                Instr::I64GtS { dst, a, b } => bin!(dst, a, b, i64, set_bool, |x, y| x > y),
                Instr::I64GtU { dst, a, b } => bin!(dst, a, b, get, set_bool, |x, y| x > y),
                Instr::I64LeS { dst, a, b } => bin!(dst, a, b, i64, set_bool, |x, y| x <= y),
                Instr::I64LeU { dst, a, b } => bin!(dst, a, b, get, set_bool, |x, y| x <= y),
                Instr::I64GeS { dst, a, b } => bin!(dst, a, b, i64, set_bool, |x, y| x >= y),
                Instr::I64GeU { dst, a, b } => bin!(dst, a, b, get, set_bool, |x, y| x >= y),
                Instr::I64Clz { dst, a } => un!(dst, a, get, set, |x| x.leading_zeros() as u64),
                Instr::I64Ctz { dst, a } => un!(dst, a, get, set, |x| x.trailing_zeros() as u64),
                Instr::I64Popcnt { dst, a } => un!(dst, a, get, set, |x| x.count_ones() as u64),
                Instr::I64Eqz { dst, a } => un!(dst, a, get, set_bool, |x| x == 0),
                Instr::I64AddImm { dst, a, imm } => imm!(dst, a, imm, get, set, |x, y| x
                    .wrapping_add(y as i64 as u64)),
                Instr::I64AndImm { dst, a, imm } => {
                    imm!(dst, a, imm, get, set, |x, y| x & y as i64 as u64)
                }
                Instr::I64ShlImm { dst, a, imm } => {
                    imm!(dst, a, imm, get, set, |x, y| x.wrapping_shl(y as u32))
                }
                Instr::I64ShrUImm { dst, a, imm } => {
                    imm!(dst, a, imm, get, set, |x, y| x.wrapping_shr(y as u32))
                }

                Instr::F32Add { dst, a, b } => bin!(dst, a, b, f32, set_f32, |x, y| x + y),
                Instr::F32Sub { dst, a, b } => bin!(dst, a, b, f32, set_f32, |x, y| x - y),
                Instr::F32Mul { dst, a, b } => bin!(dst, a, b, f32, set_f32, |x, y| x * y),
                Instr::F32Div { dst, a, b } => bin!(dst, a, b, f32, set_f32, |x, y| x / y),
                Instr::F32Min { dst, a, b } => bin!(dst, a, b, f32, set_f32, |x, y| f32_min(x, y)),
                Instr::F32Max { dst, a, b } => bin!(dst, a, b, f32, set_f32, |x, y| f32_max(x, y)),
                Instr::F32Copysign { dst, a, b } => {
                    bin!(dst, a, b, f32, set_f32, |x, y| x.copysign(y))
                }
                Instr::F32Eq { dst, a, b } => bin!(dst, a, b, f32, set_bool, |x, y| x == y),
                Instr::F32Ne { dst, a, b } => bin!(dst, a, b, f32, set_bool, |x, y| x != y),
                Instr::F32Lt { dst, a, b } => bin!(dst, a, b, f32, set_bool, |x, y| x < y),
                Instr::F32Gt { dst, a, b } => bin!(dst, a, b, f32, set_bool, |x, y| x > y),
                Instr::F32Le { dst, a, b } => bin!(dst, a, b, f32, set_bool, |x, y| x <= y),
                Instr::F32Ge { dst, a, b } => bin!(dst, a, b, f32, set_bool, |x, y| x >= y),
                Instr::F32Abs { dst, a } => un!(dst, a, u32, set_u32, |x| x & 0x7fff_ffff),
                Instr::F32Neg { dst, a } => un!(dst, a, u32, set_u32, |x| x ^ 0x8000_0000),
                Instr::F32Ceil { dst, a } => un!(dst, a, f32, set_f32, |x| f32_quiet(x.ceil())),
                Instr::F32Floor { dst, a } => un!(dst, a, f32, set_f32, |x| f32_quiet(x.floor())),
                Instr::F32Trunc { dst, a } => un!(dst, a, f32, set_f32, |x| f32_quiet(x.trunc())),
                Instr::F32Nearest { dst, a } => {
                    un!(dst, a, f32, set_f32, |x| f32_quiet(x.round_ties_even()))
                }
                Instr::F32Sqrt { dst, a } => un!(dst, a, f32, set_f32, |x| x.sqrt()),
                Instr::F64Add { dst, a, b } => bin!(dst, a, b, f64, set_f64, |x, y| x + y),
                Instr::F64Sub { dst, a, b } => bin!(dst, a, b, f64, set_f64, |x, y| x - y),
                Instr::F64Mul { dst, a, b } => bin!(dst, a, b, f64, set_f64, |x, y| x * y),
                Instr::F64Div { dst, a, b } => bin!(dst, a, b, f64, set_f64, |x, y| x / y),
                Instr::F64Min { dst, a, b } => bin!(dst, a, b, f64, set_f64, |x, y| f64_min(x, y)),
                Instr::F64Max { dst, a, b } => bin!(dst, a, b, f64, set_f64, |x, y| f64_max(x, y)),
                Instr::F64Copysign { dst, a, b } => {
                    bin!(dst, a, b, f64, set_f64, |x, y| x.copysign(y))
                }
                Instr::F64Eq { dst, a, b } => bin!(dst, a, b, f64, set_bool, |x, y| x == y),
                Instr::F64Ne { dst, a, b } => bin!(dst, a, b, f64, set_bool, |x, y| x != y),
                Instr::F64Lt { dst, a, b } => bin!(dst, a, b, f64, set_bool, |x, y| x < y),
                Instr::F64Gt { dst, a, b } => bin!(dst, a, b, f64, set_bool, |x, y| x > y),
                Instr::F64Le { dst, a, b } => bin!(dst, a, b, f64, set_bool, |x, y| x <= y),
                Instr::F64Ge { dst, a, b } => bin!(dst, a, b, f64, set_bool, |x, y| x >= y),
                Instr::F64Abs { dst, a } => un!(dst, a, get, set, |x| x & 0x7fff_ffff_ffff_ffff),
                Instr::F64Neg { dst, a } => un!(dst, a, get, set, |x| x ^ 0x8000_0000_0000_0000),
                Instr::F64Ceil { dst, a } => un!(dst, a, f64, set_f64, |x| f64_quiet(x.ceil())),
                Instr::F64Floor { dst, a } => un!(dst, a, f64, set_f64, |x| f64_quiet(x.floor())),
                Instr::F64Trunc { dst, a } => un!(dst, a, f64, set_f64, |x| f64_quiet(x.trunc())),
                Instr::F64Nearest { dst, a } => {
                    un!(dst, a, f64, set_f64, |x| f64_quiet(x.round_ties_even()))
                }
                Instr::F64Sqrt { dst, a } => un!(dst, a, f64, set_f64, |x| x.sqrt()),

                Instr::I32WrapI64 { dst, a } => un!(dst, a, get, set, |x| x as u32 as u64),
                Instr::I32TruncF32S { dst, a } => {
                    let v = tri!(i32_trunc_s(regs.f32(a) as f64));
                    regs.set_i32(dst, v);
                }
                Instr::I32TruncF32U { dst, a } => {
                    let v = tri!(i32_trunc_u(regs.f32(a) as f64));
                    regs.set_u32(dst, v);
                }
                Instr::I32TruncF64S { dst, a } => {
                    let v = tri!(i32_trunc_s(regs.f64(a)));
                    regs.set_i32(dst, v);
                }
                Instr::I32TruncF64U { dst, a } => {
                    let v = tri!(i32_trunc_u(regs.f64(a)));
                    regs.set_u32(dst, v);
                }
                Instr::I64ExtendI32S { dst, a } => un!(dst, a, i32, set, |x| x as i64 as u64),
                Instr::I64TruncF32S { dst, a } => {
                    let v = tri!(i64_trunc_s(regs.f32(a) as f64));
                    regs.set(dst, v as u64);
                }
                Instr::I64TruncF32U { dst, a } => {
                    let v = tri!(i64_trunc_u(regs.f32(a) as f64));
                    regs.set(dst, v);
                }
                Instr::I64TruncF64S { dst, a } => {
                    let v = tri!(i64_trunc_s(regs.f64(a)));
                    regs.set(dst, v as u64);
                }
                Instr::I64TruncF64U { dst, a } => {
                    let v = tri!(i64_trunc_u(regs.f64(a)));
                    regs.set(dst, v);
                }
                Instr::F32ConvertI32S { dst, a } => un!(dst, a, i32, set_f32, |x| x as f32),
                Instr::F32ConvertI32U { dst, a } => un!(dst, a, u32, set_f32, |x| x as f32),
                Instr::F32ConvertI64S { dst, a } => un!(dst, a, i64, set_f32, |x| x as f32),
                Instr::F32ConvertI64U { dst, a } => un!(dst, a, get, set_f32, |x| x as f32),
                Instr::F32DemoteF64 { dst, a } => un!(dst, a, f64, set_f32, |x| x as f32),
                Instr::F64ConvertI32S { dst, a } => un!(dst, a, i32, set_f64, |x| x as f64),
                Instr::F64ConvertI32U { dst, a } => un!(dst, a, u32, set_f64, |x| x as f64),
                Instr::F64ConvertI64S { dst, a } => un!(dst, a, i64, set_f64, |x| x as f64),
                Instr::F64ConvertI64U { dst, a } => un!(dst, a, get, set_f64, |x| x as f64),
                Instr::F64PromoteF32 { dst, a } => un!(dst, a, f32, set_f64, |x| x as f64),
                Instr::I32Extend8S { dst, a } => un!(dst, a, u32, set_i32, |x| x as i8 as i32),
                Instr::I32Extend16S { dst, a } => un!(dst, a, u32, set_i32, |x| x as i16 as i32),
                Instr::I64Extend8S { dst, a } => un!(dst, a, get, set, |x| x as i8 as i64 as u64),
                Instr::I64Extend16S { dst, a } => un!(dst, a, get, set, |x| x as i16 as i64 as u64),
                Instr::I64Extend32S { dst, a } => un!(dst, a, get, set, |x| x as i32 as i64 as u64),
                // Rust's float-to-int `as` saturates and maps NaN to 0: wasm's `trunc_sat`.
                Instr::I32TruncSatF32S { dst, a } => un!(dst, a, f32, set_i32, |x| x as i32),
                Instr::I32TruncSatF32U { dst, a } => un!(dst, a, f32, set_u32, |x| x as u32),
                Instr::I32TruncSatF64S { dst, a } => un!(dst, a, f64, set_i32, |x| x as i32),
                Instr::I32TruncSatF64U { dst, a } => un!(dst, a, f64, set_u32, |x| x as u32),
                Instr::I64TruncSatF32S { dst, a } => un!(dst, a, f32, set, |x| x as i64 as u64),
                Instr::I64TruncSatF32U { dst, a } => un!(dst, a, f32, set, |x| x as u64),
                Instr::I64TruncSatF64S { dst, a } => un!(dst, a, f64, set, |x| x as i64 as u64),
                Instr::I64TruncSatF64U { dst, a } => un!(dst, a, f64, set, |x| x as u64),
            }
        };
        Err(self.trap_in(trap, func, ctx))
    }
}
