//! How far an answer can be trusted. A CNN trained on MNIST answers one of ten digits for any
//! input, usually with a high softmax probability. This module turns its outputs into what the
//! page, the CLI and the metrics show:
//!
//! - **calibrated probabilities**: `softmax(logits / T)`, with the temperature `T` fitted on
//!   the validation split after training (temperature scaling, Guo et al. 2017), so that "90%
//!   sure" is right about 90% of the time on MNIST-like digits;
//! - **a verdict**: a digit; "not sure" (the two best digits are close); or "not a digit" (the
//!   drawing is unlike the digits the model was trained on, judged by a score with a threshold
//!   chosen on validation data so that nearly every real digit passes).
//!
//! The parameters travel inside the model file, in its `metadata_props` (see
//! [`Trust::from_metadata`]), so a model and its thresholds can never be mixed up.

use crate::digit::CLASSES;
use crate::scores::{argmax, softmax};

mod feature_model;
mod metadata;

pub use feature_model::{triangle_len, FeatureModel};
pub use metadata::TrustError;

/// Name of the model output holding the penultimate features.
pub const FEATURES_OUTPUT: &str = "features";
/// Metadata key of the temperature.
pub const TEMPERATURE_KEY: &str = "temperature";
/// Metadata key of the "not sure" margin.
pub const UNSURE_MARGIN_KEY: &str = "unsure_margin";
/// Metadata key of the "not a digit" test: `<method> <threshold>` pairs (all must pass).
pub const NOT_DIGIT_KEY: &str = "not_digit";
/// Metadata key of the class centres in feature space (10 x F numbers, row by row).
pub const CLASS_CENTRES_KEY: &str = "class_centres";
/// Metadata key of the Cholesky factor of the features' shared precision matrix (its lower
/// triangle, F (F + 1) / 2 numbers).
pub const FEATURE_PRECISION_KEY: &str = "feature_precision_factor";

/// What the page and the CLI say about one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A digit, read with confidence.
    Digit,
    /// Probably a digit, but the two most likely digits are close.
    Unsure,
    /// The drawing does not look like any digit.
    NotDigit,
}

impl Verdict {
    /// The name used in the DOM (`data-verdict`) and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Digit => "digit",
            Verdict::Unsure => "unsure",
            Verdict::NotDigit => "not-digit",
        }
    }
}

/// A score of how digit-like an input is (higher = more like the training digits), computed
/// from the model's outputs. The trainer measures each; the model file names the one it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// The largest calibrated probability (Hendrycks & Gimpel 2017).
    MaxProbability,
    /// Minus the free energy: `T * logsumexp(logits / T)` (Liu et al. 2020).
    Energy,
    /// Minus the squared Mahalanobis distance from the penultimate features to the nearest
    /// class centre, with one covariance shared by the classes (Lee et al. 2018).
    ClassDistance,
}

impl Method {
    /// Every method, in the order reports list them.
    pub const ALL: [Method; 3] = [
        Method::MaxProbability,
        Method::Energy,
        Method::ClassDistance,
    ];

    /// The method's name in metadata and reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::MaxProbability => "max-probability",
            Method::Energy => "energy",
            Method::ClassDistance => "class-distance",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A model's calibration and rejection rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Trust {
    /// Divides the logits before the softmax (1 = uncalibrated).
    pub temperature: f32,
    /// "Not sure" when the best probability exceeds the runner-up's by less than this.
    pub unsure_margin: f32,
    /// The "not a digit" test: methods and the lowest score of each that still counts as a
    /// digit; a drawing below any of them is not a digit. Empty: no test.
    pub not_digit: Vec<(Method, f32)>,
    /// What [`Method::ClassDistance`] needs.
    pub features: Option<FeatureModel>,
}

impl Default for Trust {
    /// No calibration and no rejection: the model's plain softmax, every answer a digit
    /// unless two are close.
    fn default() -> Self {
        Self {
            temperature: 1.0,
            unsure_margin: DEFAULT_UNSURE_MARGIN,
            not_digit: Vec::new(),
            features: None,
        }
    }
}

/// The "not sure" margin a model gets when its file does not name one, and the one `train`
/// fits its rules under: 0.4 reads "60% vs 20%" as a digit and "55% vs 30%" as not sure.
/// Smaller margins, measured with `calibrate --unsure-margin`, show more real digits right
/// but more of them wrong, and let real letters through (docs/decisions/not-a-digit-rule.md).
pub const DEFAULT_UNSURE_MARGIN: f32 = 0.4;

impl Trust {
    /// Calibrated probabilities: `softmax(logits / T)`.
    pub fn probabilities(&self, logits: &[f32; CLASSES]) -> [f32; CLASSES] {
        softmax(&logits.map(|l| l / self.temperature))
    }

