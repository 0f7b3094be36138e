//! `wamr-rs cache`: what the code cache of `run` holds, and emptying it.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use wamr_rs::{CodeCache, CodeCacheConfig};

#[derive(Subcommand, Default, Clone, Copy)]
pub enum CacheAction {
    /// Print the cache's directory, its entries and their size.
    #[default]
    Show,
    /// Remove every entry.
    Clear,
}

/// The cache `run` uses: under the user's cache directory, or
/// `$WAMR_CACHE_DIR`; `None` when no location is known (no `$HOME`).
pub fn config() -> Option<CodeCacheConfig> {
    let config = CodeCacheConfig::user();
    if config.is_none() {
        tracing::debug!("no cache directory (set WAMR_CACHE_DIR or HOME): running without a cache");
    }
    config
}

pub fn cache(action: CacheAction) -> Result<()> {
    let config =
        config().ok_or_else(|| anyhow!("no cache directory: set WAMR_CACHE_DIR or HOME"))?;
    let cache = CodeCache::new(&config);
    match action {
        CacheAction::Show => {
            let s = cache.summary()?;
            println!("directory: {}", s.dir.display());
            println!("entries: {}", s.entries);
            println!(
                "size: {} bytes ({:.1} MiB of at most {:.0} MiB)",
                s.bytes,
                mib(s.bytes),
                mib(s.max_bytes)
            );
        }
        CacheAction::Clear => {
            let removed = cache.clear()?;
            println!("removed {removed} entries from {}", cache.dir().display());
        }
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 20)
}
