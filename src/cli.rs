//! The native command line: `train`, `eval`, `predict`, `export`, `calibrate`, `adapt-eval`,
//! `bench`, `profile`, `tune-grouping`.

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
use crate::train::config::{ConvImpl, OptimizerKind, Schedule, TrainConfig};
use crate::train::data::{self, Dataset, Split};
use crate::train::device::DeviceChoice;
use crate::train::evaluation::{evaluate_onnx, EvalFile};
use crate::train::model::Architecture;
use crate::train::pen_data::{self, PenData, Role};
use crate::train::run::{self, RunOptions};
use crate::train::styles::StyleRates;
use crate::trust::Verdict;
use crate::DigitImage;

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
    Train(TrainArgs),
    /// Evaluate an ONNX model on the test set: accuracy, per-class precision/recall/F1,
    /// macro F1, confusion matrix, one-vs-rest ROC-AUC.
    Eval(EvalArgs),
    /// Classify image files (PNG/JPEG of any size, either polarity) or stroke files
    /// (`.strokes`, the format of tests/fixtures/strokes).
    Predict(PredictArgs),
    /// Export a training checkpoint to ONNX (checked under tract) with its metrics and card.
    Export(ExportArgs),
    /// Fit a model's confidence calibration and "not a digit" rules on the validation split
    /// and store them in the file (as `train` does after training); rewrites the model
    /// folder's metrics, calibration report, reliability diagram and card.
    Calibrate(CalibrateArgs),
    /// Simulate people correcting the page: for each writer in a folder of writers' drawings,
    /// accuracy on their other drawings before and after k corrections per digit.
    AdaptEval(AdaptEvalArgs),
    /// Time single-image inference of an ONNX model under tract (native), and print JSON.
    Bench(BenchArgs),
    /// Write the first COUNT test images as a gzipped IDX fixture (for the test suite).
    #[command(hide = true)]
    Fixture(FixtureArgs),
    /// Redraw a model folder's pictures from its history.json and metrics.json.
    #[command(hide = true)]
    Pictures(PicturesArgs),
    /// Time the parts of a training step (batching, each forward operation, backward,
    /// optimizer) and each convolution alone.
    Profile(ProfileArgs),
    /// Fit the number reader's weights on a folder of written numbers (a tuning set, made by
    /// tests/fixtures/numbers/make_numbers.py with another seed), and score them.
    #[command(hide = true)]
    TuneGrouping(TuneGroupingArgs),
}

#[derive(Args, Debug)]
struct ProfileArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Network to profile.
    #[arg(long = "arch", value_enum, default_value = "digitnet")]
    architecture: Architecture,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Steps to time (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Where to train: cpu (burn flex), gpu (burn wgpu), cuda, ndarray.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceChoice,
    /// Who computes the convolutions, poolings and batch norms on the CPU: gemm (this
    /// crate's) or burn (flex's).
    #[arg(long, value_enum, default_value = "gemm")]
    conv: ConvImpl,
}

#[derive(Args, Debug)]
struct TuneGroupingArgs {
    /// Folder of `<nn>-<number>.strokes` files (none: numbers composed from real pen digits
    /// only, see --pen-data).
    dir: Option<PathBuf>,
    /// Also compose numbers from the real pen digits of the tuning writers in this folder
    /// (UNIPEN JSON lines; 12 numbers of 2-5 digits per writer).
    #[arg(long, value_name = "DIR")]
    pen_data: Option<PathBuf>,
    /// The ONNX model.
    #[arg(long, default_value = "model/digitnet.onnx")]
    model: PathBuf,
    /// Random weight settings to try (0: only score the current weights).
    #[arg(long, default_value_t = 0)]
    tries: usize,
}

#[derive(Args, Debug)]
struct PicturesArgs {
    /// The model folder.
    #[arg(default_value = "model")]
    dir: PathBuf,
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
}

