//! [`DirectConv`]: the networks' convolutions (with their bias and ReLU) as one operator of
//! our own in tract's plan, for the page.
//!
//! tract 0.22.5 runs a convolution as a patch extraction feeding its general matrix product:
//! the patches are gathered into packed panels ("lazy im2col"), then a 4x4 wasm SIMD kernel
//! walks them tile by tile, interpreting a list of fused operations for each tile. A V8
//! profile of the page's warm inference put 66% of the time in that kernel, 12% in its tile
//! loop and 10% in the patch extraction. This operator computes the same sums straight from
//! the (zero-padded) input, 8 output channels by 4 pixels per tile: each step of a sum loads
//! two vectors of weights and four input values for 32 products (tract's tile: one vector
//! and four values for 16), and no patch is copied.
//!
//! Every output is computed as tract computes it in the browser, so the answers keep their
//! bits: the sum starts at +0 and adds one product at a time (a multiplication, then an
//! addition: wasm has no fused multiply-add), in tract's order over (input channel, kernel
//! row, kernel column), then the bias is added and the ReLU is `max(0, x)`. Padding adds
//! products with zeros, which leave a sum that is never -0 unchanged. A browser test
//! compares the two plans bit for bit. Natively the classifier keeps tract's convolutions
//! ([`super::typed::Convolutions::FOR_THIS_TARGET`]); the portable form of this operator,
//! the same operations one value at a time, is what the native tests check against a
//! float64 reference.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_hir::tract_core::ops::cast::Cast;
use tract_onnx::tract_hir::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_onnx::tract_hir::tract_core::ops::math::Max;
use tract_onnx::tract_hir::tract_core::ops::nn::DataFormat;

/// Output channels per tile: two wasm SIMD vectors.
const CHANNELS: usize = 8;
/// Pixels per tile.
const PIXELS: usize = 4;

/// A stride-1, undilated, ungrouped 2-D convolution over `[N, C, H, W]` f32 values with
/// constant weights and bias, and optionally the ReLU after it (see the module's
/// documentation).
#[derive(Debug, Clone)]
pub struct DirectConv {
    /// Weights in blocks of [`CHANNELS`] output channels: block `b`, step `k`, lane `j` holds
    /// the weight of output channel `CHANNELS * b + j` at `k = (c, ky, kx)` in row-major
    /// order (zeros past the last channel).
    packed: Arc<Vec<f32>>,
    /// One bias per output channel, zeros past the last (as many as `packed`'s lanes).
    bias: Arc<Vec<f32>>,
    in_channels: usize,
    out_channels: usize,
    /// Kernel rows and columns.
    kernel: (usize, usize),
    /// Zero rows above and below, zero columns left and right.
    padding: ((usize, usize), (usize, usize)),
    /// Whether a ReLU follows.
    relu: bool,
}

impl DirectConv {
    /// The operator for weights `[out, in, kh, kw]` (row-major) and `bias` (one per output
    /// channel).
    fn new(
        weights: &[f32],
        bias: &[f32],
        [out_channels, in_channels, kh, kw]: [usize; 4],
        padding: ((usize, usize), (usize, usize)),
    ) -> Self {
        let steps = in_channels * kh * kw;
        let blocks = out_channels.div_ceil(CHANNELS);
        let mut packed = vec![0f32; blocks * steps * CHANNELS];
        for (o, filter) in weights.chunks_exact(steps).enumerate() {
            let (block, lane) = (o / CHANNELS, o % CHANNELS);
            for (k, &w) in filter.iter().enumerate() {
                packed[(block * steps + k) * CHANNELS + lane] = w;
            }
        }
        let mut lanes = vec![0f32; blocks * CHANNELS];
        lanes[..out_channels].copy_from_slice(bias);
        Self {
            packed: Arc::new(packed),
            bias: Arc::new(lanes),
            in_channels,
            out_channels,
            kernel: (kh, kw),
            padding,
            relu: false,
        }
    }

