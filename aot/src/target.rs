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
    #[error("unknown ABI `{abi}` for {arch} (known: {known})")]
    UnknownAbi {
        abi: String,
        arch: &'static str,
        known: &'static str,
    },
    #[error(
        "ABI `{abi}` passes floats in {needs} registers, which the features lack: add `+{extension}`"
    )]
    AbiNeedsExtension {
        abi: String,
        needs: &'static str,
        extension: char,
    },
    #[error("x86_64 has one ABI; --target-abi is for RISC-V targets")]
    AbiNotSelectable,
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

const RISCV32_ABIS: &[&str] = &["ilp32", "ilp32f", "ilp32d"];
const RISCV64_ABIS: &[&str] = &["lp64", "lp64f", "lp64d"];

/// Checks a target as given on the command line and spells it for LLVM.
/// `cpu` defaults to the architecture's baseline; `features` is a list like
/// `+sse4.1,+popcnt` (a bare name means `+name`); `abi` (RISC-V only)
/// defaults to the one that passes floats in the widest registers the
/// features give. Combinations LLVM would silently miscompile or abort on
/// (`ilp32d` without `+d`, an rv64 ABI on riscv32) are errors here.
pub fn compile_options(
    target: &str,
    cpu: Option<&str>,
    features: Option<&str>,
    abi: Option<&str>,
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
    let features = normalized.join(",");
    let abi = match arch {
        Arch::X86_64 if abi.is_some() => return Err(TargetError::AbiNotSelectable),
        Arch::X86_64 => String::new(),
        Arch::Riscv32 | Arch::Riscv64 => {
            riscv_abi(arch, Capabilities::riscv(arch, &features), abi)?.to_string()
        }
    };
    Ok(CompileOptions {
        triple,
        cpu: cpu.to_string(),
        features,
        abi,
        opt_level,
    })
}

/// The RISC-V ABI: `requested` if the features allow it, else an error;
/// by default the hard-float ABI of the widest float registers there are.
fn riscv_abi(
    arch: Arch,
    caps: Capabilities,
    requested: Option<&str>,
) -> Result<&'static str, TargetError> {
    let known = if arch == Arch::Riscv32 {
        RISCV32_ABIS
    } else {
        RISCV64_ABIS
    };
    let Some(requested) = requested else {
        let widest = if caps.f64 {
            2
        } else if caps.f32 {
            1
        } else {
            0
        };
        return Ok(known[widest]);
    };
    let Some(&abi) = known.iter().find(|&&k| k == requested) else {
        return Err(TargetError::UnknownAbi {
            abi: requested.to_string(),
            arch: arch.name(),
            known: if arch == Arch::Riscv32 {
                "ilp32, ilp32f, ilp32d"
            } else {
                "lp64, lp64f, lp64d"
            },
        });
    };
    let missing = match abi.chars().last() {
        Some('d') if !caps.f64 => Some(("double-precision", 'd')),
        Some('f') if !caps.f32 => Some(("single-precision", 'f')),
        _ => None,
    };
    match missing {
        Some((needs, extension)) => Err(TargetError::AbiNeedsExtension {
            abi: abi.to_string(),
            needs,
            extension,
        }),
        None => Ok(abi),
    }
}

/// What the instruction set of a compile target gives compiled code; every
/// operation it lacks is a call to a runtime helper
/// (`wamr_runtime::helpers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Register width in bits: 32 means no 64-bit divide and no float <->
    /// i64 conversion in hardware.
    pub xlen: u32,
    /// Integer multiply (RISC-V M or Zmmul).
    pub mul: bool,
    /// Integer divide and remainder (RISC-V M).
    pub div: bool,
    /// f32 arithmetic (RISC-V F).
    pub f32: bool,
    /// f64 arithmetic (RISC-V D).
    pub f64: bool,
    /// Count leading/trailing zeros and population count in hardware
    /// (RISC-V Zbb); without it and without a multiplier LLVM would expand
    /// them into multiplications.
    pub bit_count: bool,
    /// Compressed instructions (RISC-V C), which the ELF header records.
    pub compressed: bool,
}

impl Capabilities {
    /// The capabilities of `options`' target (an unknown triple is taken
    /// to be x86_64-like: everything in hardware).
    pub fn of(options: &CompileOptions) -> Self {
        Capabilities::for_target(&options.triple, &options.features)
    }

    /// The capabilities of `triple` with the LLVM feature string `features`.
    pub fn for_target(triple: &str, features: &str) -> Self {
        match Arch::parse(triple) {
            Ok((arch @ (Arch::Riscv32 | Arch::Riscv64), _)) => Capabilities::riscv(arch, features),
            _ => Capabilities {
                xlen: 64,
                mul: true,
                div: true,
                f32: true,
                f64: true,
                bit_count: true,
                compressed: false,
            },
        }
    }

