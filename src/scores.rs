//! What a classifier's ten scores mean: the winning class and the probabilities. Pure
//! functions on plain arrays, used by the classifier, the metrics, the trainer and the page.

use crate::digit::CLASSES;

/// Index of the largest value (the first on ties); 0 for an empty slice.
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(best, best_v), (i, &v)| {
            if v > best_v {
                (i, v)
            } else {
                (best, best_v)
            }
        })
        .0
}

/// Softmax of `logits`, computed stably (the largest logit is subtracted first).
pub fn softmax(logits: &[f32; CLASSES]) -> [f32; CLASSES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = [0.0; CLASSES];
    let mut sum = 0.0;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = (l - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let p = softmax(&[1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&p), 9);
        let q = softmax(&[1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(q[2] > q[1] && q[1] > q[0] && q[0] > q[3], "{q:?}");
        assert!((q[1] / q[0] - std::f32::consts::E).abs() < 1e-4);
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[0.1, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
