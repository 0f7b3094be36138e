//! Constant expressions (global initialisers, segment offsets and element
//! items), decoded once into a small instruction list and evaluated by the
//! runtime at instantiation, the same for every tier.

use crate::error::{Error, Result};
use crate::value::{RawRef, Val};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    /// `array.new_default`: a new array of the popped i32 length, every
    /// element zero (the default of every defaultable element type).
    ArrayNewDefault,
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstExpr {
    ops: Box<[ConstOp]>,
}

/// What evaluation needs from the instance being built.
pub trait ConstContext {
    fn global(&self, index: u32) -> Val;
    fn func_ref(&self, index: u32) -> RawRef;
    /// A new GC array of `len` default elements.
    fn new_array(&self, len: u32) -> Result<RawRef>;
}

impl ConstExpr {
    pub fn from_ops(ops: impl IntoIterator<Item = ConstOp>) -> Self {
        ConstExpr {
            ops: ops.into_iter().collect(),
        }
    }

    pub fn ops(&self) -> &[ConstOp] {
        &self.ops
    }

    pub(crate) fn decode(expr: &wasmparser::ConstExpr<'_>) -> Result<Self> {
        use wasmparser::Operator as O;
        let mut ops = Vec::new();
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            let op = reader
                .read()
                .map_err(|e| Error::Malformed(e.message().to_string()))?;
            ops.push(match op {
                O::I32Const { value } => ConstOp::I32(value),
                O::I64Const { value } => ConstOp::I64(value),
                O::F32Const { value } => ConstOp::F32(value.bits()),
                O::F64Const { value } => ConstOp::F64(value.bits()),
                O::V128Const { value } => ConstOp::V128(value.i128() as u128),
                O::RefNull { .. } => ConstOp::RefNull,
                O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                O::ArrayNewDefault { .. } => ConstOp::ArrayNewDefault,
                O::I32Add => ConstOp::I32Add,
                O::I32Sub => ConstOp::I32Sub,
                O::I32Mul => ConstOp::I32Mul,
                O::I64Add => ConstOp::I64Add,
                O::I64Sub => ConstOp::I64Sub,
                O::I64Mul => ConstOp::I64Mul,
                O::End => break,
                other => {
                    return Err(Error::Invalid(format!(
                        "constant expression required, found {other:?}"
                    )));
                }
            });
        }
        Ok(ConstExpr { ops: ops.into() })
    }

    /// Evaluates the expression. Validation guarantees a well-typed result,
    /// so a stack mismatch here is a runtime bug reported as an error.
    pub fn eval(&self, ctx: &dyn ConstContext) -> Result<Val> {
        let mut stack: Vec<Val> = Vec::with_capacity(2);
        for op in self.ops.iter() {
            let v = match *op {
                ConstOp::I32(v) => Val::I32(v),
                ConstOp::I64(v) => Val::I64(v),
                ConstOp::F32(v) => Val::F32(v),
                ConstOp::F64(v) => Val::F64(v),
                ConstOp::V128(v) => Val::V128(v),
                ConstOp::RefNull => Val::Ref(RawRef::NULL),
                ConstOp::RefFunc(i) => Val::Ref(ctx.func_ref(i)),
                ConstOp::GlobalGet(i) => ctx.global(i),
                ConstOp::ArrayNewDefault => {
                    let Some(Val::I32(len)) = stack.pop() else {
                        return Err(bad_stack());
                    };
                    Val::Ref(ctx.new_array(len as u32)?)
                }
                ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                    let (a, b) = pop2(&mut stack)?;
                    let (Val::I32(a), Val::I32(b)) = (a, b) else {
                        return Err(bad_stack());
                    };
                    Val::I32(match *op {
                        ConstOp::I32Add => a.wrapping_add(b),
                        ConstOp::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                    let (a, b) = pop2(&mut stack)?;
                    let (Val::I64(a), Val::I64(b)) = (a, b) else {
                        return Err(bad_stack());
                    };
                    Val::I64(match *op {
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
            };
            stack.push(v);
        }
        match stack.as_slice() {
            [v] => Ok(*v),
            _ => Err(bad_stack()),
        }
    }
}

fn pop2(stack: &mut Vec<Val>) -> Result<(Val, Val)> {
    let b = stack.pop().ok_or_else(bad_stack)?;
    let a = stack.pop().ok_or_else(bad_stack)?;
    Ok((a, b))
}

fn bad_stack() -> Error {
    Error::Other("constant expression left an ill-typed stack".into())
}
