//! The model card (`model/README.md`), generated from the run that produced the model so that
//! its numbers are that run's.

use super::calibration::TrustReport;
use super::config::{History, TrainConfig};
use super::evaluation::EvalFile;
use super::style_set::{StyleReport, STYLE_DRAWINGS};
use super::to_onnx::ParityReport;
use crate::preprocess;

/// Title of the card's section on calibration and rejection.
const TRUST_HEADING: &str = "## Confidence, \"not sure\" and \"not a digit\"";

/// The card's line naming the file, its size and hash.
fn file_line(eval: &EvalFile) -> String {
    format!(
        "- File: `{}`, {} bytes, SHA-256 `{}`",
        eval.model, eval.bytes, eval.sha256
    )
}

/// The card's line on the model's inputs and outputs.
const IO_LINE: &str = "- Input `image`: f32 `[N, 1, 28, 28]`, 0 = background, 1 = ink (white on \
    black). Outputs `logits`, f32 `[N, 10]`, and `features` (what the last layer reads), f32 \
    `[N, F]`. `N` is dynamic. Probabilities are `softmax(logits / T)` with the temperature \
    `T` from the metadata (no softmax in the graph).";

/// The card's line on the operators in the file.
const OPS_LINE: &str = "- Batch norms are folded into the convolutions on export; the file holds \
    only Conv, Relu, MaxPool, GlobalAveragePool/Flatten, MatMul and Add (opset 13, IR 7).";

/// The card's line listing the pictures.
const PICTURES_LINE: &str =
    "Pictures: ![Loss per epoch](loss.svg) ![Accuracy per epoch](accuracy.svg) \
    ![Confusion matrix of the test set](confusion.svg) \
    ![Reliability: confidence against accuracy](reliability.svg) Per-epoch numbers: \
    `history.json`; calibration: `calibration.json`.";

/// The card's section on calibration and the verdicts, from the calibration report.
pub fn trust_section(report: &TrustReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{TRUST_HEADING}
"
    );
    let _ = writeln!(
        s,
        "Fitted after training on the {} validation images only: the held-out digits, and a \
         restyled copy of those of each digit the model was taught a writing style for and of \
         the ones (given a flag), each copy kept where the model reads it as its digit \
         (`digitpad calibrate`, stored in the file's metadata; `calibration.json` has every \
         number below).\n",
        report.validation_images
    );
    let w = &report.weights;
    if w.test_images > 0 {
        let _ = writeln!(
            s,
            "- **Weights stored in float16** (cast to float32 when the model is loaded, so it \
             computes in float32): {} of {} test predictions changed by the rounding, max \
             |logit difference| {:.1e}{}.",
            w.changed_predictions,
            w.test_images,
            w.max_abs_logit_diff,
            if w.converted == 0 {
                " (this run found them in float16 already and compared the file with itself)"
            } else {
                ""
            }
        );
    }
    let (v, t) = (&report.validation, &report.test);
    let _ = writeln!(
        s,
        "- **Temperature {:.3}**: probabilities are `softmax(logits / {:.3})`. MNIST test: \
         expected calibration error (15 bins) {:.2}% -> **{:.2}%**, negative log-likelihood \
         {:.4} -> {:.4} (validation: ECE {:.2}% -> {:.2}%). Accuracy is unchanged (the order of \
         the scores is). Picture: `reliability.svg`.",
        report.temperature,
        report.temperature,
        100.0 * t.ece_before,
        100.0 * t.ece_after,
        t.nll_before,
        t.nll_after,
        100.0 * v.ece_before,
        100.0 * v.ece_after
    );
    let _ = writeln!(
        s,
        "- **Not sure** when the best probability leads the runner-up by less than {:.2}.",
        report.unsure_margin
    );
    let _ = writeln!(
        s,
        "- **Not a digit** when any of the scores `{}` is below its threshold; thresholds \
         chosen so that {:.1}% of the validation digits still get a digit verdict.\n",
        report.chosen_method.replace('+', "`, `"),
        100.0 * report.keep_target
    );
    let (real_digits, real_letters) = report.real_writing;
    if real_letters > 0 {
        let _ = writeln!(
            s,
            "Real pen writing of the tuning writers (never trained on) weighs the rules: {} of \
             the validation images are their digits; the thresholds keep a digit verdict for \
             {:.1}% of their digits that the model reads right, and the method combination \
             shipped is the one that refuses the most of their {} letters. The validation \
             writers' digits and letters below are only measured.\n",
            real_digits,
            100.0 * super::calibration::REAL_KEEP_TARGET,
            real_letters
        );
    }
    let sets: Vec<&str> = report
        .methods
        .first()
        .map(|m| m.drawings.iter().map(|d| d.set.as_str()).collect())
        .unwrap_or_default();
    let _ = write!(s, "| method | thresholds | MNIST test kept as digits |");
    for set in &sets {
        let _ = write!(s, " {set} |");
    }
    let _ = write!(s, "\n|---|---:|---:|");
    for _ in &sets {
        let _ = write!(s, "---:|");
    }
    s.push('\n');
    for m in &report.methods {
        let shipped = if m.method == report.chosen_method {
            " (shipped)"
        } else {
            ""
        };
        let _ = write!(
            s,
            "| {}{shipped} | {} | {:.2}% |",
            m.method,
            m.thresholds
                .iter()
                .map(|t| format!("{t:.3}"))
                .collect::<Vec<_>>()
                .join(", "),
            100.0 * m.test_digits_kept
        );
        for d in &m.drawings {
            let _ = write!(s, " {:.1}% of {} |", 100.0 * d.share, d.count);
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "\nNon-digit sets: the share rejected as \"not a digit\". Digit drawings: the share read \
         right with a digit verdict."
    );
    let shipped = report
        .methods
        .iter()
        .find(|m| m.method == report.chosen_method);
    for d in shipped
        .map(|m| m.drawings.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|d| d.set.starts_with("non-digits"))
    {
        let _ = writeln!(
            s,
            "With the shipped rules, {:.1}% of the {} still get a digit verdict (a confident \
             wrong answer) and {:.1}% \"not sure\".",
            100.0 * d.other,
            d.set,
            100.0 * (1.0 - d.share - d.other)
        );
    }
    let c = &report.test_verdicts;
    let _ = writeln!(
        s,
        "\nOn the MNIST test set the shipped rules give {} digit verdicts ({:.2}% of them right), \
         {} \"not sure\" and {} \"not a digit\".\n",
        c.digit,
        100.0 * c.digit_correct as f64 / c.digit.max(1) as f64,
        c.unsure,
        c.not_digit
    );
    s
}