    /// A generic RISC-V CPU with the `+x,-y` feature string applied in
    /// order (D implies F, M implies Zmmul).
    fn riscv(arch: Arch, features: &str) -> Self {
        let mut on: Vec<&str> = Vec::new();
        for entry in features.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (add, name) = match entry.split_at(1) {
                ("-", name) => (false, name),
                ("+", name) => (true, name),
                _ => (true, entry),
            };
            on.retain(|&f| f != name);
            if add {
                on.push(name);
            }
        }
        let has = |f: &str| on.contains(&f);
        Capabilities {
            xlen: if arch == Arch::Riscv32 { 32 } else { 64 },
            mul: has("m") || has("zmmul"),
            div: has("m"),
            f32: has("f") || has("d"),
            f64: has("d"),
            bit_count: has("zbb"),
            compressed: has("c"),
        }
    }
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
        let o = compile_options(
            "x86_64",
            Some("x86-64-v3"),
            Some("+sse4.1, popcnt,-avx"),
            None,
            3,
        )
        .unwrap();
        assert_eq!(o.triple, "x86_64-unknown-linux-gnu");
        assert_eq!(o.cpu, "x86-64-v3");
        assert_eq!(o.features, "+sse4.1,+popcnt,-avx");
        let base = compile_options("x86_64-pc-linux-gnu", None, None, None, 0).unwrap();
        assert_eq!(
            (base.triple.as_str(), base.cpu.as_str()),
            ("x86_64-pc-linux-gnu", "x86-64")
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        let err = |r: Result<CompileOptions, TargetError>| r.unwrap_err().to_string();
        assert!(
            err(compile_options("mips", None, None, None, 3)).contains("unknown target `mips`")
        );
        assert!(
            err(compile_options("x86_64", Some("pentium9"), None, None, 3)).contains("`pentium9`")
        );
        assert!(err(compile_options("x86_64", None, Some("+sse9"), None, 3)).contains("`sse9`"));
        assert!(err(compile_options("x86_64", None, Some("+m"), None, 3)).contains("`m`"));
        assert!(err(compile_options("x86_64", None, Some("+"), None, 3)).contains("malformed"));
        assert!(err(compile_options("x86_64", None, None, None, 4)).contains("opt level 4"));
    }

    #[test]
    fn riscv_targets() {
        let o = compile_options("riscv64", None, Some("+m,+a,+c,+f,+d"), None, 2).unwrap();
        assert_eq!(
            (o.cpu.as_str(), o.features.as_str(), o.abi.as_str()),
            ("generic-rv64", "+m,+a,+c,+f,+d", "lp64d")
        );
        assert!(compile_options("riscv32", Some("generic-rv64"), None, None, 2).is_err());
        let abi = |target, features, abi| {
            compile_options(target, None, Some(features), abi, 2).map(|o| o.abi)
        };
        assert_eq!(abi("riscv32", "+m,+a,+c", None).unwrap(), "ilp32");
        assert_eq!(abi("riscv32", "+m,+f", None).unwrap(), "ilp32f");
        assert_eq!(abi("riscv32", "+f,+d", Some("ilp32")).unwrap(), "ilp32");
        assert_eq!(abi("riscv64", "+d", Some("lp64f")).unwrap(), "lp64f");
        assert_eq!(abi("riscv64", "+m,+d,-d", None).unwrap(), "lp64");
    }

    #[test]
    fn inconsistent_riscv_abis_are_errors() {
        let err = |target, features, abi| {
            compile_options(target, None, Some(features), Some(abi), 2)
                .unwrap_err()
                .to_string()
        };
        let no_d = err("riscv32", "+m,+a,+f", "ilp32d");
        assert!(no_d.contains("`ilp32d`") && no_d.contains("`+d`"), "{no_d}");
        assert!(err("riscv64", "+m", "lp64f").contains("`+f`"));
        let rv64_on_rv32 = err("riscv32", "+m,+d", "lp64d");
        assert!(
            rv64_on_rv32.contains("unknown ABI `lp64d` for riscv32")
                && rv64_on_rv32.contains("ilp32, ilp32f, ilp32d"),
            "{rv64_on_rv32}"
        );
        assert!(err("riscv64", "+m", "ilp32").contains("for riscv64"));
        assert!(err("riscv64", "+m", "lp64q").contains("unknown ABI"));
        assert!(err("riscv64", "+m,+q", "lp64").contains("unknown CPU feature `q`"));
        let x86 = compile_options("x86_64", None, None, Some("sysv"), 2).unwrap_err();
        assert_eq!(x86, TargetError::AbiNotSelectable);
    }

    #[test]
    fn capabilities_follow_the_features() {
        let caps = |target: &str, features: &str| {
            Capabilities::of(&compile_options(target, None, Some(features), None, 2).unwrap())
        };
        let rv32i = caps("riscv32", "");
        assert_eq!(
            (rv32i.xlen, rv32i.mul, rv32i.div, rv32i.f32, rv32i.f64),
            (32, false, false, false, false)
        );
        let rv64gc = caps("riscv64", "+m,+a,+f,+d,+c");
        assert_eq!(
            (rv64gc.xlen, rv64gc.mul, rv64gc.div, rv64gc.f64),
            (64, true, true, true)
        );
        let zmmul = caps("riscv32", "+zmmul,+f");
        assert_eq!(
            (zmmul.mul, zmmul.div, zmmul.f32, zmmul.f64),
            (true, false, true, false)
        );
        assert!(!caps("riscv64", "+m,-m").mul);
        let x86 = caps("x86_64", "");
        assert!(x86.mul && x86.div && x86.f64 && x86.bit_count && x86.xlen == 64);
    }
}
