//! From a trained burn [`Network`] to ONNX bytes, and the check that tract, running those
//! bytes, gives the answers burn gives.
//!
//! Batch norms are folded into the convolutions before them (inference-mode statistics), so
//! the file holds only Conv, Relu, MaxPool, GlobalAveragePool / Flatten, MatMul, Add and
//! Softmax.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::model::{FeatureLayer, Head, Network};
use super::training::predict_logits;
use crate::classifier::Classifier;
use crate::idx::LabeledImages;
use crate::onnx::writer::{encode, OnnxLayer};
use crate::scores::argmax;

fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .map_err(|e| anyhow::anyhow!("reading weights: {e:?}"))
}

/// The network's layers with their weights, batch norms folded into the convolutions.
pub fn onnx_layers(network: &Network) -> Result<Vec<OnnxLayer>> {
    let network = network.valid();
    let mut layers = Vec::new();
    for layer in &network.features {
        match layer {
            FeatureLayer::Conv(block) => {
                let [out_channels, in_channels, kernel, _] = block.conv.weight.dims();
                let mut weight = values(block.conv.weight.val())?;
                let mut bias = match &block.conv.bias {
                    Some(b) => values(b.val())?,
                    None => vec![0.0; out_channels],
                };
                if let Some(norm) = &block.norm {
                    let gamma = values(norm.gamma.val())?;
                    let beta = values(norm.beta.val())?;
                    let mean = values(norm.running_mean.value())?;
                    let var = values(norm.running_var.value())?;
                    let per_filter = weight.len() / out_channels;
                    for c in 0..out_channels {
                        let scale = f64::from(gamma[c]) / (f64::from(var[c]) + norm.epsilon).sqrt();
                        for w in &mut weight[c * per_filter..(c + 1) * per_filter] {
                            *w = (f64::from(*w) * scale) as f32;
                        }
                        bias[c] = ((f64::from(bias[c]) - f64::from(mean[c])) * scale
                            + f64::from(beta[c])) as f32;
                    }
                }
                layers.push(OnnxLayer::Conv {
                    weight,
                    bias,
                    in_channels,
                    out_channels,
                    kernel,
                    padding: block.padding,
                });
                layers.push(OnnxLayer::Relu);
            }
            FeatureLayer::Pool(_) => layers.push(OnnxLayer::MaxPool2),
        }
    }
    layers.push(match network.head {
        Head::Flatten => OnnxLayer::Flatten,
        Head::GlobalAvgPool => OnnxLayer::GlobalAvgPool,
    });
    let last = network.dense.len().saturating_sub(1);
    for (i, linear) in network.dense.iter().enumerate() {
        let [inputs, outputs] = linear.weight.dims();
        let bias = match &linear.bias {
            Some(b) => values(b.val())?,
            None => vec![0.0; outputs],
        };
        layers.push(OnnxLayer::Dense {
            weight: values(linear.weight.val())?,
            bias,
            inputs,
            outputs,
        });
        if i < last {
            layers.push(OnnxLayer::Relu);
        }
    }
    Ok(layers)
}

/// ONNX bytes for `network`, with `metadata` as the file's `metadata_props`.
pub fn export(network: &Network, metadata: &[(String, String)]) -> Result<Vec<u8>> {
    Ok(encode(
        &onnx_layers(network)?,
        metadata,
        "digitpad digit classifier; see model/README.md",
    )?)
}

/// Largest allowed difference between burn's and tract's logits.
pub const PARITY_TOLERANCE: f32 = 1e-4;

/// How closely tract, running the exported file, matched burn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParityReport {
    /// Images compared.
    pub images: usize,
    /// Images whose predicted class differs.
    pub argmax_mismatches: usize,
    /// Largest absolute difference of any logit.
    pub max_abs_logit_diff: f32,
}

impl ParityReport {
    /// Whether the export is faithful: same argmax everywhere and logits within tolerance.
    pub fn passed(&self) -> bool {
        self.argmax_mismatches == 0 && self.max_abs_logit_diff <= PARITY_TOLERANCE
    }
}

/// Runs `bytes` under tract and `network` under burn on every image of `set` and compares.
pub fn check_parity(
    bytes: &[u8],
    network: &Network,
    set: &LabeledImages,
    device: &Device,
) -> Result<ParityReport> {
    let classifier = Classifier::from_onnx(bytes, 100)?;
    let digits: Vec<_> = (0..set.len()).map(|i| set.digit(i)).collect();
    let tract = classifier.classify_batch(&digits)?;
    let burn = predict_logits(network, set, device)?;
    let mut report = ParityReport {
        images: set.len(),
        argmax_mismatches: 0,
        max_abs_logit_diff: 0.0,
    };
    for (t, b) in tract.iter().zip(&burn) {
        if argmax(&t.logits) != argmax(b) {
            report.argmax_mismatches += 1;
        }
        for (x, y) in t.logits.iter().zip(b) {
            report.max_abs_logit_diff = report.max_abs_logit_diff.max((x - y).abs());
        }
    }
    Ok(report)
}

/// Exports and checks; fails (returning no bytes) when tract disagrees with burn.
pub fn export_checked(
    network: &Network,
    metadata: &[(String, String)],
    check_set: &LabeledImages,
    device: &Device,
) -> Result<(Vec<u8>, ParityReport)> {
    let bytes = export(network, metadata)?;
    let report = check_parity(&bytes, network, check_set, device)?;
    if !report.passed() {
        bail!(
            "export check FAILED: tract disagrees with burn on the exported model \
             ({} of {} predictions differ, max |logit difference| {:.3e} > {:.0e}); the file was not written",
            report.argmax_mismatches,
            report.images,
            report.max_abs_logit_diff,
            PARITY_TOLERANCE
        );
    }
    Ok((bytes, report))
}
