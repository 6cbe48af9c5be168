//! The training loop: shuffled mini-batches with augmentation, cross-entropy, Adam or SGD
//! with momentum under a learning-rate schedule, per-epoch validation (and test) metrics,
//! a progress bar, and a checkpoint after every epoch.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Result};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{
    momentum::MomentumConfig, AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig,
};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::augment::Augmentation;
use super::checkpoint::{self, CheckpointState};
use super::config::{EpochRecord, History, OptimizerKind, TrainConfig};
use super::data::Dataset;
use super::model::Network;
use super::pen_data::PenRedraw;
use crate::digit::{CLASSES, PIXELS, SIDE};
use crate::idx::LabeledImages;

/// The data a run uses.
pub struct TrainData {
    /// Images to learn from.
    pub train: LabeledImages,
    /// Held-out images for validation metrics (may be empty).
    pub validation: LabeledImages,
    /// Test images, evaluated after every epoch when present (may be empty).
    pub test: LabeledImages,
    /// Which test set `test` is, as figures measured on it are labelled
    /// ([`super::data::test_set_label`]; empty where nobody reports on it).
    pub test_set: String,
    /// Index of the first training image rendered from pen data: from it on, images get the
    /// random distortions but no writing styles (`train.len()` when there are none).
    pub first_pen_image: usize,
    /// Real pen digits of writers kept for validation, rendered by the page's recipe,
    /// evaluated after every epoch when present (may be empty).
    pub pen_validation: LabeledImages,
    /// Training images drawn anew from their pen drawings at the start of every epoch.
    pub pen_redraw: Option<PenRedraw>,
}

/// Mean cross-entropy of `logits` (`[N, 10]`) against soft `targets` (`[N, 10]`, each row
/// summing to its weight): `-sum(targets * log_softmax(logits)) / N`.
fn soft_cross_entropy(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let n = logits.dims()[0].max(1);
    burn::tensor::activation::log_softmax(logits, 1)
        .mul(targets)
        .sum()
        .neg()
        .div_scalar(n as f32)
}

/// The label of a training drawing that is no digit (a letter): its target is uniform over
/// the ten classes, weighted by [`super::config::PenRecipe::letter_weight`].
pub const NOT_A_DIGIT_LABEL: u8 = CLASSES as u8;

/// Per-image targets for the soft cross-entropy: one-hot for digits, `letter_weight / 10` in
/// every class for [`NOT_A_DIGIT_LABEL`].
fn soft_targets(labels: &[u8], letter_weight: f32, device: &Device) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * CLASSES];
    for (row, &label) in values.chunks_exact_mut(CLASSES).zip(labels) {
        match row.get_mut(usize::from(label)) {
            Some(slot) => *slot = 1.0,
            None => row.fill(letter_weight / CLASSES as f32),
        }
    }
    Tensor::from_data(TensorData::new(values, [labels.len(), CLASSES]), device)
}

/// What a finished (or interrupted) run leaves.
pub struct TrainOutcome {
    /// The trained network (on the training device, in training mode).
    pub network: Network,
    /// Metrics per epoch.
    pub history: History,
    /// Whether Ctrl-C stopped the run early.
    pub interrupted: bool,
}

/// Where checkpoints go and whether to continue from one.
pub struct CheckpointPlan {
    /// Folder of the run's checkpoints.
    pub dir: PathBuf,
    /// Continue from the checkpoint in `dir`.
    pub resume: bool,
}

/// The optimizer `config` asks for.
pub fn build_optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let decay = (config.weight_decay > 0.0)
        .then(|| burn::optim::decay::WeightDecayConfig::new(config.weight_decay as f32));
    match config.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_weight_decay(decay).init(),
        OptimizerKind::Sgd => SgdConfig::new()
            .with_weight_decay(decay)
            .with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(config.momentum)
                    .with_nesterov(true),
            ))
            .init(),
    }
}

/// A batch of images as a `[N, 1, 28, 28]` tensor.
pub fn images_tensor(pixels: Vec<f32>, device: &Device) -> Tensor<4> {
    let n = pixels.len() / PIXELS;
    Tensor::from_data(TensorData::new(pixels, [n, 1, SIDE, SIDE]), device)
}

/// Labels as a `[N]` integer tensor.
pub fn labels_tensor(labels: &[u8], device: &Device) -> Tensor<1, Int> {
    let labels: Vec<i64> = labels.iter().map(|&l| i64::from(l)).collect();
    let n = labels.len();
    Tensor::from_data(TensorData::new(labels, [n]), device)
}

