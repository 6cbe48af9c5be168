//! A convolution's forward pass and both of its gradients as im2col and matrix products (the
//! `gemm` crate, which flex itself multiplies with), one image per task on rayon's threads.
//!
//! Not used for training: `digitpad profile` times it beside flex's convolution, layer by
//! layer, to measure what a training convolution of our own would gain before one is written
//! into burn (README, "Training"). flex runs burn's generic convolution backward: the input
//! gradient as a transposed convolution, the weight gradient through transposes of whole
//! activations. Here the forward's patches (im2col) are kept and reused: the weight gradient
//! is one product of the output gradient with them, the input gradient one product of the
//! weights with the output gradient, folded back onto the image (col2im).

use gemm::Parallelism;
use rayon::prelude::*;

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

    /// Calls `run(at, x0, x1, from)` for each output row of each row of one image's patch
    /// matrix `[patch, pixels]` (`at`: where that output row starts in the matrix) that is not
    /// all padding: its columns `x0..x1` read the input from index `from` on, one after
    /// another; the rest of it is padding.
    fn rows(&self, mut run: impl FnMut(usize, usize, usize, usize)) {
        let (k, side, out, pad) = (self.kernel, self.side, self.out_side(), self.padding);
        for c in 0..self.in_channels {
            for ky in 0..k {
                for kx in 0..k {
                    let row = (c * k + ky) * k + kx;
                    // Output columns whose input column x + kx - pad lies in 0..side.
                    let x0 = pad.saturating_sub(kx).min(out);
                    let x1 = (side + pad).saturating_sub(kx).min(out).max(x0);
                    for y in 0..out {
                        let Some(iy) = (y + ky).checked_sub(pad).filter(|&iy| iy < side) else {
                            continue;
                        };
                        let from = (c * side + iy) * side + x0 + kx - pad;
                        run(row * out * out + y * out, x0, x1, from);
                    }
                }
            }
        }
    }

    /// One image's patch matrix `[patch, pixels]`.
    fn im2col(&self, image: &[f32], col: &mut [f32]) {
        col.fill(0.0);
        self.rows(|at, x0, x1, from| {
            col[at + x0..at + x1].copy_from_slice(&image[from..from + x1 - x0]);
        });
    }

    /// Adds a patch matrix `[patch, pixels]` back onto one image.
    fn col2im(&self, col: &[f32], image: &mut [f32]) {
        image.fill(0.0);
        self.rows(|at, x0, x1, from| {
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

/// The forward pass of `weight` `[O, C, k, k]` over `input` `[N, C, H, W]`: the output `[N,
/// O, H', W']` and the patch matrices, kept for the backward pass.
pub fn forward(shape: &ConvShape, input: &[f32], weight: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (patch, pixels, out) = (shape.patch(), shape.pixels(), shape.out_channels);
    let mut cols = vec![0f32; shape.batch * patch * pixels];
    let mut output = vec![0f32; shape.batch * out * pixels];
    input
        .par_chunks(shape.image_len())
        .zip(cols.par_chunks_mut(patch * pixels))
        .zip(output.par_chunks_mut(out * pixels))
        .for_each(|((image, col), y)| {
            shape.im2col(image, col);
            let (p, n) = (patch as isize, pixels as isize);
            product([out, pixels, patch], y, false, weight, [p, 1], col, [n, 1]);
        });
    (output, cols)
}

/// Both gradients from the output's `[N, O, H', W']`: the weights' `[O, C, k, k]` and the
/// input's `[N, C, H, W]`.
pub fn backward(
    shape: &ConvShape,
    cols: &[f32],
    weight: &[f32],
    output_grad: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let (patch, pixels, out) = (shape.patch(), shape.pixels(), shape.out_channels);
    let (p, n) = (patch as isize, pixels as isize);
    let weight_grad = cols
        .par_chunks(patch * pixels)
        .zip(output_grad.par_chunks(out * pixels))
        .fold(
            || vec![0f32; out * patch],
            |mut sum, (col, dy)| {
                // dW[O, patch] += dy[O, pixels] col^T[pixels, patch]
                product(
                    [out, patch, pixels],
                    &mut sum,
                    true,
                    dy,
                    [n, 1],
                    col,
                    [1, n],
                );
                sum
            },
        )
        .reduce(
            || vec![0f32; out * patch],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
    let mut input_grad = vec![0f32; shape.batch * shape.image_len()];
    input_grad
        .par_chunks_mut(shape.image_len())
        .zip(output_grad.par_chunks(out * pixels))
        .for_each_init(
            || vec![0f32; patch * pixels],
            |col, (dx, dy)| {
                // dcol[patch, pixels] = W^T[patch, O] dy[O, pixels]
                product([patch, pixels, out], col, false, weight, [1, p], dy, [n, 1]);
                shape.col2im(col, dx);
            },
        );
    (weight_grad, input_grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::PaddingConfig2d;
    use burn::tensor::{Device, Tensor, TensorData};

    fn values(count: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn close(ours: &[f32], theirs: &[f32], what: &str) {
        assert_eq!(ours.len(), theirs.len(), "{what}");
        for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "{what} {i}: {a} vs {b}"
            );
        }
    }

    /// The same forward pass and gradients as burn's own convolution (on flex, with autodiff).
    #[test]
    fn matches_burns_convolution_and_its_gradients() {
        for (seed, (c, o, side, kernel, padding)) in
            [(2, 5, 6, 3, 1), (1, 8, 5, 3, 0), (3, 4, 7, 5, 2)]
                .into_iter()
                .enumerate()
        {
            let shape = ConvShape {
                batch: 3,
                in_channels: c,
                out_channels: o,
                side,
                kernel,
                padding,
            };
            let seed = seed as u32;
            let input = values(shape.batch * shape.image_len(), seed);
            let weight = values(o * c * kernel * kernel, seed + 10);
            let output_grad = values(shape.batch * o * shape.pixels(), seed + 20);
            let (output, cols) = forward(&shape, &input, &weight);
            let (weight_grad, input_grad) = backward(&shape, &cols, &weight, &output_grad);

            let device = Device::flex().autodiff();
            let mut conv = Conv2dConfig::new([c, o], [kernel, kernel])
                .with_padding(PaddingConfig2d::Explicit(
                    padding, padding, padding, padding,
                ))
                .with_bias(false)
                .init(&device);
            let w: Tensor<4> = Tensor::from_data(
                TensorData::new(weight.clone(), [o, c, kernel, kernel]),
                &device,
            );
            conv.weight = Param::from_tensor(w);
            let x: Tensor<4> = Tensor::from_data(
                TensorData::new(input.clone(), [shape.batch, c, side, side]),
                &device,
            )
            .require_grad();
            let y = conv.forward(x.clone());
            let dy: Tensor<4> =
                Tensor::from_data(TensorData::new(output_grad.clone(), y.dims()), &device);
            let grads = (y.clone() * dy).sum().backward();
            let read = |t: Tensor<4>| -> Vec<f32> { t.into_data().try_to_vec().unwrap() };
            close(&output, &read(y), "output");
            close(
                &weight_grad,
                &read(conv.weight.grad(&grads).unwrap()),
                "weight gradient",
            );
            close(
                &input_grad,
                &read(x.grad(&grads).unwrap()),
                "input gradient",
            );
        }
    }
}
