//! Checks that LLVM 19 is installed before the LLVM tier is built, so a fresh
//! machine gets one clear instruction instead of a linker error.

fn main() {
    println!("cargo:rerun-if-env-changed=LLVM_SYS_191_PREFIX");
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_LLVM");
    if std::env::var_os("CARGO_FEATURE_LLVM").is_none() {
        return;
    }
    let prefix = std::env::var("LLVM_SYS_191_PREFIX").unwrap_or_else(|_| "/usr/lib/llvm-19".into());
    let config = std::path::Path::new(&prefix).join("bin/llvm-config");
    let version = std::process::Command::new(&config)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match version {
        Some(v) if v.starts_with("19.") => {}
        found => panic!(
            "\n\nwamr-rs needs LLVM 19 (found: {}). Run `scripts/setup` to install it \
             (Debian: llvm-19-dev), or set LLVM_SYS_191_PREFIX to an LLVM 19 install.\n\n",
            found.unwrap_or_else(|| format!("nothing at {}", config.display()))
        ),
    }
}