#[derive(Args, Debug)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Learn from the data set's images alone, without real pen writing.
    #[arg(long)]
    no_pen_data: bool,
    /// Renderings of each training writer's pen digit (as written, then varied).
    #[arg(long, value_name = "N", default_value_t = PenRecipe::SHIPPED.digit_copies)]
    pen_copies: usize,
    /// Weight of a pen letter's uniform target (0: letters are not used).
    #[arg(long, value_name = "W", default_value_t = PenRecipe::SHIPPED.letter_weight)]
    letter_weight: f32,
    /// Network to train.
    #[arg(long = "arch", value_enum, default_value_t = DEFAULTS.architecture)]
    architecture: Architecture,
    /// Passes over the training set.
    #[arg(long, default_value_t = DEFAULTS.epochs)]
    epochs: usize,
    /// Images per optimizer step.
    #[arg(long, default_value_t = DEFAULTS.batch_size)]
    batch_size: usize,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = DEFAULTS.optimizer)]
    optimizer: OptimizerKind,
    /// Peak learning rate [default: 0.002 for Adam, 0.05 for SGD].
    #[arg(long)]
    lr: Option<f64>,
    /// Momentum (SGD only).
    #[arg(long, default_value_t = DEFAULTS.momentum)]
    momentum: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = DEFAULTS.weight_decay)]
    weight_decay: f64,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value_t = DEFAULTS.schedule)]
    schedule: Schedule,
    /// Who computes the convolutions, 2x2 max poolings and batch norms when training on the
    /// CPU: gemm (this crate's: im2col and matrix products, a step in ~0.45 of flex's time;
    /// docs/decisions/training-operators.md) or burn (flex's).
    #[arg(long, value_enum, default_value_t = DEFAULTS.conv)]
    conv: ConvImpl,
    /// Train on the images as they are (no random rotation, scale, shear, shift).
    #[arg(long)]
    no_augment: bool,
    /// Elastic distortion strength in pixels (0 = off).
    #[arg(long, default_value_t = Augmentation::default().elastic_alpha)]
    elastic: f32,
    /// Share of training zeros given a slash through the loop (0 = off).
    #[arg(long, value_name = "RATE", default_value_t = StyleRates::SHIPPED.slashed_zero)]
    slashed_zero: f32,
    /// Share of the slashed zeros drawn from scratch with the page's pen (narrow or wide
    /// loops) instead of slashed MNIST zeros (0 = none).
    #[arg(long, value_name = "SHARE", default_value_t = StyleRates::SHIPPED.drawn_slashed)]
    drawn_slashed: f32,
    /// Slashes drawn onto MNIST zeros keep the zero's lines as wide as they were through the
    /// renormalization, as the page keeps its pen's width (`--pen-matched-slash false` to
    /// turn it off).
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = StyleRates::SHIPPED.pen_matched_slash,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pen_matched_slash: bool,
    /// Share of training eights replaced by eights drawn from scratch with the page's pen
    /// (one stroke with its top loop closed, loose or open, or two stacked loops; 0 = off).
    #[arg(long, value_name = "SHARE", default_value_t = StyleRates::SHIPPED.drawn_eight)]
    drawn_eight: f32,
    /// Share of training sevens given a bar across the stem (0 = off).
    #[arg(long, value_name = "RATE", default_value_t = StyleRates::SHIPPED.crossed_seven)]
    crossed_seven: f32,
    /// Share of training ones given a long flag, half of them a base too (0 = off).
    #[arg(long, value_name = "RATE", default_value_t = StyleRates::SHIPPED.flagged_one)]
    flagged_one: f32,
    /// Seed for initialization, shuffling and augmentation.
    #[arg(long, default_value_t = DEFAULTS.seed)]
    seed: u64,
    /// Fraction of the training set held out for validation (its last part).
    #[arg(long, default_value_t = DEFAULTS.validation_split)]
    val_split: f64,
    /// Where to train: cpu (burn flex), gpu (burn wgpu), cuda, ndarray.
    #[arg(long, value_enum, default_value_t = DEFAULTS.device)]
    device: DeviceChoice,
    /// Train on only the first N training images (quick runs).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Model folder [default: target/models/ARCH-DATASET]. The shipped model is replaced only
    /// when this names `model` (see docs/trainer.md, "Shipping a model").
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Checkpoint folder [default: target/checkpoints/ARCH-DATASET].
    #[arg(long, value_name = "DIR")]
    checkpoint_dir: Option<PathBuf>,
    /// Continue from the last checkpoint in the checkpoint folder.
    #[arg(long)]
    resume: bool,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// The ONNX model.
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Also write the report as JSON to this file ("-" for stdout only).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Evaluate on only the first N test images.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Also write the predicted digit of each test image to this file, one per line (to
    /// compare with another runtime, e.g. tests/onnxruntime_check.py).
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
    /// Read this folder of writing-style drawings (`<style>-<nn>-<digit>.strokes`) instead of
    /// the repository's style test set: e.g. a validation set made by
    /// `tests/fixtures/styles/make_styles.py --seed 2 --out DIR`, to choose style rates on.
    #[arg(long, value_name = "DIR")]
    styles: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct PredictArgs {
    /// The ONNX model.
    model: PathBuf,
    /// Images (PNG, JPEG) or stroke files (.strokes).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Print the 28x28 image the model saw.
    #[arg(long)]
    show: bool,
    /// Print one JSON object per input instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// Checkpoint folder (holding state.json).
    checkpoint: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Model folder to write.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct CalibrateArgs {
    /// The ONNX model, in its model folder.
    #[arg(default_value = "model/digitnet.onnx")]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Fraction of the training set held out for validation (its last part), as in training.
    #[arg(long, default_value_t = 0.1)]
    val_split: f64,
    /// Folders of drawings that are not digits to report rejection on [default: the
    /// repository's tests/fixtures/nondigits when present].
    #[arg(long, value_name = "DIR")]
    nondigits: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct AdaptEvalArgs {
    /// The ONNX model.
    #[arg(default_value = "model/digitnet.onnx")]
    model: PathBuf,
    /// Folder of writers: one folder per writer, drawings named `<n>-<digit>.strokes`.
    #[arg(long, value_name = "DIR", default_value = "tests/fixtures/writers")]
    writers: PathBuf,
    /// Simulate the real writers of this pen-data folder (UNIPEN JSON lines) instead.
    #[arg(long, value_name = "DIR")]
    pen_data: Option<PathBuf>,
    /// Which of the pen data's writers (docs/trainer.md, "The writer-disjoint split").
    #[arg(long, value_enum, default_value = "tuning")]
    pen_role: PenRole,
    /// Corrections per corrected digit to simulate.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5")]
    k: Vec<usize>,
    /// Which digits the person corrects.
    #[arg(long, value_enum, default_value = "misread-digits")]
    policy: AdaptPolicy,
    /// Also write every row as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum PenRole {
    /// Writers kept out of training for fitting the reading rules.
    Tuning,
    /// The validation contributors' writers.
    Validation,
    /// The training writers (the model learnt from their digits).
    Train,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum AdaptPolicy {
    /// The digits the model misreads at least once for the writer.
    MisreadDigits,
    /// Every digit.
    EveryDigit,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// The ONNX model.
    model: PathBuf,
    /// Timed runs (after 20 warm-up runs).
    #[arg(long, default_value_t = 1000)]
    runs: usize,
    /// Also time reading this written number (`.strokes`): grouping plus classifying every
    /// candidate digit, one image at a time as the page does, from scratch each run.
    #[arg(long, value_name = "FILE")]
    number: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct FixtureArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Number of test images.
    #[arg(long, default_value_t = 500)]
    count: usize,
    /// Output folder.
    #[arg(long, default_value = "tests/fixtures")]
    out: PathBuf,
}

/// The training defaults every `train` flag shows and falls back to: one source, the
/// shipped recipe ([`TrainConfig::default`]).
static DEFAULTS: std::sync::LazyLock<TrainConfig> = std::sync::LazyLock::new(TrainConfig::default);

/// Parses the command line and runs the command.
pub fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Train(args) => train(args),
        Command::Eval(args) => eval(args),
        Command::Predict(args) => predict(args),
        Command::Export(args) => export(args),
        Command::Calibrate(args) => calibrate(args),
        Command::AdaptEval(args) => adapt_eval(args),
        Command::Bench(args) => bench(args),
        Command::Fixture(args) => fixture(args),
        Command::Pictures(args) => pictures(args),
        Command::TuneGrouping(args) => tune_grouping(args),
        Command::Profile(args) => profile(args),
    }
}

/// Reads and parses the JSON file `path`; errors name the file and what it should have been.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: not {what}", path.display()))
}

fn profile(args: ProfileArgs) -> Result<()> {
    let config = TrainConfig {
        architecture: args.architecture,
        dataset: args.data.dataset,
        batch_size: args.batch_size.max(1),
        device: args.device,
        conv: args.conv,
        ..TrainConfig::default()
    };
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let train = data::load_split(args.data.dataset, &dir, Split::Train)?;
    let keep: Vec<usize> = (0..(config.batch_size * 8).min(train.len())).collect();
    let profile =
        crate::train::profile::profile_training_step(&config, &train.select(&keep), args.steps)?;
    println!("{}", profile.to_table());
    Ok(())
}

fn tune_grouping(args: TuneGroupingArgs) -> Result<()> {
    use crate::train::number_tuning::{load_numbers, score, search};
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 32)?;
    let mut numbers = match &args.dir {
        Some(dir) => load_numbers(dir, &classifier)?,
        None => Vec::new(),
    };
    if let Some(dir) = &args.pen_data {
        let tuning = PenData::load(dir)?.with_role(Role::Tuning);
        numbers.extend(crate::train::number_tuning::compose_real_numbers(
            &tuning.digits,
            run::NUMBERS_PER_WRITER,
            0x7E57,
            &classifier,
        )?);
    }
    if numbers.is_empty() {
        bail!("nothing to tune on: name a folder of numbers, --pen-data DIR, or both");
    }
    let (right, wrong) = score(&numbers, &crate::number::Weights::DEFAULT);
    println!(
        "current weights: {right}/{} numbers read right ({:.1}%)",
        numbers.len(),
        100.0 * right as f64 / numbers.len() as f64
    );
    for (name, reading) in &wrong {
        println!("  {name}: read {reading}");
    }
    if args.tries > 0 {
        let (weights, right) = search(&numbers, args.tries, 1);
        println!(
            "best of {} tries: {right}/{} ({:.1}%) with {weights:?}",
            args.tries,
            numbers.len(),
            100.0 * right as f64 / numbers.len() as f64
        );
        for (name, reading) in score(&numbers, &weights).1 {
            println!("  {name}: read {reading}");
        }
    }
    Ok(())
}

