use super::*;

/// x86_64 `mov eax, 42; ret`.
const RETURN_42: [u8; 6] = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3];

fn meta() -> AotMeta {
    AotMeta {
        compiler_version: crate::COMPILER_VERSION.to_string(),
        triple: "x86_64-unknown-linux-gnu".into(),
        cpu: "x86-64".into(),
        features: "+sse4.1,+popcnt".into(),
        abi: String::new(),
        opt_level: 3,
        wasm_features: WasmFeatures::from_runtime(&wamr_runtime::Features::default()),
        helpers: vec!["i64_div_s".into(), "f64_add".into()],
    }
}

fn wasm() -> Vec<u8> {
    // Any bytes do: the container does not parse the module.
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend((0..300u32).map(|i| (i * 7) as u8));
    wasm
}

fn code() -> Vec<u8> {
    let mut code = RETURN_42.to_vec();
    code.extend([0xcc; 10]);
    code.extend(RETURN_42);
    code
}

fn functions() -> Vec<FunctionEntry> {
    vec![
        FunctionEntry {
            native: 0,
            array_call: 16,
            osr: None,
        },
        FunctionEntry {
            native: 16,
            array_call: 0,
            osr: None,
        },
    ]
}

fn sample_file() -> Vec<u8> {
    let (wasm, code) = (wasm(), code());
    AotImage::new(meta(), &wasm, &code, functions())
        .to_bytes()
        .unwrap()
}

/// Offset where the variable header ends (the writer puts the function
/// table right there).
fn header_end() -> usize {
    let sections = [SectionEntry::new(SectionKind::Code, 0, 0); 3];
    FIXED_HEADER_LEN + encode_header(&meta(), &[0; 32], &sections).unwrap().len()
}

/// Offset of section-table entry `i` (written in the order: function
/// table, wasm, code).
fn section_entry_at(i: usize) -> usize {
    header_end() - 3 * 20 + i * 20
}

fn put_u64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Applies `edit`, re-seals the checksum and parses.
fn crafted(edit: impl FnOnce(&mut Vec<u8>)) -> ContainerError {
    let mut bytes = sample_file();
    edit(&mut bytes);
    let len = bytes.len() as u64;
    put_u64(&mut bytes, FILE_LEN_AT, len);
    seal(&mut bytes);
    AotImage::from_bytes(&bytes).unwrap_err()
}

#[test]
fn round_trip() {
    let (wasm, code) = (wasm(), code());
    let image = AotImage::new(meta(), &wasm, &code, functions());
    let bytes = image.to_bytes().unwrap();
    let loaded = AotImage::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, image);
    assert_eq!(
        loaded.meta.wasm_features.to_runtime(),
        wamr_runtime::Features::default()
    );
    let code_offset = loaded.code.as_ptr() as usize - bytes.as_ptr() as usize;
    assert_eq!(code_offset as u64 % CODE_ALIGN, 0);
    assert_eq!(bytes.len(), code_offset + code.len());
    assert!(loaded.check_wasm(&wasm).is_ok());
    assert!(loaded.meta.check_compiler(crate::COMPILER_VERSION).is_ok());
}

#[test]
fn round_trip_of_empty_parts() {
    let empty_meta = AotMeta {
        compiler_version: String::new(),
        triple: String::new(),
        cpu: String::new(),
        features: String::new(),
        abi: String::new(),
        opt_level: 0,
        wasm_features: WasmFeatures::default(),
        helpers: Vec::new(),
    };
    let image = AotImage::new(empty_meta, &[], &[], Vec::new());
    let bytes = image.to_bytes().unwrap();
    assert_eq!(AotImage::from_bytes(&bytes).unwrap(), image);
}

