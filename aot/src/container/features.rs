//! The wasm feature set an `.aot` file was compiled with, as a u32 bitset.

use std::fmt;

use wamr_runtime::Features;

/// Bit positions in the file. Append only: a bit's meaning never changes
/// within a format version.
pub const WASM_FEATURE_BITS: &[(u32, &str)] = &[
    (0, "mutable-global"),
    (1, "sign-extension"),
    (2, "saturating-float-to-int"),
    (3, "multi-value"),
    (4, "bulk-memory"),
    (5, "reference-types"),
    (6, "memory64"),
    (7, "extended-const"),
    (8, "tail-call"),
    (9, "multi-memory"),
    (10, "simd"),
    (11, "gc"),
    (12, "relaxed-simd"),
];

const KNOWN_BITS: u32 = {
    let mut mask = 0;
    let mut i = 0;
    while i < WASM_FEATURE_BITS.len() {
        mask |= 1 << WASM_FEATURE_BITS[i].0;
        i += 1;
    }
    mask
};

#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WasmFeatures(u32);

impl WasmFeatures {
    /// Fails with the bits this build does not know, if any.
    pub fn from_bits(bits: u32) -> Result<Self, u32> {
        match bits & !KNOWN_BITS {
            0 => Ok(WasmFeatures(bits)),
            unknown => Err(unknown),
        }
    }

    pub fn bits(self) -> u32 {
        self.0
    }

    /// Names of the enabled features, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        WASM_FEATURE_BITS
            .iter()
            .filter(move |(bit, _)| self.0 & (1 << bit) != 0)
            .map(|&(_, name)| name)
    }

    pub fn from_runtime(features: &Features) -> Self {
        // Destructured in full so that a new runtime feature fails to
        // compile here until it has a bit.
        let &Features {
            mutable_global,
            sign_extension,
            saturating_float_to_int,
            multi_value,
            bulk_memory,
            reference_types,
            memory64,
            extended_const,
            tail_call,
            multi_memory,
            simd,
            gc,
            relaxed_simd,
        } = features;
        let flags = [
            mutable_global,
            sign_extension,
            saturating_float_to_int,
            multi_value,
            bulk_memory,
            reference_types,
            memory64,
            extended_const,
            tail_call,
            multi_memory,
            simd,
            gc,
            relaxed_simd,
        ];
        WasmFeatures(
            flags
                .iter()
                .enumerate()
                .filter(|(_, on)| **on)
                .fold(0, |bits, (i, _)| bits | 1 << WASM_FEATURE_BITS[i].0),
        )
    }

    pub fn to_runtime(self) -> Features {
        let on = |bit: u32| self.0 & (1 << bit) != 0;
        Features {
            mutable_global: on(0),
            sign_extension: on(1),
            saturating_float_to_int: on(2),
            multi_value: on(3),
            bulk_memory: on(4),
            reference_types: on(5),
            memory64: on(6),
            extended_const: on(7),
            tail_call: on(8),
            multi_memory: on(9),
            simd: on(10),
            gc: on(11),
            relaxed_simd: on(12),
        }
    }
}

impl fmt::Debug for WasmFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl fmt::Display for WasmFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.names().collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_features_round_trip() {
        for features in [Features::default(), Features::mvp()] {
            let bits = WasmFeatures::from_runtime(&features);
            assert_eq!(bits.to_runtime(), features);
            assert_eq!(WasmFeatures::from_bits(bits.bits()), Ok(bits));
        }
        let mvp = WasmFeatures::from_runtime(&Features::mvp());
        assert_eq!(mvp.to_string(), "mutable-global");
    }

    #[test]
    fn unknown_bits_are_rejected() {
        assert_eq!(WasmFeatures::from_bits(1 << 31 | 1), Err(1 << 31));
        assert!(WasmFeatures::from_bits(KNOWN_BITS).is_ok());
    }
}
