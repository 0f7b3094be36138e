//! A persistent cache of compiled code: the `.aot` image of a module,
//! kept in a directory between processes so that the next run of the same
//! module starts in native code without compiling.
//!
//! An entry is a whole `.aot` file named by its key, the hex SHA-256 of
//! everything the code depends on: the wasm, the runtime's compiler
//! version, the wasm features, and the compile options (triple, CPU, CPU
//! features, ABI, opt level). It holds the code of every defined function,
//! so it suits any caller asking for that module and those options,
//! whatever on-stack-replacement entries it also carries (see `CacheKey`).
//!
//! Entries are written to a temporary file in the same directory and
//! renamed into place, so a reader sees a whole entry or none. A reader
//! trusts nothing it has not checked: an entry that fails to parse, fails
//! its checksum, or was compiled by another runtime version, for other
//! options or another module, or for a CPU this host lacks, is removed and
//! treated as missing (the compile that follows replaces it). The
//! checksum catches damage, not forgery: an entry is as trusted as the
//! directory, which by default is the user's own cache directory.
//!
//! The directory is bounded: after each store, the least recently used
//! entries (by modification time, refreshed on every hit) are removed
//! until the rest fit. Failing to read or write the cache never fails a
//! run; it is logged and the code is compiled as without a cache.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wamr_runtime::{CodeCacheConfig, Module};

use crate::compiler::{COMPILER_VERSION, CompileOptions};
use crate::container::{AotImage, FORMAT_VERSION, HostTarget, WasmFeatures, sha256};
use crate::executor::CompiledModule;

const ENTRY_EXT: &str = "aot";
const TEMP_PREFIX: &str = ".tmp-";
/// A temporary file this old was left by a writer that died mid-write.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// What a cache lookup is for: a module's wasm compiled with `features`
/// for `options`.
///
/// On-stack-replacement entries are not part of the key. Tier-up compiles
/// a module with OSR entries for whatever was running when it got hot,
/// which differs from run to run; the code of every function is complete
/// either way (a function compiled only as its OSR variant has a native
/// entry that forwards to it). A later run that finds the entry at load
/// time runs native code from its first call and never needs an OSR entry,
/// and the `aot` tier never uses them; so the one entry per module and
/// options serves both tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    hex: String,
    wasm_sha256: [u8; 32],
    features: WasmFeatures,
    options: CompileOptions,
}

/// What tells this build from another of the same version: the size and
/// modification time of the running executable and of the compiler plugin
/// it would load. `COMPILER_VERSION` changes only with the version number,
/// so without this a rebuilt runtime or compiler (during development, or
/// an upgrade that kept the number) could run code the old one compiled
/// for another VM layout. Two `stat`s, once per process.
fn build_fingerprint() -> &'static [u8] {
    static FINGERPRINT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        let plugin = crate::plugin::plugin_candidates()
            .into_iter()
            .find(|p| p.is_file());
        let mut out = Vec::new();
        for path in std::env::current_exe().ok().into_iter().chain(plugin) {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            out.extend(meta.len().to_le_bytes());
            out.extend(modified.as_nanos().to_le_bytes());
        }
        out
    })
}

impl CacheKey {
    pub fn new(wasm: &[u8], features: WasmFeatures, options: &CompileOptions) -> Self {
        let wasm_sha256 = sha256(wasm);
        let mut h = Sha256::new();
        // Every field length-prefixed, so no two keys run together.
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(b"wamr-rs code cache 1");
        field(&wasm_sha256);
        field(COMPILER_VERSION.as_bytes());
        field(build_fingerprint());
        field(&FORMAT_VERSION.to_le_bytes());
        field(&features.bits().to_le_bytes());
        field(options.triple.as_bytes());
        field(options.cpu.as_bytes());
        field(options.features.as_bytes());
        field(options.abi.as_bytes());
        field(&[options.opt_level.min(3)]);
        let digest = h.finalize();
        let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
        CacheKey {
            hex,
            wasm_sha256,
            features,
            options: options.clone(),
        }
    }

    /// The key of `module` (its wasm and features) compiled for `options`.
    pub fn for_module(module: &Module, options: &CompileOptions) -> Self {
        CacheKey::new(
            module.bytes(),
            WasmFeatures::from_runtime(module.features()),
            options,
        )
    }