/// Logits of `network` (in inference mode) for every image of `set`, computed on `device`
/// in batches.
pub fn predict_logits(
    network: &Network,
    set: &LabeledImages,
    device: &Device,
) -> Result<Vec<[f32; CLASSES]>> {
    const BATCH: usize = 500;
    let network = network.valid();
    let mut out = Vec::with_capacity(set.len());
    for start in (0..set.len()).step_by(BATCH) {
        let end = (start + BATCH).min(set.len());
        let pixels: Vec<f32> = set.pixels[start * PIXELS..end * PIXELS]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        let logits = network.forward(images_tensor(pixels, device));
        let values: Vec<f32> = logits
            .into_data()
            .try_to_vec()
            .map_err(|e| anyhow::anyhow!("reading logits: {e:?}"))?;
        out.extend(values.chunks(CLASSES).map(|c| {
            let mut row = [0.0; CLASSES];
            row.copy_from_slice(c);
            row
        }));
    }
    Ok(out)
}

/// Mean cross-entropy and accuracy of logits against labels.
pub fn loss_and_accuracy(logits: &[[f32; CLASSES]], labels: &[u8]) -> (f64, f64) {
    if labels.is_empty() {
        return (0.0, 0.0);
    }
    let mut loss = 0.0f64;
    let mut correct = 0usize;
    for (row, &label) in logits.iter().zip(labels) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_sum: f64 = row
            .iter()
            .map(|&l| f64::from(l - max).exp())
            .sum::<f64>()
            .ln();
        loss += log_sum - f64::from(row[usize::from(label)] - max);
        correct += usize::from(crate::scores::argmax(row) == usize::from(label));
    }
    (
        loss / labels.len() as f64,
        correct as f64 / labels.len() as f64,
    )
}

/// A training image as one step sees it: the data set's own digit images perhaps redrawn in
/// a writing style, then every image distorted. Images of a data set that is not digits, and
/// real pen drawings, are never restyled, whatever the configuration says; pen drawings get
/// `pen_elastic` (pixels) as their elastic strength when it is above 0.
pub fn augmented(
    augmentation: &Augmentation,
    dataset: Dataset,
    (image, label, from_pen): (&[f32; PIXELS], u8, bool),
    pen_elastic: f32,
    rng: &mut impl rand::Rng,
) -> [f32; PIXELS] {
    if dataset.is_digits() && !from_pen {
        augmentation.apply(image, label, rng)
    } else if from_pen && pen_elastic > 0.0 {
        Augmentation {
            elastic_alpha: pen_elastic,
            ..*augmentation
        }
        .distort(image, rng)
    } else {
        augmentation.distort(image, rng)
    }
}

