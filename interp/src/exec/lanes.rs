//! A `v128` seen as lanes: lane 0 is the lowest-addressed (least
//! significant) one, whatever the host's byte order.

/// A value that converts to and from the 128 bits of a `v128`.
pub trait Lanes: Copy {
    fn from_v128(v: u128) -> Self;
    fn to_v128(self) -> u128;

    /// The lanes of 16 bytes in lane order (the vector's memory order).
    #[inline(always)]
    fn from_bytes(bytes: [u8; 16]) -> Self {
        const { assert!(size_of::<Self>() == 16) };
        if cfg!(target_endian = "little") {
            // SAFETY: 16 bytes each (asserted), and every bit pattern is a
            // valid lane array.
            unsafe { std::mem::transmute_copy(&bytes) }
        } else {
            Self::from_v128(u128::from_le_bytes(bytes))
        }
    }

    /// The lanes' 16 bytes in lane order.
    #[inline(always)]
    fn to_bytes(self) -> [u8; 16] {
        const { assert!(size_of::<Self>() == 16) };
        if cfg!(target_endian = "little") {
            // SAFETY: as in `from_bytes`.
            unsafe { std::mem::transmute_copy(&self) }
        } else {
            self.to_v128().to_le_bytes()
        }
    }
}

impl Lanes for u128 {
    #[inline(always)]
    fn from_v128(v: u128) -> Self {
        v
    }
    #[inline(always)]
    fn to_v128(self) -> u128 {
        self
    }
}

macro_rules! lane_arrays {
    ($($t:ty, $n:literal;)*) => {$(
        impl Lanes for [$t; $n] {
            #[inline(always)]
            fn from_v128(v: u128) -> Self {
                const SIZE: usize = size_of::<$t>();
                let bytes = v.to_le_bytes();
                std::array::from_fn(|i| {
                    let mut lane = [0; SIZE];
                    lane.copy_from_slice(&bytes[i * SIZE..(i + 1) * SIZE]);
                    <$t>::from_le_bytes(lane)
                })
            }
            #[inline(always)]
            fn to_v128(self) -> u128 {
                const SIZE: usize = size_of::<$t>();
                let mut bytes = [0; 16];
                for (i, lane) in self.iter().enumerate() {
                    bytes[i * SIZE..(i + 1) * SIZE].copy_from_slice(&lane.to_le_bytes());
                }
                u128::from_le_bytes(bytes)
            }
        }
    )*};
}

lane_arrays! {
    i8, 16; u8, 16; i16, 8; u16, 8; i32, 4; u32, 4; i64, 2; u64, 2; f32, 4; f64, 2;
}

/// A comparison's result lane: all ones for true, zero for false.
pub trait Mask {
    fn mask(b: bool) -> Self;
}

macro_rules! masks {
    ($($t:ty),*) => {$(
        impl Mask for $t {
            #[inline(always)]
            fn mask(b: bool) -> Self {
                -(b as $t)
            }
        }
    )*};
}

masks!(i8, i16, i32, i64);

/// `f` applied lane by lane to `a` and `b`.
#[inline(always)]
pub fn zip<T: Copy, U, const N: usize>(a: [T; N], b: [T; N], f: impl Fn(T, T) -> U) -> [U; N] {
    std::array::from_fn(|i| f(a[i], b[i]))
}

/// Lanes `a` and `b` compared by `f`, as masks of `M`.
#[inline(always)]
pub fn cmp<T: Copy, M: Mask, const N: usize>(
    a: [T; N],
    b: [T; N],
    f: impl Fn(T, T) -> bool,
) -> [M; N] {
    zip(a, b, |x, y| M::mask(f(x, y)))
}

/// Bit `i` set when lane `i` is negative.
#[inline(always)]
pub fn bitmask<T: Copy + Default + PartialOrd, const N: usize>(a: [T; N]) -> u32 {
    let zero = T::default();
    (0..N).fold(0, |m, i| m | ((a[i] < zero) as u32) << i)
}

/// Builds a lane array of `N` lanes of `T` from `f(lane index)`.
macro_rules! lanes {
    ($t:ty, $n:literal, |$i:ident| $e:expr) => {{
        let v: [$t; $n] = std::array::from_fn(|$i| $e);
        v
    }};
}
pub(super) use lanes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_zero_is_the_low_end() {
        let v = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
        let bytes = <[u8; 16]>::from_v128(v);
        assert_eq!(bytes, std::array::from_fn(|i| i as u8));
        assert_eq!(<[u16; 8]>::from_v128(v)[1], 0x0302);
        assert_eq!(<[u32; 4]>::from_v128(v)[3], 0x0f0e_0d0c);
        assert_eq!(bytes.to_v128(), v);
        assert_eq!(<[f64; 2]>::from_v128(v).to_v128(), v);
    }
}
