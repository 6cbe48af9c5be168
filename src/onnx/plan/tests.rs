//! Tests of [`super`] (`src/onnx/plan.rs`).

use super::*;
use prost::Message;
use tract_onnx::tract_hir::tract_core::ops::cnn::PoolSpec;

fn shipped(rewritten: bool) -> TypedModel {
    let mut proto =
        tract_onnx::pb::ModelProto::decode(&include_bytes!("../../../model/digitnet.onnx")[..])
            .unwrap();
    crate::onnx::inline_half_weights(&mut proto);
    let mut model = crate::onnx::typed::typed_model(&proto, f32::fact([3, 1, 28, 28])).unwrap();
    model.optimize().unwrap();
    if rewritten {
        rewrite(&mut model).unwrap();
    }
    model
}

#[test]
fn the_rewritten_plan_gives_the_same_bits() {
    let plain = shipped(false).into_runnable().unwrap();
    let rewritten_model = shipped(true);
    assert!(
        rewritten_model
            .nodes()
            .iter()
            .any(|n| n.op_is::<MaxPool2x2>()),
        "no max pooling was replaced"
    );
    assert!(
        !rewritten_model.nodes().iter().any(|n| n.op_is::<Pad>()),
        "a padding was left to tract's Pad"
    );
    assert!(
        rewritten_model
            .nodes()
            .iter()
            .any(|n| n.op_is::<SpatialSum>()),
        "the pooling's sum was left to tract's Reduce"
    );
    assert!(
        !rewritten_model
            .nodes()
            .iter()
            .any(|n| n.op_is::<OptBinByScalar>() && n.name.contains("relu")),
        "a ReLU was left unfused"
    );
    let rewritten = rewritten_model.into_runnable().unwrap();
    let fixture = crate::idx::parse_images(
        include_bytes!("../../../tests/fixtures/mnist-test-images.idx.gz"),
        "mnist-test-images.idx.gz",
    )
    .unwrap();
    for chunk in fixture.chunks_exact(3 * 28 * 28).take(40) {
        let input: Vec<f32> = chunk.iter().map(|&p| f32::from(p) / 255.0).collect();
        let input = tract_ndarray::Array4::from_shape_vec((3, 1, 28, 28), input).unwrap();
        let a = plain
            .run(tvec!(Tensor::from(input.clone()).into()))
            .unwrap();
        let b = rewritten.run(tvec!(Tensor::from(input).into())).unwrap();
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(&b) {
            let a: Vec<u32> = a
                .as_slice::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let b: Vec<u32> = b
                .as_slice::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            assert_eq!(a, b);
        }
    }
}

#[test]
fn zero_pad_2d_matches_tracts_pad() {
    let pads = vec![(0, 0), (0, 0), (1, 2), (2, 1)];
    let tract_op = Pad {
        pads,
        mode: PadMode::Constant(tensor0(0f32).into_arc_tensor()),
    };
    let fact = f32::fact([2, 3, 4, 5]);
    let ours = as_zero_pad_2d(&tract_op, &fact).expect("a zero padding of H and W");
    let values: Vec<f32> = (0..2 * 3 * 4 * 5).map(|i| i as f32 - 7.5).collect();
    let input = tract_ndarray::Array4::from_shape_vec((2, 3, 4, 5), values).unwrap();
    let expected = tract_op.eval(tvec!(input.clone().into_tvalue())).unwrap();
    let got = ours.eval(tvec!(input.into_tvalue())).unwrap();
    assert_eq!(expected[0].shape(), got[0].shape());
    assert_eq!(
        expected[0].as_slice::<f32>().unwrap(),
        got[0].as_slice::<f32>().unwrap()
    );
    assert_eq!(
        ours.output_facts(&[&fact]).unwrap()[0].shape.as_concrete(),
        Some(&[2, 3, 7, 8][..])
    );
    let edge = Pad {
        mode: PadMode::Edge,
        ..tract_op.clone()
    };
    assert!(as_zero_pad_2d(&edge, &fact).is_none(), "only zero padding");
}

/// The bits of an f32 value's numbers, to compare two operators' outputs exactly (signed
/// zeros included).
fn bits(t: &TValue) -> Vec<u32> {
    t.as_slice::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn spatial_sum_matches_tracts_reduce_bit_for_bit() {
    let reduce = Reduce::new(tvec![2, 3], Reducer::Sum);
    for (h, w) in [(5, 5), (7, 7), (3, 11), (1, 1)] {
        let values: Vec<f32> = (0..2 * 3 * h * w)
            .map(|i| (i as f32 * 0.7311).sin() * 10f32.powi(i as i32 % 7 - 3))
            .collect();
        let input = tract_ndarray::Array4::from_shape_vec((2, 3, h, w), values).unwrap();
        let expected = reduce.eval(tvec!(input.clone().into_tvalue())).unwrap();
        let got = SpatialSum.eval(tvec!(input.into_tvalue())).unwrap();
        assert_eq!(expected[0].shape(), got[0].shape());
        assert_eq!(bits(&expected[0]), bits(&got[0]), "{h}x{w}");
    }
}

#[test]
fn max_pool_2x2_matches_tracts_on_odd_sizes_and_signed_zeros() {
    let spec = PoolSpec {
        data_format: DataFormat::NCHW,
        kernel_shape: tvec![2, 2],
        padding: PaddingSpec::Valid,
        dilations: None,
        strides: Some(tvec![2, 2]),
        input_channels: 2,
        output_channels: 2,
    };
    let tract_op = MaxPool::new(spec, None);
    let values: Vec<f32> = (0..2 * 2 * 5 * 7)
        .map(|i| match i % 5 {
            0 => 0.0,
            1 => -0.0,
            2 => -(i as f32),
            _ => (i as f32 * 0.37).sin(),
        })
        .collect();
    let input = tract_ndarray::Array4::from_shape_vec((2, 2, 5, 7), values).unwrap();
    let expected = tract_op.eval(tvec!(input.clone().into_tvalue())).unwrap();
    let got = MaxPool2x2.eval(tvec!(input.into_tvalue())).unwrap();
    assert_eq!(expected[0].shape(), got[0].shape());
    assert_eq!(bits(&expected[0]), bits(&got[0]));
}
