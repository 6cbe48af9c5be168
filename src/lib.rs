//! digitpad: recognise hand-drawn digits with a small CNN.
//!
//! One crate, two targets. Both share the modules at the top: how a drawing becomes the
//! model's 28x28 input ([`preprocess`]), how the model runs ([`classifier`], with tract), the
//! MNIST file format ([`idx`]) and the metrics ([`metrics`]). The web app ([`app`], wasm32
//! only) draws and predicts in the browser; the trainer ([`train`] and [`onnx_export`], native
//! only) trains the model with burn and exports the ONNX file the web app ships.

pub mod classifier;
pub mod digit;
pub mod idx;
pub mod metrics;
pub mod onnx_ops;
pub mod preprocess;
pub mod strokes;

#[cfg(target_arch = "wasm32")]
pub mod app;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
#[cfg(not(target_arch = "wasm32"))]
pub mod onnx_export;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;

pub use classifier::{Classifier, ClassifierError, Prediction};
pub use digit::{DigitImage, CLASSES, PIXELS, SIDE};
pub use strokes::{Point, Stroke};
