//! The personal head: a per-person correction of the model's last layer, fitted on the
//! person's examples.

use super::*;

/// Full-batch gradient steps that fit the personal head.
const HEAD_STEPS: usize = 60;

/// Their step size (features are scaled to unit size, see [`Head`]).
const HEAD_RATE: f64 = 1.0;

/// A per-person correction of the model's last layer: `Δz = ΔW x`, added to the model's
/// calibrated logits, `x` the drawing's features whitened by the trust rules' feature model,
/// centred on the mean of the class centres and scaled so that a class centre's `x` has unit
/// length on average. Fitted on the person's examples (and their variations) by minimizing
/// their cross-entropy plus `λ/2 |ΔW|²`, from `ΔW = 0`: few examples move it little, and
/// what it moves is the direction the person's drawings lie in.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Head {
    /// `ΔW`, `CLASSES x F`, row by row.
    weights: Vec<f64>,
    origin: Vec<f64>,
    scale: f64,
}

impl Head {
    /// `x` for whitened features `w`.
    fn input(origin: &[f64], scale: f64, w: &[f64]) -> Vec<f64> {
        w.iter().zip(origin).map(|(a, o)| (a - o) / scale).collect()
    }

    /// Fits the head on `samples`: `(digit, calibrated logits, whitened features)`.
    pub(super) fn fit(
        feature_model: &crate::trust::FeatureModel,
        samples: &[(usize, [f32; CLASSES], Vec<f64>)],
        l2: f64,
    ) -> Option<Head> {
        let centres = feature_model.whitened_centres();
        let width = centres.len() / CLASSES;
        if width == 0 || samples.is_empty() {
            return None;
        }
        let mut origin = vec![0f64; width];
        for centre in centres.chunks(width) {
            origin
                .iter_mut()
                .zip(centre)
                .for_each(|(o, c)| *o += c / CLASSES as f64);
        }
        let spread = centres
            .chunks(width)
            .map(|c| {
                c.iter()
                    .zip(&origin)
                    .map(|(a, o)| (a - o) * (a - o))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / CLASSES as f64;
        let scale = spread.sqrt().max(1e-6);
        let inputs: Vec<Vec<f64>> = samples
            .iter()
            .map(|(_, _, w)| Head::input(&origin, scale, w))
            .collect();
        let mut weights = vec![0f64; CLASSES * width];
        let n = samples.len() as f64;
        for _ in 0..HEAD_STEPS {
            let mut gradient: Vec<f64> = weights.iter().map(|w| l2 * w).collect();
            for ((digit, logits, _), x) in samples.iter().zip(&inputs) {
                let mut z = [0f64; CLASSES];
                for (c, zc) in z.iter_mut().enumerate() {
                    let row = &weights[c * width..(c + 1) * width];
                    *zc = f64::from(logits[c]) + row.iter().zip(x).map(|(w, x)| w * x).sum::<f64>();
                }
                let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
                let total: f64 = e.iter().sum();
                for c in 0..CLASSES {
                    let g = (e[c] / total - if c == *digit { 1.0 } else { 0.0 }) / n;
                    let row = &mut gradient[c * width..(c + 1) * width];
                    row.iter_mut().zip(x).for_each(|(r, x)| *r += g * x);
                }
            }
            weights
                .iter_mut()
                .zip(&gradient)
                .for_each(|(w, g)| *w -= HEAD_RATE * g);
        }
        Some(Head {
            weights,
            origin,
            scale,
        })
    }

    /// `Δz` for whitened features `w`.
    pub(super) fn shift(&self, w: &[f64]) -> [f64; CLASSES] {
        let x = Head::input(&self.origin, self.scale, w);
        let width = x.len();
        let mut out = [0f64; CLASSES];
        for (c, o) in out.iter_mut().enumerate() {
            *o = self.weights[c * width..(c + 1) * width]
                .iter()
                .zip(&x)
                .map(|(w, x)| w * x)
                .sum();
        }
        out
    }
}
