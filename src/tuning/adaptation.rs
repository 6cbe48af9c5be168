//! `digitpad adapt-eval`: how much a few corrections help one person, simulated on drawings
//! grouped by writer ([`crate::personal`] is what the page runs).
//!
//! Two protocols:
//! - **k per digit** ([`simulate`]): for each writer and each k, the person corrects the first k
//!   drawings of every digit the model gets wrong at least once for them ("misread digits"; or
//!   of every digit, with the `every-digit` policy); accuracy is then measured on that writer's
//!   other drawings, with the model alone (before) and with the corrections (after).
//! - **A session** ([`simulate_sessions`]): the writer's first drawings are written in order,
//!   each read with the corrections made so far and corrected when not shown right; their
//!   later drawings are then read before and after. This is how real writers, who wrote each
//!   digit only a few times, are measured.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::classifier::{Classifier, Prediction};
use crate::digit::DigitImage;
use crate::files::{read_drawing, stroke_files};
use crate::personal::{read_with_variations, reading, Params, Personal, Reading};
use crate::trust::{Trust, Verdict};

/// One drawing of a writer, as the model reads it.
pub struct Drawing {
    /// Its number among the writer's drawings of that digit (0 first).
    pub n: usize,
    /// The digit it shows.
    pub digit: usize,
    /// The model's prediction.
    pub prediction: Prediction,
    /// The model's reading of its [`crate::personal::VARIATIONS`] (what a correction adds
    /// beside the drawing's own).
    pub variations: Vec<Reading>,
}

impl Drawing {
    /// What a correction of this drawing keeps: its features, and its variations' when
    /// `with_variations`.
    fn example(&self, with_variations: bool) -> (usize, Vec<Reading>) {
        let mut features = vec![reading(&self.prediction)];
        if with_variations {
            features.extend(self.variations.iter().cloned());
        }
        (self.digit, features)
    }
}

/// One writer's drawings, in the order they were written.
pub struct Writer {
    /// The writer's folder name or id.
    pub name: String,
    /// Every drawing.
    pub drawings: Vec<Drawing>,
}