fn pictures(args: PicturesArgs) -> Result<()> {
    let history = read_json(&args.dir.join("history.json"), "a training history")?;
    let eval: EvalFile = read_json(&args.dir.join("metrics.json"), "a metrics file")?;
    run::write_pictures(&args.dir, &history, &eval.report, eval.dataset)?;
    eprintln!("redrew the pictures in {}", args.dir.display());
    Ok(())
}

fn command_line() -> String {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(first) = args.first_mut() {
        *first = "digitpad".into();
    }
    args.join(" ")
}

fn train(args: TrainArgs) -> Result<()> {
    let config = TrainConfig {
        architecture: args.architecture,
        dataset: args.data.dataset,
        epochs: args.epochs,
        batch_size: args.batch_size.max(1),
        optimizer: args.optimizer,
        learning_rate: args.lr.unwrap_or(args.optimizer.default_learning_rate()),
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        schedule: args.schedule,
        conv: args.conv,
        augmentation: (!args.no_augment).then(|| Augmentation {
            elastic_alpha: args.elastic,
            styles: StyleRates {
                slashed_zero: args.slashed_zero.clamp(0.0, 1.0),
                drawn_slashed: args.drawn_slashed.clamp(0.0, 1.0),
                pen_matched_slash: args.pen_matched_slash,
                drawn_eight: args.drawn_eight.clamp(0.0, 1.0),
                crossed_seven: args.crossed_seven.clamp(0.0, 1.0),
                flagged_one: args.flagged_one.clamp(0.0, 1.0),
            },
            ..Augmentation::default()
        }),
        seed: args.seed,
        validation_split: args.val_split,
        device: args.device,
        limit: args.limit,
        pen: (!args.no_pen_data).then_some(PenRecipe {
            digit_copies: args.pen_copies.max(1),
            letter_weight: args.letter_weight.max(0.0),
            ..PenRecipe::SHIPPED
        }),
    };
    let run_name = format!("{}-{}", config.architecture.name(), config.dataset.name());
    let out_dir = args
        .out
        .unwrap_or_else(|| Path::new("target").join("models").join(&run_name));
    let checkpoint_dir = args
        .checkpoint_dir
        .unwrap_or_else(|| Path::new("target").join("checkpoints").join(&run_name));
    run::run_training(
        &config,
        &RunOptions {
            data_dir: args.data.data_dir,
            pen_dir: args.pen.pen_data,
            out_dir,
            checkpoint_dir,
            resume: args.resume,
            command: command_line(),
        },
        &interrupt_flag(),
    )
}