    /// Output rows and columns for an input of `h` x `w`.
    fn output_size(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let ((top, bottom), (left, right)) = self.padding;
        let (kh, kw) = self.kernel;
        Some((
            (h + top + bottom).checked_sub(kh)? + 1,
            (w + left + right).checked_sub(kw)? + 1,
        ))
    }

    /// One image: `input` `[C, H, W]` into `output` `[O, H', W']`.
    fn image(
        &self,
        input: &[f32],
        [h, w]: [usize; 2],
        output: &mut [f32],
        [oh, ow]: [usize; 2],
    ) -> TractResult<()> {
        let ((top, bottom), (left, right)) = self.padding;
        let (ph, pw) = (h + top + bottom, w + left + right);
        let padded;
        let source = if (top, bottom, left, right) == (0, 0, 0, 0) {
            input
        } else {
            let mut buffer = vec![0f32; self.in_channels * ph * pw];
            for (plane, out) in input
                .chunks_exact(h * w)
                .zip(buffer.chunks_exact_mut(ph * pw))
            {
                for (row, out) in plane
                    .chunks_exact(w)
                    .zip(out.chunks_exact_mut(pw).skip(top))
                {
                    out[left..left + w].copy_from_slice(row);
                }
            }
            padded = buffer;
            &padded
        };
        let (kh, kw) = self.kernel;
        // Where each kernel row of the sum starts reading, relative to the output pixel's
        // top-left input: one per (input channel, kernel row), in the sum's order.
        let mut rows = Vec::with_capacity(self.in_channels * kh);
        for c in 0..self.in_channels {
            for y in 0..kh {
                rows.push((c * ph * pw + y * pw) as u32);
            }
        }
        // The top-left input of each output pixel.
        let mut bases = Vec::with_capacity(oh * ow);
        for y in 0..oh {
            for x in 0..ow {
                bases.push((y * pw + x) as u32);
            }
        }
        let steps = rows.len() * kw;
        let plane = oh * ow;
        // The largest index the sums read (rows and bases both increase): checked once
        // here, so that the sums themselves read without bounds checks.
        let last = bases
            .last()
            .zip(rows.last())
            .map(|(b, r)| (b + r) as usize + kw - 1);
        ensure!(
            last.is_none_or(|last| last < source.len()),
            "DirectConv: its patches reach past its {} input values",
            source.len()
        );
        for (block, weights) in self.packed.chunks_exact(steps * CHANNELS).enumerate() {
            let first = block * CHANNELS;
            let lanes = (self.out_channels - first).min(CHANNELS);
            let bias = &self.bias[first..first + CHANNELS];
            let out = &mut output[first * plane..(first + lanes) * plane];
            for (pixels, pixel) in bases.chunks(PIXELS).zip((0..plane).step_by(PIXELS)) {
                // A last tile of fewer pixels repeats its last one.
                let at = |i: usize| pixels[i.min(pixels.len() - 1)];
                let tile = Tile {
                    bases: [at(0), at(1), at(2), at(3)],
                    rows: &rows,
                    width: kw,
                };
                let place = Place {
                    plane,
                    pixel,
                    pixels: pixels.len(),
                };
                // SAFETY: the largest index was checked above; `weights` is one block of
                // `steps` steps, `bias` one block, `out` `lanes` planes of `plane` values.
                unsafe { tile.outputs(weights, bias, self.relu, source, out, place) };
            }
        }
        Ok(())
    }
}

/// Where a tile's outputs go: `pixels` values from `pixel` on, in each output plane of
/// `plane` values.
struct Place {
    plane: usize,
    pixel: usize,
    pixels: usize,
}

/// Where the sums of one tile read: 4 output pixels' top-left inputs, the start of each
/// kernel row relative to them, and the kernel's width.
struct Tile<'a> {
    bases: [u32; PIXELS],
    rows: &'a [u32],
    width: usize,
}

