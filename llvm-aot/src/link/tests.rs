//! Links objects that LLVM 19 emits for small IR modules, runs the x86_64
//! blobs, and decodes the patched RISC-V instructions.

use inkwell::OptimizationLevel;
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::targets::{
    CodeModel, FileType, RelocMode, Target, TargetMachineOptions, TargetTriple,
};

use super::*;

const X86_64: &str = "x86_64-unknown-linux-gnu";
const RV64: &str = "riscv64-unknown-linux-gnu";
const RV32: &str = "riscv32-unknown-linux-gnu";
const RV_FEATURES: &str = "+m,+a,+c,+f,+d";

/// Jump tables, constant pools, direct calls (local and global targets),
/// a function address (a GOT load in PIC code) and loops; see `module()`.
const MODULE: &str = r#"
define internal i32 @helper(i32 %x) nounwind noinline {
  %r = mul i32 %x, 3
  ret i32 %r
}

define i32 @add7(i32 %x) nounwind noinline {
  %r = add i32 %x, 7
  ret i32 %r
}

define i32 @calls(i32 %x) nounwind {
  %a = call i32 @helper(i32 %x)
  %b = call i32 @add7(i32 %a)
  ret i32 %b
}

define i32 @sw(i32 %x) nounwind {
entry:
  switch i32 %x, label %def [ i32 0, label %c0
                              i32 1, label %c1
                              i32 2, label %c2
                              i32 3, label %c3
                              i32 4, label %c4
                              i32 5, label %c5
                              i32 6, label %c6 ]
c0: ret i32 11
c1: ret i32 22
c2: ret i32 33
c3: ret i32 44
c4: ret i32 55
c5: ret i32 66
c6: ret i32 77
def: ret i32 -1
}

define double @poly(double %x) nounwind {
  %a = fmul double %x, 1.2345
  %b = fadd double %a, 9.875
  ret double %b
}

define float @scale(float %x) nounwind {
  %a = fmul float %x, 0.375
  ret float %a
}

define ptr @addr_of_add7() nounwind {
  ret ptr @add7
}

define i32 @call_through(i32 %x) nounwind {
  %p = call ptr @addr_of_add7()
  %r = call i32 %p(i32 %x)
  ret i32 %r
}

define i32 @sum_below(i32 %n) nounwind {
entry:
  %empty = icmp sle i32 %n, 0
  br i1 %empty, label %done, label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %i1, %loop ]
  %acc = phi i32 [ 0, %entry ], [ %acc1, %loop ]
  %acc1 = add i32 %acc, %i
  %i1 = add i32 %i, 1
  %more = icmp slt i32 %i1, %n
  br i1 %more, label %loop, label %done
done:
  %r = phi i32 [ 0, %entry ], [ %acc1, %loop ]
  ret i32 %r
}
"#;

/// Compressed branches and jumps (`c.beqz`, `c.j` on RISC-V).
const COLLATZ: &str = r#"
define i32 @collatz(i32 %n) nounwind {
entry:
  br label %loop
loop:
  %x = phi i32 [ %n, %entry ], [ %next, %cont ]
  %steps = phi i32 [ 0, %entry ], [ %s1, %cont ]
  %one = icmp eq i32 %x, 1
  br i1 %one, label %done, label %body
body:
  %bit = and i32 %x, 1
  %even = icmp eq i32 %bit, 0
  br i1 %even, label %half, label %triple
half:
  %h = lshr i32 %x, 1
  br label %cont
triple:
  %t = mul i32 %x, 3
  %t1 = add i32 %t, 1
  br label %cont
cont:
  %next = phi i32 [ %h, %half ], [ %t1, %triple ]
  %s1 = add i32 %steps, 1
  br label %loop
done:
  ret i32 %steps
}
"#;

const LONG_LOOP_STEPS: u32 = 600;

