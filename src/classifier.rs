//! Runs a digit model stored as ONNX with tract: load once, optimize for a fixed batch size,
//! classify [`DigitImage`]s. The web page, the CLI (`eval`, `predict`) and the trainer's
//! export check all go through this one type, with the same graph builder
//! ([`crate::onnx::typed`]).
//!
//! The model contract (written by the exporter, documented in `model/README.md`): input
//! `image`, f32 `[N, 1, 28, 28]`, values 0..1, white ink on black; output 0 `logits` `[N, 10]`;
//! optionally an output named `features`, `[N, F]` (the input of the last dense layer). Other
//! outputs are ignored. Probabilities are computed from the logits with the model's
//! temperature (see [`crate::trust`]).

use crate::digit::{DigitImage, CLASSES, PIXELS, SIDE};
use crate::scores::argmax;
use crate::trust::{Trust, Verdict};
use prost::Message;
use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

/// Fingerprint ([`crate::fingerprint::fnv1a_hex`]) of `model/digitnet.onnx` when this crate
/// was built (`"none"` without one): the web app checks that the model it fetches is the one
/// it was built with, so that no cache can pair this code with another version's model.
pub const SHIPPED_MODEL_FINGERPRINT: &str = env!("DIGITPAD_MODEL_FNV");

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    /// The bytes are not an ONNX protobuf.
    #[error("not an ONNX model: {0}")]
    Decode(String),
    /// tract could not turn the ONNX graph into a runnable plan.
    #[error("the ONNX model cannot be prepared: {0}")]
    Prepare(String),
    /// The graph's outputs are not `[N, 10]` float tensors.
    #[error("unexpected model output: {0}")]
    Output(String),
    /// Running the plan failed.
    #[error("inference failed: {0}")]
    Run(String),
    /// The calibration or rejection rules in the file's metadata are malformed.
    #[error("{0}")]
    Metadata(#[from] crate::trust::TrustError),
}

/// The model's answer for one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Raw scores, one per digit.
    pub logits: [f32; CLASSES],
    /// Calibrated probabilities (softmax of the logits over the model's temperature): one
    /// per digit, summing to 1.
    pub probabilities: [f32; CLASSES],
    /// The penultimate features (empty when the model has no `features` output).
    pub features: Vec<f32>,
    /// Digit, not sure, or not a digit, by the model's rules ([`Trust::verdict`]).
    pub verdict: Verdict,
}

impl Prediction {
    /// The most probable digit (the first one on a tie).
    pub fn digit(&self) -> usize {
        argmax(&self.probabilities)
    }

    /// The probability of [`Prediction::digit`].
    pub fn confidence(&self) -> f32 {
        self.probabilities[self.digit()]
    }
}

/// The optimized plan and the run state kept between runs: tract's `SimplePlan::run` builds a
/// fresh state (buffers, scratch space) on every call, which for a model this small costs as
/// much as the arithmetic. The state holds the plan behind an `Arc`: holding it by value makes
/// the page's wasm 4.7 kB larger (measured), for no gain.
type RunState = TypedSimpleState<TypedModel, std::sync::Arc<TypedSimplePlan<TypedModel>>>;

/// A loaded, optimized model ready to classify batches of a fixed size.
pub struct Classifier {
    state: std::sync::Mutex<RunState>,
    /// The plan the state runs, for the extra states of parallel batches (native only).
    #[cfg(not(target_arch = "wasm32"))]
    plan: std::sync::Arc<TypedSimplePlan<TypedModel>>,
    batch: usize,
    metadata: Vec<(String, String)>,
    trust: Trust,
    /// Index of the `features` output, when the model has one.
    features_output: Option<usize>,
    /// The network's stages bound to the plan's nodes (`None` when a stage could not be
    /// found in the plan): what [`Classifier::read_layers`] shows.
    stages: Option<crate::layers::StagePlan>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("batch", &self.batch)
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// The tract ONNX front-end with only the operators this project uses
/// (see [`crate::onnx::ops`]): tract-onnx's own route, through its inference model and
/// analysis. The classifier wires the typed graph directly ([`crate::onnx::typed`]); the
/// tests check both routes give the same answers.
pub fn onnx_runtime() -> tract_onnx::Onnx {
    let mut onnx = tract_onnx::Onnx::default();
    crate::onnx::ops::register(&mut onnx.op_register);
    onnx
}

impl Classifier {
    /// Parses ONNX bytes, optimizes the graph for batches of `batch` images and runs it once
    /// ([`Classifier::warm_up`]).
    pub fn from_onnx(bytes: &[u8], batch: usize) -> Result<Self, ClassifierError> {
        let classifier = Self::prepare(bytes, batch)?;
        classifier.warm_up()?;
        Ok(classifier)
    }

