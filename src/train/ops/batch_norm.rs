//! Batch normalization with the batch's own statistics, then ReLU, as one burn operator on
//! flex with its own backward step: what the network's convolution blocks train with on the CPU
//! (`--operators own`, the default), beside [`super::gemm_conv`] and [`super::max_pool`].
//!
//! burn's batch norm on flex takes the per-channel statistics by transposing the whole
//! activation to `[C, N * H * W]` (a layout copy each for the mean and the variance, forward
//! and backward), and the ReLU after it is two more passes. Here each channel's statistics
//! are read straight from its `H * W` planes, the normalization and the ReLU are one pass, and
//! the backward step recomputes the ReLU's mask from the input instead of keeping the output.
//!
//! Sums run in a fixed order (eight f32 lanes per plane, then the planes in order in f64), one
//! channel per task, so a seed gives the same run on any number of threads.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, AutodiffBackend, Backend, Dispatch, Flex};
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use super::with_values;

/// Batch norm in training mode followed by ReLU, on flex.
#[backend_extension(Flex, Autodiff)]
pub trait BatchNormReluBackend: Backend {
    /// `relu(gamma * (input - mean) / sqrt(variance + epsilon) + beta)` for `input`
    /// `[N, C, H, W]`, with the mean and biased variance of each channel over the batch, which
    /// are returned beside the output (`[C]` each, not differentiated: they feed the running
    /// statistics).
    fn batch_norm_relu_train(
        input: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// The operator's name in messages.
const OP: &str = "batch_norm_relu_train";

/// Lanes of the per-plane partial sums (enough for the compiler to vectorize them).
const LANES: usize = 8;

/// The sum of `f(value)` over a plane, in a fixed order: [`LANES`] running f32 sums, then
/// their total in f64.
#[inline]
fn plane_sum(plane: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    let mut lanes = [0f32; LANES];
    let mut chunks = plane.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    lanes.iter().map(|&l| f64::from(l)).sum::<f64>() + f64::from(tail)
}

/// The dimensions of a rank-4 flex tensor.
fn dims(tensor: &FlexTensor) -> [usize; 4] {
    let shape = tensor.layout().shape();
    assert_eq!(shape.num_dims(), 4, "{OP} expects [N, C, H, W]");
    [shape[0], shape[1], shape[2], shape[3]]
}

/// One batch's normalization: its statistics and the affine map they make with gamma and beta.
#[derive(Clone, Debug)]
struct Normalization {
    /// Per-channel mean over the batch.
    mean: Vec<f32>,
    /// Per-channel biased variance over the batch.
    variance: Vec<f32>,
    /// `1 / sqrt(variance + epsilon)`.
    inv_std: Vec<f32>,
    /// The learned scale.
    gamma: Vec<f32>,
    /// `gamma * inv_std`: what the input is multiplied by.
    scale: Vec<f32>,
    /// `beta - mean * scale`: what is added after.
    shift: Vec<f32>,
}

impl Normalization {
    /// The statistics of `values` `[N, C, H, W]` and the map to `gamma` and `beta`.
    fn of_batch(
        [n, c, h, w]: [usize; 4],
        values: &[f32],
        gamma: &[f32],
        beta: &[f32],
        epsilon: f64,
    ) -> Self {
        assert!(
            gamma.len() == c && beta.len() == c,
            "{OP}: gamma and beta need {c} values, got {} and {}",
            gamma.len(),
            beta.len()
        );
        let hw = h * w;
        let count = (n * hw).max(1) as f64;
        let planes = |channel: usize| (0..n).map(move |i| &values[(i * c + channel) * hw..][..hw]);
        let stats: Vec<(f32, f32)> = (0..c)
            .into_par_iter()
            .map(|channel| {
                let sum: f64 = planes(channel).map(|p| plane_sum(p, |v| v)).sum();
                let mean = (sum / count) as f32;
                let squares: f64 = planes(channel)
                    .map(|p| {
                        plane_sum(p, |v| {
                            let d = v - mean;
                            d * d
                        })
                    })
                    .sum();
                (mean, (squares / count) as f32)
            })
            .collect();
        let (mean, variance): (Vec<f32>, Vec<f32>) = stats.into_iter().unzip();
        let inv_std: Vec<f32> = variance
            .iter()
            .map(|&v| (1.0 / (f64::from(v) + epsilon).sqrt()) as f32)
            .collect();
        let scale: Vec<f32> = gamma.iter().zip(&inv_std).map(|(g, s)| g * s).collect();
        let shift = beta
            .iter()
            .zip(&mean)
            .zip(&scale)
            .map(|((b, m), s)| b - m * s)
            .collect();
        Self {
            mean,
            variance,
            inv_std,
            gamma: gamma.to_vec(),
            scale,
            shift,
        }
    }

    /// The normalized, shifted and rectified values.
    fn forward(&self, [_, c, h, w]: [usize; 4], values: &[f32]) -> Vec<f32> {
        let hw = h * w;
        let mut out = vec![0f32; values.len()];
        if hw > 0 {
            out.par_chunks_mut(hw)
                .zip(values.par_chunks(hw))
                .enumerate()
                .for_each(|(plane, (out, x))| {
                    let (scale, shift) = (self.scale[plane % c], self.shift[plane % c]);
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = (v * scale + shift).max(0.0);
                    }
                });
        }
        out
    }

    /// The gradients of the input, gamma and beta from the output's gradient `dy`.
    fn backward(
        &self,
        [n, c, h, w]: [usize; 4],
        values: &[f32],
        dy: &[f32],
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let hw = h * w;
        let count = (n * hw).max(1) as f64;
        // The gradient that passes the ReLU: where the forward's output was positive.
        let relu_gate = |channel: usize| {
            let (scale, shift) = (self.scale[channel], self.shift[channel]);
            move |x: f32, g: f32| if x * scale + shift > 0.0 { g } else { 0.0 }
        };
        let sums: Vec<(f32, f32)> = (0..c)
            .into_par_iter()
            .map(|channel| {
                let (mean, inv_std) = (self.mean[channel], self.inv_std[channel]);
                let passed = relu_gate(channel);
                let (mut beta_grad, mut gamma_grad) = (0f64, 0f64);
                for i in 0..n {
                    let at = (i * c + channel) * hw;
                    let (x, g) = (&values[at..at + hw], &dy[at..at + hw]);
                    let mut lanes = [[0f32; LANES]; 2];
                    let pairs = x.chunks_exact(LANES).zip(g.chunks_exact(LANES));
                    for (xs, gs) in pairs {
                        for lane in 0..LANES {
                            let g = passed(xs[lane], gs[lane]);
                            lanes[0][lane] += g;
                            lanes[1][lane] += g * ((xs[lane] - mean) * inv_std);
                        }
                    }
                    let tail = hw - hw % LANES;
                    let (mut tail_beta, mut tail_gamma) = (0f32, 0f32);
                    for (&xv, &gv) in x[tail..].iter().zip(&g[tail..]) {
                        let g = passed(xv, gv);
                        tail_beta += g;
                        tail_gamma += g * ((xv - mean) * inv_std);
                    }
                    beta_grad +=
                        lanes[0].iter().map(|&l| f64::from(l)).sum::<f64>() + f64::from(tail_beta);
                    gamma_grad +=
                        lanes[1].iter().map(|&l| f64::from(l)).sum::<f64>() + f64::from(tail_gamma);
                }
                (gamma_grad as f32, beta_grad as f32)
            })
            .collect();
        let (gamma_grad, beta_grad): (Vec<f32>, Vec<f32>) = sums.into_iter().unzip();
        let mut input_grad = vec![0f32; values.len()];
        if hw > 0 {
            input_grad
                .par_chunks_mut(hw)
                .zip(values.par_chunks(hw).zip(dy.par_chunks(hw)))
                .enumerate()
                .for_each(|(plane, (out, (x, g)))| {
                    let channel = plane % c;
                    let (mean, inv_std) = (self.mean[channel], self.inv_std[channel]);
                    let mean_beta = (f64::from(beta_grad[channel]) / count) as f32;
                    let mean_gamma = (f64::from(gamma_grad[channel]) / count) as f32;
                    let factor = self.gamma[channel] * inv_std;
                    let passed = relu_gate(channel);
                    for ((o, &xv), &gv) in out.iter_mut().zip(x).zip(g) {
                        let normalized = (xv - mean) * inv_std;
                        let g = passed(xv, gv);
                        *o = factor * (g - mean_beta - normalized * mean_gamma);
                    }
                });
        }
        (input_grad, gamma_grad, beta_grad)
    }
}

/// The normalization of `input` and its output, both from flex tensors.
fn normalize(
    input: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
) -> (Normalization, FlexTensor) {
    let shape = dims(input);
    with_values(input, OP, |x| {
        let norm = with_values(gamma, OP, |g| {
            with_values(beta, OP, |b| {
                Normalization::of_batch(shape, x, g, b, epsilon)
            })
        });
        let output = norm.forward(shape, x);
        (norm, FlexTensor::from_data(TensorData::new(output, shape)))
    })
}

/// A `[C]` flex tensor.
fn per_channel(values: &[f32]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values.to_vec(), [values.len()]))
}

