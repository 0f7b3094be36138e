//! `--tier auto`: modules start in the interpreter; once one has run
//! `TierUpPolicy::threshold` calls and loop back-edges, it is compiled by
//! the LLVM tier on a background thread, and the interpreter publishes the
//! native code into the instance's function slots (contract 5) at its next
//! tick. From then on calls run native code; activations already running
//! finish in the interpreter.
//!
//! The CLI compiles in a child process (`wamr_aot::worker`).
//!
//! With a code cache (`Config::code_cache`), a module whose code the cache
//! holds gets it when it is instantiated and runs native code from its
//! first call; a module compiled on tier-up leaves its code in the cache
//! for the next process (`wamr_aot::cache`).
//!
//! The whole module is compiled at once (its functions in parallel), which
//! keeps cross-function inlining and makes one publication per instance.
//! Compiler threads never block the program: it only ever looks at whether
//! finished code is there. A failed compile leaves the module in the
//! interpreter, with a warning.
//!
//! Dropping the manager (with the last runtime and store using it) cancels
//! queued compiles and waits for the one in progress: LLVM must not be
//! running when the process exits, since its exit-time destructors would
//! pull its state from under the compiler thread. (The CLI, which may end
//! mid-compile, leaves through `_exit` instead.)

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use wamr_aot::{CacheKey, CodeCache, CompileOptions, CompiledModule, Compiler, OsrFuncs};
use wamr_interp::{Interpreter, TierUp};
use wamr_runtime::{Executor, InstanceId, Module, Store, TierUpPolicy, Trap, Val, WasmFunc};

/// A module's tier-up progress, kept on the module.
#[derive(Debug, Default)]
struct ModuleTier {
    /// Calls and back-edges counted so far (in `interval` steps).
    hotness: AtomicU64,
    /// `COLD`, `QUEUED`, `READY` or `FAILED`.
    state: AtomicU8,
    /// When the module first crossed the threshold (`TierUpPolicy::hot_for`).
    hot_since: OnceLock<Instant>,
    code: OnceLock<Arc<CompiledModule>>,
    /// Whether the code cache was asked for this module's code.
    looked_up: std::sync::atomic::AtomicBool,
    /// On-stack-replacement entries beyond those of `code`.
    osr: Mutex<OsrCompiles>,
}

/// The first compile gives OSR entries only to the functions running when
/// the module got hot. An activation that started during that compile and
/// loops on in the interpreter asks for one more, which brings entries for
/// every function then running (`TierManager::osr_entry`). It asks only
/// once it has run on for as long as the first compile took: that compile
/// costs about as much again, and it slows the program while it runs
/// beside it (a wasted one cost CoreMark's timed run 16%), so waiting that
/// long first never loses more than twice what a perfect choice would.
#[derive(Debug, Default)]
struct OsrCompiles {
    /// Functions (module indices, ascending) with an OSR entry in the code,
    /// or in a compile queued or running.
    covered: Vec<u32>,
    /// Whether such a compile is queued or running.
    pending: bool,
    /// When the first compile's code was ready, and how long it took.
    ready: Option<(Instant, Duration)>,
    /// Code compiled for more OSR entries, newest last; kept while the
    /// module lives, since activations may be running in it.
    later: Vec<Arc<CompiledModule>>,
}

const COLD: u8 = 0;
const QUEUED: u8 = 1;
const READY: u8 = 2;
const FAILED: u8 = 3;

/// One module's compile, for `--tier-stats`.
#[derive(Debug, Clone)]
pub struct TierEvent {
    /// The module's name (name section) or a placeholder.
    pub module: String,
    pub functions: u32,
    /// When the module became hot, since the tier manager started.
    pub queued_at: Duration,
    /// How long the compile took; `None` while running.
    pub compile_time: Option<Duration>,
    /// Whether it failed (the module stays in the interpreter).
    pub failed: bool,
    /// A later compile that only adds OSR entries (see `OsrCompiles`).
    pub osr_only: bool,
    /// The code came from the code cache when the module was instantiated
    /// (`compile_time` is then how long loading it took): no compile, and
    /// no interpreter phase.
    pub from_cache: bool,
}

