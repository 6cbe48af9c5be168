//! Reads the pad as a number ([`crate::number`]) for the page, remembering the model's
//! answer to every candidate digit and how every two strokes meet: while a stroke grows,
//! only the candidates holding it are rendered and classified again, and only its contacts
//! measured again, so reading a long number stays within a frame.

use std::collections::HashMap;

use super::timing::now_ms;
use crate::classifier::{Classifier, ClassifierError};
use crate::number::{read_strokes_with, render, strokes_contact, Contact, ReadDigit};
use crate::strokes::Stroke;
use crate::{DigitImage, Prediction};

/// A stroke's identity: its index, length and last point (bits), so that a stroke that grew,
/// or a new stroke where an undone one was, is a new stroke.
type StrokeKey = (usize, usize, u32, u32);
/// A candidate's identity: its strokes'.
type Key = Vec<StrokeKey>;

/// Answers beyond this many are forgotten (a long session of drawing).
const CAPACITY: usize = 4096;

/// The model's answers to candidate digits seen so far (each with the time its inference
/// took, per image of its batch, in milliseconds), and how strokes meet.
#[derive(Default)]
pub struct AnswerCache {
    answers: HashMap<Key, (Prediction, f64)>,
    contacts: HashMap<(StrokeKey, StrokeKey), Contact>,
}

fn stroke_key(strokes: &[Stroke], i: usize) -> StrokeKey {
    let last = strokes[i].last().copied().unwrap_or_default();
    (i, strokes[i].len(), last.x.to_bits(), last.y.to_bits())
}

fn key(strokes: &[Stroke], pieces: &[usize]) -> Key {
    pieces.iter().map(|&i| stroke_key(strokes, i)).collect()
}

impl AnswerCache {
    /// Reads `strokes` as a number, classifying (in one batch) only the candidates not seen
    /// before.
    pub fn read(
        &mut self,
        strokes: &[Stroke],
        classifier: &Classifier,
    ) -> Result<Vec<ReadDigit>, ClassifierError> {
        if self.answers.len() > CAPACITY || self.contacts.len() > CAPACITY {
            self.answers.clear();
            self.contacts.clear();
        }
        let contacts = &mut self.contacts;
        let contact = |a: usize, b: usize| {
            *contacts
                .entry((stroke_key(strokes, a), stroke_key(strokes, b)))
                .or_insert_with(|| strokes_contact(&strokes[a], &strokes[b]))
        };
        let answers = &mut self.answers;
        read_strokes_with(strokes, contact, |candidates| {
            let keys: Vec<Key> = candidates.iter().map(|c| key(strokes, c)).collect();
            let missing: Vec<usize> = (0..keys.len())
                .filter(|&c| !answers.contains_key(&keys[c]))
                .collect();
            let images: Vec<DigitImage> = missing
                .iter()
                .map(|&c| render(strokes, &candidates[c]).0)
                .collect();
            let start = now_ms();
            let fresh = classifier.classify_batch(&images)?;
            let ms = (now_ms() - start) / images.len().max(1) as f64;
            for (&c, prediction) in missing.iter().zip(fresh) {
                answers.insert(keys[c].clone(), (prediction, ms));
            }
            keys.iter()
                .map(|k| {
                    answers.get(k).map(|a| a.0.clone()).ok_or_else(|| {
                        ClassifierError::Output("a candidate digit got no answer".into())
                    })
                })
                .collect()
        })
    }

    /// How long the inference that produced the answer to the digit made of `pieces` took
    /// (its share of its batch), in milliseconds: what the page shows, rather than the time of
    /// a reading that only looked answers up.
    pub fn inference_ms(&self, strokes: &[Stroke], pieces: &[usize]) -> Option<f64> {
        self.answers.get(&key(strokes, pieces)).map(|a| a.1)
    }
}