/// A loop whose body is too long for a branch back to its head (`jal` on
/// RISC-V): v = (v * (2k + 1)) ^ k for k in 1..=600, repeated.
fn long_loop() -> String {
    let mut ir = String::from(
        "define i32 @long_loop(i32 %n, i32 %seed) nounwind {\nentry:\n  br label %loop\nloop:\n  \
         %i = phi i32 [ 0, %entry ], [ %i1, %loop ]\n",
    );
    ir += &format!("  %v0 = phi i32 [ %seed, %entry ], [ %v{LONG_LOOP_STEPS}, %loop ]\n");
    for k in 1..=LONG_LOOP_STEPS {
        ir += &format!(
            "  %m{k} = mul i32 %v{}, {}\n  %v{k} = xor i32 %m{k}, {k}\n",
            k - 1,
            2 * k + 1
        );
    }
    ir += &format!(
        "  %i1 = add i32 %i, 1\n  %more = icmp slt i32 %i1, %n\n  br i1 %more, label %loop, label %done\n\
         done:\n  ret i32 %v{LONG_LOOP_STEPS}\n}}\n"
    );
    ir
}

fn module() -> String {
    format!("{MODULE}{COLLATZ}{}", long_loop())
}

fn compile(ir: &str, triple: &str, cpu: &str, features: &str, abi: &str) -> Vec<u8> {
    crate::init_backends();
    let context = Context::create();
    let buffer = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "test");
    let module = context.create_module_from_ir(buffer).expect("valid IR");
    let triple_ref = TargetTriple::create(triple);
    let target = Target::from_triple(&triple_ref).expect("known target");
    let mut options = TargetMachineOptions::new()
        .set_cpu(cpu)
        .set_features(features)
        .set_level(OptimizationLevel::Default)
        .set_reloc_mode(RelocMode::PIC)
        .set_code_model(CodeModel::Default);
    if !abi.is_empty() {
        options = options.set_abi(abi);
    }
    let machine = target
        .create_target_machine_from_options(&triple_ref, options)
        .expect("target machine");
    module.set_triple(&triple_ref);
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    machine
        .write_to_memory_buffer(&module, FileType::Object)
        .expect("codegen")
        .as_slice()
        .to_vec()
}

fn compile_x86(ir: &str) -> Vec<u8> {
    compile(ir, X86_64, "x86-64", "", "")
}

fn compile_rv64(ir: &str, relax: bool) -> Vec<u8> {
    let features = format!("{RV_FEATURES},{}relax", if relax { "+" } else { "-" });
    compile(ir, RV64, "generic-rv64", &features, "lp64d")
}

fn compile_rv32(ir: &str) -> Vec<u8> {
    compile(
        ir,
        RV32,
        "generic-rv32",
        &format!("{RV_FEATURES},-relax"),
        "ilp32d",
    )
}

fn count(code: &LinkedCode, kind: &str) -> u32 {
    code.relocations.get(kind).copied().unwrap_or(0)
}

#[cfg(target_arch = "x86_64")]
mod x86_64_runs {
    use super::*;
    use wamr_aot::CodeMemory;

    /// # Safety
    /// `F` must be the signature the code at `name` was compiled with.
    unsafe fn func<F: Copy>(mem: &CodeMemory, code: &LinkedCode, name: &str) -> F {
        let entry = mem
            .entry(code.symbols[name])
            .expect("symbol inside the blob");
        assert_eq!(size_of::<F>(), size_of::<*const u8>());
        // SAFETY: `F` is a function pointer type (size checked) matching
        // the compiled signature, as the caller promises.
        unsafe { std::mem::transmute_copy(&entry) }
    }

    #[test]
    fn linked_blob_runs() {
        let code = link(&compile_x86(&module())).unwrap();
        assert!(count(&code, "R_X86_64_PC32") > 0, "{:?}", code.relocations);
        for name in [
            "helper",
            "add7",
            "calls",
            "sw",
            "poly",
            "scale",
            "sum_below",
        ] {
            assert!(
                code.symbols.contains_key(name),
                "{name}: {:?}",
                code.symbols
            );
        }
        let mem = CodeMemory::from_bytes(&code.blob).unwrap();
        // SAFETY: each signature below is the one declared in `MODULE`;
        // `mem` outlives every call.
        unsafe {
            let sw: extern "C" fn(i32) -> i32 = func(&mem, &code, "sw");
            let expected = [-1, 11, 22, 33, 44, 55, 66, 77, -1, -1];
            for (x, want) in (-1..9).zip(expected) {
                assert_eq!(sw(x), want, "sw({x})");
            }
            let poly: extern "C" fn(f64) -> f64 = func(&mem, &code, "poly");
            assert_eq!(poly(2.0), 2.0 * 1.2345 + 9.875);
            let scale: extern "C" fn(f32) -> f32 = func(&mem, &code, "scale");
            assert_eq!(scale(10.0), 3.75);
            let calls: extern "C" fn(i32) -> i32 = func(&mem, &code, "calls");
            assert_eq!(calls(5), 22);
            let through: extern "C" fn(i32) -> i32 = func(&mem, &code, "call_through");
            assert_eq!(through(5), 12);
            let addr: extern "C" fn() -> *const u8 = func(&mem, &code, "addr_of_add7");
            assert_eq!(addr(), mem.entry(code.symbols["add7"]).unwrap());
            let sum: extern "C" fn(i32) -> i32 = func(&mem, &code, "sum_below");
            assert_eq!(sum(10), 45);
            let collatz: extern "C" fn(i32) -> i32 = func(&mem, &code, "collatz");
            assert_eq!(collatz(27), 111);
            let long: extern "C" fn(i32, i32) -> i32 = func(&mem, &code, "long_loop");
            let mut v = 12345i32;
            for _ in 0..3 {
                for k in 1..=LONG_LOOP_STEPS as i32 {
                    v = v.wrapping_mul(2 * k + 1) ^ k;
                }
            }
            assert_eq!(long(3, 12345), v);
        }
    }

