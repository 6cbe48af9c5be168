//! What the tests of this crate's training operators ([`super::gemm_conv`],
//! [`super::max_pool`], [`super::batch_norm`]) share: deterministic inputs, reading a tensor
//! back, and comparing with burn's results.

use burn::tensor::Tensor;

/// `count` deterministic values in [-1, 1) from `seed` (a linear congruential generator).
pub fn values(count: usize, seed: u32) -> Vec<f32> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect()
}

/// A tensor's values, row-major.
pub fn read<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec().unwrap()
}

/// Asserts that `ours` and burn's `theirs` agree within `tolerance`, relative to
/// `1 + |theirs|`, naming `what` and the index where they do not.
pub fn close(ours: &[f32], theirs: &[f32], tolerance: f32, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= tolerance * (1.0 + b.abs()),
            "{what}[{i}]: ours {a}, burn's {b}"
        );
    }
}
