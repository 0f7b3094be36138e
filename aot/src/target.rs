//! Compile targets as users name them (`--target`, `--cpu`,
//! `--cpu-features`), checked before LLVM sees them: LLVM only warns about
//! an unknown CPU or feature, and would silently compile something else.

use crate::compiler::CompileOptions;

/// Why a target description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("unknown target `{0}` (supported: x86_64, riscv32, riscv64, or a full triple of one)")]
    UnknownTarget(String),
    #[error("unknown CPU `{cpu}` for {arch} (known: {known})")]
    UnknownCpu {
        cpu: String,
        arch: &'static str,
        known: String,
    },
    #[error("unknown CPU feature `{feature}` for {arch} (known: {known})")]
    UnknownFeature {
        feature: String,
        arch: &'static str,
        known: String,
    },
    #[error("malformed feature list entry `{0}`: write +name or -name, comma-separated")]
    MalformedFeature(String),
    #[error("opt level {0} out of range (0..=3)")]
    OptLevel(u8),
}

/// Whether code for `triple` may leave memory32 accesses unchecked: the
/// runtime on such a host reserves guard regions and turns their faults
/// into traps (`wamr_runtime::guard::MEMORY32_GUARD`). The loader runs only
/// code whose triple matches its host, so the two always agree.
pub fn guards_memory32(triple: &str) -> bool {
    triple.starts_with("x86_64-") && triple.contains("-linux")
}

/// An architecture the compiler can target, with the names it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Riscv32,
    Riscv64,
}

const X86_64_CPUS: &[&str] = &["x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4", "native"];
/// The x86_64 features that non-SIMD wasm can use, and that the loader can
/// verify on a host (`container::target`).
const X86_64_FEATURES: &[&str] = &[
    "sse2", "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "cx16", "avx", "avx2", "bmi", "bmi2",
    "lzcnt", "fma", "f16c", "movbe", "xsave", "avx512f", "avx512bw", "avx512cd", "avx512dq",
    "avx512vl",
];
const RISCV32_CPUS: &[&str] = &["generic-rv32", "generic"];
const RISCV64_CPUS: &[&str] = &["generic-rv64", "generic"];
const RISCV_FEATURES: &[&str] = &[
    "m", "a", "f", "d", "c", "zba", "zbb", "zbs", "zicsr", "zifencei", "zmmul", "relax",
];

impl Arch {
    /// `x86_64`, `riscv64`, ..., or a triple whose first component is one.
    pub fn parse(target: &str) -> Result<(Arch, String), TargetError> {
        let arch_name = target.split('-').next().unwrap_or("");
        let arch = match arch_name {
            "x86_64" => Arch::X86_64,
            "riscv32" | "riscv32gc" | "riscv32imac" => Arch::Riscv32,
            "riscv64" | "riscv64gc" | "riscv64imac" => Arch::Riscv64,
            _ => return Err(TargetError::UnknownTarget(target.to_string())),
        };
        let triple = if target.contains('-') {
            target.to_string()
        } else {
            arch.default_triple().to_string()
        };
        Ok((arch, triple))
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Riscv32 => "riscv32",
            Arch::Riscv64 => "riscv64",
        }
    }

    fn default_triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Riscv32 => "riscv32-unknown-elf",
            Arch::Riscv64 => "riscv64-unknown-linux-gnu",
        }
    }

    fn default_cpu(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86-64",
            Arch::Riscv32 => "generic-rv32",
            Arch::Riscv64 => "generic-rv64",
        }
    }

    fn cpus(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => X86_64_CPUS,
            Arch::Riscv32 => RISCV32_CPUS,
            Arch::Riscv64 => RISCV64_CPUS,
        }
    }

    fn features(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => X86_64_FEATURES,
            Arch::Riscv32 | Arch::Riscv64 => RISCV_FEATURES,
        }
    }
}

/// Checks a target as given on the command line and spells it for LLVM.
/// `cpu` defaults to the architecture's baseline; `features` is a list like
/// `+sse4.1,+popcnt` (a bare name means `+name`).
pub fn compile_options(
    target: &str,
    cpu: Option<&str>,
    features: Option<&str>,
    opt_level: u8,
) -> Result<CompileOptions, TargetError> {
    if opt_level > 3 {
        return Err(TargetError::OptLevel(opt_level));
    }
    let (arch, triple) = Arch::parse(target)?;
    let cpu = cpu.unwrap_or(arch.default_cpu());
    if !arch.cpus().contains(&cpu) {
        return Err(TargetError::UnknownCpu {
            cpu: cpu.to_string(),
            arch: arch.name(),
            known: arch.cpus().join(", "),
        });
    }
    let mut normalized = Vec::new();
    for entry in features.unwrap_or("").split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let (sign, name) = match entry.split_at(1) {
            ("+" | "-", name) => (&entry[..1], name),
            _ => ("+", entry),
        };
        if name.is_empty() || name.contains(['+', '-']) {
            return Err(TargetError::MalformedFeature(entry.to_string()));
        }
        if !arch.features().contains(&name) {
            return Err(TargetError::UnknownFeature {
                feature: name.to_string(),
                arch: arch.name(),
                known: arch.features().join(", "),
            });
        }
        normalized.push(format!("{sign}{name}"));
    }
    Ok(CompileOptions {
        triple,
        cpu: cpu.to_string(),
        features: normalized.join(","),
        opt_level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_and_runtime_agree_on_guard_regions() {
        let host = crate::HostTarget::detect();
        assert_eq!(
            guards_memory32(&host.triple),
            wamr_runtime::guard::MEMORY32_GUARD
        );
        assert!(guards_memory32("x86_64-unknown-linux-gnu"));
        assert!(!guards_memory32("riscv64-unknown-linux-gnu"));
        assert!(!guards_memory32("x86_64-unknown-none"));
    }

    #[test]
    fn x86_64_levels_and_features() {
        let o =
            compile_options("x86_64", Some("x86-64-v3"), Some("+sse4.1, popcnt,-avx"), 3).unwrap();
        assert_eq!(o.triple, "x86_64-unknown-linux-gnu");
        assert_eq!(o.cpu, "x86-64-v3");
        assert_eq!(o.features, "+sse4.1,+popcnt,-avx");
        let base = compile_options("x86_64-pc-linux-gnu", None, None, 0).unwrap();
        assert_eq!(
            (base.triple.as_str(), base.cpu.as_str()),
            ("x86_64-pc-linux-gnu", "x86-64")
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        let err = |r: Result<CompileOptions, TargetError>| r.unwrap_err().to_string();
        assert!(err(compile_options("mips", None, None, 3)).contains("unknown target `mips`"));
        assert!(err(compile_options("x86_64", Some("pentium9"), None, 3)).contains("`pentium9`"));
        assert!(err(compile_options("x86_64", None, Some("+sse9"), 3)).contains("`sse9`"));
        assert!(err(compile_options("x86_64", None, Some("+m"), 3)).contains("`m`"));
        assert!(err(compile_options("x86_64", None, Some("+"), 3)).contains("malformed"));
        assert!(err(compile_options("x86_64", None, None, 4)).contains("opt level 4"));
    }

    #[test]
    fn riscv_targets() {
        let o = compile_options("riscv64", None, Some("+m,+a,+c,+f,+d"), 2).unwrap();
        assert_eq!(
            (o.cpu.as_str(), o.features.as_str()),
            ("generic-rv64", "+m,+a,+c,+f,+d")
        );
        assert!(compile_options("riscv32", Some("generic-rv64"), None, 2).is_err());
    }
}