/// Arms Ctrl-C: the first press asks the training loop to stop after the current step
/// (keeping the last checkpoint), the second exits at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond Ctrl-C: exiting now");
            std::process::exit(EXIT_INTERRUPTED.into());
        }
        eprintln!("\nCtrl-C: stopping after this step; the last checkpoint is kept (Ctrl-C again to exit now)");
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C handler not installed ({e}); Ctrl-C will end the run at once");
    }
    flag
}

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

fn read_model(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading model {}", path.display()))
}

fn eval(args: EvalArgs) -> Result<()> {
    let bytes = read_model(&args.model)?;
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let mut test = data::load_split(args.data.dataset, &dir, Split::Test)?;
    if let Some(limit) = args.limit {
        let keep: Vec<usize> = (0..limit.min(test.len())).collect();
        test = test.select(&keep);
    }
    let name = args
        .model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let start = Instant::now();
    let (mut eval, predictions) = evaluate_onnx(
        &bytes,
        &name,
        args.data.dataset,
        &test,
        args.styles.as_deref(),
    )
    .with_context(|| format!("evaluating {}", args.model.display()))?;
    if let Some(dir) = pen_data::locate(args.pen.pen_data.as_deref()) {
        eval.pen = Some(run::validation_pen_report(&bytes, &PenData::load(&dir)?)?);
    }
    eprintln!(
        "{} on {} {} test images in {:.2} s",
        args.model.display(),
        test.len(),
        args.data.dataset.name(),
        start.elapsed().as_secs_f64()
    );
    println!("{}", eval.report.to_table());
    if let Some(styles) = &eval.styles {
        println!("{}", styles.to_table());
    }
    let json = serde_json::to_string_pretty(&eval)?;
    match args.json.as_deref() {
        Some(p) if p == Path::new("-") => println!("{json}"),
        Some(p) => write_atomically(p, json.as_bytes())?,
        None => {}
    }
    if let Some(path) = &args.predictions {
        let lines: String = predictions.iter().map(|d| format!("{d}\n")).collect();
        write_atomically(path, lines.as_bytes())?;
    }
    Ok(())
}

