//! Software helpers: the instructions a target may lack, as functions that
//! compiled code reaches through the builtins table (contract 6), never
//! through a named symbol.
//!
//! RISC-V without M has no multiply or divide, without F/D no floating
//! point, and riscv32 has no 64-bit divide or float <-> i64 conversion at
//! all; LLVM would call `__divdi3`, `__addsf3`, ... there. The compiler
//! knows which [`Helper`]s a target needs, calls them through
//! [`crate::vmctx::Builtins::helpers`] instead, and records their names in
//! the `.aot` file, so the loader can check this runtime provides each one.
//!
//! The ABI is the C convention of the target with integers only: `i32` and
//! `f32` travel as 32-bit bit patterns, `i64` and `f64` as 64-bit ones, so a
//! soft-float and a hard-float build of the same C or Rust code agree.
//! Helpers compute plain machine arithmetic; wasm's checks (division by
//! zero, `MIN / -1`, NaN and out-of-range conversions) are done by the
//! compiled code before it calls one. They never panic on any input.

use crate::numeric as wasm;

/// The width of a helper parameter or result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    W32,
    W64,
}

macro_rules! width {
    (u32) => {
        Width::W32
    };
    (u64) => {
        Width::W64
    };
}

macro_rules! helpers {
    ($( $variant:ident $name:ident ( $($p:ident : $pt:ident),* ) -> $rt:ident $body:block )*) => {
        /// A runtime helper; its discriminant is its slot in
        /// [`crate::vmctx::Builtins::helpers`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum Helper { $($variant),* }

        impl Helper {
            /// Every helper, in slot order.
            pub const ALL: &'static [Helper] = &[$(Helper::$variant),*];

            /// The name the `.aot` file and the C header use.
            pub fn name(self) -> &'static str {
                match self { $(Helper::$variant => stringify!($name)),* }
            }

            pub fn params(self) -> &'static [Width] {
                match self { $(Helper::$variant => &[$(width!($pt)),*]),* }
            }

            pub fn result(self) -> Width {
                match self { $(Helper::$variant => width!($rt)),* }
            }
        }

        /// The Rust implementations, in slot order.
        pub mod imp {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[allow(clippy::cast_possible_wrap)]
                pub extern "C" fn $name($($p: $pt),*) -> $rt $body
            )*
        }

        /// The table every VM context's builtins carry.
        pub const HELPER_TABLE: HelperTable = HelperTable([$(imp::$name as *const ()),*]);
    };
}

/// Helper entry points in slot order, type-erased (each has the signature
/// [`Helper::params`] and [`Helper::result`] describe).
#[repr(C)]
#[derive(Debug)]
pub struct HelperTable(pub [*const (); Helper::COUNT]);

// SAFETY: the table holds addresses of functions, which never change and
// are callable from any thread.
unsafe impl Sync for HelperTable {}

impl Helper {
    pub const COUNT: usize = Helper::ALL.len();

    /// The helper called `name`, if this runtime has it.
    pub fn from_name(name: &str) -> Option<Helper> {
        Helper::ALL.iter().copied().find(|h| h.name() == name)
    }
}

fn f32b(bits: u32) -> f32 {
    f32::from_bits(bits)
}
fn f64b(bits: u64) -> f64 {
    f64::from_bits(bits)
}

