//! Tests of [`super`] (`src/onnx/conv.rs`).

use super::*;
use crate::onnx::typed::{optimized_model_with, Convolutions};

/// Deterministic values in [-1, 1), a quarter of them zero (ink-like sparsity).
fn values(count: usize, seed: u32) -> Vec<f32> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let v = (state >> 8) as f32 / (1 << 23) as f32 - 1.0;
            if v.abs() < 0.25 {
                0.0
            } else {
                v
            }
        })
        .collect()
}

/// The convolution in float64, straight from its definition.
#[allow(clippy::too_many_arguments)]
fn reference(
    input: &[f32],
    [n, c, h, w]: [usize; 4],
    weights: &[f32],
    bias: &[f32],
    [o, kh, kw]: [usize; 3],
    ((top, bottom), (left, right)): ((usize, usize), (usize, usize)),
    relu: bool,
) -> Vec<f64> {
    let (oh, ow) = (h + top + bottom + 1 - kh, w + left + right + 1 - kw);
    let mut out = Vec::new();
    for image in 0..n {
        for oc in 0..o {
            for y in 0..oh {
                for x in 0..ow {
                    let mut sum = f64::from(bias[oc]);
                    for ic in 0..c {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let (iy, ix) = (y + ky, x + kx);
                                if iy < top || ix < left || iy - top >= h || ix - left >= w {
                                    continue;
                                }
                                let v = input[((image * c + ic) * h + iy - top) * w + ix - left];
                                let k = weights[((oc * c + ic) * kh + ky) * kw + kx];
                                sum += f64::from(v) * f64::from(k);
                            }
                        }
                    }
                    out.push(if relu { sum.max(0.0) } else { sum });
                }
            }
        }
    }
    out
}

/// The direct convolution of an `[n, c, h, w]` input by `o` kernels of `k x k` with
/// `padding` (and ReLU when `relu`), against its definition in float64.
fn check_against_definition(
    [n, c, h, w]: [usize; 4],
    o: usize,
    k: usize,
    padding: ((usize, usize), (usize, usize)),
    relu: bool,
    seed: u32,
) {
    let input = values(n * c * h * w, seed);
    let weights = values(o * c * k * k, seed + 100);
    let bias = values(o, seed + 200);
    let mut op = DirectConv::new(&weights, &bias, [o, c, k, k], padding);
    op.relu = relu;
    let tensor = tract_ndarray::Array4::from_shape_vec((n, c, h, w), input.clone()).unwrap();
    let out = op.eval(tvec!(Tensor::from(tensor).into_tvalue())).unwrap();
    let expected = reference(
        &input,
        [n, c, h, w],
        &weights,
        &bias,
        [o, k, k],
        padding,
        relu,
    );
    let (oh, ow) = op.output_size(h, w).unwrap();
    assert_eq!(out[0].shape(), [n, o, oh, ow]);
    let got = out[0].as_slice::<f32>().unwrap();
    assert_eq!(got.len(), expected.len());
    for (i, (&g, &e)) in got.iter().zip(&expected).enumerate() {
        assert!(
            (f64::from(g) - e).abs() <= 1e-5 * (1.0 + e.abs()),
            "value {i}: {g} against {e}"
        );
        if relu {
            assert!(g.to_bits() != (-0f32).to_bits() && g >= 0.0);
        }
    }
}

#[test]
fn direct_convolution_matches_its_definition() {
    // Channel counts below, at and past one block of 8; odd sizes that leave 1-3 pixels
    // past the last tile of 4; valid, symmetric and lopsided padding.
    let cases = [
        ([1, 1, 28, 28], 16, 3, ((1, 1), (1, 1)), true),
        ([2, 3, 7, 5], 5, 3, ((0, 0), (0, 0)), false),
        ([1, 4, 6, 9], 13, 5, ((2, 2), (2, 2)), true),
        ([3, 2, 5, 7], 8, 3, ((1, 0), (0, 2)), false),
        ([1, 9, 3, 3], 24, 3, ((1, 1), (1, 1)), true),
    ];
    for (seed, (shape, o, k, padding, relu)) in cases.into_iter().enumerate() {
        check_against_definition(shape, o, k, padding, relu, seed as u32);
    }
}

