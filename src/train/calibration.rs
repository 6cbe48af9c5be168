//! Fitting a model's trust rules ([`crate::trust`]) after training, on the validation split
//! only, and measuring them:
//!
//! - the temperature that minimizes the validation negative log-likelihood (one number, found
//!   by golden-section search on `ln T`);
//! - the class centres and shared covariance of the penultimate features (for the
//!   class-distance score);
//! - for each "not a digit" method, the threshold that still gives a digit verdict to
//!   [`KEEP_TARGET`] of the validation digits (after "not sure" is counted against it too);
//! - a report of every method on the MNIST test set (digits kept), on drawings that are not
//!   digits (rejected), and on digit drawings made with the pad (kept).
//!
//! The test set and the non-digit drawings are only measured, never fitted to. When the
//! model was taught writing styles ([`super::styles`]), the validation digits of those
//! styles' digits are fitted on twice: as they are and restyled, so that a slashed zero
//! is a digit to the rules as it is to the model.

use std::path::Path;

use anyhow::{bail, Context, Result};
use prost::Message;
use serde::{Deserialize, Serialize};
use tract_onnx::pb::{ModelProto, StringStringEntryProto};

use crate::classifier::{Classifier, Prediction};
use crate::digit::{DigitImage, CLASSES, PIXELS};
use crate::files::{read_drawing, stroke_files};
use crate::idx::LabeledImages;
use crate::metrics::{
    calibration_bins, expected_calibration_error, negative_log_likelihood, share, CalibrationBin,
    CALIBRATION_BINS,
};
use crate::onnx::writer::{store_weights_as_f16, upgrade_outputs, OUTPUTS_DOC};
use crate::scores::softmax;
use crate::trust::{FeatureModel, Method, Trust, Verdict, DEFAULT_UNSURE_MARGIN};

/// The share of validation digits that must keep a digit verdict (not "not a digit", not
/// "not sure"). Set a little above the 98% promised on the test set, so that the test set's
/// own variation does not fall below it.
pub const KEEP_TARGET: f64 = 0.985;

/// The share of real pen digits (of the tuning writers, never trained on) that the model
/// reads right which must keep a digit verdict (not "not a digit", not "not sure"): a
/// person sees every such rejection as the pad failing them, so real digits bind the
/// thresholds far more than MNIST's hardest validation digits. (A misread real digit may be rejected: it was wrong
/// anyway.)
pub const REAL_KEEP_TARGET: f64 = 0.999;

/// The "not a digit" test the shipped rules use: both the energy and the class distance must
/// pass. Chosen by measurement (see the model card): on a validation set of non-digit
/// drawings (made by `tests/fixtures/nondigits/make_nondigits.py --seed 2`, never committed)
/// the pair rejected the most at the same share of validation digits kept; a logistic "other"
/// head trained on generated non-digits rejected more of them but would learn this generator's
/// families rather than what people draw, and was left out.
pub const CHOSEN_METHODS: [Method; 2] = [Method::Energy, Method::ClassDistance];

/// Real pen writing of writers never trained on, to fit the rules on: digits (labelled) and
/// letters (drawings no reader takes for a digit). When given, the "not a digit" test is the
/// combination of methods that rejects the most letters while keeping [`REAL_KEEP_TARGET`]
/// of the digits the model reads right (and [`KEEP_TARGET`] of the MNIST validation digits).
pub struct RealWriting<'a> {
    /// Real digits.
    pub digits: &'a LabeledImages,
    /// Real letters (labels ignored).
    pub letters: &'a LabeledImages,
}

/// Where the drawings the trainer reports on live in this repository (relative to its root):
/// drawings that are not digits (the committed rejection test set), and digit drawings (the
/// pad's fixtures, and digits made by the same generator as the non-digits).
pub const NON_DIGIT_DRAWINGS: &str = "tests/fixtures/nondigits";
/// See [`NON_DIGIT_DRAWINGS`].
pub const DIGIT_DRAWINGS: [&str; 2] = ["tests/fixtures/strokes", "tests/fixtures/digit-drawings"];