/// Brings an existing card up to date after `digitpad calibrate` rewrote its model: the file
/// line, the input/output line and the trust section (replaced, or added before "Known
/// weaknesses"); the old "always answers one of 0-9" weakness goes.
pub fn refresh_card(card: &str, eval: &EvalFile, report: &TrustReport) -> String {
    let mut out = String::new();
    let mut skipping = false;
    let mut placed = false;
    let section = trust_section(report);
    for line in card.lines() {
        if skipping {
            if line.starts_with("## ") {
                skipping = false;
            } else {
                continue;
            }
        }
        if line == TRUST_HEADING {
            out.push_str(&section);
            placed = true;
            skipping = true;
            continue;
        }
        if line == "## Known weaknesses" && !placed {
            out.push_str(&section);
            placed = true;
        }
        if line.starts_with("- File: ") {
            out.push_str(&file_line(eval));
        } else if line.starts_with("- Input `image`") {
            out.push_str(IO_LINE);
        } else if line.starts_with("- Export check: tract running this file") {
            // The check was of the float32 export; the file now stores float16 weights, whose
            // effect the trust section reports.
            out.push_str(&line.replace("this file", "the float32 export"));
        } else if line.starts_with("- Batch norms are folded") {
            out.push_str(OPS_LINE);
        } else if line.starts_with("Pictures: ") {
            out.push_str(PICTURES_LINE);
        } else if line.starts_with("- The model always answers one of 0-9") {
            continue;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !placed {
        out.push('\n');
        out.push_str(&section);
    }
    out
}

/// The card's section on real pen writing of writers never trained or tuned on.
pub fn pen_section(report: &super::pen_eval::PenReport) -> String {
    format!(
        "## Real pen writing\n\nRead as the page reads a drawing (the number reader, verdicts \
         included: a digit is shown right only as one digit, the right one, not \"not sure\"). \
         Writers: {}.\n\n```\n{}\n```\n\n",
        report.set,
        report.to_table()
    )
}

/// The card's section on the writing-style test set.
pub fn style_section(report: &StyleReport) -> String {
    format!(
        "## Writing styles\n\nThe committed style set (`{}`, made by `make_styles.py` there: \
         plain and unusual forms of every digit, each in a hand of its own; never trained or \
         tuned on), read by this file:\n\n{}\n",
        STYLE_DRAWINGS,
        report.to_table()
    )
}

/// The card's line on the optimizer and schedule (every data set's card has it).
pub(super) fn schedule_line(config: &TrainConfig) -> String {
    format!(
        "- {} epochs, batch {}, {:?} (peak learning rate {}), {:?} schedule, weight decay {}, \
         seed {}, device {:?}",
        config.epochs,
        config.batch_size,
        config.optimizer,
        config.learning_rate,
        config.schedule,
        config.weight_decay,
        config.seed,
        config.device
    )
}

/// The card's line on how long the run took (empty without epochs).
pub(super) fn wall_time_line(history: &History) -> String {
    history.epochs.last().map_or(String::new(), |last| {
        format!(
            "- Wall time {:.0} s in all; {:.0} training images/s in the last epoch\n",
            last.elapsed_seconds, last.images_per_second
        )
    })
}

/// The card's per-class table: support, precision, recall, F1 and ROC-AUC of each class by
/// name.
pub(super) fn per_class_section(report: &crate::metrics::EvalReport, names: &[&str]) -> String {
    use std::fmt::Write;
    let mut s = String::from(
        "## Accuracy per class\n\n| class | support | precision | recall | F1 | ROC-AUC |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for m in &report.per_class {
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.5} |",
            names[m.class], m.support, m.precision, m.recall, m.f1, m.roc_auc
        );
    }
    s
}

