//! Tests of [`super`] (`src/train/ops/gemm_conv.rs`).

use super::*;
use burn::module::{Module, Param};
use burn::nn::conv::Conv2dConfig;
use burn::nn::PaddingConfig2d;
use burn::tensor::{Device, Tensor, TensorData};

use crate::train::ops::tests::{read, values};

/// burn's convolution and ours agree this closely.
fn close(ours: &[f32], theirs: &[f32], what: &str) {
    crate::train::ops::tests::close(ours, theirs, 1e-4, what);
}

/// As a burn operator: the same outputs and gradients as burn's convolution, through
/// autodiff, and the same outputs on a device without it.
#[test]
fn the_burn_operator_matches_burns_convolution() {
    let (batch, c, o, side, kernel, padding) = (2, 3, 8, 6, 3, 1);
    let device = Device::flex().autodiff();
    let input = values(batch * c * side * side, 7);
    let weight = values(o * c * kernel * kernel, 8);
    let x = |device: &Device| -> Tensor<4> {
        Tensor::from_data(
            TensorData::new(input.clone(), [batch, c, side, side]),
            device,
        )
    };
    let w = |device: &Device| -> Tensor<4> {
        Tensor::from_data(
            TensorData::new(weight.clone(), [o, c, kernel, kernel]),
            device,
        )
    };
    let mut conv = Conv2dConfig::new([c, o], [kernel, kernel])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_bias(false)
        .init(&device);
    conv.weight = Param::from_tensor(w(&device));
    let (theirs_x, ours_x) = (x(&device).require_grad(), x(&device).require_grad());
    let ours_w = w(&device).require_grad();
    let theirs = conv.forward(theirs_x.clone());
    let ours = conv2d(ours_x.clone(), ours_w.clone(), padding);
    // A loss that weighs every output differently.
    let weights: Tensor<4> = Tensor::from_data(
        TensorData::new(values(theirs.dims().iter().product(), 9), theirs.dims()),
        &device,
    );
    let their_grads = (theirs.clone() * weights.clone()).sum().backward();
    let our_grads = (ours.clone() * weights).sum().backward();
    close(&read(ours), &read(theirs), "output");
    close(
        &read(ours_x.grad(&our_grads).unwrap()),
        &read(theirs_x.grad(&their_grads).unwrap()),
        "input gradient",
    );
    close(
        &read(ours_w.grad(&our_grads).unwrap()),
        &read(conv.weight.grad(&their_grads).unwrap()),
        "weight gradient",
    );
    let plain = Device::flex();
    let untracked = conv2d(x(&plain), w(&plain), padding);
    let expected = conv.valid().forward(x(&plain));
    close(&read(untracked), &read(expected), "output without autodiff");
}

/// Our forward pass and both gradients for `shape`, against burn's own convolution (on
/// flex, with autodiff): the reference.
fn check_against_burn(shape: &ConvShape, seed: u32) {
    let (c, o, side, kernel, padding) = (
        shape.in_channels,
        shape.out_channels,
        shape.side,
        shape.kernel,
        shape.padding,
    );
    let input = values(shape.batch * shape.image_len(), seed);
    let weight = values(o * c * kernel * kernel, seed + 10);
    let output_grad = values(shape.batch * o * shape.pixels(), seed + 20);
    let output = forward(shape, &input, &weight);
    let (weight_grad, input_grad) = backward(shape, &input, &weight, &output_grad, true);
    let input_grad = input_grad.unwrap();

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
    let dy: Tensor<4> = Tensor::from_data(TensorData::new(output_grad.clone(), y.dims()), &device);
    let grads = (y.clone() * dy).sum().backward();
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

/// The same forward pass and gradients as burn's own convolution, on named shapes (kept
/// as cases: odd sizes, valid and "same" padding, a 5x5 kernel).
#[test]
fn matches_burns_convolution_and_its_gradients() {
    for (seed, (c, o, side, kernel, padding)) in [(2, 5, 6, 3, 1), (1, 8, 5, 3, 0), (3, 4, 7, 5, 2)]
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
        check_against_burn(&shape, seed as u32);
    }
}

/// Backward takes the images in groups of [`IMAGES_PER_PART`]: a batch of several groups
/// and a partial last one gives burn's gradients too.
#[test]
fn matches_burns_gradients_over_several_groups_of_images() {
    let shape = ConvShape {
        batch: 2 * IMAGES_PER_PART + 3,
        in_channels: 3,
        out_channels: 6,
        side: 7,
        kernel: 3,
        padding: 1,
    };
    check_against_burn(&shape, 5);
}

proptest::proptest! {
    #![proptest_config(crate::property_tests::fixed_seed(24))]
    /// And on any shape the network could give it: 1-4 images, 1-9 channels in, 1-17
    /// out, kernels 1, 3 or 5 with any padding up to "same", sides from the kernel to 12.
    #[test]
    fn matches_burns_convolution_on_any_shape(
        batch in 1usize..=4,
        in_channels in 1usize..=9,
        out_channels in 1usize..=17,
        kernel in proptest::sample::select(vec![1usize, 3, 5]),
        side_past_kernel in 0usize..=7,
        padding_share in 0.0f64..=1.0,
        seed in 0u32..1000,
    ) {
        let padding = (padding_share * (kernel / 2) as f64).round() as usize;
        let shape = ConvShape {
            batch,
            in_channels,
            out_channels,
            side: kernel + side_past_kernel,
            kernel,
            padding,
        };
        check_against_burn(&shape, seed);
    }
}