    /// Parses ONNX bytes and optimizes the graph for batches of `batch` images, without the
    /// warm-up run (the page times the two apart).
    pub fn prepare(bytes: &[u8], batch: usize) -> Result<Self, ClassifierError> {
        let mut proto =
            ModelProto::decode(bytes).map_err(|e| ClassifierError::Decode(e.to_string()))?;
        crate::onnx::inline_half_weights(&mut proto);
        let metadata = proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        let batch = batch.max(1);
        let prepare = |e: TractError| ClassifierError::Prepare(format!("{e:#}"));
        let mut model =
            crate::onnx::typed::optimized_model(&proto, f32::fact([batch, 1, SIDE, SIDE]))
                .map_err(prepare)?;
        let (features_output, feature_width) = features_output(&proto);
        let trust = Trust::from_metadata(
            |key| {
                proto
                    .metadata_props
                    .iter()
                    .find(|p| p.key == key)
                    .map(|p| p.value.as_str())
            },
            feature_width,
        )?;
        let mut stages = crate::layers::StagePlan::bind(crate::layers::stage_specs(&proto), &model);
        if let Some(stages) = stages.as_mut() {
            stages.expose(&mut model).map_err(prepare)?;
        }
        let plan = std::sync::Arc::new(model.into_runnable().map_err(prepare)?);
        Ok(Self {
            state: std::sync::Mutex::new(RunState::new(plan.clone()).map_err(prepare)?),
            #[cfg(not(target_arch = "wasm32"))]
            plan,
            batch,
            metadata,
            trust,
            features_output,
            stages,
        })
    }

    /// The model's calibration and rejection rules (from its metadata).
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// One run on a blank image: checks the output contract and warms every lazy buffer, so
    /// that the first real answer is as quick as the rest.
    pub fn warm_up(&self) -> Result<(), ClassifierError> {
        self.classify_batch(&[DigitImage::default()]).map(drop)
    }

