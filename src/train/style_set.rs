//! The writing-style test set: digits drawn in the shapes people write beside MNIST's (a
//! slashed 0, a crossed 7, a flagged 1, an open-top 4, ...), one `.strokes` file each, named
//! `<style>-<nn>-<digit>.strokes`. `eval` and `train` read it from the repository and report
//! accuracy per digit and per style; nothing trains or tunes on it.

use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::classifier::Classifier;
use crate::digit::{DigitImage, CLASSES};
use crate::files::{read_drawing, stroke_files};

/// Where the style set lives in this repository (relative to its root).
pub const STYLE_DRAWINGS: &str = "tests/fixtures/styles";

/// One drawing of the set.
pub struct StyleDrawing {
    /// The digit drawn.
    pub digit: u8,
    /// How it was written (`plain`, `slashed`, ...).
    pub style: String,
    /// The drawing through the page's preprocessing.
    pub image: DigitImage,
}

/// Reads every `<style>-<nn>-<digit>.strokes` file in `dir`, sorted by name.
pub fn load_style_set(dir: &Path) -> Result<Vec<StyleDrawing>> {
    let paths = stroke_files(dir, "style set")?;
    let mut set = Vec::with_capacity(paths.len());
    for path in &paths {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let parsed = stem.rsplit_once('-').and_then(|(rest, digit)| {
            let digit = digit
                .parse::<u8>()
                .ok()
                .filter(|&d| (d as usize) < CLASSES)?;
            let (style, _number) = rest.rsplit_once('-')?;
            (!style.is_empty()).then(|| (digit, style.to_string()))
        });
        let Some((digit, style)) = parsed else {
            bail!(
                "{}: a style drawing's name must be <style>-<number>-<digit>.strokes",
                path.display()
            );
        };
        set.push(StyleDrawing {
            digit,
            style,
            image: read_drawing(path)?,
        });
    }
    if set.is_empty() {
        bail!("{}: no .strokes files", dir.display());
    }
    Ok(set)
}

/// Right answers out of a count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Drawings read as their digit.
    pub correct: usize,
    /// Drawings.
    pub count: usize,
}

impl Score {
    fn add(&mut self, right: bool) {
        self.correct += usize::from(right);
        self.count += 1;
    }

    /// The share read right (0 for no drawings).
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.count.max(1) as f64
    }
}

/// How a model reads the style set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleReport {
    /// All drawings.
    pub all: Score,
    /// Per digit, 0 to 9.
    pub per_digit: Vec<Score>,
    /// Per style, as `"<digit> <style>"`, sorted.
    pub per_style: Vec<(String, Score)>,
    /// What wrong answers were given, per style: `"<digit> <style>"` and the digits read.
    pub mistakes: Vec<(String, Vec<u8>)>,
}

/// Reads every drawing of `set` with `classifier` (the argmax answer, whatever its verdict).
pub fn evaluate_styles(classifier: &Classifier, set: &[StyleDrawing]) -> Result<StyleReport> {
    let images: Vec<DigitImage> = set.iter().map(|d| d.image.clone()).collect();
    let predictions = classifier.classify_batch(&images)?;
    let mut all = Score::default();
    let mut per_digit = vec![Score::default(); CLASSES];
    let mut per_style: std::collections::BTreeMap<String, Score> = Default::default();
    let mut mistakes: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    for (drawing, prediction) in set.iter().zip(&predictions) {
        let answer = prediction.digit();
        let right = answer == usize::from(drawing.digit);
        let key = format!("{} {}", drawing.digit, drawing.style);
        all.add(right);
        per_digit[usize::from(drawing.digit)].add(right);
        per_style.entry(key.clone()).or_default().add(right);
        if !right {
            mistakes.entry(key).or_default().push(answer as u8);
        }
    }
    Ok(StyleReport {
        all,
        per_digit,
        per_style: per_style.into_iter().collect(),
        mistakes: mistakes.into_iter().collect(),
    })
}

/// The style set of this repository read by `classifier`, when run from the repository's
/// root; `None` elsewhere.
pub fn repository_style_report(classifier: &Classifier) -> Result<Option<StyleReport>> {
    let dir = Path::new(STYLE_DRAWINGS);
    if !dir.is_dir() {
        return Ok(None);
    }
    let set = load_style_set(dir)?;
    Ok(Some(evaluate_styles(classifier, &set)?))
}

impl StyleReport {
    /// The lowest accuracy of any style.
    pub fn worst_style(&self) -> Option<(&str, f64)> {
        self.per_style
            .iter()
            .map(|(name, score)| (name.as_str(), score.accuracy()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// A Markdown table: per style, then per digit, with the wrong answers.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Writing styles: {}/{} read right ({:.1}%)\n",
            self.all.correct,
            self.all.count,
            100.0 * self.all.accuracy()
        );
        let _ = writeln!(
            s,
            "| digit and style | right | accuracy | read instead as |"
        );
        let _ = writeln!(s, "|---|---:|---:|---|");
        for (name, score) in &self.per_style {
            let wrong = self
                .mistakes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, answers)| {
                    let mut counts = [0usize; CLASSES];
                    answers.iter().for_each(|&a| counts[usize::from(a)] += 1);
                    counts
                        .iter()
                        .enumerate()
                        .filter(|(_, &n)| n > 0)
                        .map(|(d, n)| format!("{d} ({n}x)"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {name} | {}/{} | {:.1}% | {wrong} |",
                score.correct,
                score.count,
                100.0 * score.accuracy()
            );
        }
        let per_digit: Vec<String> = self
            .per_digit
            .iter()
            .enumerate()
            .map(|(d, score)| format!("{d}: {:.1}%", 100.0 * score.accuracy()))
            .collect();
        let _ = writeln!(s, "\nPer digit: {}", per_digit.join(", "));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_digit_and_style() {
        let dir = std::env::temp_dir().join(format!("digitpad-styles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let stroke = "0.2,0.2 0.5,0.8 0.6,0.3\n";
        std::fs::write(dir.join("flag-base-03-1.strokes"), stroke).expect("write");
        std::fs::write(dir.join("slashed-00-0.strokes"), stroke).expect("write");
        let set = load_style_set(&dir).expect("loads");
        let parsed: Vec<(u8, &str)> = set.iter().map(|d| (d.digit, d.style.as_str())).collect();
        assert_eq!(parsed, vec![(1, "flag-base"), (0, "slashed")]);
        std::fs::write(dir.join("oops-7.strokes"), stroke).expect("write");
        let error = load_style_set(&dir).err().expect("a bad name is an error");
        assert!(format!("{error:#}").contains("oops-7.strokes"), "{error:#}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
