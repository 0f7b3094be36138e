//! Typed calls: Rust types stand for wasm values, and a function's
//! signature is checked once, when the typed handle is made, rather than
//! at every call.

use std::fmt;
use std::marker::PhantomData;

use wamr_runtime::{Error, FuncId, FuncType, Result, Store, Val, ValType};

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is one wasm value: `i32`, `i64`, `f32`, `f64`,
/// [`V128`], and `u32`/`u64`, which are the same wasm types read as
/// unsigned.
pub trait WasmTy: sealed::Sealed + Copy + Send + Sync + 'static {
    const VAL_TYPE: ValType;
    fn into_val(self) -> Val;
    /// `None` when `v` is of another wasm type.
    fn from_val(v: Val) -> Option<Self>;
}

macro_rules! wasm_ty {
    ($($t:ty => $variant:ident, $to:expr, $from:expr;)*) => {$(
        impl sealed::Sealed for $t {}
        impl WasmTy for $t {
            const VAL_TYPE: ValType = ValType::$variant;
            fn into_val(self) -> Val {
                Val::$variant($to(self))
            }
            fn from_val(v: Val) -> Option<Self> {
                match v {
                    Val::$variant(bits) => Some($from(bits)),
                    _ => None,
                }
            }
        }
    )*};
}

wasm_ty! {
    i32 => I32, i32::from, i32::from;
    u32 => I32, u32::cast_signed, i32::cast_unsigned;
    i64 => I64, i64::from, i64::from;
    u64 => I64, u64::cast_signed, i64::cast_unsigned;
    f32 => F32, f32::to_bits, f32::from_bits;
    f64 => F64, f64::to_bits, f64::from_bits;
    V128 => V128, |v: V128| v.0, V128;
}

/// A `v128` value: its 16 bytes as a little-endian `u128` (byte 0 of the
/// vector is the lowest byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct V128(pub u128);

impl V128 {
    /// The vector of these 16 bytes, lane 0 first.
    pub fn from_bytes(bytes: [u8; 16]) -> V128 {
        V128(u128::from_le_bytes(bytes))
    }

    /// Its 16 bytes, lane 0 first.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_le_bytes()
    }
}

/// The parameters or results of a typed function: `()`, one [`WasmTy`], or
/// a tuple of up to eight of them.
pub trait WasmTypeList: Sized + Send + 'static {
    /// The values as a fixed-size array (no allocation per call).
    type Vals: AsRef<[Val]> + AsMut<[Val]>;
    fn val_types() -> Vec<ValType>;
    fn into_vals(self) -> Self::Vals;
    /// `None` when the count or a type does not match.
    fn from_vals(vals: &[Val]) -> Option<Self>;
    /// Zero values of the right types, to receive results in.
    fn zeros() -> Self::Vals;
}

impl<T: WasmTy> WasmTypeList for T {
    type Vals = [Val; 1];
    fn val_types() -> Vec<ValType> {
        vec![T::VAL_TYPE]
    }
    fn into_vals(self) -> [Val; 1] {
        [self.into_val()]
    }
    fn from_vals(vals: &[Val]) -> Option<Self> {
        match vals {
            [v] => T::from_val(*v),
            _ => None,
        }
    }
    fn zeros() -> [Val; 1] {
        [Val::default_for(T::VAL_TYPE)]
    }
}

macro_rules! tuple_list {
    ($n:literal; $($t:ident $v:ident),*) => {
        impl<$($t: WasmTy),*> WasmTypeList for ($($t,)*) {
            type Vals = [Val; $n];
            fn val_types() -> Vec<ValType> {
                vec![$($t::VAL_TYPE),*]
            }
            #[allow(clippy::unused_unit, reason = "the empty tuple")]
            fn into_vals(self) -> [Val; $n] {
                let ($($v,)*) = self;
                [$($v.into_val()),*]
            }
            fn from_vals(vals: &[Val]) -> Option<Self> {
                match vals {
                    [$($v),*] => Some(($($t::from_val(*$v)?,)*)),
                    _ => None,
                }
            }
            fn zeros() -> [Val; $n] {
                [$(Val::default_for($t::VAL_TYPE)),*]
            }
        }
    };
}

tuple_list!(0;);
tuple_list!(1; A1 a1);
tuple_list!(2; A1 a1, A2 a2);
tuple_list!(3; A1 a1, A2 a2, A3 a3);
tuple_list!(4; A1 a1, A2 a2, A3 a3, A4 a4);
tuple_list!(5; A1 a1, A2 a2, A3 a3, A4 a4, A5 a5);
tuple_list!(6; A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6);
tuple_list!(7; A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7);
tuple_list!(8; A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8);

/// The signature `Params -> Results` stand for.
pub(crate) fn func_type<P: WasmTypeList, R: WasmTypeList>() -> FuncType {
    FuncType::new(P::val_types(), R::val_types())
}

/// A function whose signature is known to be `Params -> Results`, made by
/// [`Instance::get_typed_func`](crate::Instance::get_typed_func) or
/// [`TypedFunc::new`].
pub struct TypedFunc<Params, Results> {
    func: FuncId,
    _signature: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P, R> fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedFunc").field(&self.func).finish()
    }
}

impl<P: WasmTypeList, R: WasmTypeList> TypedFunc<P, R> {
    /// Checks that `func` has the signature `P -> R`.
    pub fn new(store: &Store, func: FuncId) -> Result<Self> {
        let expected = func_type::<P, R>();
        let actual = store.func(func).ty();
        if **actual != expected {
            return Err(Error::Other(format!(
                "function has type {actual}, not the requested {expected}"
            )));
        }
        Ok(TypedFunc {
            func,
            _signature: PhantomData,
        })
    }

    pub fn func(&self) -> FuncId {
        self.func
    }

    /// Calls the function. A trap comes back as [`Error::Trap`].
    pub fn call(&self, store: &mut Store, params: P) -> Result<R> {
        let mut results = R::zeros();
        store.call_unchecked(self.func, params.into_vals().as_ref(), results.as_mut())?;
        // The signature was checked at construction, so this cannot fail.
        R::from_vals(results.as_ref())
            .ok_or_else(|| Error::Other("typed call returned values of other types".into()))
    }
}