impl Tile<'_> {
    /// The outputs of one block of 8 channels at the tile's pixels (sums, bias, ReLU when
    /// `relu`), written to the first planes of `out` (as many as it holds, up to 8) at
    /// `place`.
    ///
    /// # Safety
    /// `weights` holds `rows.len() * width` steps of [`CHANNELS`] values, `bias`
    /// [`CHANNELS`] values, every `base + row + width - 1` indexes `source`
    /// ([`DirectConv::image`] checks the largest once), and `place` lies in `out`'s planes.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn outputs(
        &self,
        weights: &[f32],
        bias: &[f32],
        relu: bool,
        source: &[f32],
        out: &mut [f32],
        place: Place,
    ) {
        use std::arch::wasm32::*;
        // Written out, one local per vector: the page is built for size, where a loop over
        // the four pixels would stay a loop and keep the sums in memory, not in registers.
        // `aN` holds channels 0-3 at pixel N, `cN` channels 4-7.
        let [b0, b1, b2, b3] = self.bases.map(|b| source.as_ptr().add(b as usize));
        let zero = f32x4_splat(0.0);
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        let (mut c0, mut c1, mut c2, mut c3) = (zero, zero, zero, zero);
        let mut w = weights.as_ptr() as *const v128;
        // One step of the sum: the weights of 8 channels times each pixel's input `at`.
        macro_rules! step {
            ($at:expr) => {{
                let (w0, w1) = (v128_load(w), v128_load(w.add(1)));
                w = w.add(2);
                let at = $at;
                let x0 = v128_load32_splat(b0.add(at) as *const u32);
                let x1 = v128_load32_splat(b1.add(at) as *const u32);
                let x2 = v128_load32_splat(b2.add(at) as *const u32);
                let x3 = v128_load32_splat(b3.add(at) as *const u32);
                a0 = f32x4_add(a0, f32x4_mul(w0, x0));
                c0 = f32x4_add(c0, f32x4_mul(w1, x0));
                a1 = f32x4_add(a1, f32x4_mul(w0, x1));
                c1 = f32x4_add(c1, f32x4_mul(w1, x1));
                a2 = f32x4_add(a2, f32x4_mul(w0, x2));
                c2 = f32x4_add(c2, f32x4_mul(w1, x2));
                a3 = f32x4_add(a3, f32x4_mul(w0, x3));
                c3 = f32x4_add(c3, f32x4_mul(w1, x3));
            }};
        }
        if self.width == 3 {
            // The networks' 3x3 kernels: a kernel row's three steps written out.
            for &row in self.rows {
                let row = row as usize;
                step!(row);
                step!(row + 1);
                step!(row + 2);
            }
        } else {
            for &row in self.rows {
                for x in 0..self.width {
                    step!(row as usize + x);
                }
            }
        }
        // Bias and ReLU as tract's kernel applies them: `bias + sum`, then `max(0, x)`.
        let bias = bias.as_ptr() as *const v128;
        let finish = |v: v128, bias: v128| {
            let v = f32x4_add(bias, v);
            if relu {
                f32x4_max(zero, v)
            } else {
                v
            }
        };
        let (low, high) = (v128_load(bias), v128_load(bias.add(1)));
        let (a0, a1) = (finish(a0, low), finish(a1, low));
        let (a2, a3) = (finish(a2, low), finish(a3, low));
        let (c0, c1) = (finish(c0, high), finish(c1, high));
        let (c2, c3) = (finish(c2, high), finish(c3, high));
        // Pixel-major to channel-major: a 4x4 transpose of each half.
        let transpose = |p0: v128, p1: v128, p2: v128, p3: v128| {
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(p0, p1);
            let t1 = i32x4_shuffle::<0, 4, 1, 5>(p2, p3);
            let t2 = i32x4_shuffle::<2, 6, 3, 7>(p0, p1);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(p2, p3);
            [
                i32x4_shuffle::<0, 1, 4, 5>(t0, t1),
                i32x4_shuffle::<2, 3, 6, 7>(t0, t1),
                i32x4_shuffle::<0, 1, 4, 5>(t2, t3),
                i32x4_shuffle::<2, 3, 6, 7>(t2, t3),
            ]
        };
        let [r0, r1, r2, r3] = transpose(a0, a1, a2, a3);
        let [r4, r5, r6, r7] = transpose(c0, c1, c2, c3);
        let lanes = out.len() / place.plane;
        let first = out.as_mut_ptr().add(place.pixel);
        for (channel, r) in [r0, r1, r2, r3, r4, r5, r6, r7]
            .into_iter()
            .enumerate()
            .take(lanes)
        {
            let at = first.add(channel * place.plane);
            if place.pixels == PIXELS {
                v128_store(at as *mut v128, r);
            } else {
                let mut values = [0f32; PIXELS];
                v128_store(values.as_mut_ptr() as *mut v128, r);
                std::ptr::copy_nonoverlapping(values.as_ptr(), at, place.pixels);
            }
        }
    }

    /// The wasm SIMD version's outputs, written where it writes them: the same operations
    /// in the same order, one value at a time.
    ///
    /// # Safety
    /// As the wasm SIMD version.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    #[inline(always)]
    unsafe fn outputs(
        &self,
        weights: &[f32],
        bias: &[f32],
        relu: bool,
        source: &[f32],
        out: &mut [f32],
        place: Place,
    ) {
        let mut sums = [[0f32; CHANNELS]; PIXELS];
        let offsets = self
            .rows
            .iter()
            .flat_map(|&row| (0..self.width).map(move |x| row as usize + x));
        for (w, offset) in weights.chunks_exact(CHANNELS).zip(offsets) {
            for (sums, &base) in sums.iter_mut().zip(&self.bases) {
                let x = *source.get_unchecked(base as usize + offset);
                for (sum, &w) in sums.iter_mut().zip(w) {
                    *sum += w * x;
                }
            }
        }
        for (channel, plane) in out.chunks_exact_mut(place.plane).enumerate() {
            let values = &mut plane[place.pixel..place.pixel + place.pixels];
            for (value, sums) in values.iter_mut().zip(&sums) {
                let v = bias[channel] + sums[channel];
                // wasm's f32x4.max(0, v): a -0 becomes +0, a NaN stays.
                *value = if relu && v <= 0.0 { 0.0 } else { v };
            }
        }
    }
}