/// Drawings to measure rejection on, already rendered: names and images.
pub struct Drawings {
    /// What the set is, for the report.
    pub name: String,
    /// One image per drawing.
    pub images: Vec<DigitImage>,
    /// The digit each drawing shows, when the drawings are digits.
    pub labels: Option<Vec<u8>>,
}

/// Reads every `.strokes` file in `dir` (sorted by name) as one drawing. With `labelled`, each
/// file's name must end in the digit it shows (`digit-7.strokes`, `corner-4.strokes`).
pub fn load_drawings(dir: &Path, labelled: bool) -> Result<Drawings> {
    let paths = stroke_files(dir, "drawings")?;
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for path in &paths {
        let image = read_drawing(path)?;
        if labelled {
            let digit = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.chars().last())
                .and_then(|c| c.to_digit(10))
                .with_context(|| {
                    format!(
                        "{}: the name of a digit drawing must end in its digit",
                        path.display()
                    )
                })?;
            labels.push(digit as u8);
        }
        images.push(image);
    }
    if images.is_empty() {
        bail!("{}: no .strokes files", dir.display());
    }
    Ok(Drawings {
        name: if labelled {
            format!("digit drawings ({})", dir.display())
        } else {
            format!("non-digits ({})", dir.display())
        },
        images,
        labels: labelled.then_some(labels),
    })
}

/// The drawings the trainer reports on, from the repository's fixtures when it runs from the
/// repository's root; none otherwise (the report then covers MNIST only).
pub fn repository_drawings() -> Result<Vec<Drawings>> {
    let mut sets = Vec::new();
    let digits = DIGIT_DRAWINGS.iter().map(|&d| (d, true));
    for (dir, labelled) in std::iter::once((NON_DIGIT_DRAWINGS, false)).chain(digits) {
        if Path::new(dir).is_dir() {
            sets.push(load_drawings(Path::new(dir), labelled)?);
        }
    }
    Ok(sets)
}

/// The model file as it ships: this exporter's outputs ([`upgrade_outputs`]), weights in
/// float16 when `half` ([`store_weights_as_f16`]), and `trust`'s rules in its metadata
/// (replacing any earlier rules). Also returns how many initializers became float16.
pub fn finish_file(bytes: &[u8], trust: Option<&Trust>, half: bool) -> Result<(Vec<u8>, usize)> {
    let mut model = ModelProto::decode(bytes).context("not an ONNX model")?;
    upgrade_outputs(&mut model)?;
    let converted = if half {
        store_weights_as_f16(&mut model)
    } else {
        0
    };
    for entry in &mut model.metadata_props {
        if entry.key == "outputs" {
            entry.value = OUTPUTS_DOC.into();
        }
    }
    let keys = [
        crate::trust::TEMPERATURE_KEY,
        crate::trust::UNSURE_MARGIN_KEY,
        crate::trust::NOT_DIGIT_KEY,
        crate::trust::CLASS_CENTRES_KEY,
        crate::trust::FEATURE_PRECISION_KEY,
    ];
    model
        .metadata_props
        .retain(|p| !keys.contains(&p.key.as_str()));
    for (key, value) in trust.map(Trust::to_metadata).unwrap_or_default() {
        model
            .metadata_props
            .push(StringStringEntryProto { key, value });
    }
    Ok((model.encode_to_vec(), converted))
}

/// What storing the weights in float16 changed, on the test set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HalfWeights {
    /// Initializers converted by this run (0: the file given already had float16 weights,
    /// and the comparison below is of the file with itself).
    pub converted: usize,
    /// Test images compared.
    pub test_images: usize,
    /// Test images whose predicted digit changed.
    pub changed_predictions: usize,
    /// Largest change of any logit.
    pub max_abs_logit_diff: f32,
}