    /// How digit-like the input is by `method` (higher = more digit-like); `None` when the
    /// method needs what this model does not have (features, a feature model).
    pub fn score(&self, method: Method, logits: &[f32; CLASSES], features: &[f32]) -> Option<f32> {
        match method {
            Method::MaxProbability => {
                let p = self.probabilities(logits);
                Some(p[argmax(&p)])
            }
            Method::Energy => {
                let t = self.temperature;
                let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = logits.iter().map(|l| ((l - max) / t).exp()).sum();
                Some(max + t * sum.ln())
            }
            Method::ClassDistance => self
                .features
                .as_ref()
                .and_then(|f| f.nearest_distance(features))
                .map(|d| -d),
        }
    }

    /// Whether the "not a digit" test rejects the input: any of its scores below its
    /// threshold.
    pub fn rejects(&self, logits: &[f32; CLASSES], features: &[f32]) -> bool {
        self.rejects_with(|method| self.score(method, logits, features))
    }

    /// [`Trust::rejects`] with each method's score given by `score` (the trainer computes
    /// the scores once and tries several rule sets on them).
    pub fn rejects_with(&self, score: impl Fn(Method) -> Option<f32>) -> bool {
        self.not_digit
            .iter()
            .any(|&(method, threshold)| score(method).is_some_and(|s| s < threshold))
    }

    /// Whether the two best digits are within the "not sure" margin.
    pub fn is_unsure(&self, logits: &[f32; CLASSES]) -> bool {
        self.is_unsure_probabilities(&self.probabilities(logits))
    }

    /// Whether the two best of these probabilities are within the "not sure" margin (for
    /// probabilities that are not the model's alone, e.g. [`crate::personal`]'s).
    pub fn is_unsure_probabilities(&self, p: &[f32; CLASSES]) -> bool {
        let (best, runner_up) = top_two(p);
        p[best] - p[runner_up] < self.unsure_margin
    }

    /// The verdict on one answer: not a digit when the model's test says so, else not sure
    /// when the two best digits are within the margin, else a digit.
    pub fn verdict(&self, logits: &[f32; CLASSES], features: &[f32]) -> Verdict {
        self.verdict_with(logits, |method| self.score(method, logits, features))
    }

    /// [`Trust::verdict`] with each method's score given by `score`.
    pub fn verdict_with(
        &self,
        logits: &[f32; CLASSES],
        score: impl Fn(Method) -> Option<f32>,
    ) -> Verdict {
        if self.rejects_with(score) {
            return Verdict::NotDigit;
        }
        if self.is_unsure(logits) {
            Verdict::Unsure
        } else {
            Verdict::Digit
        }
    }
}

/// The indices of the largest and second-largest values (the first on ties).
pub fn top_two(values: &[f32; CLASSES]) -> (usize, usize) {
    let best = argmax(values);
    let runner_up = (0..CLASSES)
        .filter(|&i| i != best)
        .fold(None, |acc: Option<usize>, i| match acc {
            Some(j) if values[j] >= values[i] => Some(j),
            _ => Some(i),
        })
        .unwrap_or(0);
    (best, runner_up)
}

#[cfg(test)]
mod tests {
    use super::metadata::quick_decimal;
    use super::*;

    fn logits(best: usize, value: f32) -> [f32; CLASSES] {
        let mut l = [0.0; CLASSES];
        l[best] = value;
        l
    }