#[test]
fn writer_rejects_bad_entries() {
    let (wasm, code) = (wasm(), code());
    let mut funcs = functions();
    funcs[1].array_call = code.len() as u32;
    let err = AotImage::new(meta(), &wasm, &code, funcs)
        .to_bytes()
        .unwrap_err();
    assert!(
        matches!(err, ContainerError::BadFunctionEntry { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn every_bit_flip_in_the_header_and_a_sample_elsewhere_is_rejected() {
    let good = sample_file();
    let end = header_end();
    let positions = (0..end)
        .chain((end..good.len()).step_by(61))
        .chain([good.len() - 1]);
    let mut checked = 0;
    for at in positions {
        let bits = if at < end {
            0..8
        } else {
            (at % 8) as u8..(at % 8) as u8 + 1
        };
        for bit in bits {
            let mut bytes = good.clone();
            bytes[at] ^= 1 << bit;
            let err = AotImage::from_bytes(&bytes).unwrap_err();
            let expected = match at {
                0..8 => matches!(err, ContainerError::BadMagic),
                8..12 => matches!(err, ContainerError::UnsupportedVersion { .. }),
                12..20 => matches!(
                    err,
                    ContainerError::Truncated { .. } | ContainerError::LengthMismatch { .. }
                ),
                _ => matches!(err, ContainerError::ChecksumMismatch),
            };
            assert!(expected, "byte {at} bit {bit}: {err}");
            checked += 1;
        }
    }
    assert!(checked > end * 8, "{checked}");
}

#[test]
fn truncation_anywhere_is_reported() {
    let good = sample_file();
    // Every length up to the end of the header, and around every section
    // boundary.
    let image = AotImage::from_bytes(&good).unwrap();
    let offset_of = |s: &[u8]| s.as_ptr() as usize - good.as_ptr() as usize;
    let (wasm_at, code_at) = (offset_of(image.wasm), offset_of(image.code));
    let boundaries = [
        header_end(),
        wasm_at,
        wasm_at + image.wasm.len(),
        code_at,
        good.len(),
    ];
    let lengths = (0..=header_end())
        .chain(boundaries.iter().flat_map(|&b| [b - 1, b]))
        .filter(|&len| len < good.len());
    for len in lengths {
        let err = AotImage::from_bytes(&good[..len]).unwrap_err();
        assert!(
            matches!(err, ContainerError::Truncated { .. }),
            "length {len}: {err}"
        );
        assert!(err.to_string().contains("truncated"), "{err}");
    }
    let mut longer = good.clone();
    longer.push(0);
    let err = AotImage::from_bytes(&longer).unwrap_err();
    assert!(
        matches!(err, ContainerError::LengthMismatch { .. }),
        "{err}"
    );
}

#[test]
fn other_files_and_versions_are_rejected() {
    let err = AotImage::from_bytes(b"\0asm\x01\0\0\0 definitely not aot").unwrap_err();
    assert!(matches!(err, ContainerError::BadMagic), "{err}");
    let mut bytes = sample_file();
    put_u32(&mut bytes, VERSION_AT, FORMAT_VERSION + 1);
    let err = AotImage::from_bytes(&bytes).unwrap_err();
    let version = format!("version {}", FORMAT_VERSION + 1);
    assert!(err.to_string().contains(&version), "{err}");
}

#[test]
fn section_table_is_validated() {
    let file_len = sample_file().len() as u64;
    let code_entry = section_entry_at(2);
    let wasm_entry = section_entry_at(1);

    let err = crafted(|b| put_u64(b, code_entry + 12, 1 << 20));
    assert!(
        matches!(
            err,
            ContainerError::SectionOutOfBounds {
                section: "code",
                ..
            }
        ),
        "{err}"
    );
    let err = crafted(|b| put_u64(b, code_entry + 4, u64::MAX - 2));
    assert!(
        matches!(err, ContainerError::SectionOutOfBounds { .. }),
        "{err}"
    );
    // A section may not start inside the header.
    let err = crafted(|b| put_u64(b, wasm_entry + 4, 0));
    assert!(
        matches!(
            err,
            ContainerError::SectionOutOfBounds {
                section: "wasm",
                ..
            }
        ),
        "{err}"
    );
    let err = crafted(|b| {
        // The function table runs into the wasm that follows it.
        let table = section_entry_at(0);
        let len = u64::from_le_bytes(b[table + 12..table + 20].try_into().unwrap());
        put_u64(b, table + 12, len + 8);
    });
    assert!(
        matches!(err, ContainerError::SectionOverlap { .. }),
        "{err}"
    );
    let err = crafted(|b| {
        // Move the code one byte later, keeping it inside the file.
        let at = u64::from_le_bytes(b[code_entry + 4..code_entry + 12].try_into().unwrap());
        put_u64(b, code_entry + 4, at + 1);
        put_u64(b, code_entry + 12, file_len - at - 1);
    });
    assert!(
        matches!(err, ContainerError::CodeMisaligned { .. }),
        "{err}"
    );
    let err = crafted(|b| put_u32(b, wasm_entry, SectionKind::Code as u32));
    assert!(
        matches!(err, ContainerError::DuplicateSection("code")),
        "{err}"
    );
    let err = crafted(|b| put_u32(b, wasm_entry, 77));
    assert!(matches!(err, ContainerError::UnknownSection(77)), "{err}");
    let err = crafted(|b| put_u32(b, section_entry_at(0) - 4, 2));
    assert!(
        matches!(err, ContainerError::MissingSection("code")),
        "{err}"
    );
}

#[test]
fn contents_are_validated() {
    let functions_at = header_end();
    // First function's array-call entry points past the code.
    let err = crafted(|b| put_u32(b, functions_at + 8, 1 << 30));
    assert!(
        matches!(err, ContainerError::BadFunctionEntry { index: 0, .. }),
        "{err}"
    );
    // Count does not match the table's length.
    let err = crafted(|b| put_u32(b, functions_at, 3));
    assert!(matches!(err, ContainerError::Malformed(_)), "{err}");
    // Wasm bytes that do not match the header's hash.
    let err = crafted(|b| b[functions_at + 4 + 24 + 3] ^= 1);
    assert!(matches!(err, ContainerError::EmbeddedWasmMismatch), "{err}");
    // Unknown feature bits, bad opt level, bad UTF-8: find the fields after
    // the five strings.
    let meta = meta();
    let strings = [
        &meta.compiler_version,
        &meta.triple,
        &meta.cpu,
        &meta.features,
        &meta.abi,
    ];
    let opt_at = FIXED_HEADER_LEN + strings.iter().map(|s| 4 + s.len()).sum::<usize>();
    let err = crafted(|b| b[opt_at] = 9);
    assert!(matches!(err, ContainerError::Malformed(_)), "{err}");
    let err = crafted(|b| b[opt_at + 4] |= 0x80);
    assert!(
        matches!(err, ContainerError::UnknownWasmFeatures(0x8000_0000)),
        "{err}"
    );
    let err = crafted(|b| b[FIXED_HEADER_LEN + 4] = 0xff);
    assert!(err.to_string().contains("UTF-8"), "{err}");
    // A string length running past the end of the file.
    let err = crafted(|b| put_u32(b, FIXED_HEADER_LEN, u32::MAX));
    assert!(matches!(err, ContainerError::Malformed(_)), "{err}");
}

#[test]
fn wrong_target_names_both_targets() {
    let (wasm, code) = (wasm(), code());
    let mut riscv = meta();
    riscv.triple = "riscv64-unknown-linux-gnu".into();
    riscv.cpu = "generic-rv64".into();
    riscv.features = "+m,+a,+c,+f,+d".into();
    let host = HostTarget {
        triple: "x86_64-unknown-linux-gnu".into(),
        features: vec!["sse4.1".into()],
    };
    let image = AotImage::new(riscv, &wasm, &code, functions());
    let err = image.check_target(&host).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, ContainerError::TargetMismatch { .. }),
        "{err}"
    );
    assert!(
        message.contains("riscv64-unknown-linux-gnu")
            && message.contains("x86_64-unknown-linux-gnu"),
        "{message}"
    );

    let image = AotImage::new(meta(), &wasm, &code, functions());
    let err = image.check_target(&host).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, ContainerError::MissingCpuFeatures { .. }),
        "{err}"
    );
    assert!(message.contains("lacks +popcnt"), "{message}");
    assert!(
        message.contains("+sse4.1,+popcnt") && message.contains("+sse4.1`"),
        "{message}"
    );

    let mut skylake = meta();
    skylake.cpu = "skylake".into();
    let err = AotImage::new(skylake, &wasm, &code, functions())
        .check_target(&host)
        .unwrap_err();
    assert!(
        matches!(err, ContainerError::UnverifiableCpu { .. }),
        "{err}"
    );

    let able = HostTarget {
        features: vec!["sse4.1".into(), "popcnt".into()],
        ..host
    };
    assert!(image.check_target(&able).is_ok());

    let mut riscv_abi = riscv_meta_with_abi();
    riscv_abi.helpers.clear();
    let err = AotImage::new(riscv_abi, &wasm, &code, functions())
        .check_target(&able)
        .unwrap_err();
    assert!(err.to_string().contains("abi `lp64`"), "{err}");

    let mut unknown = meta();
    unknown.helpers = vec!["i64_div_s".into(), "__divdi3".into(), "f9_frob".into()];
    let err = AotImage::new(unknown, &wasm, &code, functions())
        .check_target(&able)
        .unwrap_err();
    assert!(matches!(err, ContainerError::UnknownHelpers(_)), "{err}");
    assert!(
        err.to_string()
            .ends_with("does not provide: __divdi3, f9_frob"),
        "{err}"
    );
}

