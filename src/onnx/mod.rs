//! The ONNX format's two halves side by side: [`ops`] and [`typed`] read (the tract operators
//! of each node, and the typed graph the classifier loads models as, on both targets) and
//! [`writer`] writes (the encoder the
//! trainer exports with, native only). The writer emits only operators the reader registers;
//! a test checks that every exported file stays within [`ops::SUPPORTED_OPS`].

pub mod conv;
pub mod ops;
pub mod plan;
pub mod typed;

use tract_onnx::pb::{tensor_proto::DataType, ModelProto};

/// Undoes the exporter's float16 storage before tract sees the model: each `Cast` to float32
/// of a float16 initializer becomes a float32 initializer under the cast's output name, and
/// the cast goes. The network then loads as it was trained (with the rounded weights), and
/// tract has no casts to fold while it optimizes (a few milliseconds of the page's start-up,
/// measured). Other runtimes read the file as written, casts included. Returns how many
/// initializers were widened.
pub fn inline_half_weights(model: &mut ModelProto) -> usize {
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
        tensor.raw_data = widen_f16_bytes(&tensor.raw_data);
        tensor.data_type = DataType::Float as i32;
        tensor.name.clone_from(&node.output[0]);
        widened += 1;
    }
    widened
}

/// Little-endian float16 values as little-endian float32 ones.
///
/// A plain loop into a buffer of the final size: this runs once per page load, before the
/// wasm is fully optimized, where every call and adapter costs (measured). Never inlined:
/// the browser recompiles (optimizes) a function that has run this long, and inlined, the loop
/// made the large function that loads the model be recompiled during start-up, in 35-70 ms
/// of background compiling beside the page's own work (docs/performance.md, "The page").
#[inline(never)]
fn widen_f16_bytes(half: &[u8]) -> Vec<u8> {
    let mut wide = vec![0u8; half.len() * 2];
    for (four, pair) in wide.chunks_exact_mut(4).zip(half.chunks_exact(2)) {
        let value = widen_f16(u16::from_le_bytes([pair[0], pair[1]]));
        four.copy_from_slice(&value.to_le_bytes());
    }
    wide
}

/// An IEEE binary16 value (its bits) as f32, exactly, for every value: zeros, subnormals,
/// normals, infinities and NaN. The bits are moved into f32's places and the result scaled by
/// 2^112 (the difference of the two exponent biases), which is exact for normals and
/// subnormals alike. A few instructions and one rarely taken branch, inlined: the page widens
/// the model's 70k weights at start-up, in code the browser has not optimized yet, where
/// this step took 11 ms with the `half` crate's general conversion (measured in the page).
#[inline(always)]
fn widen_f16(bits: u16) -> f32 {
    const TWO_POW_112: u32 = (112 + 127) << 23;
    let sign = u32::from(bits & 0x8000) << 16;
    let magnitude = u32::from(bits & 0x7fff);
    let value = if magnitude >= 0x7c00 {
        // Infinity or NaN: all exponent bits set, the payload kept.
        0x7f80_0000 | ((magnitude & 0x3ff) << 13)
    } else {
        (f32::from_bits(magnitude << 13) * f32::from_bits(TWO_POW_112)).to_bits()
    };
    f32::from_bits(value | sign)
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

#[cfg(test)]
mod tests {
    use super::widen_f16;
    use tract_onnx::prelude::f16;

    #[test]
    fn widening_is_exact_for_every_half_precision_value() {
        for bits in 0..=u16::MAX {
            let ours = widen_f16(bits);
            let reference = f16::from_bits(bits).to_f32();
            if reference.is_nan() {
                assert!(ours.is_nan(), "{bits:#06x}");
                assert_eq!(ours.is_sign_negative(), reference.is_sign_negative());
            } else {
                assert_eq!(ours.to_bits(), reference.to_bits(), "{bits:#06x}");
            }
        }
    }
}
