//! How a model reads real pen writing the way a person sees it on the page: each sample's
//! strokes go through the page's number reader ([`crate::number::read_strokes`]), so a digit
//! counts as shown right only when it is read as one digit, the right one, with a "digit"
//! verdict (not split, not "not a digit", not "not sure"). Also: real letters (shapes no
//! reader takes for a digit) and numbers composed from one writer's real digits.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::pen_data::{to_pad, PenData, PenLabel, PenSample, PAD_EXTENT};
use crate::classifier::Classifier;
use crate::metrics::share;
use crate::number::{as_text, prepare_strokes, render, ReadDigit, Weights};
use crate::strokes::{Bounds, Point, Stroke};
use crate::trust::Verdict;

/// What a person sees for one real digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shown {
    /// One digit, the right one, read with confidence.
    Right,
    /// One digit, confidently wrong.
    Misread,
    /// One digit marked "not sure".
    Unsure,
    /// Marked "not a digit" (`?`).
    NotDigit,
    /// Split into several digits.
    Split,
}

/// Whether a reading with these verdicts, one per digit, is refused as a whole: nothing read,
/// or some digit "not sure" or "not a digit". What a letter should get; the evaluation and the
/// number reader's fit (`tune-grouping`) both count letters by it.
pub fn is_refused<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> bool {
    let mut verdicts = verdicts.into_iter().peekable();
    verdicts.peek().is_none() || verdicts.any(|v| *v != Verdict::Digit)
}

/// How the page's reading of `digits` shows a drawing of `label`.
pub fn shown(digits: &[ReadDigit], label: u8) -> Shown {
    match digits {
        [one] => match one.prediction.verdict {
            Verdict::NotDigit => Shown::NotDigit,
            Verdict::Unsure => Shown::Unsure,
            Verdict::Digit if one.prediction.digit() == usize::from(label) => Shown::Right,
            Verdict::Digit => Shown::Misread,
        },
        [] => Shown::NotDigit,
        _ => Shown::Split,
    }
}

/// Reads `strokes` (tablet units) as the page would once they are on the pad
/// ([`read_all_as_page`] for one drawing).
pub fn read_as_page(classifier: &Classifier, strokes: &[Stroke]) -> Result<Vec<ReadDigit>> {
    let mut read = read_all_as_page(classifier, &[strokes], PAD_EXTENT)?;
    Ok(read.pop().unwrap_or_default())
}

/// Many drawings read as the page reads them ([`crate::number::read_strokes`]), each placed
/// on the pad at `extent`: every candidate digit of every drawing is classified in one batch
/// (the classifier's plan has a fixed batch, so one drawing at a time would run it mostly on
/// blank padding).
pub fn read_all_as_page(
    classifier: &Classifier,
    drawings: &[&[Stroke]],
    extent: f32,
) -> Result<Vec<Vec<ReadDigit>>> {
    let on_pad: Vec<Vec<Stroke>> = drawings.iter().map(|s| to_pad(s, extent)).collect();
    let prepared: Vec<_> = on_pad.iter().map(|s| prepare_strokes(s)).collect();
    let images: Vec<_> = prepared
        .iter()
        .zip(&on_pad)
        .flat_map(|(p, strokes)| {
            p.stroke_indices
                .iter()
                .map(move |pieces| render(strokes, pieces).0)
        })
        .collect();
    let mut answers = classifier.classify_batch(&images)?.into_iter();
    Ok(prepared
        .iter()
        .zip(&on_pad)
        .map(|(p, strokes)| {
            let mine: Vec<_> = answers.by_ref().take(p.stroke_indices.len()).collect();
            p.read(strokes, &mine, &Weights::DEFAULT)
        })
        .collect())
}

/// One digit's row of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitRow {
    /// The digit.
    pub digit: u8,
    /// Samples of it.
    pub count: usize,
    /// Share shown right.
    pub shown_right: f64,
    /// Share the classifier alone reads right (the whole drawing as one image).
    pub classifier_right: f64,
}

/// The real-writing report of `eval` and the model card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PenReport {
    /// Which writers: e.g. "UNIPEN contributors app, tos (validation: never trained or tuned on)".
    pub set: String,
    /// Digits read.
    pub digits: usize,
    /// Their writers.
    pub writers: usize,
    /// Share shown right (one digit, right, "digit" verdict).
    pub shown_right: f64,
    /// Share the classifier alone reads right.
    pub classifier_right: f64,
    /// Share shown as one confident wrong digit.
    pub misread: f64,
    /// Share marked "not sure".
    pub unsure: f64,
    /// Share marked "not a digit".
    pub not_digit: f64,
    /// Share split into several digits.
    pub split: f64,
    /// Per digit.
    pub per_digit: Vec<DigitRow>,
    /// Letters read.
    pub letters: usize,
    /// Share of letters given something other than confident digits (any part "not a digit"
    /// or "not sure").
    pub letters_rejected: f64,
    /// The most frequent ways digits were shown wrong: (digit, what was shown, how often),
    /// what was shown as the number's text with `~` after a "not sure" digit.
    pub misses: Vec<(u8, String, usize)>,
    /// Numbers composed from one writer's digits (2-5 digits each).
    pub numbers: usize,
    /// Share of them read exactly.
    pub numbers_exact: f64,
}

