//! `digitpad adapt-eval`: how much a few corrections help one person, simulated on drawings
//! grouped by writer ([`crate::personal`] is what the page runs).
//!
//! For each writer and each k, the person corrects the first k drawings of every digit the
//! model gets wrong at least once for them ("misread digits"; or of every digit, with the
//! `every-digit` policy); accuracy is then measured on that writer's other drawings, with the
//! model alone (before) and with the corrections (after).

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::classifier::{Classifier, Prediction};
use crate::files::{read_drawing, stroke_files};
use crate::personal::{Params, Personal};

/// One writer's drawings: `(n, digit, prediction)`, `n` the drawing's number among that
/// writer's drawings of that digit.
pub struct Writer {
    /// The writer's folder name.
    pub name: String,
    /// Every drawing, with the model's prediction.
    pub drawings: Vec<(usize, usize, Prediction)>,
}

/// Reads the writers under `dir`: one folder per writer, files named `<n>-<digit>.strokes`.
pub fn load_writers(dir: &Path, classifier: &Classifier) -> Result<Vec<Writer>> {
    let mut folders: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the writers folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut writers = Vec::new();
    for folder in folders {
        let mut meta = Vec::new();
        let mut images = Vec::new();
        for path in stroke_files(&folder, "writer's")? {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let parsed = stem
                .split_once('-')
                .and_then(|(n, d)| Some((n.parse::<usize>().ok()?, d.parse::<usize>().ok()?)))
                .filter(|&(_, d)| d < crate::CLASSES);
            let Some((n, digit)) = parsed else {
                bail!("{}: expected a name `<n>-<digit>.strokes`", path.display());
            };
            images.push(read_drawing(&path)?);
            meta.push((n, digit));
        }
        if images.is_empty() {
            continue;
        }
        let predictions = classifier.classify_batch(&images)?;
        writers.push(Writer {
            name: folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            drawings: meta
                .into_iter()
                .zip(predictions)
                .map(|((n, d), p)| (n, d, p))
                .collect(),
        });
    }
    if writers.is_empty() {
        bail!("{}: no writer folders with .strokes files", dir.display());
    }
    Ok(writers)
}

/// The writers of real pen digits `digits` (each writer's drawings of a digit numbered in
/// the order they were written), rendered as the page renders them and classified.
pub fn pen_writers(
    digits: &[super::pen_data::PenSample],
    classifier: &Classifier,
) -> Result<Vec<Writer>> {
    use super::pen_data::{render, PenLabel};
    use std::collections::BTreeMap;
    let mut by_writer: BTreeMap<&str, Vec<(usize, usize, crate::DigitImage)>> = BTreeMap::new();
    for sample in digits {
        let (PenLabel::Digit(digit), Some(image)) = (sample.label, render(sample)) else {
            continue;
        };
        let drawings = by_writer.entry(&sample.writer).or_default();
        let n = drawings
            .iter()
            .filter(|(_, d, _)| *d == usize::from(digit))
            .count();
        drawings.push((n, usize::from(digit), image));
    }
    let mut writers = Vec::new();
    for (name, drawings) in by_writer {
        let images: Vec<_> = drawings.iter().map(|(_, _, i)| i.clone()).collect();
        let predictions = classifier.classify_batch(&images)?;
        writers.push(Writer {
            name: name.to_string(),
            drawings: drawings
                .into_iter()
                .zip(predictions)
                .map(|((n, d, _), p)| (n, d, p))
                .collect(),
        });
    }
    if writers.is_empty() {
        bail!("no real pen digits to simulate writers with");
    }
    Ok(writers)
}

/// Which digits the simulated person corrects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// The digits the model misreads at least once for this writer.
    MisreadDigits,
    /// Every digit.
    EveryDigit,
}

/// One writer at one k.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaptRow {
    /// The writer.
    pub writer: String,
    /// Corrections per corrected digit.
    pub k: usize,
    /// Corrections made in all.
    pub corrections: usize,
    /// Drawings measured (the writer's drawings that were not corrections).
    pub measured: usize,
    /// Accuracy of the model alone on them.
    pub before: f64,
    /// Accuracy with the corrections.
    pub after: f64,
}

