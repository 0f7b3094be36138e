//! `Linker`: resolves a module's imports by name and instantiates it.

use std::collections::HashMap;
use std::sync::Arc;

use wamr_runtime::wasi::Wasi;
use wamr_runtime::{Caller, Error, Extern, FuncType, InstanceId, Module, Result, Store, Trap, Val};

use crate::Instance;

/// Named definitions (`module`, `name`) available to imports.
#[derive(Debug, Clone, Default)]
pub struct Linker {
    defs: HashMap<(String, String), Extern>,
    /// Set by [`Linker::define_wasi`]: the WASI functions, made in the store
    /// as a module imports them; memory64 modules importing WASI are refused.
    pub(crate) wasi: Option<Wasi>,
}

impl Linker {
    pub fn new() -> Self {
        Linker::default()
    }

    /// Defines `module.name` (replacing an earlier definition).
    pub fn define(&mut self, module: &str, name: &str, ext: Extern) -> &mut Self {
        self.defs
            .insert((module.to_string(), name.to_string()), ext);
        self
    }

    /// Defines a host function `module.name` of type `ty`.
    pub fn func(
        &mut self,
        store: &mut Store,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(&mut Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> &mut Self {
        let id = store.add_host_func(ty, Arc::new(f));
        self.define(module, name, Extern::Func(id))
    }

    /// Makes every export of `instance` importable as `module.<export name>`.
    pub fn define_instance(
        &mut self,
        store: &Store,
        module: &str,
        instance: InstanceId,
    ) -> &mut Self {
        let exports: Vec<String> = store
            .instance(instance)
            .module()
            .exports()
            .iter()
            .map(|e| e.name.clone())
            .collect();
        for name in exports {
            if let Some(ext) = store.export(instance, &name) {
                self.define(module, &name, ext);
            }
        }
        self
    }

    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    /// Resolves every import of `module`, then instantiates it.
    pub fn instantiate(&self, store: &mut Store, module: &Module) -> Result<Instance> {
        if self.wasi.is_some() {
            crate::wasi::check_module(module)?;
        }
        let imports = module
            .imports()
            .iter()
            .map(|import| {
                self.get(&import.module, &import.name)
                    .or_else(|| self.wasi_import(store, &import.module, &import.name))
                    .ok_or_else(|| {
                        Error::Link(format!(
                            "unknown import: {}.{} is not defined (expected {})",
                            import.module, import.name, import.ty
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        store.instantiate(module, &imports).map(Instance::from_id)
    }

    /// The WASI function `module.name` as a new host function of `store`,
    /// when WASI is defined and has one.
    fn wasi_import(&self, store: &mut Store, module: &str, name: &str) -> Option<Extern> {
        let (_, _, ty, func) = self.wasi.as_ref()?.import(module, name)?;
        Some(Extern::Func(store.add_host_func(ty, func)))
    }
}