/// The size (share of the pad's side) at which a composed number is placed on the pad.
pub const NUMBER_EXTENT: f32 = 0.9;

/// How many of the most frequent misses a report lists.
pub const MISSES_LISTED: usize = 12;

/// What the page shows for `digits`: the number's text, `~` after each "not sure" digit.
pub fn shown_text(digits: &[ReadDigit]) -> String {
    digits
        .iter()
        .map(|d| {
            let c = crate::number::digit_char(&d.prediction);
            if d.prediction.verdict == Verdict::Unsure {
                format!("{c}~")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The strokes of each sample.
fn strokes(set: &[PenSample]) -> Vec<&[Stroke]> {
    set.iter().map(|s| s.strokes.as_slice()).collect()
}

/// Reads every digit and letter of `data` and `numbers_per_writer` composed numbers of each of
/// its writers (seeded) as the page would, and reports.
pub fn evaluate_pen(
    classifier: &Classifier,
    data: &PenData,
    set: &str,
    numbers_per_writer: usize,
) -> Result<PenReport> {
    let mut outcomes: BTreeMap<u8, Vec<(Shown, bool)>> = BTreeMap::new();
    let mut misses: BTreeMap<(u8, String), usize> = BTreeMap::new();
    let whole: Vec<_> = data
        .digits
        .iter()
        .map(|s| super::pen_data::render(s).unwrap_or_default())
        .collect();
    let alone = classifier.classify_batch(&whole)?;
    let readings = read_all_as_page(classifier, &strokes(&data.digits), PAD_EXTENT)?;
    for ((sample, answer), digits) in data.digits.iter().zip(&alone).zip(readings) {
        let PenLabel::Digit(label) = sample.label else {
            continue;
        };
        let how = shown(&digits, label);
        if how != Shown::Right {
            *misses.entry((label, shown_text(&digits))).or_default() += 1;
        }
        outcomes
            .entry(label)
            .or_default()
            .push((how, answer.digit() == usize::from(label)));
    }
    let all: Vec<(Shown, bool)> = outcomes.values().flatten().copied().collect();
    let count = |what: Shown| share(all.iter().filter(|o| o.0 == what).count(), all.len());
    let per_digit = outcomes
        .iter()
        .map(|(&digit, rows)| DigitRow {
            digit,
            count: rows.len(),
            shown_right: share(
                rows.iter().filter(|o| o.0 == Shown::Right).count(),
                rows.len(),
            ),
            classifier_right: share(rows.iter().filter(|o| o.1).count(), rows.len()),
        })
        .collect();
    let mut rejected = 0;
    for digits in read_all_as_page(classifier, &strokes(&data.letters), PAD_EXTENT)? {
        if is_refused(digits.iter().map(|d| &d.prediction.verdict)) {
            rejected += 1;
        }
    }
    let numbers = compose_numbers(&data.digits, numbers_per_writer, 0x5EED);
    let written: Vec<&[Stroke]> = numbers.iter().map(|(_, s)| s.as_slice()).collect();
    let mut exact = 0;
    for ((number, _), digits) in
        numbers
            .iter()
            .zip(read_all_as_page(classifier, &written, NUMBER_EXTENT)?)
    {
        exact += usize::from(as_text(&digits) == *number);
    }
    let writers: BTreeSet<&str> = data.digits.iter().map(|s| s.writer.as_str()).collect();
    Ok(PenReport {
        set: set.to_string(),
        digits: all.len(),
        writers: writers.len(),
        shown_right: count(Shown::Right),
        classifier_right: share(all.iter().filter(|o| o.1).count(), all.len()),
        misread: count(Shown::Misread),
        unsure: count(Shown::Unsure),
        not_digit: count(Shown::NotDigit),
        split: count(Shown::Split),
        per_digit,
        letters: data.letters.len(),
        letters_rejected: share(rejected, data.letters.len()),
        misses: {
            let mut list: Vec<(u8, String, usize)> =
                misses.into_iter().map(|((d, s), n)| (d, s, n)).collect();
            list.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (a.0, &a.1).cmp(&(b.0, &b.1))));
            list.truncate(MISSES_LISTED);
            list
        },
        numbers: numbers.len(),
        numbers_exact: share(exact, numbers.len()),
    })
}

impl PenReport {
    /// The report as text for the terminal.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let pct = |v: f64| format!("{:.2}%", 100.0 * v);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "real pen digits, {} ({} digits by {} writers):",
            self.set, self.digits, self.writers
        );
        let _ = writeln!(
            s,
            "  shown right {} | classifier alone {} | misread {} | not sure {} | not a digit {} | split {}",
            pct(self.shown_right),
            pct(self.classifier_right),
            pct(self.misread),
            pct(self.unsure),
            pct(self.not_digit),
            pct(self.split)
        );
        let _ = writeln!(s, "  digit  count  shown right  classifier alone");
        for row in &self.per_digit {
            let _ = writeln!(
                s,
                "  {:>5}  {:>5}  {:>11}  {:>16}",
                row.digit,
                row.count,
                pct(row.shown_right),
                pct(row.classifier_right)
            );
        }
        if !self.misses.is_empty() {
            let listed: Vec<String> = self
                .misses
                .iter()
                .map(|(d, shown, n)| format!("{d} as {shown:?} {n}x"))
                .collect();
            let _ = writeln!(s, "  most frequent misses: {}", listed.join(", "));
        }
        let _ = writeln!(
            s,
            "  real letters not read as digits: {} of {}",
            pct(self.letters_rejected),
            self.letters
        );
        let _ = write!(
            s,
            "  numbers of 2-5 real digits by one writer read exactly: {} of {}",
            pct(self.numbers_exact),
            self.numbers
        );
        s
    }
}

