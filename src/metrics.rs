//! Classification metrics: accuracy, confusion matrix, per-class precision / recall / F1,
//! macro F1 and one-vs-rest ROC-AUC (the seed's metrics), and how well the probabilities are
//! calibrated (negative log-likelihood, expected calibration error, reliability bins),
//! computed from labels and predicted probabilities. Pure functions, shared by `eval`, the
//! trainer and the tests.

use crate::digit::CLASSES;
use crate::scores::argmax;
use serde::{Deserialize, Serialize};

/// Metrics of one class against the rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The class (digit).
    pub class: usize,
    /// How many examples truly belong to the class.
    pub support: usize,
    /// Of the examples predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the examples of this class, the fraction predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Area under the ROC curve of this class's probability against the rest.
    pub roc_auc: f64,
}

/// The full evaluation of a classifier on a labelled set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Number of examples.
    pub count: usize,
    /// Number classified correctly.
    pub correct: usize,
    /// `correct / count`.
    pub accuracy: f64,
    /// Unweighted mean of the F1 scores of the classes that occur among the labels or the
    /// predictions (what scikit-learn's `f1_score(average="macro")` averages over).
    pub macro_f1: f64,
    /// Unweighted mean of the one-vs-rest ROC-AUCs of the classes that have both positive
    /// and negative examples among the labels (the others have no defined AUC).
    pub macro_roc_auc: f64,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// One entry per class, in class order.
    pub per_class: Vec<ClassMetrics>,
    /// Mean negative log-likelihood of the true class (nats).
    #[serde(default)]
    pub nll: f64,
    /// Expected calibration error over [`CALIBRATION_BINS`] equal-width confidence bins.
    #[serde(default)]
    pub ece: f64,
}

/// Number of confidence bins of the expected calibration error (the usual 15).
pub const CALIBRATION_BINS: usize = 15;

/// One confidence bin of a reliability diagram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin (confidence), inclusive except for the first bin's 0.
    pub low: f64,
    /// Upper edge of the bin.
    pub high: f64,
    /// Examples whose top probability falls in the bin.
    pub count: usize,
    /// Their mean top probability.
    pub confidence: f64,
    /// The share of them classified right.
    pub accuracy: f64,
}

