//! Host functions from typed Rust closures: the wasm signature is derived
//! from the closure's parameter and return types (see [`Linker::func_wrap`]).

use std::marker::PhantomData;
use std::sync::Arc;

use wamr_runtime::{Caller, FuncType, HostFn, Store, Trap, Val};

use crate::Linker;
use crate::typed::{WasmTy, WasmTypeList, func_type};

/// What a wrapped closure may return: results (`()`, a [`WasmTy`] or a
/// tuple of them), or `Result` of those with a [`Trap`] to stop the caller.
pub trait HostResult: Send + 'static {
    type Results: WasmTypeList;
    fn into_result(self) -> Result<Self::Results, Trap>;
}

impl<T: WasmTypeList> HostResult for T {
    type Results = T;
    fn into_result(self) -> Result<T, Trap> {
        Ok(self)
    }
}

impl<T: WasmTypeList> HostResult for Result<T, Trap> {
    type Results = T;
    fn into_result(self) -> Result<T, Trap> {
        self
    }
}

/// Marks the closures whose first parameter is `&mut Caller`.
pub struct WithCaller<Params>(PhantomData<Params>);

/// A Rust closure usable as a host function: `Fn(A1, .., An) -> R` or
/// `Fn(&mut Caller, A1, .., An) -> R` with each `Ai` a [`WasmTy`], up to
/// four parameters, and `R` a [`HostResult`]. `Params` and `Results` are
/// inferred from the closure.
pub trait IntoFunc<Params, Results>: Send + Sync + 'static {
    /// The derived signature and the untyped host function.
    fn into_func(self) -> (FuncType, Arc<HostFn>);
}

/// The error for arguments that do not fit the signature: linking and the
/// tiers rule it out, but an embedder's unchecked call could still do it.
fn bad_args(ty: &FuncType, args: &[Val]) -> Trap {
    Trap::host(format!("host function of type {ty} called with {args:?}"))
}

fn store_results<R: HostResult>(ret: R, ty: &FuncType, results: &mut [Val]) -> Result<(), Trap> {
    let vals = ret.into_result()?.into_vals();
    if results.len() != vals.as_ref().len() {
        return Err(Trap::host(format!(
            "host function of type {ty} given {} result slots",
            results.len()
        )));
    }
    results.copy_from_slice(vals.as_ref());
    Ok(())
}

macro_rules! into_func {
    ($($a:ident $v:ident),*) => {
        impl<F, R, $($a: WasmTy),*> IntoFunc<($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: HostResult,
        {
            fn into_func(self) -> (FuncType, Arc<HostFn>) {
                let ty = func_type::<($($a,)*), R::Results>();
                let sig = ty.clone();
                let f = move |_: &mut Caller<'_>, args: &[Val], results: &mut [Val]| {
                    let Some(($($v,)*)) = <($($a,)*)>::from_vals(args) else {
                        return Err(bad_args(&sig, args));
                    };
                    store_results(self($($v),*), &sig, results)
                };
                (ty, Arc::new(f))
            }
        }

        impl<F, R, $($a: WasmTy),*> IntoFunc<WithCaller<($($a,)*)>, R> for F
        where
            F: Fn(&mut Caller<'_>, $($a),*) -> R + Send + Sync + 'static,
            R: HostResult,
        {
            fn into_func(self) -> (FuncType, Arc<HostFn>) {
                let ty = func_type::<($($a,)*), R::Results>();
                let sig = ty.clone();
                let f = move |caller: &mut Caller<'_>, args: &[Val], results: &mut [Val]| {
                    let Some(($($v,)*)) = <($($a,)*)>::from_vals(args) else {
                        return Err(bad_args(&sig, args));
                    };
                    store_results(self(caller, $($v),*), &sig, results)
                };
                (ty, Arc::new(f))
            }
        }
    };
}

into_func!();
into_func!(A1 a1);
into_func!(A1 a1, A2 a2);
into_func!(A1 a1, A2 a2, A3 a3);
into_func!(A1 a1, A2 a2, A3 a3, A4 a4);

impl Linker {
    /// Defines a host function `module.name` from a typed closure; its wasm
    /// signature comes from the closure's types, so no [`FuncType`] is
    /// written by hand.
    ///
    /// ```
    /// use wamr_rs::{Caller, Linker, Runtime, Trap};
    ///
    /// let runtime = Runtime::new();
    /// let mut store = runtime.new_store();
    /// let mut linker = Linker::new();
    /// linker
    ///     .func_wrap(&mut store, "env", "add", |a: i32, b: i32| a.wrapping_add(b))
    ///     .func_wrap(&mut store, "env", "check", |_: &mut Caller<'_>, v: i64| {
    ///         if v < 0 { Err(Trap::host("negative")) } else { Ok(()) }
    ///     });
    /// # Ok::<(), wamr_rs::Error>(())
    /// ```
    pub fn func_wrap<Params, Results>(
        &mut self,
        store: &mut Store,
        module: &str,
        name: &str,
        f: impl IntoFunc<Params, Results>,
    ) -> &mut Self {
        let (ty, f) = f.into_func();
        let id = store.add_host_func(ty, f);
        self.define(module, name, wamr_runtime::Extern::Func(id))
    }
}