/// An input file: a drawing (strokes) or a picture (grey levels).
enum Input {
    Strokes(Vec<crate::strokes::Stroke>),
    Picture {
        width: usize,
        height: usize,
        values: Vec<f32>,
    },
}

/// Reads an input file the way its kind asks.
fn load_input(path: &Path) -> Result<Input> {
    let is_strokes = path.extension().is_some_and(|e| e == "strokes");
    if is_strokes {
        return Ok(Input::Strokes(crate::files::read_strokes(path)?));
    }
    let img = image::ImageReader::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("reading {}", path.display()))?
        .decode()
        .with_context(|| {
            format!(
                "{}: not a PNG or JPEG image this build can decode",
                path.display()
            )
        })?;
    let gray = img.to_luma32f();
    let (width, height) = gray.dimensions();
    Ok(Input::Picture {
        width: width as usize,
        height: height as usize,
        values: gray.into_raw(),
    })
}

/// One digit read from an input, with where it is (pad units or pixels).
struct ReadOne {
    bounds: crate::strokes::Bounds,
    image: DigitImage,
    prediction: crate::Prediction,
}

/// Reads every digit of an input, left to right ([`crate::number`]).
fn read_input(classifier: &Classifier, input: &Input) -> Result<Vec<ReadOne>> {
    match input {
        Input::Strokes(strokes) => {
            let digits =
                crate::number::read_strokes(strokes, |images| classifier.classify_batch(images))?;
            if digits.is_empty() {
                bail!("the drawing has no ink");
            }
            Ok(digits
                .into_iter()
                .map(|d| ReadOne {
                    bounds: d.group.bounds,
                    image: d.image,
                    prediction: d.prediction,
                })
                .collect())
        }
        Input::Picture {
            width,
            height,
            values,
        } => {
            let gray = GrayImage {
                width: *width,
                height: *height,
                values,
            };
            Ok(crate::number::read_raster(gray, classifier)?
                .into_iter()
                .map(|d| ReadOne {
                    bounds: d.bounds,
                    image: d.image,
                    prediction: d.prediction,
                })
                .collect())
        }
    }
}

/// " - not sure" / " - not a digit" / nothing.
fn verdict_suffix(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Digit => "",
        Verdict::Unsure => " - not sure",
        Verdict::NotDigit => " - not a digit",
    }
}

fn predict(args: PredictArgs) -> Result<()> {
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 8)
        .with_context(|| format!("loading {}", args.model.display()))?;
    let mut failures = 0;
    for path in &args.inputs {
        let read = load_input(path).and_then(|input| read_input(&classifier, &input));
        let digits = match read.with_context(|| format!("{}", path.display())) {
            Ok(digits) => digits,
            Err(e) => {
                eprintln!("error: {e:#}");
                failures += 1;
                continue;
            }
        };
        let number: String = digits
            .iter()
            .map(|d| crate::number::digit_char(&d.prediction))
            .collect();
        if args.json {
            let each: Vec<serde_json::Value> = digits
                .iter()
                .map(|d| {
                    let p = &d.prediction;
                    serde_json::json!({
                        "digit": p.digit(),
                        "confidence": p.confidence(),
                        "verdict": p.verdict.as_str(),
                        "box": [d.bounds.min_x, d.bounds.min_y, d.bounds.max_x, d.bounds.max_y],
                        "probabilities": p.probabilities,
                        "logits": p.logits,
                        "features": p.features,
                    })
                })
                .collect();
            let mut value = serde_json::json!({
                "input": path.display().to_string(),
                "number": number,
                "digits": each,
            });
            // One digit: its fields at the top level too, as before numbers were read.
            if let ([one], Some(object)) = (each.as_slice(), value.as_object_mut()) {
                if let Some(fields) = one.as_object() {
                    for (key, field) in fields {
                        if key != "box" {
                            object.insert(key.clone(), field.clone());
                        }
                    }
                }
            }
            println!("{value}");
        } else if let [one] = digits.as_slice() {
            let p = &one.prediction;
            let mut ranked: Vec<(usize, f32)> =
                p.probabilities.iter().copied().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let runners_up: Vec<String> = ranked[1..3]
                .iter()
                .map(|(d, p)| format!("{d} {:.1}%", 100.0 * p))
                .collect();
            println!(
                "{}: {} ({:.1}%; then {}){}",
                path.display(),
                p.digit(),
                100.0 * p.confidence(),
                runners_up.join(", "),
                verdict_suffix(p.verdict)
            );
        } else {
            let each: Vec<String> = digits
                .iter()
                .map(|d| {
                    let p = &d.prediction;
                    format!(
                        "{} {:.1}%{}",
                        p.digit(),
                        100.0 * p.confidence(),
                        verdict_suffix(p.verdict)
                    )
                })
                .collect();
            println!(
                "{}: number {number} ({} digits: {})",
                path.display(),
                digits.len(),
                each.join(", ")
            );
        }
        if args.show {
            for d in &digits {
                println!("{:?}", d.image);
            }
        }
    }
    if failures > 0 {
        bail!(
            "{failures} of {} inputs could not be read",
            args.inputs.len()
        );
    }
    Ok(())
}

