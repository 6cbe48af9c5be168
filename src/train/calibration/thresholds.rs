//! Choosing the "not a digit" thresholds: every method's score computed once per prediction
//! ([`Scored`]), the combinations of methods measured ([`candidates`]), and each
//! combination's thresholds as strict as the digits to keep allow ([`fit_thresholds`]).

use super::*;

/// Thresholds for `methods` (one each, all at the same quantile of their validation scores)
/// as strict as they can be while `keep` of `predictions` still get a digit verdict
/// ("not sure" counts against it). The quantile is searched in steps of 0.01%.
pub(super) fn fit_thresholds(
    trust: &Trust,
    methods: &[Method],
    predictions: &Scored,
    (labels, keep): (&[u8], f64),
    real: std::ops::Range<usize>,
) -> Vec<(Method, f32)> {
    let scores: Vec<Vec<f32>> = methods
        .iter()
        .map(|&m| {
            (0..predictions.len())
                .map(|i| predictions.score(i, m).unwrap_or(f32::NEG_INFINITY))
                .collect()
        })
        .collect();
    let predictions = predictions.predictions;
    let sorted: Vec<Vec<f32>> = scores
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.sort_by(f32::total_cmp);
            s
        })
        .collect();
    let unsure: Vec<bool> = predictions
        .iter()
        .map(|p| trust.is_unsure(&p.logits))
        .collect();
    let n = predictions.len();
    let thresholds_at = |q: f64| -> Vec<f32> {
        let index = ((q * n as f64).floor() as usize).min(n.saturating_sub(1));
        sorted.iter().map(|s| s[index]).collect()
    };
    let kept = |thresholds: &[f32]| -> f64 {
        let digits = (0..n)
            .filter(|&i| !unsure[i] && scores.iter().zip(thresholds).all(|(s, &t)| s[i] >= t))
            .count();
        share(digits, n)
    };
    let read_right: Vec<usize> = real
        .filter(|&i| predictions[i].digit() == usize::from(labels[i]))
        .collect();
    let real_kept = |thresholds: &[f32]| -> f64 {
        let passed = read_right
            .iter()
            .filter(|&&i| !unsure[i] && scores.iter().zip(thresholds).all(|(s, &t)| s[i] >= t))
            .count();
        if read_right.is_empty() {
            1.0
        } else {
            share(passed, read_right.len())
        }
    };
    let mut best = thresholds_at(0.0);
    for step in 1..=1000 {
        let candidate = thresholds_at(f64::from(step) * 1e-4);
        if kept(&candidate) < keep || real_kept(&candidate) < REAL_KEEP_TARGET {
            break;
        }
        best = candidate;
    }
    methods.iter().copied().zip(best).collect()
}

/// Predictions with every method's score, computed once: the trainer tries several rule
/// sets on the same scores (a class distance in a wide feature space is the costly one).
pub(super) struct Scored<'a> {
    predictions: &'a [Prediction],
    /// Per prediction, the score of each method of [`Method::ALL`], in that order.
    scores: Vec<[Option<f32>; Method::ALL.len()]>,
}

impl<'a> Scored<'a> {
    pub(super) fn new(trust: &Trust, predictions: &'a [Prediction]) -> Scored<'a> {
        let scores = predictions
            .iter()
            .map(|p| Method::ALL.map(|m| trust.score(m, &p.logits, &p.features)))
            .collect();
        Scored {
            predictions,
            scores,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.predictions.len()
    }

    pub(super) fn score(&self, index: usize, method: Method) -> Option<f32> {
        let slot = Method::ALL.iter().position(|&m| m == method)?;
        self.scores[index][slot]
    }

    /// The verdict of `rules` (which must share the scoring trust's temperature and feature
    /// model) on every prediction.
    pub(super) fn verdicts(&self, rules: &Trust) -> Vec<Verdict> {
        self.predictions
            .iter()
            .enumerate()
            .map(|(i, p)| rules.verdict_with(&p.logits, |m| self.score(i, m)))
            .collect()
    }
}

/// The method combinations the trainer measures: each score alone, and each of the first
/// two with the class distance (the pair [`CHOSEN_METHODS`] among them).
pub(super) fn candidates(has_features: bool) -> Vec<Vec<Method>> {
    let mut all: Vec<Vec<Method>> = Method::ALL
        .into_iter()
        .filter(|&m| has_features || m != Method::ClassDistance)
        .map(|m| vec![m])
        .collect();
    if has_features {
        all.push(vec![Method::MaxProbability, Method::ClassDistance]);
        all.push(CHOSEN_METHODS.to_vec());
    }
    all
}

/// A combination's name in reports: its methods joined by `+`.
pub(super) fn combination_name(methods: &[Method]) -> String {
    methods
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join("+")
}
