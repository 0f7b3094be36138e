//! SIMD handlers: `v128` values, each in two frame slots (low half first,
//! the slot contract), computed lane by lane in portable Rust.
//!
//! Relaxed SIMD is run deterministically, with the semantics below; the
//! LLVM tier implements the same, so results never depend on the tier:
//!
//! - `i8x16.relaxed_swizzle` = `i8x16.swizzle` (an index of 16 or more
//!   gives 0);
//! - `i32x4.relaxed_trunc_f32x4_s/u` and `relaxed_trunc_f64x2_s/u_zero` =
//!   the saturating `trunc_sat` ones (NaN gives 0, out of range saturates);
//! - `f32x4/f64x2.relaxed_madd` = fused `a * b + c` (one rounding:
//!   `mul_add`); `relaxed_nmadd` = fused `-(a * b) + c`;
//! - `i8x16/i16x8/i32x4/i64x2.relaxed_laneselect` = `v128.bitselect`
//!   (bit by bit, whatever the mask lanes hold);
//! - `f32x4/f64x2.relaxed_min/max` = `f32x4/f64x2.min/max` (NaN
//!   propagating, -0 < +0);
//! - `i16x8.relaxed_q15mulr_s` = `i16x8.q15mulr_sat_s`;
//! - `i16x8.relaxed_dot_i8x16_i7x16_s`: both operands' bytes signed; lane
//!   `i` = `a[2i]*b[2i] + a[2i+1]*b[2i+1]`, wrapping in i16 (no saturation);
//! - `i32x4.relaxed_dot_i8x16_i7x16_add_s`: the same signed byte products,
//!   lane `i` = the sum of products `4i..4i+4` plus `c[i]`, wrapping in i32.

#![allow(non_snake_case)]

use wamr_runtime::TrapKind;
use wamr_runtime::numeric::{f32_max, f32_min, f32_quiet, f64_max, f64_min, f64_quiet};

use super::Machine;
use super::handlers::{OutOfBounds, step};
use super::lanes::{Lanes, bitmask, cmp, lanes, zip};
use super::op::{Exit, Handler, Op};
use super::regs::{Mem, Regs};
use super::vector;
use crate::code::Instr;
use crate::code::simd::{SimdMemArg, SimdMemOp, SimdOp};

/// Lowers a SIMD instruction (`None` for the others). Operands keep the
/// instruction's order: `a` the destination, then `b`, `c`, `d`.
pub fn lower(instr: &Instr) -> Option<Op> {
    let op = |handler: Handler, a, b, c, d| Op {
        handler,
        a,
        b,
        c,
        d,
    };
    Some(match *instr {
        Instr::Copy128 { dst, src } => op(Copy128, dst, src, 0, 0),
        Instr::V128Const { dst, index } => op(V128Const, dst, index, 0, 0),
        Instr::Select128 { dst, cond, a, b } => op(Select128, dst, cond, a, b),
        Instr::GlobalGet128 { dst, global } => op(GlobalGet128, dst, global, 0, 0),
        Instr::GlobalSet128 { src, global } => op(GlobalSet128, src, global, 0, 0),
        Instr::V128Load { dst, addr, offset } => op(V128Load, dst, addr, offset, 0),
        Instr::V128Store {
            addr,
            value,
            offset,
        } => op(V128Store, addr, value, offset, 0),
        Instr::V128LoadExt {
            dst,
            addr,
            offset,
            op: kind,
        } => op(load_ext_handler(kind), dst, addr, offset, 0),
        Instr::SimdLoad {
            dst,
            addr,
            vec,
            ext,
        } => op(SimdLoad, dst, addr, vec, ext),
        Instr::SimdStore { addr, value, ext } => op(SimdStore, addr, value, ext, 0),
        Instr::Simd {
            op: simd,
            dst,
            a,
            b,
            c,
        } => op(lower_simd(simd), dst, a, b, c),
        _ => return None,
    })
}