/// `count` numbers of 2-5 digits for each writer of `digits`, each composed from that
/// writer's own digits (seeded): the text and the strokes, in the writer's units. Digits sit
/// on a line at their own sizes (varied by up to 15%), with gaps from a small overlap to half
/// a digit's height and a slight drift up or down: close neighbours overlap and touch as
/// people's do.
pub fn compose_numbers(
    digits: &[PenSample],
    count: usize,
    seed: u64,
) -> Vec<(String, Vec<Stroke>)> {
    let mut by_writer: BTreeMap<&str, Vec<&PenSample>> = BTreeMap::new();
    for s in digits {
        if matches!(s.label, PenLabel::Digit(_)) {
            by_writer.entry(&s.writer).or_default().push(s);
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for samples in by_writer.values() {
        if samples.len() < 2 {
            continue;
        }
        let mut pool: Vec<&PenSample> = Vec::new();
        for _ in 0..count {
            let length = rng.random_range(2..=5usize).min(samples.len());
            let mut chosen = Vec::with_capacity(length);
            while chosen.len() < length {
                if pool.is_empty() {
                    pool = samples.clone();
                    pool.shuffle(&mut rng);
                }
                if let Some(s) = pool.pop() {
                    chosen.push(s);
                }
            }
            out.push(compose(&chosen, &mut rng));
        }
    }
    out
}

/// One number written with `samples`, left to right.
fn compose(samples: &[&PenSample], rng: &mut impl Rng) -> (String, Vec<Stroke>) {
    let boxes: Vec<Bounds> = samples
        .iter()
        .filter_map(|s| Bounds::of_strokes(&s.strokes))
        .collect();
    let mut heights: Vec<f32> = boxes.iter().map(|b| b.height()).collect();
    heights.sort_by(f32::total_cmp);
    let line = heights
        .get(heights.len() / 2)
        .copied()
        .unwrap_or(1.0)
        .max(1.0);
    let mut text = String::new();
    let mut strokes = Vec::new();
    let mut x = 0.0f32;
    for (sample, b) in samples.iter().zip(&boxes) {
        let scale = rng.random_range(0.85f32..1.15);
        let gap = rng.random_range(-0.1f32..0.5) * line;
        let drift = rng.random_range(-0.08f32..0.08) * line;
        let left = if strokes.is_empty() { 0.0 } else { x + gap };
        let c = b.centre();
        let half_width = b.width() * scale / 2.0;
        for stroke in &sample.strokes {
            strokes.push(
                stroke
                    .iter()
                    .map(|p| {
                        Point::new(
                            left + half_width + (p.x - c.x) * scale,
                            drift + (p.y - c.y) * scale,
                        )
                    })
                    .collect(),
            );
        }
        x = left + 2.0 * half_width;
        if let PenLabel::Digit(d) = sample.label {
            text.push(char::from(b'0' + d));
        }
    }
    (text, strokes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(label: u8, writer: &str, x0: f32) -> PenSample {
        PenSample {
            label: PenLabel::Digit(label),
            writer: writer.into(),
            strokes: vec![vec![Point::new(x0, 0.0), Point::new(x0 + 30.0, 100.0)]],
        }
    }

    #[test]
    fn numbers_are_composed_from_one_writers_digits_left_to_right() {
        let mut digits: Vec<PenSample> = (0..10).map(|d| sample(d, "a/1", 500.0)).collect();
        digits.extend((0..10).map(|d| sample(d, "b/2", -70.0)));
        let numbers = compose_numbers(&digits, 6, 1);
        assert_eq!(numbers.len(), 12);
        for (text, strokes) in &numbers {
            assert!((2..=5).contains(&text.len()), "{text}");
            assert_eq!(strokes.len(), text.len());
            // Each digit starts right of where the one before it started.
            let starts: Vec<f32> = strokes.iter().map(|s| s[0].x).collect();
            assert!(starts.windows(2).all(|w| w[1] > w[0]), "{starts:?}");
        }
        // Every writer's digits are used before any is used again.
        let first: String = numbers[..3].iter().map(|n| n.0.as_str()).collect();
        let distinct: BTreeSet<char> = first.chars().take(10).collect();
        assert_eq!(distinct.len(), first.len().min(10));
    }
}