#[cfg(not(target_arch = "wasm32"))]
proptest::proptest! {
    #![proptest_config(crate::property_tests::fixed_seed(48))]
    /// And on any shape: 1-3 images, 1-17 channels in and out (across blocks of 8), kernels
    /// 1, 3 and 5, any padding on each side up to the kernel's half, sizes from the kernel
    /// (after padding) to 4 tiles past it, with or without ReLU.
    #[test]
    fn direct_convolution_matches_its_definition_on_any_shape(
        n in 1usize..=3,
        c in 1usize..=17,
        o in 1usize..=17,
        k in proptest::sample::select(vec![1usize, 3, 5]),
        pads in proptest::array::uniform4(0usize..=2),
        extra in (0usize..=13, 0usize..=13),
        relu in proptest::bool::ANY,
        seed in 0u32..1000,
    ) {
        let half = k / 2;
        let [top, bottom, left, right] = pads.map(|p| p.min(half));
        // Sizes such that the padded input holds at least one kernel.
        let h = (k + extra.0).saturating_sub(top + bottom).max(1);
        let w = (k + extra.1).saturating_sub(left + right).max(1);
        proptest::prop_assume!(h + top + bottom >= k && w + left + right >= k);
        check_against_definition([n, c, h, w], o, k, ((top, bottom), (left, right)), relu, seed);
    }
}

#[test]
fn an_input_smaller_than_the_kernel_is_refused() {
    let op = DirectConv::new(&[0.0; 9], &[0.0], [1, 1, 3, 3], ((0, 0), (0, 0)));
    let tensor = tract_ndarray::Array4::<f32>::zeros((1, 1, 2, 2));
    let err = op
        .eval(tvec!(Tensor::from(tensor).into_tvalue()))
        .unwrap_err();
    assert!(format!("{err:#}").contains("smaller than the kernel"));
}

fn shipped() -> tract_onnx::pb::ModelProto {
    use prost::Message;
    let mut proto =
        tract_onnx::pb::ModelProto::decode(&include_bytes!("../../../model/digitnet.onnx")[..])
            .unwrap();
    crate::onnx::inline_half_weights(&mut proto);
    proto
}

/// Natively tract sums with fused multiply-adds, so the two plans differ in the last
/// bits here (the browser tests compare them bit for bit, where neither fuses).
#[test]
fn the_shipped_plan_convolves_directly_and_answers_as_tracts_does() {
    let fact = f32::fact([3, 1, 28, 28]);
    let direct = optimized_model_with(&shipped(), fact.clone(), Convolutions::Direct).unwrap();
    let convs = direct
        .nodes()
        .iter()
        .filter(|n| n.op_is::<DirectConv>())
        .count();
    assert_eq!(convs, 5, "every convolution computed directly");
    assert!(
        direct
            .nodes()
            .iter()
            .filter_map(|n| n.op_as::<DirectConv>())
            .all(|op| op.relu),
        "every ReLU folded into its convolution"
    );
    assert!(!direct.nodes().iter().any(|n| n.op_is::<Conv>()));
    let direct = direct.into_runnable().unwrap();
    let tract = optimized_model_with(&shipped(), fact, Convolutions::Tract)
        .unwrap()
        .into_runnable()
        .unwrap();
    let fixture = crate::idx::parse_images(
        include_bytes!("../../../tests/fixtures/mnist-test-images.idx.gz"),
        "mnist-test-images.idx.gz",
    )
    .unwrap();
    let mut largest = 0f32;
    for chunk in fixture.chunks_exact(3 * 28 * 28).take(40) {
        let input: Vec<f32> = chunk.iter().map(|&p| f32::from(p) / 255.0).collect();
        let input = tract_ndarray::Array4::from_shape_vec((3, 1, 28, 28), input).unwrap();
        let a = tract
            .run(tvec!(Tensor::from(input.clone()).into()))
            .unwrap();
        let b = direct.run(tvec!(Tensor::from(input).into())).unwrap();
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(a.shape(), b.shape());
            for (&x, &y) in a
                .as_slice::<f32>()
                .unwrap()
                .iter()
                .zip(b.as_slice::<f32>().unwrap())
            {
                largest = largest.max((x - y).abs() / (1.0 + x.abs()));
            }
        }
    }
    assert!(largest < 1e-5, "largest relative difference {largest}");
}
