//! What determines a training run and what it records: the configuration (saved with each
//! checkpoint and in the model's metadata) and the per-epoch history. Plain data, shared by
//! the training loop, checkpoints, plots and the model card; it depends on none of them.

use serde::{Deserialize, Serialize};

use super::augment::Augmentation;
use super::data::Dataset;
use super::device::DeviceChoice;
use super::model::Architecture;
use super::pen_data::StrokeJitter;

/// Which optimizer updates the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba).
    Adam,
    /// Stochastic gradient descent with Nesterov momentum.
    Sgd,
}

/// Who computes the network's convolutions, 2x2 max poolings and batch norms (three
/// operators) while it trains on the CPU. Called `ConvImpl`, `conv` and `--conv` (values
/// `burn`, `gemm`) until 2026-12-07: older checkpoints, metadata and commands still read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TrainingOperators {
    /// burn's operators, as flex runs them.
    Burn,
    /// This crate's operators, each with its own backward step: convolutions as im2col and
    /// matrix products ([`super::ops::gemm_conv`]), max pooling ([`super::ops::max_pool`]),
    /// batch norm with the ReLU after it ([`super::ops::batch_norm`]). The default; on the
    /// CPU only (elsewhere burn's).
    #[serde(alias = "gemm")]
    #[value(alias = "gemm")]
    Own,
}

impl TrainingOperators {
    /// What a configuration saved before this setting existed trained with.
    fn of_older_runs() -> Self {
        TrainingOperators::Burn
    }
}

/// How the learning rate changes over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Linear warm-up over the first 15% of steps, then cosine decay to zero.
    OneCycle,
    /// Cosine decay from the start.
    Cosine,
    /// The same rate throughout.
    Constant,
}

impl OptimizerKind {
    /// The peak learning rate used when none is given. For Adam, the shipped recipe's: of
    /// 0.006, 0.004, 0.003 and 0.002 under this crate's operators, 0.002 ended with the lowest
    /// validation loss (docs/decisions/training-operators.md).
    pub fn default_learning_rate(self) -> f64 {
        match self {
            OptimizerKind::Adam => 0.002,
            OptimizerKind::Sgd => 0.05,
        }
    }
}

impl Schedule {
    /// The learning rate at `step` of `total` steps for a peak rate of `peak`.
    pub fn rate(self, peak: f64, step: usize, total: usize) -> f64 {
        let t = step as f64 / total.max(1) as f64;
        let cosine = |t: f64| 0.5 * (1.0 + (std::f64::consts::PI * t.clamp(0.0, 1.0)).cos());
        match self {
            Schedule::Constant => peak,
            Schedule::Cosine => peak * cosine(t),
            Schedule::OneCycle => {
                const WARMUP: f64 = 0.15;
                if t < WARMUP {
                    peak * (0.1 + 0.9 * t / WARMUP)
                } else {
                    peak * cosine((t - WARMUP) / (1.0 - WARMUP))
                }
            }
        }
    }
}

/// Everything that determines a training run (saved with each checkpoint and in the model's
/// metadata). [`Default`] is the shipped model's recipe, what `digitpad train` runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Network to train.
    pub architecture: Architecture,
    /// Data set to train on.
    pub dataset: Dataset,
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per optimizer step.
    pub batch_size: usize,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Momentum for SGD.
    pub momentum: f64,
    /// L2 weight decay (0 = none).
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Who computes the convolutions, poolings and batch norms on the CPU (older
    /// checkpoints: burn).
    #[serde(default = "TrainingOperators::of_older_runs", alias = "conv")]
    pub operators: TrainingOperators,
    /// Random distortions of training images (`None` = off).
    pub augmentation: Option<Augmentation>,
    /// Seed for initialization, shuffling and augmentation.
    pub seed: u64,
    /// Fraction of the training set held out for validation (the last part, as Keras does).
    pub validation_split: f64,
    /// Where to train.
    pub device: DeviceChoice,
    /// Use only this many training images (for quick runs and tests).
    pub limit: Option<usize>,
    /// Real pen writing learnt from beside the data set's images (`None`: the images only,
    /// as every run before pen data was).
    #[serde(default)]
    pub pen: Option<PenRecipe>,
    /// Pen-data contributors kept out of training and tuning beside the validation ones
    /// (`--hold-out`): a stand-in for a site the product has never seen. Empty in the
    /// shipped recipe.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pen_held_out: Vec<String>,
}

