//! Lane operations that LLVM does not vectorise from portable lane-by-lane
//! code, with an SSE2 path on x86_64 (SSE2 is part of the x86_64
//! baseline, so no detection is needed). Each has a portable version, used
//! on other hosts and tested against the SSE2 one below.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::lanes::Lanes;

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn m128<T: Lanes>(v: T) -> __m128i {
    // SAFETY: both are 16 bytes of plain data (`Lanes` types are 16 bytes).
    unsafe { std::mem::transmute_copy(&v.to_bytes()) }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes<T: Lanes>(v: __m128i) -> T {
    // SAFETY: as in `m128`.
    T::from_bytes(unsafe { std::mem::transmute_copy(&v) })
}

/// Defines `pub fn $name` from an SSE2 body (x86_64) and a portable one,
/// and `portable::$name` for the tests.
macro_rules! vector_ops {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $at:ty),*) -> $ret:ty;
        sse2 |$($sa:ident),*| $sse:expr;
        portable $portable:expr;
    )*) => {
        $(
            $(#[$doc])*
            #[inline(always)]
            pub fn $name($($arg: $at),*) -> $ret {
                #[cfg(target_arch = "x86_64")]
                {
                    let ($($sa,)*) = ($(m128($arg),)*);
                    // SAFETY: SSE2 is always present on x86_64.
                    #[allow(unused_unsafe)]
                    unsafe { $sse }
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    portable::$name($($arg),*)
                }
            }
        )*

        #[allow(dead_code)]
        pub mod portable {
            use super::super::lanes::lanes;
            $(
                #[inline(always)]
                pub fn $name($($arg: $at),*) -> $ret {
                    ($portable)($($arg),*)
                }
            )*
        }
    };
}

