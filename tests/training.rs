//! The trainer: every architecture exports to ONNX that tract runs like burn, and a tiny
//! training run lowers the loss, on the CPU backend and (with the `wgpu` feature) on wgpu,
//! which here runs on Mesa's software Vulkan.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};

use burn::module::Module;
use burn::tensor::Device;
use clap::ValueEnum;
use digitpad::idx::LabeledImages;
use digitpad::train::config::{
    EpochRecord, OptimizerKind, Schedule, TrainConfig, TrainingOperators,
};
use digitpad::train::device::DeviceChoice;
use digitpad::train::model::{Architecture, Network};
use digitpad::train::to_onnx::{check_parity, export, PARITY_TOLERANCE};
use digitpad::train::training::{
    images_tensor, loss_and_accuracy, predict_logits, train, CheckpointPlan, TrainData,
};
use digitpad::PIXELS;

/// burn seeds a device's random generator for the whole process, and the test harness runs
/// tests on several threads: every test here holds this lock, so that no other test draws
/// from the generator between a seed and the initialization it is meant to fix.
fn seeded_rng() -> MutexGuard<'static, ()> {
    static RNG: Mutex<()> = Mutex::new(());
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every architecture the CLI offers: a new one is covered without touching this file.
fn architectures() -> &'static [Architecture] {
    Architecture::value_variants()
}

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
    let _rng = seeded_rng();
    let device = Device::flex();
    let set = common::mnist_fixture();
    let subset = set.select(&(0..200).collect::<Vec<_>>());
    for &architecture in architectures() {
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
    let _rng = seeded_rng();
    use prost::Message;
    let device = Device::flex();
    let set = common::mnist_fixture();
    for &architecture in architectures() {
        let network = randomly_initialized(architecture, &set, &device);
        let bytes = export(&network, &[]).unwrap();
        let model = tract_onnx::pb::ModelProto::decode(bytes.as_slice()).unwrap();
        assert!(model.ir_version <= 8 && model.opset_import[0].version >= 13);
        let graph = model.graph.unwrap();
        for node in &graph.node {
            assert!(
                digitpad::onnx::ops::SUPPORTED_OPS.contains(&node.op_type.as_str()),
                "{architecture:?} uses {}",
                node.op_type
            );
        }
        let outputs: Vec<_> = graph.output.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(outputs, ["logits", "features"]);
        assert_eq!(graph.input[0].name, "image");
    }
}

/// Trains `architecture` for two epochs on 400 fixture images (with the default, shipped
/// augmentation) and returns the loss on those images before and after.
fn tiny_run(architecture: Architecture, choice: DeviceChoice) -> (f64, f64) {
    let (before, after, _) = tiny_run_with(architecture, choice, TrainingOperators::Burn);
    (before, after)
}

/// [`tiny_run`] with the training operators `operators`; also returns the trained network's
/// logits on the 400 images.
fn tiny_run_with(
    architecture: Architecture,
    choice: DeviceChoice,
    operators: TrainingOperators,
) -> (f64, f64, Vec<[f32; 10]>) {
    let device = choice.device().unwrap();
    let set = common::mnist_fixture();
    let train_set = set.select(&(0..400).collect::<Vec<_>>());
    let config = TrainConfig {
        architecture,
        epochs: 2,
        batch_size: 32,
        learning_rate: 0.003,
        schedule: Schedule::Constant,
        seed: 3,
        validation_split: 0.0,
        device: choice,
        operators,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let data = TrainData {
        train: train_set.clone(),
        validation: LabeledImages::default(),
        test: LabeledImages::default(),
        test_set: String::new(),
        first_pen_image: usize::MAX,
        pen_redraw: None,
        pen_validation: LabeledImages::default(),
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
            dir: dir.path().to_path_buf(),
            resume: false,
        },
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(!outcome.interrupted);
    assert!(
        dir.path().join("state.json").is_file(),
        "a checkpoint was written"
    );
    let logits = predict_logits(&outcome.network.valid(), &train_set, &device).unwrap();
    let (after, _) = loss_and_accuracy(&logits, &train_set.labels);
    (before, after, logits)
}

#[test]
fn a_tiny_training_run_lowers_the_loss_on_cpu() {
    let _rng = seeded_rng();
    let (before, after) = tiny_run(Architecture::Keras, DeviceChoice::Cpu);
    eprintln!("cpu: loss {before:.4} -> {after:.4}");
    assert!(after < before * 0.8, "loss {before} -> {after}");
}

/// The convolutions of this crate (`--operators own`) train too, and a seed gives the same run
/// twice with them (their weight gradients are summed in a fixed order).
#[test]
fn a_tiny_run_with_our_operators_lowers_the_loss_and_repeats_exactly() {
    let _rng = seeded_rng();
    let (before, after, first) = tiny_run_with(
        Architecture::Quick,
        DeviceChoice::Cpu,
        TrainingOperators::Own,
    );
    eprintln!("cpu, our operators: loss {before:.4} -> {after:.4}");
    assert!(after < before * 0.8, "loss {before} -> {after}");
    let (_, again, second) = tiny_run_with(
        Architecture::Quick,
        DeviceChoice::Cpu,
        TrainingOperators::Own,
    );
    assert_eq!(after.to_bits(), again.to_bits());
    assert_eq!(first, second);
    // And they are what computed it: burn's convolutions, same seed, round differently.
    let (_, _, burns) = tiny_run_with(
        Architecture::Quick,
        DeviceChoice::Cpu,
        TrainingOperators::Burn,
    );
    assert_ne!(
        first, burns,
        "--operators own trained exactly as --operators burn did"
    );
}

/// Asserts that two histories computed the same metrics (within float noise), ignoring the
/// timings, which are measurements rather than state.
fn assert_same_metrics(a: &[EpochRecord], b: &[EpochRecord]) {
    assert_eq!(a.len(), b.len(), "epochs");
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-6 * x.abs().max(1.0);
    let opt_close = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => close(x, y),
        (x, y) => x == y,
    };
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (x.without_timings(), y.without_timings());
        let same = x.epoch == y.epoch
            && close(x.train_loss, y.train_loss)
            && close(x.train_accuracy, y.train_accuracy)
            && opt_close(x.val_loss, y.val_loss)
            && opt_close(x.val_accuracy, y.val_accuracy)
            && opt_close(x.test_accuracy, y.test_accuracy);
        assert!(same, "{x:?}\n{y:?}");
    }
}

