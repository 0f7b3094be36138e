//! The `spectest` host module the testsuite imports from.

use wamr_rs::{
    Extern, FuncType, GlobalType, IndexType, Limits, Linker, MemoryType, RawRef, Store, TableType,
    Val, ValType,
};

pub fn define(linker: &mut Linker, store: &mut Store) -> wamr_rs::Result<()> {
    use ValType::*;
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().copied(), []);
        linker.func(store, "spectest", name, ty, |_, _, _| Ok(()));
    }
    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, content, value) in globals {
        let g = store.add_global(
            GlobalType {
                content,
                mutable: false,
            },
            value,
        )?;
        linker.define("spectest", name, Extern::Global(g));
    }
    for (name, index) in [("table", IndexType::I32), ("table64", IndexType::I64)] {
        let ty = TableType {
            index,
            element: FuncRef,
            limits: Limits {
                min: 10,
                max: Some(20),
            },
        };
        let t = store.add_table(ty, RawRef::NULL)?;
        linker.define("spectest", name, Extern::Table(t));
    }
    let memory = store.add_memory(MemoryType {
        index: IndexType::I32,
        limits: Limits {
            min: 1,
            max: Some(2),
        },
        shared: false,
    })?;
    linker.define("spectest", "memory", Extern::Memory(memory));
    Ok(())
}