vector_ops! {
    /// `i32x4.dot_i16x8_s`; only -32768 * -32768 twice overflows, and wraps.
    fn dot_i16x8_s(x: [i16; 8], y: [i16; 8]) -> [i32; 4];
    sse2 |a, b| lanes(_mm_madd_epi16(a, b));
    portable |x: [i16; 8], y: [i16; 8]| lanes!(i32, 4, |i| {
        (x[2 * i] as i32 * y[2 * i] as i32).wrapping_add(x[2 * i + 1] as i32 * y[2 * i + 1] as i32)
    });

    /// `i32x4.extadd_pairwise_i16x8_s`.
    fn extadd_pairwise_i16x8_s(x: [i16; 8]) -> [i32; 4];
    sse2 |a| lanes(_mm_madd_epi16(a, _mm_set1_epi16(1)));
    portable |x: [i16; 8]| lanes!(i32, 4, |i| x[2 * i] as i32 + x[2 * i + 1] as i32);

    /// `i8x16.narrow_i16x8_s`.
    fn narrow_i16x8_s(x: [i16; 8], y: [i16; 8]) -> [i8; 16];
    sse2 |a, b| lanes(_mm_packs_epi16(a, b));
    portable |x: [i16; 8], y: [i16; 8]| lanes!(i8, 16, |i| {
        (if i < 8 { x[i] } else { y[i - 8] }).clamp(-128, 127) as i8
    });

    /// `i8x16.narrow_i16x8_u`: signed lanes saturated to 0..=255.
    fn narrow_i16x8_u(x: [i16; 8], y: [i16; 8]) -> [u8; 16];
    sse2 |a, b| lanes(_mm_packus_epi16(a, b));
    portable |x: [i16; 8], y: [i16; 8]| lanes!(u8, 16, |i| {
        (if i < 8 { x[i] } else { y[i - 8] }).clamp(0, 255) as u8
    });

    /// `i16x8.narrow_i32x4_s`.
    fn narrow_i32x4_s(x: [i32; 4], y: [i32; 4]) -> [i16; 8];
    sse2 |a, b| lanes(_mm_packs_epi32(a, b));
    portable |x: [i32; 4], y: [i32; 4]| lanes!(i16, 8, |i| {
        (if i < 4 { x[i] } else { y[i - 4] }).clamp(-32768, 32767) as i16
    });

    /// `i8x16.bitmask`: bit `i` is the sign of lane `i`.
    fn bitmask_i8x16(x: [i8; 16]) -> u32;
    sse2 |a| _mm_movemask_epi8(a) as u32;
    portable |x: [i8; 16]| (0..16).fold(0, |m, i| m | ((x[i] < 0) as u32) << i);

    /// `i16x8.bitmask`.
    fn bitmask_i16x8(x: [i16; 8]) -> u32;
    sse2 |a| _mm_movemask_epi8(_mm_packs_epi16(a, _mm_setzero_si128())) as u32;
    portable |x: [i16; 8]| (0..8).fold(0, |m, i| m | ((x[i] < 0) as u32) << i);

    /// `i32x4.bitmask`.
    fn bitmask_i32x4(x: [i32; 4]) -> u32;
    sse2 |a| _mm_movemask_ps(_mm_castsi128_ps(a)) as u32;
    portable |x: [i32; 4]| (0..4).fold(0, |m, i| m | ((x[i] < 0) as u32) << i);

    /// `i8x16.all_true`.
    fn all_true_i8x16(x: [u8; 16]) -> bool;
    sse2 |a| _mm_movemask_epi8(_mm_cmpeq_epi8(a, _mm_setzero_si128())) == 0;
    portable |x: [u8; 16]| x.iter().all(|&v| v != 0);

    /// `i16x8.all_true`.
    fn all_true_i16x8(x: [u16; 8]) -> bool;
    sse2 |a| _mm_movemask_epi8(_mm_cmpeq_epi16(a, _mm_setzero_si128())) == 0;
    portable |x: [u16; 8]| x.iter().all(|&v| v != 0);

    /// `i32x4.all_true`.
    fn all_true_i32x4(x: [u32; 4]) -> bool;
    sse2 |a| _mm_movemask_epi8(_mm_cmpeq_epi32(a, _mm_setzero_si128())) == 0;
    portable |x: [u32; 4]| x.iter().all(|&v| v != 0);
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// Vectors with every edge lane value mixed with pseudo-random ones.
    fn vectors() -> Vec<[u8; 16]> {
        let edges: [u16; 8] = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff];
        let mut out = Vec::new();
        let mut state = 0x9e37_79b9_u32;
        for round in 0..2000 {
            let mut v = [0u8; 16];
            for (i, b) in v.iter_mut().enumerate() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *b = if round % 3 == 0 {
                    edges[(state as usize + i) % 8].to_le_bytes()[i % 2]
                } else {
                    state as u8
                };
            }
            out.push(v);
        }
        out
    }

    #[test]
    fn sse2_paths_match_the_portable_ones() {
        let vs = vectors();
        for pair in vs.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (x16, y16) = (<[i16; 8]>::from_bytes(a), <[i16; 8]>::from_bytes(b));
            let (x32, y32) = (<[i32; 4]>::from_bytes(a), <[i32; 4]>::from_bytes(b));
            assert_eq!(dot_i16x8_s(x16, y16), portable::dot_i16x8_s(x16, y16));
            assert_eq!(
                extadd_pairwise_i16x8_s(x16),
                portable::extadd_pairwise_i16x8_s(x16)
            );
            assert_eq!(narrow_i16x8_s(x16, y16), portable::narrow_i16x8_s(x16, y16));
            assert_eq!(narrow_i16x8_u(x16, y16), portable::narrow_i16x8_u(x16, y16));
            assert_eq!(narrow_i32x4_s(x32, y32), portable::narrow_i32x4_s(x32, y32));
            let x8 = <[i8; 16]>::from_bytes(a);
            assert_eq!(bitmask_i8x16(x8), portable::bitmask_i8x16(x8));
            assert_eq!(bitmask_i16x8(x16), portable::bitmask_i16x8(x16));
            assert_eq!(bitmask_i32x4(x32), portable::bitmask_i32x4(x32));
            // All-true needs zero lanes to be common: mask half the bytes.
            let sparse = std::array::from_fn(|i| if b[i] & 1 == 0 { 0 } else { a[i] });
            for v in [a, sparse] {
                let (u8s, u16s, u32s) = (v, <[u16; 8]>::from_bytes(v), <[u32; 4]>::from_bytes(v));
                assert_eq!(all_true_i8x16(u8s), portable::all_true_i8x16(u8s));
                assert_eq!(all_true_i16x8(u16s), portable::all_true_i16x8(u16s));
                assert_eq!(all_true_i32x4(u32s), portable::all_true_i32x4(u32s));
            }
        }
    }
}