/// `count` as a share of `total` (0 when there is nothing to count): what every rate in the
/// reports is.
pub fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// Examples binned by their top probability into `bins` equal-width bins, `(low, high]`.
pub fn calibration_bins(
    labels: &[u8],
    probabilities: &[[f32; CLASSES]],
    bins: usize,
) -> Vec<CalibrationBin> {
    let bins = bins.max(1);
    let mut sums = vec![(0usize, 0f64, 0usize); bins];
    for (&label, p) in labels.iter().zip(probabilities) {
        let predicted = argmax(p);
        let confidence = f64::from(p[predicted]);
        let index = ((confidence * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        let (count, total, correct) = &mut sums[index];
        *count += 1;
        *total += confidence;
        *correct += usize::from(predicted == usize::from(label));
    }
    sums.iter()
        .enumerate()
        .map(|(i, &(count, total, correct))| CalibrationBin {
            low: i as f64 / bins as f64,
            high: (i + 1) as f64 / bins as f64,
            count,
            confidence: ratio(total, count as f64),
            accuracy: ratio(correct as f64, count as f64),
        })
        .collect()
}

/// Expected calibration error: the count-weighted mean gap between confidence and accuracy
/// over the bins.
pub fn expected_calibration_error(bins: &[CalibrationBin]) -> f64 {
    let total: usize = bins.iter().map(|b| b.count).sum();
    let gaps: f64 = bins
        .iter()
        .map(|b| b.count as f64 * (b.confidence - b.accuracy).abs())
        .sum();
    ratio(gaps, total as f64)
}

/// Mean negative log-likelihood of the true classes (probabilities floored at 1e-12).
pub fn negative_log_likelihood(labels: &[u8], probabilities: &[[f32; CLASSES]]) -> f64 {
    let total: f64 = labels
        .iter()
        .zip(probabilities)
        .map(|(&l, p)| -f64::from(p[usize::from(l)]).max(1e-12).ln())
        .sum();
    ratio(total, labels.len() as f64)
}

/// Evaluates predicted probabilities (one row per example) against true labels.
///
/// # Panics
/// If `labels` and `probabilities` differ in length or a label is not a class index: both
/// come from this program, never from user input.
pub fn evaluate(labels: &[u8], probabilities: &[[f32; CLASSES]]) -> EvalReport {
    assert_eq!(
        labels.len(),
        probabilities.len(),
        "one prediction per label"
    );
    let mut confusion = vec![vec![0usize; CLASSES]; CLASSES];
    for (&label, p) in labels.iter().zip(probabilities) {
        confusion[usize::from(label)][argmax(p)] += 1;
    }
    let count = labels.len();
    let correct = (0..CLASSES).map(|c| confusion[c][c]).sum();
    let per_class: Vec<ClassMetrics> = (0..CLASSES)
        .map(|class| {
            let true_positive = confusion[class][class] as f64;
            let predicted: usize = (0..CLASSES).map(|t| confusion[t][class]).sum();
            let support: usize = confusion[class].iter().sum();
            let precision = ratio(true_positive, predicted as f64);
            let recall = ratio(true_positive, support as f64);
            let f1 = ratio(2.0 * precision * recall, precision + recall);
            let scores: Vec<f32> = probabilities.iter().map(|p| p[class]).collect();
            let positives: Vec<bool> = labels.iter().map(|&l| usize::from(l) == class).collect();
            ClassMetrics {
                class,
                support,
                precision,
                recall,
                f1,
                roc_auc: roc_auc(&scores, &positives),
            }
        })
        .collect();
    let predicted = |class: usize| (0..CLASSES).any(|t| confusion[t][class] > 0);
    let mean = |values: Vec<f64>| ratio(values.iter().sum(), values.len() as f64);
    let macro_f1 = mean(
        per_class
            .iter()
            .filter(|m| m.support > 0 || predicted(m.class))
            .map(|m| m.f1)
            .collect(),
    );
    let macro_roc_auc = mean(
        per_class
            .iter()
            .filter(|m| m.support > 0 && m.support < count)
            .map(|m| m.roc_auc)
            .collect(),
    );
    EvalReport {
        count,
        correct,
        accuracy: ratio(correct as f64, count as f64),
        macro_f1,
        macro_roc_auc,
        confusion,
        per_class,
        nll: negative_log_likelihood(labels, probabilities),
        ece: expected_calibration_error(&calibration_bins(labels, probabilities, CALIBRATION_BINS)),
    }
}

/// `numerator / denominator`, or 0 when the denominator is 0 (sklearn's `zero_division=0`).
fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        0.0
    }
}

/// Area under the ROC curve by the rank-sum (Mann-Whitney U) formula, with tied scores given
/// their average rank. 0.5 (chance) when one of the two groups is empty.
pub fn roc_auc(scores: &[f32], positive: &[bool]) -> f64 {
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return 0.5;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0f64;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && scores[order[end + 1]] == scores[order[start]] {
            end += 1;
        }
        // Ranks are 1-based; the tie group start..=end shares their average.
        let average_rank = (start + end) as f64 / 2.0 + 1.0;
        let positives_in_group = order[start..=end].iter().filter(|&&i| positive[i]).count();
        rank_sum_pos += average_rank * positives_in_group as f64;
        start = end + 1;
    }
    let n_pos = n_pos as f64;
    (rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg as f64)
}

