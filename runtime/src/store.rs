//! The store owns every runtime entity (functions, tables, memories, globals,
//! instances) and performs instantiation, identically for every tier
//! (contract 4). Entities are boxed so the pointers in VM contexts stay valid.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicPtr;

use crate::config::Config;
use crate::const_expr::ConstContext;
use crate::error::{Error, Result};
use crate::global::GlobalInstance;
use crate::memory::MemoryInstance;
use crate::module::{DataMode, ElementMode, ExternKind, Module};
use crate::table::TableInstance;
use crate::trap::{Trap, TrapKind};
use crate::types::{ExternType, FuncType, ValType};
use crate::value::{RawRef, Val};
use crate::vmctx::{BUILTINS, VMContext, VMFuncRef, VMGlobal, VMMemory, VMStoreState, VMTable};

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),*) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

id_type!(
    /// A function in a store.
    FuncId,
    /// A table in a store.
    TableId,
    /// A memory in a store.
    MemoryId,
    /// A global in a store.
    GlobalId,
    /// An instance in a store.
    InstanceId
);

/// Something an instance exports or imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(FuncId),
    Table(TableId),
    Memory(MemoryId),
    Global(GlobalId),
}

/// A host function: reads its arguments, writes its results, may trap.
pub type HostFn = dyn Fn(&mut Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync;

/// What a host function sees of its caller.
pub struct Caller<'a> {
    pub store: &'a mut Store,
    /// The instance whose code made the call, if any.
    pub instance: Option<InstanceId>,
}

impl Caller<'_> {
    /// The caller instance's export `name`.
    pub fn export(&self, name: &str) -> Option<Extern> {
        self.store.export(self.instance?, name)
    }

    /// The caller instance's exported memory `name`.
    pub fn memory(&mut self, name: &str) -> Option<&mut MemoryInstance> {
        match self.export(name)? {
            Extern::Memory(m) => Some(self.store.memory_mut(m)),
            _ => None,
        }
    }
}

/// Runs wasm code; implemented by the tiers. The store calls it for the start
/// function and for every call the embedder makes into wasm.
pub trait Executor: Send + Sync {
    /// Calls `func`, function `index` (module index space) of `instance`.
    /// The store has type-checked the arguments, sized `results` and counted
    /// this entry in [`Store::call_depth`] within the configured limit.
    fn call(
        &self,
        store: &mut Store,
        func: WasmFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap>;

    /// Readies `module` to run, once instantiation has matched its imports
    /// and allocated its memories and tables, before any of its code runs.
    /// A tier that compiles whole modules (AOT) compiles here, so that a
    /// module that cannot link costs no compile and a failed compile is an
    /// error of instantiation, not a trap of the first call.
    fn prepare(&self, module: &Module) -> Result<()> {
        let _ = module;
        Ok(())
    }
}

/// A function defined by an instance: what an [`Executor`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasmFunc {
    pub id: FuncId,
    pub instance: InstanceId,
    /// Index in the instance's module function index space.
    pub index: u32,
}

#[derive(Clone)]
pub enum FuncKind {
    /// Function `index` (module index space) of an instance.
    Wasm {
        instance: InstanceId,
        index: u32,
    },
    Host(Arc<HostFn>),
}

impl std::fmt::Debug for FuncKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FuncKind::Wasm { instance, index } => write!(f, "Wasm({instance:?}, {index})"),
            FuncKind::Host(_) => f.write_str("Host"),
        }
    }
}

#[derive(Debug)]
pub struct FuncInstance {
    ty: Arc<FuncType>,
    kind: FuncKind,
    slot: Box<VMFuncRef>,
}

impl FuncInstance {
    pub fn ty(&self) -> &Arc<FuncType> {
        &self.ty
    }
    pub fn kind(&self) -> &FuncKind {
        &self.kind
    }
    /// The function's slot; its address is the function's funcref value.
    pub fn slot(&self) -> &VMFuncRef {
        &self.slot
    }
    pub fn func_ref(&self) -> RawRef {
        RawRef(&*self.slot as *const VMFuncRef as u64)
    }
}

