//! The ONNX format's two halves side by side: [`ops`] reads (the tract operator registry the
//! classifier loads models with, on both targets) and [`writer`] writes (the encoder the
//! trainer exports with, native only). The writer emits only operators the reader registers;
//! a test checks that every exported file stays within [`ops::SUPPORTED_OPS`].

pub mod ops;

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
