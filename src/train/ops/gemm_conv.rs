//! A convolution's forward pass and both of its gradients as im2col and matrix products (the
//! `gemm` crate, which flex itself multiplies with) on rayon's threads, and the same as a burn
//! operator for training on the CPU (`--operators own`, the default).
//!
//! flex runs burn's generic convolution backward: the input gradient as a transposed
//! convolution, the weight gradient through transposes of whole activations. Here each
//! image's patches (im2col) feed one matrix product forward, one image per task; backward,
//! per group of images, the weight gradient is one product of the output gradient with the
//! patches (made again from the input) and the input gradient one product of the weights
//! with the output gradient, folded back onto each image (col2im). `digitpad profile` times
//! this beside flex's convolution layer by layer (docs/decisions/training-operators.md).
//!
//! [`GemmConvBackend`] makes it a burn 0.22 backend extension for flex, with its own backward
//! step; other backends keep burn's convolution. The weight gradient is summed over fixed
//! groups of images, then the groups in order, so that a seed gives the same run twice.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;

use super::with_values;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex};
use burn::tensor::{Tensor, TensorData};
use gemm::Parallelism;
use rayon::prelude::*;

/// Images whose gradients one task computes together (see [`backward`]).
const IMAGES_PER_PART: usize = 8;

/// The shape of one stride-1 convolution over a batch of square `[N, C, H, W]` images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Side of the input maps.
    pub side: usize,
    /// Side of the square kernel.
    pub kernel: usize,
    /// Zeros around the input on each side.
    pub padding: usize,
}

impl ConvShape {
    /// Side of the output maps.
    pub fn out_side(&self) -> usize {
        self.side + 2 * self.padding + 1 - self.kernel
    }

    /// Values in one patch: input channels times kernel area.
    fn patch(&self) -> usize {
        self.in_channels * self.kernel * self.kernel
    }

    /// Output pixels of one map.
    fn pixels(&self) -> usize {
        self.out_side() * self.out_side()
    }

    fn image_len(&self) -> usize {
        self.in_channels * self.side * self.side
    }

    /// The output rows (or columns) whose input row (column) `y + k - padding`, at kernel
    /// offset `k`, lies in the image: the rest read padding.
    fn covered(&self, k: usize) -> std::ops::Range<usize> {
        let (side, pad, out) = (self.side, self.padding, self.out_side());
        let first = pad.saturating_sub(k).min(out);
        first..(side + pad).saturating_sub(k).min(out).max(first)
    }

    /// Calls `run(at, x0, x1, from)` for each output row of each row of one image's patch
    /// matrix (`patch` rows of `pixels`) that is not all padding, that matrix being the
    /// columns `offset..offset + pixels` of a matrix whose rows are `stride` long (`at`:
    /// where that output row starts in it): its columns `x0..x1` read the input from index
    /// `from` on, one after another; the rest of it is padding.
    fn rows(&self, stride: usize, offset: usize, mut run: impl FnMut(usize, usize, usize, usize)) {
        let (k, side, out, pad) = (self.kernel, self.side, self.out_side(), self.padding);
        for c in 0..self.in_channels {
            for ky in 0..k {
                for kx in 0..k {
                    let row = (c * k + ky) * k + kx;
                    let xs = self.covered(kx);
                    let (x0, x1) = (xs.start, xs.end);
                    for y in self.covered(ky) {
                        let from = (c * side + y + ky - pad) * side + x0 + kx - pad;
                        run(row * stride + offset + y * out, x0, x1, from);
                    }
                }
            }
        }
    }

    /// Writes one image's patch matrix into columns `offset..offset + pixels` of `col`, a
    /// matrix with rows `stride` long. Only what the image covers is written: the padding
    /// lies at the same places for every image, so a buffer zeroed once stays right for all.
    fn im2col(&self, image: &[f32], col: &mut [f32], stride: usize, offset: usize) {
        if self.out_side() != self.side {
            self.rows(stride, offset, |at, x0, x1, from| {
                col[at + x0..at + x1].copy_from_slice(&image[from..from + x1 - x0]);
            });
            return;
        }
        // "Same" padding: a patch row is its input plane shifted, so all it reads is one run
        // of the plane, copied at once; the few places of that run that fall past a side of
        // the plane (the shift wraps them to the other side) are padding, set back to zero.
        let (k, side, pad) = (self.kernel, self.side, self.padding);
        for c in 0..self.in_channels {
            for ky in 0..k {
                let ys = self.covered(ky);
                if ys.is_empty() {
                    continue;
                }
                let (y0, y1) = (ys.start, ys.end);
                for kx in 0..k {
                    let xs = self.covered(kx);
                    let (x0, x1) = (xs.start, xs.end);
                    if x0 == x1 {
                        continue;
                    }
                    let at = ((c * k + ky) * k + kx) * stride + offset;
                    let (first, last) = (y0 * side + x0, (y1 - 1) * side + x1);
                    let from = (c * side + y0 + ky - pad) * side + x0 + kx - pad;
                    let row = &mut col[at..at + side * side];
                    row[first..last].copy_from_slice(&image[from..from + last - first]);
                    for y in y0..y1 {
                        let line = &mut row[y * side..(y + 1) * side];
                        if y > y0 {
                            line[..x0].fill(0.0);
                        }
                        if y + 1 < y1 {
                            line[x1..].fill(0.0);
                        }
                    }
                }
            }
        }
    }

