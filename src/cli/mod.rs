//! The native command line: `train`, `eval`, `predict`, `export`, `calibrate`, `adapt-eval`,
//! `bench`, `profile`, `tune-grouping`. This file parses it and holds what several commands
//! share (the data-set and pen-data flags, reading model and JSON files); each command is a
//! module of its own.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::classifier::Classifier;
use crate::files::write_atomically;
use crate::preprocess::GrayImage;
use crate::train::augment::Augmentation;
use crate::train::checkpoint;
use crate::train::config::PenRecipe;
use crate::train::config::{OptimizerKind, Schedule, TrainConfig, TrainingOperators};
use crate::train::data::{self, Dataset, Split};
use crate::train::device::DeviceChoice;
use crate::train::evaluation::{evaluate_onnx, EvalFile};
use crate::train::model::Architecture;
use crate::train::pen_data::{self, PenData, Role};
use crate::train::run::{self, RunOptions};
use crate::train::styles::StyleRates;
use crate::trust::Verdict;
use crate::DigitImage;

mod adapt_eval;
mod bench;
mod calibrate;
mod eval;
mod export;
mod fixture;
mod pictures;
mod predict;
mod profile;
mod train;
mod tune_grouping;

/// Train, evaluate and run the digit recognizer's CNN.
#[derive(Parser, Debug)]
#[command(name = "digitpad", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a network, export it to ONNX (checked under tract), evaluate it and write the
    /// model folder (target/models/ARCH-DATASET). With no flags, the shipped recipe; `--out
    /// model` replaces the shipped model (docs/trainer.md, "Shipping a model").
    Train(train::TrainArgs),
    /// Evaluate an ONNX model on the test set: accuracy, per-class precision/recall/F1,
    /// macro F1, confusion matrix, one-vs-rest ROC-AUC.
    Eval(eval::EvalArgs),
    /// Classify image files (PNG/JPEG of any size, either polarity) or stroke files
    /// (`.strokes`, the format of tests/fixtures/strokes).
    Predict(predict::PredictArgs),
    /// Export a training checkpoint to ONNX (checked under tract) with its metrics and card.
    Export(export::ExportArgs),
    /// Fit a model's confidence calibration and "not a digit" rules on the validation split
    /// and store them in the file (as `train` does after training); rewrites the model
    /// folder's metrics, calibration report, reliability diagram and card.
    Calibrate(calibrate::CalibrateArgs),
    /// Simulate people correcting the page, writer by writer (generated writers' folders or
    /// real pen writers): sessions with every miss corrected, and k corrections per digit.
    AdaptEval(adapt_eval::AdaptEvalArgs),
    /// Time single-image inference of an ONNX model under tract (native), and print JSON.
    Bench(bench::BenchArgs),
    /// Write the first COUNT test images as a gzipped IDX fixture (for the test suite).
    #[command(hide = true)]
    Fixture(fixture::FixtureArgs),
    /// Redraw a model folder's pictures from its history.json and metrics.json, and rewrite
    /// its card's page form (card.html) from README.md.
    #[command(hide = true)]
    Pictures(pictures::PicturesArgs),
    /// Time the parts of a training step (batching, each forward operation, backward,
    /// optimizer) and each convolution alone.
    Profile(profile::ProfileArgs),
    /// Fit the number reader's weights on a folder of written numbers (a tuning set, made by
    /// tests/fixtures/numbers/make_numbers.py with another seed), and score them.
    #[command(hide = true)]
    TuneGrouping(tune_grouping::TuneGroupingArgs),
}

#[derive(Args, Debug, Clone)]
struct DataArgs {
    /// Data set to use.
    #[arg(long, value_enum, default_value = "mnist")]
    dataset: Dataset,
    /// Folder holding the four IDX files (gzipped or not). Else $MNIST_DIR (or
    /// $FASHION_MNIST_DIR), else the per-user cache, else a download into the cache.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// Where real pen writing is read from.
#[derive(Args, Debug, Clone)]
struct PenArgs {
    /// Folder of real pen writing in UNIPEN's JSON-lines form (digits.jsonl, letters.jsonl).
    /// Else $PEN_DATA_DIR, else ../shared/unipen when it exists.
    #[arg(long, value_name = "DIR")]
    pen_data: Option<PathBuf>,
    /// Keep this pen-data contributor (a whole collecting site, e.g. ced) out of training
    /// and tuning as well, and count its writers as validation: a stand-in for a site never
    /// seen (docs/trainer.md, "The writer-disjoint split"). Repeatable.
    #[arg(long, value_name = "CONTRIBUTOR", value_delimiter = ',')]
    hold_out: Vec<String>,
}

/// Parses the command line and runs the command.
pub fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Train(args) => train::train(args),
        Command::Eval(args) => eval::eval(args),
        Command::Predict(args) => predict::predict(args),
        Command::Export(args) => export::export(args),
        Command::Calibrate(args) => calibrate::calibrate(args),
        Command::AdaptEval(args) => adapt_eval::adapt_eval(args),
        Command::Bench(args) => bench::bench(args),
        Command::Fixture(args) => fixture::fixture(args),
        Command::Pictures(args) => pictures::pictures(args),
        Command::TuneGrouping(args) => tune_grouping::tune_grouping(args),
        Command::Profile(args) => profile::profile(args),
    }
}

/// Reads and parses the JSON file `path`; errors name the file and what it should have been.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: not {what}", path.display()))
}

fn command_line() -> String {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(first) = args.first_mut() {
        *first = "digitpad".into();
    }
    args.join(" ")
}

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

fn read_model(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading model {}", path.display()))
}
