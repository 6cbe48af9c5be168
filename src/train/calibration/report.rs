//! What calibration measured, as `calibration.json` holds it and as the terminal shows it.

use super::*;

/// Calibration before and after, on one labelled set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Which set.
    pub set: String,
    /// Expected calibration error with the plain softmax (T = 1).
    pub ece_before: f64,
    /// Expected calibration error with the fitted temperature.
    pub ece_after: f64,
    /// Negative log-likelihood with the plain softmax.
    pub nll_before: f64,
    /// Negative log-likelihood with the fitted temperature.
    pub nll_after: f64,
    /// Reliability bins with the plain softmax.
    pub bins_before: Vec<CalibrationBin>,
    /// Reliability bins with the fitted temperature.
    pub bins_after: Vec<CalibrationBin>,
}

/// How one "not a digit" method did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodReport {
    /// The method's name.
    pub method: String,
    /// Its thresholds (one per method of the combination), fitted on the validation digits.
    pub thresholds: Vec<f32>,
    /// Validation digits given a digit verdict.
    pub validation_digits_kept: f64,
    /// MNIST test digits given a digit verdict.
    pub test_digits_kept: f64,
    /// MNIST test digits not rejected as "not a digit" (they may be "not sure").
    pub test_digits_not_rejected: f64,
    /// Per drawing set: the share rejected as not a digit (non-digit sets) or given a
    /// digit verdict (digit sets).
    pub drawings: Vec<DrawingsResult>,
    /// Real pen letters of the tuning writers given a verdict other than "digit" (whole
    /// drawings), when the fit had them: what the shipped combination is chosen by.
    #[serde(default)]
    pub real_letters_rejected: Option<f64>,
}

/// One method on one set of drawings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawingsResult {
    /// The set.
    pub set: String,
    /// Drawings in it.
    pub count: usize,
    /// For non-digit sets: the share with a "not a digit" verdict. For digit sets: the share
    /// read as the right digit with a digit verdict.
    pub share: f64,
    /// For non-digit sets, the share that got a digit verdict anyway (a confident wrong
    /// answer); for digit sets, the share read right with any verdict.
    pub other: f64,
    /// The share with a "not a digit" verdict (for non-digit sets, `share` again).
    #[serde(default)]
    pub not_digit: f64,
}

/// Everything `calibration.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrustReport {
    /// The fitted temperature.
    pub temperature: f32,
    /// The "not sure" margin.
    pub unsure_margin: f32,
    /// The share of validation digits the thresholds keep.
    pub keep_target: f64,
    /// The method the model file uses.
    pub chosen_method: String,
    /// Validation images the rules were fitted on.
    pub validation_images: usize,
    /// Calibration on the validation split.
    pub validation: CalibrationReport,
    /// Calibration on the test set.
    pub test: CalibrationReport,
    /// Every method, measured.
    pub methods: Vec<MethodReport>,
    /// The chosen rules on the test set: how many digits get each verdict, and the accuracy
    /// of the digit verdicts.
    pub test_verdicts: VerdictCounts,
    /// What float16 storage of the weights changed.
    #[serde(default)]
    pub weights: HalfWeights,
    /// Real pen digits (tuning writers) among the validation images, and real letters the
    /// rules were chosen by (0 when the fit had no pen data).
    #[serde(default)]
    pub real_writing: (usize, usize),
}

/// Answers by verdict.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerdictCounts {
    /// Digit verdicts.
    pub digit: usize,
    /// Of those, read right.
    pub digit_correct: usize,
    /// "Not sure" verdicts.
    pub unsure: usize,
    /// "Not a digit" verdicts.
    pub not_digit: usize,
}

pub(super) fn calibration_report(
    set: &str,
    labels: &[u8],
    predictions: &[Prediction],
    temperature: f32,
) -> CalibrationReport {
    let before: Vec<_> = predictions.iter().map(|p| softmax(&p.logits)).collect();
    let after: Vec<_> = predictions
        .iter()
        .map(|p| softmax(&p.logits.map(|v| v / temperature)))
        .collect();
    let bins_before = calibration_bins(labels, &before, CALIBRATION_BINS);
    let bins_after = calibration_bins(labels, &after, CALIBRATION_BINS);
    CalibrationReport {
        set: set.into(),
        ece_before: expected_calibration_error(&bins_before),
        ece_after: expected_calibration_error(&bins_after),
        nll_before: negative_log_likelihood(labels, &before),
        nll_after: negative_log_likelihood(labels, &after),
        bins_before,
        bins_after,
    }
}

impl TrustReport {
    /// The report as text for the terminal.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let w = &self.weights;
        let _ = writeln!(
            s,
            "weights in float16 ({} initializers converted): {} of {} test predictions changed, max |logit diff| {:.2e}",
            w.converted, w.changed_predictions, w.test_images, w.max_abs_logit_diff
        );
        let _ = writeln!(
            s,
            "temperature {:.4} (fitted on {} validation images)",
            self.temperature, self.validation_images
        );
        for c in [&self.validation, &self.test] {
            let _ = writeln!(
                s,
                "{:>10}: ECE {:.3}% -> {:.3}%   NLL {:.4} -> {:.4}",
                c.set,
                100.0 * c.ece_before,
                100.0 * c.ece_after,
                c.nll_before,
                c.nll_after
            );
        }
        let _ = writeln!(
            s,
            "\n\"not a digit\" methods (thresholds keep {:.1}% of validation digits as digits):",
            100.0 * self.keep_target
        );
        for m in &self.methods {
            let chosen = if m.method == self.chosen_method {
                " (shipped)"
            } else {
                ""
            };
            let thresholds: Vec<String> = m.thresholds.iter().map(|t| format!("{t:.3}")).collect();
            let _ = write!(
                s,
                "  {:<28} thresholds {:>18}   MNIST test kept {:.2}% (not rejected {:.2}%)",
                m.method,
                thresholds.join(" "),
                100.0 * m.test_digits_kept,
                100.0 * m.test_digits_not_rejected
            );
            for d in &m.drawings {
                let _ = write!(s, "   {}: {:.1}%", d.set, 100.0 * d.share);
                if d.set.starts_with("real digits") {
                    let _ = write!(s, " (not a digit {:.1}%)", 100.0 * d.not_digit);
                } else if d.set.starts_with("real letters") {
                    let _ = write!(s, " (a digit verdict {:.1}%)", 100.0 * d.other);
                }
            }
            if let Some(r) = m.real_letters_rejected {
                let _ = write!(
                    s,
                    "   real letters (tuning writers) refused: {:.1}%",
                    100.0 * r
                );
            }
            let _ = writeln!(s, "{chosen}");
        }
        let v = &self.test_verdicts;
        let _ = writeln!(
            s,
            "\nMNIST test with the shipped rules: {} digit ({} right, {:.2}%), {} not sure, {} not a digit",
            v.digit,
            v.digit_correct,
            100.0 * share(v.digit_correct, v.digit),
            v.unsure,
            v.not_digit
        );
        s
    }
}
