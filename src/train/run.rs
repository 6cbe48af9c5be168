//! A whole training run as the CLI performs it: data, training, export with the tract check,
//! evaluation of the exported file, and the model folder (ONNX, metrics, pictures, card).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::checkpoint;
use super::data::{self, sha256_hex, write_atomically, Dataset, Split};
use super::export::{export_checked, ParityReport};
use super::model::Network;
use super::plots;
use super::training::{self, predict_logits, CheckpointPlan, History, TrainConfig, TrainData};
use crate::classifier::Classifier;
use crate::idx::LabeledImages;
use crate::metrics::{evaluate, EvalReport};
use crate::preprocess;

/// What `metrics.json` holds, and what `eval --json` writes: the evaluation of one ONNX file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalFile {
    /// File name of the model.
    pub model: String,
    /// SHA-256 of the model file.
    pub sha256: String,
    /// Size of the model file in bytes.
    pub bytes: usize,
    /// Data set evaluated on.
    pub dataset: Dataset,
    /// Which split (always the test split for `metrics.json`).
    pub split: String,
    /// The metrics.
    pub report: EvalReport,
}

/// Evaluates ONNX `bytes` (named `model_name`) under tract on `set`; also returns the
/// predicted class of each image.
pub fn evaluate_onnx(
    bytes: &[u8],
    model_name: &str,
    dataset: Dataset,
    set: &LabeledImages,
) -> Result<(EvalFile, Vec<usize>)> {
    let classifier =
        Classifier::from_onnx(bytes, 100).with_context(|| format!("loading {model_name}"))?;
    let digits: Vec<_> = (0..set.len()).map(|i| set.digit(i)).collect();
    let predictions = classifier.classify_batch(&digits)?;
    let classes = predictions.iter().map(|p| p.digit()).collect();
    let probabilities: Vec<_> = predictions.into_iter().map(|p| p.probabilities).collect();
    let eval = EvalFile {
        model: model_name.to_string(),
        sha256: sha256_hex(bytes),
        bytes: bytes.len(),
        dataset,
        split: "test".into(),
        report: evaluate(&set.labels, &probabilities),
    };
    Ok((eval, classes))
}

/// Arms Ctrl-C: the first press asks the training loop to stop after the current step
/// (keeping the last checkpoint), the second exits at once.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond Ctrl-C: exiting now");
            std::process::exit(130);
        }
        eprintln!("\nCtrl-C: stopping after this step; the last checkpoint is kept (Ctrl-C again to exit now)");
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C handler not installed ({e}); Ctrl-C will end the run at once");
    }
    flag
}

/// Everything the `train` command needs beyond the training configuration.
pub struct RunOptions {
    /// Where the four data files are (else env / cache / download).
    pub data_dir: Option<PathBuf>,
    /// Folder for the model, metrics, pictures and card.
    pub out_dir: PathBuf,
    /// Folder for checkpoints.
    pub checkpoint_dir: PathBuf,
    /// Continue from the checkpoint.
    pub resume: bool,
    /// The command line, for the model card and metadata.
    pub command: String,
}

/// File name of the model inside its folder.
pub fn model_file_name(config: &TrainConfig) -> String {
    match config.dataset {
        Dataset::Mnist => format!("{}.onnx", config.architecture.name()),
        other => format!("{}-{}.onnx", config.architecture.name(), other.name()),
    }
}

/// Loads the training and test data of a run (with the validation split and `--limit`).
pub fn load_data(config: &TrainConfig, data_dir: Option<&Path>) -> Result<TrainData> {
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
    Ok(TrainData {
        train,
        validation,
        test,
    })
}

/// Runs the `train` command end to end.
pub fn run_training(config: &TrainConfig, options: &RunOptions) -> Result<()> {
    let device = config.device.device()?;
    let data = load_data(config, options.data_dir.as_deref())?;
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
    let interrupt = interrupt_flag();
    let outcome = training::train(
        config,
        &data,
        &device,
        &CheckpointPlan {
            dir: options.checkpoint_dir.clone(),
            resume: options.resume,
        },
        &interrupt,
    )?;
    if outcome.interrupted {
        let last = checkpoint::load_state(&options.checkpoint_dir)?.map(|s| s.epoch);
        match last {
            Some(epoch) => eprintln!(
                "interrupted; checkpoint of epoch {epoch} kept in {}: add --resume to continue",
                options.checkpoint_dir.display()
            ),
            None => eprintln!("interrupted before the first epoch ended; nothing saved"),
        }
        std::process::exit(130);
    }
    if let Some((epoch, seconds)) = outcome.history.seconds_to_test_accuracy(0.99) {
        eprintln!("reached 99.0% test accuracy after epoch {epoch}, {seconds:.1} s into the run");
    }
    finish_model(
        &outcome.network,
        config,
        &outcome.history,
        &data.test,
        &device,
        options,
    )
}

