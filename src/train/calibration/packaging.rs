//! The model file as it ships: the exporter's outputs, float16 weights when asked, the trust
//! rules in its metadata.

use super::*;

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
