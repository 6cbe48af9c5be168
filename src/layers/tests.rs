//! Tests of [`super`] (`src/layers.rs`).

use super::*;
use crate::onnx::typed::{optimized_model_with, Convolutions};
use crate::{Classifier, DigitImage};
use prost::Message;

const MODEL: &[u8] = include_bytes!("../../model/digitnet.onnx");

fn shipped() -> ModelProto {
    let mut proto = ModelProto::decode(MODEL).unwrap();
    crate::onnx::inline_half_weights(&mut proto);
    proto
}

/// A drawn 3 (a committed stroke fixture) as the model's input.
fn three() -> DigitImage {
    let text = include_str!("../../tests/fixtures/strokes/digit-3.strokes");
    let strokes = crate::strokes::parse_strokes(text).unwrap();
    crate::preprocess::strokes_to_digit(&strokes).unwrap()
}

/// A clock that counts up by one per call: every node takes 1 ms.
fn ticking() -> impl Fn() -> f64 {
    let t = std::cell::Cell::new(0.0);
    move || {
        t.set(t.get() + 1.0);
        t.get()
    }
}

#[test]
fn the_shipped_networks_stages_are_its_layers() {
    let specs = stage_specs(&shipped());
    let found: Vec<(&str, &str)> = specs
        .iter()
        .map(|s| (s.name.as_str(), s.caption.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("l0_conv", "conv 3x3, 16 channels, ReLU"),
            ("l2_maxpool", "max pool 2x2"),
            ("l3_conv", "conv 3x3, 32 channels, ReLU"),
            ("l5_conv", "conv 3x3, 32 channels, ReLU"),
            ("l7_maxpool", "max pool 2x2"),
            ("l8_conv", "conv 3x3, 64 channels, ReLU"),
            ("l10_conv", "conv 3x3, 64 channels, ReLU"),
            (
                "l12_gap",
                "global average pool: the features the last layer reads"
            ),
            ("l13_matmul", "dense 64 to 10: the logits"),
        ]
    );
    assert_eq!(specs[0].output, "l1_out");
    assert_eq!(specs[7].output, "features");
    assert_eq!(specs[8].output, "logits");
}

#[test]
fn the_shipped_networks_stages_have_its_shapes() {
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    let layers = classifier.read_layers(&three(), &ticking()).unwrap();
    let shapes: Vec<String> = layers.stages.iter().map(Stage::shape_label).collect();
    assert_eq!(
        shapes,
        [
            "28x28x1", "28x28x16", "14x14x16", "14x14x32", "14x14x32", "7x7x32", "7x7x64",
            "5x5x64", "64", "10", "10"
        ]
    );
}

#[test]
fn reading_the_layers_gives_the_classifiers_answer_from_the_same_run() {
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    let image = three();
    let layers = classifier.read_layers(&image, &ticking()).unwrap();
    let plain = classifier.classify(&image).unwrap();
    assert_eq!(layers.prediction, plain);
    assert_eq!(plain.digit(), 3);
    let last = layers.stages.last().unwrap();
    assert_eq!(last.values, plain.probabilities.to_vec());
    let logits = &layers.stages[layers.stages.len() - 2];
    assert_eq!(logits.values, plain.logits.to_vec());
    let features = &layers.stages[layers.stages.len() - 3];
    assert_eq!(features.values, plain.features);
    // The clock is read at the start and at the end: the set took 1 tick.
    assert_eq!(layers.ms, 1.0);
    // The plain reading afterwards is unchanged.
    assert_eq!(classifier.classify(&image).unwrap(), plain);
}

/// The page's plan (its own convolutions, each with its ReLU) binds to stages of the same
/// shapes.
#[test]
fn the_pages_plan_has_the_same_stages() {
    let proto = shipped();
    let fact = f32::fact([1, 1, 28, 28]);
    let bound = |convolutions| {
        let model = optimized_model_with(&proto, fact.clone(), convolutions).unwrap();
        let stages =
            StagePlan::bind(stage_specs(&proto), &model).expect("every stage found in the plan");
        stages
            .nodes
            .iter()
            .map(|&id| format!("{:?}", model.node(id).outputs[0].fact.shape))
            .collect::<Vec<_>>()
    };
    assert_eq!(bound(Convolutions::Direct), bound(Convolutions::Tract));
}

