//! Tests of [`super`] (`src/train/model.rs`).

use super::*;

#[test]
fn seed_cost_matches_keras_summary() {
    // Keras' model.summary() for the seed CNN: 93,322 parameters.
    let cost = Architecture::Keras.spec().cost();
    assert_eq!(cost.parameters, 93_322);
    // conv1 26*26*32*9 + conv2 11*11*64*288 + conv3 3*3*64*576 + 576*64 + 64*10
    assert_eq!(cost.macs, 194_688 + 2_230_272 + 331_776 + 36_864 + 640);
}

#[test]
fn geometry_of_the_shipped_network() {
    let geometry = Architecture::Digitnet.spec().geometry();
    let sides: Vec<usize> = geometry.features.iter().map(|l| l.out_side).collect();
    assert_eq!(sides, [28, 14, 14, 14, 7, 7, 5]);
    assert_eq!(geometry.features[2].in_channels, 16);
    assert_eq!(geometry.features[3].in_channels, 32);
    assert_eq!(geometry.dense, [(64, 10)]);
    assert_eq!(geometry.feature_width(), 64);
}

#[test]
fn mlp_cost() {
    let cost = Architecture::Mlp.spec().cost();
    assert_eq!(
        cost.parameters,
        784 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10
    );
}