/// `validation` plus restyled copies of its images in the writing styles the model reads:
/// each style it was taught (read from the training configuration in the file's metadata),
/// and ones with a long flag (half with a base), which the model reads as 1 untaught but
/// whose flag sets them far from MNIST's ones in the features, so that the "not a digit"
/// rule rejected most of them on the page (validation style set: 54 of 128 flagged ones
/// kept, 128 with them here). A copy goes in only where the model reads it as its digit: a
/// copy it misreads would only teach the rule to keep wrong answers (with crossed sevens
/// and flagged ones unfiltered, the thresholds fell so far that only 22% of the non-digits
/// were still rejected). No copies for models trained without styles. Returned with the
/// classifier's answers for every image kept, which the fit reads.
fn with_styles_read(
    validation: &LabeledImages,
    classifier: &Classifier,
) -> Result<(LabeledImages, Vec<Prediction>)> {
    let images = |set: &LabeledImages| (0..set.len()).map(|i| set.digit(i)).collect::<Vec<_>>();
    let mut answers = classifier
        .classify_batch(&images(validation))
        .context("reading the validation images")?;
    let rates = classifier
        .metadata_value("training_config")
        .and_then(|json| serde_json::from_str::<super::config::TrainConfig>(json).ok())
        .and_then(|config| config.augmentation)
        .map(|a| a.styles)
        .filter(|styles| styles.any());
    let Some(rates) = rates else {
        return Ok((validation.clone(), answers));
    };
    let rates = super::styles::StyleRates {
        flagged_one: 1.0,
        ..rates
    };
    let copies = rates.restyled_copies(validation, 0x5EED);
    let copy_answers = classifier
        .classify_batch(&images(&copies))
        .context("reading the restyled validation copies")?;
    let mut all = validation.clone();
    let copied = copies.pixels.chunks_exact(PIXELS).zip(&copies.labels);
    for ((pixels, &label), answer) in copied.zip(copy_answers) {
        if answer.digit() == usize::from(label) {
            all.pixels.extend_from_slice(pixels);
            all.labels.push(label);
            answers.push(answer);
        }
    }
    Ok((all, answers))
}

/// Fits the trust rules of the model in `bytes` and returns the file with them (and with a
/// `features` output), checked: the new file loads, reads its rules back as fitted and gives
/// the same logits as the old one on the test set.
pub fn calibrate_model(
    bytes: &[u8],
    validation: &LabeledImages,
    real: Option<RealWriting>,
    test: &LabeledImages,
    drawings: &[Drawings],
) -> Result<(Vec<u8>, TrustReport)> {
    let (single, _) = finish_file(bytes, None, false)?;
    let (bare, converted) = finish_file(bytes, None, true)?;
    let classifier = Classifier::from_onnx(&bare, 100)?;
    let images: Vec<_> = (0..test.len()).map(|i| test.digit(i)).collect();
    let before = Classifier::from_onnx(&single, 100)?.classify_batch(&images)?;
    let after = classifier.classify_batch(&images)?;
    let weights = HalfWeights {
        converted,
        test_images: images.len(),
        changed_predictions: before
            .iter()
            .zip(&after)
            .filter(|(a, b)| a.digit() != b.digit())
            .count(),
        max_abs_logit_diff: before
            .iter()
            .zip(&after)
            .flat_map(|(a, b)| a.logits.iter().zip(&b.logits).map(|(x, y)| (x - y).abs()))
            .fold(0.0, f32::max),
    };
    let (mut validation, mut validation_predictions) = with_styles_read(validation, &classifier)?;
    // Real pen digits join the fit: the temperature, the class centres and the thresholds.
    let real_start = validation.len();
    let images = |set: &LabeledImages| (0..set.len()).map(|i| set.digit(i)).collect::<Vec<_>>();
    let mut letters = Vec::new();
    if let Some(real) = &real {
        validation_predictions.extend(
            classifier
                .classify_batch(&images(real.digits))
                .context("reading the real pen digits")?,
        );
        validation.pixels.extend_from_slice(&real.digits.pixels);
        validation.labels.extend_from_slice(&real.digits.labels);
        letters = classifier
            .classify_batch(&images(real.letters))
            .context("reading the real pen letters")?;
    }
    let (trust, mut report) = fit_trust(
        &classifier,
        (&validation, &validation_predictions),
        (real_start..validation.len(), &letters),
        (test, &after),
        drawings,
    )?;
    report.weights = weights;
    let (calibrated, _) = finish_file(bytes, Some(&trust), true)?;
    let check = Classifier::from_onnx(&calibrated, 100)?;
    if check.trust() != &trust {
        bail!("the calibrated file does not read back its own rules");
    }
    let sample: Vec<_> = (0..test.len().min(500)).map(|i| test.digit(i)).collect();
    let (old, new) = (
        classifier.classify_batch(&sample)?,
        check.classify_batch(&sample)?,
    );
    if old.iter().zip(&new).any(|(a, b)| a.logits != b.logits) {
        bail!("calibration changed the model's logits");
    }
    Ok((calibrated, report))
}

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