    /// The key as hex, the entry's file name without extension.
    pub fn as_str(&self) -> &str {
        &self.hex
    }

    /// Why `image` is not the code this key asks for, if it is not.
    fn mismatch(&self, image: &AotImage<'_>, host: &HostTarget) -> Option<String> {
        let meta = &image.meta;
        let o = &self.options;
        if let Err(e) = meta.check_compiler(COMPILER_VERSION) {
            return Some(e.to_string());
        }
        if image.wasm_sha256 != self.wasm_sha256 || sha256(image.wasm) != self.wasm_sha256 {
            return Some("compiled from another module".into());
        }
        if meta.wasm_features != self.features {
            return Some("compiled with other wasm features".into());
        }
        if (
            &meta.triple,
            &meta.cpu,
            &meta.features,
            &meta.abi,
            meta.opt_level,
        ) != (&o.triple, &o.cpu, &o.features, &o.abi, o.opt_level.min(3))
        {
            return Some(format!(
                "compiled for {} at -O{}",
                meta.describe_target(),
                meta.opt_level
            ));
        }
        meta.check_target(host).err().map(|e| e.to_string())
    }
}

/// Counts of what a cache did in this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a valid entry.
    pub hits: u64,
    /// Lookups that found none (including rejected entries).
    pub misses: u64,
    /// Entries found damaged or foreign, and removed.
    pub rejected: u64,
    /// Entries written.
    pub stored: u64,
    /// Entries removed to keep within the bound.
    pub evicted: u64,
}

/// What a cache directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSummary {
    pub dir: PathBuf,
    pub entries: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

/// A cache directory that cannot be listed or cleared.
#[derive(Debug, thiserror::Error)]
#[error("code cache {}: {source}", dir.display())]
pub struct CacheError {
    pub dir: PathBuf,
    #[source]
    pub source: io::Error,
}

/// A code cache in one directory (see the module documentation).
#[derive(Debug)]
pub struct CodeCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Found on first lookup: CPUID is start-up cost.
    host: OnceLock<HostTarget>,
    hits: AtomicU64,
    misses: AtomicU64,
    rejected: AtomicU64,
    stored: AtomicU64,
    evicted: AtomicU64,
}

impl CodeCache {
    /// The cache `config` describes; nothing is touched until it is used.
    pub fn new(config: &CodeCacheConfig) -> Self {
        CodeCache {
            dir: config.dir.clone(),
            max_bytes: config.max_bytes,
            host: OnceLock::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn stats(&self) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            rejected: get(&self.rejected),
            stored: get(&self.stored),
            evicted: get(&self.evicted),
        }
    }

