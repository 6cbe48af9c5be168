//! Writes a sequential CNN as an ONNX file. This module knows nothing of training: it takes
//! layers as plain weights and encodes them with the prost messages of `tract_onnx::pb`.
//!
//! The file: IR version 7, opset 13 (loadable by onnxruntime and onnxruntime-web 1.x, and by
//! tract); input `image` f32 `[N, 1, 28, 28]`; outputs `logits` f32 `[N, 10]` and `features`
//! f32 `[N, F]` (the input of the last dense layer, for the page's "not a digit" test); a
//! dynamic batch `N`; only the operators in [`crate::onnx::ops::SUPPORTED_OPS`]. There is no
//! softmax in the graph: probabilities are `softmax(logits / T)` with the temperature `T` the
//! trainer stores in the metadata (see [`crate::trust`]).

use prost::Message;
use tract_onnx::pb::{
    tensor_proto::DataType, tensor_shape_proto, type_proto, AttributeProto, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto,
};

use super::attribute::{int, ints};
use crate::digit::{CLASSES, SIDE};

/// ONNX IR version written (7 = ONNX 1.8; onnxruntime 1.x reads up to 9 or more).
pub const IR_VERSION: i64 = 7;
/// Operator set written.
pub const OPSET: i64 = 13;
/// Name of the graph input.
pub const INPUT_NAME: &str = "image";
/// Name of the raw-score output.
pub const LOGITS_NAME: &str = "logits";
/// Name of the probability output that files written before calibration carried (a plain
/// softmax); [`upgrade_outputs`] removes it.
pub const PROBABILITIES_NAME: &str = "probabilities";
/// Name of the penultimate-features output (the input of the last dense layer).
pub const FEATURES_NAME: &str = crate::trust::FEATURES_OUTPUT;

/// One layer of a sequential network, with its weights.
#[derive(Clone, Debug, PartialEq)]
pub enum OnnxLayer {
    /// 2-D convolution, stride 1, square kernel, symmetric zero padding.
    Conv {
        /// `[out, in, kernel, kernel]`, row-major.
        weight: Vec<f32>,
        /// `[out]`.
        bias: Vec<f32>,
        /// Input channels.
        in_channels: usize,
        /// Output channels.
        out_channels: usize,
        /// Kernel side.
        kernel: usize,
        /// Padding on each side.
        padding: usize,
    },
    /// `max(x, 0)`.
    Relu,
    /// 2x2 max pooling, stride 2.
    MaxPool2,
    /// `[N, C, H, W]` to `[N, C*H*W]`.
    Flatten,
    /// `[N, C, H, W]` to `[N, C]` (mean of each map).
    GlobalAvgPool,
    /// `y = x W + b`.
    Dense {
        /// `[inputs, outputs]`, row-major.
        weight: Vec<f32>,
        /// `[outputs]`.
        bias: Vec<f32>,
        /// Input width.
        inputs: usize,
        /// Output width.
        outputs: usize,
    },
}

