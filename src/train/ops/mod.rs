//! The training operators of this crate, the default on the CPU (flex): [`gemm_conv`] (a
//! convolution as im2col and matrix products), [`max_pool`] (2x2 max pooling) and
//! [`batch_norm`] (batch norm with ReLU in training), each with its backward pass
//! (docs/decisions/training-operators.md).

use burn::backend::flex::FlexTensor;

pub mod batch_norm;
pub mod gemm_conv;
pub mod max_pool;
#[cfg(test)]
mod tests;

/// Calls `f` with the row-major f32 values of a flex tensor (copied only if they are not
/// contiguous): how these training operators read their inputs. Panics, naming `op`, on a tensor that is not f32.
pub(super) fn with_values<R>(tensor: &FlexTensor, op: &str, f: impl FnOnce(&[f32]) -> R) -> R {
    let contiguous;
    let tensor = if tensor.is_contiguous() {
        tensor
    } else {
        contiguous = tensor.to_contiguous();
        &contiguous
    };
    match tensor.as_slice::<f32>() {
        Some(values) => f(values),
        None => panic!("{op} trains in f32, got {:?}", tensor.dtype()),
    }
}