    /// The file of `key`'s entry.
    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.{ENTRY_EXT}", key.hex))
    }

    /// The code of `key`'s entry for `module`, if there is a valid one;
    /// a damaged or foreign entry is removed.
    pub fn load(&self, key: &CacheKey, module: &Module) -> Option<CompiledModule> {
        let path = self.entry_path(key);
        // Read, not mapped: an entry may be replaced or evicted while the
        // code runs, and a copy cannot change under it.
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!("code cache: cannot read {}: {e}", path.display());
                }
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        let host = self.host.get_or_init(HostTarget::detect);
        let code = AotImage::from_bytes(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|image| match key.mismatch(&image, host) {
                Some(why) => Err(why),
                None => CompiledModule::from_image(module, &image).map_err(|e| e.to_string()),
            });
        match code {
            Ok(code) => {
                // Marks the entry as recently used, for eviction.
                if let Err(e) =
                    fs::File::open(&path).and_then(|f| f.set_modified(SystemTime::now()))
                {
                    tracing::debug!("code cache: cannot touch {}: {e}", path.display());
                }
                self.hits.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(entry = %path.display(), "code cache: hit");
                Some(code)
            }
            Err(why) => {
                tracing::warn!(
                    "code cache: ignoring and removing {}: {why}",
                    path.display()
                );
                let _ = fs::remove_file(&path);
                self.rejected.fetch_add(1, Ordering::Relaxed);
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Stores `bytes`, the `.aot` image compiled for `key`, then evicts
    /// what no longer fits. Failures are logged, never returned: a run
    /// does not depend on its cache.
    pub fn put(&self, key: &CacheKey, bytes: &[u8]) {
        match self.write_entry(key, bytes) {
            Ok(()) => {
                self.stored.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    key = key.as_str(),
                    bytes = bytes.len(),
                    "code cache: stored"
                );
            }
            Err(e) => {
                tracing::warn!("code cache: cannot store in {}: {e}", self.dir.display());
                return;
            }
        }
        if let Err(e) = self.evict() {
            tracing::warn!("code cache: cannot evict in {}: {e}", self.dir.display());
        }
    }

    fn write_entry(&self, key: &CacheKey, bytes: &[u8]) -> io::Result<()> {
        create_private_dir(&self.dir)?;
        // Unique among writers: other processes by id, other threads here
        // by the counter.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{}-{}",
            key.hex,
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut file = fs::File::create_new(&temp)?;
            file.write_all(bytes)?;
            // On disk before it is visible under its name, so that a crash
            // cannot leave a named entry with missing contents.
            file.sync_data()?;
            fs::rename(&temp, self.entry_path(key))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    /// Removes the least recently used entries until the rest fit in
    /// `max_bytes`, and temporary files left by writers that died.
    fn evict(&self) -> io::Result<()> {
        let mut entries = Vec::new();
        let mut total = 0u64;
        let now = SystemTime::now();
        for item in fs::read_dir(&self.dir)? {
            let Ok(item) = item else { continue };
            let Ok(meta) = item.metadata() else { continue };
            let path = item.path();
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if is_temp(&path) {
                if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            if meta.is_file() && is_entry(&path) {
                total += meta.len();
                entries.push((modified, meta.len(), path));
            }
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            // Another process may have removed it first: it is gone either way.
            match fs::remove_file(&path) {
                Ok(()) => {
                    self.evicted.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(entry = %path.display(), "code cache: evicted");
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            total -= len;
        }
        Ok(())
    }

    /// How many entries the directory holds, and their size.
    pub fn summary(&self) -> Result<CacheSummary, CacheError> {
        let mut summary = CacheSummary {
            dir: self.dir.clone(),
            entries: 0,
            bytes: 0,
            max_bytes: self.max_bytes,
        };
        for path in self.entries()? {
            if let Ok(meta) = fs::metadata(&path) {
                summary.entries += 1;
                summary.bytes += meta.len();
            }
        }
        Ok(summary)
    }

    /// Removes every entry (and temporary file); returns how many entries.
    pub fn clear(&self) -> Result<u64, CacheError> {
        let mut removed = 0;
        for path in self.entries()? {
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(CacheError {
                        dir: self.dir.clone(),
                        source,
                    });
                }
            }
        }
        if let Ok(items) = fs::read_dir(&self.dir) {
            for item in items.flatten() {
                if is_temp(&item.path()) {
                    let _ = fs::remove_file(item.path());
                }
            }
        }
        Ok(removed)
    }

    /// The entries' paths; none when the directory does not exist yet.
    fn entries(&self) -> Result<Vec<PathBuf>, CacheError> {
        let items = match fs::read_dir(&self.dir) {
            Ok(items) => items,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(CacheError {
                    dir: self.dir.clone(),
                    source,
                });
            }
        };
        Ok(items
            .flatten()
            .map(|item| item.path())
            .filter(|path| is_entry(path) && path.is_file())
            .collect())
    }
}

/// A file named like an entry: 64 hex digits and `.aot`. Nothing else in
/// the directory is counted, evicted or cleared.
fn is_entry(path: &Path) -> bool {
    path.extension() == Some(OsStr::new(ENTRY_EXT))
        && path
            .file_stem()
            .and_then(OsStr::to_str)
            .is_some_and(|stem| stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_temp(path: &Path) -> bool {
    path.file_name()
        .and_then(OsStr::to_str)
        .is_some_and(|name| name.starts_with(TEMP_PREFIX))
}

/// Creates `dir` (and its parents) readable and writable by the user only
/// where it is new: its entries become code this user runs.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