/// The runtime state of an instance.
#[derive(Debug)]
pub struct InstanceData {
    module: Module,
    funcs: Box<[FuncId]>,
    tables: Box<[TableId]>,
    memories: Box<[MemoryId]>,
    globals: Box<[GlobalId]>,
    /// Element segments' references; a dropped segment is empty.
    elements: Vec<Box<[RawRef]>>,
    data_dropped: Vec<bool>,
    /// Canonical id of each module type, as in the VM context.
    type_ids: Box<[u32]>,
    /// The arrays `vmctx` points into; owned here, read only through `vmctx`.
    _vm_arrays: VmArrays,
    vmctx: Box<VMContext>,
}

#[derive(Debug)]
struct VmArrays {
    _memories: Box<[*mut VMMemory]>,
    _tables: Box<[*mut VMTable]>,
    _globals: Box<[*mut VMGlobal]>,
    _funcs: Box<[*const VMFuncRef]>,
}

impl InstanceData {
    pub fn module(&self) -> &Module {
        &self.module
    }
    pub fn funcs(&self) -> &[FuncId] {
        &self.funcs
    }
    pub fn tables(&self) -> &[TableId] {
        &self.tables
    }
    pub fn memories(&self) -> &[MemoryId] {
        &self.memories
    }
    pub fn globals(&self) -> &[GlobalId] {
        &self.globals
    }
    pub fn type_ids(&self) -> &[u32] {
        &self.type_ids
    }
    /// The references of element segment `index` (empty once dropped).
    pub fn element_segment(&self, index: u32) -> &[RawRef] {
        &self.elements[index as usize]
    }
    pub fn drop_element_segment(&mut self, index: u32) {
        self.elements[index as usize] = Box::new([]);
    }
    /// The bytes of data segment `index` (empty once dropped).
    pub fn data_segment(&self, index: u32) -> &[u8] {
        if self.data_dropped[index as usize] {
            return &[];
        }
        self.module.data_bytes(&self.module.data()[index as usize])
    }
    pub fn drop_data_segment(&mut self, index: u32) {
        self.data_dropped[index as usize] = true;
    }
    /// The instance's VM context.
    pub fn vmctx(&self) -> *const VMContext {
        &*self.vmctx
    }
}

/// Interns function types so that signature checks compare integers.
#[derive(Debug, Default)]
struct TypeRegistry {
    ids: HashMap<FuncType, u32>,
}

impl TypeRegistry {
    fn intern(&mut self, ty: &FuncType) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(ty.clone()).or_insert(next)
    }
}

/// Owner of all runtime state. Not thread-safe: one thread runs a store at a time.
#[allow(
    clippy::vec_box,
    reason = "boxed so VM contexts can point at entities while the vectors grow"
)]
pub struct Store {
    config: Config,
    types: TypeRegistry,
    funcs: Vec<FuncInstance>,
    tables: Vec<Box<TableInstance>>,
    memories: Vec<Box<MemoryInstance>>,
    globals: Vec<Box<GlobalInstance>>,
    instances: Vec<InstanceData>,
    executor: Option<Arc<dyn Executor>>,
    /// Current nesting of wasm calls, shared by every tier and across host re-entry.
    pub call_depth: u32,
    /// Native stack address of the outermost call into wasm (valid while
    /// `call_depth > 0`): nested entries are measured against it.
    native_stack_base: usize,
    /// The cell compiled code reads (boxed: VM contexts point at it).
    state: Box<VMStoreState>,
    /// Traps raised while compiled code runs that carry more than a kind
    /// (host errors, exits), taken by the host entry.
    pending_trap: Option<Trap>,
    /// GC arrays, freed with the store (see [`Store::new_array`]).
    arrays: std::cell::RefCell<Vec<Box<[u64]>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("funcs", &self.funcs.len())
            .field("instances", &self.instances.len())
            .finish_non_exhaustive()
    }
}

impl Store {
    pub fn new(config: Config) -> Self {
        Store {
            config,
            types: TypeRegistry::default(),
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
            executor: None,
            call_depth: 0,
            native_stack_base: 0,
            state: Box::default(),
            pending_trap: None,
            arrays: Default::default(),
        }
    }

    /// The most elements a GC array may have.
    pub const MAX_ARRAY_LEN: u32 = 1 << 24;