/// Exposing the stages adds their values to the plan's outputs after its own, once each.
#[test]
fn exposed_stages_follow_the_models_own_outputs() {
    let proto = shipped();
    let mut model =
        optimized_model_with(&proto, f32::fact([1, 1, 28, 28]), Convolutions::Tract).unwrap();
    let own = model.output_outlets().unwrap().to_vec();
    let mut stages = StagePlan::bind(stage_specs(&proto), &model).unwrap();
    stages.expose(&mut model).unwrap();
    let outlets = model.output_outlets().unwrap().to_vec();
    assert_eq!(
        &outlets[..own.len()],
        own.as_slice(),
        "logits and features keep their places"
    );
    assert_eq!(
        outlets.len(),
        own.len() + stages.len() - 2,
        "logits and features not repeated"
    );
    assert_eq!(
        stages.outputs[stages.len() - 1],
        0,
        "the last stage is the logits"
    );
}

#[test]
fn a_plan_without_a_stages_nodes_is_not_bound() {
    let proto = shipped();
    let mut specs = stage_specs(&proto);
    specs.push(StageSpec {
        name: "l99_missing".into(),
        caption: "nowhere".into(),
        output: "nothing".into(),
        members: vec!["l99_missing".into()],
    });
    let model =
        optimized_model_with(&proto, f32::fact([1, 1, 28, 28]), Convolutions::Tract).unwrap();
    assert!(StagePlan::bind(specs, &model).is_none());
}

#[test]
fn grey_levels_are_linear_between_zero_and_the_layers_largest_value() {
    assert_eq!(grey(-1.0, 2.0), 0);
    assert_eq!(grey(0.0, 2.0), 0);
    assert_eq!(grey(1.0, 2.0), 128);
    assert_eq!(grey(2.0, 2.0), 255);
    assert_eq!(grey(3.0, 2.0), 255);
    assert_eq!(grey(1.0, 0.0), 0, "an all-zero layer stays black");
    assert_eq!(grey(f32::NAN, 1.0), 0);
}

#[test]
fn every_tile_pixel_finds_its_channel() {
    for (channels, side) in [(1, 28), (16, 28), (32, 14), (64, 5), (100, 3), (64, 1)] {
        let grid = TileGrid::new(channels, side, side);
        let (width, height) = grid.size();
        assert!(width >= height, "{channels} maps: {width}x{height}");
        for c in 0..channels {
            let (x, y) = grid.origin(c);
            assert!(x + side <= width && y + side <= height);
            assert_eq!(grid.channel_at(x, y, channels), Some(c));
            assert_eq!(
                grid.channel_at(x + side - 1, y + side - 1, channels),
                Some(c)
            );
        }
        if grid.columns > 1 && side > 1 {
            assert_eq!(grid.channel_at(side, 0, channels), None, "the gap");
        }
        assert_eq!(
            grid.channel_at(width, 0, channels),
            None,
            "past the right edge"
        );
    }
}

#[test]
fn tile_pixels_put_each_value_in_its_channels_tile() {
    let stage = Stage {
        name: "test".into(),
        caption: String::new(),
        shape: vec![2, 2, 3],
        values: vec![0.0, 1.0, 2.0, 3.0, 4.0, -1.0, 4.0, 0.0, 0.0, 0.0, 0.0, 2.0],
    };
    let (grid, rgba) = tile_pixels(&stage);
    assert_eq!(grid.size(), (7, 2));
    let at = |x: usize, y: usize| rgba[(y * 7 + x) * 4];
    assert_eq!(
        [at(0, 0), at(1, 0), at(2, 0), at(0, 1), at(1, 1), at(2, 1)],
        [0, 64, 128, 191, 255, 0]
    );
    assert_eq!(rgba[(3 * 4) + 3], 0, "the gap is transparent");
    assert_eq!([at(4, 0), at(6, 1)], [255, 128]);
}