/// How a run learns from real pen writing ([`super::pen_data`]): the digits of the training
/// writers, rendered by the page's recipe, join the training images; the letters of the
/// training writers are shown as drawings that are no digit, with a uniform target over the
/// ten classes ("outlier exposure", Hendrycks et al. 2019), so that the model's confidence
/// drops on shapes that are not digits and the "not a digit" rule can tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PenRecipe {
    /// Renderings of each training digit (the first as written, the others varied by
    /// `jitter`); each is distorted again like the images.
    pub digit_copies: usize,
    /// Whether the varied renderings are drawn anew every epoch (else once, before training):
    /// a drawing then stands for `(digit_copies - 1) * epochs` variations instead of
    /// `digit_copies - 1`, at the same cost per epoch. Off in recipes saved before it existed.
    #[serde(default)]
    pub redraw_each_epoch: bool,
    /// How each training digit is varied for its extra renderings.
    pub jitter: StrokeJitter,
    /// Strength of the smooth elastic displacement (pixels; 0 = none) added to the pen
    /// drawings' distortions, digits and letters, on top of the images' augmentation: a
    /// drawing bends a little differently every time it is shown. 0 in recipes saved before
    /// it existed.
    #[serde(default)]
    pub elastic_alpha: f32,
    /// Weight of a letter's uniform target against a digit's one-hot target (0: letters are
    /// not used).
    pub letter_weight: f32,
}

impl PenRecipe {
    /// The shipped recipe's.
    pub const SHIPPED: PenRecipe = PenRecipe {
        digit_copies: 3,
        redraw_each_epoch: false,
        jitter: StrokeJitter::SHIPPED,
        elastic_alpha: 0.0,
        letter_weight: 0.5,
    };
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            architecture: Architecture::Digitnet,
            dataset: Dataset::Mnist,
            epochs: 11,
            batch_size: 128,
            optimizer: OptimizerKind::Adam,
            learning_rate: OptimizerKind::Adam.default_learning_rate(),
            momentum: 0.9,
            weight_decay: 0.0,
            schedule: Schedule::OneCycle,
            operators: TrainingOperators::Own,
            augmentation: Some(Augmentation::default()),
            seed: 1,
            validation_split: 0.1,
            device: DeviceChoice::Cpu,
            limit: None,
            pen: Some(PenRecipe::SHIPPED),
            pen_held_out: Vec::new(),
        }
    }
}

impl TrainConfig {
    /// The recipe `digitpad train --dataset DATASET` runs with no other flag: the one place
    /// each data set's training defaults are written. Digits: [`TrainConfig::default`], the
    /// shipped model's. Clothes: the shipped network's convolutions with a flattened head
    /// ([`Architecture::Clothnet`]), the same optimizer, more epochs, no writing styles and
    /// no pen data, mirror images instead of rotation and shear ([`Augmentation::clothing`];
    /// docs/trainer.md has the measurements).
    pub fn recipe(dataset: Dataset) -> TrainConfig {
        match dataset {
            Dataset::Mnist => TrainConfig::default(),
            Dataset::FashionMnist => TrainConfig {
                architecture: Architecture::Clothnet,
                dataset,
                epochs: 16,
                augmentation: Some(Augmentation::clothing()),
                pen: None,
                ..TrainConfig::default()
            },
        }
    }

    /// Whether the network trains with this crate's operators ([`super::ops`]): asked for,
    /// and on the CPU (flex), the only backend that has them.
    pub fn own_operators(&self) -> bool {
        self.operators == TrainingOperators::Own && self.device == DeviceChoice::Cpu
    }

    /// Whether a checkpoint made under `self` may be continued under `other`: every setting
    /// equal except the number of epochs, which may grow (the learning-rate schedule then
    /// stretches over the new total from the next step on).
    pub fn can_resume_as(&self, other: &TrainConfig) -> bool {
        let same_but_epochs = TrainConfig {
            epochs: other.epochs,
            ..self.clone()
        };
        same_but_epochs == *other && other.epochs >= self.epochs
    }
}

/// Metrics of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch (on augmented images, in training mode).
    pub train_loss: f64,
    /// Training accuracy over the epoch (same caveats).
    pub train_accuracy: f64,
    /// Validation loss (held-out part of the training set).
    pub val_loss: Option<f64>,
    /// Validation accuracy.
    pub val_accuracy: Option<f64>,
    /// Test-set accuracy, when a test set was given.
    pub test_accuracy: Option<f64>,
    /// Accuracy of the classifier alone on real pen digits of the validation writers, when
    /// the run had pen data.
    #[serde(default)]
    pub pen_val_accuracy: Option<f64>,
    /// Training throughput (optimizer steps only, evaluation excluded).
    pub images_per_second: f64,
    /// Wall time of the epoch's training steps, in seconds.
    pub train_seconds: f64,
    /// Wall time since the start of the run, evaluation included, in seconds.
    pub elapsed_seconds: f64,
}

/// Every epoch of a run so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// In epoch order.
    pub epochs: Vec<EpochRecord>,
}