impl BatchNormReluBackend for Flex {
    fn batch_norm_relu_train(
        input: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (norm, output) = normalize(&input, &gamma, &beta, epsilon);
        (output, per_channel(&norm.mean), per_channel(&norm.variance))
    }
}

impl<C: CheckpointStrategy> BatchNormReluBackend for Autodiff<Flex, C> {
    fn batch_norm_relu_train(
        input: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        #[derive(Debug)]
        struct BatchNormReluBackward;

        impl Backward<Flex, 3> for BatchNormReluBackward {
            /// The input and the batch's normalization.
            type State = (FlexTensor, Normalization);

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [input_node, gamma_node, beta_node] = ops.parents;
                let output_grad = grads.consume::<Flex>(&ops.node);
                let (input, norm) = ops.state;
                let shape = dims(&input);
                let (input_grad, gamma_grad, beta_grad) = with_values(&input, OP, |x| {
                    with_values(&output_grad, OP, |dy| norm.backward(shape, x, dy))
                });
                if let Some(node) = input_node {
                    let grad = FlexTensor::from_data(TensorData::new(input_grad, shape));
                    grads.register::<Flex>(node.id, grad);
                }
                if let Some(node) = gamma_node {
                    grads.register::<Flex>(node.id, per_channel(&gamma_grad));
                }
                if let Some(node) = beta_node {
                    grads.register::<Flex>(node.id, per_channel(&beta_grad));
                }
            }
        }