    /// A new GC array of `len` zero elements, owned by the store until it
    /// is dropped. Its reference is the address of its first word, which
    /// holds the length, so that every array (even an empty one) has its
    /// own.
    pub fn new_array(&self, len: u32) -> Result<RawRef> {
        if len > Self::MAX_ARRAY_LEN {
            return Err(Error::Other(format!(
                "an array of {len} elements is too large (at most {})",
                Self::MAX_ARRAY_LEN
            )));
        }
        let mut words = vec![0u64; len as usize + 1].into_boxed_slice();
        words[0] = u64::from(len);
        let r = RawRef(words.as_ptr() as u64);
        self.arrays.borrow_mut().push(words);
        Ok(r)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets the tier that runs wasm code in this store.
    pub fn set_executor(&mut self, executor: Arc<dyn Executor>) {
        self.executor = Some(executor);
    }

    pub fn func(&self, id: FuncId) -> &FuncInstance {
        &self.funcs[id.index()]
    }
    pub fn table(&self, id: TableId) -> &TableInstance {
        &self.tables[id.index()]
    }
    pub fn table_mut(&mut self, id: TableId) -> &mut TableInstance {
        &mut self.tables[id.index()]
    }
    pub fn memory(&self, id: MemoryId) -> &MemoryInstance {
        &self.memories[id.index()]
    }
    pub fn memory_mut(&mut self, id: MemoryId) -> &mut MemoryInstance {
        &mut self.memories[id.index()]
    }
    pub fn global(&self, id: GlobalId) -> &GlobalInstance {
        &self.globals[id.index()]
    }
    pub fn global_mut(&mut self, id: GlobalId) -> &mut GlobalInstance {
        &mut self.globals[id.index()]
    }
    pub fn instance(&self, id: InstanceId) -> &InstanceData {
        &self.instances[id.index()]
    }
    pub fn instance_mut(&mut self, id: InstanceId) -> &mut InstanceData {
        &mut self.instances[id.index()]
    }
    pub fn num_instances(&self) -> usize {
        self.instances.len()
    }

    /// The function whose slot is at `r` (a non-null funcref of this store).
    pub fn func_of_ref(&self, r: RawRef) -> Option<FuncId> {
        if r.is_null() {
            return None;
        }
        // SAFETY: funcrefs in this store are addresses of live, boxed slots
        // owned by `self.funcs`, which are never freed while the store lives.
        let slot = unsafe { &*(r.0 as *const VMFuncRef) };
        Some(FuncId(slot.func_id))
    }

    /// Canonical id of a function type (equal types, equal ids).
    pub fn type_id(&mut self, ty: &FuncType) -> u32 {
        self.types.intern(ty)
    }

    pub fn add_host_func(&mut self, ty: FuncType, f: Arc<HostFn>) -> FuncId {
        self.push_func(Arc::new(ty), FuncKind::Host(f), std::ptr::null_mut())
    }

    fn push_func(&mut self, ty: Arc<FuncType>, kind: FuncKind, vmctx: *mut VMContext) -> FuncId {
        let id = FuncId(self.funcs.len() as u32);
        let type_id = self.types.intern(&ty);
        let slot = Box::new(VMFuncRef {
            code: AtomicPtr::new(std::ptr::null_mut()),
            type_id,
            func_id: id.0,
            vmctx,
            array_call: AtomicPtr::new(std::ptr::null_mut()),
        });
        self.funcs.push(FuncInstance { ty, kind, slot });
        id
    }

    /// Creates a standalone memory (e.g. for the host to export).
    pub fn add_memory(&mut self, ty: crate::MemoryType) -> Result<MemoryId> {
        let mem = MemoryInstance::new(ty, self.config.memory_page_limit)?;
        self.memories.push(Box::new(mem));
        Ok(MemoryId(self.memories.len() as u32 - 1))
    }

    pub fn add_table(&mut self, ty: crate::TableType, init: RawRef) -> Result<TableId> {
        self.tables.push(Box::new(TableInstance::new(ty, init)?));
        Ok(TableId(self.tables.len() as u32 - 1))
    }

    pub fn add_global(&mut self, ty: crate::GlobalType, value: Val) -> Result<GlobalId> {
        if !value.has_type(ty.content) {
            return Err(Error::Other(format!(
                "global initial value does not have type {}",
                ty.content
            )));
        }
        self.globals.push(Box::new(GlobalInstance::new(ty, value)));
        Ok(GlobalId(self.globals.len() as u32 - 1))
    }

    /// The type of an entity as import matching sees it (current sizes).
    pub fn extern_type(&self, ext: Extern) -> ExternType {
        match ext {
            Extern::Func(f) => ExternType::Func((*self.func(f).ty).clone()),
            Extern::Table(t) => ExternType::Table(self.table(t).current_type()),
            Extern::Memory(m) => {
                let mem = self.memory(m);
                let mut ty = mem.ty();
                ty.limits.min = mem.pages();
                ExternType::Memory(ty)
            }
            Extern::Global(g) => ExternType::Global(self.global(g).ty()),
        }
    }

    /// Export `name` of `instance`.
    pub fn export(&self, instance: InstanceId, name: &str) -> Option<Extern> {
        let inst = self.instance(instance);
        let export = inst.module.export(name)?;
        let i = export.index as usize;
        Some(match export.kind {
            ExternKind::Func => Extern::Func(inst.funcs[i]),
            ExternKind::Table => Extern::Table(inst.tables[i]),
            ExternKind::Memory => Extern::Memory(inst.memories[i]),
            ExternKind::Global => Extern::Global(inst.globals[i]),
        })
    }

    /// Calls `func` with type-checked arguments and returns its results.
    pub fn call(&mut self, func: FuncId, args: &[Val]) -> Result<Vec<Val>> {
        let ty = self.func(func).ty.clone();
        if args.len() != ty.params().len()
            || !args.iter().zip(ty.params()).all(|(a, &t)| a.has_type(t))
        {
            return Err(Error::Other(format!(
                "wrong arguments for a function of type {ty}: {args:?}"
            )));
        }
        let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
        self.call_unchecked(func, args, &mut results)?;
        Ok(results)
    }

    /// Calls `func`; arguments and result slots must match its type.
    pub fn call_unchecked(
        &mut self,
        func: FuncId,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        self.call_from(None, func, args, results)
    }

    /// Like [`Store::call_unchecked`], on behalf of code in `caller` (which
    /// host functions see as [`Caller::instance`]).
    pub fn call_from(
        &mut self,
        caller: Option<InstanceId>,
        func: FuncId,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        match &self.funcs[func.index()].kind {
            FuncKind::Host(f) => {
                let f = f.clone();
                let mut caller = Caller {
                    store: self,
                    instance: caller,
                };
                // A panic must not unwind into the wasm frames below (the
                // interpreter's and compiled code cannot unwind, and the
                // process would abort): it becomes a trap that names it.
                let call = std::panic::AssertUnwindSafe(|| f(&mut caller, args, results));
                std::panic::catch_unwind(call).unwrap_or_else(|payload| {
                    let what = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no message".into());
                    Err(Trap::host(format!("host function panicked: {what}")))
                })
            }
            FuncKind::Wasm { instance, index } => {
                let wasm = WasmFunc {
                    id: func,
                    instance: *instance,
                    index: *index,
                };
                let Some(executor) = self.executor.clone() else {
                    return Err(Trap::host("no execution tier is configured for this store"));
                };
                let here = native_stack_position();
                if self.call_depth == 0 {
                    // A limit out of range (e.g. a value stack too large to
                    // reserve) must not reach the tiers that act on it.
                    self.config
                        .validate()
                        .map_err(|e| Trap::host(format!("invalid configuration: {e}")))?;
                    self.native_stack_base = here;
                    self.state.stack_limit =
                        here.saturating_sub(self.config.max_native_stack_bytes);
                } else if self.native_stack_base.saturating_sub(here)
                    > self.config.max_native_stack_bytes
                {
                    // Re-entered through host functions until the native
                    // stack budget ran out: trap before the thread's stack does.
                    return Err(TrapKind::StackOverflow.into());
                }
                if self.call_depth >= self.config.max_call_depth {
                    return Err(TrapKind::StackOverflow.into());
                }
                self.call_depth += 1;
                let outcome = executor.call(self, wasm, args, results);
                self.call_depth -= 1;
                outcome
            }
        }
    }

    /// Instantiates `module` with `imports` given in the module's import order.
    ///
    /// Follows the spec's order: match imports, create functions, tables,
    /// memories and globals, then initialise active element and data segments
    /// in order, then run the start function. A failure after the instance
    /// was created leaves the effects made so far (as the spec says) and
    /// keeps the instance's functions alive, since tables may refer to them.
    pub fn instantiate(&mut self, module: &Module, imports: &[Extern]) -> Result<InstanceId> {
        if imports.len() != module.imports().len() {
            return Err(Error::Link(format!(
                "module needs {} imports, {} were provided",
                module.imports().len(),
                imports.len()
            )));
        }
        for (import, &ext) in module.imports().iter().zip(imports) {
            let found = self.extern_type(ext);
            if !import_matches(&import.ty, &found, self, ext) {
                return Err(Error::Link(format!(
                    "incompatible import type for {}.{}: expected {}, found {}",
                    import.module, import.name, import.ty, found
                )));
            }
        }
        // Allocate memories and tables first: the only steps that can fail
        // for lack of resources, before anything observable happens.
        let mut memories = Vec::with_capacity(module.memories().len());
        let mut tables = Vec::with_capacity(module.tables().len());
        for &ext in imports {
            match ext {
                Extern::Memory(m) => memories.push(m),
                Extern::Table(t) => tables.push(t),
                _ => {}
            }
        }
        let first_memory = self.memories.len();
        for ty in &module.memories()[module.num_imported_memories() as usize..] {
            match MemoryInstance::new(*ty, self.config.memory_page_limit) {
                Ok(mem) => {
                    memories.push(MemoryId(self.memories.len() as u32));
                    self.memories.push(Box::new(mem));
                }
                Err(e) => {
                    self.memories.truncate(first_memory);
                    return Err(e);
                }
            }
        }
        let first_table = self.tables.len();
        for ty in &module.tables()[module.num_imported_tables() as usize..] {
            tables.push(self.add_table(*ty, RawRef::NULL)?);
        }
        if let Some(executor) = &self.executor
            && let Err(e) = executor.prepare(module)
        {
            self.memories.truncate(first_memory);
            self.tables.truncate(first_table);
            return Err(e);
        }

        let id = InstanceId(self.instances.len() as u32);
        let mut vmctx = Box::new(VMContext {
            memories: std::ptr::null(),
            tables: std::ptr::null(),
            globals: std::ptr::null(),
            funcs: std::ptr::null(),
            type_ids: std::ptr::null(),
            builtins: &BUILTINS,
            state: &mut *self.state,
        });
        let vmctx_ptr: *mut VMContext = &mut *vmctx;

        let mut funcs = Vec::with_capacity(module.num_funcs() as usize);
        for &ext in imports {
            if let Extern::Func(f) = ext {
                funcs.push(f);
            }
        }
        for index in module.num_imported_funcs()..module.num_funcs() {
            let ty = module.func_type(index).clone();
            funcs.push(self.push_func(
                ty,
                FuncKind::Wasm {
                    instance: id,
                    index,
                },
                vmctx_ptr,
            ));
        }

        // Globals: imports first, then defined ones in order (an initialiser
        // may read any earlier global and take any function's reference).
        let mut globals: Vec<GlobalId> = imports
            .iter()
            .filter_map(|e| match e {
                Extern::Global(g) => Some(*g),
                _ => None,
            })
            .collect();
        for (ty, init) in module.globals()[module.num_imported_globals() as usize..]
            .iter()
            .zip(module.global_inits())
        {
            let value = init.eval(&InitContext {
                store: self,
                globals: &globals,
                funcs: &funcs,
            })?;
            globals.push(self.add_global(*ty, value)?);
        }

        let mut elements = Vec::with_capacity(module.elements().len());
        for seg in module.elements() {
            let ctx = InitContext {
                store: self,
                globals: &globals,
                funcs: &funcs,
            };
            let refs = seg
                .items
                .iter()
                .map(|item| match item.eval(&ctx)? {
                    Val::Ref(r) => Ok(r),
                    other => Err(Error::Other(format!(
                        "element item is not a reference: {other:?}"
                    ))),
                })
                .collect::<Result<Box<[RawRef]>>>()?;
            elements.push(refs);
        }

        let type_ids: Box<[u32]> = module
            .types()
            .iter()
            .map(|t| self.types.intern(t))
            .collect();
        let vm_memories: Box<[*mut VMMemory]> = memories
            .iter()
            .map(|&m| self.memories[m.index()].vm())
            .collect();
        let vm_tables: Box<[*mut VMTable]> = tables
            .iter()
            .map(|&t| self.tables[t.index()].vm())
            .collect();
        let vm_globals: Box<[*mut VMGlobal]> = globals
            .iter()
            .map(|&g| self.globals[g.index()].vm())
            .collect();
        let vm_funcs: Box<[*const VMFuncRef]> = funcs
            .iter()
            .map(|&f| &*self.funcs[f.index()].slot as *const VMFuncRef)
            .collect();
        vmctx.memories = vm_memories.as_ptr();
        vmctx.tables = vm_tables.as_ptr();
        vmctx.globals = vm_globals.as_ptr();
        vmctx.funcs = vm_funcs.as_ptr();
        vmctx.type_ids = type_ids.as_ptr();

        self.instances.push(InstanceData {
            module: module.clone(),
            funcs: funcs.into(),
            tables: tables.into(),
            memories: memories.into(),
            globals: globals.into(),
            elements,
            data_dropped: vec![false; module.data().len()],
            type_ids,
            _vm_arrays: VmArrays {
                _memories: vm_memories,
                _tables: vm_tables,
                _globals: vm_globals,
                _funcs: vm_funcs,
            },
            vmctx,
        });

        self.initialize_segments(id)?;
        if let Some(start) = module.start() {
            let func = self.instance(id).funcs[start as usize];
            self.call_unchecked(func, &[], &mut [])?;
        }
        Ok(id)
    }

    /// Runs active element then data segments in order, then drops the
    /// active and declared ones, as `table.init`/`memory.init` + drop would.
    fn initialize_segments(&mut self, id: InstanceId) -> Result<()> {
        let module = self.instance(id).module.clone();
        for (index, seg) in module.elements().iter().enumerate() {
            match &seg.mode {
                ElementMode::Active { table, offset } => {
                    let offset = self.eval_offset(id, offset)?;
                    let table = self.instance(id).tables[*table as usize];
                    let n = self.instance(id).elements[index].len() as u64;
                    self.table_init(id, table, index as u32, offset, 0, n)?;
                    self.instance_mut(id).drop_element_segment(index as u32);
                }
                ElementMode::Declared => self.instance_mut(id).drop_element_segment(index as u32),
                ElementMode::Passive => {}
            }
        }
        for (index, seg) in module.data().iter().enumerate() {
            if let DataMode::Active { memory, offset } = &seg.mode {
                let offset = self.eval_offset(id, offset)?;
                let memory = self.instance(id).memories[*memory as usize];
                let n = self.instance(id).data_segment(index as u32).len() as u64;
                self.memory_init(id, memory, index as u32, offset, 0, n)?;
                self.instance_mut(id).drop_data_segment(index as u32);
            }
        }
        Ok(())
    }

    fn eval_offset(&self, id: InstanceId, expr: &crate::ConstExpr) -> Result<u64> {
        let inst = self.instance(id);
        let v = expr.eval(&InitContext {
            store: self,
            globals: &inst.globals,
            funcs: &inst.funcs,
        })?;
        Ok(match v {
            Val::I32(v) => v as u32 as u64,
            Val::I64(v) => v as u64,
            other => {
                return Err(Error::Other(format!(
                    "segment offset is not an integer: {other:?}"
                )));
            }
        })
    }

    /// `table.init`: copies `len` references of element segment `segment`
    /// (from `src`) into `table` at `dst`, bounds-checked as a whole first.
    pub fn table_init(
        &mut self,
        instance: InstanceId,
        table: TableId,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let refs = &self.instances[instance.index()].elements[segment as usize];
        let table = &mut self.tables[table.index()];
        let src_range = checked_range(src, len, refs.len() as u64);
        let dst_range = checked_range(dst, len, table.size());
        let (Some(s), Some(d)) = (src_range, dst_range) else {
            return Err(TrapKind::TableOutOfBounds.into());
        };
        for (slot, r) in table.elements_mut()[d].iter_mut().zip(&refs[s]) {
            *slot = r.0;
        }
        Ok(())
    }

    /// `memory.init`: copies `len` bytes of data segment `segment` (from
    /// `src`) into `memory` at `dst`, bounds-checked as a whole first.
    pub fn memory_init(
        &mut self,
        instance: InstanceId,
        memory: MemoryId,
        segment: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), Trap> {
        let bytes = self.instances[instance.index()].data_segment(segment);
        let mem = &mut self.memories[memory.index()];
        let src_range = checked_range(src, len, bytes.len() as u64);
        let dst_range = checked_range(dst, len, mem.len());
        let (Some(s), Some(d)) = (src_range, dst_range) else {
            return Err(TrapKind::MemoryOutOfBounds.into());
        };
        mem.data_mut()[d].copy_from_slice(&bytes[s]);
        Ok(())
    }
}

impl Store {
    /// The pending trap compiled code recorded, if any, clearing it: for
    /// the host entry of a compiled-code tier.
    pub fn take_compiled_trap(&mut self) -> Option<Trap> {
        let code = std::mem::take(&mut self.state.trap);
        if code == 0 {
            return None;
        }
        Some(
            self.pending_trap
                .take()
                .unwrap_or_else(|| trap_of_code(code)),
        )
    }
}

/// The trap compiled code records as `code` (a [`TrapKind`] discriminant).
fn trap_of_code(code: u32) -> Trap {
    match TrapKind::from_code(code) {
        Some(kind) => kind.into(),
        None => Trap::host(format!("unknown trap code {code}")),
    }
}

thread_local! {
    /// The store whose compiled code runs on this thread, for builtins that
    /// need more than the VM context (host calls). Set by `with_current`.
    static CURRENT: std::cell::Cell<*mut Store> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

impl Store {
    /// Runs `f` with `self` registered as this thread's current store (for
    /// the `call_func` builtin), restoring the previous one afterwards.
    fn with_current<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> R {
        let previous = CURRENT.with(|c| c.replace(self as *mut Store));
        let result = f(self);
        CURRENT.with(|c| c.set(previous));
        result
    }

    /// Enters compiled code: runs `entry(vmctx, a, b)` with `self` current.
    /// Every call from Rust into compiled code comes here. A memory32
    /// access that hit a guard page (see [`crate::guard`]) ends the call
    /// with the out-of-bounds trap in the function that made the access,
    /// as an explicit check would have; the caller collects traps with
    /// [`Store::take_compiled_trap`].
    ///
    /// # Safety
    /// `entry` is registered compiled code of this store taking (at most)
    /// these arguments, valid for it; `vmctx` is its instance's context.
    pub unsafe fn enter_compiled(
        &mut self,
        entry: *const u8,
        vmctx: *mut crate::vmctx::VMContext,
        a: *mut u64,
        b: u32,
    ) {
        // SAFETY: forwarded from the caller.
        let result = self
            .with_current(|_| unsafe { crate::guard::call_compiled(entry, vmctx.cast(), a, b) });
        if let Err(fault) = result {
            // Name the function whose code made the access (maybe inlined
            // elsewhere), as `raise_trap` does for an explicit check; else
            // the caller names the function it entered.
            self.pending_trap = crate::guard::function_at(fault.pc).map(|(module, func)| {
                Trap::from(TrapKind::MemoryOutOfBounds).in_function(|| module.func_name(func))
            });
            self.state.trap = TrapKind::MemoryOutOfBounds as u32;
        }
    }
}

/// The `raise_trap` builtin (see [`crate::vmctx::Builtins::raise_trap`]).
///
/// # Safety
/// Compiled code of the current store (see [`Store::with_current`]) is
/// running, and `vmctx` is the context of one of its instances.
pub(crate) unsafe extern "C" fn builtin_raise_trap(vmctx: *mut VMContext, kind: u32, func: u32) {
    let store_ptr = CURRENT.with(|c| c.get());
    // SAFETY: compiled code runs only inside `with_current`, so the pointer
    // is the live store (the caller's `&mut` is not used meanwhile).
    let store = unsafe { &mut *store_ptr };
    if kind != 0 {
        store.state.trap = kind;
        store.pending_trap = None;
    }
    let code = store.state.trap;
    if code == 0 {
        return;
    }
    let trap = store
        .pending_trap
        .take()
        .unwrap_or_else(|| trap_of_code(code));
    let trap = match (trap.function(), store.instance_of_vmctx(vmctx)) {
        (None, Some(instance)) => {
            let module = store.instance(instance).module();
            trap.in_function(|| module.func_name(func))
        }
        _ => trap,
    };
    store.pending_trap = Some(trap);
}

/// The `call_func` builtin: calls the function of slot `func` with
/// arguments and results in `values`.
///
/// # Safety
/// Compiled code of the current store (see [`Store::with_current`]) is
/// running, `func` is a live slot of that store and `values` is a value
/// array of the function's type (`FuncType::value_array_len` slots).
pub(crate) unsafe extern "C" fn builtin_call_func(
    vmctx: *mut VMContext,
    func: *const VMFuncRef,
    values: *mut u64,
) {
    let store_ptr = CURRENT.with(|c| c.get());
    // SAFETY: compiled code runs only inside `with_current`, so the pointer
    // is the live store (the caller's `&mut` is not used meanwhile).
    let store = unsafe { &mut *store_ptr };
    // SAFETY: guaranteed by the caller.
    let id = FuncId(unsafe { (*func).func_id });
    // Host functions see the calling instance (WASI finds its memory there).
    let caller = store.instance_of_vmctx(vmctx);
    let ty = store.func(id).ty().clone();
    // SAFETY: `values` holds the arguments and has room for the results,
    // in slots (guaranteed by the caller).
    let values = unsafe { std::slice::from_raw_parts_mut(values, ty.value_array_len()) };
    let args: Vec<Val> = Val::read_all_slots(ty.params(), values).collect();
    let mut results: Vec<Val> = ty.results().iter().map(|&t| Val::default_for(t)).collect();
    match store.call_from(caller, id, &args, &mut results) {
        Ok(()) => Val::write_all_slots(&results, values),
        Err(trap) => {
            store.state.trap = trap.kind() as u32;
            store.pending_trap = Some(trap);
        }
    }
}

/// The `bulk` builtin: bulk memory and table operations (see
/// [`Store::run_bulk_op`]); a trap is recorded for the caller to find.
///
/// # Safety
/// Compiled code of the current store (see [`Store::with_current`]) is
/// running and `vmctx` is the context of the calling instance.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn builtin_bulk(
    vmctx: *mut VMContext,
    op: u32,
    x: u32,
    y: u32,
    a: u64,
    b: u64,
    c: u64,
) -> u64 {
    let store_ptr = CURRENT.with(|cell| cell.get());
    // SAFETY: as in `builtin_call_func`.
    let store = unsafe { &mut *store_ptr };
    let req = crate::bulk::BulkRequest {
        op,
        x,
        y,
        operands: [a, b, c],
    };
    match store.run_bulk_op(vmctx, req) {
        Ok(v) => v,
        Err(trap) => {
            store.state.trap = trap.kind() as u32;
            store.pending_trap = Some(trap);
            0
        }
    }
}

/// An address on the current native stack (the stack grows downwards on
/// every target wamr-rs supports).
#[inline(never)]
fn native_stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// `[start, start + len)` if it lies within `0..size`.
fn checked_range(start: u64, len: u64, size: u64) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size).then_some(start as usize..end as usize)
}