/// The temperature minimizing the negative log-likelihood of `labels` under
/// `softmax(logits / T)`, searched over `T` in 0.05..20 (golden section on `ln T`; the NLL is
/// convex in `1 / T`).
pub fn fit_temperature(logits: &[[f32; CLASSES]], labels: &[u8]) -> f32 {
    let nll = |log_t: f64| {
        let t = log_t.exp() as f32;
        let probabilities: Vec<_> = logits.iter().map(|l| softmax(&l.map(|v| v / t))).collect();
        negative_log_likelihood(labels, &probabilities)
    };
    let (mut low, mut high) = (0.05f64.ln(), 20f64.ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = high - ratio * (high - low);
    let mut b = low + ratio * (high - low);
    let (mut fa, mut fb) = (nll(a), nll(b));
    for _ in 0..60 {
        if fa < fb {
            high = b;
            b = a;
            fb = fa;
            a = high - ratio * (high - low);
            fa = nll(a);
        } else {
            low = a;
            a = b;
            fa = fb;
            b = low + ratio * (high - low);
            fb = nll(b);
        }
    }
    ((low + high) / 2.0).exp() as f32
}

/// Class centres and the pooled within-class covariance of `features` (rows of width F),
/// inverted with a small ridge.
pub fn fit_feature_model(features: &[Vec<f32>], labels: &[u8]) -> Result<FeatureModel> {
    let width = features.first().map_or(0, Vec::len);
    if width == 0 {
        bail!("the model has no `features` output: re-export it with this version");
    }
    let mut sums = vec![vec![0f64; width]; CLASSES];
    let mut counts = [0usize; CLASSES];
    for (f, &l) in features.iter().zip(labels) {
        counts[usize::from(l)] += 1;
        for (s, &v) in sums[usize::from(l)].iter_mut().zip(f) {
            *s += f64::from(v);
        }
    }
    if let Some(class) = counts.iter().position(|&c| c == 0) {
        bail!("no validation example of class {class}: cannot fit its centre");
    }
    let centres: Vec<Vec<f64>> = sums
        .iter()
        .zip(counts)
        .map(|(s, c)| s.iter().map(|v| v / c as f64).collect())
        .collect();
    // The lower triangle, row by row (each row a slice, so that the loop vectorizes), then
    // mirrored: the covariance is symmetric.
    let mut covariance = vec![0f64; width * width];
    for (f, &l) in features.iter().zip(labels) {
        let centre = &centres[usize::from(l)];
        let d: Vec<f64> = f
            .iter()
            .zip(centre)
            .map(|(&v, c)| f64::from(v) - c)
            .collect();
        for (i, row) in covariance.chunks_exact_mut(width).enumerate() {
            let di = d[i];
            for (c, &dj) in row[..=i].iter_mut().zip(&d) {
                *c += di * dj;
            }
        }
    }
    for i in 0..width {
        for j in 0..i {
            covariance[j * width + i] = covariance[i * width + j];
        }
    }
    let n = features.len() as f64;
    covariance.iter_mut().for_each(|c| *c /= n);
    let trace: f64 = (0..width).map(|i| covariance[i * width + i]).sum();
    let ridge = 1e-4 * trace / width as f64;
    (0..width).for_each(|i| covariance[i * width + i] += ridge);
    let precision = invert(&covariance, width)?;
    let factor = cholesky(&precision, width)?;
    Ok(FeatureModel::new(
        width,
        centres.iter().flatten().map(|&v| stored(v)).collect(),
        (0..width)
            .flat_map(|i| (0..=i).map(move |j| (i, j)))
            .map(|(i, j)| stored(factor[i * width + j]))
            .collect(),
    ))
}

/// `value` rounded to the 4 significant digits the model file stores (thresholds are fitted
/// with the stored values, so the page computes exactly what was measured).
fn stored(value: f64) -> f32 {
    format!("{:.3e}", value as f32)
        .parse()
        .unwrap_or(value as f32)
}

/// The lower-triangular `L` with `L Lᵀ = matrix` (symmetric positive-definite, `n x n`).
fn cholesky(matrix: &[f64], n: usize) -> Result<Vec<f64>> {
    let mut l = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = matrix[i * n + i] - sum;
                if d <= 0.0 {
                    bail!("the feature precision matrix is not positive-definite");
                }
                l[i * n + j] = d.sqrt();
            } else {
                l[i * n + j] = (matrix[i * n + j] - sum) / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// The inverse of a symmetric positive-definite `n x n` matrix (Gauss-Jordan with partial
/// pivoting).
fn invert(matrix: &[f64], n: usize) -> Result<Vec<f64>> {
    let mut a = matrix.to_vec();
    let mut inverse: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))
            .unwrap_or(col);
        if a[pivot * n + col].abs() < 1e-12 {
            bail!("the feature covariance is singular");
        }
        for k in 0..n {
            a.swap(col * n + k, pivot * n + k);
            inverse.swap(col * n + k, pivot * n + k);
        }
        let p = a[col * n + col];
        for k in 0..n {
            a[col * n + k] /= p;
            inverse[col * n + k] /= p;
        }
        let pivot_a = a[col * n..(col + 1) * n].to_vec();
        let pivot_inverse = inverse[col * n..(col + 1) * n].to_vec();
        for row in (0..n).filter(|&row| row != col) {
            let factor = a[row * n + col];
            if factor != 0.0 {
                let rows = a[row * n..(row + 1) * n].iter_mut().zip(&pivot_a);
                rows.for_each(|(x, p)| *x -= factor * p);
                let rows = inverse[row * n..(row + 1) * n]
                    .iter_mut()
                    .zip(&pivot_inverse);
                rows.for_each(|(x, p)| *x -= factor * p);
            }
        }
    }
    Ok(inverse)
}

