//! Numeric semantics the spec defines beyond Rust's operators: NaN- and
//! signed-zero-aware min/max, round-to-even, and trapping float-to-int
//! conversions.

use crate::TrapKind;

macro_rules! min_max {
    ($min:ident, $max:ident, $t:ty, $quiet:expr) => {
        /// The NaN operand, quieted: an arithmetic NaN as the spec requires.
        /// (Spelled out: an optimiser may fold `a + b` to a signalling `a`.)
        #[inline]
        fn quiet_nan(a: $t, b: $t) -> $t {
            let nan = if a.is_nan() { a } else { b };
            <$t>::from_bits(nan.to_bits() | $quiet)
        }

        /// wasm `min`: NaN if either operand is NaN; -0 is less than +0.
        #[inline]
        pub fn $min(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return quiet_nan(a, b);
            }
            if a == b {
                // Equal, possibly zeros of different sign: the negative one wins.
                return <$t>::from_bits(a.to_bits() | b.to_bits());
            }
            if a < b { a } else { b }
        }

        /// wasm `max`: NaN if either operand is NaN; +0 is greater than -0.
        #[inline]
        pub fn $max(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return quiet_nan(a, b);
            }
            if a == b {
                return <$t>::from_bits(a.to_bits() & b.to_bits());
            }
            if a > b { a } else { b }
        }
    };
}

mod f32_ops {
    min_max!(f32_min, f32_max, f32, 0x0040_0000);
}
mod f64_ops {
    min_max!(f64_min, f64_max, f64, 0x0008_0000_0000_0000);
}
pub use f32_ops::{f32_max, f32_min};

/// Quiets a NaN result of a rounding op (software rounding returns a
/// signalling NaN operand unchanged; wasm requires an arithmetic NaN).
#[inline]
pub fn f32_quiet(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(x.to_bits() | 0x0040_0000)
    } else {
        x
    }
}

#[inline]
pub fn f64_quiet(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000)
    } else {
        x
    }
}
pub use f64_ops::{f64_max, f64_min};

/// Truncates `x` toward zero into the integer range `(lo, hi)` given as
/// exclusive f64 bounds; traps on NaN or out of range.
#[inline]
fn trunc_checked(x: f64, lo: f64, hi: f64) -> Result<f64, TrapKind> {
    if x.is_nan() {
        return Err(TrapKind::InvalidConversionToInteger);
    }
    if x <= lo || x >= hi {
        return Err(TrapKind::IntegerOverflow);
    }
    Ok(x.trunc())
}

// Bounds are exclusive and exactly representable: one below the smallest
// and one above the largest value whose truncation fits.
pub fn i32_trunc_s(x: f64) -> Result<i32, TrapKind> {
    trunc_checked(x, -2147483649.0, 2147483648.0).map(|t| t as i32)
}

pub fn i32_trunc_u(x: f64) -> Result<u32, TrapKind> {
    trunc_checked(x, -1.0, 4294967296.0).map(|t| t as u32)
}

pub fn i64_trunc_s(x: f64) -> Result<i64, TrapKind> {
    // -2^63 - 1 is not representable; -2^63 itself is valid, so compare
    // against the next double below it.
    if x.is_nan() {
        return Err(TrapKind::InvalidConversionToInteger);
    }
    if !(-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        return Err(TrapKind::IntegerOverflow);
    }
    Ok(x as i64)
}

pub fn i64_trunc_u(x: f64) -> Result<u64, TrapKind> {
    trunc_checked(x, -1.0, 18446744073709551616.0).map(|t| t as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_follow_wasm_rules() {
        assert!(f32_min(f32::NAN, 1.0).is_nan());
        assert!(f64_max(1.0, f64::NAN).is_nan());
        assert_eq!(f32_min(0.0, -0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32_max(-0.0, 0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(f64_min(-1.0, 2.0), -1.0);
        assert_eq!(f64_max(-1.0, 2.0), 2.0);
        let signalling = f32::from_bits(0x7fa0_0000);
        assert_eq!(f32_min(signalling, 1.0).to_bits(), 0x7fe0_0000);
        let signalling = f64::from_bits(0xfff4_0000_0000_0000);
        assert_eq!(f64_max(0.0, signalling).to_bits(), 0xfffc_0000_0000_0000);
    }

    #[test]
    fn trapping_conversions() {
        assert_eq!(i32_trunc_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_s(2147483647.9), Ok(i32::MAX));
        assert_eq!(i32_trunc_s(2147483648.0), Err(TrapKind::IntegerOverflow));
        assert_eq!(i32_trunc_s(-2147483649.0), Err(TrapKind::IntegerOverflow));
        assert_eq!(i32_trunc_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_u(-1.0), Err(TrapKind::IntegerOverflow));
        assert_eq!(
            i32_trunc_u(f64::NAN),
            Err(TrapKind::InvalidConversionToInteger)
        );
        assert_eq!(i64_trunc_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(
            i64_trunc_s(9223372036854775808.0),
            Err(TrapKind::IntegerOverflow)
        );
        assert_eq!(
            i64_trunc_u(18446744073709549568.0),
            Ok(18446744073709549568)
        );
        assert_eq!(
            i64_trunc_u(18446744073709551616.0),
            Err(TrapKind::IntegerOverflow)
        );
    }
}