    /// Adds the patch matrix in columns `offset..offset + pixels` of `col` (rows `stride`
    /// long) back onto one image (zeros, for an input gradient).
    fn col2im(&self, col: &[f32], stride: usize, offset: usize, image: &mut [f32]) {
        self.rows(stride, offset, |at, x0, x1, from| {
            for (i, v) in image[from..from + x1 - x0]
                .iter_mut()
                .zip(&col[at + x0..at + x1])
            {
                *i += v;
            }
        });
    }
}

/// `dst[m, n] (+)= a[m, k] b[k, n]`, each operand given by its row and column strides;
/// `dst` is row-major.
#[allow(clippy::too_many_arguments)]
fn product(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    accumulate: bool,
    a: &[f32],
    [a_rows, a_columns]: [isize; 2],
    b: &[f32],
    [b_rows, b_columns]: [isize; 2],
) {
    assert!(dst.len() >= m * n);
    let reach = |[rows, columns]: [isize; 2], r: usize, c: usize| {
        (r.saturating_sub(1) as isize * rows + c.saturating_sub(1) as isize * columns) as usize
    };
    assert!(m == 0 || k == 0 || reach([a_rows, a_columns], m, k) < a.len());
    assert!(k == 0 || n == 0 || reach([b_rows, b_columns], k, n) < b.len());
    // SAFETY: every index the product reads or writes was checked to lie in its slice.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_columns,
            a_rows,
            b.as_ptr(),
            b_columns,
            b_rows,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// The forward pass of `weight` `[O, C, k, k]` over `input` `[N, C, H, W]`: `[N, O, H', W']`.
pub fn forward(shape: &ConvShape, input: &[f32], weight: &[f32]) -> Vec<f32> {
    let (patch, pixels, out) = (shape.patch(), shape.pixels(), shape.out_channels);
    let mut output = vec![0f32; shape.batch * out * pixels];
    input
        .par_chunks(shape.image_len())
        .zip(output.par_chunks_mut(out * pixels))
        .for_each_init(
            || vec![0f32; patch * pixels],
            |col, (image, y)| {
                shape.im2col(image, col, pixels, 0);
                let (p, n) = (patch as isize, pixels as isize);
                product([out, pixels, patch], y, false, weight, [p, 1], col, [n, 1]);
            },
        );
    output
}

/// The weights' gradient `[O, C, k, k]` and, when `input_grad`, the input's `[N, C, H, W]`,
/// from the output's `[N, O, H', W']` (each image's patches made again from `input`).
///
/// The images go in fixed groups of [`IMAGES_PER_PART`], one group per task: the group's
/// patch matrices side by side make one matrix, and its output gradients another, so that
/// each gradient is one larger matrix product per group rather than one small one per
/// image. The weights' gradient sums the groups in order, so that the sum (and a training
/// run) is the same however rayon shares the work.
pub fn backward(
    shape: &ConvShape,
    input: &[f32],
    weight: &[f32],
    output_grad: &[f32],
    input_grad: bool,
) -> (Vec<f32>, Option<Vec<f32>>) {
    let (patch, pixels, out) = (shape.patch(), shape.pixels(), shape.out_channels);
    let (image_len, grad_len) = (shape.image_len(), out * pixels);
    let mut grad = vec![0f32; if input_grad { input.len() } else { 0 }];
    let mut grad_parts: Vec<&mut [f32]> = grad.chunks_mut(image_len * IMAGES_PER_PART).collect();
    grad_parts.resize_with(input.len().div_ceil(image_len * IMAGES_PER_PART), || {
        &mut []
    });
    let parts: Vec<Vec<f32>> = input
        .par_chunks(image_len * IMAGES_PER_PART)
        .zip(output_grad.par_chunks(grad_len * IMAGES_PER_PART))
        .zip(grad_parts)
        .map(|((images, dys), dxs)| {
            // The group's patches [patch, columns] and output gradients [O, columns], image
            // after image along each row.
            let columns = images.len() / image_len * pixels;
            let mut col = vec![0f32; patch * columns];
            let mut dy = vec![0f32; out * columns];
            for (i, (image, image_dy)) in images
                .chunks(image_len)
                .zip(dys.chunks(grad_len))
                .enumerate()
            {
                shape.im2col(image, &mut col, columns, i * pixels);
                for (row, values) in dy.chunks_mut(columns).zip(image_dy.chunks(pixels)) {
                    row[i * pixels..(i + 1) * pixels].copy_from_slice(values);
                }
            }
            let (p, n) = (patch as isize, columns as isize);
            // dW[O, patch] = dy[O, columns] col^T[columns, patch]
            let mut sum = vec![0f32; out * patch];
            product(
                [out, patch, columns],
                &mut sum,
                false,
                &dy,
                [n, 1],
                &col,
                [1, n],
            );
            if !dxs.is_empty() {
                // dcol[patch, columns] = W^T[patch, O] dy[O, columns], over the patches
                product(
                    [patch, columns, out],
                    &mut col,
                    false,
                    weight,
                    [1, p],
                    &dy,
                    [n, 1],
                );
                for (i, dx) in dxs.chunks_mut(image_len).enumerate() {
                    shape.col2im(&col, columns, i * pixels, dx);
                }
            }
            sum
        })
        .collect();
    let mut weight_grad = vec![0f32; out * patch];
    for part in parts {
        weight_grad.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
    }
    (weight_grad, input_grad.then_some(grad))
}

/// The convolution as a burn operator on flex, for training (`--operators own`): a backend
/// extension of burn 0.22 with its own backward step. Other backends do not have it (the
/// network uses burn's convolution there).
#[backend_extension(Flex, Autodiff)]
pub trait GemmConvBackend: Backend {
    /// `weight` `[O, C, k, k]` over `input` `[N, C, H, W]` with `padding` zeros on each side,
    /// stride 1, no bias.
    fn gemm_conv2d(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self>;
}

/// The operator's name in messages.
const OP: &str = "gemm_conv2d";

/// The shape of `weight` over `input`, both flex tensors.
fn shape_of(input: &FlexTensor, weight: &FlexTensor, padding: usize) -> ConvShape {
    let (x, w) = (input.layout().shape(), weight.layout().shape());
    assert!(x.num_dims() == 4 && w.num_dims() == 4 && x[2] == x[3] && w[2] == w[3]);
    assert_eq!(x[1], w[1], "gemm_conv2d: input and weight channels differ");
    assert!(
        padding < w[2],
        "gemm_conv2d: padding {padding} must be under the kernel's side {}",
        w[2]
    );
    ConvShape {
        batch: x[0],
        in_channels: x[1],
        out_channels: w[0],
        side: x[2],
        kernel: w[2],
        padding,
    }
}

fn flex_tensor(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl GemmConvBackend for Flex {
    fn gemm_conv2d(input: FlexTensor, weight: FlexTensor, padding: usize) -> FlexTensor {
        let shape = shape_of(&input, &weight, padding);
        let output = with_values(&input, OP, |x| {
            with_values(&weight, OP, |w| forward(&shape, x, w))
        });
        let side = shape.out_side();
        flex_tensor(output, [shape.batch, shape.out_channels, side, side])
    }
}

impl<C: CheckpointStrategy> GemmConvBackend for Autodiff<Flex, C> {
    fn gemm_conv2d(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        padding: usize,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct GemmConvBackward;

        impl Backward<Flex, 2> for GemmConvBackward {
            /// The input, the weights and the padding.
            type State = (FlexTensor, FlexTensor, usize);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [input_node, weight_node] = ops.parents;
                let output_grad = grads.consume::<Flex>(&ops.node);
                let (input, weight, padding) = ops.state;
                let shape = shape_of(&input, &weight, padding);
                let (weight_grad, input_grad) = with_values(&input, OP, |x| {
                    with_values(&weight, OP, |w| {
                        with_values(&output_grad, OP, |dy| {
                            backward(&shape, x, w, dy, input_node.is_some())
                        })
                    })
                });
                if let (Some(node), Some(grad)) = (input_node, input_grad) {
                    let side = shape.side;
                    let dims = [shape.batch, shape.in_channels, side, side];
                    grads.register::<Flex>(node.id, flex_tensor(grad, dims));
                }
                if let Some(node) = weight_node {
                    let k = shape.kernel;
                    let dims = [shape.out_channels, shape.in_channels, k, k];
                    grads.register::<Flex>(node.id, flex_tensor(weight_grad, dims));
                }
            }
        }

        match GemmConvBackward
            .prepare::<C>([input.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, w) = (input.primitive().clone(), weight.primitive().clone());
                let output = Flex::gemm_conv2d(x.clone(), w.clone(), padding);
                prep.finish((x, w, padding), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::gemm_conv2d(
                input.into_primitive(),
                weight.into_primitive(),
                padding,
            )),
        }
    }
}

/// [`GemmConvBackend::gemm_conv2d`] on tensors (flex ones, tracked or not).
pub fn conv2d(input: Tensor<4>, weight: Tensor<4>, padding: usize) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as GemmConvBackend>::gemm_conv2d(
        input.into_dispatch(),
        weight.into_dispatch(),
        padding,
    ))
}

#[cfg(test)]
mod tests;
