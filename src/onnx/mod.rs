//! The ONNX format's two halves side by side: [`ops`] reads (the tract operator registry the
//! classifier loads models with, on both targets) and [`writer`] writes (the encoder the
//! trainer exports with, native only). The writer emits only operators the reader registers;
//! a test checks that every exported file stays within [`ops::SUPPORTED_OPS`].

pub mod ops;
#[cfg(not(target_arch = "wasm32"))]
pub mod writer;
