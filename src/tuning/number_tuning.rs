//! Fitting the number reader's weights ([`crate::number::Weights`]) on a folder of written
//! numbers (`<nn>-<number>.strokes`): every file's candidates are classified once, then a
//! seeded random search over the weights keeps the ones that read the most numbers right.
//! For `digitpad tune-grouping`, on a set made for tuning (never the committed test set).

use std::path::Path;

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};

use crate::classifier::Classifier;
use crate::files::{read_stroke_file, stroke_files};
use crate::number::{prepare_strokes, render, Prepared, Weights};
use crate::strokes::Stroke;
use crate::Prediction;

/// A written number and its candidates' answers.
pub struct Written {
    /// The file's name.
    pub name: String,
    /// The number written.
    pub number: String,
    prepared: Prepared,
    predictions: Vec<Prediction>,
}

impl Written {
    /// `number` written as `strokes`, its candidates classified by `classifier`.
    pub fn read(
        name: String,
        number: String,
        strokes: &[Stroke],
        classifier: &Classifier,
    ) -> Result<Written> {
        let prepared = prepare_strokes(strokes);
        let images: Vec<_> = prepared
            .stroke_indices
            .iter()
            .map(|pieces| render(strokes, pieces).0)
            .collect();
        let predictions = classifier.classify_batch(&images)?;
        Ok(Written {
            name,
            number,
            prepared,
            predictions,
        })
    }
}

/// Numbers composed from the real pen digits of each writer in `digits` (`per_writer` each,
/// see [`crate::train::pen_eval::compose_numbers`]), placed on the pad and classified.
pub fn compose_real_numbers(
    digits: &[crate::train::pen_data::PenSample],
    per_writer: usize,
    seed: u64,
    classifier: &Classifier,
) -> Result<Vec<Written>> {
    crate::train::pen_eval::compose_numbers(digits, per_writer, seed)
        .into_iter()
        .enumerate()
        .map(|(i, (number, strokes))| {
            let on_pad =
                crate::train::pen_data::to_pad(&strokes, crate::train::pen_eval::NUMBER_EXTENT);
            Written::read(format!("real-{i:04}-{number}"), number, &on_pad, classifier)
        })
        .collect()
}

/// Reads every `<nn>-<number>.strokes` in `dir` and classifies its candidates.
pub fn load_numbers(dir: &Path, classifier: &Classifier) -> Result<Vec<Written>> {
    let paths = stroke_files(dir, "numbers")?;
    let mut written = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let number = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit_once('-'))
            .map(|(_, n)| n.to_string())
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .with_context(|| {
                format!(
                    "{}: a number's file name must be <nn>-<digits>.strokes",
                    path.display()
                )
            })?;
        written.push(Written::read(
            name,
            number,
            &read_stroke_file(&path)?,
            classifier,
        )?);
    }
    if written.is_empty() {
        bail!("{}: no .strokes files", dir.display());
    }
    Ok(written)
}

/// The numbers read right with `weights`, and the wrong readings (file, reading).
pub fn score(numbers: &[Written], weights: &Weights) -> (usize, Vec<(String, String)>) {
    let mut right = 0;
    let mut wrong = Vec::new();
    for n in numbers {
        let reading = n.prepared.text(&n.predictions, weights);
        if reading == n.number {
            right += 1;
        } else {
            wrong.push((n.name.clone(), reading));
        }
    }
    (right, wrong)
}

/// Seeded random search over plausible weights, then around the best found: the best
/// weights of `2 * tries`.
pub fn search(numbers: &[Written], tries: usize, seed: u64) -> (Weights, usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut best = (Weights::DEFAULT, score(numbers, &Weights::DEFAULT).0);
    for _ in 0..tries {
        let w = Weights {
            free_gap: rng.random_range(0.0..0.3),
            gap_cost: rng.random_range(0.0..20.0),
            free_overlap: rng.random_range(0.0..0.6),
            overlap_cost: rng.random_range(0.0..8.0),
            touch_cost: rng.random_range(0.0..5.0),
            cross_cost: rng.random_range(0.0..10.0),
            free_offset: rng.random_range(0.0..0.3),
            offset_cost: rng.random_range(0.0..15.0),
            stray_cost: rng.random_range(0.0..6.0),
            // Digits as wide as tall are common (0, 2, 4, 7): never penalize those.
            wide: rng.random_range(0.9..1.6),
            wide_cost: rng.random_range(0.0..8.0),
            digit_bonus: rng.random_range(0.0..4.0),
        };
        let right = score(numbers, &w).0;
        if right > best.1 {
            best = (w, right);
        }
    }
    // Then small steps around the best (each weight by up to 15%), as many again.
    for _ in 0..tries {
        let mut nudge = |v: f32| v * rng.random_range(0.85f32..1.15);
        let b = best.0;
        let w = Weights {
            free_gap: nudge(b.free_gap),
            gap_cost: nudge(b.gap_cost),
            free_overlap: nudge(b.free_overlap),
            overlap_cost: nudge(b.overlap_cost),
            touch_cost: nudge(b.touch_cost),
            cross_cost: nudge(b.cross_cost),
            free_offset: nudge(b.free_offset),
            offset_cost: nudge(b.offset_cost),
            stray_cost: nudge(b.stray_cost),
            // Digits as wide as tall are common (0, 2, 4, 7): never penalize those.
            wide: nudge(b.wide).clamp(0.9, 1.6),
            wide_cost: nudge(b.wide_cost),
            digit_bonus: nudge(b.digit_bonus),
        };
        let right = score(numbers, &w).0;
        if right > best.1 {
            best = (w, right);
        }
    }
    best
}