/// Thresholds for `methods` (one each, all at the same quantile of their validation scores)
/// as strict as they can be while `keep` of `predictions` still get a digit verdict
/// ("not sure" counts against it). The quantile is searched in steps of 0.01%.
fn fit_thresholds(
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
struct Scored<'a> {
    predictions: &'a [Prediction],
    /// Per prediction, the score of each method of [`Method::ALL`], in that order.
    scores: Vec<[Option<f32>; Method::ALL.len()]>,
}

impl<'a> Scored<'a> {
    fn new(trust: &Trust, predictions: &'a [Prediction]) -> Scored<'a> {
        let scores = predictions
            .iter()
            .map(|p| Method::ALL.map(|m| trust.score(m, &p.logits, &p.features)))
            .collect();
        Scored {
            predictions,
            scores,
        }
    }

    fn len(&self) -> usize {
        self.predictions.len()
    }

    fn score(&self, index: usize, method: Method) -> Option<f32> {
        let slot = Method::ALL.iter().position(|&m| m == method)?;
        self.scores[index][slot]
    }

    /// The verdict of `rules` (which must share the scoring trust's temperature and feature
    /// model) on every prediction.
    fn verdicts(&self, rules: &Trust) -> Vec<Verdict> {
        self.predictions
            .iter()
            .enumerate()
            .map(|(i, p)| rules.verdict_with(&p.logits, |m| self.score(i, m)))
            .collect()
    }
}

/// The method combinations the trainer measures: each score alone, and each of the first
/// two with the class distance (the pair [`CHOSEN_METHODS`] among them).
fn candidates(has_features: bool) -> Vec<Vec<Method>> {
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
fn combination_name(methods: &[Method]) -> String {
    methods
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join("+")
}

fn calibration_report(
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

/// Fits the trust rules of the model in `classifier` (which must have a `features` output) on
/// `validation` (with `validation_predictions`, the classifier's answers for it), and
/// measures every method on `test` (likewise with its answers, which the caller has already)
/// and on `drawings`. Returns the rules to store (with [`CHOSEN_METHODS`]) and the report.
pub fn fit_trust(
    classifier: &Classifier,
    (validation, validation_predictions): (&LabeledImages, &[Prediction]),
    (real, letters): (std::ops::Range<usize>, &[Prediction]),
    (test, test_predictions): (&LabeledImages, &[Prediction]),
    drawings: &[Drawings],
) -> Result<(Trust, TrustReport)> {
    let drawing_predictions = drawings
        .iter()
        .map(|d| classifier.classify_batch(&d.images))
        .collect::<Result<Vec<_>, _>>()?;

    let logits: Vec<_> = validation_predictions.iter().map(|p| p.logits).collect();
    let temperature = fit_temperature(&logits, &validation.labels);
    let features: Vec<_> = validation_predictions
        .iter()
        .map(|p| p.features.clone())
        .collect();
    let feature_model = match fit_feature_model(&features, &validation.labels) {
        Ok(model) => Some(model),
        Err(e) => {
            eprintln!("warning: no class-distance test: {e:#}");
            None
        }
    };
    // The "not sure" margin stays the one chosen by hand: smaller margins, tried on the
    // model of 2026-12-06, showed more real digits right but let more real letters and
    // generated non-digits through (docs/decisions/not-a-digit-rule.md).
    let base = Trust {
        temperature,
        unsure_margin: DEFAULT_UNSURE_MARGIN,
        not_digit: Vec::new(),
        features: feature_model,
    };
    Ok(fit_rules(
        base,
        (validation, validation_predictions),
        (real, letters),
        (test, test_predictions),
        (drawings, &drawing_predictions),
    ))
}

/// The best method combination so far while fitting: the share of real letters it refuses,
/// its rules, and its verdicts on the test set.
type Chosen = (f64, Vec<(Method, f32)>, Vec<Verdict>);

/// [`fit_trust`] with the temperature, feature model and unsure margin in `trust`: every
/// method combination's thresholds, and the chosen rules with the report.
fn fit_rules(
    mut trust: Trust,
    (validation, validation_predictions): (&LabeledImages, &[Prediction]),
    (real, letters): (std::ops::Range<usize>, &[Prediction]),
    (test, test_predictions): (&LabeledImages, &[Prediction]),
    (drawings, drawing_predictions): (&[Drawings], &[Vec<Prediction>]),
) -> (Trust, TrustReport) {
    let temperature = trust.temperature;
    let scored_validation = Scored::new(&trust, validation_predictions);
    let scored_test = Scored::new(&trust, test_predictions);
    let scored_drawings: Vec<Scored> = drawing_predictions
        .iter()
        .map(|p| Scored::new(&trust, p))
        .collect();
    let scored_letters = Scored::new(&trust, letters);
    let mut reports = Vec::new();
    let mut chosen: Option<Chosen> = None;
    for methods in candidates(trust.features.is_some()) {
        let rules = Trust {
            not_digit: fit_thresholds(
                &trust,
                &methods,
                &scored_validation,
                (&validation.labels, KEEP_TARGET),
                real.clone(),
            ),
            ..trust.clone()
        };
        let digit_share =
            |v: &[Verdict]| share(v.iter().filter(|&&v| v == Verdict::Digit).count(), v.len());
        let test_verdicts = scored_test.verdicts(&rules);
        let results = drawings
            .iter()
            .zip(drawing_predictions)
            .zip(&scored_drawings)
            .map(|((set, predictions), scored)| {
                let v = scored.verdicts(&rules);
                let (share_of, other) = match &set.labels {
                    None => (
                        share(
                            v.iter().filter(|&&v| v == Verdict::NotDigit).count(),
                            v.len(),
                        ),
                        digit_share(&v),
                    ),
                    Some(labels) => {
                        let right: Vec<bool> = predictions
                            .iter()
                            .zip(labels)
                            .map(|(p, &l)| p.digit() == usize::from(l))
                            .collect();
                        (
                            share(
                                v.iter()
                                    .zip(&right)
                                    .filter(|(&v, &r)| v == Verdict::Digit && r)
                                    .count(),
                                v.len(),
                            ),
                            share(right.iter().filter(|&&r| r).count(), v.len()),
                        )
                    }
                };
                DrawingsResult {
                    set: set.name.clone(),
                    count: v.len(),
                    share: share_of,
                    other,
                    not_digit: share(
                        v.iter().filter(|&&v| v == Verdict::NotDigit).count(),
                        v.len(),
                    ),
                }
            })
            .collect();
        let letters_rejected = (!letters.is_empty()).then(|| {
            let v = scored_letters.verdicts(&rules);
            share(v.iter().filter(|&&v| v != Verdict::Digit).count(), v.len())
        });
        let better = match (&chosen, letters_rejected) {
            // With real letters, the combination that rejects the most of them.
            (None, Some(_)) => true,
            (Some((best, _, _)), Some(rejected)) => rejected > *best,
            // Without, the pair chosen on generated non-digits.
            (_, None) => methods == CHOSEN_METHODS,
        };
        if better {
            chosen = Some((
                letters_rejected.unwrap_or(0.0),
                rules.not_digit.clone(),
                test_verdicts.clone(),
            ));
        }
        reports.push(MethodReport {
            method: combination_name(&methods),
            thresholds: rules.not_digit.iter().map(|r| r.1).collect(),
            validation_digits_kept: digit_share(&scored_validation.verdicts(&rules)),
            test_digits_kept: digit_share(&test_verdicts),
            test_digits_not_rejected: share(
                test_verdicts
                    .iter()
                    .filter(|&&v| v != Verdict::NotDigit)
                    .count(),
                test_verdicts.len(),
            ),
            drawings: results,
            real_letters_rejected: letters_rejected,
        });
    }
    let (_, rules, verdicts) = chosen.unwrap_or_default();
    let chosen_methods: Vec<Method> = rules.iter().map(|r| r.0).collect();
    trust.not_digit = rules;
    let mut counts = VerdictCounts::default();
    for (v, (p, &label)) in verdicts
        .iter()
        .zip(test_predictions.iter().zip(&test.labels))
    {
        match v {
            Verdict::Digit => {
                counts.digit += 1;
                counts.digit_correct += usize::from(p.digit() == usize::from(label));
            }
            Verdict::Unsure => counts.unsure += 1,
            Verdict::NotDigit => counts.not_digit += 1,
        }
    }
    let report = TrustReport {
        temperature,
        unsure_margin: trust.unsure_margin,
        keep_target: KEEP_TARGET,
        chosen_method: if trust.not_digit.is_empty() {
            "none".into()
        } else {
            combination_name(&chosen_methods)
        },
        validation_images: validation.len(),
        validation: calibration_report(
            "validation",
            &validation.labels,
            validation_predictions,
            temperature,
        ),
        test: calibration_report("test", &test.labels, test_predictions, temperature),
        methods: reports,
        test_verdicts: counts,
        weights: HalfWeights::default(),
        real_writing: (real.len(), letters.len()),
    };
    (trust, report)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_recovers_the_one_that_made_the_data() {
        // Labels drawn so that softmax(logits / 2) is exactly right on average: the fitted
        // temperature must come out near 2.
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for i in 0..2000u32 {
            let mut l = [0.0f32; CLASSES];
            l[0] = 6.0;
            logits.push(l);
            // p(class 0) under T = 2: e^3 / (e^3 + 9).
            let p0 = (3f64.exp() / (3f64.exp() + 9.0) * 2000.0).round() as u32;
            labels.push(if i < p0 { 0 } else { 1 + (i % 9) as u8 });
        }
        let t = fit_temperature(&logits, &labels);
        assert!((t - 2.0).abs() < 0.02, "{t}");
    }

    #[test]
    fn inverse_times_matrix_is_identity() {
        let m = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let inv = invert(&m, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| m[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(invert(&[1.0, 2.0, 2.0, 4.0], 2).is_err());
    }

    #[test]
    fn feature_model_centres_are_class_means() {
        let features = vec![
            vec![1.0, 0.0],
            vec![3.0, 0.0],
            vec![0.0, 5.0],
            vec![0.0, 7.0],
        ];
        let mut labels = vec![0u8, 0, 1, 1];
        // Every class needs an example.
        assert!(fit_feature_model(&features, &labels).is_err());
        let mut features = features;
        for class in 2..CLASSES as u8 {
            features.push(vec![f32::from(class), 1.0]);
            features.push(vec![f32::from(class), -1.0]);
            labels.extend([class, class]);
        }
        let model = fit_feature_model(&features, &labels).unwrap();
        assert_eq!(&model.centres()[..4], &[2.0, 0.0, 0.0, 6.0]);
        assert_eq!(model.nearest_distance(&[2.0, 0.0]), Some(0.0));
    }

    #[test]
    fn verdicts_from_scores_computed_once_are_the_trusts_own() {
        let trust = Trust {
            temperature: 1.3,
            unsure_margin: 0.2,
            not_digit: Vec::new(),
            features: Some(FeatureModel::new(
                2,
                (0..CLASSES).flat_map(|c| [c as f32 * 3.0, 1.0]).collect(),
                vec![1.0, 0.3, 0.8],
            )),
        };
        let predictions: Vec<Prediction> = (0..200)
            .map(|k| {
                // One digit ahead by a varying margin, the others scattered.
                let logits: [f32; CLASSES] = std::array::from_fn(|c| {
                    let spread = ((k * 31 + c * 17) % 23) as f32 * 0.2 - 2.0;
                    spread
                        + if c == k % CLASSES {
                            (k % 13) as f32
                        } else {
                            0.0
                        }
                });
                Prediction {
                    logits,
                    probabilities: trust.probabilities(&logits),
                    features: vec![(k % 37) as f32 * 0.8, (k % 11) as f32 - 4.0],
                    verdict: Verdict::Digit,
                }
            })
            .collect();
        let scored = Scored::new(&trust, &predictions);
        for methods in candidates(true) {
            let rules = Trust {
                not_digit: fit_thresholds(&trust, &methods, &scored, (&[], 0.7), 0..0),
                ..trust.clone()
            };
            let direct: Vec<Verdict> = predictions
                .iter()
                .map(|p| rules.verdict(&p.logits, &p.features))
                .collect();
            assert_eq!(scored.verdicts(&rules), direct, "{methods:?}");
            // The rules do reject some and keep some, so the comparison means something.
            assert!(direct.contains(&Verdict::NotDigit) && direct.contains(&Verdict::Digit));
        }
    }
}
