//! Reads the pad as a number ([`crate::number`]) for the page, remembering the model's
//! answer to every candidate digit: while a stroke grows, only the candidates holding it
//! are rendered and classified again, so reading a long number stays within a frame.

use std::collections::HashMap;

use crate::classifier::{Classifier, ClassifierError};
use crate::number::{read_strokes_with, render, ReadDigit};
use crate::strokes::Stroke;
use crate::{DigitImage, Prediction};

/// A candidate's identity: each of its strokes' index, length and last point (bits), so
/// that a stroke that grew, or a new stroke where an undone one was, is a new candidate.
type Key = Vec<(usize, usize, u32, u32)>;

/// Answers beyond this many are forgotten (a long session of drawing).
const CAPACITY: usize = 4096;

/// The model's answers to candidate digits seen so far.
#[derive(Default)]
pub struct AnswerCache {
    answers: HashMap<Key, Prediction>,
}

fn key(strokes: &[Stroke], pieces: &[usize]) -> Key {
    pieces
        .iter()
        .map(|&i| {
            let last = strokes[i].last().copied().unwrap_or_default();
            (i, strokes[i].len(), last.x.to_bits(), last.y.to_bits())
        })
        .collect()
}

impl AnswerCache {
    /// Reads `strokes` as a number, classifying (in one batch) only the candidates not seen
    /// before.
    pub fn read(
        &mut self,
        strokes: &[Stroke],
        classifier: &Classifier,
    ) -> Result<Vec<ReadDigit>, ClassifierError> {
        if self.answers.len() > CAPACITY {
            self.answers.clear();
        }
        read_strokes_with(strokes, |candidates| {
            let keys: Vec<Key> = candidates.iter().map(|c| key(strokes, c)).collect();
            let missing: Vec<usize> = (0..keys.len())
                .filter(|&c| !self.answers.contains_key(&keys[c]))
                .collect();
            let images: Vec<DigitImage> = missing
                .iter()
                .map(|&c| render(strokes, &candidates[c]).0)
                .collect();
            let fresh = classifier.classify_batch(&images)?;
            for (&c, prediction) in missing.iter().zip(fresh) {
                self.answers.insert(keys[c].clone(), prediction);
            }
            keys.iter()
                .map(|k| {
                    self.answers.get(k).cloned().ok_or_else(|| {
                        ClassifierError::Output("a candidate digit got no answer".into())
                    })
                })
                .collect()
        })
    }
}
