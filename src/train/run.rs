//! A whole training run as the CLI performs it: data, training, export with the tract check,
//! evaluation of the exported file, and the model folder (ONNX, metrics, pictures, card).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context, Result};
use burn::tensor::Device;

use super::calibration::{self, TrustReport};
use super::card::model_card;
use super::checkpoint;
use super::config::PenRecipe;
use super::config::{History, TrainConfig};
use super::data::{self, Dataset, Split};
use super::evaluation::evaluate_onnx;
use super::model::Network;
use super::pen_data::{
    self, render_copies, to_pad, PenData, PenLabel, PenRedraw, PenSample, Role, PAD_EXTENT,
};
use super::pen_eval::{evaluate_pen, PenReport};
use super::plots;
use super::to_onnx::export_checked;
use super::training::NOT_A_DIGIT_LABEL;
use super::training::{self, predict_logits, CheckpointPlan, TrainData};
use crate::classifier::Classifier;
use crate::files::write_atomically;
use crate::idx::LabeledImages;
use crate::metrics::EvalReport;
use crate::preprocess;
use rand::SeedableRng;

/// Draws `loss.svg`, `accuracy.svg` and `confusion.svg` into the model folder `out`.
pub fn write_pictures(
    out: &Path,
    history: &History,
    report: &EvalReport,
    dataset: Dataset,
) -> Result<()> {
    write_atomically(
        &out.join("loss.svg"),
        plots::loss_chart(history)?.as_bytes(),
    )?;
    write_atomically(
        &out.join("accuracy.svg"),
        plots::accuracy_chart(history)?.as_bytes(),
    )?;
    write_atomically(
        &out.join("confusion.svg"),
        plots::confusion_chart(&report.confusion, &dataset.class_names())?.as_bytes(),
    )?;
    Ok(())
}

/// Writes `calibration.json` and `reliability.svg` into the model folder `out`.
pub fn write_trust_files(out: &Path, report: &TrustReport) -> Result<()> {
    write_atomically(
        &out.join("calibration.json"),
        &serde_json::to_vec_pretty(report)?,
    )?;
    write_atomically(
        &out.join("reliability.svg"),
        plots::reliability_chart(
            &report.test.bins_before,
            &report.test.bins_after,
            report.temperature,
        )?
        .as_bytes(),
    )?;
    Ok(())
}

/// The error a run returns when Ctrl-C stopped it: the last checkpoint is kept, and the
/// command line exits with status 130 (the shell's convention for SIGINT).
#[derive(Debug, thiserror::Error)]
#[error("interrupted: {0}")]
pub struct Interrupted(pub String);

/// Everything the `train` command needs beyond the training configuration.
pub struct RunOptions {
    /// Where the four data files are (else env / cache / download).
    pub data_dir: Option<PathBuf>,
    /// Where the pen data is (else `$PEN_DATA_DIR`, else `../shared/unipen`).
    pub pen_dir: Option<PathBuf>,
    /// Folder for the model, metrics, pictures and card.
    pub out_dir: PathBuf,
    /// Folder for checkpoints.
    pub checkpoint_dir: PathBuf,
    /// Continue from the checkpoint.
    pub resume: bool,
    /// The command line, for the model card and metadata.
    pub command: String,
}

/// File name of the model inside its folder: `digitnet.onnx`, `quick.onnx`, ... for MNIST;
/// `fashion-mnist.onnx` (the recipe's network), `fashion-mnist-quick.onnx`, ... for clothes.
pub fn model_file_name(config: &TrainConfig) -> String {
    match config.dataset {
        Dataset::Mnist => format!("{}.onnx", config.architecture.name()),
        // Other data sets: named after the data set, and the network when it is not the
        // recipe's (the digit networks' names say what they were made for).
        other if config.architecture == TrainConfig::recipe(other).architecture => {
            format!("{}.onnx", other.name())
        }
        other => format!("{}-{}.onnx", other.name(), config.architecture.name()),
    }
}

/// Finds and reads the pen data a run with `config.pen` needs; `None` for runs without.
pub fn load_pen_data(config: &TrainConfig, pen_dir: Option<&Path>) -> Result<Option<PenData>> {
    if config.pen.is_none() {
        return Ok(None);
    }
    let dir = pen_data::locate(pen_dir).with_context(|| {
        format!(
            "this recipe learns from real pen writing ({} and {} in UNIPEN's JSON-lines \
             format), and none was found: pass --pen-data DIR or set {}=DIR, or train on \
             the images alone with --no-pen-data",
            pen_data::DIGITS_FILE,
            pen_data::LETTERS_FILE,
            pen_data::PEN_DATA_ENV
        )
    })?;
    let data = PenData::load(&dir)?.holding_out(&config.pen_held_out)?;
    eprintln!("pen data from {}: {}", dir.display(), data.summary());
    Ok(Some(data))
}

