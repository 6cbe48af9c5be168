//! Fitting the number reader's weights ([`crate::number::Weights`]) on a folder of written
//! numbers (`<nn>-<number>.strokes`) and on real writing of the tuning writers: every
//! drawing's candidates are classified once, then a seeded random search over the weights
//! keeps the ones that read the most numbers right and, weighed against them, refuse the most
//! letters (a letter split into strokes that each look like a digit, an R read "12", is how
//! most letters get through). For `digitpad tune-grouping`, on a set made for tuning (never
//! the committed test set).

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

/// The real letters in `letters`, each placed on the pad as the evaluation places a drawing
/// ([`crate::train::pen_eval`]) and classified: drawings the reader should not take for digits.
pub fn read_real_letters(
    letters: &[crate::train::pen_data::PenSample],
    classifier: &Classifier,
) -> Result<Vec<Written>> {
    letters
        .iter()
        .enumerate()
        .map(|(i, sample)| {
            let on_pad =
                crate::train::pen_data::to_pad(&sample.strokes, crate::train::pen_data::PAD_EXTENT);
            Written::read(format!("letter-{i:05}"), String::new(), &on_pad, classifier)
        })
        .collect()
}

/// Whether the reading `weights` give `written` is refused as a whole
/// ([`crate::train::pen_eval::is_refused`], the evaluation's test of a letter).
pub fn refused(written: &Written, weights: &Weights) -> bool {
    let split = written
        .prepared
        .candidates
        .best_split(&written.predictions, weights);
    crate::train::pen_eval::is_refused(split.iter().map(|&c| &written.predictions[c].verdict))
}

/// How many of `letters` the reading refuses with `weights`.
pub fn letters_refused(letters: &[Written], weights: &Weights) -> usize {
    letters.iter().filter(|l| refused(l, weights)).count()
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

/// What the search maximizes: numbers read right, plus `letter_weight` for each of `letters`
/// refused.
#[derive(Clone, Copy)]
pub struct Objective<'a> {
    /// Real letters the reader should refuse.
    pub letters: &'a [Written],
    /// What one refused letter is worth against one number read right.
    pub letter_weight: f64,
}

impl Objective<'_> {
    /// The objective's value for `weights`.
    pub fn value(&self, numbers: &[Written], weights: &Weights) -> f64 {
        let right = score(numbers, weights).0 as f64;
        if self.letter_weight > 0.0 {
            right + self.letter_weight * letters_refused(self.letters, weights) as f64
        } else {
            right
        }
    }
}

/// Seeded random search over plausible weights, then around the best found: the best
/// weights of `2 * tries`.
pub fn search(
    numbers: &[Written],
    objective: Objective,
    tries: usize,
    seed: u64,
) -> (Weights, f64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let value = |w: &Weights| objective.value(numbers, w);
    let mut best = (Weights::DEFAULT, value(&Weights::DEFAULT));
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
            free_ratio: rng.random_range(0.0..0.8),
            ratio_cost: rng.random_range(0.0..10.0),
            free_cover: rng.random_range(0.2..1.0),
            cover_cost: rng.random_range(0.0..10.0),
            digit_bonus: rng.random_range(0.0..4.0),
        };
        let v = value(&w);
        if v > best.1 {
            best = (w, v);
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
            free_ratio: nudge(b.free_ratio).min(1.0),
            ratio_cost: nudge(b.ratio_cost),
            free_cover: nudge(b.free_cover).min(1.0),
            cover_cost: nudge(b.cover_cost),
            digit_bonus: nudge(b.digit_bonus),
        };
        let v = value(&w);
        if v > best.1 {
            best = (w, v);
        }
    }
    best
}