/// Trains a network. `interrupt` is polled after every step: when it is set, the run stops
/// without touching the last checkpoint.
pub fn train(
    config: &TrainConfig,
    data: &TrainData,
    device: &Device,
    checkpoints: &CheckpointPlan,
    interrupt: &AtomicBool,
) -> Result<TrainOutcome> {
    if data.train.is_empty() {
        bail!("no training images");
    }
    let train_device = device.clone().autodiff();
    let spec = config.architecture.spec();
    let mut optimizer = build_optimizer(config);
    let (mut network, mut history, first_epoch) = match checkpoint::load_state(&checkpoints.dir)? {
        Some(state) if checkpoints.resume => {
            if !state.config.can_resume_as(config) {
                bail!(
                    "{}: the checkpoint was made with different settings; rerun with the same flags to resume (only --epochs may grow)\n  checkpoint: {:?}\n  now:        {:?}",
                    checkpoints.dir.display(),
                    state.config,
                    config
                );
            }
            let network = checkpoint::load_network(&checkpoints.dir, &state, &train_device)?;
            optimizer = checkpoint::load_optimizer(&checkpoints.dir, &state, optimizer)?;
            eprintln!(
                "resuming from {} after epoch {}",
                checkpoints.dir.display(),
                state.epoch
            );
            (network, state.history, state.epoch + 1)
        }
        _ => {
            train_device.seed(config.seed);
            (Network::new(&spec, &train_device), History::default(), 1)
        }
    };

    network.own_operators = config.own_operators();
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    // Runs with drawings that are no digit learn from soft targets; others keep burn's
    // cross-entropy (the same loss for one-hot targets), so older recipes run as they did.
    let letter_weight = config.pen.map_or(0.0, |p| p.letter_weight);
    let pen_elastic = config.pen.map_or(0.0, |p| p.elastic_alpha);
    let has_letters = data.train.labels.contains(&NOT_A_DIGIT_LABEL);
    let steps_per_epoch = data.train.len().div_ceil(config.batch_size);
    let total_steps = steps_per_epoch * config.epochs;
    let run_start = Instant::now();
    let already_elapsed = history.epochs.last().map_or(0.0, |e| e.elapsed_seconds);
    // Images as floats once, so that batches only copy. Without augmentation every epoch
    // shows the same images: they go to the device once, and each step sends only its
    // batch's indices.
    let train_images: Vec<[f32; PIXELS]> = (0..data.train.len())
        .map(|i| *data.train.digit(i).pixels())
        .collect();
    let mut batches = match &config.augmentation {
        None => {
            let set = ResidentSet::upload(&train_images, &data.train.labels, &train_device);
            drop(train_images);
            Batches::OnDevice(Box::new(set))
        }
        Some(augmentation) => Batches::Augmented {
            augmentation,
            images: train_images,
        },
    };

    for epoch in first_epoch..=config.epochs {
        let mut rng =
            StdRng::seed_from_u64(config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut order: Vec<usize> = (0..data.train.len()).collect();
        order.shuffle(&mut rng);
        if let (Some(redraw), Batches::Augmented { images, .. }) = (&data.pen_redraw, &mut batches)
        {
            // Epoch 1 keeps the renderings made with the data; later ones draw new ones (on
            // their own stream: the shuffle and the distortions stay as they were).
            if epoch > 1 {
                redraw.redraw(
                    images,
                    config.seed ^ (epoch as u64).wrapping_mul(0xA076_1D64_78BD_642F),
                );
            }
        }

        let bar = indicatif::ProgressBar::new(steps_per_epoch as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:25}] {pos}/{len} {msg} ({elapsed}<{eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("epoch {epoch}/{}", config.epochs));

        let epoch_start = Instant::now();
        // The epoch's loss and right answers are summed on the device: reading a value back
        // makes a GPU finish everything queued, so the host reads the sums only for the
        // progress bar every PROGRESS_EVERY steps and once at the end of the epoch.
        let mut sums = DeviceSums::default();
        let mut seen = 0usize;
        let mut seen_digits = 0usize;
        for (step_in_epoch, batch) in order.chunks(config.batch_size).enumerate() {
            if interrupt.load(Ordering::SeqCst) {
                bar.abandon_with_message("interrupted");
                return Ok(TrainOutcome {
                    network,
                    history,
                    interrupted: true,
                });
            }
            let (images, targets) = match &batches {
                Batches::OnDevice(set) => set.batch(batch, &train_device),
                Batches::Augmented {
                    augmentation,
                    images,
                } => {
                    // Each image is distorted on its own random stream, seeded in order
                    // from the epoch's: the batch is the same however many threads share it.
                    let seeds: Vec<u64> = batch.iter().map(|_| rng.random()).collect();
                    let distorted: Vec<[f32; PIXELS]> = batch
                        .par_iter()
                        .zip(&seeds)
                        .map(|(&i, &seed)| {
                            let mut image_rng = StdRng::seed_from_u64(seed);
                            let from_pen = i >= data.first_pen_image;
                            augmented(
                                augmentation,
                                config.dataset,
                                (&images[i], data.train.labels[i], from_pen),
                                pen_elastic,
                                &mut image_rng,
                            )
                        })
                        .collect();
                    let pixels: Vec<f32> = distorted.iter().flatten().copied().collect();
                    let labels: Vec<u8> = batch.iter().map(|&i| data.train.labels[i]).collect();
                    (
                        images_tensor(pixels, &train_device),
                        labels_tensor(&labels, &train_device),
                    )
                }
            };
            let step = (epoch - 1) * steps_per_epoch + step_in_epoch;
            let lr = config
                .schedule
                .rate(config.learning_rate, step, total_steps);

            let logits = network.forward(images);
            let loss = if has_letters {
                let labels: Vec<u8> = batch.iter().map(|&i| data.train.labels[i]).collect();
                soft_cross_entropy(
                    logits.clone(),
                    soft_targets(&labels, letter_weight, &train_device),
                )
            } else {
                loss_fn.forward(logits.clone(), targets.clone())
            };
            // Letters' label is no class: argmax never equals it, and they are not counted.
            let digits_in_batch = batch
                .iter()
                .filter(|&&i| data.train.labels[i] != NOT_A_DIGIT_LABEL)
                .count();
            let batch_correct = logits
                .argmax(1)
                .flatten::<1>(0, 1)
                .equal(targets)
                .int()
                .sum();
            let grads = GradientsParams::from_grads(loss.backward(), &network);
            network = optimizer.step(lr, network, grads);

            sums.add(loss.detach().mul_scalar(batch.len() as f32), batch_correct);
            seen += batch.len();
            seen_digits += digits_in_batch;
            bar.inc(1);
            if step_in_epoch % PROGRESS_EVERY == 0 {
                let (loss_sum, correct) = sums.read();
                let rate = seen as f64 / epoch_start.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "loss {:.4} acc {:.2}% {:.0} img/s",
                    loss_sum / seen as f64,
                    100.0 * correct as f64 / seen_digits.max(1) as f64,
                    rate
                ));
            }
        }
        let (loss_sum, correct) = sums.read();
        let train_seconds = epoch_start.elapsed().as_secs_f64();
        bar.finish_and_clear();

        let evaluate = |set: &LabeledImages| -> Result<Option<(f64, f64)>> {
            if set.is_empty() {
                return Ok(None);
            }
            let logits = predict_logits(&network, set, device)?;
            Ok(Some(loss_and_accuracy(&logits, &set.labels)))
        };
        let validation = evaluate(&data.validation)?;
        let test = evaluate(&data.test)?;
        let pen_validation = evaluate(&data.pen_validation)?;
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / seen as f64,
            train_accuracy: correct as f64 / seen_digits.max(1) as f64,
            val_loss: validation.map(|v| v.0),
            val_accuracy: validation.map(|v| v.1),
            test_accuracy: test.map(|t| t.1),
            pen_val_accuracy: pen_validation.map(|v| v.1),
            images_per_second: seen as f64 / train_seconds,
            train_seconds,
            elapsed_seconds: already_elapsed + run_start.elapsed().as_secs_f64(),
        };
        eprintln!("{}", format_epoch(&record, config.epochs));
        history.epochs.push(record);

        let (model_file, optimizer_file) = checkpoint::file_names(epoch);
        checkpoint::save(
            &checkpoints.dir,
            &network,
            &optimizer,
            &CheckpointState {
                epoch,
                config: config.clone(),
                history: history.clone(),
                model_file,
                optimizer_file,
            },
        )?;
    }
    Ok(TrainOutcome {
        network,
        history,
        interrupted: false,
    })
}