/// Renders pen samples (each once, as written) as labelled images: digits with their digit,
/// anything else with [`NOT_A_DIGIT_LABEL`].
pub fn render_samples(samples: &[PenSample]) -> LabeledImages {
    let mut set = LabeledImages::default();
    for sample in samples {
        if let Some(image) = pen_data::render(sample) {
            set.pixels.extend_from_slice(&image.to_bytes());
            set.labels.push(sample_label(sample));
        }
    }
    set
}

fn sample_label(sample: &PenSample) -> u8 {
    match sample.label {
        PenLabel::Digit(d) => d,
        PenLabel::Letter(_) => NOT_A_DIGIT_LABEL,
    }
}

/// Appends the training writers' pen digits (`recipe.digit_copies` renderings each) and, when
/// letters are weighted, their letters, to `train`. Returns the varied renderings to draw
/// anew each epoch when the recipe says so.
fn add_pen_training(
    train: &mut LabeledImages,
    pen: &PenData,
    recipe: &PenRecipe,
    seed: u64,
) -> Option<PenRedraw> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x7E4_DA7A);
    let training = pen.with_role(Role::Train);
    let mut redraw = PenRedraw {
        drawings: Vec::new(),
        slots: Vec::new(),
        jitter: recipe.jitter,
    };
    for sample in &training.digits {
        let copies = recipe.digit_copies.max(1);
        let images = render_copies(sample, copies, &recipe.jitter, &mut rng);
        // Only a drawing that rendered every time is redrawn, so slots match its images.
        let redrawn = recipe.redraw_each_epoch && copies > 1 && images.len() == copies;
        if redrawn {
            let first = train.len();
            redraw
                .slots
                .extend((first + 1..first + copies).map(|slot| (slot, redraw.drawings.len())));
            redraw.drawings.push(to_pad(&sample.strokes, PAD_EXTENT));
        }
        for image in images {
            train.pixels.extend_from_slice(&image.to_bytes());
            train.labels.push(sample_label(sample));
        }
    }
    if recipe.letter_weight > 0.0 {
        let letters = render_samples(&training.letters);
        train.pixels.extend_from_slice(&letters.pixels);
        train.labels.extend_from_slice(&letters.labels);
    }
    (!redraw.slots.is_empty()).then_some(redraw)
}

/// Loads the training and test data of a run (with the validation split and `--limit`), and
/// the pen data's training and validation writers when the recipe has them.
pub fn load_data(
    config: &TrainConfig,
    data_dir: Option<&Path>,
    pen: Option<&PenData>,
) -> Result<TrainData> {
    let dir = data::locate(config.dataset, data_dir)?;
    let all = data::load_split(config.dataset, &dir, Split::Train)?;
    let test = data::load_split(config.dataset, &dir, Split::Test)?;
    let (mut train, validation) = data::split_validation(&all, config.validation_split);
    if let Some(limit) = config.limit {
        let keep: Vec<usize> = (0..limit.min(train.len())).collect();
        train = train.select(&keep);
    }
    eprintln!(
        "{}: {} training, {} validation, {} test images from {}",
        config.dataset.name(),
        train.len(),
        validation.len(),
        test.len(),
        dir.display()
    );
    let first_pen_image = train.len();
    let mut pen_validation = LabeledImages::default();
    let mut pen_redraw = None;
    if let (Some(recipe), Some(pen)) = (&config.pen, pen) {
        pen_redraw = add_pen_training(&mut train, pen, recipe, config.seed);
        pen_validation = render_samples(&pen.with_role(Role::Validation).digits);
        eprintln!(
            "pen data: {} training images rendered ({} letters among them), {} validation digits",
            train.len() - first_pen_image,
            train.labels[first_pen_image..]
                .iter()
                .filter(|&&l| l == NOT_A_DIGIT_LABEL)
                .count(),
            pen_validation.len()
        );
    }
    Ok(TrainData {
        train,
        validation,
        test,
        test_set: data::test_set_label(config.dataset, &dir),
        first_pen_image,
        pen_validation,
        pen_redraw,
    })
}

