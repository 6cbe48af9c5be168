//! 2x2, stride-2 max pooling as a burn operator on flex, with its own backward step: what
//! the network pools with when training on the CPU (`--operators own`, the default), beside [`super::gemm_conv`].
//!
//! flex's max pooling is general (any window, stride, padding and dilation) and records the
//! index of every maximum for the backward pass; `digitpad profile` put its forward at about
//! 10% of a training step. This one reads each 2x2 window once, and the backward finds each
//! window's maximum again from the input (the first of equal values, in row-major order) and
//! passes it the gradient.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex};
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use super::with_values;

/// 2x2 max pooling with stride 2 on flex (a last odd row or column is dropped).
#[backend_extension(Flex, Autodiff)]
pub trait MaxPool2x2Backend: Backend {
    /// `[N, C, H, W]` to `[N, C, H / 2, W / 2]`.
    fn max_pool_2x2(input: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The operator's name in messages.
const OP: &str = "max_pool_2x2";

/// The dimensions of a rank-4 flex tensor.
fn dims(tensor: &FlexTensor) -> [usize; 4] {
    let shape = tensor.layout().shape();
    assert_eq!(shape.num_dims(), 4, "{OP} expects [N, C, H, W]");
    [shape[0], shape[1], shape[2], shape[3]]
}

/// Planes one task pools at least (a plane of the network is 49-196 windows: one task per
/// plane spent more on scheduling than on pooling).
const PLANES_PER_TASK: usize = 16;

/// Where in `plane` the maximum of the window at `window` (its four places, row-major) is:
/// the first of equal values.
#[inline]
fn window_argmax(plane: &[f32], window: [usize; 4]) -> usize {
    window.into_iter().fold(
        window[0],
        |best, i| if plane[i] > plane[best] { i } else { best },
    )
}

/// Calls `visit(output, window)` for each output of a plane `h x w`, in row-major order:
/// `output` is its index among the outputs, `window` the places of its four inputs.
#[inline]
fn windows([h, w]: [usize; 2], mut visit: impl FnMut(usize, [usize; 4])) {
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            let top = 2 * y * w + 2 * x;
            visit(y * (w / 2) + x, [top, top + 1, top + w, top + w + 1]);
        }
    }
}

/// The pooled values of `values` `[N, C, H, W]`.
fn forward([n, c, h, w]: [usize; 4], values: &[f32]) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = vec![0f32; n * c * oh * ow];
    if oh * ow > 0 {
        out.par_chunks_mut(oh * ow)
            .zip(values.par_chunks(h * w))
            .with_min_len(PLANES_PER_TASK)
            .for_each(|(out, plane)| {
                windows([h, w], |o, window| {
                    out[o] = plane[window_argmax(plane, window)]
                });
            });
    }
    out
}

/// The input's gradient `[N, C, H, W]` from the output's: each window's gradient goes to its
/// maximum.
fn backward([n, c, h, w]: [usize; 4], values: &[f32], output_grad: &[f32]) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut grad = vec![0f32; n * c * h * w];
    if oh * ow > 0 {
        grad.par_chunks_mut(h * w)
            .zip(values.par_chunks(h * w))
            .zip(output_grad.par_chunks(oh * ow))
            .with_min_len(PLANES_PER_TASK)
            .for_each(|((grad, plane), dy)| {
                windows([h, w], |o, window| {
                    grad[window_argmax(plane, window)] += dy[o]
                });
            });
    }
    grad
}

impl MaxPool2x2Backend for Flex {
    fn max_pool_2x2(input: FlexTensor) -> FlexTensor {
        let [n, c, h, w] = dims(&input);
        let out = with_values(&input, OP, |values| forward([n, c, h, w], values));
        FlexTensor::from_data(TensorData::new(out, [n, c, h / 2, w / 2]))
    }
}

impl<C: CheckpointStrategy> MaxPool2x2Backend for Autodiff<Flex, C> {
    fn max_pool_2x2(input: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct MaxPoolBackward;

        impl Backward<Flex, 1> for MaxPoolBackward {
            /// The input.
            type State = FlexTensor;

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [input_node] = ops.parents;
                let output_grad = grads.consume::<Flex>(&ops.node);
                let Some(node) = input_node else {
                    return;
                };
                let dims = dims(&ops.state);
                let grad = with_values(&ops.state, OP, |values| {
                    with_values(&output_grad, OP, |dy| backward(dims, values, dy))
                });
                grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(grad, dims)));
            }
        }

        match MaxPoolBackward
            .prepare::<C>([input.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = input.primitive().clone();
                let output = Flex::max_pool_2x2(x.clone());
                prep.finish(x, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::max_pool_2x2(input.into_primitive())),
        }
    }
}

/// [`MaxPool2x2Backend::max_pool_2x2`] on tensors (flex ones, tracked or not).
pub fn max_pool_2x2(input: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as MaxPool2x2Backend>::max_pool_2x2(
        input.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Device;

    use crate::train::ops::tests::{read, values};

    /// The same outputs and input gradient as burn's max pooling (odd sizes, distinct values so
    /// that no window has a tie), through autodiff and without it.
    #[test]
    fn matches_burns_max_pooling() {
        check_against_burn([2, 3, 7, 6], 11);
    }

    proptest::proptest! {
        #![proptest_config(crate::property_tests::fixed_seed(32))]
        /// And on any batch, channel count and size from 2x2 to 13x13, odd or even.
        #[test]
        fn matches_burns_max_pooling_on_any_shape(
            n in 1usize..=4,
            c in 1usize..=9,
            h in 2usize..=13,
            w in 2usize..=13,
            seed in 0u32..1000,
        ) {
            check_against_burn([n, c, h, w], seed);
        }
    }

    /// Ours against burn's max pooling (the reference) on an `[n, c, h, w]` input.
    fn check_against_burn([n, c, h, w]: [usize; 4], seed: u32) {
        let values: Vec<f32> = values(n * c * h * w, seed)
            .iter()
            .enumerate()
            .map(|(i, v)| v + i as f32 * 1e-6)
            .collect();
        let device = Device::flex().autodiff();
        let x = || -> Tensor<4> {
            Tensor::from_data(TensorData::new(values.clone(), [n, c, h, w]), &device).require_grad()
        };
        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        let (ours_x, theirs_x) = (x(), x());
        let ours = max_pool_2x2(ours_x.clone());
        let theirs = pool.forward(theirs_x.clone());
        assert_eq!(ours.dims(), theirs.dims());
        let weights: Tensor<4> = Tensor::from_data(
            TensorData::new(
                (0..n * c * (h / 2) * (w / 2))
                    .map(|i| i as f32 - 20.0)
                    .collect::<Vec<_>>(),
                ours.dims(),
            ),
            &device,
        );
        let our_grads = (ours.clone() * weights.clone()).sum().backward();
        let their_grads = (theirs.clone() * weights).sum().backward();
        assert_eq!(read(ours), read(theirs));
        assert_eq!(
            read(ours_x.grad(&our_grads).unwrap()),
            read(theirs_x.grad(&their_grads).unwrap())
        );
        let plain = Device::flex();
        let input = Tensor::<4>::from_data(TensorData::new(values.clone(), [n, c, h, w]), &plain);
        assert_eq!(
            read(max_pool_2x2(input.clone())),
            read(pool.valid().forward(input))
        );
    }
}
