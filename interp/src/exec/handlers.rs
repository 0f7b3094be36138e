//! One handler per instruction, and the lowering of translated code to
//! handler-threaded ops.
//!
//! Every handler ends with `next!`: a tail call to the following handler
//! (compiled to a jump) or, in loop-dispatch builds, a return to the loop.
//! Operand conventions per op: `a` is the destination, `b`/`c` the sources
//! (`c` may be an immediate); jumps hold their target's offset in bytes in
//! `d`, and come in two forms: counting against the tier-up budget (loop
//! back-edges) and not (see [`taken`]).
//!
//! Handlers that produce a value also pass it to the next handler in `acc`
//! (see [`Acc`]); ops that `lower` finds reading the result of the op
//! before them, with no jump landing in between, use the variant that
//! takes that operand from `acc` (modules `arith_acc_a`/`_b`,
//! `branch_acc_a`/`_b`, `m32::acc_addr`/`acc_value`, names ending in `Acc`,
//! and a `FROM_ACC` flag).

#![allow(non_snake_case)]

use std::hint::select_unpredictable;

use wamr_runtime::TrapKind;

use super::Machine;
use super::op::{Exit, Function, Handler, Op};
use super::regs::{Acc, Mem, Regs};
use crate::code::{CompiledFunc, Instr, MemOp, Slot};
use wamr_runtime::numeric::*;

/// Continues with the op at `$ip`.
macro_rules! next {
    ($ip:expr, $fp:expr, $mem:expr, $len:expr, $acc:expr, $m:expr) => {{
        let ip: *const Op = $ip;
        #[cfg(wamr_tail_dispatch)]
        {
            // SAFETY: `ip` is a valid op of a live function (see `lower`).
            return unsafe { ((*ip).handler)(ip, $fp, $mem, $len, $acc, $m) };
        }
        #[cfg(not(wamr_tail_dispatch))]
        {
            $m.resume = crate::exec::Resume {
                ip,
                fp: $fp,
                mem: $mem,
                len: $len,
            };
            $m.resume_acc = $acc;
            return Exit::Continue;
        }
    }};
}