/// Where a run's batches come from.
enum Batches<'a> {
    /// The training set, uploaded once (runs without augmentation).
    OnDevice(Box<ResidentSet>),
    /// The training images on the host, distorted anew for every batch.
    Augmented {
        augmentation: &'a Augmentation,
        images: Vec<[f32; PIXELS]>,
    },
}

/// A training set held on the device, batches gathered there by index.
struct ResidentSet {
    images: Tensor<4>,
    labels: Tensor<1, Int>,
}

impl ResidentSet {
    fn upload(images: &[[f32; PIXELS]], labels: &[u8], device: &Device) -> ResidentSet {
        ResidentSet {
            images: images_tensor(images.concat(), device),
            labels: labels_tensor(labels, device),
        }
    }

    /// The images and labels at `indices`, in that order.
    fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let indices: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let n = indices.len();
        let indices = Tensor::<1, Int>::from_data(TensorData::new(indices, [n]), device);
        (
            self.images.clone().select(0, indices.clone()),
            self.labels.clone().select(0, indices),
        )
    }
}

/// Steps between two updates of the progress bar's loss and accuracy (each one a read from
/// the device).
const PROGRESS_EVERY: usize = 20;

/// Running sums of an epoch's loss (times batch size) and right answers, kept on the training
/// device so that adding to them does not wait for the device.
#[derive(Default)]
struct DeviceSums {
    loss: Option<Tensor<1>>,
    correct: Option<Tensor<1, Int>>,
}

impl DeviceSums {
    fn add(&mut self, loss: Tensor<1>, correct: Tensor<1, Int>) {
        self.loss = Some(match self.loss.take() {
            Some(sum) => sum + loss,
            None => loss,
        });
        self.correct = Some(match self.correct.take() {
            Some(sum) => sum + correct,
            None => correct,
        });
    }

    /// The sums so far, read back to the host (0 before the first step).
    fn read(&self) -> (f64, usize) {
        let loss = self
            .loss
            .clone()
            .map_or(0.0, |t| f64::from(t.into_scalar::<f32>()));
        let correct = self
            .correct
            .clone()
            .map_or(0, |t| t.into_scalar::<i64>().max(0) as usize);
        (loss, correct)
    }
}

/// One line per epoch for the log.
fn format_epoch(r: &EpochRecord, epochs: usize) -> String {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", 100.0 * v));
    format!(
        "epoch {}/{}: loss {:.4} acc {:.2}% | val loss {} acc {} | pen val acc {} | test acc {} | {:.0} img/s, {:.1} s (total {:.1} s)",
        r.epoch,
        epochs,
        r.train_loss,
        100.0 * r.train_accuracy,
        r.val_loss.map_or("-".to_string(), |v| format!("{v:.4}")),
        pct(r.val_accuracy),
        pct(r.pen_val_accuracy),
        pct(r.test_accuracy),
        r.images_per_second,
        r.train_seconds,
        r.elapsed_seconds
    )
}

#[cfg(test)]
mod tests;