/// The model card (`README.md` beside the model), generated from the run.
pub fn model_card(
    config: &TrainConfig,
    history: &History,
    eval: &EvalFile,
    parity: &ParityReport,
    command: &str,
    trust: Option<&TrustReport>,
) -> String {
    use std::fmt::Write;
    if !config.dataset.is_digits() {
        return super::clothing_card::clothing_card(config, history, eval, parity, command);
    }
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
    let _ = writeln!(s, "{}", file_line(eval));
    let _ = writeln!(
        s,
        "- Export check: tract running the float32 export matched burn on all {} test images \
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
    let _ = writeln!(s, "{OPS_LINE}");
    let _ = writeln!(s, "{IO_LINE}\n");
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
    let _ = writeln!(s, "{}", schedule_line(config));
    if let Some(pen) = &config.pen {
        let _ = writeln!(
            s,
            "- Real pen writing (UNIPEN, CC BY 4.0, \"UNIPEN, International Unipen Foundation\"; \
             `src/train/pen_data.rs`): the digits of the training writers, {} renderings each \
             (as written, then rotated up to ±{}°, sheared up to ±{}, widened or narrowed up to \
             ±{:.0}%{}{}{}) through the page's own stroke recipe; their letters as drawings that are no \
             digit, with a uniform target of weight {} (outlier exposure). Writer-disjoint: \
             contributors {} are validation only; one writer in {} of the others is kept for \
             fitting the reading rules.",
            pen.digit_copies,
            pen.jitter.max_rotation_deg,
            pen.jitter.max_shear,
            100.0 * pen.jitter.max_aspect,
            if pen.jitter.max_stroke_shift > 0.0 {
                format!(
                    ", each stroke moved by itself up to {:.0}% of the drawing's size",
                    100.0 * pen.jitter.max_stroke_shift
                )
            } else {
                String::new()
            },
            if pen.redraw_each_epoch {
                ", the varied ones drawn anew every epoch"
            } else {
                ""
            },
            if pen.elastic_alpha > 0.0 {
                format!(", and bent by an elastic field of {} px each time shown", pen.elastic_alpha)
            } else {
                String::new()
            },
            pen.letter_weight,
            super::pen_data::validation_contributors(&config.pen_held_out).join(", "),
            super::pen_data::TUNING_ONE_IN
        );
    }
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
            let _ = writeln!(
                s,
                "- Writing styles drawn onto training images (before the distortion, then \
                 renormalized with the page's MNIST recipe; `src/train/styles/`): {}",
                a.styles.describe()
            );
        }
        None => {
            let _ = writeln!(s, "- Augmentation: none");
        }
    }
    s.push_str(&wall_time_line(history));
    if let Some((epoch, seconds)) = history.seconds_to_test_accuracy(0.99) {
        let _ = writeln!(
            s,
            "- Reached 99.0% test accuracy after epoch {epoch}, {seconds:.0} s into the run"
        );
    }
    let _ = writeln!(s, "\n{PICTURES_LINE}\n");
    s.push_str(&per_class_section(r, &names));
    let mut errors: Vec<(usize, usize, usize)> = (0..r.confusion.len())
        .flat_map(|t| (0..r.confusion.len()).map(move |p| (t, p)))
        .filter(|&(t, p)| t != p)
        .map(|(t, p)| (r.confusion[t][p], t, p))
        .filter(|&(n, _, _)| n > 0)
        .collect();
    errors.sort_by(|a, b| b.cmp(a));
    let _ = writeln!(s);
    match trust {
        Some(trust) => s.push_str(&trust_section(trust)),
        None => {
            let _ = writeln!(
                s,
                "{TRUST_HEADING}\n\nNone: this run had no validation split to fit them on. \
                 Probabilities are the plain softmax; every answer is a digit unless two are \
                 close.\n"
            );
        }
    }
    if let Some(styles) = &eval.styles {
        s.push_str(&style_section(styles));
    }
    if let Some(pen) = &eval.pen {
        s.push_str(&pen_section(pen));
    }
    let _ = writeln!(s, "## Known weaknesses\n");
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
        "- Trained on MNIST (American handwriting of the 1990s, scanned) and the real pen \
         writing above, with the writing styles above drawn in; other conventions it was not taught (a 7 with a hooked top, a \
         Z-like 2, an S-like 5, a crossed 8) are read less reliably, and the style set is \
         generated, not written by people."
    );
    let _ = writeln!(
        s,
        "- It expects the preprocessing above; images that are not cropped, scaled and centred \
         the MNIST way (or use much thinner or thicker strokes) lose accuracy."
    );
    s
}