helpers! {
    I32Mul i32_mul(a: u32, b: u32) -> u32 { a.wrapping_mul(b) }
    I32DivS i32_div_s(a: u32, b: u32) -> u32 {
        if b == 0 { 0 } else { (a as i32).wrapping_div(b as i32) as u32 }
    }
    I32DivU i32_div_u(a: u32, b: u32) -> u32 { a.checked_div(b).unwrap_or(0) }
    I32RemS i32_rem_s(a: u32, b: u32) -> u32 {
        if b == 0 { 0 } else { (a as i32).wrapping_rem(b as i32) as u32 }
    }
    I32RemU i32_rem_u(a: u32, b: u32) -> u32 { a.checked_rem(b).unwrap_or(0) }
    I64Mul i64_mul(a: u64, b: u64) -> u64 { a.wrapping_mul(b) }
    I64DivS i64_div_s(a: u64, b: u64) -> u64 {
        if b == 0 { 0 } else { (a as i64).wrapping_div(b as i64) as u64 }
    }
    I64DivU i64_div_u(a: u64, b: u64) -> u64 { a.checked_div(b).unwrap_or(0) }
    I64RemS i64_rem_s(a: u64, b: u64) -> u64 {
        if b == 0 { 0 } else { (a as i64).wrapping_rem(b as i64) as u64 }
    }
    I64RemU i64_rem_u(a: u64, b: u64) -> u64 { a.checked_rem(b).unwrap_or(0) }
    I32Clz i32_clz(a: u32) -> u32 { a.leading_zeros() }
    I32Ctz i32_ctz(a: u32) -> u32 { a.trailing_zeros() }
    I32Popcnt i32_popcnt(a: u32) -> u32 { a.count_ones() }
    I64Clz i64_clz(a: u64) -> u64 { a.leading_zeros().into() }
    I64Ctz i64_ctz(a: u64) -> u64 { a.trailing_zeros().into() }
    I64Popcnt i64_popcnt(a: u64) -> u64 { a.count_ones().into() }

    F32Add f32_add(a: u32, b: u32) -> u32 { (f32b(a) + f32b(b)).to_bits() }
    F32Sub f32_sub(a: u32, b: u32) -> u32 { (f32b(a) - f32b(b)).to_bits() }
    F32Mul f32_mul(a: u32, b: u32) -> u32 { (f32b(a) * f32b(b)).to_bits() }
    F32Div f32_div(a: u32, b: u32) -> u32 { (f32b(a) / f32b(b)).to_bits() }
    F32Sqrt f32_sqrt(a: u32) -> u32 { f32b(a).sqrt().to_bits() }
    F32Min f32_min(a: u32, b: u32) -> u32 { wasm::f32_min(f32b(a), f32b(b)).to_bits() }
    F32Max f32_max(a: u32, b: u32) -> u32 { wasm::f32_max(f32b(a), f32b(b)).to_bits() }
    F32Ceil f32_ceil(a: u32) -> u32 { wasm::f32_quiet(f32b(a).ceil()).to_bits() }
    F32Floor f32_floor(a: u32) -> u32 { wasm::f32_quiet(f32b(a).floor()).to_bits() }
    F32Trunc f32_trunc(a: u32) -> u32 { wasm::f32_quiet(f32b(a).trunc()).to_bits() }
    F32Nearest f32_nearest(a: u32) -> u32 { wasm::f32_quiet(f32b(a).round_ties_even()).to_bits() }
    F32Eq f32_eq(a: u32, b: u32) -> u32 { u32::from(f32b(a) == f32b(b)) }
    F32Lt f32_lt(a: u32, b: u32) -> u32 { u32::from(f32b(a) < f32b(b)) }
    F32Le f32_le(a: u32, b: u32) -> u32 { u32::from(f32b(a) <= f32b(b)) }
    F32Unord f32_unord(a: u32, b: u32) -> u32 { u32::from(f32b(a).is_nan() || f32b(b).is_nan()) }

    F64Add f64_add(a: u64, b: u64) -> u64 { (f64b(a) + f64b(b)).to_bits() }
    F64Sub f64_sub(a: u64, b: u64) -> u64 { (f64b(a) - f64b(b)).to_bits() }
    F64Mul f64_mul(a: u64, b: u64) -> u64 { (f64b(a) * f64b(b)).to_bits() }
    F64Div f64_div(a: u64, b: u64) -> u64 { (f64b(a) / f64b(b)).to_bits() }
    F64Sqrt f64_sqrt(a: u64) -> u64 { f64b(a).sqrt().to_bits() }
    F64Min f64_min(a: u64, b: u64) -> u64 { wasm::f64_min(f64b(a), f64b(b)).to_bits() }
    F64Max f64_max(a: u64, b: u64) -> u64 { wasm::f64_max(f64b(a), f64b(b)).to_bits() }
    F64Ceil f64_ceil(a: u64) -> u64 { wasm::f64_quiet(f64b(a).ceil()).to_bits() }
    F64Floor f64_floor(a: u64) -> u64 { wasm::f64_quiet(f64b(a).floor()).to_bits() }
    F64Trunc f64_trunc(a: u64) -> u64 { wasm::f64_quiet(f64b(a).trunc()).to_bits() }
    F64Nearest f64_nearest(a: u64) -> u64 { wasm::f64_quiet(f64b(a).round_ties_even()).to_bits() }
    F64Eq f64_eq(a: u64, b: u64) -> u32 { u32::from(f64b(a) == f64b(b)) }
    F64Lt f64_lt(a: u64, b: u64) -> u32 { u32::from(f64b(a) < f64b(b)) }
    F64Le f64_le(a: u64, b: u64) -> u32 { u32::from(f64b(a) <= f64b(b)) }
    F64Unord f64_unord(a: u64, b: u64) -> u32 { u32::from(f64b(a).is_nan() || f64b(b).is_nan()) }

    F64PromoteF32 f64_promote_f32(a: u32) -> u64 { f64::from(f32b(a)).to_bits() }
    F32DemoteF64 f32_demote_f64(a: u64) -> u32 { (f64b(a) as f32).to_bits() }
    // Saturating, NaN to 0 (Rust's `as`): wasm's `trunc_sat`, and exact for
    // the in-range values a checked `trunc` passes on.
    I32TruncSatF32S i32_trunc_sat_f32_s(a: u32) -> u32 { f32b(a) as i32 as u32 }
    I32TruncSatF32U i32_trunc_sat_f32_u(a: u32) -> u32 { f32b(a) as u32 }
    I32TruncSatF64S i32_trunc_sat_f64_s(a: u64) -> u32 { f64b(a) as i32 as u32 }
    I32TruncSatF64U i32_trunc_sat_f64_u(a: u64) -> u32 { f64b(a) as u32 }
    I64TruncSatF32S i64_trunc_sat_f32_s(a: u32) -> u64 { f32b(a) as i64 as u64 }
    I64TruncSatF32U i64_trunc_sat_f32_u(a: u32) -> u64 { f32b(a) as u64 }
    I64TruncSatF64S i64_trunc_sat_f64_s(a: u64) -> u64 { f64b(a) as i64 as u64 }
    I64TruncSatF64U i64_trunc_sat_f64_u(a: u64) -> u64 { f64b(a) as u64 }
    F32ConvertI32S f32_convert_i32_s(a: u32) -> u32 { (a as i32 as f32).to_bits() }
    F32ConvertI32U f32_convert_i32_u(a: u32) -> u32 { (a as f32).to_bits() }
    F32ConvertI64S f32_convert_i64_s(a: u64) -> u32 { (a as i64 as f32).to_bits() }
    F32ConvertI64U f32_convert_i64_u(a: u64) -> u32 { (a as f32).to_bits() }
    F64ConvertI32S f64_convert_i32_s(a: u32) -> u64 { f64::from(a as i32).to_bits() }
    F64ConvertI32U f64_convert_i32_u(a: u32) -> u64 { f64::from(a).to_bits() }
    F64ConvertI64S f64_convert_i64_s(a: u64) -> u64 { (a as i64 as f64).to_bits() }
    F64ConvertI64U f64_convert_i64_u(a: u64) -> u64 { (a as f64).to_bits() }
    // Fused: rounded once (relaxed SIMD's `f64x2.relaxed_madd` on targets
    // without an FMA instruction).
    F64Fma f64_fma(a: u64, b: u64, c: u64) -> u64 { f64b(a).mul_add(f64b(b), f64b(c)).to_bits() }
}