fn export(args: ExportArgs) -> Result<()> {
    let state = checkpoint::load_state(&args.checkpoint)?.with_context(|| {
        format!(
            "{}: no state.json (not a checkpoint folder)",
            args.checkpoint.display()
        )
    })?;
    let device = state.config.device.device()?;
    let network = checkpoint::load_network(&args.checkpoint, &state, &device)?;
    let pen = run::load_pen_data(&state.config, args.pen.pen_data.as_deref())?;
    let data = run::load_data(&state.config, args.data.data_dir.as_deref(), pen.as_ref())?;
    run::finish_model(
        &network,
        &state.config,
        &state.history,
        (&data.validation, &data.test),
        pen.as_ref(),
        &device,
        &RunOptions {
            data_dir: args.data.data_dir,
            pen_dir: args.pen.pen_data,
            out_dir: args.out,
            checkpoint_dir: args.checkpoint.clone(),
            resume: false,
            command: format!("{} (checkpoint of epoch {})", command_line(), state.epoch),
        },
    )
}

fn calibrate(args: CalibrateArgs) -> Result<()> {
    use crate::train::calibration::{self, calibrate_model, load_drawings};
    let bytes = read_model(&args.model)?;
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let all = data::load_split(args.data.dataset, &dir, Split::Train)?;
    let test = data::load_split(args.data.dataset, &dir, Split::Test)?;
    let (_, validation) = data::split_validation(&all, args.val_split);
    if validation.is_empty() {
        bail!("--val-split {} leaves no validation images", args.val_split);
    }
    let drawings = if args.nondigits.is_empty() {
        calibration::repository_drawings()?
    } else {
        let mut sets = args
            .nondigits
            .iter()
            .map(|d| load_drawings(d, false))
            .collect::<Result<Vec<_>>>()?;
        for dir in calibration::DIGIT_DRAWINGS.map(Path::new) {
            if dir.is_dir() {
                sets.push(load_drawings(dir, true)?);
            }
        }
        sets
    };
    let pen = match pen_data::locate(args.pen.pen_data.as_deref()) {
        Some(dir) => Some(PenData::load(&dir)?),
        None => None,
    };
    let tuning = pen.as_ref().map(|p| {
        let t = p.with_role(Role::Tuning);
        (
            run::render_samples(&t.digits),
            run::render_samples(&t.letters),
        )
    });
    let real = tuning
        .as_ref()
        .map(|(digits, letters)| calibration::RealWriting { digits, letters });
    let mut drawings = drawings;
    if let Some(pen) = &pen {
        drawings.extend(run::validation_drawings(pen));
    }
    let (calibrated, mut report) = calibrate_model(&bytes, &validation, real, &test, &drawings)
        .with_context(|| format!("calibrating {}", args.model.display()))?;
    let out = args.model.parent().unwrap_or(Path::new("."));
    if report.weights.converted == 0 {
        // The weights were float16 already: what the conversion changed was measured when it
        // was made, and the model folder's calibration.json still says it.
        let earlier: Option<crate::train::calibration::TrustReport> =
            read_json(&out.join("calibration.json"), "a calibration report").ok();
        if let Some(earlier) = earlier.filter(|e| e.weights.converted > 0) {
            report.weights = earlier.weights;
        }
    }
    println!("{}", report.to_table());
    let name = args
        .model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut eval, _) = evaluate_onnx(&calibrated, &name, args.data.dataset, &test, None)?;
    if let Some(pen) = &pen {
        eval.pen = Some(run::validation_pen_report(&calibrated, pen)?);
    }
    write_atomically(&args.model, &calibrated)?;
    write_atomically(
        &out.join("metrics.json"),
        &serde_json::to_vec_pretty(&eval)?,
    )?;
    run::write_trust_files(out, &report)?;
    let card_path = out.join("README.md");
    if let Ok(card) = std::fs::read_to_string(&card_path) {
        let card = crate::train::card::refresh_card(&card, &eval, &report);
        write_atomically(&card_path, card.as_bytes())?;
    }
    eprintln!(
        "wrote {} ({} bytes, sha256 {}), metrics.json, calibration.json, reliability.svg and the card in {}",
        args.model.display(),
        calibrated.len(),
        eval.sha256,
        out.display()
    );
    Ok(())
}