    #[test]
    fn sse4_and_avx2_builds_link_and_run() {
        for features in ["+sse4.1", "+avx2"] {
            if features == "+avx2" && !std::is_x86_feature_detected!("avx2")
                || !std::is_x86_feature_detected!("sse4.1")
            {
                continue;
            }
            let ir = r#"
                define i32 @trunc_sat(double %x) nounwind {
                  %r = call i32 @llvm.fptosi.sat.i32.f64(double %x)
                  ret i32 %r
                }
                define double @floor(double %x) nounwind {
                  %r = call double @llvm.floor.f64(double %x)
                  ret double %r
                }
                declare i32 @llvm.fptosi.sat.i32.f64(double)
                declare double @llvm.floor.f64(double)
            "#;
            let code = link(&compile(ir, X86_64, "x86-64", features, "")).unwrap();
            let mem = CodeMemory::from_bytes(&code.blob).unwrap();
            // SAFETY: signatures as declared in `ir`.
            unsafe {
                let sat: extern "C" fn(f64) -> i32 = func(&mem, &code, "trunc_sat");
                assert_eq!(sat(1e20), i32::MAX);
                assert_eq!(sat(f64::NAN), 0);
                assert_eq!(sat(-7.9), -7);
                let floor: extern "C" fn(f64) -> f64 = func(&mem, &code, "floor");
                assert_eq!(floor(-2.5), -3.0);
            }
        }
    }
}

#[test]
fn x86_64_relaxes_got_loads_of_local_symbols() {
    let code = link(&compile_x86(&module())).unwrap();
    assert_eq!(
        count(&code, "R_X86_64_REX_GOTPCRELX"),
        1,
        "{:?}",
        code.relocations
    );
    assert!(
        count(&code, "R_X86_64_PLT32") >= 1,
        "{:?}",
        code.relocations
    );
    // The `mov` became a `lea` (REX.W 8d /r, RIP-relative).
    let at = code.symbols["addr_of_add7"] as usize;
    let body = &code.blob[at..at + 16];
    assert!(body.windows(2).any(|w| w == [0x48, 0x8d]), "{body:02x?}");
    assert!(!body.windows(2).any(|w| w == [0x48, 0x8b]), "{body:02x?}");
}

#[test]
fn undefined_symbols_are_all_named() {
    let ir = r#"
        declare i32 @ext(i32)
        declare i32 @other_ext(i32)
        define i32 @f(i32 %x) nounwind {
          %a = call i32 @ext(i32 %x)
          %b = call i32 @other_ext(i32 %a)
          ret i32 %b
        }
    "#;
    for object in [compile_x86(ir), compile_rv64(ir, true), compile_rv32(ir)] {
        let err = link(&object).unwrap_err();
        let LinkError::UndefinedSymbols(names) = &err else {
            panic!("{err}");
        };
        assert_eq!(names, &["ext", "other_ext"]);
        let message = err.to_string();
        assert!(message.contains("ext, other_ext"), "{message}");
    }
}

#[test]
fn riscv32_libcalls_are_undefined_symbols() {
    // 64-bit division needs libgcc on riscv32: the compiler must route it
    // through the VM context, and the linker must say so.
    let ir = r#"
        define i64 @div(i64 %a, i64 %b) nounwind {
          %r = sdiv i64 %a, %b
          ret i64 %r
        }
    "#;
    let err = link(&compile_rv32(ir)).unwrap_err();
    assert!(err.to_string().contains("__divdi3"), "{err}");
}