#[cfg(test)]
mod tests {
    use super::imp::*;
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for &h in Helper::ALL {
            assert_eq!(Helper::from_name(h.name()), Some(h));
            assert!(!HELPER_TABLE.0[h as usize].is_null());
        }
        assert_eq!(Helper::from_name("__divdi3"), None);
        assert_eq!(Helper::I64DivS.name(), "i64_div_s");
        assert_eq!(Helper::F32Min.name(), "f32_min");
        assert_eq!(Helper::F64Lt.params(), &[Width::W64, Width::W64]);
        assert_eq!(Helper::F64Lt.result(), Width::W32);
    }

    #[test]
    fn f64_fma_rounds_once() {
        // (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104 exactly; unfused it is 0.
        let (a, b) = (1.0 + f64::EPSILON, 1.0 - f64::EPSILON);
        let r = f64_fma(a.to_bits(), b.to_bits(), (-1.0f64).to_bits());
        assert_eq!(f64::from_bits(r), -(2f64.powi(-104)));
    }

    /// Edge values of each integer width, as bit patterns.
    const I32S: [u32; 9] = [
        0,
        1,
        2,
        7,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0xffff_fff9,
        1000,
    ];
    const I64S: [u64; 9] = [
        0,
        1,
        3,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        u64::MAX,
        u64::MAX - 6,
        0x1_0000_0000,
        12345678901,
    ];

    #[test]
    fn integer_helpers_match_native_arithmetic() {
        for &a in &I32S {
            assert_eq!(i32_clz(a), a.leading_zeros());
            assert_eq!(i32_ctz(a), a.trailing_zeros());
            assert_eq!(i32_popcnt(a), a.count_ones());
            for &b in &I32S {
                assert_eq!(i32_mul(a, b), a.wrapping_mul(b));
                if b == 0 {
                    continue;
                }
                assert_eq!(i32_div_u(a, b), a / b);
                assert_eq!(i32_rem_u(a, b), a % b);
                assert_eq!(i32_rem_s(a, b), (a as i32).wrapping_rem(b as i32) as u32);
                if !(a == 0x8000_0000 && b == u32::MAX) {
                    assert_eq!(i32_div_s(a, b), ((a as i32) / (b as i32)) as u32);
                }
            }
        }
        for &a in &I64S {
            assert_eq!(i64_clz(a), u64::from(a.leading_zeros()));
            assert_eq!(i64_ctz(a), u64::from(a.trailing_zeros()));
            assert_eq!(i64_popcnt(a), u64::from(a.count_ones()));
            for &b in &I64S {
                assert_eq!(i64_mul(a, b), a.wrapping_mul(b));
                if b == 0 {
                    continue;
                }
                assert_eq!(i64_div_u(a, b), a / b);
                assert_eq!(i64_rem_u(a, b), a % b);
                assert_eq!(i64_rem_s(a, b), (a as i64).wrapping_rem(b as i64) as u64);
                if !(a == 1 << 63 && b == u64::MAX) {
                    assert_eq!(i64_div_s(a, b), ((a as i64) / (b as i64)) as u64);
                }
            }
        }
    }

    #[test]
    fn the_cases_wasm_checks_first_do_not_panic() {
        assert_eq!(i32_div_s(5, 0), 0);
        assert_eq!(i32_div_u(5, 0), 0);
        assert_eq!(i64_rem_s(5, 0), 0);
        assert_eq!(i32_div_s(0x8000_0000, u32::MAX), 0x8000_0000);
        assert_eq!(i32_rem_s(0x8000_0000, u32::MAX), 0);
        assert_eq!(i64_div_s(1 << 63, u64::MAX), 1 << 63);
        assert_eq!(i64_trunc_sat_f64_s(f64::NAN.to_bits()), 0);
        assert_eq!(i32_trunc_sat_f32_u((-1.0f32).to_bits()), 0);
        assert_eq!(i32_trunc_sat_f64_s(1e300f64.to_bits()), i32::MAX as u32);
        assert_eq!(i64_trunc_sat_f32_u(f32::INFINITY.to_bits()), u64::MAX);
    }

    const F64S: [f64; 12] = [
        0.0,
        -0.0,
        1.5,
        -2.5,
        0.1,
        1e300,
        -1e-310,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        4503599627370497.0,
        -9223372036854775808.0,
    ];

    fn same(a: u64, b: f64) -> bool {
        a == b.to_bits() || (f64::from_bits(a).is_nan() && b.is_nan())
    }

    fn same32(a: u32, b: f32) -> bool {
        a == b.to_bits() || (f32::from_bits(a).is_nan() && b.is_nan())
    }

    #[test]
    fn float_helpers_match_native_arithmetic() {
        for &x in &F64S {
            let (xb, xf) = (x.to_bits(), x as f32);
            let xfb = xf.to_bits();
            assert!(same(f64_sqrt(xb), x.sqrt()));
            assert!(same(f64_ceil(xb), x.ceil()) && same(f64_floor(xb), x.floor()));
            assert!(same(f64_trunc(xb), x.trunc()));
            assert!(same(f64_nearest(xb), x.round_ties_even()));
            assert!(same32(f32_sqrt(xfb), xf.sqrt()));
            assert!(same32(f32_nearest(xfb), xf.round_ties_even()));
            assert!(same(f64_promote_f32(xfb), f64::from(xf)));
            assert!(same32(f32_demote_f64(xb), xf));
            assert_eq!(i64_trunc_sat_f64_s(xb), x as i64 as u64);
            assert_eq!(i64_trunc_sat_f64_u(xb), x as u64);
            assert_eq!(i32_trunc_sat_f32_s(xfb), xf as i32 as u32);
            assert_eq!(i64_trunc_sat_f32_u(xfb), xf as u64);
            for &y in &F64S {
                let (yb, yf) = (y.to_bits(), y as f32);
                let yfb = yf.to_bits();
                assert!(same(f64_add(xb, yb), x + y) && same(f64_sub(xb, yb), x - y));
                assert!(same(f64_mul(xb, yb), x * y) && same(f64_div(xb, yb), x / y));
                assert!(same32(f32_add(xfb, yfb), xf + yf) && same32(f32_div(xfb, yfb), xf / yf));
                assert_eq!(f64_eq(xb, yb) == 1, x == y);
                assert_eq!(f64_lt(xb, yb) == 1, x < y);
                assert_eq!(f64_le(xb, yb) == 1, x <= y);
                assert_eq!(f64_unord(xb, yb) == 1, x.is_nan() || y.is_nan());
                assert_eq!(f32_lt(xfb, yfb) == 1, xf < yf);
                assert_eq!(f32_le(xfb, yfb) == 1, xf <= yf);
                assert!(same(f64_min(xb, yb), wasm::f64_min(x, y)));
                assert!(same32(f32_max(xfb, yfb), wasm::f32_max(xf, yf)));
            }
        }
        // min/max order the zeros and quiet a signalling NaN.
        assert_eq!(
            f64_min(0.0f64.to_bits(), (-0.0f64).to_bits()),
            (-0.0f64).to_bits()
        );
        assert_eq!(f32_max(0x7fa0_0000, 0), 0x7fe0_0000);
        assert_eq!(f32_ceil(0x7fa0_0000), 0x7fe0_0000);
    }

    #[test]
    fn int_to_float_conversions_round_to_nearest() {
        for &a in &I64S {
            assert_eq!(f64_convert_i64_s(a), (a as i64 as f64).to_bits());
            assert_eq!(f64_convert_i64_u(a), (a as f64).to_bits());
            assert_eq!(f32_convert_i64_s(a), (a as i64 as f32).to_bits());
            assert_eq!(f32_convert_i64_u(a), (a as f32).to_bits());
        }
        for &a in &I32S {
            assert_eq!(f32_convert_i32_s(a), (a as i32 as f32).to_bits());
            assert_eq!(f32_convert_i32_u(a), (a as f32).to_bits());
            assert_eq!(f64_convert_i32_s(a), f64::from(a as i32).to_bits());
            assert_eq!(f64_convert_i32_u(a), f64::from(a).to_bits());
        }
        // 2^53 + 1 rounds to even in f64; u64::MAX rounds up to 2^64.
        assert_eq!(
            f64::from_bits(f64_convert_i64_u((1 << 53) + 1)),
            9007199254740992.0
        );
        assert_eq!(
            f32::from_bits(f32_convert_i64_u(u64::MAX)),
            18446744073709551616.0
        );
    }
}