fn riscv_meta_with_abi() -> AotMeta {
    AotMeta {
        triple: "riscv64-unknown-linux-gnu".into(),
        cpu: "generic-rv64".into(),
        features: "+m,+a,+c".into(),
        abi: "lp64".into(),
        ..meta()
    }
}

#[test]
fn compiler_and_wasm_mismatches_are_errors() {
    let bytes = sample_file();
    let image = AotImage::from_bytes(&bytes).unwrap();
    let err = image
        .meta
        .check_compiler("wamr-llvm-aot 9.9.9 (LLVM 20.1.0)")
        .unwrap_err();
    assert!(err.to_string().contains("9.9.9"), "{err}");
    let err = image.check_wasm(b"\0asm\x01\0\0\0").unwrap_err();
    assert!(matches!(err, ContainerError::WasmMismatch { .. }), "{err}");
}

#[test]
fn open_reports_missing_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.aot");
    let err = AotFile::open(&missing).unwrap_err();
    assert!(err.to_string().contains("missing.aot"), "{err}");
    let empty = dir.path().join("empty.aot");
    std::fs::write(&empty, b"").unwrap();
    let err = AotFile::open(&empty).unwrap_err();
    assert!(matches!(err, ContainerError::Truncated { .. }), "{err}");
}

#[test]
fn file_gives_the_same_image() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.aot");
    let bytes = sample_file();
    std::fs::write(&path, &bytes).unwrap();
    let file = AotFile::open(&path).unwrap();
    assert_eq!(file.image(), AotImage::from_bytes(&bytes).unwrap());
    assert_eq!(file.code(), &code()[..]);
    assert_eq!(file.wasm(), &wasm()[..]);
    assert_eq!(file.code_offset() % CODE_ALIGN, 0);
    assert!(file.check_wasm(&wasm()).is_ok());
}