fn adapt_eval(args: AdaptEvalArgs) -> Result<()> {
    use crate::personal::{Params, Votes};
    use crate::train::adaptation::{
        load_writers, simulate, simulate_sessions, summarize_sessions, table, target_failures,
        Adaptation, Policy,
    };
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 50)
        .with_context(|| format!("loading {}", args.model.display()))?;
    if classifier.trust().features.is_none() {
        bail!(
            "{} has no feature model (class centres): run `digitpad calibrate` on it first",
            args.model.display()
        );
    }
    let writers = match &args.pen_data {
        Some(dir) => {
            let role = match args.pen_role {
                PenRole::Tuning => Role::Tuning,
                PenRole::Validation => Role::Validation,
                PenRole::Train => Role::Train,
            };
            let pen = PenData::load(dir)?.with_role(role);
            crate::train::adaptation::pen_writers(&pen.digits, &classifier)?
        }
        None => load_writers(&args.writers, &classifier)?,
    };
    let policy = match args.policy {
        AdaptPolicy::MisreadDigits => Policy::MisreadDigits,
        AdaptPolicy::EveryDigit => Policy::EveryDigit,
    };
    let ks: Vec<usize> = args.k.clone();
    // The page's way, and others for comparison: the examples' votes (h², κ), the personal
    // head (λ), or both.
    let votes = |bandwidth, prior_weight| {
        Some(Votes {
            bandwidth,
            prior_weight,
        })
    };
    let others = [
        (votes(10.0, 0.2), None, true),
        (votes(10.0, 0.2), None, false),
        (votes(5.0, 0.2), None, true),
        (None, Some(0.003), true),
        (None, Some(0.01), false),
        (None, Some(0.03), true),
        (votes(10.0, 0.2), Some(0.01), true),
    ];
    let candidates =
        std::iter::once(Adaptation::PAGE).chain(others.map(|(votes, head_l2, variations)| {
            Adaptation {
                params: Params { votes, head_l2 },
                variations,
            }
        }));
    let name = |a: &Adaptation| {
        format!(
            "{}{}{}{}",
            match a.params.votes {
                Some(v) => format!("votes h² {} κ {}", v.bandwidth, v.prior_weight),
                None => "no votes".into(),
            },
            match a.params.head_l2 {
                Some(l2) => format!(", head λ {l2}"),
                None => String::new(),
            },
            if a.variations {
                ", with variations"
            } else {
                ", drawing only"
            },
            if *a == Adaptation::PAGE {
                " (the page's)"
            } else {
                ""
            },
        )
    };
    let sessions = (10, 30);
    println!(
        "Sessions: each writer's first half (at most {}) written, every miss corrected; their next drawings read (shown right). Hardest = the 8 writers read worst.",
        sessions.1
    );
    for adaptation in candidates.clone() {
        let rows = simulate_sessions(&classifier, &writers, sessions, adaptation);
        let s = summarize_sessions(&rows, 8);
        println!(
            "{}: {} writers {:.1}% -> {:.1}%; hardest {}: {:.1}% -> {:.1}% ({:.0}% of the gap closed); worst after: {} {:.1}% -> {:.1}%; read >= 98% before: {} writers, {:.1}% after, {} lost something",
            name(&adaptation),
            s.writers,
            100.0 * s.mean.0,
            100.0 * s.mean.1,
            s.hardest_count,
            100.0 * s.hardest.0,
            100.0 * s.hardest.1,
            100.0 * s.gap_closed,
            s.worst_after.0,
            100.0 * s.worst_after.1,
            100.0 * s.worst_after.2,
            s.well_read.0,
            100.0 * s.well_read.1,
            s.well_read.2,
        );
    }
    println!("\nk corrections per misread digit (classifier's digit):");
    for adaptation in candidates {
        let rows = simulate(&classifier, &writers, &ks, policy, adaptation);
        let failures = target_failures(&rows, 3);
        let hard: Vec<_> = rows.iter().filter(|r| r.k == 3 && r.before < 0.9).collect();
        let easy: Vec<_> = rows
            .iter()
            .filter(|r| r.k == 3 && r.before > 0.98)
            .collect();
        let mean = |v: &[&crate::train::adaptation::AdaptRow],
                    f: fn(&crate::train::adaptation::AdaptRow) -> f64| {
            v.iter().map(|r| f(r)).sum::<f64>() / v.len().max(1) as f64
        };
        println!(
            "{}: k=3, writers below 90%: {:.1}% -> {:.1}% ({} writers); above 98%: {:.1}% -> {:.1}% ({}); targets {}",
            name(&adaptation),
            100.0 * mean(&hard, |r| r.before),
            100.0 * mean(&hard, |r| r.after),
            hard.len(),
            100.0 * mean(&easy, |r| r.before),
            100.0 * mean(&easy, |r| r.after),
            easy.len(),
            if failures.is_empty() { "met".to_string() } else { format!("missed: {}", failures.join("; ")) }
        );
    }
    let rows = simulate(&classifier, &writers, &ks, policy, Adaptation::PAGE);
    println!("\n{}", table(&rows, &ks));
    let session_rows = simulate_sessions(&classifier, &writers, sessions, Adaptation::PAGE);
    let wrong = crate::train::adaptation::wrong_correction(&classifier, &writers, Adaptation::PAGE);
    let worst = wrong
        .iter()
        .map(|(_, before, after)| after - before)
        .fold(0.0f64, f64::min);
    let changes: Vec<String> = wrong
        .iter()
        .map(|(w, before, after)| format!("{w} {:+.1}", 100.0 * (after - before)))
        .collect();
    println!(
        "one wrong correction (a writer's 3 stored as an 8), change in accuracy on their other digits, points: {} (worst {:+.1})",
        changes.join(", "),
        100.0 * worst
    );
    if let Some(path) = &args.json {
        let json = serde_json::json!({ "k_per_digit": rows, "sessions": session_rows });
        write_atomically(path, &serde_json::to_vec_pretty(&json)?)?;
    }
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    let bytes = read_model(&args.model)?;
    let load_start = Instant::now();
    let classifier = Classifier::from_onnx(&bytes, 1)?;
    let load_ms = load_start.elapsed().as_secs_f64() * 1e3;
    let image = DigitImage::default();
    for _ in 0..20 {
        classifier.classify(&image)?;
    }
    let mut times: Vec<f64> = (0..args.runs.max(1))
        .map(|_| {
            let start = Instant::now();
            let _ = classifier.classify(&image);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let mut report = serde_json::json!({
        "model": args.model.display().to_string(),
        "runs": times.len(),
        "load_and_optimize_ms": load_ms,
        "p50_ms": pick(0.5),
        "p95_ms": pick(0.95),
        "min_ms": times[0],
    });
    if let Some(path) = &args.number {
        let strokes = crate::files::read_strokes(path)?;
        let read =
            || crate::number::read_strokes(&strokes, |images| classifier.classify_batch(images));
        let digits = read()?;
        let candidates = crate::number::prepare_strokes(&strokes).strokes.len();
        let runs = 20;
        let start = Instant::now();
        for _ in 0..runs {
            read()?;
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
        // Finding the candidates alone (boxes, contacts between strokes): what every frame
        // pays before the page's caches answer.
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(crate::number::prepare_strokes(&strokes));
        }
        let grouping_ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
        report["number"] = serde_json::json!({
            "grouping_ms": grouping_ms,
            "file": path.display().to_string(),
            "read": crate::number::as_text(&digits),
            "strokes": strokes.len(),
            "candidates": candidates,
            "ms_per_reading": ms,
            "digits_per_second": digits.len() as f64 / (ms / 1e3),
        });
    }
    println!("{report}");
    Ok(())
}

fn fixture(args: FixtureArgs) -> Result<()> {
    use std::io::Write;
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let test = data::load_split(args.data.dataset, &dir, Split::Test)?;
    let keep: Vec<usize> = (0..args.count.min(test.len())).collect();
    let subset = test.select(&keep);
    std::fs::create_dir_all(&args.out)?;
    for (name, bytes) in [
        ("mnist-test-images.idx.gz", subset.images_to_idx()),
        ("mnist-test-labels.idx.gz", subset.labels_to_idx()),
    ] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        write_atomically(&args.out.join(name), &gz.finish()?)?;
    }
    eprintln!(
        "wrote {} test images to {}",
        subset.len(),
        args.out.display()
    );
    Ok(())
}