/// Defines handlers with the common signature; the body names the
/// parameters `ip, fp, mb, ml, acc, m`, the current op `op` and its frame
/// `r`. A handler may take a `const` flag (jumps: `COUNTED`).
macro_rules! handlers {
    ($( $(#[$attr:meta])* fn $name:ident $(<const $g:ident: bool>)? |$op:ident, $r:ident, $ip:ident, $fp:ident, $mb:ident, $ml:ident, $acc:ident, $m:ident| $body:block )*) => {$(
        $(#[$attr])*
        #[allow(unused_variables, unused_mut, unused_assignments)]
        pub(super) unsafe extern "C" fn $name $(<const $g: bool>)? (
            $ip: *const Op,
            $fp: *mut u64,
            $mb: *mut u8,
            $ml: u64,
            mut $acc: u64,
            $m: &mut Machine<'_>,
        ) -> Exit {
            // SAFETY: handlers only run on ops of live functions.
            let $op = unsafe { &*$ip };
            let $r = Regs($fp);
            $body
        }
    )*};
}

/// The op after `ip`.
#[inline(always)]
pub(super) fn step(ip: *const Op) -> *const Op {
    // SAFETY: every op is followed by another (functions end with a trap op).
    unsafe { ip.add(1) }
}

/// The jump target of `ip`: `d` holds its offset in bytes.
#[inline(always)]
fn target(ip: *const Op) -> *const Op {
    // SAFETY: `lower` stored the in-range offset of an op.
    unsafe { ip.byte_offset((*ip).d as i32 as isize) }
}

/// A taken jump: its target. `COUNTED` jumps (loop back-edges) count
/// against the tier-up budget; when it runs out, dispatch detours through
/// [`TICK`], so that the jump handlers themselves stay leaf code (a call
/// here would make every one of them save and restore registers). Other
/// jumps do no more than jump.
#[inline(always)]
fn taken<const COUNTED: bool>(ip: *const Op, m: &mut Machine<'_>) -> *const Op {
    let to = target(ip);
    if COUNTED {
        m.budget -= 1;
        if m.budget == 0 {
            m.after_tick = to;
            return &TICK;
        }
    }
    to
}

/// Slot `s` of `r`, or the accumulator when `FROM_ACC` (for handlers
/// generic over where one operand comes from).
#[inline(always)]
fn slot_or_acc<const FROM_ACC: bool>(r: Regs, s: Slot, acc: u64) -> u64 {
    if FROM_ACC { Acc(acc).get() } else { r.get(s) }
}

/// The detour of [`taken`]: ticks, then goes on at the jump's target.
static TICK: Op = Op {
    handler: Tick,
    a: 0,
    b: 0,
    c: 0,
    d: 0,
};

/// An operand of the op `$op`: its slot `$field` (`slot`) or the
/// accumulator (`acc`), read as `$get` (`u32`, `f64`, ...).
macro_rules! operand {
    (slot, $r:ident, $acc:ident, $op:ident . $field:ident, $get:ident) => {
        $r.$get($op.$field)
    };
    (acc, $r:ident, $acc:ident, $op:ident . $field:ident, $get:ident) => {
        Acc($acc).$get()
    };
}

/// Arithmetic: `a = op(b, c)` / `a = op(b)` / `a = op(b, imm c)`, optionally
/// trapping; each also with its first operand (`arith_acc_a`) or, when
/// binary, its second (`arith_acc_b`) taken from the accumulator.
macro_rules! arith {
    (
        binary { $($bn:ident: $bg:ident -> $bs:ident |$bx:ident, $by:ident| $be:expr;)* }
        binary_trapping { $($tn:ident: $tg:ident -> $ts:ident |$tx:ident, $ty:ident| $te:expr;)* }
        unary { $($un:ident: $ug:ident -> $us:ident |$ux:ident| $ue:expr;)* }
        unary_trapping { $($vn:ident: $vg:ident -> $vs:ident |$vx:ident| $ve:expr;)* }
        immediate { $($in:ident: $ig:ident -> $is:ident |$ix:ident, $iy:ident| $ie:expr;)* }
    ) => {
        arith! {
            @handlers (slot, slot)
            binary { $($bn: $bg -> $bs |$bx, $by| $be;)* }
            binary_trapping { $($tn: $tg -> $ts |$tx, $ty| $te;)* }
            unary { $($un: $ug -> $us |$ux| $ue;)* }
            unary_trapping { $($vn: $vg -> $vs |$vx| $ve;)* }
            immediate { $($in: $ig -> $is |$ix, $iy| $ie;)* }
        }

        mod arith_acc_a {
            use super::*;
            arith! {
                @handlers (acc, slot)
                binary { $($bn: $bg -> $bs |$bx, $by| $be;)* }
                binary_trapping { $($tn: $tg -> $ts |$tx, $ty| $te;)* }
                unary { $($un: $ug -> $us |$ux| $ue;)* }
                unary_trapping { $($vn: $vg -> $vs |$vx| $ve;)* }
                immediate { $($in: $ig -> $is |$ix, $iy| $ie;)* }
            }
        }

        mod arith_acc_b {
            use super::*;
            arith! {
                @handlers (slot, acc)
                binary { $($bn: $bg -> $bs |$bx, $by| $be;)* }
                binary_trapping { $($tn: $tg -> $ts |$tx, $ty| $te;)* }
                unary {}
                unary_trapping {}
                immediate {}
            }
        }

        /// Lowers an arithmetic instruction (`None` for the others); `acc`
        /// is the slot whose value the accumulator holds, if any.
        fn lower_arith(instr: &Instr, acc: Option<Slot>) -> Option<Op> {
            let from_acc = |s: Slot| acc == Some(s);
            Some(match *instr {
                $( Instr::$bn { dst, a, b } => Op::new(
                    if from_acc(a) { arith_acc_a::$bn } else if from_acc(b) { arith_acc_b::$bn } else { $bn },
                    dst, a, b,
                ), )*
                $( Instr::$tn { dst, a, b } => Op::new(
                    if from_acc(a) { arith_acc_a::$tn } else if from_acc(b) { arith_acc_b::$tn } else { $tn },
                    dst, a, b,
                ), )*
                $( Instr::$un { dst, a } => {
                    Op::new(if from_acc(a) { arith_acc_a::$un } else { $un }, dst, a, 0)
                } )*
                $( Instr::$vn { dst, a } => {
                    Op::new(if from_acc(a) { arith_acc_a::$vn } else { $vn }, dst, a, 0)
                } )*
                $( Instr::$in { dst, a, imm } => {
                    Op::new(if from_acc(a) { arith_acc_a::$in } else { $in }, dst, a, imm as u32)
                } )*
                _ => return None,
            })
        }
    };
    (
        @handlers ($xm:ident, $ym:ident)
        binary { $($bn:ident: $bg:ident -> $bs:ident |$bx:ident, $by:ident| $be:expr;)* }
        binary_trapping { $($tn:ident: $tg:ident -> $ts:ident |$tx:ident, $ty:ident| $te:expr;)* }
        unary { $($un:ident: $ug:ident -> $us:ident |$ux:ident| $ue:expr;)* }
        unary_trapping { $($vn:ident: $vg:ident -> $vs:ident |$vx:ident| $ve:expr;)* }
        immediate { $($in:ident: $ig:ident -> $is:ident |$ix:ident, $iy:ident| $ie:expr;)* }
    ) => {
        handlers! {
            $( fn $bn |op, r, ip, fp, mb, ml, acc, m| {
                let $bx = operand!($xm, r, acc, op.b, $bg);
                let $by = operand!($ym, r, acc, op.c, $bg);
                acc = r.$bs(op.a, $be);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $tn |op, r, ip, fp, mb, ml, acc, m| {
                let $tx = operand!($xm, r, acc, op.b, $tg);
                let $ty = operand!($ym, r, acc, op.c, $tg);
                let result: Result<_, TrapKind> = $te;
                match result {
                    Ok(v) => acc = r.$ts(op.a, v),
                    Err(kind) => return m.trap(kind),
                }
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $un |op, r, ip, fp, mb, ml, acc, m| {
                let $ux = operand!($xm, r, acc, op.b, $ug);
                acc = r.$us(op.a, $ue);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $vn |op, r, ip, fp, mb, ml, acc, m| {
                let $vx = operand!($xm, r, acc, op.b, $vg);
                let result: Result<_, TrapKind> = $ve;
                match result {
                    Ok(v) => acc = r.$vs(op.a, v),
                    Err(kind) => return m.trap(kind),
                }
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $in |op, r, ip, fp, mb, ml, acc, m| {
                let $ix = operand!($xm, r, acc, op.b, $ig);
                let $iy = op.c as i32;
                acc = r.$is(op.a, $ie);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
        }
    };
}

fn div_s32(x: i32, y: i32) -> Result<i32, TrapKind> {
    match y {
        0 => Err(TrapKind::IntegerDivideByZero),
        -1 if x == i32::MIN => Err(TrapKind::IntegerOverflow),
        _ => Ok(x / y),
    }
}

fn div_s64(x: i64, y: i64) -> Result<u64, TrapKind> {
    match y {
        0 => Err(TrapKind::IntegerDivideByZero),
        -1 if x == i64::MIN => Err(TrapKind::IntegerOverflow),
        _ => Ok((x / y) as u64),
    }
}

fn nonzero<T: PartialEq + Default>(y: T) -> Result<T, TrapKind> {
    if y == T::default() {
        Err(TrapKind::IntegerDivideByZero)
    } else {
        Ok(y)
    }
}

arith! {
    binary {
        I32Add: u32 -> set_u32 |x, y| x.wrapping_add(y);
        I32Sub: u32 -> set_u32 |x, y| x.wrapping_sub(y);
        I32Mul: u32 -> set_u32 |x, y| x.wrapping_mul(y);
        I32And: u32 -> set_u32 |x, y| x & y;
        I32Or: u32 -> set_u32 |x, y| x | y;
        I32Xor: u32 -> set_u32 |x, y| x ^ y;
        I32Shl: u32 -> set_u32 |x, y| x.wrapping_shl(y);
        I32ShrS: u32 -> set_u32 |x, y| (x as i32).wrapping_shr(y) as u32;
        I32ShrU: u32 -> set_u32 |x, y| x.wrapping_shr(y);
        I32Rotl: u32 -> set_u32 |x, y| x.rotate_left(y);
        I32Rotr: u32 -> set_u32 |x, y| x.rotate_right(y);
        I32Eq: u32 -> set_bool |x, y| x == y;
        I32Ne: u32 -> set_bool |x, y| x != y;
        I32LtS: i32 -> set_bool |x, y| x < y;
        I32LtU: u32 -> set_bool |x, y| x < y;
        I32GtS: i32 -> set_bool |x, y| x > y;
        I32GtU: u32 -> set_bool |x, y| x > y;
        I32LeS: i32 -> set_bool |x, y| x <= y;
        I32LeU: u32 -> set_bool |x, y| x <= y;
        I32GeS: i32 -> set_bool |x, y| x >= y;
        I32GeU: u32 -> set_bool |x, y| x >= y;
        I64Add: get -> set |x, y| x.wrapping_add(y);
        I64Sub: get -> set |x, y| x.wrapping_sub(y);
        I64Mul: get -> set |x, y| x.wrapping_mul(y);
        I64And: get -> set |x, y| x & y;
        I64Or: get -> set |x, y| x | y;
        I64Xor: get -> set |x, y| x ^ y;
        I64Shl: get -> set |x, y| x.wrapping_shl(y as u32);
        I64ShrS: get -> set |x, y| (x as i64).wrapping_shr(y as u32) as u64;
        I64ShrU: get -> set |x, y| x.wrapping_shr(y as u32);
        I64Rotl: get -> set |x, y| x.rotate_left((y & 63) as u32);
        I64Rotr: get -> set |x, y| x.rotate_right((y & 63) as u32);
        I64Eq: get -> set_bool |x, y| x == y;
        I64Ne: get -> set_bool |x, y| x != y;
        I64LtS: i64 -> set_bool |x, y| x < y;
        I64LtU: get -> set_bool |x, y| x < y;
        I64GtS: i64 -> set_bool |x, y| x > y;
        I64GtU: get -> set_bool |x, y| x > y;
        I64LeS: i64 -> set_bool |x, y| x <= y;
        I64LeU: get -> set_bool |x, y| x <= y;
        I64GeS: i64 -> set_bool |x, y| x >= y;
        I64GeU: get -> set_bool |x, y| x >= y;
        F32Add: f32 -> set_f32 |x, y| x + y;
        F32Sub: f32 -> set_f32 |x, y| x - y;
        F32Mul: f32 -> set_f32 |x, y| x * y;
        F32Div: f32 -> set_f32 |x, y| x / y;
        F32Min: f32 -> set_f32 |x, y| f32_min(x, y);
        F32Max: f32 -> set_f32 |x, y| f32_max(x, y);
        F32Copysign: f32 -> set_f32 |x, y| x.copysign(y);
        F32Eq: f32 -> set_bool |x, y| x == y;
        F32Ne: f32 -> set_bool |x, y| x != y;
        F32Lt: f32 -> set_bool |x, y| x < y;
        F32Gt: f32 -> set_bool |x, y| x > y;
        F32Le: f32 -> set_bool |x, y| x <= y;
        F32Ge: f32 -> set_bool |x, y| x >= y;
        F64Add: f64 -> set_f64 |x, y| x + y;
        F64Sub: f64 -> set_f64 |x, y| x - y;
        F64Mul: f64 -> set_f64 |x, y| x * y;
        F64Div: f64 -> set_f64 |x, y| x / y;
        F64Min: f64 -> set_f64 |x, y| f64_min(x, y);
        F64Max: f64 -> set_f64 |x, y| f64_max(x, y);
        F64Copysign: f64 -> set_f64 |x, y| x.copysign(y);
        F64Eq: f64 -> set_bool |x, y| x == y;
        F64Ne: f64 -> set_bool |x, y| x != y;
        F64Lt: f64 -> set_bool |x, y| x < y;
        F64Gt: f64 -> set_bool |x, y| x > y;
        F64Le: f64 -> set_bool |x, y| x <= y;
        F64Ge: f64 -> set_bool |x, y| x >= y;
    }
    binary_trapping {
        I32DivS: i32 -> set_i32 |x, y| div_s32(x, y);
        I32DivU: u32 -> set_u32 |x, y| nonzero(y).map(|y| x / y);
        I32RemS: i32 -> set_i32 |x, y| nonzero(y).map(|y| x.wrapping_rem(y));
        I32RemU: u32 -> set_u32 |x, y| nonzero(y).map(|y| x % y);
        I64DivS: i64 -> set |x, y| div_s64(x, y);
        I64DivU: get -> set |x, y| nonzero(y).map(|y| x / y);
        I64RemS: i64 -> set |x, y| nonzero(y).map(|y| x.wrapping_rem(y) as u64);
        I64RemU: get -> set |x, y| nonzero(y).map(|y| x % y);
    }
    unary {
        I32Clz: u32 -> set_u32 |x| x.leading_zeros();
        I32Ctz: u32 -> set_u32 |x| x.trailing_zeros();
        I32Popcnt: u32 -> set_u32 |x| x.count_ones();
        I32Eqz: u32 -> set_bool |x| x == 0;
        I64Clz: get -> set |x| x.leading_zeros() as u64;
        I64Ctz: get -> set |x| x.trailing_zeros() as u64;
        I64Popcnt: get -> set |x| x.count_ones() as u64;
        I64Eqz: get -> set_bool |x| x == 0;
        F32Abs: u32 -> set_u32 |x| x & 0x7fff_ffff;
        F32Neg: u32 -> set_u32 |x| x ^ 0x8000_0000;
        F32Ceil: f32 -> set_f32 |x| f32_quiet(x.ceil());
        F32Floor: f32 -> set_f32 |x| f32_quiet(x.floor());
        F32Trunc: f32 -> set_f32 |x| f32_quiet(x.trunc());
        F32Nearest: f32 -> set_f32 |x| f32_quiet(x.round_ties_even());
        F32Sqrt: f32 -> set_f32 |x| x.sqrt();
        F64Abs: get -> set |x| x & 0x7fff_ffff_ffff_ffff;
        F64Neg: get -> set |x| x ^ 0x8000_0000_0000_0000;
        F64Ceil: f64 -> set_f64 |x| f64_quiet(x.ceil());
        F64Floor: f64 -> set_f64 |x| f64_quiet(x.floor());
        F64Trunc: f64 -> set_f64 |x| f64_quiet(x.trunc());
        F64Nearest: f64 -> set_f64 |x| f64_quiet(x.round_ties_even());
        F64Sqrt: f64 -> set_f64 |x| x.sqrt();
        I32WrapI64: get -> set |x| x as u32 as u64;
        I64ExtendI32S: i32 -> set |x| x as i64 as u64;
        F32ConvertI32S: i32 -> set_f32 |x| x as f32;
        F32ConvertI32U: u32 -> set_f32 |x| x as f32;
        F32ConvertI64S: i64 -> set_f32 |x| x as f32;
        F32ConvertI64U: get -> set_f32 |x| x as f32;
        F32DemoteF64: f64 -> set_f32 |x| x as f32;
        F64ConvertI32S: i32 -> set_f64 |x| x as f64;
        F64ConvertI32U: u32 -> set_f64 |x| x as f64;
        F64ConvertI64S: i64 -> set_f64 |x| x as f64;
        F64ConvertI64U: get -> set_f64 |x| x as f64;
        F64PromoteF32: f32 -> set_f64 |x| x as f64;
        I32Extend8S: u32 -> set_i32 |x| x as i8 as i32;
        I32Extend16S: u32 -> set_i32 |x| x as i16 as i32;
        I64Extend8S: get -> set |x| x as i8 as i64 as u64;
        I64Extend16S: get -> set |x| x as i16 as i64 as u64;
        I64Extend32S: get -> set |x| x as i32 as i64 as u64;
        // Rust's float-to-int `as` saturates and maps NaN to 0: wasm's `trunc_sat`.
        I32TruncSatF32S: f32 -> set_i32 |x| x as i32;
        I32TruncSatF32U: f32 -> set_u32 |x| x as u32;
        I32TruncSatF64S: f64 -> set_i32 |x| x as i32;
        I32TruncSatF64U: f64 -> set_u32 |x| x as u32;
        I64TruncSatF32S: f32 -> set |x| x as i64 as u64;
        I64TruncSatF32U: f32 -> set |x| x as u64;
        I64TruncSatF64S: f64 -> set |x| x as i64 as u64;
        I64TruncSatF64U: f64 -> set |x| x as u64;
    }
    unary_trapping {
        I32TruncF32S: f32 -> set_i32 |x| i32_trunc_s(x as f64);
        I32TruncF32U: f32 -> set_u32 |x| i32_trunc_u(x as f64);
        I32TruncF64S: f64 -> set_i32 |x| i32_trunc_s(x);
        I32TruncF64U: f64 -> set_u32 |x| i32_trunc_u(x);
        I64TruncF32S: f32 -> set |x| i64_trunc_s(x as f64).map(|v| v as u64);
        I64TruncF32U: f32 -> set |x| i64_trunc_u(x as f64);
        I64TruncF64S: f64 -> set |x| i64_trunc_s(x).map(|v| v as u64);
        I64TruncF64U: f64 -> set |x| i64_trunc_u(x);
    }
    immediate {
        I32AddImm: u32 -> set_u32 |x, y| x.wrapping_add(y as u32);
        I32MulImm: u32 -> set_u32 |x, y| x.wrapping_mul(y as u32);
        I32AndImm: u32 -> set_u32 |x, y| x & y as u32;
        I32OrImm: u32 -> set_u32 |x, y| x | y as u32;
        I32XorImm: u32 -> set_u32 |x, y| x ^ y as u32;
        I32ShlImm: u32 -> set_u32 |x, y| x.wrapping_shl(y as u32);
        I32ShrSImm: i32 -> set_i32 |x, y| x.wrapping_shr(y as u32);
        I32ShrUImm: u32 -> set_u32 |x, y| x.wrapping_shr(y as u32);
        I32EqImm: i32 -> set_bool |x, y| x == y;
        I32NeImm: i32 -> set_bool |x, y| x != y;
        I32LtSImm: i32 -> set_bool |x, y| x < y;
        I32LtUImm: u32 -> set_bool |x, y| x < y as u32;
        I32GtSImm: i32 -> set_bool |x, y| x > y;
        I32GtUImm: u32 -> set_bool |x, y| x > y as u32;
        I32LeSImm: i32 -> set_bool |x, y| x <= y;
        I32LeUImm: u32 -> set_bool |x, y| x <= y as u32;
        I32GeSImm: i32 -> set_bool |x, y| x >= y;
        I32GeUImm: u32 -> set_bool |x, y| x >= y as u32;
        I64AddImm: get -> set |x, y| x.wrapping_add(y as i64 as u64);
        I64AndImm: get -> set |x, y| x & y as i64 as u64;
        I64ShlImm: get -> set |x, y| x.wrapping_shl(y as u32);
        I64ShrUImm: get -> set |x, y| x.wrapping_shr(y as u32);
    }
}

/// The handler `$h` with its `const` flag set to `$flag` (jumps: whether
/// they count, see [`taken`]; others: whether an operand is the accumulator).
macro_rules! pick {
    ($flag:ident, $($h:ident)::+) => {
        if $flag {
            $($h)::+::<true>
        } else {
            $($h)::+::<false>
        }
    };
}

/// Conditional jumps: `if cond(a, b) { jump }` (b a slot or an immediate),
/// also with `a` (`branch_acc_a`) or a slot `b` (`branch_acc_b`) taken from
/// the accumulator.
macro_rules! branches {
    (
        slots { $($sn:ident: $sg:ident |$sx:ident, $sy:ident| $se:expr;)* }
        immediates { $($in:ident: $ig:ident |$ix:ident, $iy:ident| $ie:expr;)* }
    ) => {
        branches! {
            @handlers (slot, slot)
            slots { $($sn: $sg |$sx, $sy| $se;)* }
            immediates { $($in: $ig |$ix, $iy| $ie;)* }
        }

        mod branch_acc_a {
            use super::*;
            branches! {
                @handlers (acc, slot)
                slots { $($sn: $sg |$sx, $sy| $se;)* }
                immediates { $($in: $ig |$ix, $iy| $ie;)* }
            }
        }

        mod branch_acc_b {
            use super::*;
            branches! {
                @handlers (slot, acc)
                slots { $($sn: $sg |$sx, $sy| $se;)* }
                immediates {}
            }
        }

        /// Lowers a jump; `counted` as in [`taken`], `acc` as in `lower_arith`.
        fn lower_branch(instr: &Instr, rel: i32, counted: bool, acc: Option<Slot>) -> Option<Op> {
            let from_acc = |s: Slot| acc == Some(s);
            Some(match *instr {
                $( Instr::$sn { a, b, .. } => {
                    let handler: Handler = if from_acc(a) {
                        pick!(counted, branch_acc_a::$sn)
                    } else if from_acc(b) {
                        pick!(counted, branch_acc_b::$sn)
                    } else {
                        pick!(counted, $sn)
                    };
                    jump(handler, a, b, rel)
                } )*
                $( Instr::$in { a, imm, .. } => {
                    let handler: Handler = if from_acc(a) { pick!(counted, branch_acc_a::$in) } else { pick!(counted, $in) };
                    jump(handler, a, imm as u32, rel)
                } )*
                Instr::BrIfI32AddImmNez { dst, a, imm, .. } => {
                    let handler: Handler =
                        if from_acc(a) { pick!(counted, BrIfI32AddImmNezAcc) } else { pick!(counted, BrIfI32AddImmNez) };
                    Op { c: imm as u32, ..jump(handler, dst, a, rel) }
                }
                Instr::BrIfI32AddImmEqz { dst, a, imm, .. } => {
                    let handler: Handler =
                        if from_acc(a) { pick!(counted, BrIfI32AddImmEqzAcc) } else { pick!(counted, BrIfI32AddImmEqz) };
                    Op { c: imm as u32, ..jump(handler, dst, a, rel) }
                }
                // The `Acc` forms read the condition before the copy.
                Instr::CopyBrIfNez { dst, src, cond, .. } => {
                    let handler: Handler =
                        if from_acc(cond) && cond != dst { pick!(counted, CopyBrIfNezAcc) } else { pick!(counted, CopyBrIfNez) };
                    Op { c: cond, ..jump(handler, dst, src, rel) }
                }
                Instr::CopyBrIfEqz { dst, src, cond, .. } => {
                    let handler: Handler =
                        if from_acc(cond) && cond != dst { pick!(counted, CopyBrIfEqzAcc) } else { pick!(counted, CopyBrIfEqz) };
                    Op { c: cond, ..jump(handler, dst, src, rel) }
                }
                Instr::BrIfNez { cond, .. } => {
                    let handler: Handler = if from_acc(cond) { pick!(counted, BrIfNezAcc) } else { pick!(counted, BrIfNez) };
                    jump(handler, cond, 0, rel)
                }
                Instr::BrIfEqz { cond, .. } => {
                    let handler: Handler = if from_acc(cond) { pick!(counted, BrIfEqzAcc) } else { pick!(counted, BrIfEqz) };
                    jump(handler, cond, 0, rel)
                }
                Instr::Br { .. } => jump(pick!(counted, Br), 0, 0, rel),
                _ => return None,
            })
        }
    };
    (
        @handlers ($am:ident, $bm:ident)
        slots { $($sn:ident: $sg:ident |$sx:ident, $sy:ident| $se:expr;)* }
        immediates { $($in:ident: $ig:ident |$ix:ident, $iy:ident| $ie:expr;)* }
    ) => {
        handlers! {
            $( fn $sn<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
                let $sx = operand!($am, r, acc, op.a, $sg);
                let $sy = operand!($bm, r, acc, op.b, $sg);
                next!(if $se { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
            } )*
            $( fn $in<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
                let $ix = operand!($am, r, acc, op.a, $ig);
                let $iy = op.b as i32;
                next!(if $ie { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
            } )*
        }
    };
}

branches! {
    slots {
        BrIfI32Eq: u32 |x, y| x == y;
        BrIfI32Ne: u32 |x, y| x != y;
        BrIfI32LtS: i32 |x, y| x < y;
        BrIfI32LtU: u32 |x, y| x < y;
        BrIfI32GtS: i32 |x, y| x > y;
        BrIfI32GtU: u32 |x, y| x > y;
        BrIfI32LeS: i32 |x, y| x <= y;
        BrIfI32LeU: u32 |x, y| x <= y;
        BrIfI32GeS: i32 |x, y| x >= y;
        BrIfI32GeU: u32 |x, y| x >= y;
        BrIfI32AndNez: u32 |x, y| x & y != 0;
        BrIfI32AndEqz: u32 |x, y| x & y == 0;
    }
    immediates {
        BrIfI32EqImm: i32 |x, y| x == y;
        BrIfI32NeImm: i32 |x, y| x != y;
        BrIfI32LtSImm: i32 |x, y| x < y;
        BrIfI32LtUImm: u32 |x, y| x < y as u32;
        BrIfI32GtSImm: i32 |x, y| x > y;
        BrIfI32GtUImm: u32 |x, y| x > y as u32;
        BrIfI32LeSImm: i32 |x, y| x <= y;
        BrIfI32LeUImm: u32 |x, y| x <= y as u32;
        BrIfI32GeSImm: i32 |x, y| x >= y;
        BrIfI32GeUImm: u32 |x, y| x >= y as u32;
        BrIfI32AndImmNez: u32 |x, y| x & y as u32 != 0;
        BrIfI32AndImmEqz: u32 |x, y| x & y as u32 == 0;
    }
}

/// A jump op: operands `a`, `b` and the target `rel` ops away, stored in
/// `d` as a byte offset (see [`target`]).
fn jump(handler: Handler, a: u32, b: u32, rel: i32) -> Op {
    Op {
        handler,
        a,
        b,
        c: 0,
        d: (rel as isize * size_of::<Op>() as isize) as i32 as u32,
    }
}

/// Traps with "out of bounds memory access". Memory handlers tail-call it,
/// so that their hot path needs no stack frame for a call.
#[cold]
#[inline(never)]
pub(super) unsafe extern "C" fn OutOfBounds(
    _ip: *const Op,
    _fp: *mut u64,
    _mb: *mut u8,
    _ml: u64,
    _acc: u64,
    m: &mut Machine<'_>,
) -> Exit {
    m.trap(TrapKind::MemoryOutOfBounds)
}

/// A load: `a = mem[b + c]`, reading a `$ty` and widening it to a slot;
/// `$check` is the bounds check (`ptr32` or `ptr`), `$mode` where the
/// address comes from (`slot` or `acc`, see `operand!`).
macro_rules! load {
    ($mode:ident, $check:ident, $name:ident, $ty:ty, |$v:ident| $conv:expr) => {
        handlers! {
            fn $name |op, r, ip, fp, mb, ml, acc, m| {
                let size = std::mem::size_of::<$ty>() as u32;
                let addr = operand!($mode, r, acc, op.b, get);
                let Some(p) = (Mem { base: mb, len: ml }).$check(addr, op.c, size) else {
                    // SAFETY: the arguments are this handler's own.
                    return unsafe { OutOfBounds(ip, fp, mb, ml, acc, m) };
                };
                // SAFETY: the range was checked; wasm accesses may be unaligned.
                let $v = <$ty>::from_le(unsafe { std::ptr::read_unaligned(p as *const $ty) });
                acc = r.set(op.a, $conv);
                next!(step(ip), fp, mb, ml, acc, m)
            }
        }
    };
}

/// A store: `mem[a + c] = b`, narrowed to a `$ty`; `($am, $bm)` say
/// where the address and the value come from (see `operand!`).
macro_rules! store {
    (($am:ident, $bm:ident), $check:ident, $name:ident, $ty:ty) => {
        handlers! {
            fn $name |op, r, ip, fp, mb, ml, acc, m| {
                let size = std::mem::size_of::<$ty>() as u32;
                let addr = operand!($am, r, acc, op.a, get);
                let value = operand!($bm, r, acc, op.b, get);
                let Some(p) = (Mem { base: mb, len: ml }).$check(addr, op.c, size) else {
                    // SAFETY: the arguments are this handler's own.
                    return unsafe { OutOfBounds(ip, fp, mb, ml, acc, m) };
                };
                let v = (value as $ty).to_le();
                // SAFETY: the range was checked; wasm accesses may be unaligned.
                unsafe { std::ptr::write_unaligned(p as *mut $ty, v) };
                next!(step(ip), fp, mb, ml, acc, m)
            }
        }
    };
}

/// Loads and stores of memory 0, in two sets: memory32 (`m32`, cheaper
/// bounds check) and memory64 (`m64`, overflow-proof bounds check).
macro_rules! memory_ops {
    (
        $check:ident;
        loads { $($ln:ident: $lt:ty |$lv:ident| $lc:expr;)* }
        stores { $($sn:ident: $st:ty;)* }
    ) => {
        use super::*;

        $( load!(slot, $check, $ln, $lt, |$lv| $lc); )*
        $( store!((slot, slot), $check, $sn, $st); )*

        mod acc_addr {
            use super::*;
            $( load!(acc, $check, $ln, $lt, |$lv| $lc); )*
            $( store!((acc, slot), $check, $sn, $st); )*
        }

        mod acc_value {
            use super::*;
            $( store!((slot, acc), $check, $sn, $st); )*
        }

        /// Lowers a memory-0 load or store; `acc` as in `lower_arith`.
        pub(super) fn lower(instr: &Instr, acc: Option<Slot>) -> Option<Op> {
            let from_acc = |s: Slot| acc == Some(s);
            Some(match *instr {
                $( Instr::$ln { dst, addr, offset } => {
                    Op::new(if from_acc(addr) { acc_addr::$ln } else { $ln }, dst, addr, offset)
                } )*
                $( Instr::$sn { addr, value, offset } => Op::new(
                    if from_acc(addr) {
                        acc_addr::$sn
                    } else if from_acc(value) {
                        acc_value::$sn
                    } else {
                        $sn
                    },
                    addr, value, offset,
                ), )*
                _ => return None,
            })
        }
    };
}

/// Invokes `$mac!($check; loads { .. } stores { .. })` with the loads
/// (name, memory type, widening to a slot) and stores of memory 0.
macro_rules! with_memory_ops {
    ($mac:ident!($check:ident)) => {
        $mac! {
            $check;
            loads {
                Load32: u32 |v| v as u64;
                Load64: u64 |v| v;
                I32Load8S: i8 |v| v as i32 as u32 as u64;
                Load8U: u8 |v| v as u64;
                I32Load16S: i16 |v| v as i32 as u32 as u64;
                Load16U: u16 |v| v as u64;
                I64Load8S: i8 |v| v as i64 as u64;
                I64Load16S: i16 |v| v as i64 as u64;
                I64Load32S: i32 |v| v as i64 as u64;
            }
            stores {
                Store8: u8;
                Store16: u16;
                Store32: u32;
                Store64: u64;
            }
        }
    };
}

mod m32 {
    with_memory_ops!(memory_ops!(ptr32));
}

mod m64 {
    with_memory_ops!(memory_ops!(ptr));
}

/// Runs a bulk operation of the running instance; traps unwind. Operands
/// are either `n` consecutive slots from `op.a`, or an explicit array.
macro_rules! bulk_op {
    ($m:ident, $op:ident, $r:ident, $kind:ident, $x:expr, $y:expr, $n:literal) => {{
        let count: u32 = $n;
        let slot = |i: u32| if i < count { $r.get($op.a + i) } else { 0 };
        bulk_op!($m, [slot(0), slot(1), slot(2)], $kind, $x, $y)
    }};
    ($m:ident, [$a:expr, $b:expr, $c:expr], $kind:ident, $x:expr, $y:expr) => {{
        match $m.bulk(wamr_runtime::bulk::bulk_op::$kind, $x, $y, $a, $b, $c) {
            Some(v) => v,
            None => return Exit::Trap,
        }
    }};
}

handlers! {
    fn TrapOp |op, r, ip, fp, mb, ml, acc, m| {
        m.trap(TrapKind::from_code(op.a).unwrap_or(TrapKind::Unreachable))
    }
    fn Copy |op, r, ip, fp, mb, ml, acc, m| {
        acc = r.set(op.a, r.get(op.b));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn CopyAcc |op, r, ip, fp, mb, ml, acc, m| {
        r.set(op.a, acc);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn Const32 |op, r, ip, fp, mb, ml, acc, m| {
        acc = r.set(op.a, op.c as u64);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn Const64 |op, r, ip, fp, mb, ml, acc, m| {
        acc = r.set(op.a, op.imm64());
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn Tick |op, r, ip, fp, mb, ml, acc, m| {
        match m.tick_at_loop(fp) {
            super::tick::CONTINUE => next!(m.after_tick, fp, mb, ml, acc, m),
            super::tick::RETURNED => {
                let to = m.resume;
                next!(to.ip, to.fp, to.mem, to.len, acc, m)
            }
            super::tick::DONE => Exit::Done,
            _ => Exit::Trap,
        }
    }
    fn Br<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        next!(taken::<COUNTED>(ip, m), fp, mb, ml, acc, m)
    }
    fn BrIfNez<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        next!(if r.u32(op.a) != 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn BrIfNezAcc<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        next!(if Acc(acc).u32() != 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn BrIfEqz<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        next!(if r.u32(op.a) == 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn BrIfEqzAcc<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        next!(if Acc(acc).u32() == 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn BrTable |op, r, ip, fp, mb, ml, acc, m| {
        // Entries follow the table op: (dst a, src b, count c, jump d).
        let i = r.u32(op.a).min(op.b) as usize;
        // SAFETY: the table is followed by `b + 1` entries.
        let entry = unsafe { ip.add(1 + i) };
        // SAFETY: as above.
        if unsafe { (*entry).a != (*entry).b } {
            // SAFETY: the arguments are this handler's own, `entry` an entry.
            return unsafe { BrTableMove(entry, fp, mb, ml, acc, m) };
        }
        next!(target(entry), fp, mb, ml, acc, m)
    }
    // The taken entry `ip` of a table whose values move: a tail call from
    // `BrTable`, so that the copy loop costs nothing when there is none.
    #[inline(never)]
    fn BrTableMove |op, r, ip, fp, mb, ml, acc, m| {
        move_slots(r, op.a, op.b, op.c);
        next!(target(ip), fp, mb, ml, acc, m)
    }
    fn BrIfI32AddImmNez<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let v = r.u32(op.b).wrapping_add(op.c);
        acc = r.set_u32(op.a, v);
        next!(if v != 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn BrIfI32AddImmNezAcc<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let v = Acc(acc).u32().wrapping_add(op.c);
        acc = r.set_u32(op.a, v);
        next!(if v != 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn BrIfI32AddImmEqz<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let v = r.u32(op.b).wrapping_add(op.c);
        acc = r.set_u32(op.a, v);
        next!(if v == 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn BrIfI32AddImmEqzAcc<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let v = Acc(acc).u32().wrapping_add(op.c);
        acc = r.set_u32(op.a, v);
        next!(if v == 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn I32ShrUAndImm<const FROM_ACC: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let x = slot_or_acc::<FROM_ACC>(r, op.b, acc) as u32;
        acc = r.set_u32(op.a, x.wrapping_shr(op.c) & op.d);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    // a = b, then test c (which may be a; the `Acc` forms read c before
    // the copy, so `lower` uses them only when it is not).
    fn CopyBrIfNez<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        acc = r.set(op.a, r.get(op.b));
        next!(if r.u32(op.c) != 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn CopyBrIfNezAcc<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let cond = Acc(acc).u32();
        acc = r.set(op.a, r.get(op.b));
        next!(if cond != 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn CopyBrIfEqz<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        acc = r.set(op.a, r.get(op.b));
        next!(if r.u32(op.c) == 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    fn CopyBrIfEqzAcc<const COUNTED: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let cond = Acc(acc).u32();
        acc = r.set(op.a, r.get(op.b));
        next!(if cond == 0 { taken::<COUNTED>(ip, m) } else { step(ip) }, fp, mb, ml, acc, m)
    }
    // `select`: a = if b != 0 { c } else { d } (`c` or `d` may be
    // immediate; `b` the accumulator when `FROM_ACC`). Its condition is
    // often data (a checksum's bits), so it is computed without a branch
    // that would be mispredicted.
    fn Select<const FROM_ACC: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let cond = slot_or_acc::<FROM_ACC>(r, op.b, acc) as u32 != 0;
        acc = r.set(op.a, select_unpredictable(cond, r.get(op.c), r.get(op.d)));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn SelectImmA<const FROM_ACC: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let cond = slot_or_acc::<FROM_ACC>(r, op.b, acc) as u32 != 0;
        acc = r.set(op.a, select_unpredictable(cond, op.c as u64, r.get(op.d)));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn SelectImmB<const FROM_ACC: bool> |op, r, ip, fp, mb, ml, acc, m| {
        let cond = slot_or_acc::<FROM_ACC>(r, op.b, acc) as u32 != 0;
        acc = r.set(op.a, select_unpredictable(cond, r.get(op.c), op.d as u64));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn Return |op, r, ip, fp, mb, ml, acc, m| {
        // Results at `b..b + c` move to the frame base, where the caller expects them.
        if op.b != 0 {
            move_slots(r, 0, op.b, op.c);
        }
        match m.pop_frame() {
            None => Exit::Done,
            Some(to) => next!(to.ip, to.fp, to.mem, to.len, acc, m),
        }
    }
    fn Call |op, r, ip, fp, mb, ml, acc, m| {
        // SAFETY: the arguments start at slot `b` of this frame.
        let callee_fp = unsafe { fp.add(op.b as usize) };
        m.count();
        if let Some(f) = m.local_code(op.a) {
            // Fast path: an already translated function of this instance.
            if let Err(kind) = m.push_frame(f, callee_fp, step(ip), fp) {
                return m.trap(kind);
            }
            // SAFETY: compiled functions outlive the machine's contexts.
            let entry = unsafe { (*f).ops.as_ptr() };
            next!(entry, callee_fp, mb, ml, acc, m)
        }
        let id = m.func_id(op.a);
        match m.call_slow(id, step(ip), fp, callee_fp) {
            Ok(to) => next!(to.ip, to.fp, to.mem, to.len, acc, m),
            Err(t) => m.trap_with(t),
        }
    }
    fn CallIndirect |op, r, ip, fp, mb, ml, acc, m| {
        // a: type index, b: argument base, c: table, d: the element index's slot.
        let id = match m.indirect_target(op.c, op.a, r.get(op.d)) {
            Ok(id) => id,
            Err(t) => return m.trap_with(t),
        };
        // SAFETY: the arguments start at slot `b` of this frame.
        let callee_fp = unsafe { fp.add(op.b as usize) };
        match m.call_slow(id, step(ip), fp, callee_fp) {
            Ok(to) => next!(to.ip, to.fp, to.mem, to.len, acc, m),
            Err(t) => m.trap_with(t),
        }
    }
    fn ReturnCall |op, r, ip, fp, mb, ml, acc, m| {
        let id = m.func_id(op.a);
        match m.tail_call(id, fp, op.b) {
            Ok(Some(to)) => next!(to.ip, to.fp, to.mem, to.len, acc, m),
            Ok(None) => Exit::Done,
            Err(t) => m.trap_with(t),
        }
    }
    fn ReturnCallIndirect |op, r, ip, fp, mb, ml, acc, m| {
        let id = match m.indirect_target(op.c, op.a, r.get(op.d)) {
            Ok(id) => id,
            Err(t) => return m.trap_with(t),
        };
        match m.tail_call(id, fp, op.b) {
            Ok(Some(to)) => next!(to.ip, to.fp, to.mem, to.len, acc, m),
            Ok(None) => Exit::Done,
            Err(t) => m.trap_with(t),
        }
    }
    fn GlobalGet |op, r, ip, fp, mb, ml, acc, m| {
        acc = r.set(op.a, m.global(op.b));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn GlobalSet |op, r, ip, fp, mb, ml, acc, m| {
        m.set_global(op.b, r.get(op.a));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn RefFunc |op, r, ip, fp, mb, ml, acc, m| {
        r.set(op.a, m.func_ref(op.b));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn LoadExt |op, r, ip, fp, mb, ml, acc, m| {
        match m.load_ext(op.c, r.get(op.b)) {
            Ok(v) => _ = r.set(op.a, v),
            Err(kind) => return m.trap(kind),
        }
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn StoreExt |op, r, ip, fp, mb, ml, acc, m| {
        if let Err(kind) = m.store_ext(op.c, r.get(op.a), r.get(op.b)) {
            return m.trap(kind);
        }
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn MemorySize |op, r, ip, fp, mb, ml, acc, m| {
        r.set(op.a, m.memory_pages(op.b));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn MemoryGrow |op, r, ip, fp, mb, ml, acc, m| {
        r.set(op.a, m.memory_grow(op.c, r.get(op.b)));
        let mem = m.memory0();
        next!(step(ip), fp, mem.base, mem.len, acc, m)
    }
    fn MemoryFill |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, MEMORY_FILL, op.b, 0, 3);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn MemoryCopy |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, MEMORY_COPY, op.b, op.c, 3);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn MemoryInit |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, MEMORY_INIT, op.b, op.c, 3);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn DataDrop |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, DATA_DROP, op.a, 0, 0);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn TableGet |op, r, ip, fp, mb, ml, acc, m| {
        let v = bulk_op!(m, [r.get(op.b), 0, 0], TABLE_GET, op.c, 0);
        r.set(op.a, v);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn TableSet |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, [r.get(op.a), r.get(op.b), 0], TABLE_SET, op.c, 0);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn TableSize |op, r, ip, fp, mb, ml, acc, m| {
        let v = bulk_op!(m, [0, 0, 0], TABLE_SIZE, op.b, 0);
        r.set(op.a, v);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn TableGrow |op, r, ip, fp, mb, ml, acc, m| {
        let v = bulk_op!(m, op, r, TABLE_GROW, op.b, 0, 2);
        r.set(op.a, v);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn TableFill |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, TABLE_FILL, op.b, 0, 3);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn TableCopy |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, TABLE_COPY, op.b, op.c, 3);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn TableInit |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, TABLE_INIT, op.b, op.c, 3);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn ElemDrop |op, r, ip, fp, mb, ml, acc, m| {
        bulk_op!(m, op, r, ELEM_DROP, op.a, 0, 0);
        next!(step(ip), fp, mb, ml, acc, m)
    }
}

/// Copies slots `src..src + n` to `dst..`, in increasing order (`dst` is
/// below `src` or the ranges do not overlap).
#[inline(never)]
fn move_slots(r: Regs, dst: Slot, src: Slot, n: u32) {
    for k in 0..n {
        r.set(dst + k, r.get(src + k));
    }
}

/// Lowers translated code to threaded ops (one op per instruction, so jump
/// targets keep their indices). Taken backward jumps count against the
/// tier-up budget, forward ones do not.
pub fn lower(f: CompiledFunc) -> Function {
    let code = &f.code;
    let memory_op = if f.memory0_is_64 {
        m64::lower
    } else {
        m32::lower
    };
    // An op may read the accumulator only where it is always entered from
    // the op before it, never by a jump.
    let mut jumped_to = vec![false; code.len() + 1];
    for instr in code.iter() {
        if let Some(target) = instr.target() {
            jumped_to[target as usize] = true;
        }
    }
    let mut ops = Vec::with_capacity(code.len());
    let mut acc = None;
    let mut table_values = 0;
    for (pc, instr) in code.iter().enumerate() {
        if jumped_to[pc] {
            acc = None;
        }
        let rel = |target: u32| (target as i64 - pc as i64) as i32;
        let branch = instr.target().and_then(|target| {
            let counted = target as usize <= pc;
            lower_branch(instr, rel(target), counted, acc)
        });
        let mut op = if let Some(op) = branch {
            op
        } else if let Some(op) = lower_arith(instr, acc) {
            op
        } else if let Some(op) = memory_op(instr, acc) {
            op
        } else if let Some(op) = super::simd::lower(instr) {
            op
        } else {
            lower_other(instr, rel, acc)
        };
        match *instr {
            Instr::BrTable { count, .. } => table_values = count,
            Instr::BrTableTarget { .. } => op.c = table_values,
            _ => {}
        }
        ops.push(op);
        acc = acc_result(instr);
    }
    Function {
        ops: ops.into(),
        num_params: f.num_params,
        num_locals: f.num_locals,
        frame_size: f.frame_size,
        mem_args: f.mem_args,
        v128s: f.v128s,
        simd_mem_args: f.simd_mem_args,
        func_index: f.func_index,
        osr_points: f.osr_points,
    }
}

/// The slot whose value `instr`'s handler leaves in the accumulator when
/// it falls through to the next op.
fn acc_result(instr: &Instr) -> Option<Slot> {
    use Instr as I;
    match *instr {
        I::Copy { dst, .. }
        | I::Const32 { dst, .. }
        | I::Const64 { dst, .. }
        | I::Select { dst, .. }
        | I::SelectImmA { dst, .. }
        | I::SelectImmB { dst, .. }
        | I::I32ShrUAndImm { dst, .. }
        | I::GlobalGet { dst, .. }
        | I::BrIfI32AddImmNez { dst, .. }
        | I::BrIfI32AddImmEqz { dst, .. }
        | I::CopyBrIfNez { dst, .. }
        | I::CopyBrIfEqz { dst, .. }
        | I::Load32 { dst, .. }
        | I::Load64 { dst, .. }
        | I::I32Load8S { dst, .. }
        | I::Load8U { dst, .. }
        | I::I32Load16S { dst, .. }
        | I::Load16U { dst, .. }
        | I::I64Load8S { dst, .. }
        | I::I64Load16S { dst, .. }
        | I::I64Load32S { dst, .. } => Some(dst),
        _ if lower_arith(instr, None).is_some() => instr.clone().arith_dst().map(|dst| *dst),
        _ => None,
    }
}

fn lower_other(instr: &Instr, rel: impl Fn(u32) -> i32, acc: Option<Slot>) -> Op {
    use Instr as I;
    let from_acc = |s: Slot| acc == Some(s);
    match *instr {
        I::Trap { kind } => Op::new(TrapOp, kind as u32, 0, 0),
        I::Copy { dst, src } => Op::new(if from_acc(src) { CopyAcc } else { Copy }, dst, src, 0),
        I::Const32 { dst, value } => Op::new(Const32, dst, 0, value),
        I::Const64 { dst, value } => Op::wide(Const64, dst, value),
        I::BrTable { index, len, .. } => Op::new(BrTable, index, len, 0),
        // Never executed: read by `BrTable`.
        I::BrTableTarget { target, dst, src } => jump(TrapOp, dst, src, rel(target)),
        I::Return { src, count } => Op::new(Return, 0, src, count),
        I::Call { func, base } => Op::new(Call, func, base, 0),
        I::CallIndirect {
            type_index,
            table,
            base,
            index,
        } => Op {
            d: index,
            ..Op::new(CallIndirect, type_index, base, table)
        },
        I::ReturnCall { func, base } => Op::new(ReturnCall, func, base, 0),
        I::ReturnCallIndirect {
            type_index,
            table,
            base,
            index,
        } => Op {
            d: index,
            ..Op::new(ReturnCallIndirect, type_index, base, table)
        },
        I::Select { dst, cond, a, b } => {
            let from = from_acc(cond);
            Op {
                d: b,
                ..Op::new(pick!(from, Select), dst, cond, a)
            }
        }
        I::I32ShrUAndImm {
            dst,
            a,
            shift,
            mask,
        } => {
            let from = from_acc(a);
            Op {
                d: mask,
                ..Op::new(pick!(from, I32ShrUAndImm), dst, a, shift)
            }
        }
        I::SelectImmA { dst, cond, imm, b } => {
            let from = from_acc(cond);
            Op {
                d: b,
                ..Op::new(pick!(from, SelectImmA), dst, cond, imm)
            }
        }
        I::SelectImmB { dst, cond, a, imm } => {
            let from = from_acc(cond);
            Op {
                d: imm,
                ..Op::new(pick!(from, SelectImmB), dst, cond, a)
            }
        }
        I::GlobalGet { dst, global } => Op::new(GlobalGet, dst, global, 0),
        I::GlobalSet { src, global } => Op::new(GlobalSet, src, global, 0),
        I::RefFunc { dst, func } => Op::new(RefFunc, dst, func, 0),
        I::LoadExt { dst, addr, ext } => Op::new(LoadExt, dst, addr, ext),
        I::StoreExt { addr, value, ext } => Op::new(StoreExt, addr, value, ext),
        I::MemorySize { dst, memory } => Op::new(MemorySize, dst, memory, 0),
        I::MemoryGrow { dst, delta, memory } => Op::new(MemoryGrow, dst, delta, memory),
        I::MemoryFill { base, memory } => Op::new(MemoryFill, base, memory, 0),
        I::MemoryCopy {
            base,
            dst_memory,
            src_memory,
        } => Op::new(MemoryCopy, base, dst_memory, src_memory),
        I::MemoryInit {
            base,
            memory,
            segment,
        } => Op::new(MemoryInit, base, memory, segment),
        I::DataDrop { segment } => Op::new(DataDrop, segment, 0, 0),
        I::TableGet { dst, index, table } => Op::new(TableGet, dst, index, table),
        I::TableSet {
            index,
            value,
            table,
        } => Op::new(TableSet, index, value, table),
        I::TableSize { dst, table } => Op::new(TableSize, dst, table, 0),
        I::TableGrow { base, table } => Op::new(TableGrow, base, table, 0),
        I::TableFill { base, table } => Op::new(TableFill, base, table, 0),
        I::TableCopy {
            base,
            dst_table,
            src_table,
        } => Op::new(TableCopy, base, dst_table, src_table),
        I::TableInit {
            base,
            table,
            segment,
        } => Op::new(TableInit, base, table, segment),
        I::ElemDrop { segment } => Op::new(ElemDrop, segment, 0, 0),
        other => unreachable!("{other:?} is lowered elsewhere"),
    }
}

/// How a `LoadExt`/`StoreExt` accesses memory, applied to `mem`.
pub fn ext_load(mem: Mem, op: MemOp, addr: u64, offset: u64) -> Result<u64, TrapKind> {
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

pub fn ext_store(mem: Mem, op: MemOp, addr: u64, offset: u64, v: u64) -> Result<(), TrapKind> {
    match op {
        MemOp::Store8 => mem.store(addr, offset, [v as u8]),
        MemOp::Store16 => mem.store(addr, offset, (v as u16).to_le_bytes()),
        MemOp::Store32 => mem.store(addr, offset, (v as u32).to_le_bytes()),
        MemOp::Store64 => mem.store(addr, offset, v.to_le_bytes()),
        _ => unreachable!("not a store"),
    }
}
