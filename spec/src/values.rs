//! Converting wast arguments to values, and matching results against
//! expectations (NaN patterns, reference kinds).

use wamr_rs::{RawRef, Val};
use wast::core::{HeapType, NanPattern, WastArgCore, WastRetCore};
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
        (WastRetCore::F32(p), Val::F32(a)) => match p {
            NanPattern::CanonicalNan => a & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => f32::from_bits(*a).is_nan() && a & 0x0040_0000 != 0,
            NanPattern::Value(v) => v.bits == *a,
        },
        (WastRetCore::F64(p), Val::F64(a)) => match p {
            NanPattern::CanonicalNan => a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => {
                f64::from_bits(*a).is_nan() && a & 0x0008_0000_0000_0000 != 0
            }
            NanPattern::Value(v) => v.bits == *a,
        },
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