/// Simulates `writers` at each k in `ks` with `policy`, the examples weighed by `params`.
pub fn simulate(
    classifier: &Classifier,
    writers: &[Writer],
    ks: &[usize],
    policy: Policy,
    params: Params,
) -> Vec<AdaptRow> {
    let trust = classifier.trust();
    let mut rows = Vec::new();
    for writer in writers {
        let misread: Vec<bool> = (0..crate::CLASSES)
            .map(|d| {
                writer
                    .drawings
                    .iter()
                    .any(|(_, digit, p)| *digit == d && p.digit() != d)
            })
            .collect();
        for &k in ks {
            let corrected =
                |n: usize, digit: usize| n < k && (policy == Policy::EveryDigit || misread[digit]);
            let personal = Personal::new(
                writer
                    .drawings
                    .iter()
                    .filter(|(n, d, _)| corrected(*n, *d))
                    .map(|(_, d, p)| (*d, p.features.clone()))
                    .collect(),
                params,
            );
            // Measured on every drawing numbered k or later, the same set before and after; a
            // writer with nothing left to measure at this k (a real writer who wrote each
            // digit once or twice) has no row.
            let measured: Vec<_> = writer.drawings.iter().filter(|(n, _, _)| *n >= k).collect();
            if measured.is_empty() {
                continue;
            }
            let before = measured.iter().filter(|(_, d, p)| p.digit() == *d).count();
            let after = measured
                .iter()
                .filter(|(_, d, p)| personal.adapt(trust, &p.logits, &p.features).digit() == *d)
                .count();
            let share = |n: usize| n as f64 / measured.len().max(1) as f64;
            rows.push(AdaptRow {
                writer: writer.name.clone(),
                k,
                corrections: personal.len(),
                measured: measured.len(),
                before: share(before),
                after: share(after),
            });
        }
    }
    rows
}

/// One wrong correction per writer (their first 3, "corrected" to 8, a digit it resembles):
/// accuracy on the writer's drawings of the other digits (not 3) before and after, per
/// writer. (Their other 3s follow the correction, as they should: what the person says goes,
/// until they forget it.)
pub fn wrong_correction(
    classifier: &Classifier,
    writers: &[Writer],
    params: Params,
) -> Vec<(String, f64, f64)> {
    let trust = classifier.trust();
    writers
        .iter()
        .filter_map(|w| {
            let wrong = w.drawings.iter().position(|(n, d, _)| *n == 0 && *d == 3)?;
            let personal = Personal::new(vec![(8, w.drawings[wrong].2.features.clone())], params);
            let others: Vec<_> = w
                .drawings
                .iter()
                .enumerate()
                .filter(|(i, (_, d, _))| *i != wrong && *d != 3)
                .map(|(_, x)| x)
                .collect();
            let n = others.len().max(1) as f64;
            let before = others.iter().filter(|(_, d, p)| p.digit() == *d).count() as f64 / n;
            let after = others
                .iter()
                .filter(|(_, d, p)| personal.adapt(trust, &p.logits, &p.features).digit() == *d)
                .count() as f64
                / n;
            Some((w.name.clone(), before, after))
        })
        .collect()
}

/// The rows as a table: one line per writer, before and after for each k.
pub fn table(rows: &[AdaptRow], ks: &[usize]) -> String {
    use std::fmt::Write;
    let mut s = String::from("| writer |");
    for k in ks {
        let _ = write!(s, " k={k}: before -> after (corrections) |");
    }
    s.push_str("\n|---|");
    for _ in ks {
        s.push_str("---|");
    }
    s.push('\n');
    let mut writers: Vec<&str> = rows.iter().map(|r| r.writer.as_str()).collect();
    writers.dedup();
    for w in writers {
        let _ = write!(s, "| {w} |");
        for k in ks {
            if let Some(r) = rows.iter().find(|r| r.writer == w && r.k == *k) {
                let _ = write!(
                    s,
                    " {:.1}% -> **{:.1}%** ({}) |",
                    100.0 * r.before,
                    100.0 * r.after,
                    r.corrections
                );
            }
        }
        s.push('\n');
    }
    s
}

/// Whether the adaptation targets hold at `k` (3): writers below 90% before gain at least half
/// of what they lack, writers above 98% do not drop. Returns the failures, named.
pub fn target_failures(rows: &[AdaptRow], k: usize) -> Vec<String> {
    rows.iter()
        .filter(|r| r.k == k)
        .filter_map(|r| {
            if r.before < 0.9 && r.after - r.before < 0.5 * (1.0 - r.before) - 1e-9 {
                Some(format!(
                    "{}: {:.1}% -> {:.1}% gains less than half of what it lacks",
                    r.writer,
                    100.0 * r.before,
                    100.0 * r.after
                ))
            } else if r.before > 0.98 && r.after < r.before - 1e-9 {
                Some(format!(
                    "{}: {:.1}% -> {:.1}% dropped",
                    r.writer,
                    100.0 * r.before,
                    100.0 * r.after
                ))
            } else {
                None
            }
        })
        .collect()
}