impl EpochRecord {
    /// The record without its timings: what a run computed, as opposed to how long it took.
    /// Two runs of the same configuration on the CPU agree on this exactly.
    pub fn without_timings(&self) -> EpochRecord {
        EpochRecord {
            images_per_second: 0.0,
            train_seconds: 0.0,
            elapsed_seconds: 0.0,
            ..self.clone()
        }
    }
}

impl History {
    /// Wall time (evaluation included) until the test accuracy first reached `target`.
    pub fn seconds_to_test_accuracy(&self, target: f64) -> Option<(usize, f64)> {
        self.epochs
            .iter()
            .find(|e| e.test_accuracy.is_some_and(|a| a >= target))
            .map(|e| (e.epoch, e.elapsed_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cycle_warms_up_then_decays_to_zero() {
        let s = Schedule::OneCycle;
        assert!((s.rate(1.0, 0, 100) - 0.1).abs() < 1e-9);
        assert!((s.rate(1.0, 15, 100) - 1.0).abs() < 1e-9);
        assert!(s.rate(1.0, 100, 100).abs() < 1e-9);
        assert!(s.rate(1.0, 50, 100) < 1.0 && s.rate(1.0, 50, 100) > 0.0);
    }

    #[test]
    fn a_run_may_be_resumed_with_more_epochs_but_no_other_change() {
        let saved = TrainConfig {
            epochs: 2,
            ..TrainConfig::default()
        };
        assert!(saved.can_resume_as(&saved));
        let longer = TrainConfig {
            epochs: 5,
            ..saved.clone()
        };
        assert!(saved.can_resume_as(&longer));
        let shorter = TrainConfig {
            epochs: 1,
            ..saved.clone()
        };
        assert!(!saved.can_resume_as(&shorter));
        let other_seed = TrainConfig {
            seed: 9,
            ..longer.clone()
        };
        assert!(!saved.can_resume_as(&other_seed));
    }

    #[test]
    fn a_history_round_trips_through_json_exactly() {
        // A throughput that serde_json without `float_roundtrip` read back one ulp off.
        let record = EpochRecord {
            epoch: 1,
            train_loss: 0.1 + 0.2,
            train_accuracy: 2.0 / 3.0,
            val_loss: Some(1e-300),
            val_accuracy: None,
            test_accuracy: Some(0.987_654_321_012_345_6),
            pen_val_accuracy: Some(0.75),
            images_per_second: 9018.807008442776,
            train_seconds: std::f64::consts::PI,
            elapsed_seconds: 1.0 / 7.0,
        };
        let history = History {
            epochs: vec![record],
        };
        let text = serde_json::to_string(&history).unwrap();
        assert_eq!(serde_json::from_str::<History>(&text).unwrap(), history);
    }

    #[test]
    fn a_config_round_trips_through_json_exactly() {
        let config = TrainConfig {
            learning_rate: 0.1 + 0.2,
            validation_split: 1.0 / 3.0,
            ..TrainConfig::default()
        };
        let text = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<TrainConfig>(&text).unwrap(), config);
    }

    /// New runs compute with this crate's operators; a configuration saved before the
    /// setting existed (checkpoints, model metadata) trained with burn's, and reads so.
    #[test]
    fn configurations_without_the_operator_setting_trained_with_burns() {
        assert_eq!(TrainConfig::default().operators, TrainingOperators::Own);
        let mut json = serde_json::to_value(TrainConfig::default()).unwrap();
        json.as_object_mut().unwrap().remove("operators");
        let older: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(older.operators, TrainingOperators::Burn);
    }

    /// Configurations saved under the old names (`"conv": "gemm"`, `"architecture":
    /// "seed"`) read as the renamed settings.
    #[test]
    fn configurations_saved_under_the_old_names_still_read() {
        let mut json = serde_json::to_value(TrainConfig::default()).unwrap();
        let object = json.as_object_mut().unwrap();
        object.remove("operators");
        object.insert("conv".into(), "gemm".into());
        object.insert("architecture".into(), "seed".into());
        let older: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(older.operators, TrainingOperators::Own);
        assert_eq!(older.architecture, Architecture::Keras);
    }

    /// No recipe but the digits' draws writing styles or reads pen data.
    #[test]
    fn only_digit_recipes_have_styles_or_pen_data() {
        for dataset in [Dataset::Mnist, Dataset::FashionMnist] {
            let recipe = TrainConfig::recipe(dataset);
            assert_eq!(recipe.dataset, dataset);
            let styles = recipe.augmentation.is_some_and(|a| a.styles.any());
            assert_eq!(styles, dataset.is_digits(), "{dataset:?}");
            assert_eq!(recipe.pen.is_some(), dataset.is_digits(), "{dataset:?}");
        }
    }
}