#[cfg(target_arch = "x86_64")]
mod x86_64_runs {
    use super::*;

    #[test]
    fn code_maps_from_the_file_and_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.aot");
        std::fs::write(&path, sample_file()).unwrap();
        let file = AotFile::open(&path).unwrap();
        file.check_target(&HostTarget {
            triple: "x86_64-pc-linux-gnu".into(),
            features: vec!["sse4.1".into(), "popcnt".into()],
        })
        .unwrap();
        let code = file.map_code().unwrap();
        assert_eq!(code.bytes(), file.code());
        for f in file.functions() {
            let entry = code.entry(f.native).unwrap();
            // SAFETY: every entry in `functions()` is `mov eax, 42; ret`,
            // mapped read+exec while `code` lives.
            let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn() -> i32>(entry) };
            assert_eq!(f(), 42);
        }
    }
}

fn fault_sites() -> Vec<FaultSite> {
    vec![
        FaultSite {
            code_offset: 0,
            func: 3,
        },
        FaultSite {
            code_offset: 16,
            func: 300,
        },
    ]
}

#[test]
fn fault_sites_round_trip() {
    let (wasm, code) = (wasm(), code());
    let image = AotImage::new(meta(), &wasm, &code, functions()).with_fault_sites(fault_sites());
    let bytes = image.to_bytes().unwrap();
    let loaded = AotImage::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, image);
    assert_eq!(loaded.fault_sites, fault_sites());
    // A fourth section, only when there are sites.
    let section_count = |b: &[u8]| {
        let at = header_end() - 3 * 20 - 4;
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    };
    assert_eq!(section_count(&bytes), 4);
    assert_eq!(section_count(&sample_file()), 3);
    let code_offset = loaded.code.as_ptr() as usize - bytes.as_ptr() as usize;
    assert_eq!(code_offset as u64 % CODE_ALIGN, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.aot");
    std::fs::write(&path, &bytes).unwrap();
    let file = AotFile::open(&path).unwrap();
    assert_eq!(file.fault_sites(), &fault_sites()[..]);
    assert_eq!(file.image(), loaded);
    // Files without the section have none.
    assert!(
        AotImage::from_bytes(&sample_file())
            .unwrap()
            .fault_sites
            .is_empty()
    );
}

