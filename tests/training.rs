//! The trainer: every architecture exports to ONNX that tract runs like burn, and a tiny
//! training run lowers the loss, on the CPU backend and (with the `wgpu` feature) on wgpu,
//! which here runs on Mesa's software Vulkan.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::atomic::AtomicBool;

use burn::module::Module;
use burn::tensor::Device;
use digitpad::idx::LabeledImages;
use digitpad::train::device::DeviceChoice;
use digitpad::train::export::{check_parity, export, PARITY_TOLERANCE};
use digitpad::train::model::{Architecture, Network};
use digitpad::train::training::{
    images_tensor, loss_and_accuracy, predict_logits, train, CheckpointPlan, OptimizerKind,
    Schedule, TrainConfig, TrainData,
};
use digitpad::train::{augment::Augmentation, data::Dataset};
use digitpad::PIXELS;

const ARCHITECTURES: [Architecture; 3] = [
    Architecture::Digitnet,
    Architecture::Seed,
    Architecture::Mlp,
];

/// A network with random weights and, for batch norms, running statistics that are not the
/// identity (a few training-mode passes over real images), so that folding them is tested.
fn randomly_initialized(
    architecture: Architecture,
    images: &LabeledImages,
    device: &Device,
) -> Network {
    let train_device = device.clone().autodiff();
    train_device.seed(42);
    let network = Network::new(&architecture.spec(), &train_device);
    for start in [0, 64, 128] {
        let pixels: Vec<f32> = images.pixels[start * PIXELS..(start + 64) * PIXELS]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        let _ = network.forward(images_tensor(pixels, &train_device));
    }
    network
}

#[test]
fn every_architecture_exports_to_onnx_that_tract_runs_like_burn() {
    let device = Device::flex();
    let set = common::mnist_fixture();
    let subset = set.select(&(0..200).collect::<Vec<_>>());
    for architecture in ARCHITECTURES {
        let network = randomly_initialized(architecture, &set, &device);
        let bytes = export(&network, &[("test".into(), "yes".into())]).unwrap();
        let report = check_parity(&bytes, &network, &subset, &device).unwrap();
        eprintln!("{architecture:?}: {report:?}");
        assert_eq!(report.images, 200);
        assert_eq!(report.argmax_mismatches, 0, "{architecture:?}");
        assert!(
            report.max_abs_logit_diff <= PARITY_TOLERANCE,
            "{architecture:?}: max |logit diff| {}",
            report.max_abs_logit_diff
        );
    }
}

#[test]
fn exported_files_use_only_the_supported_operators() {
    use prost::Message;
    let device = Device::flex();
    let set = common::mnist_fixture();
    for architecture in ARCHITECTURES {
        let network = randomly_initialized(architecture, &set, &device);
        let bytes = export(&network, &[]).unwrap();
        let model = tract_onnx::pb::ModelProto::decode(bytes.as_slice()).unwrap();
        assert!(model.ir_version <= 8 && model.opset_import[0].version >= 13);
        let graph = model.graph.unwrap();
        for node in &graph.node {
            assert!(
                digitpad::onnx_ops::SUPPORTED_OPS.contains(&node.op_type.as_str()),
                "{architecture:?} uses {}",
                node.op_type
            );
        }
        let outputs: Vec<_> = graph.output.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(outputs, ["logits", "probabilities"]);
        assert_eq!(graph.input[0].name, "image");
    }
}