handlers! {
    fn Copy128 |op, r, ip, fp, mb, ml, acc, m| {
        let v: [u8; 16] = r.lanes(op.b);
        r.set_lanes(op.a, v);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn V128Const |op, r, ip, fp, mb, ml, acc, m| {
        r.set_lanes(op.a, m.v128_immediate(op.b).to_le_bytes());
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn Select128 |op, r, ip, fp, mb, ml, acc, m| {
        let v: [u8; 16] = r.lanes(if r.u32(op.b) != 0 { op.c } else { op.d });
        r.set_lanes(op.a, v);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn GlobalGet128 |op, r, ip, fp, mb, ml, acc, m| {
        r.set_lanes(op.a, m.global128(op.b).to_le_bytes());
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn GlobalSet128 |op, r, ip, fp, mb, ml, acc, m| {
        m.set_global128(op.b, u128::from_le_bytes(r.lanes(op.a)));
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn V128Load |op, r, ip, fp, mb, ml, acc, m| {
        // `ptr`'s check is exact for memory32 and memory64 alike.
        let Some(p) = (Mem { base: mb, len: ml }).ptr(r.get(op.b), op.c, 16) else {
            // SAFETY: the arguments are this handler's own.
            return unsafe { OutOfBounds(ip, fp, mb, ml, acc, m) };
        };
        // SAFETY: the range was checked; wasm accesses may be unaligned.
        let bytes = unsafe { std::ptr::read_unaligned(p as *const [u8; 16]) };
        r.set_lanes(op.a, bytes);
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn V128Store |op, r, ip, fp, mb, ml, acc, m| {
        let Some(p) = (Mem { base: mb, len: ml }).ptr(r.get(op.a), op.c, 16) else {
            // SAFETY: the arguments are this handler's own.
            return unsafe { OutOfBounds(ip, fp, mb, ml, acc, m) };
        };
        let bytes: [u8; 16] = r.lanes(op.b);
        // SAFETY: as in `V128Load`.
        unsafe { std::ptr::write_unaligned(p as *mut [u8; 16], bytes) };
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn SimdLoad |op, r, ip, fp, mb, ml, acc, m| {
        let arg = m.simd_mem_arg(op.d);
        let mem = if arg.memory == 0 { Mem { base: mb, len: ml } } else { m.memory_view(arg.memory) };
        match load(mem, arg, r.get(op.b), r.lanes(op.c)) {
            Ok(v) => r.set_lanes(op.a, v),
            Err(kind) => return m.trap(kind),
        }
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn SimdStore |op, r, ip, fp, mb, ml, acc, m| {
        let arg = m.simd_mem_arg(op.c);
        let mem = if arg.memory == 0 { Mem { base: mb, len: ml } } else { m.memory_view(arg.memory) };
        if let Err(kind) = store(mem, arg, r.get(op.a), r.lanes(op.b)) {
            return m.trap(kind);
        }
        next!(step(ip), fp, mb, ml, acc, m)
    }
    fn I8x16Shuffle |op, r, ip, fp, mb, ml, acc, m| {
        let lanes = m.v128_immediate(op.d).to_le_bytes();
        r.set_lanes(op.a, shuffle(r.lanes(op.b), r.lanes(op.c), lanes));
        next!(step(ip), fp, mb, ml, acc, m)
    }
}

/// `pshufb` versions of the byte permutations, chosen at lowering when the
/// host has SSSE3 (see [`lower_simd`]).
#[cfg(target_arch = "x86_64")]
mod ssse3 {
    use std::arch::x86_64::*;

    use super::super::Machine;
    use super::super::handlers::step;
    use super::super::op::{Exit, Op};
    use super::super::regs::Regs;

    /// Bytes of `a` picked by `idx`; an index of 16 or more gives 0.
    /// `pshufb` zeroes lanes whose index has bit 7 set and otherwise uses
    /// bits 0-3, so indices above 15 are pushed to 0x80 or more.
    #[target_feature(enable = "ssse3")]
    pub(super) fn swizzle(a: __m128i, idx: __m128i) -> __m128i {
        _mm_shuffle_epi8(a, _mm_adds_epu8(idx, _mm_set1_epi8(0x70)))
    }

    /// `i8x16.shuffle`: indices 0-15 pick from `x`, 16-31 from `y`; each
    /// `pshufb` zeroes the lanes that belong to the other operand.
    #[target_feature(enable = "ssse3")]
    pub(super) fn shuffle(x: __m128i, y: __m128i, lanes: __m128i) -> __m128i {
        let from_x = swizzle(x, lanes);
        let from_y = swizzle(y, _mm_sub_epi8(lanes, _mm_set1_epi8(16)));
        _mm_or_si128(from_x, from_y)
    }

    /// Loads slots `s` and `s + 1` as a vector (see `Regs::lanes`).
    #[inline(always)]
    fn get(r: Regs, s: u32) -> __m128i {
        // SAFETY: as in `Regs::lanes`; x86_64 is little-endian.
        unsafe { _mm_loadu_si128(r.0.add(s as usize).cast()) }
    }

    #[inline(always)]
    fn set(r: Regs, s: u32, v: __m128i) {
        // SAFETY: as in `Regs::set_lanes`.
        unsafe { _mm_storeu_si128(r.0.add(s as usize).cast(), v) }
    }

    handlers! {
        #[target_feature(enable = "ssse3")]
        fn I8x16Swizzle |op, r, ip, fp, mb, ml, acc, m| {
            set(r, op.a, swizzle(get(r, op.b), get(r, op.c)));
            next!(step(ip), fp, mb, ml, acc, m)
        }
        #[target_feature(enable = "ssse3")]
        fn I8x16Shuffle |op, r, ip, fp, mb, ml, acc, m| {
            let lanes = m.v128_immediate(op.d).to_le_bytes();
            // SAFETY: 16 bytes, read unaligned.
            let lanes = unsafe { _mm_loadu_si128(lanes.as_ptr().cast()) };
            set(r, op.a, shuffle(get(r, op.b), get(r, op.c), lanes));
            next!(step(ip), fp, mb, ml, acc, m)
        }
    }
}

impl Machine<'_> {
    /// Entry `index` of the running function's `v128` side table.
    #[inline(always)]
    fn v128_immediate(&self, index: u32) -> u128 {
        // SAFETY: the running function is live; the translator made the index.
        unsafe { (&(*self.func).v128s)[index as usize] }
    }

    #[inline(always)]
    fn simd_mem_arg(&self, index: u32) -> SimdMemArg {
        // SAFETY: as in `v128_immediate`.
        unsafe { (&(*self.func).simd_mem_args)[index as usize] }
    }
}

/// The handler of `simd`: the portable one, or one using the host's
/// SSSE3 where it has it (detected once; the result is the same).
fn lower_simd(simd: SimdOp) -> Handler {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        match simd {
            SimdOp::I8x16Swizzle | SimdOp::I8x16RelaxedSwizzle => return ssse3::I8x16Swizzle,
            SimdOp::I8x16Shuffle => return ssse3::I8x16Shuffle,
            _ => {}
        }
    }
    handler(simd)
}

/// A SIMD load described by `arg` at `addr`; `vec` is the vector a lane
/// load updates.
fn load(mem: Mem, arg: SimdMemArg, addr: u64, vec: [u8; 16]) -> Result<[u8; 16], TrapKind> {
    use SimdMemOp as M;
    let off = arg.offset;
    let lane = arg.lane as usize;
    Ok(match arg.op {
        M::Load => mem.load(addr, off)?,
        M::Load8Lane => {
            let mut v = <[u8; 16]>::from_bytes(vec);
            v[lane] = u8::from_le_bytes(mem.load(addr, off)?);
            v.to_bytes()
        }
        M::Load16Lane => {
            let mut v = <[u16; 8]>::from_bytes(vec);
            v[lane] = u16::from_le_bytes(mem.load(addr, off)?);
            v.to_bytes()
        }
        M::Load32Lane => {
            let mut v = <[u32; 4]>::from_bytes(vec);
            v[lane] = u32::from_le_bytes(mem.load(addr, off)?);
            v.to_bytes()
        }
        M::Load64Lane => {
            let mut v = <[u64; 2]>::from_bytes(vec);
            v[lane] = u64::from_le_bytes(mem.load(addr, off)?);
            v.to_bytes()
        }
        M::Store | M::Store8Lane | M::Store16Lane | M::Store32Lane | M::Store64Lane => {
            unreachable!("not a load: {arg:?}")
        }
        op => {
            let raw = match ext_size(op) {
                1 => u64::from(u8::from_le_bytes(mem.load(addr, off)?)),
                2 => u64::from(u16::from_le_bytes(mem.load(addr, off)?)),
                4 => u64::from(u32::from_le_bytes(mem.load(addr, off)?)),
                _ => u64::from_le_bytes(mem.load(addr, off)?),
            };
            expand(op, raw)
        }
    })
}

/// How many bytes a widening load (extend, splat, zero) reads.
#[inline(always)]
const fn ext_size(op: SimdMemOp) -> u32 {
    use SimdMemOp as M;
    match op {
        M::Load8Splat => 1,
        M::Load16Splat => 2,
        M::Load32Splat | M::Load32Zero => 4,
        _ => 8,
    }
}

/// The vector a widening load makes of the bytes it read (`raw`, little
/// endian, zero-extended).
#[inline(always)]
fn expand(op: SimdMemOp, raw: u64) -> [u8; 16] {
    use SimdMemOp as M;
    match op {
        M::Load8x8S => lanes!(i16, 8, |i| (raw >> (8 * i)) as i8 as i16).to_bytes(),
        M::Load8x8U => lanes!(u16, 8, |i| (raw >> (8 * i)) as u8 as u16).to_bytes(),
        M::Load16x4S => lanes!(i32, 4, |i| (raw >> (16 * i)) as i16 as i32).to_bytes(),
        M::Load16x4U => lanes!(u32, 4, |i| (raw >> (16 * i)) as u16 as u32).to_bytes(),
        M::Load32x2S => lanes!(i64, 2, |i| (raw >> (32 * i)) as i32 as i64).to_bytes(),
        M::Load32x2U => lanes!(u64, 2, |i| (raw >> (32 * i)) as u32 as u64).to_bytes(),
        M::Load8Splat => [raw as u8; 16].to_bytes(),
        M::Load16Splat => [raw as u16; 8].to_bytes(),
        M::Load32Splat => [raw as u32; 4].to_bytes(),
        M::Load64Splat => [raw; 2].to_bytes(),
        M::Load32Zero => [raw as u32, 0, 0, 0].to_bytes(),
        M::Load64Zero => [raw, 0].to_bytes(),
        _ => unreachable!("not a widening load: {op:?}"),
    }
}

/// `V128LoadExt` handlers, one per kind, so that `expand` is resolved at
/// lowering rather than per execution.
macro_rules! load_ext_handlers {
    ($($name:ident: $kind:ident;)*) => {
        handlers! {
            $( fn $name |op, r, ip, fp, mb, ml, acc, m| {
                const SIZE: u32 = ext_size(SimdMemOp::$kind);
                let Some(p) = (Mem { base: mb, len: ml }).ptr(r.get(op.b), op.c, SIZE) else {
                    // SAFETY: the arguments are this handler's own.
                    return unsafe { OutOfBounds(ip, fp, mb, ml, acc, m) };
                };
                let mut raw = [0u8; 8];
                // SAFETY: `ptr` checked `SIZE` bytes at `p`; `raw` has room.
                unsafe { std::ptr::copy_nonoverlapping(p, raw.as_mut_ptr(), SIZE as usize) };
                r.set_lanes(op.a, expand(SimdMemOp::$kind, u64::from_le_bytes(raw)));
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
        }

        fn load_ext_handler(kind: SimdMemOp) -> Handler {
            match kind {
                $( SimdMemOp::$kind => $name, )*
                other => unreachable!("not a widening load: {other:?}"),
            }
        }
    };
}

load_ext_handlers! {
    V128Load8x8S: Load8x8S;
    V128Load8x8U: Load8x8U;
    V128Load16x4S: Load16x4S;
    V128Load16x4U: Load16x4U;
    V128Load32x2S: Load32x2S;
    V128Load32x2U: Load32x2U;
    V128Load8Splat: Load8Splat;
    V128Load16Splat: Load16Splat;
    V128Load32Splat: Load32Splat;
    V128Load64Splat: Load64Splat;
    V128Load32Zero: Load32Zero;
    V128Load64Zero: Load64Zero;
}

/// A SIMD store described by `arg` of `value` at `addr`.
fn store(mem: Mem, arg: SimdMemArg, addr: u64, value: [u8; 16]) -> Result<(), TrapKind> {
    use SimdMemOp as M;
    let off = arg.offset;
    let lane = arg.lane as usize;
    match arg.op {
        M::Store => mem.store(addr, off, value),
        M::Store8Lane => mem.store(addr, off, [value[lane]]),
        M::Store16Lane => mem.store(addr, off, <[u16; 8]>::from_bytes(value)[lane].to_le_bytes()),
        M::Store32Lane => mem.store(addr, off, <[u32; 4]>::from_bytes(value)[lane].to_le_bytes()),
        M::Store64Lane => mem.store(addr, off, <[u64; 2]>::from_bytes(value)[lane].to_le_bytes()),
        _ => unreachable!("not a store: {arg:?}"),
    }
}

/// Handlers for the [`SimdOp`]s by shape: each reads its operands (`v128`
/// lanes of the given type, or scalar slot bits), then writes its result
/// (so the result may overwrite an operand's slots).
macro_rules! simd_ops {
    (
        unary { $($un:ident: $ut:ty, |$ux:ident| $ue:expr;)* }
        binary { $($bn:ident: $bt:ty, |$bx:ident, $by:ident| $be:expr;)* }
        ternary { $($tn:ident: ($t1:ty, $t2:ty, $t3:ty), |$tx:ident, $ty:ident, $tz:ident| $te:expr;)* }
        shift { $($sn:ident: $st:ty, |$sx:ident, $sy:ident| $se:expr;)* }
        splat { $($pn:ident: |$px:ident| $pe:expr;)* }
        test { $($qn:ident: $qt:ty, |$qx:ident| $qe:expr;)* }
        extract { $($en:ident: $et:ty, |$ex:ident, $el:ident| $ee:expr;)* }
        replace { $($rn:ident: $rt:ty, |$rx:ident, $rs:ident, $rl:ident| $re:expr;)* }
    ) => {
        handlers! {
            $( fn $un |op, r, ip, fp, mb, ml, acc, m| {
                let $ux: $ut = r.lanes(op.b);
                r.set_lanes(op.a, $ue);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $bn |op, r, ip, fp, mb, ml, acc, m| {
                let $bx: $bt = r.lanes(op.b);
                let $by: $bt = r.lanes(op.c);
                r.set_lanes(op.a, $be);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $tn |op, r, ip, fp, mb, ml, acc, m| {
                let $tx: $t1 = r.lanes(op.b);
                let $ty: $t2 = r.lanes(op.c);
                let $tz: $t3 = r.lanes(op.d);
                r.set_lanes(op.a, $te);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $sn |op, r, ip, fp, mb, ml, acc, m| {
                let $sx: $st = r.lanes(op.b);
                let $sy = r.u32(op.c);
                r.set_lanes(op.a, $se);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $pn |op, r, ip, fp, mb, ml, acc, m| {
                let $px = r.get(op.b);
                r.set_lanes(op.a, $pe);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $qn |op, r, ip, fp, mb, ml, acc, m| {
                let $qx: $qt = r.lanes(op.b);
                r.set(op.a, ($qe) as u64);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $en |op, r, ip, fp, mb, ml, acc, m| {
                let $ex: $et = r.lanes(op.b);
                let $el = op.c as usize;
                r.set(op.a, $ee);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
            $( fn $rn |op, r, ip, fp, mb, ml, acc, m| {
                let mut $rx: $rt = r.lanes(op.b);
                let $rs = r.get(op.c);
                let $rl = op.d as usize;
                $re;
                r.set_lanes(op.a, $rx);
                next!(step(ip), fp, mb, ml, acc, m)
            } )*
        }

        /// The handler of `op` (the match is exhaustive: every op has one).
        fn handler(op: SimdOp) -> Handler {
            match op {
                $( SimdOp::$un => $un, )*
                $( SimdOp::$bn => $bn, )*
                $( SimdOp::$tn => $tn, )*
                $( SimdOp::$sn => $sn, )*
                $( SimdOp::$pn => $pn, )*
                $( SimdOp::$qn => $qn, )*
                $( SimdOp::$en => $en, )*
                $( SimdOp::$rn => $rn, )*
                SimdOp::I8x16Shuffle => I8x16Shuffle,
            }
        }
    };
}

/// `i8x16.shuffle`: lanes of `x` and `y` (as one 32-lane vector) picked
/// by `lanes`; validation keeps every index below 32.
#[inline(always)]
fn shuffle(x: [u8; 16], y: [u8; 16], lanes: [u8; 16]) -> [u8; 16] {
    lanes!(u8, 16, |i| {
        let k = lanes[i] as usize;
        if k < 16 { x[k] } else { y[k - 16] }
    })
}

/// `i8x16.swizzle`: lanes of `a` picked by `b`, 0 for indices of 16 or more.
#[inline(always)]
fn swizzle(a: [u8; 16], b: [u8; 16]) -> [u8; 16] {
    lanes!(u8, 16, |i| a.get(b[i] as usize).copied().unwrap_or(0))
}

/// `q15mulr_sat_s`: a rounding Q15 product, saturated.
#[inline(always)]
fn q15mulr(a: i16, b: i16) -> i16 {
    ((a as i32 * b as i32 + 0x4000) >> 15).clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

#[inline(always)]
fn bitselect(a: u128, b: u128, mask: u128) -> u128 {
    (a & mask) | (b & !mask)
}

#[inline(always)]
fn pmin<T: PartialOrd>(a: T, b: T) -> T {
    if b < a { b } else { a }
}

#[inline(always)]
fn pmax<T: PartialOrd>(a: T, b: T) -> T {
    if a < b { b } else { a }
}

/// Lane `i` of the concatenation of `a` and `b`.
#[inline(always)]
fn both<T: Copy, const N: usize>(a: [T; N], b: [T; N], i: usize) -> T {
    if i < N { a[i] } else { b[i - N] }
}

simd_ops! {
    unary {
        V128Not: u128, |x| !x;
        I8x16Abs: [i8; 16], |x| x.map(i8::wrapping_abs);
        I8x16Neg: [i8; 16], |x| x.map(i8::wrapping_neg);
        I8x16Popcnt: [u8; 16], |x| x.map(|v| v.count_ones() as u8);
        I16x8ExtAddPairwiseI8x16S: [i8; 16], |x| lanes!(i16, 8, |i| x[2 * i] as i16 + x[2 * i + 1] as i16);
        I16x8ExtAddPairwiseI8x16U: [u8; 16], |x| lanes!(u16, 8, |i| x[2 * i] as u16 + x[2 * i + 1] as u16);
        I16x8Abs: [i16; 8], |x| x.map(i16::wrapping_abs);
        I16x8Neg: [i16; 8], |x| x.map(i16::wrapping_neg);
        I16x8ExtendLowI8x16S: [i8; 16], |x| lanes!(i16, 8, |i| x[i] as i16);
        I16x8ExtendHighI8x16S: [i8; 16], |x| lanes!(i16, 8, |i| x[i + 8] as i16);
        I16x8ExtendLowI8x16U: [u8; 16], |x| lanes!(u16, 8, |i| x[i] as u16);
        I16x8ExtendHighI8x16U: [u8; 16], |x| lanes!(u16, 8, |i| x[i + 8] as u16);
        I32x4ExtAddPairwiseI16x8S: [i16; 8], |x| vector::extadd_pairwise_i16x8_s(x);
        I32x4ExtAddPairwiseI16x8U: [u16; 8], |x| lanes!(u32, 4, |i| x[2 * i] as u32 + x[2 * i + 1] as u32);
        I32x4Abs: [i32; 4], |x| x.map(i32::wrapping_abs);
        I32x4Neg: [i32; 4], |x| x.map(i32::wrapping_neg);
        I32x4ExtendLowI16x8S: [i16; 8], |x| lanes!(i32, 4, |i| x[i] as i32);
        I32x4ExtendHighI16x8S: [i16; 8], |x| lanes!(i32, 4, |i| x[i + 4] as i32);
        I32x4ExtendLowI16x8U: [u16; 8], |x| lanes!(u32, 4, |i| x[i] as u32);
        I32x4ExtendHighI16x8U: [u16; 8], |x| lanes!(u32, 4, |i| x[i + 4] as u32);
        I64x2Abs: [i64; 2], |x| x.map(i64::wrapping_abs);
        I64x2Neg: [i64; 2], |x| x.map(i64::wrapping_neg);
        I64x2ExtendLowI32x4S: [i32; 4], |x| lanes!(i64, 2, |i| x[i] as i64);
        I64x2ExtendHighI32x4S: [i32; 4], |x| lanes!(i64, 2, |i| x[i + 2] as i64);
        I64x2ExtendLowI32x4U: [u32; 4], |x| lanes!(u64, 2, |i| x[i] as u64);
        I64x2ExtendHighI32x4U: [u32; 4], |x| lanes!(u64, 2, |i| x[i + 2] as u64);
        F32x4Ceil: [f32; 4], |x| x.map(|v| f32_quiet(v.ceil()));
        F32x4Floor: [f32; 4], |x| x.map(|v| f32_quiet(v.floor()));
        F32x4Trunc: [f32; 4], |x| x.map(|v| f32_quiet(v.trunc()));
        F32x4Nearest: [f32; 4], |x| x.map(|v| f32_quiet(v.round_ties_even()));
        F32x4Abs: [u32; 4], |x| x.map(|v| v & 0x7fff_ffff);
        F32x4Neg: [u32; 4], |x| x.map(|v| v ^ 0x8000_0000);
        F32x4Sqrt: [f32; 4], |x| x.map(f32::sqrt);
        F64x2Ceil: [f64; 2], |x| x.map(|v| f64_quiet(v.ceil()));
        F64x2Floor: [f64; 2], |x| x.map(|v| f64_quiet(v.floor()));
        F64x2Trunc: [f64; 2], |x| x.map(|v| f64_quiet(v.trunc()));
        F64x2Nearest: [f64; 2], |x| x.map(|v| f64_quiet(v.round_ties_even()));
        F64x2Abs: [u64; 2], |x| x.map(|v| v & 0x7fff_ffff_ffff_ffff);
        F64x2Neg: [u64; 2], |x| x.map(|v| v ^ 0x8000_0000_0000_0000);
        F64x2Sqrt: [f64; 2], |x| x.map(f64::sqrt);
        // Rust's float-to-int `as` saturates and maps NaN to 0: `trunc_sat`.
        I32x4TruncSatF32x4S: [f32; 4], |x| x.map(|v| v as i32);
        I32x4TruncSatF32x4U: [f32; 4], |x| x.map(|v| v as u32);
        F32x4ConvertI32x4S: [i32; 4], |x| x.map(|v| v as f32);
        F32x4ConvertI32x4U: [u32; 4], |x| x.map(|v| v as f32);
        I32x4TruncSatF64x2SZero: [f64; 2], |x| lanes!(i32, 4, |i| if i < 2 { x[i] as i32 } else { 0 });
        I32x4TruncSatF64x2UZero: [f64; 2], |x| lanes!(u32, 4, |i| if i < 2 { x[i] as u32 } else { 0 });
        F64x2ConvertLowI32x4S: [i32; 4], |x| lanes!(f64, 2, |i| x[i] as f64);
        F64x2ConvertLowI32x4U: [u32; 4], |x| lanes!(f64, 2, |i| x[i] as f64);
        F32x4DemoteF64x2Zero: [f64; 2], |x| lanes!(f32, 4, |i| if i < 2 { x[i] as f32 } else { 0.0 });
        F64x2PromoteLowF32x4: [f32; 4], |x| lanes!(f64, 2, |i| x[i] as f64);
        I32x4RelaxedTruncF32x4S: [f32; 4], |x| x.map(|v| v as i32);
        I32x4RelaxedTruncF32x4U: [f32; 4], |x| x.map(|v| v as u32);
        I32x4RelaxedTruncF64x2SZero: [f64; 2], |x| lanes!(i32, 4, |i| if i < 2 { x[i] as i32 } else { 0 });
        I32x4RelaxedTruncF64x2UZero: [f64; 2], |x| lanes!(u32, 4, |i| if i < 2 { x[i] as u32 } else { 0 });
    }
    binary {
        I8x16Swizzle: [u8; 16], |x, y| swizzle(x, y);
        I8x16Eq: [i8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a == b);
        I8x16Ne: [i8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a != b);
        I8x16LtS: [i8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a < b);
        I8x16LtU: [u8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a < b);
        I8x16GtS: [i8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a > b);
        I8x16GtU: [u8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a > b);
        I8x16LeS: [i8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a <= b);
        I8x16LeU: [u8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a <= b);
        I8x16GeS: [i8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a >= b);
        I8x16GeU: [u8; 16], |x, y| cmp::<_, i8, 16>(x, y, |a, b| a >= b);
        I16x8Eq: [i16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a == b);
        I16x8Ne: [i16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a != b);
        I16x8LtS: [i16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a < b);
        I16x8LtU: [u16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a < b);
        I16x8GtS: [i16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a > b);
        I16x8GtU: [u16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a > b);
        I16x8LeS: [i16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a <= b);
        I16x8LeU: [u16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a <= b);
        I16x8GeS: [i16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a >= b);
        I16x8GeU: [u16; 8], |x, y| cmp::<_, i16, 8>(x, y, |a, b| a >= b);
        I32x4Eq: [i32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a == b);
        I32x4Ne: [i32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a != b);
        I32x4LtS: [i32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a < b);
        I32x4LtU: [u32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a < b);
        I32x4GtS: [i32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a > b);
        I32x4GtU: [u32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a > b);
        I32x4LeS: [i32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a <= b);
        I32x4LeU: [u32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a <= b);
        I32x4GeS: [i32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a >= b);
        I32x4GeU: [u32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a >= b);
        I64x2Eq: [i64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a == b);
        I64x2Ne: [i64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a != b);
        I64x2LtS: [i64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a < b);
        I64x2GtS: [i64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a > b);
        I64x2LeS: [i64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a <= b);
        I64x2GeS: [i64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a >= b);
        F32x4Eq: [f32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a == b);
        F32x4Ne: [f32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a != b);
        F32x4Lt: [f32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a < b);
        F32x4Gt: [f32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a > b);
        F32x4Le: [f32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a <= b);
        F32x4Ge: [f32; 4], |x, y| cmp::<_, i32, 4>(x, y, |a, b| a >= b);
        F64x2Eq: [f64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a == b);
        F64x2Ne: [f64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a != b);
        F64x2Lt: [f64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a < b);
        F64x2Gt: [f64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a > b);
        F64x2Le: [f64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a <= b);
        F64x2Ge: [f64; 2], |x, y| cmp::<_, i64, 2>(x, y, |a, b| a >= b);
        V128And: u128, |x, y| x & y;
        V128AndNot: u128, |x, y| x & !y;
        V128Or: u128, |x, y| x | y;
        V128Xor: u128, |x, y| x ^ y;
        I8x16NarrowI16x8S: [i16; 8], |x, y| vector::narrow_i16x8_s(x, y);
        I8x16NarrowI16x8U: [i16; 8], |x, y| vector::narrow_i16x8_u(x, y);
        I8x16Add: [i8; 16], |x, y| zip(x, y, i8::wrapping_add);
        I8x16AddSatS: [i8; 16], |x, y| zip(x, y, i8::saturating_add);
        I8x16AddSatU: [u8; 16], |x, y| zip(x, y, u8::saturating_add);
        I8x16Sub: [i8; 16], |x, y| zip(x, y, i8::wrapping_sub);
        I8x16SubSatS: [i8; 16], |x, y| zip(x, y, i8::saturating_sub);
        I8x16SubSatU: [u8; 16], |x, y| zip(x, y, u8::saturating_sub);
        I8x16MinS: [i8; 16], |x, y| zip(x, y, Ord::min);
        I8x16MinU: [u8; 16], |x, y| zip(x, y, Ord::min);
        I8x16MaxS: [i8; 16], |x, y| zip(x, y, Ord::max);
        I8x16MaxU: [u8; 16], |x, y| zip(x, y, Ord::max);
        I8x16AvgrU: [u8; 16], |x, y| zip(x, y, |a, b| ((a as u16 + b as u16 + 1) >> 1) as u8);
        I16x8Q15MulrSatS: [i16; 8], |x, y| zip(x, y, q15mulr);
        I16x8NarrowI32x4S: [i32; 4], |x, y| vector::narrow_i32x4_s(x, y);
        I16x8NarrowI32x4U: [i32; 4], |x, y| lanes!(u16, 8, |i| both(x, y, i).clamp(0, 65535) as u16);
        I16x8Add: [i16; 8], |x, y| zip(x, y, i16::wrapping_add);
        I16x8AddSatS: [i16; 8], |x, y| zip(x, y, i16::saturating_add);
        I16x8AddSatU: [u16; 8], |x, y| zip(x, y, u16::saturating_add);
        I16x8Sub: [i16; 8], |x, y| zip(x, y, i16::wrapping_sub);
        I16x8SubSatS: [i16; 8], |x, y| zip(x, y, i16::saturating_sub);
        I16x8SubSatU: [u16; 8], |x, y| zip(x, y, u16::saturating_sub);
        I16x8Mul: [i16; 8], |x, y| zip(x, y, i16::wrapping_mul);
        I16x8MinS: [i16; 8], |x, y| zip(x, y, Ord::min);
        I16x8MinU: [u16; 8], |x, y| zip(x, y, Ord::min);
        I16x8MaxS: [i16; 8], |x, y| zip(x, y, Ord::max);
        I16x8MaxU: [u16; 8], |x, y| zip(x, y, Ord::max);
        I16x8AvgrU: [u16; 8], |x, y| zip(x, y, |a, b| ((a as u32 + b as u32 + 1) >> 1) as u16);
        I16x8ExtMulLowI8x16S: [i8; 16], |x, y| lanes!(i16, 8, |i| x[i] as i16 * y[i] as i16);
        I16x8ExtMulHighI8x16S: [i8; 16], |x, y| lanes!(i16, 8, |i| x[i + 8] as i16 * y[i + 8] as i16);
        I16x8ExtMulLowI8x16U: [u8; 16], |x, y| lanes!(u16, 8, |i| x[i] as u16 * y[i] as u16);
        I16x8ExtMulHighI8x16U: [u8; 16], |x, y| lanes!(u16, 8, |i| x[i + 8] as u16 * y[i + 8] as u16);
        I32x4Add: [i32; 4], |x, y| zip(x, y, i32::wrapping_add);
        I32x4Sub: [i32; 4], |x, y| zip(x, y, i32::wrapping_sub);
        I32x4Mul: [i32; 4], |x, y| zip(x, y, i32::wrapping_mul);
        I32x4MinS: [i32; 4], |x, y| zip(x, y, Ord::min);
        I32x4MinU: [u32; 4], |x, y| zip(x, y, Ord::min);
        I32x4MaxS: [i32; 4], |x, y| zip(x, y, Ord::max);
        I32x4MaxU: [u32; 4], |x, y| zip(x, y, Ord::max);
        I32x4DotI16x8S: [i16; 8], |x, y| vector::dot_i16x8_s(x, y);
        I32x4ExtMulLowI16x8S: [i16; 8], |x, y| lanes!(i32, 4, |i| x[i] as i32 * y[i] as i32);
        I32x4ExtMulHighI16x8S: [i16; 8], |x, y| lanes!(i32, 4, |i| x[i + 4] as i32 * y[i + 4] as i32);
        I32x4ExtMulLowI16x8U: [u16; 8], |x, y| lanes!(u32, 4, |i| x[i] as u32 * y[i] as u32);
        I32x4ExtMulHighI16x8U: [u16; 8], |x, y| lanes!(u32, 4, |i| x[i + 4] as u32 * y[i + 4] as u32);
        I64x2Add: [i64; 2], |x, y| zip(x, y, i64::wrapping_add);
        I64x2Sub: [i64; 2], |x, y| zip(x, y, i64::wrapping_sub);
        I64x2Mul: [i64; 2], |x, y| zip(x, y, i64::wrapping_mul);
        I64x2ExtMulLowI32x4S: [i32; 4], |x, y| lanes!(i64, 2, |i| x[i] as i64 * y[i] as i64);
        I64x2ExtMulHighI32x4S: [i32; 4], |x, y| lanes!(i64, 2, |i| x[i + 2] as i64 * y[i + 2] as i64);
        I64x2ExtMulLowI32x4U: [u32; 4], |x, y| lanes!(u64, 2, |i| x[i] as u64 * y[i] as u64);
        I64x2ExtMulHighI32x4U: [u32; 4], |x, y| lanes!(u64, 2, |i| x[i + 2] as u64 * y[i + 2] as u64);
        F32x4Add: [f32; 4], |x, y| zip(x, y, |a, b| a + b);
        F32x4Sub: [f32; 4], |x, y| zip(x, y, |a, b| a - b);
        F32x4Mul: [f32; 4], |x, y| zip(x, y, |a, b| a * b);
        F32x4Div: [f32; 4], |x, y| zip(x, y, |a, b| a / b);
        F32x4Min: [f32; 4], |x, y| zip(x, y, f32_min);
        F32x4Max: [f32; 4], |x, y| zip(x, y, f32_max);
        F32x4PMin: [f32; 4], |x, y| zip(x, y, pmin);
        F32x4PMax: [f32; 4], |x, y| zip(x, y, pmax);
        F64x2Add: [f64; 2], |x, y| zip(x, y, |a, b| a + b);
        F64x2Sub: [f64; 2], |x, y| zip(x, y, |a, b| a - b);
        F64x2Mul: [f64; 2], |x, y| zip(x, y, |a, b| a * b);
        F64x2Div: [f64; 2], |x, y| zip(x, y, |a, b| a / b);
        F64x2Min: [f64; 2], |x, y| zip(x, y, f64_min);
        F64x2Max: [f64; 2], |x, y| zip(x, y, f64_max);
        F64x2PMin: [f64; 2], |x, y| zip(x, y, pmin);
        F64x2PMax: [f64; 2], |x, y| zip(x, y, pmax);
        I8x16RelaxedSwizzle: [u8; 16], |x, y| swizzle(x, y);
        F32x4RelaxedMin: [f32; 4], |x, y| zip(x, y, f32_min);
        F32x4RelaxedMax: [f32; 4], |x, y| zip(x, y, f32_max);
        F64x2RelaxedMin: [f64; 2], |x, y| zip(x, y, f64_min);
        F64x2RelaxedMax: [f64; 2], |x, y| zip(x, y, f64_max);
        I16x8RelaxedQ15mulrS: [i16; 8], |x, y| zip(x, y, q15mulr);
        I16x8RelaxedDotI8x16I7x16S: [i8; 16], |x, y| lanes!(i16, 8, |i| {
            (x[2 * i] as i16 * y[2 * i] as i16).wrapping_add(x[2 * i + 1] as i16 * y[2 * i + 1] as i16)
        });
    }
    ternary {
        V128Bitselect: (u128, u128, u128), |x, y, z| bitselect(x, y, z);
        F32x4RelaxedMadd: ([f32; 4], [f32; 4], [f32; 4]), |x, y, z| lanes!(f32, 4, |i| x[i].mul_add(y[i], z[i]));
        F32x4RelaxedNmadd: ([f32; 4], [f32; 4], [f32; 4]), |x, y, z| lanes!(f32, 4, |i| (-x[i]).mul_add(y[i], z[i]));
        F64x2RelaxedMadd: ([f64; 2], [f64; 2], [f64; 2]), |x, y, z| lanes!(f64, 2, |i| x[i].mul_add(y[i], z[i]));
        F64x2RelaxedNmadd: ([f64; 2], [f64; 2], [f64; 2]), |x, y, z| lanes!(f64, 2, |i| (-x[i]).mul_add(y[i], z[i]));
        I8x16RelaxedLaneselect: (u128, u128, u128), |x, y, z| bitselect(x, y, z);
        I16x8RelaxedLaneselect: (u128, u128, u128), |x, y, z| bitselect(x, y, z);
        I32x4RelaxedLaneselect: (u128, u128, u128), |x, y, z| bitselect(x, y, z);
        I64x2RelaxedLaneselect: (u128, u128, u128), |x, y, z| bitselect(x, y, z);
        I32x4RelaxedDotI8x16I7x16AddS: ([i8; 16], [i8; 16], [i32; 4]), |x, y, z| lanes!(i32, 4, |i| {
            (4 * i..4 * i + 4).fold(z[i], |sum, k| sum.wrapping_add(x[k] as i32 * y[k] as i32))
        });
    }
    // Shift counts are taken modulo the lane width (`wrapping_shl/shr`).
    shift {
        I8x16Shl: [i8; 16], |x, s| x.map(|v| v.wrapping_shl(s));
        I8x16ShrS: [i8; 16], |x, s| x.map(|v| v.wrapping_shr(s));
        I8x16ShrU: [u8; 16], |x, s| x.map(|v| v.wrapping_shr(s));
        I16x8Shl: [i16; 8], |x, s| x.map(|v| v.wrapping_shl(s));
        I16x8ShrS: [i16; 8], |x, s| x.map(|v| v.wrapping_shr(s));
        I16x8ShrU: [u16; 8], |x, s| x.map(|v| v.wrapping_shr(s));
        I32x4Shl: [i32; 4], |x, s| x.map(|v| v.wrapping_shl(s));
        I32x4ShrS: [i32; 4], |x, s| x.map(|v| v.wrapping_shr(s));
        I32x4ShrU: [u32; 4], |x, s| x.map(|v| v.wrapping_shr(s));
        I64x2Shl: [i64; 2], |x, s| x.map(|v| v.wrapping_shl(s));
        I64x2ShrS: [i64; 2], |x, s| x.map(|v| v.wrapping_shr(s));
        I64x2ShrU: [u64; 2], |x, s| x.map(|v| v.wrapping_shr(s));
    }
    // The scalar's slot bits (floats as their bit patterns).
    splat {
        I8x16Splat: |s| [s as u8; 16];
        I16x8Splat: |s| [s as u16; 8];
        I32x4Splat: |s| [s as u32; 4];
        I64x2Splat: |s| [s; 2];
        F32x4Splat: |s| [s as u32; 4];
        F64x2Splat: |s| [s; 2];
    }
    test {
        V128AnyTrue: u128, |x| x != 0;
        I8x16AllTrue: [u8; 16], |x| vector::all_true_i8x16(x);
        I8x16Bitmask: [i8; 16], |x| vector::bitmask_i8x16(x);
        I16x8AllTrue: [u16; 8], |x| vector::all_true_i16x8(x);
        I16x8Bitmask: [i16; 8], |x| vector::bitmask_i16x8(x);
        I32x4AllTrue: [u32; 4], |x| vector::all_true_i32x4(x);
        I32x4Bitmask: [i32; 4], |x| vector::bitmask_i32x4(x);
        I64x2AllTrue: [u64; 2], |x| x.iter().all(|&v| v != 0);
        I64x2Bitmask: [i64; 2], |x| bitmask(x);
    }
    // Results as slot bits: an i32 zero-extended.
    extract {
        I8x16ExtractLaneS: [i8; 16], |x, l| x[l] as i32 as u32 as u64;
        I8x16ExtractLaneU: [u8; 16], |x, l| x[l] as u64;
        I16x8ExtractLaneS: [i16; 8], |x, l| x[l] as i32 as u32 as u64;
        I16x8ExtractLaneU: [u16; 8], |x, l| x[l] as u64;
        I32x4ExtractLane: [u32; 4], |x, l| x[l] as u64;
        I64x2ExtractLane: [u64; 2], |x, l| x[l];
        F32x4ExtractLane: [u32; 4], |x, l| x[l] as u64;
        F64x2ExtractLane: [u64; 2], |x, l| x[l];
    }
    replace {
        I8x16ReplaceLane: [u8; 16], |x, s, l| x[l] = s as u8;
        I16x8ReplaceLane: [u16; 8], |x, s, l| x[l] = s as u16;
        I32x4ReplaceLane: [u32; 4], |x, s, l| x[l] = s as u32;
        I64x2ReplaceLane: [u64; 2], |x, s, l| x[l] = s;
        F32x4ReplaceLane: [u32; 4], |x, s, l| x[l] = s as u32;
        F64x2ReplaceLane: [u64; 2], |x, s, l| x[l] = s;
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::arch::x86_64::*;

    fn m(v: [u8; 16]) -> __m128i {
        // SAFETY: 16 bytes, read unaligned.
        unsafe { _mm_loadu_si128(v.as_ptr().cast()) }
    }

    fn bytes(v: __m128i) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: 16 bytes, written unaligned.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), v) };
        out
    }

    /// The SSSE3 permutations give what the portable ones give, for every
    /// index class (in range, 16..=31, 32..=127, 128 and up).
    #[test]
    fn ssse3_permutations_match_the_portable_ones() {
        if !std::arch::is_x86_feature_detected!("ssse3") {
            return;
        }
        let x: [u8; 16] = std::array::from_fn(|i| 0x10 + i as u8);
        let y: [u8; 16] = std::array::from_fn(|i| 0xa0 + i as u8);
        let mut state = 7u32;
        for _ in 0..5000 {
            let idx: [u8; 16] = std::array::from_fn(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            });
            // SAFETY: SSSE3 was detected above.
            let got = bytes(unsafe { super::ssse3::swizzle(m(x), m(idx)) });
            assert_eq!(got, super::swizzle(x, idx), "swizzle by {idx:?}");
            let lanes = idx.map(|k| k % 32);
            // SAFETY: as above.
            let got = bytes(unsafe { super::ssse3::shuffle(m(x), m(y), m(lanes)) });
            assert_eq!(got, super::shuffle(x, y, lanes), "shuffle by {lanes:?}");
        }
    }
}