    #[test]
    fn temperature_softens_without_changing_the_answer() {
        let trust = Trust {
            temperature: 2.0,
            ..Trust::default()
        };
        let l = logits(3, 6.0);
        let sharp = Trust::default().probabilities(&l);
        let soft = trust.probabilities(&l);
        assert_eq!(argmax(&sharp), 3);
        assert_eq!(argmax(&soft), 3);
        assert!(soft[3] < sharp[3], "{soft:?} vs {sharp:?}");
        assert!((soft.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn verdicts_follow_the_rules() {
        let trust = Trust {
            not_digit: vec![(Method::MaxProbability, 0.5)],
            ..Trust::default()
        };
        assert_eq!(trust.verdict(&logits(7, 10.0), &[]), Verdict::Digit);
        // Two digits close: 4 and 9 nearly equal, far above the rest.
        let mut close = logits(4, 8.0);
        close[9] = 7.8;
        assert_eq!(trust.verdict(&close, &[]), Verdict::Unsure);
        // Flat scores: nothing stands out.
        assert_eq!(trust.verdict(&[0.0; CLASSES], &[]), Verdict::NotDigit);
    }

    #[test]
    fn class_distance_measures_from_the_nearest_centre() {
        let width = 2;
        let mut centres = vec![0.0; CLASSES * width];
        centres[2] = 10.0; // class 1 at (10, 0)
                           // Precision diag(1, 4): its Cholesky factor is diag(1, 2), stored as [1, 0, 2].
        let features = FeatureModel::new(width, centres, vec![1.0, 0.0, 2.0]);
        assert_eq!(features.nearest_distance(&[9.0, 0.0]), Some(1.0));
        assert_eq!(features.nearest_distance(&[0.0, 1.0]), Some(4.0));
        assert_eq!(features.nearest_distance(&[0.0]), None);
        // A full factor: L = [[2, 0], [1, 3]], P = L Lᵀ = [[4, 2], [2, 10]]; d = (1, 1) from
        // class 0 gives dᵀ P d = 4 + 2 + 2 + 10 = 18.
        let full = FeatureModel::new(width, vec![0.0; CLASSES * width], vec![2.0, 1.0, 3.0]);
        assert_eq!(full.nearest_distance(&[1.0, 1.0]), Some(18.0));
        let trust = Trust {
            not_digit: vec![(Method::Energy, -100.0), (Method::ClassDistance, -2.0)],
            features: Some(features),
            ..Trust::default()
        };
        let confident = logits(1, 20.0);
        assert_eq!(trust.verdict(&confident, &[9.0, 0.0]), Verdict::Digit);
        assert_eq!(trust.verdict(&confident, &[5.0, 0.0]), Verdict::NotDigit);
    }

    #[test]
    fn nearest_distance_is_the_smallest_pairwise_distance() {
        // Arbitrary but fixed numbers: a 7-wide model with a full factor (positive diagonal).
        let width = 7;
        let value = |k: usize, scale: f32| ((k * 7919 % 1009) as f32 / 1009.0 - 0.5) * scale;
        let centres: Vec<f32> = (0..CLASSES * width).map(|k| value(k, 40.0)).collect();
        let factor: Vec<f32> = (0..width)
            .flat_map(|i| (0..=i).map(move |j| (i, j)))
            .enumerate()
            .map(|(k, (i, j))| {
                if i == j {
                    1.5 + value(k, 1.0)
                } else {
                    value(k, 0.8)
                }
            })
            .collect();
        let model = FeatureModel::new(width, centres, factor);
        for sample in 0..50 {
            let x: Vec<f32> = (0..width).map(|k| value(sample * 31 + k, 60.0)).collect();
            let pairwise = model
                .centres()
                .chunks(width)
                .map(|c| model.distance(&x, c).expect("same width"))
                .fold(f32::INFINITY, f32::min);
            let nearest = model.nearest_distance(&x).expect("same width");
            assert!(
                (nearest - pairwise).abs() <= 1e-4 * pairwise.max(1.0),
                "sample {sample}: {nearest} vs {pairwise}"
            );
        }
        assert_eq!(model.nearest_distance(&[0.0; 6]), None);
    }

    #[test]
    fn metadata_round_trips_and_names_bad_keys() {
        let trust = Trust {
            temperature: 1.37,
            unsure_margin: 0.25,
            not_digit: vec![(Method::Energy, 2.75), (Method::ClassDistance, -123.5)],
            features: Some(FeatureModel::new(
                2,
                (0..20).map(|i| i as f32 * 0.1).collect(),
                vec![2.0, 0.5, 1.0],
            )),
        };
        let entries = trust.to_metadata();
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(Trust::from_metadata(get, 2).unwrap(), trust);
        assert_eq!(Trust::from_metadata(|_| None, 0).unwrap(), Trust::default());
        let err =
            Trust::from_metadata(|k| (k == TEMPERATURE_KEY).then_some("warm"), 0).unwrap_err();
        assert_eq!(err.key, TEMPERATURE_KEY);
        let err =
            Trust::from_metadata(|k| (k == NOT_DIGIT_KEY).then_some("vibes 3"), 0).unwrap_err();
        assert!(err.reason.contains("vibes"), "{err}");
        let err =
            Trust::from_metadata(|k| (k == NOT_DIGIT_KEY).then_some("energy"), 0).unwrap_err();
        assert!(err.reason.contains("pairs"), "{err}");
        let err = Trust::from_metadata(get, 3).unwrap_err();
        assert_eq!(err.key, CLASS_CENTRES_KEY, "{err}");
    }

    #[test]
    fn quick_decimals_read_what_the_general_parser_reads() {
        // Random f32s of every magnitude the rules hold, written as this module writes them.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut checked = 0;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let value = f32::from_bits((state >> 32) as u32);
            if !value.is_finite() || value.abs() < 1e-12 || value.abs() > 1e12 {
                continue;
            }
            for text in [format!("{value:e}"), value.to_string()] {
                if let Some(quick) = quick_decimal(&text) {
                    let general: f32 = text.parse().unwrap();
                    assert_eq!(quick.to_bits(), general.to_bits(), "{text}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
        for text in ["1.5e3", "-2.25e-4", "0.125", "7", "-0.0"] {
            assert_eq!(quick_decimal(text), text.parse().ok(), "{text}");
        }
        for text in [
            "",
            "-",
            "1e",
            "1.2.3",
            "abc",
            "1e-",
            "1.5x",
            "12345678901",
            "1e400",
        ] {
            assert_eq!(quick_decimal(text), None, "{text}");
        }
    }

    #[test]
    fn top_two_finds_the_runner_up() {
        let mut p = [0.0; CLASSES];
        p[0] = 0.2;
        p[5] = 0.7;
        p[9] = 0.1;
        assert_eq!(top_two(&p), (5, 0));
        assert_eq!(top_two(&[0.1; CLASSES]), (0, 1));
    }
}
