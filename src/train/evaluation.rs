//! Evaluating an ONNX file the way the page runs it (under tract), for `eval`, for the model
//! folder's `metrics.json` and for the export check.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::data::Dataset;
use super::style_set::{evaluate_styles, load_style_set, repository_style_report, StyleReport};
use crate::classifier::Classifier;
use crate::files::sha256_hex;
use crate::idx::LabeledImages;
use crate::metrics::{evaluate, EvalReport};

/// What `metrics.json` holds, and what `eval --json` writes: the evaluation of one ONNX file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalFile {
    /// File name of the model.
    pub model: String,
    /// SHA-256 of the model file.
    pub sha256: String,
    /// Size of the model file in bytes.
    pub bytes: usize,
    /// Data set evaluated on.
    pub dataset: Dataset,
    /// Which split (always the test split for `metrics.json`).
    pub split: String,
    /// Which test set that is, as figures on it must be labelled (e.g. "Fashion-MNIST (fixed
    /// split of the 70k)"); absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_set: Option<String>,
    /// The metrics.
    pub report: EvalReport,
    /// The repository's writing-style test set read by the same file (when run from the
    /// repository's root, on MNIST models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub styles: Option<StyleReport>,
    /// Real pen writing of writers never trained or tuned on, read as the page reads it
    /// (when pen data was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pen: Option<super::pen_eval::PenReport>,
}

/// Evaluates ONNX `bytes` (named `model_name`) under tract on `set` (and, for MNIST models,
/// on the writing-style drawings in `styles`, else on the repository's style test set); also
/// returns the predicted class of each image.
pub fn evaluate_onnx(
    bytes: &[u8],
    model_name: &str,
    dataset: Dataset,
    set: &LabeledImages,
    styles: Option<&Path>,
) -> Result<(EvalFile, Vec<usize>)> {
    let classifier =
        Classifier::from_onnx(bytes, 100).with_context(|| format!("loading {model_name}"))?;
    let digits: Vec<_> = (0..set.len()).map(|i| set.digit(i)).collect();
    let predictions = classifier.classify_batch(&digits)?;
    let classes = predictions.iter().map(|p| p.digit()).collect();
    let probabilities: Vec<_> = predictions.into_iter().map(|p| p.probabilities).collect();
    let eval = EvalFile {
        model: model_name.to_string(),
        sha256: sha256_hex(bytes),
        bytes: bytes.len(),
        dataset,
        split: "test".into(),
        test_set: None,
        report: evaluate(&set.labels, &probabilities),
        styles: match (dataset, styles) {
            (Dataset::Mnist, Some(dir)) => {
                Some(evaluate_styles(&classifier, &load_style_set(dir)?)?)
            }
            (Dataset::Mnist, None) => repository_style_report(&classifier)?,
            _ => None,
        },
        pen: None,
    };
    Ok((eval, classes))
}