impl OsrCompiles {
    /// Whether `func`, looping on in the interpreter without an entry,
    /// should get one now.
    fn wants_more(&self, func: u32) -> bool {
        let waited = self.ready.is_some_and(|(at, took)| at.elapsed() >= took);
        waited && !self.pending && self.covered.binary_search(&func).is_err()
    }

    /// Records a compile of entries for `func` and the `running` functions
    /// (beside those covered already) as pending; returns what it asks.
    /// Every body is shared: this code only ever runs from its OSR entries.
    fn cover(&mut self, func: u32, mut running: Vec<u32>) -> OsrWanted {
        running.push(func);
        running.extend_from_slice(&self.covered);
        running.sort_unstable();
        running.dedup();
        self.covered = running.clone();
        self.pending = true;
        OsrWanted {
            shared: running.clone(),
            entries: running,
        }
    }
}

/// The OSR entries a compile asks for ([`OsrFuncs`], owned).
#[derive(Debug, Clone, Default)]
struct OsrWanted {
    entries: Vec<u32>,
    shared: Vec<u32>,
}

impl OsrWanted {
    /// Entries for the `running` functions (outermost first). The
    /// outermost has most likely been called once and will hardly be
    /// called again (a `main` whose loops drive the workload), so it
    /// shares its body with its entry: its own native copy would only cost
    /// compile time (a sixth of minicsv's run under `auto`). (Which functions
    /// share moves where the others land in the code, and CoreMark's score
    /// moves 4% either way with where its hot functions land: aligning
    /// `main`'s forwarder to 1 KiB alone turned a 4% loss into a gain.)
    fn running(running: Vec<u32>) -> Self {
        let shared = running.first().copied().into_iter().collect();
        let mut entries = running;
        entries.sort_unstable();
        OsrWanted { entries, shared }
    }

    fn funcs(&self) -> OsrFuncs<'_> {
        OsrFuncs {
            entries: &self.entries,
            shared: &self.shared,
        }
    }
}

/// The tier manager: counts hotness, compiles in the background, hands
/// native code to the interpreter.
#[derive(Debug)]
pub struct TierManager {
    compiler: Arc<dyn Compiler>,
    /// `None`: this host's best CPU level at -O3, found on the compiling
    /// thread when first needed (CPUID traps to the hypervisor in a VM,
    /// ~0.1 ms that a short program run under `--tier auto` would pay).
    options: Option<CompileOptions>,
    policy: TierUpPolicy,
    /// Where compiled code is looked up and kept between processes.
    cache: Option<Arc<CodeCache>>,
    started: Instant,
    /// Hands modules to the compiler thread, spawned on first use.
    queue: Mutex<Option<Sender<Job>>>,
    events: Arc<Mutex<Vec<TierEvent>>>,
    /// Modules queued and not yet finished.
    pending: Arc<std::sync::atomic::AtomicUsize>,
    /// Interpreter activations handed over to native code at a loop.
    osr_transfers: AtomicU64,
    /// The compiler thread, joined on drop.
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Set on drop: queued modules are skipped.
    cancelled: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for TierManager {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Release);
        // Without a sender the thread ends once the queue is drained.
        drop(
            self.queue
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let worker = self
            .worker
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(worker) = worker
            && worker.join().is_err()
        {
            tracing::warn!("the background compiler thread panicked");
        }
    }
}

impl TierManager {
    pub fn new(
        compiler: Arc<dyn Compiler>,
        options: Option<CompileOptions>,
        policy: TierUpPolicy,
    ) -> Self {
        TierManager {
            compiler,
            options,
            policy,
            cache: None,
            started: Instant::now(),
            queue: Mutex::new(None),
            events: Arc::new(Mutex::new(Vec::new())),
            pending: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            osr_transfers: AtomicU64::new(0),
            worker: Mutex::new(None),
            cancelled: Arc::default(),
        }
    }

    /// Takes modules' code from `cache` at instantiation when it has it,
    /// and stores there what tier-up compiles.
    pub fn with_code_cache(mut self, cache: Option<Arc<CodeCache>>) -> Self {
        self.cache = cache;
        self
    }

    /// The code cache, if any.
    pub fn code_cache(&self) -> Option<&Arc<CodeCache>> {
        self.cache.as_ref()
    }