/// Exports `network`, checks it under tract, evaluates the file and writes the model folder.
/// The ONNX file is only replaced when the check passes.
pub fn finish_model(
    network: &Network,
    config: &TrainConfig,
    history: &History,
    test: &LabeledImages,
    device: &Device,
    options: &RunOptions,
) -> Result<()> {
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
        (
            "input".into(),
            "image: f32 [N,1,28,28], 0 = background .. 1 = ink (white ink on black)".into(),
        ),
        (
            "outputs".into(),
            "logits: f32 [N,10]; probabilities: f32 [N,10] = softmax(logits)".into(),
        ),
        (
            "preprocessing".into(),
            format!(
                "MNIST recipe: ink bounding box scaled to {} px on its longer side keeping the \
                 aspect ratio, drawn anti-aliased (pen {} px), centre of mass moved to pixel \
                 (14, 14) of the 28x28 field",
                preprocess::INK_BOX,
                preprocess::PEN_WIDTH
            ),
        ),
        ("training_command".into(), options.command.clone()),
        ("training_config".into(), serde_json::to_string(config)?),
    ];
    let (bytes, parity) = export_checked(network, &metadata, test, device)?;
    eprintln!(
        "export check passed: tract matches burn on {} test images (max |logit diff| {:.2e})",
        parity.images, parity.max_abs_logit_diff
    );
    let (eval, _) = evaluate_onnx(&bytes, &file_name, config.dataset, test)?;
    if (eval.report.accuracy - burn_accuracy).abs() > 1e-9 {
        bail!(
            "tract's accuracy {} differs from burn's {burn_accuracy} on the same file",
            eval.report.accuracy
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
    write_atomically(&out.join("loss.svg"), plots::loss_chart(history).as_bytes())?;
    write_atomically(
        &out.join("accuracy.svg"),
        plots::accuracy_chart(history).as_bytes(),
    )?;
    write_atomically(
        &out.join("confusion.svg"),
        plots::confusion_chart(&eval.report.confusion, &config.dataset.class_names()).as_bytes(),
    )?;
    let card = model_card(config, history, &eval, &parity, &options.command);
    write_atomically(&out.join("README.md"), card.as_bytes())?;
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

/// The model card (`README.md` beside the model), generated from the run.
pub fn model_card(
    config: &TrainConfig,
    history: &History,
    eval: &EvalFile,
    parity: &ParityReport,
    command: &str,
) -> String {
    use std::fmt::Write;
    let spec = config.architecture.spec();
    let cost = spec.cost();
    let r = &eval.report;
    let names = config.dataset.class_names();
    let mut s = String::new();
    let _ = writeln!(s, "# Model card: `{}`\n", eval.model);
    let _ = writeln!(
        s,
        "A {}-parameter CNN that reads 28x28 hand-drawn digits. This file was generated by the \
         training run that produced the model; the numbers below come from that run.\n",
        cost.parameters
    );
    let _ = writeln!(s, "## Result\n");
    let _ = writeln!(
        s,
        "- **Test accuracy: {:.2}%** ({}/{} {} test images), macro F1 {:.4}, macro ROC-AUC {:.5}",
        100.0 * r.accuracy,
        r.correct,
        r.count,
        config.dataset.name(),
        r.macro_f1,
        r.macro_roc_auc
    );
    let _ = writeln!(
        s,
        "- File: `{}`, {} bytes, SHA-256 `{}`",
        eval.model, eval.bytes, eval.sha256
    );
    let _ = writeln!(
        s,
        "- Export check: tract running this file matched burn on all {} test images \
         ({} differing predictions, max |logit difference| {:.2e}, tolerance 1e-4)\n",
        parity.images, parity.argmax_mismatches, parity.max_abs_logit_diff
    );
    let _ = writeln!(s, "## Architecture\n");
    let _ = writeln!(s, "`{}`\n", spec.describe());
    let _ = writeln!(
        s,
        "- {} trainable parameters, {} multiply-accumulates per image",
        cost.parameters, cost.macs
    );
    let _ = writeln!(
        s,
        "- Batch norms are folded into the convolutions on export; the file holds only Conv, \
         Relu, MaxPool, GlobalAveragePool/Flatten, MatMul, Add and Softmax (opset 13, IR 7)."
    );
    let _ = writeln!(
        s,
        "- Input `image`: f32 `[N, 1, 28, 28]`, 0 = background, 1 = ink (white on black). \
         Outputs `logits` and `probabilities` (softmax), f32 `[N, 10]`. `N` is dynamic.\n"
    );
    let _ = writeln!(s, "## Preprocessing contract\n");
    let _ = writeln!(
        s,
        "Inputs must look like MNIST: the ink's bounding box scaled to {} px on its longer side \
         (aspect kept), anti-aliased, then shifted so its centre of mass is at pixel (14, 14). \
         `src/preprocess.rs` does this for strokes (pen {} px) and for raster images.\n",
        preprocess::INK_BOX,
        preprocess::PEN_WIDTH
    );
    let _ = writeln!(s, "## Training\n");
    let _ = writeln!(s, "- Command: `{command}`");
    let _ = writeln!(
        s,
        "- Data: {} training split minus the last {:.0}% held out for validation{}; test split for the figures above",
        config.dataset.name(),
        100.0 * config.validation_split,
        config.limit.map_or(String::new(), |l| format!(", limited to {l} images"))
    );
    let _ = writeln!(
        s,
        "- {} epochs, batch {}, {:?} (peak learning rate {}), {:?} schedule, weight decay {}, seed {}, device {:?}",
        config.epochs,
        config.batch_size,
        config.optimizer,
        config.learning_rate,
        config.schedule,
        config.weight_decay,
        config.seed,
        config.device
    );
    match &config.augmentation {
        Some(a) => {
            let _ = writeln!(
                s,
                "- Augmentation: rotation ±{}°, scale ±{:.0}%, shear ±{}, shift ±{} px{}",
                a.max_rotation_deg,
                100.0 * a.max_scale,
                a.max_shear,
                a.max_shift,
                if a.elastic_alpha > 0.0 {
                    format!(", elastic {} px", a.elastic_alpha)
                } else {
                    String::new()
                }
            );
        }
        None => {
            let _ = writeln!(s, "- Augmentation: none");
        }
    }
    if let Some(last) = history.epochs.last() {
        let _ = writeln!(
            s,
            "- Wall time {:.0} s in all; {:.0} training images/s in the last epoch",
            last.elapsed_seconds, last.images_per_second
        );
    }
    if let Some((epoch, seconds)) = history.seconds_to_test_accuracy(0.99) {
        let _ = writeln!(
            s,
            "- Reached 99.0% test accuracy after epoch {epoch}, {seconds:.0} s into the run"
        );
    }
    let _ = writeln!(s, "\nPictures: `loss.svg`, `accuracy.svg`, `confusion.svg`; per-epoch numbers: `history.json`.\n");
    let _ = writeln!(s, "## Accuracy per class\n");
    let _ = writeln!(s, "| class | support | precision | recall | F1 | ROC-AUC |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for m in &r.per_class {
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.5} |",
            names[m.class], m.support, m.precision, m.recall, m.f1, m.roc_auc
        );
    }
    let mut errors: Vec<(usize, usize, usize)> = (0..r.confusion.len())
        .flat_map(|t| (0..r.confusion.len()).map(move |p| (t, p)))
        .filter(|&(t, p)| t != p)
        .map(|(t, p)| (r.confusion[t][p], t, p))
        .filter(|&(n, _, _)| n > 0)
        .collect();
    errors.sort_by(|a, b| b.cmp(a));
    let _ = writeln!(s, "\n## Known weaknesses\n");
    let listed: Vec<String> = errors
        .iter()
        .take(5)
        .map(|&(n, t, p)| format!("{} read as {} ({n}x)", names[t], names[p]))
        .collect();
    let _ = writeln!(
        s,
        "- Most frequent test-set confusions: {}.",
        listed.join(", ")
    );
    let _ = writeln!(
        s,
        "- Trained on MNIST only: American-style handwriting of the 1990s, scanned. Digits \
         written in other conventions (a crossed 7, a 1 with a long flag and base, an open-top 4) \
         are rarer in the data and are read less reliably."
    );
    let _ = writeln!(
        s,
        "- The model always answers one of 0-9: letters, scribbles and several digits at once \
         still get a (possibly confident) digit. Confidence is not calibrated against such inputs."
    );
    let _ = writeln!(
        s,
        "- It expects the preprocessing above; images that are not cropped, scaled and centred \
         the MNIST way (or use much thinner or thicker strokes) lose accuracy."
    );
    s
}