/// Runs the `train` command end to end. `interrupt` is the Ctrl-C flag: once it is set the
/// run stops after the current step and returns [`Interrupted`].
pub fn run_training(
    config: &TrainConfig,
    options: &RunOptions,
    interrupt: &AtomicBool,
) -> Result<()> {
    let device = config.device.device()?;
    // The images first: a missing data set is named before missing pen data.
    let data_dir = data::locate(config.dataset, options.data_dir.as_deref())?;
    let pen = load_pen_data(config, options.pen_dir.as_deref())?;
    let data = load_data(config, Some(&data_dir), pen.as_ref())?;
    let spec = config.architecture.spec();
    let cost = spec.cost();
    eprintln!(
        "{}: {} ({} parameters, {} MACs per image) on {:?}",
        config.architecture.name(),
        spec.describe(),
        cost.parameters,
        cost.macs,
        config.device
    );
    let outcome = training::train(
        config,
        &data,
        &device,
        &CheckpointPlan {
            dir: options.checkpoint_dir.clone(),
            resume: options.resume,
        },
        interrupt,
    )?;
    if outcome.interrupted {
        let last = checkpoint::load_state(&options.checkpoint_dir)?.map(|s| s.epoch);
        return Err(Interrupted(match last {
            Some(epoch) => format!(
                "checkpoint of epoch {epoch} kept in {}: add --resume to continue",
                options.checkpoint_dir.display()
            ),
            None => "stopped before the first epoch ended; nothing saved".into(),
        })
        .into());
    }
    if let Some((epoch, seconds)) = outcome.history.seconds_to_test_accuracy(0.99) {
        eprintln!("reached 99.0% test accuracy after epoch {epoch}, {seconds:.1} s into the run");
    }
    finish_model(
        &outcome.network,
        config,
        &outcome.history,
        &data,
        pen.as_ref(),
        &device,
        options,
    )
}

/// Exports `network`, checks it under tract, fits its trust rules on the validation split
/// ([`calibration::calibrate_model`]), evaluates the file and writes the model folder. The
/// ONNX file is only replaced when the checks pass.
pub fn finish_model(
    network: &Network,
    config: &TrainConfig,
    history: &History,
    data: &TrainData,
    pen: Option<&PenData>,
    device: &Device,
    options: &RunOptions,
) -> Result<()> {
    let (validation, test) = (&data.validation, &data.test);
    let (input, preprocessing) = input_contract(config.dataset);
    let spec = config.architecture.spec();
    let cost = spec.cost();
    let burn_logits = predict_logits(network, test, device)?;
    let (_, burn_accuracy) = training::loss_and_accuracy(&burn_logits, &test.labels);
    let file_name = model_file_name(config);
    let metadata: Vec<(String, String)> = vec![
        (
            "architecture".into(),
            format!("{}: {}", config.architecture.name(), spec.describe()),
        ),
        ("parameters".into(), cost.parameters.to_string()),
        ("macs_per_image".into(), cost.macs.to_string()),
        ("dataset".into(), config.dataset.name().into()),
        ("test_accuracy".into(), format!("{burn_accuracy:.4}")),
        ("test_images".into(), test.len().to_string()),
        ("input".into(), input.into()),
        ("outputs".into(), crate::onnx::writer::OUTPUTS_DOC.into()),
        ("preprocessing".into(), preprocessing),
        ("training_command".into(), options.command.clone()),
        ("training_config".into(), serde_json::to_string(config)?),
    ];
    let (bytes, parity) = export_checked(network, &metadata, test, device)?;
    eprintln!(
        "export check passed: tract matches burn on {} test images (max |logit diff| {:.2e})",
        parity.images, parity.max_abs_logit_diff
    );
    // The rules are fitted on validation digits, real digits and drawings that are not digits.
    // Without a validation split there is nothing to fit them on without looking at the test
    // set; for clothes, nothing real that is not clothing is at hand to fit a "not clothing"
    // rule on (the card says so). Then the file keeps float32 weights (so the check below
    // stays exact) and gets no rules: plain softmax.
    let fit_rules = config.dataset.is_digits() && !validation.is_empty();
    let (bytes, trust) = if !fit_rules {
        if config.dataset.is_digits() {
            eprintln!(
                "warning: no validation split (--val-split 0): the model gets no calibration \
                 and no \"not a digit\" rules"
            );
        }
        (calibration::finish_file(&bytes, None, false)?.0, None)
    } else {
        let tuning = pen.map(|p| p.with_role(Role::Tuning));
        let rendered = tuning
            .as_ref()
            .map(|t| (render_samples(&t.digits), render_samples(&t.letters)));
        let mut drawings = calibration::repository_drawings()?;
        if let Some(pen) = pen {
            drawings.extend(validation_drawings(pen));
        }
        let (bytes, trust) = calibration::calibrate_model(
            &bytes,
            validation,
            rendered
                .as_ref()
                .map(|(digits, letters)| calibration::RealWriting { digits, letters }),
            test,
            &drawings,
            crate::trust::DEFAULT_UNSURE_MARGIN,
        )?;
        eprintln!("{}", trust.to_table());
        (bytes, Some(trust))
    };
    let (mut eval, _) = evaluate_onnx(&bytes, &file_name, config.dataset, test, None)?;
    eval.test_set = Some(data.test_set.clone());
    if let Some(pen) = pen {
        eval.pen = Some(validation_pen_report(&bytes, pen)?);
    }
    // The shipped file holds float16 weights: its accuracy may differ from burn's by the
    // predictions the rounding changed (measured in the trust report), and by nothing else.
    let changed = trust.as_ref().map_or(0, |t| t.weights.changed_predictions);
    let allowed = changed as f64 / test.len().max(1) as f64;
    if (eval.report.accuracy - burn_accuracy).abs() > allowed + 1e-9 {
        bail!(
            "tract's accuracy {} differs from burn's {burn_accuracy} by more than the {} \
             predictions float16 weights changed",
            eval.report.accuracy,
            changed
        );
    }

    let out = &options.out_dir;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_atomically(&out.join(&file_name), &bytes)?;
    write_atomically(
        &out.join("metrics.json"),
        &serde_json::to_vec_pretty(&eval)?,
    )?;
    write_atomically(
        &out.join("history.json"),
        &serde_json::to_vec_pretty(history)?,
    )?;
    write_pictures(out, history, &eval.report, config.dataset)?;
    if let Some(trust) = &trust {
        write_trust_files(out, trust)?;
    }
    let card = model_card(
        config,
        history,
        &eval,
        &parity,
        &options.command,
        trust.as_ref(),
    );
    super::card_page::write_card(out, &card)?;
    println!("{}", eval.report.to_table());
    println!(
        "wrote {} ({} bytes, sha256 {}) and its metrics, pictures and card to {}",
        file_name,
        bytes.len(),
        eval.sha256,
        out.display()
    );
    Ok(())
}