impl Op for DirectConv {
    fn name(&self) -> StaticName {
        "DirectConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "{}->{} kernel {:?} padding {:?} relu {}",
            self.in_channels, self.out_channels, self.kernel, self.padding, self.relu
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for DirectConv {
    fn is_stateless(&self) -> bool {
        true
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let [n, c, h, w] = match *input.shape() {
            [n, c, h, w] => [n, c, h, w],
            _ => bail!("DirectConv expects [N, C, H, W], got {:?}", input.shape()),
        };
        ensure!(
            c == self.in_channels,
            "DirectConv expects {} input channels, got {c}",
            self.in_channels
        );
        let (oh, ow) = self
            .output_size(h, w)
            .with_context(|| format!("DirectConv: a {h}x{w} input is smaller than the kernel"))?;
        let values = input.as_slice::<f32>()?;
        let mut output = vec![0f32; n * self.out_channels * oh * ow];
        if h * w > 0 && oh * ow > 0 {
            for (image, out) in values
                .chunks_exact(c * h * w)
                .zip(output.chunks_exact_mut(self.out_channels * oh * ow))
            {
                self.image(image, [h, w], out, [oh, ow])?;
            }
        }
        Ok(tvec!(tract_ndarray::Array4::from_shape_vec(
            (n, self.out_channels, oh, ow),
            output
        )?
        .into_tvalue()))
    }
}

impl TypedOp for DirectConv {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        if shape.rank() != 4 {
            bail!("DirectConv expects a rank-4 input, got {shape:?}");
        }
        let ((top, bottom), (left, right)) = self.padding;
        let (kh, kw) = self.kernel;
        let h = shape[2].clone() + top + bottom - kh + 1;
        let w = shape[3].clone() + left + right - kw + 1;
        Ok(tvec!(f32::fact([
            shape[0].clone(),
            self.out_channels.to_dim(),
            h,
            w
        ])))
    }

    as_op!();
}

mod rewrite;

pub use rewrite::replace_convolutions;

#[cfg(test)]
mod tests;
