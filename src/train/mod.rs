//! The native trainer: data, augmentation, networks, the training loop, checkpoints, plots,
//! and the run that ties them to the exported model.

pub mod augment;
pub mod checkpoint;
pub mod data;
pub mod device;
pub mod export;
pub mod model;
pub mod plots;
pub mod run;
pub mod training;