    /// One `metadata_props` value by key.
    pub fn metadata_value(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Classifies one image.
    pub fn classify(&self, image: &DigitImage) -> Result<Prediction, ClassifierError> {
        let mut predictions = self.classify_batch(std::slice::from_ref(image))?;
        predictions
            .pop()
            .ok_or_else(|| ClassifierError::Output("no prediction returned".into()))
    }

    /// Classifies any number of images, in chunks of the plan's batch size (the last chunk
    /// padded with blank images).
    pub fn classify_batch(
        &self,
        images: &[DigitImage],
    ) -> Result<Vec<Prediction>, ClassifierError> {
        #[cfg(not(target_arch = "wasm32"))]
        if images.len() > self.batch {
            return self.classify_in_parallel(images);
        }
        let mut predictions = Vec::with_capacity(images.len());
        let mut state = self.lock_state();
        for chunk in images.chunks(self.batch) {
            predictions.extend(self.reader().classify_chunk(&mut state, chunk)?);
        }
        Ok(predictions)
    }

    /// Natively, more than one batch's worth of images is read on all the CPU's cores, one
    /// run state per task (the trainer and `eval` read tens of thousands of images, and tract
    /// runs a batch on one core). The answers are the same as one state's: each batch is read
    /// on its own.
    #[cfg(not(target_arch = "wasm32"))]
    fn classify_in_parallel(
        &self,
        images: &[DigitImage],
    ) -> Result<Vec<Prediction>, ClassifierError> {
        use rayon::prelude::*;
        let (reader, plan) = (self.reader(), &self.plan);
        let batches: Vec<Vec<Prediction>> = images
            .par_chunks(self.batch)
            .map_init(
                || RunState::new(plan.clone()),
                |state, chunk| match state {
                    Ok(state) => reader.classify_chunk(state, chunk),
                    Err(e) => Err(ClassifierError::Prepare(format!("{e:#}"))),
                },
            )
            .collect::<Result<_, _>>()?;
        Ok(batches.into_iter().flatten().collect())
    }

    /// Reads one image as [`Classifier::classify`] does, with the same plan and run, and
    /// keeps every stage's value ([`crate::layers`]: the plan outputs them); `now` is a clock
    /// in milliseconds, for the time the whole set took.
    pub fn read_layers(
        &self,
        image: &DigitImage,
        now: &dyn Fn() -> f64,
    ) -> Result<crate::layers::Layers, ClassifierError> {
        use crate::layers::{Stage, INPUT_STAGE, PROBABILITIES_STAGE};
        let start = now();
        let stages = self.stages.as_ref().ok_or_else(|| {
            ClassifierError::Output("this model's layers could not be found in its plan".into())
        })?;
        let input = self.reader().input_tensor(std::slice::from_ref(image))?;
        let outputs = self
            .lock_state()
            .run(tvec!(input.into()))
            .map_err(|e| ClassifierError::Run(format!("{e:#}")))?;
        let prediction = self
            .reader()
            .predictions(&outputs, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| ClassifierError::Output("no prediction returned".into()))?;
        let network = stages
            .stages(&outputs)
            .map_err(|e| ClassifierError::Output(format!("{e:#}")))?;
        let mut all = Vec::with_capacity(network.len() + 2);
        all.push(Stage {
            name: INPUT_STAGE.into(),
            caption: "input: the drawing as the network sees it".into(),
            shape: vec![1, SIDE, SIDE],
            values: image.pixels().to_vec(),
        });
        all.extend(network);
        all.push(Stage {
            name: PROBABILITIES_STAGE.into(),
            caption: format!(
                "softmax(logits / {:.2}): the calibrated probabilities",
                self.trust.temperature
            ),
            shape: vec![CLASSES],
            values: prediction.probabilities.to_vec(),
        });
        Ok(crate::layers::Layers {
            stages: all,
            prediction,
            ms: now() - start,
        })
    }

    /// The run state, also after a panic in an earlier run: that cannot leave it half-updated
    /// in a way a later run would see (every run sets its inputs and recomputes every value).
    fn lock_state(&self) -> std::sync::MutexGuard<'_, RunState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What reading a batch needs besides a run state (shared by the threads of
    /// [`Classifier::classify_batch`]).
    fn reader(&self) -> BatchReader<'_> {
        BatchReader {
            batch: self.batch,
            trust: &self.trust,
            features_output: self.features_output,
        }
    }
}

/// Reads batches of the plan's size: the inputs it makes and the predictions it takes from a
/// run's outputs. It holds no run state, so threads share it.
#[derive(Clone, Copy)]
struct BatchReader<'a> {
    batch: usize,
    trust: &'a Trust,
    features_output: Option<usize>,
}

