//! `Instance`: a handle to an instantiated module in a store.

use wamr_runtime::{
    Error, Extern, FuncId, GlobalId, InstanceId, MemoryId, Result, Store, TableId, Val,
};

use crate::typed::{TypedFunc, WasmTypeList};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    id: InstanceId,
}

impl Instance {
    pub fn from_id(id: InstanceId) -> Self {
        Instance { id }
    }

    pub fn id(&self) -> InstanceId {
        self.id
    }

    pub fn export(&self, store: &Store, name: &str) -> Option<Extern> {
        store.export(self.id, name)
    }

    pub fn func(&self, store: &Store, name: &str) -> Option<FuncId> {
        match self.export(store, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    pub fn memory(&self, store: &Store, name: &str) -> Option<MemoryId> {
        match self.export(store, name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    pub fn table(&self, store: &Store, name: &str) -> Option<TableId> {
        match self.export(store, name)? {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn global(&self, store: &Store, name: &str) -> Option<GlobalId> {
        match self.export(store, name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The exported function `name` as a [`TypedFunc`], after checking that
    /// its signature is `Params -> Results` (e.g. `<(i32, i32), i32>`).
    pub fn get_typed_func<Params: WasmTypeList, Results: WasmTypeList>(
        &self,
        store: &Store,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let func = self
            .func(store, name)
            .ok_or_else(|| Error::Other(format!("no exported function `{name}`")))?;
        TypedFunc::new(store, func).map_err(|e| Error::Other(format!("export `{name}`: {e}")))
    }

    /// Calls the exported function `name` with `args`.
    pub fn call(&self, store: &mut Store, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        let func = self
            .func(store, name)
            .ok_or_else(|| Error::Other(format!("no exported function `{name}`")))?;
        store.call(func, args)
    }
}
