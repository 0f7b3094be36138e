//! Converting wast arguments to values, and matching results against
//! expectations (NaN patterns, reference kinds).

use wamr_rs::{RawRef, Val};
use wast::core::{HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::{F32, F64};
use wast::{WastArg, WastRet};

pub fn arg(a: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(a) = a else {
        return Err("component-model argument".into());
    };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(_) => Val::Ref(RawRef::NULL),
        WastArgCore::RefExtern(n) => Val::Ref(RawRef::extern_ref(*n as u64)),
        other => return Err(format!("unsupported argument {other:?}")),
    })
}

pub fn matches(expected: &WastRet<'_>, actual: &Val) -> bool {
    match expected {
        WastRet::Core(e) => core_matches(e, actual),
        _ => false,
    }
}

fn core_matches(expected: &WastRetCore<'_>, actual: &Val) -> bool {
    match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(p), Val::F32(a)) => f32_matches(p, *a),
        (WastRetCore::F64(p), Val::F64(a)) => f64_matches(p, *a),
        (WastRetCore::V128(p), Val::V128(a)) => v128_matches(p, *a),
        (WastRetCore::RefNull(ty), Val::Ref(r)) => {
            r.is_null() && !matches!(ty, Some(HeapType::Concrete(_) | HeapType::Exact(_)))
        }
        (WastRetCore::RefExtern(None), Val::Ref(r)) => !r.is_null(),
        (WastRetCore::RefExtern(Some(n)), Val::Ref(r)) => r.extern_payload() == Some(*n as u64),
        (WastRetCore::RefFunc(_), Val::Ref(r)) => !r.is_null(),
        (WastRetCore::Either(options), a) => options.iter().any(|o| core_matches(o, a)),
        _ => false,
    }
}

fn f32_matches(p: &NanPattern<F32>, a: u32) -> bool {
    match p {
        NanPattern::CanonicalNan => a & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => f32::from_bits(a).is_nan() && a & 0x0040_0000 != 0,
        NanPattern::Value(v) => v.bits == a,
    }
}

fn f64_matches(p: &NanPattern<F64>, a: u64) -> bool {
    match p {
        NanPattern::CanonicalNan => a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => f64::from_bits(a).is_nan() && a & 0x0008_0000_0000_0000 != 0,
        NanPattern::Value(v) => v.bits == a,
    }
}

/// Lane by lane, little-endian lane order; float lanes may be NaN patterns.
fn v128_matches(p: &V128Pattern, a: u128) -> bool {
    let bytes = a.to_le_bytes();
    let lanes = |width: usize| bytes.chunks_exact(width);
    match p {
        V128Pattern::I8x16(e) => e.iter().zip(bytes).all(|(&e, a)| e as u8 == a),
        V128Pattern::I16x8(e) => e.iter().zip(lanes(2)).all(|(&e, a)| e.to_le_bytes() == a),
        V128Pattern::I32x4(e) => e.iter().zip(lanes(4)).all(|(&e, a)| e.to_le_bytes() == a),
        V128Pattern::I64x2(e) => e.iter().zip(lanes(8)).all(|(&e, a)| e.to_le_bytes() == a),
        V128Pattern::F32x4(e) => e
            .iter()
            .zip(lanes(4))
            .all(|(e, a)| f32_matches(e, u32::from_le_bytes(a.try_into().unwrap()))),
        V128Pattern::F64x2(e) => e
            .iter()
            .zip(lanes(8))
            .all(|(e, a)| f64_matches(e, u64::from_le_bytes(a.try_into().unwrap()))),
    }
}

pub fn describe(v: &Val) -> String {
    match v {
        Val::I32(v) => format!("i32:{v}"),
        Val::I64(v) => format!("i64:{v}"),
        Val::F32(b) => format!("f32:{} ({b:#x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64:{} ({b:#x})", f64::from_bits(*b)),
        Val::V128(v) => format!("v128:{v:#x}"),
        Val::Ref(r) if r.is_null() => "ref.null".into(),
        Val::Ref(r) => format!("ref:{:#x}", r.0),
    }
}