    /// Attaches `module`'s code from the cache, if the cache holds it, so
    /// that it runs native code from its first call. Asks once per module.
    fn load_cached(&self, module: &Module) {
        let Some(cache) = &self.cache else { return };
        let tier = TierManager::tier_of(module);
        if tier.looked_up.swap(true, Ordering::AcqRel)
            || tier
                .state
                .compare_exchange(COLD, QUEUED, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return;
        }
        let begun = Instant::now();
        let key = CacheKey::for_module(module, &resolve(&self.options));
        let Some(code) = cache.load(&key, module) else {
            tier.state.store(COLD, Ordering::Release);
            return;
        };
        let elapsed = begun.elapsed();
        lock(&tier.osr).ready = Some((Instant::now(), elapsed));
        let _ = tier.code.set(wamr_aot::attach(module, code));
        tier.state.store(READY, Ordering::Release);
        lock(&self.events).push(TierEvent {
            module: module_name(module),
            functions: module.num_funcs() - module.num_imported_funcs(),
            queued_at: begun - self.started,
            compile_time: Some(elapsed),
            failed: false,
            osr_only: false,
            from_cache: true,
        });
        tracing::debug!(
            ?elapsed,
            "tier-up: module's code loaded from the code cache"
        );
    }

    /// Whether a compile is in progress or queued.
    pub fn busy(&self) -> bool {
        lock(&self.events).iter().any(|e| e.compile_time.is_none())
            || self.pending.load(Ordering::Acquire) > 0
    }

    /// How many running interpreter activations moved to native code at a
    /// loop header (on-stack replacement).
    pub fn osr_transfers(&self) -> u64 {
        self.osr_transfers.load(Ordering::Relaxed)
    }

    /// What was compiled so far, in order.
    pub fn events(&self) -> Vec<TierEvent> {
        lock(&self.events).clone()
    }

    fn tier_of(module: &Module) -> Arc<ModuleTier> {
        module.extension(|_| ModuleTier::default())
    }

    /// Adds `amount` to `module`'s hotness and queues its compile once it
    /// has been past the threshold for `hot_for` (at once when
    /// synchronous), with OSR entries for the `running` functions only
    /// (all of them with `osr_everywhere`): activations that start later
    /// find the native code at their call, and an OSR entry of a small
    /// function is a second copy of it.
    fn heat(
        &self,
        module: &Module,
        tier: &ModuleTier,
        amount: u64,
        running: &dyn Fn() -> Vec<u32>,
    ) {
        let hotness = tier.hotness.fetch_add(amount, Ordering::Relaxed) + amount;
        if hotness < self.policy.threshold {
            return;
        }
        let hot_for = self.policy.hot_for;
        if !self.policy.synchronous
            && !hot_for.is_zero()
            && tier.hot_since.get_or_init(Instant::now).elapsed() < hot_for
        {
            return;
        }
        if tier
            .state
            .compare_exchange(COLD, QUEUED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let osr = if self.policy.osr_everywhere {
                OsrWanted {
                    entries: (module.num_imported_funcs()..module.num_funcs()).collect(),
                    shared: Vec::new(),
                }
            } else {
                OsrWanted::running(running())
            };
            tracing::debug!(?osr, "tier-up: module hot, compiling it with OSR entries");
            lock(&tier.osr).covered = osr.entries.clone();
            self.compile(module, osr);
        }
    }

    /// Compiles `module` with OSR entries for `osr`: at once when the
    /// policy is synchronous, else in the background.
    fn compile(&self, module: &Module, osr: OsrWanted) {
        if self.policy.synchronous {
            compile_into(
                &*self.compiler,
                &resolve(&self.options),
                compiler_threads(&self.policy),
                (module, osr.funcs()),
                self.cache.as_deref(),
                &self.events,
                self.started,
            );
        } else {
            self.enqueue(module.clone(), osr);
        }
    }

