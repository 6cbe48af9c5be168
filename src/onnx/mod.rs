//! The ONNX format's two halves side by side: [`ops`] and [`typed`] read (the tract operators
//! of each node, and the typed graph the classifier loads models as, on both targets) and
//! [`writer`] writes (the encoder the
//! trainer exports with, native only). The writer emits only operators the reader registers;
//! a test checks that every exported file stays within [`ops::SUPPORTED_OPS`].

pub mod ops;
pub mod typed;

use tract_onnx::pb::{tensor_proto::DataType, ModelProto};

/// Undoes the exporter's float16 storage before tract sees the model: each `Cast` to float32
/// of a float16 initializer becomes a float32 initializer under the cast's output name, and
/// the cast goes. The network then loads as it was trained (with the rounded weights), and
/// tract has no casts to fold while it optimizes (a few milliseconds of the page's start-up,
/// measured). Other runtimes read the file as written, casts included. Returns how many
/// initializers were widened.
pub fn inline_half_weights(model: &mut ModelProto) -> usize {
    use tract_onnx::prelude::f16;
    let Some(graph) = model.graph.as_mut() else {
        return 0;
    };
    let mut widened = 0;
    let nodes = std::mem::take(&mut graph.node);
    for node in nodes {
        let to_float = node.op_type == "Cast"
            && node
                .attribute
                .iter()
                .any(|a| a.name == "to" && a.i == DataType::Float as i64);
        let source = match (to_float, node.input.as_slice(), node.output.as_slice()) {
            (true, [input], [_]) => graph.initializer.iter().position(|t| {
                &t.name == input
                    && t.data_type == DataType::Float16 as i32
                    && t.raw_data.len() % 2 == 0
            }),
            _ => None,
        };
        let Some(index) = source else {
            graph.node.push(node);
            continue;
        };
        let tensor = &mut graph.initializer[index];
        // A plain loop into a buffer of the final size: this runs once per page load, before
        // the wasm is fully optimized, and iterator adapters cost there (measured).
        let mut widened_bytes = Vec::with_capacity(tensor.raw_data.len() * 2);
        for pair in tensor.raw_data.chunks_exact(2) {
            let value = f16::from_bits(u16::from_le_bytes([pair[0], pair[1]])).to_f32();
            widened_bytes.extend_from_slice(&value.to_le_bytes());
        }
        tensor.raw_data = widened_bytes;
        tensor.data_type = DataType::Float as i32;
        tensor.name.clone_from(&node.output[0]);
        widened += 1;
    }
    widened
}

/// ONNX node attributes, built the one way the writer writes them and the reader's tests
/// read them.
#[cfg(any(test, not(target_arch = "wasm32")))]
pub(crate) mod attribute {
    use tract_onnx::pb::{attribute_proto::AttributeType, AttributeProto};

    /// A list-of-integers attribute (`kernel_shape`, `pads`, ...).
    pub fn ints(name: &str, values: &[i64]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Ints as i32,
            ints: values.to_vec(),
            ..Default::default()
        }
    }

    /// An integer attribute (`axis`, `group`, ...).
    pub fn int(name: &str, value: i64) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Int as i32,
            i: value,
            ..Default::default()
        }
    }
}
#[cfg(not(target_arch = "wasm32"))]
pub mod writer;
