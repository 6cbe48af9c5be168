//! Why the model answered as it did: which ink pushed it toward its answer and which toward
//! the runner-up, by occlusion (Zeiler & Fergus 2014).
//!
//! A small square of the 28x28 image is blanked at a time, the model is run again, and the
//! change in the margin `logit(answer) - logit(runner-up)` is credited to the ink that was
//! blanked: a positive share means that ink argued for the answer, a negative share that it
//! argued for the runner-up. Occlusion was chosen over gradients because it needs nothing but
//! the forward pass the page already runs (tract has no backward pass), it explains the exact
//! model that answered, and blanking ink is what a person would do to test "what if this
//! stroke were not there". Blank squares are skipped, so the cost is one run per inked square.

use crate::classifier::{Classifier, ClassifierError, Prediction};
use crate::digit::{DigitImage, PIXELS, SIDE};
use crate::trust::top_two;

/// Side of the blanked square, in pixels (about a pen width and a half).
pub const PATCH: usize = 4;
/// Step between squares, in pixels: squares overlap by half, so each pixel is judged twice
/// on each axis and the map is smoother than the squares.
pub const STRIDE: usize = 2;

/// Per-pixel credit for the answer against the runner-up.
#[derive(Clone, Debug, PartialEq)]
pub struct Saliency {
    /// The answer explained.
    pub digit: usize,
    /// The digit it is explained against.
    pub runner_up: usize,
    /// One value per pixel, row by row: > 0 this ink argued for `digit`, < 0 for
    /// `runner_up`, in logits of margin.
    pub values: Vec<f32>,
    /// Model runs it took.
    pub runs: usize,
}

impl Saliency {
    /// The largest absolute value (0 for an empty map), to scale a picture by.
    pub fn peak(&self) -> f32 {
        self.values.iter().fold(0.0, |m, v| m.max(v.abs()))
    }
}

/// The occlusion map of `image` for `digit` against `runner_up`.
pub fn occlusion(
    classifier: &Classifier,
    image: &DigitImage,
    digit: usize,
    runner_up: usize,
) -> Result<Saliency, ClassifierError> {
    occlusion_by(classifier, image, |_| (digit, runner_up))
}

/// The occlusion map of the model's own answer for `image` against its runner-up (what the
/// page shows): the answer is read from the unoccluded run the map needs anyway.
pub fn explain_answer(
    classifier: &Classifier,
    image: &DigitImage,
) -> Result<Saliency, ClassifierError> {
    occlusion_by(classifier, image, |p| top_two(&p.probabilities))
}

/// The pixels of the square at `(x0, y0)`, as indices into the image.
fn square(x0: usize, y0: usize) -> impl Iterator<Item = usize> {
    (y0..y0 + PATCH).flat_map(move |y| (x0..x0 + PATCH).map(move |x| y * SIDE + x))
}

/// [`occlusion`], with the two digits chosen from the unoccluded image's prediction.
fn occlusion_by(
    classifier: &Classifier,
    image: &DigitImage,
    choose: impl FnOnce(&Prediction) -> (usize, usize),
) -> Result<Saliency, ClassifierError> {
    let pixels = image.pixels();
    let starts: Vec<usize> = (0..=SIDE - PATCH).step_by(STRIDE).collect();
    let mut patches = Vec::new();
    let mut batch = vec![image.clone()];
    for &y0 in &starts {
        for &x0 in &starts {
            if !square(x0, y0).any(|i| pixels[i] > 0.0) {
                continue;
            }
            let mut copy = image.clone();
            let blanked = copy.pixels_mut();
            square(x0, y0).for_each(|i| blanked[i] = 0.0);
            patches.push((x0, y0));
            batch.push(copy);
        }
    }
    let predictions = classifier.classify_batch(&batch)?;
    let (digit, runner_up) = choose(&predictions[0]);
    let margin = |logits: &[f32]| logits[digit] - logits[runner_up];
    let base = margin(&predictions[0].logits);
    let mut credit = vec![0f32; PIXELS];
    let mut weight = vec![0f32; PIXELS];
    for (&(x0, y0), prediction) in patches.iter().zip(&predictions[1..]) {
        let drop = base - margin(&prediction.logits);
        // Share the drop among the square's ink, by how much ink each pixel holds.
        let ink: f32 = square(x0, y0).map(|i| pixels[i]).sum();
        for i in square(x0, y0) {
            credit[i] += drop * pixels[i] / ink.max(1e-6);
            weight[i] += 1.0;
        }
    }
    let values = credit
        .iter()
        .zip(&weight)
        .map(|(&c, &w)| if w > 0.0 { c / w } else { 0.0 })
        .collect();
    Ok(Saliency {
        digit,
        runner_up,
        values,
        runs: predictions.len(),
    })
}