fn import_matches(expected: &ExternType, found: &ExternType, store: &Store, ext: Extern) -> bool {
    match (expected, found) {
        (ExternType::Func(a), ExternType::Func(b)) => a == b,
        (ExternType::Global(a), ExternType::Global(b)) => a == b,
        (ExternType::Table(a), ExternType::Table(b)) => {
            a.element == b.element && a.index == b.index && b.limits.matches(&a.limits)
        }
        (ExternType::Memory(a), ExternType::Memory(b)) => {
            let _ = (store, ext);
            a.index == b.index && a.shared == b.shared && b.limits.matches(&a.limits)
        }
        _ => false,
    }
}

struct InitContext<'a> {
    store: &'a Store,
    globals: &'a [GlobalId],
    funcs: &'a [FuncId],
}

impl ConstContext for InitContext<'_> {
    fn global(&self, index: u32) -> Val {
        self.store.global(self.globals[index as usize]).get()
    }

    fn func_ref(&self, index: u32) -> RawRef {
        self.store.func(self.funcs[index as usize]).func_ref()
    }

    fn new_array(&self, len: u32) -> Result<RawRef> {
        self.store.new_array(len)
    }
}

impl ValType {
    /// The null reference of a reference type, or zero.
    pub fn zero(self) -> Val {
        Val::default_for(self)
    }
}
