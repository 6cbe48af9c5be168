//! Fixtures shared by the native and the browser tests. Everything is committed under
//! `tests/fixtures/` and read with `include_*!`, so the tests need neither the network nor the
//! full MNIST download, and the wasm build reads exactly the same bytes.
#![allow(dead_code)]

use digitpad::idx::LabeledImages;
use digitpad::strokes::{parse_strokes, Stroke};

/// The shipped model.
pub const MODEL: &[u8] = include_bytes!("../../model/digitnet.onnx");

/// The first 500 images of the MNIST test set, gzipped IDX.
pub const MNIST_IMAGES: &[u8] = include_bytes!("../fixtures/mnist-test-images.idx.gz");
/// Their labels, gzipped IDX.
pub const MNIST_LABELS: &[u8] = include_bytes!("../fixtures/mnist-test-labels.idx.gz");

/// The value named `onnx_value` in the shipped model's graph for `image`, as tract itself
/// computes it: tract-onnx's own route (inference model, analysis, its optimizer) with that
/// value as the graph's output. The reference the layers view is checked against. Returns
/// the value's shape without the batch dimension, and its values.
pub fn tract_own_value(onnx_value: &str, image: &digitpad::DigitImage) -> (Vec<usize>, Vec<f32>) {
    use tract_onnx::prelude::*;
    let pixels = image.pixels().to_vec();
    let input = tract_ndarray::Array4::from_shape_vec((1, 1, 28, 28), pixels).unwrap();
    let outputs = digitpad::classifier::onnx_runtime()
        .model_for_read(&mut std::io::Cursor::new(MODEL))
        .unwrap()
        .with_input_fact(0, f32::fact([1, 1, 28, 28]).into())
        .unwrap()
        .with_output_names([onnx_value])
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap()
        .run(tvec!(Tensor::from(input).into_tvalue()))
        .unwrap();
    let view = outputs[0].to_array_view::<f32>().unwrap();
    (view.shape()[1..].to_vec(), view.iter().copied().collect())
}

/// The MNIST fixture.
pub fn mnist_fixture() -> LabeledImages {
    LabeledImages::from_idx(
        MNIST_IMAGES,
        "mnist-test-images.idx.gz",
        MNIST_LABELS,
        "mnist-test-labels.idx.gz",
    )
    .expect("committed fixture parses")
}

/// Stroke fixtures: (file stem, digit drawn, text).
pub const STROKE_FIXTURES: &[(&str, usize, &str)] = &[
    (
        "digit-0",
        0,
        include_str!("../fixtures/strokes/digit-0.strokes"),
    ),
    (
        "digit-1",
        1,
        include_str!("../fixtures/strokes/digit-1.strokes"),
    ),
    (
        "digit-2",
        2,
        include_str!("../fixtures/strokes/digit-2.strokes"),
    ),
    (
        "digit-3",
        3,
        include_str!("../fixtures/strokes/digit-3.strokes"),
    ),
    (
        "digit-4",
        4,
        include_str!("../fixtures/strokes/digit-4.strokes"),
    ),
    (
        "digit-5",
        5,
        include_str!("../fixtures/strokes/digit-5.strokes"),
    ),
    (
        "digit-6",
        6,
        include_str!("../fixtures/strokes/digit-6.strokes"),
    ),
    (
        "digit-7",
        7,
        include_str!("../fixtures/strokes/digit-7.strokes"),
    ),
    (
        "digit-8",
        8,
        include_str!("../fixtures/strokes/digit-8.strokes"),
    ),
    (
        "digit-9",
        9,
        include_str!("../fixtures/strokes/digit-9.strokes"),
    ),
    (
        "corner-3",
        3,
        include_str!("../fixtures/strokes/corner-3.strokes"),
    ),
    (
        "corner-4",
        4,
        include_str!("../fixtures/strokes/corner-4.strokes"),
    ),
    (
        "small-7",
        7,
        include_str!("../fixtures/strokes/small-7.strokes"),
    ),
];

/// Parses a stroke fixture.
pub fn strokes(text: &str) -> Vec<Stroke> {
    parse_strokes(text).expect("committed stroke fixture parses")
}

/// The preprocessed images of the stroke fixtures, as FNV-1a hashes of their f32 bits, one
/// `stem hash` per line: what native and wasm preprocessing must both produce.
pub const PREPROCESS_HASHES: &str = include_str!("../fixtures/strokes/preprocessed.fnv");

/// The shipped model's answer for each image of the MNIST fixture, computed natively: the
/// browser must give the very same answers.
pub const NATIVE_PREDICTIONS: &str = include_str!("../fixtures/mnist-test-predictions.txt");

/// FNV-1a (64-bit) of the little-endian bytes of `values`.
pub fn fnv1a(values: &[f32]) -> u64 {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    digitpad::fingerprint::fnv1a(&bytes)
}

/// The preprocessing hash of every stroke fixture, in the committed format.
pub fn preprocess_hash_lines() -> String {
    STROKE_FIXTURES
        .iter()
        .map(|(stem, _, text)| {
            let image =
                digitpad::preprocess::strokes_to_digit(&strokes(text)).expect("fixture has ink");
            format!("{stem} {:016x}\n", fnv1a(image.pixels()))
        })
        .collect()
}

/// Width of the shipped network's `features` output: what its dense layer reads (native
/// only: the trainer's architectures are not in the wasm build).
#[cfg(not(target_arch = "wasm32"))]
pub fn shipped_feature_width() -> usize {
    digitpad::train::model::Architecture::Digitnet
        .spec()
        .geometry()
        .feature_width()
}