fn float_tensor(name: &str, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| tensor_shape_proto::Dimension {
            value: Some(match d {
                Some(n) => tensor_shape_proto::dimension::Value::DimValue(*n as i64),
                None => tensor_shape_proto::dimension::Value::DimParam("N".into()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: String,
    inputs: Vec<String>,
    output: String,
    attributes: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name,
        input: inputs,
        output: vec![output],
        attribute: attributes,
        ..Default::default()
    }
}

/// The graph's description of its input and outputs.
const GRAPH_DOC: &str = "Input `image`: f32 [N,1,28,28], 0 = background, 1 = ink (white on \
    black), MNIST-style (20-px ink box, centred by mass). Outputs: `logits` [N,10]; \
    probabilities are softmax(logits / T) with T the metadata's `temperature`. `features` \
    [N,F] = the input of the last dense layer.";

/// The model's outputs in words, for the file's `outputs` metadata entry.
pub const OUTPUTS_DOC: &str = "logits: f32 [N,10] (probabilities = softmax(logits / \
    temperature), the temperature in this metadata); features: f32 [N,F], the input of the \
    last dense layer";

/// Why a list of layers cannot be written as this project's model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// The `logits` output is the last layer's output, and only a dense layer to the 10
    /// classes makes logits.
    #[error("the last layer must be a dense layer with {CLASSES} outputs (it makes `logits`); found {0}")]
    NoLogits(String),
}

/// Encodes `layers` (ending with the 10-way dense layer) as an ONNX model.
/// `metadata` becomes the file's `metadata_props`; `doc` its `doc_string`.
pub fn encode(
    layers: &[OnnxLayer],
    metadata: &[(String, String)],
    doc: &str,
) -> Result<Vec<u8>, EncodeError> {
    match layers.last() {
        Some(OnnxLayer::Dense { outputs, .. }) if *outputs == CLASSES => {}
        Some(OnnxLayer::Dense { outputs, .. }) => {
            return Err(EncodeError::NoLogits(format!(
                "a dense layer with {outputs} outputs"
            )))
        }
        Some(other) => return Err(EncodeError::NoLogits(format!("{other:?}"))),
        None => return Err(EncodeError::NoLogits("no layers".into())),
    }
    let mut nodes = Vec::new();
    let mut initializers = Vec::new();
    let mut current = INPUT_NAME.to_string();
    let last = layers.len() - 1;
    let mut features_width = 0;
    for (index, layer) in layers.iter().enumerate() {
        let prefix = format!("l{index}");
        let output = if index == last {
            LOGITS_NAME.to_string()
        } else if index + 1 == last {
            FEATURES_NAME.to_string()
        } else {
            format!("{prefix}_out")
        };
        if index == last {
            if let OnnxLayer::Dense { inputs, .. } = layer {
                features_width = *inputs;
            }
        }
        match layer {
            OnnxLayer::Conv {
                weight,
                bias,
                in_channels,
                out_channels,
                kernel,
                padding,
            } => {
                let (w, b) = (format!("{prefix}_weight"), format!("{prefix}_bias"));
                initializers.push(float_tensor(
                    &w,
                    &[*out_channels, *in_channels, *kernel, *kernel],
                    weight,
                ));
                initializers.push(float_tensor(&b, &[*out_channels], bias));
                let p = *padding as i64;
                nodes.push(node(
                    "Conv",
                    format!("{prefix}_conv"),
                    vec![current.clone(), w, b],
                    output.clone(),
                    vec![
                        ints("kernel_shape", &[*kernel as i64, *kernel as i64]),
                        ints("pads", &[p, p, p, p]),
                        ints("strides", &[1, 1]),
                        ints("dilations", &[1, 1]),
                        int("group", 1),
                    ],
                ));
            }
            OnnxLayer::Relu => nodes.push(node(
                "Relu",
                format!("{prefix}_relu"),
                vec![current.clone()],
                output.clone(),
                vec![],
            )),
            OnnxLayer::MaxPool2 => nodes.push(node(
                "MaxPool",
                format!("{prefix}_maxpool"),
                vec![current.clone()],
                output.clone(),
                vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
            )),
            OnnxLayer::Flatten => nodes.push(node(
                "Flatten",
                format!("{prefix}_flatten"),
                vec![current.clone()],
                output.clone(),
                vec![int("axis", 1)],
            )),
            OnnxLayer::GlobalAvgPool => {
                let pooled = format!("{prefix}_pooled");
                nodes.push(node(
                    "GlobalAveragePool",
                    format!("{prefix}_gap"),
                    vec![current.clone()],
                    pooled.clone(),
                    vec![],
                ));
                nodes.push(node(
                    "Flatten",
                    format!("{prefix}_flatten"),
                    vec![pooled],
                    output.clone(),
                    vec![int("axis", 1)],
                ));
            }
            OnnxLayer::Dense {
                weight,
                bias,
                inputs,
                outputs,
            } => {
                let (w, b) = (format!("{prefix}_weight"), format!("{prefix}_bias"));
                initializers.push(float_tensor(&w, &[*inputs, *outputs], weight));
                initializers.push(float_tensor(&b, &[*outputs], bias));
                let product = format!("{prefix}_matmul");
                nodes.push(node(
                    "MatMul",
                    product.clone(),
                    vec![current.clone(), w],
                    product.clone(),
                    vec![],
                ));
                nodes.push(node(
                    "Add",
                    format!("{prefix}_add"),
                    vec![product, b],
                    output.clone(),
                    vec![],
                ));
            }
        }
        current = output;
    }

    let graph = GraphProto {
        name: "digit-classifier".into(),
        node: nodes,
        initializer: initializers,
        input: vec![value_info(
            INPUT_NAME,
            &[None, Some(1), Some(SIDE), Some(SIDE)],
        )],
        output: vec![
            value_info(LOGITS_NAME, &[None, Some(CLASSES)]),
            value_info(FEATURES_NAME, &[None, Some(features_width)]),
        ],
        doc_string: GRAPH_DOC.into(),
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "digitpad".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: doc.into(),
        graph: Some(graph),
        metadata_props: metadata
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        ..Default::default()
    };
    Ok(model.encode_to_vec())
}

/// Why a file written by an older exporter cannot get a `features` output.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot find the last dense layer's input: {0}")]
pub struct NoFeatures(String);

/// Gives a model written by an older exporter (the shipped model of this project's first
/// version) the outputs this one writes: adds `features`, the input of the `MatMul` whose
/// `Add` makes `logits`, and removes the plain-softmax `probabilities` output and its node.
/// Does nothing to a model that has them already.
pub fn upgrade_outputs(model: &mut ModelProto) -> Result<(), NoFeatures> {
    let graph = model
        .graph
        .as_mut()
        .ok_or_else(|| NoFeatures("no graph".into()))?;
    graph.output.retain(|o| o.name != PROBABILITIES_NAME);
    graph
        .node
        .retain(|n| !(n.op_type == "Softmax" && n.output == [PROBABILITIES_NAME]));
    graph.doc_string = GRAPH_DOC.into();
    if graph.output.iter().any(|o| o.name == FEATURES_NAME) {
        return Ok(());
    }
    let producer = |name: &str| {
        graph
            .node
            .iter()
            .find(|n| n.output.iter().any(|o| o == name))
    };
    let add = producer(LOGITS_NAME)
        .filter(|n| n.op_type == "Add")
        .ok_or_else(|| NoFeatures("`logits` is not made by an Add".into()))?;
    let matmul = add
        .input
        .iter()
        .find_map(|i| producer(i).filter(|n| n.op_type == "MatMul"))
        .ok_or_else(|| NoFeatures("the Add making `logits` has no MatMul input".into()))?;
    let (features, weight) = match matmul.input.as_slice() {
        [features, weight] => (features.clone(), weight),
        _ => return Err(NoFeatures("the MatMul does not have two inputs".into())),
    };
    let width = graph
        .initializer
        .iter()
        .find(|t| &t.name == weight)
        .and_then(|t| t.dims.first())
        .and_then(|&d| usize::try_from(d).ok())
        .ok_or_else(|| NoFeatures(format!("no initializer `{weight}` for the MatMul")))?;
    // Rename the tensor to `features` wherever it appears, so every file names it alike.
    for node in &mut graph.node {
        for name in node.input.iter_mut().chain(node.output.iter_mut()) {
            if *name == features {
                *name = FEATURES_NAME.into();
            }
        }
    }
    graph
        .output
        .push(value_info(FEATURES_NAME, &[None, Some(width)]));
    Ok(())
}

/// Stores every float32 initializer (weights and biases) as float16, each followed by a `Cast`
/// back to float32 that tract folds away when it optimizes the model: the file (and the page's
/// download) is half the size, and the network computes in float32 as before. The trainer
/// measures what the rounding changes (`calibration::calibrate_model`). Returns how many
/// initializers were converted (0 when they already are).
pub fn store_weights_as_f16(model: &mut ModelProto) -> usize {
    use tract_onnx::prelude::f16;
    let Some(graph) = model.graph.as_mut() else {
        return 0;
    };
    let mut casts = Vec::new();
    for tensor in &mut graph.initializer {
        if tensor.data_type != DataType::Float as i32 || tensor.raw_data.len() % 4 != 0 {
            continue;
        }
        let halves: Vec<u8> = tensor
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .flat_map(|v| f16::from_f32(v).to_bits().to_le_bytes())
            .collect();
        let name = std::mem::take(&mut tensor.name);
        tensor.name = format!("{name}_f16");
        tensor.data_type = DataType::Float16 as i32;
        tensor.raw_data = halves;
        casts.push(node(
            "Cast",
            format!("{name}_cast"),
            vec![tensor.name.clone()],
            name,
            vec![int("to", DataType::Float as i64)],
        ));
    }
    let converted = casts.len();
    casts.append(&mut graph.node);
    graph.node = casts;
    converted
}

#[cfg(test)]
mod tests;
