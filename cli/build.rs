//! Link options of the `wamr-rs` binary.

fn main() {
    // Pack the binary's ~9,700 relative relocations as DT_RELR (glibc 2.36+,
    // binutils 2.38+: Debian 12 has both), so the dynamic loader applies
    // them in a fraction of the instructions: start-up of a short run is
    // measured against other interpreters (scripts/startup.sh).
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