const FUNCTION_POINTER_GLOBAL: &str = r#"
    define i32 @f(i32 %x) nounwind { ret i32 %x }
    @p = constant ptr @f
    define ptr @get() nounwind {
      %v = load ptr, ptr @p
      ret ptr %v
    }
"#;

#[test]
fn absolute_relocations_are_rejected() {
    for (object, kind) in [
        (compile_x86(FUNCTION_POINTER_GLOBAL), "R_X86_64_64"),
        (compile_rv64(FUNCTION_POINTER_GLOBAL, false), "R_RISCV_64"),
        (compile_rv32(FUNCTION_POINTER_GLOBAL), "R_RISCV_32"),
    ] {
        let err = link(&object).unwrap_err();
        let LinkError::AbsoluteRelocation(site) = &err else {
            panic!("{err}");
        };
        assert_eq!(site.kind, kind);
        assert_eq!(site.symbol, "f");
        assert!(site.section.starts_with(".data.rel.ro"), "{site}");
        let message = err.to_string();
        assert!(
            message.contains(kind) && message.contains("`f`"),
            "{message}"
        );
    }
}

#[test]
fn writable_data_is_rejected() {
    let data = r#"
        @counter = global i32 5
        define i32 @bump() nounwind {
          %v = load i32, ptr @counter
          %w = add i32 %v, 1
          store i32 %w, ptr @counter
          ret i32 %w
        }
    "#;
    let bss = data.replace("global i32 5", "global i32 0");
    for ir in [data, &bss] {
        let err = link(&compile_x86(ir)).unwrap_err();
        assert!(matches!(err, LinkError::WritableData { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(".data") || message.contains(".bss"),
            "{message}"
        );
    }
}

#[test]
fn non_objects_are_rejected() {
    assert!(matches!(link(b"not an object"), Err(LinkError::Object(_))));
    assert!(link(&[]).is_err());
}

#[test]
fn unwind_tables_are_skipped() {
    // Without `nounwind` LLVM emits .eh_frame, which references the code;
    // it is not needed and must not be linked (or rejected).
    let ir = "define i32 @f(i32 %x) { %r = add i32 %x, 1\n ret i32 %r }";
    for object in [compile_x86(ir), compile_rv64(ir, true)] {
        let code = link(&object).unwrap();
        assert!(code.symbols.contains_key("f"));
    }
}

/// RISC-V instruction decoding, independent of the encoder in `link`.
mod rv {
    pub fn len(first_half: u16) -> usize {
        if first_half & 3 == 3 { 4 } else { 2 }
    }

    pub fn insns(blob: &[u8], start: usize, end: usize) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let mut at = start;
        while at + 2 <= end {
            let half = u16::from_le_bytes([blob[at], blob[at + 1]]);
            if at + len(half) > end.min(blob.len()) {
                break;
            }
            let insn = if len(half) == 4 {
                u32::from_le_bytes(blob[at..at + 4].try_into().unwrap())
            } else {
                u32::from(half)
            };
            out.push((at, insn));
            at += len(half);
        }
        out
    }

    fn sext(value: u32, bits: u32) -> i64 {
        let shift = 32 - bits;
        i64::from(((value << shift) as i32) >> shift)
    }

    pub fn opcode(insn: u32) -> u32 {
        insn & 0x7f
    }

    pub fn rd(insn: u32) -> u32 {
        (insn >> 7) & 31
    }

    pub fn rs1(insn: u32) -> u32 {
        (insn >> 15) & 31
    }

    pub fn funct3(insn: u32) -> u32 {
        (insn >> 12) & 7
    }

    pub fn u_imm(insn: u32) -> i64 {
        sext(insn & 0xffff_f000, 32)
    }

    pub fn i_imm(insn: u32) -> i64 {
        sext(insn >> 20, 12)
    }

    /// The constant an `li a0, k` (addi a0, zero, k or c.li a0, k) loads.
    pub fn li_a0(insn: u32) -> Option<i64> {
        if insn & 0xffff_0000 == 0 && insn & 3 == 1 && insn >> 13 == 2 && (insn >> 7) & 31 == 10 {
            let imm = ((insn >> 12) & 1) << 5 | ((insn >> 2) & 31);
            return Some(sext(imm, 6));
        }
        (opcode(insn) == 0x13 && funct3(insn) == 0 && rs1(insn) == 0 && rd(insn) == 10)
            .then(|| i_imm(insn))
    }

    pub const AUIPC: u32 = 0x17;
    pub const JALR: u32 = 0x67;
    pub const OP_IMM: u32 = 0x13;
    pub const LOAD_FP: u32 = 0x07;
}

/// Offsets of PC-relative address computations: (auipc offset, target)
/// for each AUIPC followed by a 32-bit instruction using its result with
/// the given opcode.
fn pc_pairs(code: &LinkedCode, function: &str, second_opcode: u32) -> Vec<(usize, i64)> {
    let start = code.symbols[function] as usize;
    let end = code
        .symbols
        .values()
        .map(|&o| o as usize)
        .filter(|&o| o > start)
        .min()
        .unwrap_or(code.blob.len());
    let insns = rv::insns(&code.blob, start, end);
    let mut pairs = Vec::new();
    for (i, &(at, auipc)) in insns.iter().enumerate() {
        if rv::len(auipc as u16) != 4 || rv::opcode(auipc) != rv::AUIPC {
            continue;
        }
        let user = insns[i + 1..].iter().take(4).find(|&&(_, insn)| {
            rv::len(insn as u16) == 4
                && rv::opcode(insn) == second_opcode
                && rv::rs1(insn) == rv::rd(auipc)
        });
        if let Some(&(_, insn)) = user {
            pairs.push((at, at as i64 + rv::u_imm(auipc) + rv::i_imm(insn)));
        }
    }
    pairs
}

fn check_riscv_blob(code: &LinkedCode) {
    let symbol = |name: &str| i64::from(code.symbols[name]);
    // Calls: auipc + jalr reach `helper` and `add7`.
    let mut targets: Vec<i64> = pc_pairs(code, "calls", rv::JALR)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    targets.sort();
    let mut want = vec![symbol("helper"), symbol("add7")];
    want.sort();
    assert_eq!(targets, want);

    // Constant pools: every fld in `poly` reads one of its constants.
    let loads = pc_pairs(code, "poly", rv::LOAD_FP);
    assert_eq!(loads.len(), 2, "{loads:?}");
    for (_, addr) in loads {
        let bytes = &code.blob[addr as usize..addr as usize + 8];
        let value = f64::from_le_bytes(bytes.try_into().unwrap());
        assert!(value == 1.2345 || value == 9.875, "{value}");
    }

    // The function address: a GOT load relaxed into auipc + addi.
    let addr = pc_pairs(code, "addr_of_add7", rv::OP_IMM);
    assert_eq!(addr.len(), 1, "{addr:?}");
    assert_eq!(addr[0].1, symbol("add7"));

    // Jump table: auipc + addi gives the table; entry k, added to the
    // table's address, lands on `li a0, 11 * (k + 1)`.
    let tables = pc_pairs(code, "sw", rv::OP_IMM);
    assert_eq!(tables.len(), 1, "{tables:?}");
    let table = tables[0].1 as usize;
    for k in 0..7 {
        let at = table + 4 * k;
        let entry = i32::from_le_bytes(code.blob[at..at + 4].try_into().unwrap());
        let target = (table as i64 + i64::from(entry)) as usize;
        let (_, insn) = rv::insns(&code.blob, target, target + 4)[0];
        assert_eq!(rv::li_a0(insn), Some(11 * (k as i64 + 1)), "case {k}");
    }
}

#[test]
fn riscv64_links_and_patches_fields() {
    let code = link(&compile_rv64(&module(), false)).unwrap();
    for kind in [
        "R_RISCV_PCREL_HI20",
        "R_RISCV_PCREL_LO12_I",
        "R_RISCV_GOT_HI20",
        "R_RISCV_CALL_PLT",
        "R_RISCV_ADD32",
        "R_RISCV_SUB32",
    ] {
        assert!(count(&code, kind) > 0, "{kind}: {:?}", code.relocations);
    }
    check_riscv_blob(&code);
}

#[test]
fn riscv32_links_and_patches_fields() {
    let code = link(&compile_rv32(&module())).unwrap();
    assert!(
        count(&code, "R_RISCV_PCREL_HI20") > 0,
        "{:?}",
        code.relocations
    );
    check_riscv_blob(&code);
}

#[test]
fn riscv_relaxation_relocations_give_the_assembler_result() {
    // With `+relax` the assembler resolves nothing itself: every branch,
    // jump and call becomes a relocation for the linker. Without it the
    // assembler resolves those inside a section. Same code, so the linked
    // blobs must be identical.
    let strict = link(&compile_rv64(&module(), false)).unwrap();
    let relaxed = link(&compile_rv64(&module(), true)).unwrap();
    for kind in [
        "R_RISCV_RELAX",
        "R_RISCV_BRANCH",
        "R_RISCV_JAL",
        "R_RISCV_RVC_BRANCH",
        "R_RISCV_RVC_JUMP",
        "R_RISCV_CALL_PLT",
    ] {
        assert!(
            count(&relaxed, kind) > 0,
            "{kind}: {:?}",
            relaxed.relocations
        );
    }
    assert_eq!(strict.symbols, relaxed.symbols);
    assert_eq!(strict.blob, relaxed.blob);
    check_riscv_blob(&relaxed);
}

#[test]
fn riscv_encoders_round_trip_through_the_decoder() {
    use super::riscv;
    // beq a0, a1, 0 / jal ra, 0 / c.beqz a0, 0 / c.j 0, then every even
    // offset in range encodes and decodes back.
    let beq = 0x00b5_0063;
    let decode_b = |i: u32| {
        let v = ((i >> 31) & 1) << 12
            | ((i >> 7) & 1) << 11
            | ((i >> 25) & 0x3f) << 5
            | ((i >> 8) & 0xf) << 1;
        i64::from(((v << 19) as i32) >> 19)
    };
    for off in (-4096..4096).step_by(2) {
        let i = riscv::set_b_imm(beq, off).unwrap();
        assert_eq!(decode_b(i), off);
        assert_eq!(i & 0x01ff_f07f, beq);
    }
    assert_eq!(riscv::set_b_imm(beq, 4096), None);
    assert_eq!(riscv::set_b_imm(beq, 3), None);

    let jal = 0x0000_00ef;
    let decode_j = |i: u32| {
        let v = ((i >> 31) & 1) << 20
            | ((i >> 12) & 0xff) << 12
            | ((i >> 20) & 1) << 11
            | ((i >> 21) & 0x3ff) << 1;
        i64::from(((v << 11) as i32) >> 11)
    };
    for off in (-(1 << 20)..(1 << 20)).step_by(2 * 97) {
        let i = riscv::set_j_imm(jal, off).unwrap();
        assert_eq!(decode_j(i), off);
        assert_eq!(i & 0xfff, jal);
    }
    assert_eq!(riscv::set_j_imm(jal, 1 << 20), None);

    let c_beqz: u16 = 0xc101; // c.beqz a0, 0
    let decode_cb = |i: u16| {
        let i = u32::from(i);
        let v = ((i >> 12) & 1) << 8
            | ((i >> 5) & 3) << 6
            | ((i >> 2) & 1) << 5
            | ((i >> 10) & 3) << 3
            | ((i >> 3) & 3) << 1;
        i64::from(((v << 23) as i32) >> 23)
    };
    for off in (-256..256).step_by(2) {
        let i = riscv::set_cb_imm(c_beqz, off).unwrap();
        assert_eq!(decode_cb(i), off);
        assert_eq!(i & 0xe383, c_beqz);
    }
    assert_eq!(riscv::set_cb_imm(c_beqz, 256), None);

    let c_j: u16 = 0xa001; // c.j 0
    let decode_cj = |i: u16| {
        let i = u32::from(i);
        let v = ((i >> 12) & 1) << 11
            | ((i >> 8) & 1) << 10
            | ((i >> 9) & 3) << 8
            | ((i >> 6) & 1) << 7
            | ((i >> 7) & 1) << 6
            | ((i >> 2) & 1) << 5
            | ((i >> 11) & 1) << 4
            | ((i >> 3) & 7) << 1;
        i64::from(((v << 20) as i32) >> 20)
    };
    for off in (-2048..2048).step_by(2) {
        let i = riscv::set_cj_imm(c_j, off).unwrap();
        assert_eq!(decode_cj(i), off);
        assert_eq!(i & 0xe003, c_j);
    }

    // hi20/lo12 split: hi << 12 + sext(lo) == value.
    for value in [
        0i64,
        1,
        0x7ff,
        0x800,
        0xfff,
        -1,
        -0x800,
        -0x801,
        0x7fff_f7ff,
        -0x8000_0000,
    ] {
        let hi = riscv::hi20(value).unwrap();
        let lo = riscv::lo12(value);
        let rebuilt = rv::u_imm(hi << 12) + rv::i_imm(lo << 20);
        assert_eq!(rebuilt, value, "{value:#x}");
    }
    assert_eq!(riscv::hi20(0x7fff_f800), None);
}

/// GOT forms LLVM's code generator does not emit for these modules, written
/// as inline assembly: relaxable ones run, the others are refused.
const GOT_FORMS: &str = r#"
define i32 @add7(i32 %x) nounwind noinline {
  %r = add i32 %x, 7
  ret i32 %r
}
define i32 @got_call(i32 %x) nounwind naked {
  call void asm sideeffect "call *add7@GOTPCREL(%rip)\0Aret", ""()
  unreachable
}
define i32 @got_jump(i32 %x) nounwind naked {
  call void asm sideeffect "jmp *add7@GOTPCREL(%rip)", ""()
  unreachable
}
define i64 @got_mov() nounwind naked {
  call void asm sideeffect "movq add7@GOTPCREL(%rip), %rax\0Aret", ""()
  unreachable
}
"#;

#[test]
fn x86_64_got_calls_and_jumps_are_relaxed() {
    let code = link(&compile_x86(GOT_FORMS)).unwrap();
    assert_eq!(
        count(&code, "R_X86_64_GOTPCRELX"),
        2,
        "{:?}",
        code.relocations
    );
    assert_eq!(
        count(&code, "R_X86_64_REX_GOTPCRELX"),
        1,
        "{:?}",
        code.relocations
    );
    #[cfg(target_arch = "x86_64")]
    {
        let mem = wamr_aot::CodeMemory::from_bytes(&code.blob).unwrap();
        let entry = |name: &str| mem.entry(code.symbols[name]).unwrap();
        // SAFETY: `got_call` and `got_jump` take and return `add7`'s i32
        // in the C ABI registers; `got_mov` returns an address. `mem`
        // outlives the calls.
        unsafe {
            let call =
                std::mem::transmute::<*const u8, extern "C" fn(i32) -> i32>(entry("got_call"));
            let jump =
                std::mem::transmute::<*const u8, extern "C" fn(i32) -> i32>(entry("got_jump"));
            let mov =
                std::mem::transmute::<*const u8, extern "C" fn() -> *const u8>(entry("got_mov"));
            assert_eq!(call(1), 8);
            assert_eq!(jump(2), 9);
            assert_eq!(mov(), entry("add7"));
        }
    }
}

#[test]
fn x86_64_got_forms_without_a_direct_equivalent_are_refused() {
    let ir = GOT_FORMS.replace(
        "movq add7@GOTPCREL(%rip), %rax",
        "addq add7@GOTPCREL(%rip), %rax",
    );
    let err = link(&compile_x86(&ir)).unwrap_err();
    let LinkError::UnsupportedRelocation { site, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(site.kind, "R_X86_64_REX_GOTPCRELX");
    assert_eq!(site.symbol, "add7");
    let plain = GOT_FORMS.replace(
        "movq add7@GOTPCREL(%rip), %rax\\0Aret",
        "ret\\0A.long add7@GOTPCREL",
    );
    let err = link(&compile_x86(&plain)).unwrap_err();
    assert!(err.to_string().contains("R_X86_64_GOTPCREL "), "{err}");
}

#[test]
fn riscv_alignment_padding_is_kept() {
    // With `+relax`, `align 64` becomes NOP padding plus R_RISCV_ALIGN for
    // a relaxing linker to trim; the padding stays and the code is intact.
    let ir = format!(
        "{MODULE}\ndefine i32 @aligned(i32 %x) nounwind align 64 {{\n  %r = call i32 @add7(i32 %x)\n  ret i32 %r\n}}\n"
    );
    let code = link(&compile_rv64(&ir, true)).unwrap();
    assert!(count(&code, "R_RISCV_ALIGN") > 0, "{:?}", code.relocations);
    check_riscv_blob(&code);
    let targets: Vec<i64> = pc_pairs(&code, "aligned", rv::JALR)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(targets, [i64::from(code.symbols["add7"])]);
}

/// Guarded accesses tagged as the translator tags them: function 7's
/// load (also "inlined" into `outer`), and two accesses of function 300
/// (a two-byte ULEB128), which LLVM lists as one group.
const TAGGED: &str = r#"
define i32 @inner(ptr %p) nounwind {
  %v = load volatile i32, ptr %p, align 1, !pcsections !0
  ret i32 %v
}
define i32 @outer(ptr %p, ptr %q) nounwind {
  %v = load volatile i32, ptr %p, align 1, !pcsections !0
  %w = add i32 %v, 1
  store volatile i32 %w, ptr %p, align 1, !pcsections !2
  %x = load volatile i32, ptr %q, align 1, !pcsections !2
  %r = add i32 %w, %x
  ret i32 %r
}
!0 = !{!"wamr_faults!C", !1}
!1 = !{i32 7}
!2 = !{!"wamr_faults!C", !3}
!3 = !{i32 300}
"#;

#[test]
fn fault_sites_are_decoded_and_cut_off_the_blob() {
    let code = link(&compile_x86(&format!("{MODULE}{TAGGED}"))).unwrap();
    let funcs: Vec<u32> = code.fault_sites.iter().map(|s| s.func).collect();
    assert_eq!(funcs, [7, 7, 300, 300], "{:?}", code.fault_sites);
    assert_eq!(code.fault_sites[0].code_offset, code.symbols["inner"]);
    assert!(code.fault_sites[1].code_offset >= code.symbols["outer"]);
    // mov (%rdi), %eax; mov (%rdi), %eax; mov %eax, (%rdi); add (%rsi), %eax.
    let ops: Vec<u8> = code
        .fault_sites
        .iter()
        .map(|s| code.blob[s.code_offset as usize])
        .collect();
    assert_eq!(ops, [0x8b, 0x8b, 0x89, 0x03]);
    // The metadata changes no code, and the table is not kept in the blob.
    let untagged = TAGGED
        .replace(", !pcsections !0", "")
        .replace(", !pcsections !2", "");
    let plain = link(&compile_x86(&format!("{MODULE}{untagged}"))).unwrap();
    assert!(plain.fault_sites.is_empty());
    assert_eq!(code.blob, plain.blob);
    // Several objects: each one's table, at its place in the blob.
    let objects = [compile_x86(MODULE), compile_x86(TAGGED)];
    let both = link_objects(&[&objects[0], &objects[1]]).unwrap();
    assert_eq!(both.fault_sites.len(), 4);
    assert_eq!(both.fault_sites[0].code_offset, both.symbols["inner"]);
}

#[test]
fn malformed_fault_sites_are_errors() {
    // A section written by hand: `@`, `%` and `^` are relocated addresses
    // of `add7`, `sw` and `poly`.
    let with = |entries: &str| {
        let entries = entries
            .replace('@', "1: .long add7 - 1b\\0A")
            .replace('%', "1: .long sw - 1b\\0A")
            .replace('^', "1: .long poly - 1b\\0A");
        format!(
            "module asm \".section wamr_faults,\\22aw\\22,@progbits\"\nmodule asm \"{entries}\"\n\
             module asm \".section .rodata\\0A.Lro: .long 0\\0A.text\"\n{MODULE}"
        )
    };
    let code = link(&compile_x86(&with("@.byte 5"))).unwrap();
    let at = |name: &str| code.symbols[name];
    let site = |code_offset, func| FaultSite { code_offset, func };
    assert_eq!(code.fault_sites, [site(at("add7"), 5)]);
    // Two addresses in one group, then a group of one.
    let code = link(&compile_x86(&with("@%.byte 0x81, 1\\0A^.byte 2"))).unwrap();
    let mut want = [
        site(at("add7"), 129),
        site(at("sw"), 129),
        site(at("poly"), 2),
    ];
    want.sort();
    assert_eq!(code.fault_sites, want);
    for (entries, reason) in [
        (".byte 5", "follows no address"),
        ("@", "have no function index"),
        ("@.byte 0x80", "cut short or too large"),
        (
            "@.byte 0x80, 0x80, 0x80, 0x80, 0x10",
            "cut short or too large",
        ),
        ("1: .long .Lro - 1b\\0A.byte 1", "outside the code"),
    ] {
        let err = link(&compile_x86(&with(entries))).unwrap_err();
        assert!(
            matches!(&err, LinkError::FaultSites { reason: r, .. } if r.contains(reason)),
            "{entries}: {err}"
        );
    }
}