    fn enqueue(&self, module: Module, osr: OsrWanted) {
        let mut queue = lock(&self.queue);
        let sender = queue.get_or_insert_with(|| self.spawn_compiler());
        self.pending.fetch_add(1, Ordering::AcqRel);
        // The compiler thread only exits once the sender is gone.
        if sender.send((module, osr)).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The background compiler: one thread that compiles queued modules, each
    /// on `threads()` threads. It ends when the manager is dropped (after
    /// the compile in progress, if any); nothing waits for it.
    fn spawn_compiler(&self) -> Sender<Job> {
        let (sender, receiver) = channel::<Job>();
        let compiler = self.compiler.clone();
        let options = self.options.clone();
        let policy = self.policy;
        let events = self.events.clone();
        let started = self.started;
        let pending = self.pending.clone();
        let cancelled = self.cancelled.clone();
        let cache = self.cache.clone();
        // The first tier-up request comes from the thread running wasm.
        let interpreter_cpu = crate::affinity::current_cpu();
        let worker = move |receiver: Receiver<Job>| {
            if let Some(cpu) = interpreter_cpu {
                crate::affinity::avoid_cpu(cpu);
            }
            // Here rather than on the program's thread: finding the cores
            // reads cgroup files.
            let threads = compiler_threads(&policy);
            let options = resolve(&options);
            while let Ok((module, osr)) = receiver.recv() {
                if !cancelled.load(Ordering::Acquire) {
                    let job = (&module, osr.funcs());
                    let cache = cache.as_deref();
                    compile_into(&*compiler, &options, threads, job, cache, &events, started);
                }
                pending.fetch_sub(1, Ordering::AcqRel);
            }
        };
        match std::thread::Builder::new()
            .name("wamr-tier-up".into())
            .spawn(move || worker(receiver))
        {
            Ok(handle) => *lock(&self.worker) = Some(handle),
            Err(e) => tracing::warn!(
                "cannot start the background compiler: {e}; staying in the interpreter"
            ),
        }
        sender
    }

    /// Publishes `module`'s native code into `instance`'s slots if it is
    /// ready; returns whether it is (now) published there.
    fn publish(&self, store: &Store, instance: InstanceId, tier: &ModuleTier) -> bool {
        if tier.state.load(Ordering::Acquire) != READY {
            return false;
        }
        let Some(code) = tier.code.get() else {
            return false;
        };
        code.publish(store, instance);
        true
    }
}

/// A module to compile, and the functions that get OSR entries.
type Job = (Module, OsrWanted);

/// The options to compile with: `options`, or this host's.
fn resolve(options: &Option<CompileOptions>) -> CompileOptions {
    options.clone().unwrap_or_else(|| CompileOptions::host(3))
}

fn module_name(module: &Module) -> String {
    module
        .names()
        .module
        .clone()
        .unwrap_or_else(|| "<module>".into())
}

/// Compiles `module` (with OSR entries for `osr`), attaches the code (or,
/// when the module has code already, keeps it for its OSR entries), and
/// records the event. The first compile's code goes into `cache`; a later
/// one's does not: it compiles every body only as an OSR variant, which
/// calls reach through a forwarder.
fn compile_into(
    compiler: &dyn Compiler,
    options: &CompileOptions,
    threads: usize,
    (module, osr): (&Module, OsrFuncs<'_>),
    cache: Option<&CodeCache>,
    events: &Mutex<Vec<TierEvent>>,
    started: Instant,
) {
    let tier = TierManager::tier_of(module);
    let osr_only = tier.code.get().is_some();
    let begun = Instant::now();
    let index = {
        let mut events = lock(events);
        events.push(TierEvent {
            module: module_name(module),
            functions: module.num_funcs() - module.num_imported_funcs(),
            queued_at: begun - started,
            compile_time: None,
            failed: false,
            osr_only,
            from_cache: false,
        });
        events.len() - 1
    };
    let key = cache
        .filter(|_| !osr_only)
        .map(|cache| (cache, CacheKey::for_module(module, options)));
    let cache = key.as_ref().map(|(cache, key)| (*cache, key));
    let result = wamr_aot::compile_module_cached(compiler, options, module, threads, osr, cache);
    let elapsed = begun.elapsed();
    let failed = result.is_err();
    match result {
        Ok(code) if osr_only => {
            let mut osr = lock(&tier.osr);
            osr.later.push(Arc::new(code));
            osr.pending = false;
        }
        Err(e) if osr_only => {
            lock(&tier.osr).pending = false;
            tracing::warn!("tier-up: compiling more OSR entries failed: {e}");
        }
        Ok(code) => {
            lock(&tier.osr).ready = Some((Instant::now(), elapsed));
            let code = wamr_aot::attach(module, code);
            let _ = tier.code.set(code);
            tier.state.store(READY, Ordering::Release);
            tracing::debug!(?elapsed, "tier-up: module compiled");
        }
        Err(e) => {
            tier.state.store(FAILED, Ordering::Release);
            tracing::warn!(
                "tier-up: compiling the module failed, it stays in the interpreter: {e}"
            );
        }
    }
    let mut events = lock(events);
    events[index].compile_time = Some(elapsed);
    events[index].failed = failed;
}

/// Compiler threads for one module under `policy`.
fn compiler_threads(policy: &TierUpPolicy) -> usize {
    match policy.compiler_threads {
        0 => std::thread::available_parallelism()
            .map_or(1, usize::from)
            .saturating_sub(1)
            .max(1),
        n => n,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The interpreter's ticks land here.
impl TierUp for TierManager {
    fn interval(&self) -> u32 {
        self.policy.threshold.clamp(1, 10_000) as u32
    }

    fn tick(&self, store: &Store, instance: InstanceId, running: &dyn Fn() -> Vec<u32>) -> bool {
        let module = store.instance(instance).module();
        let tier = TierManager::tier_of(module);
        match tier.state.load(Ordering::Acquire) {
            COLD => {
                self.heat(module, &tier, u64::from(self.interval()), running);
                self.publish(store, instance, &tier)
            }
            READY => self.publish(store, instance, &tier),
            _ => false,
        }
    }

    fn osr_entry(
        &self,
        store: &Store,
        instance: InstanceId,
        func: u32,
        running: &dyn Fn() -> Vec<u32>,
    ) -> Option<*const u8> {
        let module = store.instance(instance).module();
        let tier = TierManager::tier_of(module);
        if tier.state.load(Ordering::Acquire) != READY {
            return None;
        }
        let defined = func.checked_sub(module.num_imported_funcs())? as usize;
        let entry = tier.code.get()?.osr_entry(defined).or_else(|| {
            let mut osr = lock(&tier.osr);
            let later = osr.later.iter().rev().find_map(|c| c.osr_entry(defined));
            if later.is_none() && osr.wants_more(func) {
                let wanted = osr.cover(func, running());
                drop(osr);
                self.compile(module, wanted);
            }
            later
        })?;
        self.osr_transfers.fetch_add(1, Ordering::Relaxed);
        Some(entry)
    }
}

/// The `auto` tier's executor: native code where published, else the
/// interpreter (which reports hotness to the manager).
#[derive(Debug)]
pub struct TieredExecutor {
    manager: Arc<TierManager>,
    interpreter: Interpreter,
}

impl TieredExecutor {
    pub fn new(manager: Arc<TierManager>) -> Self {
        TieredExecutor {
            interpreter: Interpreter::with_tier_up(manager.clone()),
            manager,
        }
    }

    pub fn manager(&self) -> &Arc<TierManager> {
        &self.manager
    }
}

impl Executor for TieredExecutor {
    /// Takes the module's code from the code cache, if there is one.
    fn prepare(&self, module: &Module) -> wamr_runtime::Result<()> {
        self.manager.load_cached(module);
        Ok(())
    }

    fn call(
        &self,
        store: &mut Store,
        func: WasmFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), Trap> {
        let module = store.instance(func.instance).module().clone();
        let tier = TierManager::tier_of(&module);
        // An entry from the host counts as a call; with threshold 0 it
        // starts (or, synchronously, finishes) the compile. Nothing of this
        // call is interpreted yet, so it needs no OSR entry.
        if tier.state.load(Ordering::Acquire) == COLD {
            self.manager.heat(&module, &tier, 1, &Vec::new);
        }
        if self.manager.publish(store, func.instance, &tier)
            || wamr_aot::is_published(store, func.id)
        {
            return wamr_aot::call_published(store, func, args, results);
        }
        self.interpreter.call(store, func, args, results)
    }
}