impl EvalReport {
    /// The report as a table for the terminal: summary, per-class metrics and the confusion
    /// matrix (rows: true digit, columns: predicted digit).
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "accuracy {:.4} ({}/{})   macro F1 {:.4}   macro ROC-AUC {:.6}   NLL {:.4}   ECE {:.4}",
            self.accuracy,
            self.correct,
            self.count,
            self.macro_f1,
            self.macro_roc_auc,
            self.nll,
            self.ece
        );
        let _ = writeln!(out, "\nclass  support  precision  recall  f1      roc-auc");
        for m in &self.per_class {
            let _ = writeln!(
                out,
                "{:>5}  {:>7}  {:>9.4}  {:>6.4}  {:.4}  {:.6}",
                m.class, m.support, m.precision, m.recall, m.f1, m.roc_auc
            );
        }
        let _ = write!(out, "\nconfusion (rows: true, columns: predicted)\n      ");
        for c in 0..CLASSES {
            let _ = write!(out, "{c:>6}");
        }
        out.push('\n');
        for (t, row) in self.confusion.iter().enumerate() {
            let _ = write!(out, "{t:>6}");
            for n in row {
                let _ = write!(out, "{n:>6}");
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot_ish(class: usize, confidence: f32) -> [f32; CLASSES] {
        let mut p = [(1.0 - confidence) / 9.0; CLASSES];
        p[class] = confidence;
        p
    }

    #[test]
    fn roc_auc_matches_hand_worked_examples() {
        // Perfect separation.
        assert_eq!(
            roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]),
            1.0
        );
        // Perfectly wrong.
        assert_eq!(
            roc_auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]),
            0.0
        );
        // sklearn: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) == 0.75
        assert!(
            (roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]) - 0.75).abs() < 1e-12
        );
        // All tied: chance.
        assert_eq!(roc_auc(&[0.5; 4], &[false, true, false, true]), 0.5);
    }

    #[test]
    fn precision_recall_f1_match_a_hand_worked_example() {
        // True: 0 0 0 1 1 2; predicted: 0 0 1 1 1 0.
        let labels = [0u8, 0, 0, 1, 1, 2];
        let predicted = [0, 0, 1, 1, 1, 0];
        let probs: Vec<_> = predicted.iter().map(|&c| one_hot_ish(c, 0.9)).collect();
        let r = evaluate(&labels, &probs);
        assert_eq!(r.correct, 4);
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(r.confusion[0][..3], [2, 1, 0]);
        assert_eq!(r.confusion[2][..3], [1, 0, 0]);
        // Class 0: precision 2/3, recall 2/3, F1 2/3.
        let c0 = &r.per_class[0];
        assert!((c0.precision - 2.0 / 3.0).abs() < 1e-12 && (c0.recall - 2.0 / 3.0).abs() < 1e-12);
        // Class 1: precision 2/3, recall 1, F1 0.8.
        let c1 = &r.per_class[1];
        assert!((c1.f1 - 0.8).abs() < 1e-12, "{}", c1.f1);
        // Class 2: never predicted: precision 0 (zero division), recall 0, F1 0.
        assert_eq!((r.per_class[2].precision, r.per_class[2].f1), (0.0, 0.0));
        // Classes 3-9 occur neither as labels nor as predictions: sklearn leaves them out of
        // the macro average, f1_score([0,0,0,1,1,2], [0,0,1,1,1,0], average="macro")
        // == (2/3 + 0.8 + 0) / 3 == 0.48888...
        let expected_macro = (2.0 / 3.0 + 0.8 + 0.0) / 3.0;
        assert!(
            (r.macro_f1 - expected_macro).abs() < 1e-12,
            "{}",
            r.macro_f1
        );
        // Macro ROC-AUC over the three classes that have labels: each is separated perfectly
        // or not by these near-one-hot scores; a class without labels would add a 0.5.
        let aucs: Vec<f64> = (0..3).map(|c| r.per_class[c].roc_auc).collect();
        assert!((r.macro_roc_auc - aucs.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        assert!(r.to_table().contains("accuracy 0.6667 (4/6)"));
        // Every top probability is 0.9, four of six are right: ECE |0.9 - 4/6|, and NLL the
        // mean of -ln 0.9 (right) and -ln(0.1/9) (wrong).
        assert!((r.ece - (0.9 - 4.0 / 6.0)).abs() < 1e-6, "{}", r.ece);
        let nll = (4.0 * -(0.9f64.ln()) + 2.0 * -((0.1f64 / 9.0).ln())) / 6.0;
        assert!((r.nll - nll).abs() < 1e-5, "{} vs {nll}", r.nll);
    }

    #[test]
    fn calibration_bins_split_by_confidence() {
        let labels = [0u8, 0, 1, 1];
        let probs = [
            one_hot_ish(0, 0.95),
            one_hot_ish(0, 0.35),
            one_hot_ish(0, 0.96),
            one_hot_ish(1, 1.0),
        ];
        let bins = calibration_bins(&labels, &probs, 10);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins[3].count, 1); // 0.35 in (0.3, 0.4]
        assert_eq!(bins[9].count, 3); // 0.95, 0.96, 1.0 in (0.9, 1.0]
        assert!((bins[9].accuracy - 2.0 / 3.0).abs() < 1e-12);
        assert!((bins[9].confidence - (0.95 + 0.96 + 1.0) / 3.0).abs() < 1e-6);
        let ece = expected_calibration_error(&bins);
        let expected = (1.0 * (0.35 - 1.0f64).abs() + 3.0 * ((0.97f64) - 2.0 / 3.0).abs()) / 4.0;
        assert!((ece - expected).abs() < 1e-6, "{ece} vs {expected}");
    }
}