/// Trains `architecture` for one epoch on 400 fixture images and returns the loss on those
/// images before and after.
fn tiny_run(architecture: Architecture, choice: DeviceChoice) -> (f64, f64) {
    let device = choice.device().unwrap();
    let set = common::mnist_fixture();
    let train_set = set.select(&(0..400).collect::<Vec<_>>());
    let config = TrainConfig {
        architecture,
        dataset: Dataset::Mnist,
        epochs: 1,
        batch_size: 32,
        optimizer: OptimizerKind::Adam,
        learning_rate: 0.003,
        momentum: 0.9,
        weight_decay: 0.0,
        schedule: Schedule::Constant,
        augmentation: Some(Augmentation::default()),
        seed: 3,
        validation_split: 0.0,
        device: choice,
        limit: None,
    };
    let dir = std::env::temp_dir().join(format!(
        "digitpad-tiny-{architecture:?}-{choice:?}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let data = TrainData {
        train: train_set.clone(),
        validation: LabeledImages::default(),
        test: LabeledImages::default(),
    };
    // The loss of the untrained network: same seed, same initialization.
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let untrained = Network::new(&architecture.spec(), &train_device);
    let (before, _) = loss_and_accuracy(
        &predict_logits(&untrained, &train_set, &device).unwrap(),
        &train_set.labels,
    );
    let outcome = train(
        &config,
        &data,
        &device,
        &CheckpointPlan {
            dir: dir.clone(),
            resume: false,
        },
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(!outcome.interrupted);
    assert!(dir.join("state.json").is_file(), "a checkpoint was written");
    let (after, _) = loss_and_accuracy(
        &predict_logits(&outcome.network.valid(), &train_set, &device).unwrap(),
        &train_set.labels,
    );
    let _ = std::fs::remove_dir_all(&dir);
    (before, after)
}

#[test]
fn a_tiny_training_run_lowers_the_loss_on_cpu() {
    let (before, after) = tiny_run(Architecture::Seed, DeviceChoice::Cpu);
    eprintln!("cpu: loss {before:.4} -> {after:.4}");
    assert!(after < before * 0.8, "loss {before} -> {after}");
}

#[test]
fn resuming_from_a_checkpoint_continues_the_run() {
    let device = Device::flex();
    let set = common::mnist_fixture();
    let mut config = TrainConfig {
        architecture: Architecture::Mlp,
        dataset: Dataset::Mnist,
        epochs: 1,
        batch_size: 50,
        optimizer: OptimizerKind::Sgd,
        learning_rate: 0.05,
        momentum: 0.9,
        weight_decay: 0.0,
        schedule: Schedule::Cosine,
        augmentation: None,
        seed: 5,
        validation_split: 0.0,
        device: DeviceChoice::Cpu,
        limit: None,
    };
    let dir = std::env::temp_dir().join(format!("digitpad-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = TrainData {
        train: set.select(&(0..200).collect::<Vec<_>>()),
        validation: LabeledImages::default(),
        test: set.select(&(200..300).collect::<Vec<_>>()),
    };
    let plan = CheckpointPlan {
        dir: dir.clone(),
        resume: false,
    };
    let first = train(&config, &data, &device, &plan, &AtomicBool::new(false)).unwrap();
    assert_eq!(first.history.epochs.len(), 1);
    // Resuming a finished run loads its last checkpoint: the same weights, the same history.
    let plan = CheckpointPlan {
        dir: dir.clone(),
        resume: true,
    };
    let resumed = train(&config, &data, &device, &plan, &AtomicBool::new(false)).unwrap();
    assert_eq!(resumed.history, first.history);
    let a = predict_logits(&first.network, &data.test, &device).unwrap();
    let b = predict_logits(&resumed.network, &data.test, &device).unwrap();
    assert_eq!(a, b, "the checkpoint restores the network exactly");
    // A resumed run with other settings is refused rather than silently mixed.
    config.epochs = 2;
    let err = train(&config, &data, &device, &plan, &AtomicBool::new(false)).err();
    assert!(err.is_some_and(|e| e.to_string().contains("different settings")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "wgpu")]
#[test]
fn a_tiny_training_run_lowers_the_loss_on_wgpu() {
    // On a machine without a GPU this runs on Mesa's software Vulkan (llvmpipe).
    let (before, after) = tiny_run(Architecture::Seed, DeviceChoice::Gpu);
    eprintln!("wgpu: loss {before:.4} -> {after:.4}");
    assert!(after < before * 0.8, "loss {before} -> {after}");
}
