//! The native trainer, one concern a file: [`config`] (what a run is), [`data`] (MNIST files,
//! download, splits), [`augment`] and [`styles`] (distortions and writing styles), [`model`] (networks as data), [`training`] (the loop),
//! [`checkpoint`], [`to_onnx`] (trained network to ONNX, checked under tract),
//! [`calibration`] (confidence and "not a digit" rules fitted after training),
//! [`evaluation`], [`style_set`] (the writing-style test set), [`profile`] (where a training
//! step's time goes; [`ops`] holds the training operators of our own, the default on the CPU), [`plots`], [`card`] (the model card) and [`run`], which ties them into the
//! `train` command. Dependencies run one way: `config` and `model` depend on no other part.

pub mod augment;
pub mod calibration;
pub mod card;
pub mod card_page;
pub mod checkpoint;
pub mod clothing_card;
pub mod config;
pub mod data;
pub mod device;
pub mod evaluation;
pub mod model;
pub mod ops;
pub mod pen_data;
pub mod pen_eval;
pub mod plots;
pub mod profile;
pub mod run;
pub mod style_set;
pub mod styles;
pub mod to_onnx;
pub mod training;