/// What the model file says of its input: the tensor, and how images are prepared for it.
fn input_contract(dataset: Dataset) -> (&'static str, String) {
    if dataset.is_digits() {
        (
            "image: f32 [N,1,28,28], 0 = background .. 1 = ink (white ink on black)",
            format!(
                "MNIST recipe: ink bounding box scaled to {} px on its longer side keeping the \
                 aspect ratio, drawn anti-aliased (pen {} px), centre of mass moved to pixel \
                 (14, 14) of the 28x28 field",
                preprocess::INK_BOX,
                preprocess::PEN_WIDTH
            ),
        )
    } else {
        (
            "image: f32 [N,1,28,28], 0 = background .. 1 = brightest (grayscale, as the data set's images)",
            format!(
                "none beyond scaling to 0..1: 28x28 grayscale images as {} stores them (object centred on a black background)",
                dataset.title()
            ),
        )
    }
}

/// The validation writers' real digits and letters as drawing sets the trust report measures
/// every "not a digit" method on (never fitted to).
pub fn validation_drawings(pen: &PenData) -> Vec<calibration::Drawings> {
    let validation = pen.with_role(Role::Validation);
    let digits = render_samples(&validation.digits);
    let letters = render_samples(&validation.letters);
    let images = |set: &LabeledImages| (0..set.len()).map(|i| set.digit(i)).collect::<Vec<_>>();
    vec![
        calibration::Drawings {
            name: "real digits (validation writers)".into(),
            images: images(&digits),
            labels: Some(digits.labels.clone()),
        },
        calibration::Drawings {
            name: "real letters (validation writers)".into(),
            images: images(&letters),
            labels: None,
        },
    ]
}

/// Composed numbers per validation writer in the real-writing report.
pub const NUMBERS_PER_WRITER: usize = 12;

/// How the model file in `bytes` reads the pen data's validation writers (see
/// [`super::pen_eval`]).
pub fn validation_pen_report(bytes: &[u8], pen: &PenData) -> Result<PenReport> {
    let classifier = Classifier::from_onnx(bytes, 100)?;
    let report = evaluate_pen(
        &classifier,
        &pen.with_role(Role::Validation),
        &format!(
            "UNIPEN contributors {} (validation: never trained or tuned on)",
            pen.validation_contributors().join(", ")
        ),
        NUMBERS_PER_WRITER,
    )?;
    eprintln!("{}", report.to_table());
    Ok(report)
}