#[test]
fn fault_sites_are_validated() {
    let (wasm, code) = (wasm(), code());
    let write = |sites: Vec<FaultSite>| {
        AotImage::new(meta(), &wasm, &code, functions())
            .with_fault_sites(sites)
            .to_bytes()
    };
    let mut outside = fault_sites();
    outside[1].code_offset = code.len() as u32;
    let mut unsorted = fault_sites();
    unsorted.swap(0, 1);
    let mut repeated = fault_sites();
    repeated[1].code_offset = 0;
    for (sites, reason) in [
        (outside, "outside the code"),
        (unsorted, "not after"),
        (repeated, "not after"),
    ] {
        let err = write(sites.clone()).unwrap_err();
        assert!(
            matches!(&err, ContainerError::BadFaultSite { index: 1, .. })
                && err.to_string().contains(reason),
            "{sites:?}: {err}"
        );
    }
    // The reader checks the same, and the table's length.
    let good = write(fault_sites()).unwrap();
    let table = header_end() + 20 + 4 + 2 * 12;
    let reparse = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = good.clone();
        edit(&mut bytes);
        seal(&mut bytes);
        AotImage::from_bytes(&bytes).unwrap_err()
    };
    let err = reparse(&|b| put_u32(b, table + 4 + 8, 0));
    assert!(
        matches!(err, ContainerError::BadFaultSite { index: 1, .. }),
        "{err}"
    );
    let err = reparse(&|b| put_u32(b, table + 4 + 8, 1 << 20));
    assert!(
        matches!(err, ContainerError::BadFaultSite { index: 1, .. }),
        "{err}"
    );
    let err = reparse(&|b| put_u32(b, table, 3));
    assert!(matches!(err, ContainerError::Malformed(_)), "{err}");
    // A second fault-site section is an error.
    let err = reparse(&|b| {
        put_u32(
            b,
            header_end() + 20 - 3 * 20,
            SectionKind::FaultSites as u32,
        )
    });
    assert!(
        matches!(err, ContainerError::DuplicateSection("fault sites")),
        "{err}"
    );
}