#[test]
fn a_run_stopped_after_one_epoch_and_resumed_equals_an_uninterrupted_run() {
    let _rng = seeded_rng();
    let device = Device::flex();
    let set = common::mnist_fixture();
    let data = TrainData {
        train: set.select(&(0..200).collect::<Vec<_>>()),
        validation: set.select(&(300..350).collect::<Vec<_>>()),
        test: set.select(&(200..300).collect::<Vec<_>>()),
        test_set: String::new(),
        first_pen_image: usize::MAX,
        pen_redraw: None,
        pen_validation: LabeledImages::default(),
    };
    let two_epochs = TrainConfig {
        architecture: Architecture::Mlp,
        epochs: 2,
        batch_size: 50,
        optimizer: OptimizerKind::Sgd,
        learning_rate: 0.05,
        schedule: Schedule::Constant,
        augmentation: None,
        seed: 5,
        ..TrainConfig::default()
    };
    let run = |config: &TrainConfig, dir: &std::path::Path, resume: bool| {
        let plan = CheckpointPlan {
            dir: dir.to_path_buf(),
            resume,
        };
        train(config, &data, &device, &plan, &AtomicBool::new(false)).unwrap()
    };

    let straight_dir = tempfile::tempdir().unwrap();
    let straight = run(&two_epochs, straight_dir.path(), false);
    assert_eq!(straight.history.epochs.len(), 2);

    // Stop after epoch 1 (a run of one epoch), then resume it with --epochs 2.
    let dir = tempfile::tempdir().unwrap();
    let one_epoch = TrainConfig {
        epochs: 1,
        ..two_epochs.clone()
    };
    let first = run(&one_epoch, dir.path(), false);
    assert_eq!(first.history.epochs.len(), 1);
    let resumed = run(&two_epochs, dir.path(), true);

    // The resumed run computes what the uninterrupted run computed.
    assert_same_metrics(&resumed.history.epochs, &straight.history.epochs);
    let a = predict_logits(&straight.network, &data.test, &device).unwrap();
    let b = predict_logits(&resumed.network, &data.test, &device).unwrap();
    let worst = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-5, "weights differ: max |logit diff| {worst}");

    // The checkpoint round-trips the history exactly (timings included).
    let state = digitpad::train::checkpoint::load_state(dir.path())
        .unwrap()
        .unwrap();
    assert_eq!(state.history, resumed.history);
    assert_eq!(state.epoch, 2);

    // A resumed run with other settings is refused rather than silently mixed.
    let other = TrainConfig {
        seed: 6,
        ..two_epochs.clone()
    };
    let plan = CheckpointPlan {
        dir: dir.path().to_path_buf(),
        resume: true,
    };
    let err = train(&other, &data, &device, &plan, &AtomicBool::new(false)).err();
    assert!(err.is_some_and(|e| e.to_string().contains("different settings")));
}

#[test]
fn an_interrupted_run_stops_and_keeps_no_partial_epoch() {
    let _rng = seeded_rng();
    let device = Device::flex();
    let set = common::mnist_fixture();
    let data = TrainData {
        train: set.select(&(0..100).collect::<Vec<_>>()),
        validation: LabeledImages::default(),
        test: LabeledImages::default(),
        test_set: String::new(),
        first_pen_image: usize::MAX,
        pen_redraw: None,
        pen_validation: LabeledImages::default(),
    };
    let config = TrainConfig {
        architecture: Architecture::Mlp,
        epochs: 3,
        batch_size: 50,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let plan = CheckpointPlan {
        dir: dir.path().to_path_buf(),
        resume: false,
    };
    let outcome = train(&config, &data, &device, &plan, &AtomicBool::new(true)).unwrap();
    assert!(outcome.interrupted);
    assert!(outcome.history.epochs.is_empty());
    assert!(!dir.path().join("state.json").exists());
}

#[cfg(feature = "wgpu")]
#[test]
fn a_tiny_training_run_lowers_the_loss_on_wgpu() {
    let _rng = seeded_rng();
    // On a machine without a GPU this runs on Mesa's software Vulkan (llvmpipe).
    let (before, after) = tiny_run(Architecture::Keras, DeviceChoice::Gpu);
    eprintln!("wgpu: loss {before:.4} -> {after:.4}");
    assert!(after < before * 0.8, "loss {before} -> {after}");
}