impl BatchReader<'_> {
    /// Reads one batch (at most the plan's size) with `state`.
    fn classify_chunk(
        self,
        state: &mut RunState,
        chunk: &[DigitImage],
    ) -> Result<Vec<Prediction>, ClassifierError> {
        let outputs = state
            .run(tvec!(self.input_tensor(chunk)?.into()))
            .map_err(|e| ClassifierError::Run(format!("{e:#}")))?;
        self.predictions(&outputs, chunk.len())
    }

    /// One batch of the plan's size: `images` (at most that many), then blank images.
    fn input_tensor(self, images: &[DigitImage]) -> Result<Tensor, ClassifierError> {
        let mut input = vec![0f32; self.batch * PIXELS];
        for (slot, image) in input.chunks_mut(PIXELS).zip(images) {
            slot.copy_from_slice(image.pixels());
        }
        let tensor = tract_ndarray::Array4::from_shape_vec((self.batch, 1, SIDE, SIDE), input)
            .map_err(|e| ClassifierError::Run(e.to_string()))?;
        Ok(tensor.into())
    }

    /// The predictions of one run's outputs for the batch's first `images` images.
    fn predictions(
        self,
        outputs: &TVec<TValue>,
        images: usize,
    ) -> Result<Vec<Prediction>, ClassifierError> {
        let logits = output_rows(outputs, 0, self.batch)?;
        let features = match self.features_output {
            Some(index) => feature_rows(&outputs[index], self.batch)?,
            None => vec![Vec::new(); self.batch],
        };
        Ok(logits
            .into_iter()
            .zip(features)
            .take(images)
            .map(|(logits, features)| Prediction {
                logits,
                probabilities: self.trust.probabilities(&logits),
                verdict: self.trust.verdict(&logits, &features),
                features,
            })
            .collect())
    }
}

/// The index and width of the graph's `features` output; width 0 when its width is not a
/// fixed number.
fn features_output(proto: &ModelProto) -> (Option<usize>, usize) {
    let Some((index, output)) = proto.graph.as_ref().and_then(|g| {
        g.output
            .iter()
            .enumerate()
            .find(|(_, o)| o.name == crate::trust::FEATURES_OUTPUT)
    }) else {
        return (None, 0);
    };
    (Some(index), width_of(output))
}

/// The second dimension of a `[N, F]` value, 0 when it is not a fixed number.
fn width_of(output: &tract_onnx::pb::ValueInfoProto) -> usize {
    use tract_onnx::pb::{tensor_shape_proto::dimension::Value, type_proto};
    let dims = match output.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t.shape.as_ref().map(|s| &s.dim),
        _ => None,
    };
    match dims.map(|d| d.as_slice()) {
        Some([_, width]) => match width.value {
            Some(Value::DimValue(w)) => usize::try_from(w).unwrap_or(0),
            _ => 0,
        },
        _ => 0,
    }
}

/// The features output as `batch` rows.
fn feature_rows(output: &TValue, batch: usize) -> Result<Vec<Vec<f32>>, ClassifierError> {
    let view = output
        .to_array_view::<f32>()
        .map_err(|e| ClassifierError::Output(format!("features: {e:#}")))?;
    let [rows, width] = view.shape() else {
        return Err(ClassifierError::Output(format!(
            "features have shape {:?}, expected [{batch}, F]",
            view.shape()
        )));
    };
    if *rows != batch {
        return Err(ClassifierError::Output(format!(
            "features have {rows} rows, expected {batch}"
        )));
    }
    if *width == 0 {
        return Ok(vec![Vec::new(); batch]);
    }
    let flat: Vec<f32> = view.iter().copied().collect();
    Ok(flat.chunks(*width).map(<[f32]>::to_vec).collect())
}

/// Output `index` as `batch` rows of 10 floats.
fn output_rows(
    outputs: &TVec<TValue>,
    index: usize,
    batch: usize,
) -> Result<Vec<[f32; CLASSES]>, ClassifierError> {
    let view = outputs[index]
        .to_array_view::<f32>()
        .map_err(|e| ClassifierError::Output(format!("output {index}: {e:#}")))?;
    if view.shape() != [batch, CLASSES] {
        return Err(ClassifierError::Output(format!(
            "output {index} has shape {:?}, expected [{batch}, {CLASSES}]",
            view.shape()
        )));
    }
    let flat: Vec<f32> = view.iter().copied().collect();
    Ok(flat
        .chunks(CLASSES)
        .map(|c| {
            let mut row = [0.0; CLASSES];
            row.copy_from_slice(c);
            row
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_bytes_are_a_decode_error() {
        let err = Classifier::from_onnx(b"definitely not onnx", 1).unwrap_err();
        assert!(matches!(err, ClassifierError::Decode(_)), "{err}");
    }
}