        let (x, g, b) = (
            input.primitive().clone(),
            gamma.primitive().clone(),
            beta.primitive().clone(),
        );
        let (norm, output) = normalize(&x, &g, &b, epsilon);
        let stats = |values: &[f32]| Self::from_inner(per_channel(values));
        let (mean, variance) = (stats(&norm.mean), stats(&norm.variance));
        let output = match BatchNormReluBackward
            .prepare::<C>([input.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, norm), output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        };
        (output, mean, variance)
    }
}

/// The output of [`batch_norm_relu_train`] and the batch statistics it used.
pub struct BatchNormReluOutput {
    /// The normalized, rectified activations `[N, C, H, W]`.
    pub output: Tensor<4>,
    /// Per-channel mean over the batch (not tracked).
    pub mean: Tensor<1>,
    /// Per-channel biased variance over the batch (not tracked).
    pub variance: Tensor<1>,
}

/// [`BatchNormReluBackend::batch_norm_relu_train`] on tensors (flex ones, tracked or not).
pub fn batch_norm_relu_train(
    input: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> BatchNormReluOutput {
    let (output, mean, variance) = <Dispatch as BatchNormReluBackend>::batch_norm_relu_train(
        input.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
    );
    BatchNormReluOutput {
        output: Tensor::from_dispatch(output),
        mean: Tensor::from_dispatch(mean),
        variance: Tensor::from_dispatch(variance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::BatchNormConfig;
    use burn::tensor::activation::relu;
    use burn::tensor::Device;

    use crate::train::ops::tests::{read, values};
    use proptest::strategy::Strategy;

    /// burn's batch norm + ReLU and ours agree this closely.
    fn close(ours: &[f32], theirs: &[f32], what: &str) {
        crate::train::ops::tests::close(ours, theirs, 2e-4, what);
    }

    /// The same outputs, statistics and gradients (input, gamma, beta) as burn's batch norm in
    /// training mode followed by burn's ReLU, on a plane size that is not a multiple of the
    /// lanes and a mean away from zero.
    #[test]
    fn matches_burns_batch_norm_and_relu() {
        check_against_burn(
            [3, 4, 5, 5],
            7,
            vec![1.0, 0.5, -0.7, 2.0],
            vec![0.1, -0.2, 0.3, 0.0],
        );
    }

    proptest::proptest! {
        #![proptest_config(crate::property_tests::fixed_seed(24))]
        /// And on any batch of 2-5 images, 1-9 channels, planes from 1x1 to 9x9 (sizes that
        /// are not a multiple of the lanes), means away from zero, any gamma and beta.
        #[test]
        fn matches_burns_batch_norm_and_relu_on_any_shape(
            n in 2usize..=5,
            (c, gamma, beta) in (1usize..=9).prop_flat_map(|c| (
                proptest::strategy::Just(c),
                proptest::collection::vec(-2.0f32..2.0, c),
                proptest::collection::vec(-0.5f32..0.5, c),
            )),
            h in 1usize..=9,
            w in 1usize..=9,
            seed in 0u32..1000,
        ) {
            check_against_burn([n, c, h, w], seed, gamma, beta);
        }
    }

    /// Ours against burn's batch norm (training mode) and ReLU, the reference, on an
    /// `[n, c, h, w]` input and per-channel `gamma_values`, `beta_values`.
    fn check_against_burn(
        [n, c, h, w]: [usize; 4],
        seed: u32,
        gamma_values: Vec<f32>,
        beta_values: Vec<f32>,
    ) {
        let device = Device::flex().autodiff();
        let input: Vec<f32> = values(n * c * h * w, seed)
            .iter()
            .map(|v| v + 0.3)
            .collect();
        let x = || -> Tensor<4> {
            Tensor::from_data(TensorData::new(input.clone(), [n, c, h, w]), &device).require_grad()
        };
        let param = |v: Vec<f32>| {
            let n = v.len();
            Param::from_tensor(Tensor::<1>::from_data(TensorData::new(v, [n]), &device))
        };
        let mut norm = BatchNormConfig::new(c).init(&device);
        norm.gamma = param(gamma_values.clone());
        norm.beta = param(beta_values.clone());
        let weights: Tensor<4> = Tensor::from_data(
            TensorData::new(values(n * c * h * w, seed + 3), [n, c, h, w]),
            &device,
        );

        let (ours_x, theirs_x) = (x(), x());
        let ours = batch_norm_relu_train(
            ours_x.clone(),
            norm.gamma.val(),
            norm.beta.val(),
            norm.epsilon,
        );
        let theirs = relu(norm.forward(theirs_x.clone()));
        let our_grads = (ours.output.clone() * weights.clone()).sum().backward();
        let their_grads = (theirs.clone() * weights).sum().backward();
        close(&read(ours.output), &read(theirs), "output");
        // burn's running statistics after one step are 0.9 * (0, 1) + 0.1 * the batch's.
        let running_mean: Vec<f32> = read(norm.running_mean.value_sync());
        let running_var: Vec<f32> = read(norm.running_var.value_sync());
        let ours_mean: Vec<f32> = read(ours.mean).iter().map(|m| 0.1 * m).collect();
        let ours_var: Vec<f32> = read(ours.variance).iter().map(|v| 0.9 + 0.1 * v).collect();
        close(&ours_mean, &running_mean, "running mean");
        close(&ours_var, &running_var, "running variance");
        close(
            &read(ours_x.grad(&our_grads).unwrap()),
            &read(theirs_x.grad(&their_grads).unwrap()),
            "input gradient",
        );
        close(
            &read(norm.gamma.val().grad(&our_grads).unwrap()),
            &read(norm.gamma.val().grad(&their_grads).unwrap()),
            "gamma gradient",
        );
        close(
            &read(norm.beta.val().grad(&our_grads).unwrap()),
            &read(norm.beta.val().grad(&their_grads).unwrap()),
            "beta gradient",
        );
    }
}