/// Reads `images` (`(n, digit, image)`) with `classifier`, variations included.
fn read_drawings(
    classifier: &Classifier,
    images: Vec<(usize, usize, DigitImage)>,
) -> Result<Vec<Drawing>> {
    let pictures: Vec<DigitImage> = images.iter().map(|(_, _, i)| i.clone()).collect();
    let read = read_with_variations(classifier, &pictures)?;
    Ok(images
        .into_iter()
        .zip(read)
        .filter_map(|((n, digit, _), predictions)| {
            let (first, rest) = predictions.split_first()?;
            Some(Drawing {
                n,
                digit,
                prediction: first.clone(),
                variations: rest.iter().map(reading).collect(),
            })
        })
        .collect())
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
            images.push((n, digit, read_drawing(&path)?));
        }
        if images.is_empty() {
            continue;
        }
        writers.push(Writer {
            name: folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            drawings: read_drawings(classifier, images)?,
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
    digits: &[crate::train::pen_data::PenSample],
    classifier: &Classifier,
) -> Result<Vec<Writer>> {
    use crate::train::pen_data::{render, PenLabel};
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
        writers.push(Writer {
            name: name.to_string(),
            drawings: read_drawings(classifier, drawings)?,
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

/// How the page is simulated: the weights of the examples, and whether a correction keeps
/// its variations too.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adaptation {
    /// The examples' weights.
    pub params: Params,
    /// Whether a correction stands for its variations as well.
    pub variations: bool,
}

impl Adaptation {
    /// What the page does.
    pub const PAGE: Adaptation = Adaptation {
        params: crate::personal::PARAMS,
        variations: true,
    };

    fn personal<'a>(
        &self,
        trust: &Trust,
        corrected: impl Iterator<Item = &'a Drawing>,
    ) -> Personal {
        Personal::new(
            trust,
            corrected.map(|d| d.example(self.variations)).collect(),
            self.params,
        )
    }
}

/// Whether `personal`'s answer to `drawing` is what the page shows as right: its digit, with
/// a digit verdict.
fn shown_right(personal: &Personal, trust: &Trust, drawing: &Drawing) -> bool {
    let p = &drawing.prediction;
    let answer = personal.adapt(trust, &p.logits, &p.features);
    answer.digit() == drawing.digit && answer.verdict == Verdict::Digit
}

/// Simulates `writers` at each k in `ks` with `policy`, adapting as `adaptation` says.
/// Accuracy here is the classifier's digit (the verdict aside), as before the page had
/// verdicts; [`simulate_sessions`] scores what is shown.
pub fn simulate(
    classifier: &Classifier,
    writers: &[Writer],
    ks: &[usize],
    policy: Policy,
    adaptation: Adaptation,
) -> Vec<AdaptRow> {
    let trust = classifier.trust();
    let mut rows = Vec::new();
    for writer in writers {
        let misread: Vec<bool> = (0..crate::CLASSES)
            .map(|d| {
                writer
                    .drawings
                    .iter()
                    .any(|x| x.digit == d && x.prediction.digit() != d)
            })
            .collect();
        for &k in ks {
            let corrected =
                |x: &Drawing| x.n < k && (policy == Policy::EveryDigit || misread[x.digit]);
            let personal =
                adaptation.personal(trust, writer.drawings.iter().filter(|x| corrected(x)));
            // Measured on every drawing numbered k or later, the same set before and after; a
            // writer with nothing left to measure at this k (a real writer who wrote each
            // digit once or twice) has no row.
            let measured: Vec<_> = writer.drawings.iter().filter(|x| x.n >= k).collect();
            if measured.is_empty() {
                continue;
            }
            let before = measured
                .iter()
                .filter(|x| x.prediction.digit() == x.digit)
                .count();
            let after = measured
                .iter()
                .filter(|x| {
                    let p = &x.prediction;
                    personal.adapt(trust, &p.logits, &p.features).digit() == x.digit
                })
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

/// One session of one writer: a part written with every miss corrected, the next part read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    /// The writer.
    pub writer: String,
    /// Where the written part starts among the writer's drawings (0: their first).
    #[serde(default)]
    pub first: usize,
    /// Drawings written in the first part.
    pub written: usize,
    /// Corrections made in it.
    pub corrections: usize,
    /// Drawings read afterwards.
    pub measured: usize,
    /// Share of those shown right by the model alone.
    pub before: f64,
    /// Share shown right with the corrections.
    pub after: f64,
    /// Drawings read afterwards that the corrections turned right.
    #[serde(default)]
    pub fixed: usize,
    /// Drawings read afterwards that the model showed right and the corrections turned wrong.
    #[serde(default)]
    pub broken: usize,
    /// Drawings read afterwards that the model alone did not show right.
    #[serde(default)]
    pub missed: usize,
    /// Of those, the drawings of a digit the writer corrected in the written part: the only
    /// ones a correction, which covers its own digit, could be expected to reach.
    #[serde(default)]
    pub missed_of_corrected_digit: usize,
}

/// One session: `written` drawn in order, each read with the corrections made so far and
/// corrected when not shown right (wrong digit, "not sure" or "not a digit"); `measured` then
/// read by the model alone and with the corrections.
fn session(
    trust: &Trust,
    adaptation: Adaptation,
    (writer, first): (&str, usize),
    written: &[Drawing],
    measured: &[Drawing],
) -> SessionRow {
    let mut corrected: Vec<&Drawing> = Vec::new();
    for drawing in written {
        let personal = adaptation.personal(trust, corrected.iter().copied());
        if !shown_right(&personal, trust, drawing) {
            corrected.push(drawing);
        }
    }
    let model = Personal::default();
    let personal = adaptation.personal(trust, corrected.iter().copied());
    let (mut before, mut after, mut fixed, mut broken) = (0, 0, 0, 0);
    let (mut missed, mut missed_of_corrected_digit) = (0, 0);
    for drawing in measured {
        let was = shown_right(&model, trust, drawing);
        let is = shown_right(&personal, trust, drawing);
        before += usize::from(was);
        after += usize::from(is);
        fixed += usize::from(is && !was);
        broken += usize::from(was && !is);
        if !was {
            missed += 1;
            missed_of_corrected_digit +=
                usize::from(corrected.iter().any(|c| c.digit == drawing.digit));
        }
    }
    let share = |n: usize| n as f64 / measured.len().max(1) as f64;
    SessionRow {
        writer: writer.to_string(),
        first,
        written: written.len(),
        corrections: corrected.len(),
        measured: measured.len(),
        before: share(before),
        after: share(after),
        fixed,
        broken,
        missed,
        missed_of_corrected_digit,
    }
}

/// The session protocol: each writer writes their first `m` drawings in order, `m` half of
/// their drawings but at most `most`, correcting every miss ([`session`]); their next `m`
/// drawings are then read with the model alone and with the corrections. Writers with fewer
/// than `2 * least` drawings are left out. "Shown right" is the page's: the right digit with a
/// digit verdict.
pub fn simulate_sessions(
    classifier: &Classifier,
    writers: &[Writer],
    (least, most): (usize, usize),
    adaptation: Adaptation,
) -> Vec<SessionRow> {
    let trust = classifier.trust();
    writers
        .iter()
        .filter(|w| w.drawings.len() >= 2 * least.max(1))
        .map(|writer| {
            let first = (writer.drawings.len() / 2).min(most);
            let (written, rest) = writer.drawings.split_at(first);
            session(
                trust,
                adaptation,
                (&writer.name, 0),
                written,
                &rest[..first],
            )
        })
        .collect()
}

/// The session protocol over every window: each writer's drawings cut into consecutive
/// sessions of `window` written and `window` read, so that one lucky or unlucky split does
/// not decide the figures, and a writer's later drawings count as well as their first.
pub fn simulate_windows(
    classifier: &Classifier,
    writers: &[Writer],
    window: usize,
    adaptation: Adaptation,
) -> Vec<SessionRow> {
    let trust = classifier.trust();
    let window = window.max(1);
    let mut rows = Vec::new();
    for writer in writers {
        for first in window_starts(writer.drawings.len(), window) {
            let written = &writer.drawings[first..first + window];
            let measured = &writer.drawings[first + window..first + 2 * window];
            rows.push(session(
                trust,
                adaptation,
                (&writer.name, first),
                written,
                measured,
            ));
        }
    }
    rows
}

/// Where each session of [`simulate_windows`] starts among `len` drawings: every `2 * window`
/// drawings, as long as a whole session (`window` written, `window` read) fits.
fn window_starts(len: usize, window: usize) -> impl Iterator<Item = usize> {
    let window = window.max(1);
    (0..len.saturating_sub(2 * window - 1)).step_by(2 * window)
}

/// What [`simulate_sessions`]' rows say in sum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionSummary {
    /// Writers simulated.
    pub writers: usize,
    /// Mean share shown right, before and after.
    pub mean: (f64, f64),
    /// The `hardest` writers (lowest before): their mean before and after.
    pub hardest: (f64, f64),
    /// How many writers that is.
    pub hardest_count: usize,
    /// Share of the hardest writers' gap to 100% that the corrections closed.
    pub gap_closed: f64,
    /// The writer lowest after, and their before and after.
    pub worst_after: (String, f64, f64),
    /// Writers read at 98% or better before: how many, their mean after, and how many of
    /// them lost anything.
    pub well_read: (usize, f64, usize),
    /// Drawings the corrections turned right, and drawings shown right that they turned
    /// wrong, in all.
    pub fixed_broken: (usize, usize),
    /// Drawings the model alone missed in the read parts, and how many of them are of a
    /// digit corrected in the written part.
    pub missed: (usize, usize),
}

/// Sums up `rows`, the hardest `hardest` writers apart.
pub fn summarize_sessions(rows: &[SessionRow], hardest: usize) -> SessionSummary {
    let mean = |v: &[&SessionRow], f: fn(&SessionRow) -> f64| {
        v.iter().map(|r| f(r)).sum::<f64>() / v.len().max(1) as f64
    };
    let all: Vec<&SessionRow> = rows.iter().collect();
    let mut by_before = all.clone();
    by_before.sort_by(|a, b| a.before.total_cmp(&b.before));
    let hard = &by_before[..hardest.min(by_before.len())];
    let (hard_before, hard_after) = (mean(hard, |r| r.before), mean(hard, |r| r.after));
    let worst = all
        .iter()
        .min_by(|a, b| a.after.total_cmp(&b.after))
        .map(|r| (r.writer.clone(), r.before, r.after))
        .unwrap_or_default();
    let well: Vec<&SessionRow> = all.iter().copied().filter(|r| r.before >= 0.98).collect();
    SessionSummary {
        writers: rows.len(),
        mean: (mean(&all, |r| r.before), mean(&all, |r| r.after)),
        hardest: (hard_before, hard_after),
        hardest_count: hard.len(),
        gap_closed: if hard_before < 1.0 {
            (hard_after - hard_before) / (1.0 - hard_before)
        } else {
            0.0
        },
        worst_after: worst,
        well_read: (
            well.len(),
            mean(&well, |r| r.after),
            well.iter().filter(|r| r.after < r.before - 1e-9).count(),
        ),
        fixed_broken: (
            rows.iter().map(|r| r.fixed).sum(),
            rows.iter().map(|r| r.broken).sum(),
        ),
        missed: (
            rows.iter().map(|r| r.missed).sum(),
            rows.iter().map(|r| r.missed_of_corrected_digit).sum(),
        ),
    }
}

/// One wrong correction per writer (their first 3, "corrected" to 8, a digit it resembles):
/// accuracy on the writer's drawings of the other digits (not 3) before and after, per
/// writer. (Their other 3s follow the correction, as they should: what the person says goes,
/// until they forget it.)
pub fn wrong_correction(
    classifier: &Classifier,
    writers: &[Writer],
    adaptation: Adaptation,
) -> Vec<(String, f64, f64)> {
    let trust = classifier.trust();
    writers
        .iter()
        .filter_map(|w| {
            let wrong = w.drawings.iter().position(|x| x.n == 0 && x.digit == 3)?;
            let (_, features) = w.drawings[wrong].example(adaptation.variations);
            let personal = Personal::new(trust, vec![(8, features)], adaptation.params);
            let others: Vec<_> = w
                .drawings
                .iter()
                .enumerate()
                .filter(|(i, x)| *i != wrong && x.digit != 3)
                .map(|(_, x)| x)
                .collect();
            let n = others.len().max(1) as f64;
            let before = others
                .iter()
                .filter(|x| x.prediction.digit() == x.digit)
                .count() as f64
                / n;
            let after = others
                .iter()
                .filter(|x| {
                    let p = &x.prediction;
                    personal.adapt(trust, &p.logits, &p.features).digit() == x.digit
                })
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

#[cfg(test)]
mod tests {
    use super::window_starts;

    #[test]
    fn windows_cover_whole_sessions_only() {
        let starts = |len, window| window_starts(len, window).collect::<Vec<_>>();
        assert_eq!(starts(65, 10), [0, 20, 40]);
        assert_eq!(starts(60, 30), [0]);
        assert_eq!(starts(59, 30), Vec::<usize>::new());
        assert_eq!(starts(0, 10), Vec::<usize>::new());
        assert_eq!(starts(3, 0), [0]);
        assert_eq!(starts(4, 0), [0, 2]);
    }
}
