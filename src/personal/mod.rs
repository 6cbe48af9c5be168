//! Learning one person's handwriting from their corrections, without retraining the model.
//!
//! When the page misreads a drawing and the person says what it was, the drawing (its 28x28
//! image) and the label are kept, in the browser only. Each kept example stands for itself,
//! its [`VARIATIONS`] (a little tilted and slanted) and its [`BENDS`], all read by the model;
//! answers then combine the model with them in the model's own feature space (the `features`
//! output), whitened by the features' shared covariance that the trainer fitted (see
//! [`crate::trust`]):
//!
//! - the **personal head** ([`Params::head_l2`], what the page uses): a correction `ΔW` of
//!   the model's last layer, fitted on the examples by cross-entropy with a weight penalty,
//!   added to the model's calibrated logits; few examples move it little, and it acts only
//!   near them ([`Params::head_reach`]), so a correction leaves drawings unlike every
//!   example as the model read them;
//! - the **votes** ([`Params::votes`], measured beside it): each example votes for its digit
//!   by its nearness, and the votes' total `S` counts against the model's answer as
//!   `w = S / (S + κ)`: `p' = (1 - w) p_model + w · votes / S`.
//!
//! So no examples means the model's answer; a drawing like one the person corrected takes that
//! correction; and a wrong or odd example sways only drawings like itself. The verdicts
//! ("not sure", "not a digit") are the trust rules' on the adapted answer, except that a
//! drawing close to an example of the digit it is read as is a digit
//! ([`Params::vouch_within`]): what the person said goes. Examples are stored as images, not
//! features, so that a new model recomputes them instead of misreading them.
//! The parameters were chosen by `digitpad adapt-eval` on generated and real writers
//! (docs/trust-and-personal.md, "Personal examples").

use crate::classifier::{Classifier, ClassifierError, Prediction};
use crate::digit::{DigitImage, CLASSES, PIXELS};
use crate::scores::argmax;
use crate::trust::{Trust, Verdict};
use crate::warp::{warp, Affine};

mod head;
mod store;

use head::Head;
pub use store::{
    from_text, to_text, within_limits, Example, StoreError, MAX_PER_DIGIT, STORE_HEADER,
};

/// How the examples count against the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Each example votes for its digit by its nearness; `None`: no votes.
    pub votes: Option<Votes>,
    /// The personal head's weight penalty `λ` ([`Head`]); `None`: no head.
    pub head_l2: Option<f32>,
    /// How far the head reaches: its shift is scaled by `exp(-d² / 2r²)`, `d²` the squared
    /// distance from the drawing to the nearest example (as drawn), `r²` this; `None`: the
    /// head shifts every drawing alike.
    pub head_reach: Option<f32>,
    /// A drawing whose squared distance to the nearest example (as drawn) is at most this,
    /// and read as that example's digit, is a digit, whatever the "not a digit" test says of
    /// it on its own; `None`: no such rule.
    pub vouch_within: Option<f32>,
}

/// The examples' votes: each votes for its digit with weight `exp(-d² / 2h²)`, `d²` the
/// squared distance from its nearest variation to the drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Votes {
    /// `h²`: the squared distance at which an example's vote has fallen to `e^-½`.
    pub bandwidth: f32,
    /// `κ`: the votes' total at which they count as much as the model.
    pub prior_weight: f32,
}

/// The parameters the page uses: the personal head, `λ` = 0.01, reaching `r²` = 80 around
/// the examples, and a drawing within `d²` = 200 of an example of the digit it is read as
/// vouched for; chosen by `digitpad adapt-eval` on real writers (docs/trust-and-personal.md,
/// "Personal examples"). A head that reaches everywhere also moves drawings unlike any
/// example: over every session window of the held-out writers it broke 6 drawings the model
/// read right and fixed 4; reaching about twice as far as a writer's repeats of one digit lie
/// apart (median `d²` 29-42) it broke 2 and fixed 3, and kept the first-half sessions' gains.
/// The votes did nothing or harm on real writers.
pub const PARAMS: Params = Params {
    votes: None,
    head_l2: Some(0.01),
    head_reach: Some(80.0),
    vouch_within: Some(200.0),
};

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The model alone (personal examples, if any, did not change it).
    Model,
    /// The person's examples changed the model's answer.
    Personal,
}

impl Source {
    /// The name used in the DOM (`data-source`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Model => "model",
            Source::Personal => "personal",
        }
    }
}

/// An answer after the person's examples had their say.
#[derive(Clone, Debug, PartialEq)]
pub struct Adapted {
    /// Probabilities, one per digit.
    pub probabilities: [f32; CLASSES],
    /// The verdict on the adapted answer.
    pub verdict: Verdict,
    /// Whether the examples changed the model's answer.
    pub source: Source,
}

impl Adapted {
    /// The most probable digit.
    pub fn digit(&self) -> usize {
        argmax(&self.probabilities)
    }
}

/// Small changes of a hand, each an [`Affine`] map: a correction stands for its drawing and
/// for these variations of it (tilted a little either way, slanted, narrower and wider), so
/// that the next time the person writes that digit a little differently it is still near.
/// Chosen by `digitpad adapt-eval` on real writers (docs/trust-and-personal.md).
pub const VARIATIONS: [Affine; 4] = [
    Affine {
        angle_deg: -9.0,
        ..Affine::IDENTITY
    },
    Affine {
        angle_deg: 9.0,
        ..Affine::IDENTITY
    },
    Affine {
        shear: -0.2,
        ..Affine::IDENTITY
    },
    Affine {
        shear: 0.2,
        ..Affine::IDENTITY
    },
];

/// Smooth bends of a drawing, each `(amplitude in pixels, phase in turns)`: a wave of one
/// period across the image moves each row sideways and each column up or down, the way a hand
/// bends a stroke a little differently each time (the trainer's elastic distortion taught the
/// model that real writers do). A correction stands for these too.
pub const BENDS: [(f32, f32); 4] = [(1.5, 0.0), (1.5, 0.25), (1.5, 0.5), (1.5, 0.75)];

/// A bend's displacement field: `dx` by row, `dy` by column.
type BendField = (Vec<f32>, Vec<f32>);

/// The displacement fields of the [`BENDS`], computed once: every correction read (and every
/// kept example read again when the page loads) uses the same four.
fn bend_fields() -> &'static [BendField] {
    static FIELDS: std::sync::OnceLock<Vec<BendField>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        use crate::digit::SIDE;
        BENDS
            .iter()
            .map(|&(amplitude, phase)| {
                let wave = |t: usize, shift: f32| {
                    amplitude
                        * (std::f32::consts::TAU * (t as f32 / SIDE as f32 + phase + shift)).sin()
                };
                let dx = (0..PIXELS).map(|i| wave(i / SIDE, 0.0)).collect();
                let dy = (0..PIXELS).map(|i| wave(i % SIDE, 0.125)).collect();
                (dx, dy)
            })
            .collect()
    })
}

/// How many images one correction is read as: the drawing, its [`VARIATIONS`] and its
/// [`BENDS`].
pub const READINGS_PER_EXAMPLE: usize = 1 + VARIATIONS.len() + BENDS.len();

/// `image`, its [`VARIATIONS`] and its [`BENDS`], the image itself first: what the model
/// reads for one correction.
pub fn variations(image: &DigitImage) -> Vec<DigitImage> {
    std::iter::once(image.clone())
        .chain(
            VARIATIONS
                .iter()
                .map(|map| DigitImage::from_pixels(warp(image.pixels(), map, None))),
        )
        .chain(bend_fields().iter().map(|(dx, dy)| {
            DigitImage::from_pixels(warp(image.pixels(), &Affine::IDENTITY, Some((dx, dy))))
        }))
        .collect()
}

/// The person's examples, as features of the model that reads them.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Personal {
    /// Per example: its digit and the features of its variations, whitened by the trust
    /// rules' feature model (`Lᵀ f`, so that each distance is a plain Euclidean one);
    /// none when that model is missing.
    examples: Vec<(usize, Vec<Vec<f64>>)>,
    params: Params,
    /// The personal head, when the parameters ask for one and there are examples.
    head: Option<Head>,
}

/// What the model made of one variation of an example: its logits and features.
pub type Reading = ([f32; CLASSES], Vec<f32>);

/// The [`Reading`] of a prediction.
pub fn reading(prediction: &Prediction) -> Reading {
    (prediction.logits, prediction.features.clone())
}

/// Reads each of `images` and its [`VARIATIONS`] with `classifier`, in one batch: per image,
/// the predictions of the image itself, then of each variation (what a correction of it
/// keeps, and what `adapt-eval` simulates).
pub fn read_with_variations(
    classifier: &Classifier,
    images: &[DigitImage],
) -> Result<Vec<Vec<Prediction>>, ClassifierError> {
    let all: Vec<DigitImage> = images.iter().flat_map(variations).collect();
    let predictions = classifier.classify_batch(&all)?;
    Ok(predictions
        .chunks(READINGS_PER_EXAMPLE)
        .map(<[Prediction]>::to_vec)
        .collect())
}

/// A [`Reading`] with its features whitened (`Lᵀ f`).
type WhitenedReading = ([f32; CLASSES], Vec<f64>);

impl Default for Params {
    fn default() -> Self {
        PARAMS
    }
}

impl Personal {
    /// Examples as `(digit, the model's reading of each of its variations)`, for the model
    /// judged by `trust` (whose feature model measures distances).
    pub fn new(trust: &Trust, examples: Vec<(usize, Vec<Reading>)>, params: Params) -> Self {
        let whiten = |f: &Vec<f32>| trust.features.as_ref().and_then(|m| m.whiten(f));
        let examples: Vec<(usize, Vec<WhitenedReading>)> = examples
            .iter()
            .filter(|(d, _)| *d < CLASSES)
            .map(|(d, readings)| {
                let whitened = readings
                    .iter()
                    .filter_map(|(logits, f)| Some((*logits, whiten(f)?)))
                    .collect();
                (*d, whitened)
            })
            .collect();
        let head = match (params.head_l2, trust.features.as_ref()) {
            (Some(l2), Some(model)) => {
                let samples: Vec<(usize, [f32; CLASSES], Vec<f64>)> = examples
                    .iter()
                    .flat_map(|(d, readings)| {
                        readings.iter().map(move |(logits, w)| {
                            (*d, logits.map(|l| l / trust.temperature), w.clone())
                        })
                    })
                    .collect();
                Head::fit(model, &samples, f64::from(l2))
            }
            _ => None,
        };
        Self {
            examples: examples
                .into_iter()
                .map(|(d, readings)| (d, readings.into_iter().map(|(_, w)| w).collect()))
                .collect(),
            params,
            head,
        }
    }

    /// The squared distance from whitened features `query` to the nearest example as it was
    /// drawn, and that example's digit (infinite and none when there are no examples). Its
    /// variations are left out: measured over them too, the page's figures on real writers
    /// were the same (docs/decisions/personal-examples.md), at nine times the work per reading.
    fn nearest(&self, query: &[f64]) -> (f64, Option<usize>) {
        self.examples
            .iter()
            .filter_map(|(digit, variations)| {
                Some((squared_distance(variations.first()?, query), *digit))
            })
            .fold((f64::INFINITY, None), |best, (d2, digit)| {
                if d2 < best.0 {
                    (d2, Some(digit))
                } else {
                    best
                }
            })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The model's answer (`logits`, `features`, judged by `trust`) after the examples had
    /// their say. Without examples, or without the feature model the trust rules carry, it is
    /// the model's answer. Each example votes with its nearest variation.
    pub fn adapt(&self, trust: &Trust, logits: &[f32; CLASSES], features: &[f32]) -> Adapted {
        let model = trust.probabilities(logits);
        let model_answer = || Adapted {
            probabilities: model,
            verdict: trust.verdict(logits, features),
            source: Source::Model,
        };
        let Some(query) = trust.features.as_ref().and_then(|m| m.whiten(features)) else {
            return model_answer();
        };
        // The head first: the model's logits, shifted for this person.
        let model_digit = argmax(&model);
        let source = |digit: usize| {
            if digit == model_digit {
                Source::Model
            } else {
                Source::Personal
            }
        };
        // How near the drawing is to the person's examples: the nearest example's digit, and
        // the head's reach there (1 when the head reaches everywhere).
        let (nearest, near_digit) = match (self.params.head_reach, self.params.vouch_within) {
            (None, None) => (f64::INFINITY, None),
            _ => self.nearest(&query),
        };
        let reach = self
            .params
            .head_reach
            .map_or(1.0, |r2| (-0.5 * nearest / f64::from(r2.max(1e-6))).exp());
        let (logits, model) = match &self.head {
            Some(head) => {
                let shift = head.shift(&query);
                let mut shifted = *logits;
                for (l, d) in shifted.iter_mut().zip(shift) {
                    *l += trust.temperature * (reach * d) as f32;
                }
                (shifted, trust.probabilities(&shifted))
            }
            None => (*logits, model),
        };
        let logits = &logits;
        let mut votes = [0f32; CLASSES];
        let prior_weight = self.params.votes.map_or(1.0, |v| v.prior_weight);
        if let Some(v) = self.params.votes {
            let scale = -0.5 / f64::from(v.bandwidth.max(1e-6));
            for (digit, variations) in &self.examples {
                let nearest = nearest_variation(variations, &query);
                if nearest.is_finite() {
                    votes[*digit] += (scale * nearest).exp() as f32;
                }
            }
        }
        let total: f32 = votes.iter().sum();
        if total <= 0.0 {
            // No votes: the (perhaps shifted) model's answer. A drawing close to the person's
            // example of that digit is a digit, whatever the model's "not a digit" test says
            // of it on its own: what the person said goes.
            let digit = argmax(&model);
            let vouched = near_digit == Some(digit)
                && self
                    .params
                    .vouch_within
                    .is_some_and(|v| nearest <= f64::from(v));
            return Adapted {
                probabilities: model,
                verdict: verdict(trust, (logits, features), vouched, trust.is_unsure(logits)),
                source: source(digit),
            };
        }
        let weight = total / (total + prior_weight.max(1e-6));
        let mut probabilities = [0f32; CLASSES];
        for ((p, m), v) in probabilities.iter_mut().zip(&model).zip(&votes) {
            *p = (1.0 - weight) * m + weight * v / total;
        }
        let digit = argmax(&probabilities);
        let unsure = trust.is_unsure_probabilities(&probabilities);
        // Mostly the person's own examples of the answer: a digit, whatever the model's
        // "not a digit" test says of the drawing on its own.
        let vouched = weight * votes[digit] / total >= 0.5;
        Adapted {
            probabilities,
            verdict: verdict(trust, (logits, features), vouched, unsure),
            source: source(digit),
        }
    }
}

/// The verdict on an adapted answer: "not a digit" when the trust rules reject the drawing
/// (`logits`, `features`) and the person's examples do not vouch for it, else "not sure"
/// when `unsure`, else a digit.
fn verdict(
    trust: &Trust,
    (logits, features): (&[f32; CLASSES], &[f32]),
    vouched: bool,
    unsure: bool,
) -> Verdict {
    if !vouched && trust.rejects(logits, features) {
        Verdict::NotDigit
    } else if unsure {
        Verdict::Unsure
    } else {
        Verdict::Digit
    }
}

/// The squared distance between two whitened feature vectors.
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The squared distance from `query` to the nearest of `variations` (whitened features).
fn nearest_variation(variations: &[Vec<f64>], query: &[f64]) -> f64 {
    variations
        .iter()
        .map(|v| squared_distance(v, query))
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::FeatureModel;

    /// Two features; class c's centre at (40 c, 0); identity covariance (distances on the
    /// scale of the real features: the same digit in one hand within ~10, other digits ~100
    /// and more).
    fn trust() -> Trust {
        Trust {
            features: Some(FeatureModel::new(
                2,
                (0..CLASSES).flat_map(|c| [c as f32 * 40.0, 0.0]).collect(),
                vec![1.0, 0.0, 1.0],
            )),
            not_digit: vec![(crate::trust::Method::ClassDistance, -8.0)],
            ..Trust::default()
        }
    }

    /// [`trust`] without its "not a digit" rule: for tests of what the head turns, whatever
    /// the rule would say of the drawings.
    fn trust_that_rejects_nothing() -> Trust {
        Trust {
            not_digit: Vec::new(),
            ..trust()
        }
    }

    /// Logits of a model that reads features by their nearest centre.
    fn logits(features: &[f32]) -> [f32; CLASSES] {
        let t = trust();
        let fm = t.features.as_ref().unwrap();
        let mut l = [0.0; CLASSES];
        for (c, centre) in fm.centres().chunks(2).enumerate() {
            l[c] = -0.5 * fm.distance(features, centre).unwrap();
        }
        l
    }

    #[test]
    fn no_examples_is_the_model() {
        let t = trust();
        let f = [83.0, 4.0];
        let a = Personal::default().adapt(&t, &logits(&f), &f);
        assert_eq!(a.probabilities, t.probabilities(&logits(&f)));
        assert_eq!((a.digit(), a.source), (2, Source::Model));
    }

    #[test]
    fn an_example_pulls_what_is_near_it_and_leaves_the_rest() {
        let t = trust();
        // The person's 7 lies at (85, 12): the model reads it as 2 (centre (80, 0)), and its
        // own test calls it "not a digit" (far from every centre).
        let mine = [85.0, 12.0];
        assert_eq!(argmax(&logits(&mine)), 2);
        let votes = Params {
            votes: Some(Votes {
                bandwidth: 10.0,
                prior_weight: 0.2,
            }),
            head_l2: None,
            head_reach: None,
            vouch_within: None,
        };
        let personal = Personal::new(&t, vec![(7, vec![(logits(&mine), mine.to_vec())])], votes);
        let again = [86.0, 11.5];
        assert_eq!(t.verdict(&logits(&again), &again), Verdict::NotDigit);
        let a = personal.adapt(&t, &logits(&again), &again);
        assert_eq!((a.digit(), a.source), (7, Source::Personal));
        assert_eq!(
            a.verdict,
            Verdict::Digit,
            "vouched for by the person's example"
        );
        // A clear 2 and a clear 7 stay what they were.
        for (f, digit) in [([80.0, 0.0], 2), ([280.0, 0.0], 7)] {
            let a = personal.adapt(&t, &logits(&f), &f);
            assert_eq!((a.digit(), a.source), (digit, Source::Model), "{f:?}");
        }
    }

    /// Softer logits than [`logits`] (the same nearest-centre model, `-d² / 200`): the
    /// personal head shifts logits, and can only turn answers the model holds loosely.
    fn soft_logits(features: &[f32]) -> [f32; CLASSES] {
        logits(features).map(|l| l / 100.0)
    }

    #[test]
    fn the_head_turns_drawings_like_a_correction_and_leaves_clear_ones() {
        let t = trust_that_rejects_nothing();
        // The person's 7 at (255, 25) is read as 6 (centre (240, 0)).
        let mine = [255.0, 25.0];
        assert_eq!(argmax(&soft_logits(&mine)), 6);
        let personal = Personal::new(
            &t,
            vec![(7, vec![(soft_logits(&mine), mine.to_vec())])],
            PARAMS,
        );
        for again in [[255.0, 25.0], [257.0, 24.0]] {
            let a = personal.adapt(&t, &soft_logits(&again), &again);
            assert_eq!((a.digit(), a.source), (7, Source::Personal), "{again:?}");
        }
        // Clear drawings of other digits, and of 6 itself, stay what they were.
        for (f, digit) in [([240.0, 0.0], 6), ([80.0, 0.0], 2), ([280.0, 0.0], 7)] {
            let a = personal.adapt(&t, &soft_logits(&f), &f);
            assert_eq!((a.digit(), a.source), (digit, Source::Model), "{f:?}");
        }
        // No examples: no head, the model's answer.
        let none = Personal::new(&t, Vec::new(), PARAMS);
        assert_eq!(none.adapt(&t, &soft_logits(&mine), &mine).digit(), 6);
    }

    #[test]
    fn the_head_acts_only_near_the_examples() {
        let t = trust_that_rejects_nothing();
        let mine = [255.0, 25.0];
        let examples = || vec![(7, vec![(soft_logits(&mine), mine.to_vec())])];
        let everywhere = Personal::new(
            &t,
            examples(),
            Params {
                head_reach: None,
                ..PARAMS
            },
        );
        let near = Personal::new(&t, examples(), PARAMS);
        // A loosely held 6 far below the example: a head that reaches everywhere turns it
        // into the person's 7; the page's leaves it as the model read it.
        let far = [259.0, -30.0];
        assert_eq!(argmax(&soft_logits(&far)), 6);
        assert_eq!(everywhere.adapt(&t, &soft_logits(&far), &far).digit(), 7);
        let a = near.adapt(&t, &soft_logits(&far), &far);
        assert_eq!((a.digit(), a.source), (6, Source::Model));
        // Next to the example, both turn it.
        let again = [257.0, 24.0];
        assert_eq!(near.adapt(&t, &soft_logits(&again), &again).digit(), 7);
    }

    #[test]
    fn a_drawing_close_to_an_example_of_its_digit_is_a_digit() {
        let t = trust();
        let mine = [255.0, 25.0];
        let examples = || vec![(7, vec![(soft_logits(&mine), mine.to_vec())])];
        let again = [257.0, 24.0];
        // Far from every centre: the model's own test calls it "not a digit".
        assert_eq!(t.verdict(&soft_logits(&again), &again), Verdict::NotDigit);
        let page = Personal::new(&t, examples(), PARAMS);
        let a = page.adapt(&t, &soft_logits(&again), &again);
        assert_eq!((a.digit(), a.verdict), (7, Verdict::Digit));
        let unvouched = Personal::new(
            &t,
            examples(),
            Params {
                vouch_within: None,
                ..PARAMS
            },
        );
        let a = unvouched.adapt(&t, &soft_logits(&again), &again);
        assert_eq!((a.digit(), a.verdict), (7, Verdict::NotDigit));
        // A drawing far from the example keeps the model's verdict.
        let odd = [150.0, 30.0];
        let a = page.adapt(&t, &soft_logits(&odd), &odd);
        assert_eq!(a.verdict, Verdict::NotDigit);
    }

    #[test]
    fn the_most_recent_examples_of_each_digit_are_kept() {
        let example = |label: u8, ink: f32| {
            let mut image = DigitImage::default();
            image.pixels_mut()[0] = ink;
            Example { label, image }
        };
        let mut examples: Vec<Example> = (0..MAX_PER_DIGIT + 5)
            .map(|i| example(3, i as f32 / 100.0))
            .collect();
        examples.insert(2, example(7, 1.0));
        let (kept, dropped) = within_limits(examples.clone());
        assert_eq!(dropped, 5);
        assert_eq!(kept.len(), MAX_PER_DIGIT + 1);
        assert_eq!(kept.iter().filter(|e| e.label == 7).count(), 1);
        // The five oldest 3s went (the 7 was written among them); the rest keep their order.
        assert_eq!(kept[0], examples[2]);
        assert_eq!(kept[1], examples[6]);
        assert_eq!(kept.last(), examples.last());
        let few = examples[..4].to_vec();
        assert_eq!(within_limits(few.clone()), (few, 0));
    }

    #[test]
    fn a_correction_covers_its_variations() {
        let mut image = DigitImage::default();
        for y in 6..22 {
            image.pixels_mut()[y * crate::SIDE + 14] = 1.0;
        }
        let all = variations(&image);
        assert_eq!(all.len(), READINGS_PER_EXAMPLE);
        assert_eq!(all[0], image);
        for v in &all[1..] {
            assert!(v.mean_abs_diff(&image) > 0.005, "a variation differs");
            assert!(
                (v.ink() - image.ink()).abs() < 0.2 * image.ink(),
                "and keeps the ink"
            );
        }
        // The bends differ from each other, and from the tilts and slants.
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(a.mean_abs_diff(b) > 0.005, "two variations are the same");
            }
        }
    }

    #[test]
    fn examples_survive_the_round_trip_and_bad_text_is_named() {
        let mut image = DigitImage::default();
        image.pixels_mut()[100] = 1.0;
        image.pixels_mut()[101] = 0.5;
        let examples = vec![
            Example {
                label: 7,
                image: image.clone(),
            },
            Example {
                label: 0,
                image: DigitImage::default(),
            },
        ];
        let text = to_text(&examples);
        let back = from_text(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].label, 7);
        assert_eq!(back[0].image.to_bytes(), image.to_bytes());
        assert_eq!(from_text("nonsense").unwrap_err().line, 1);
        let bad = format!("{STORE_HEADER}\n7 00ff\n");
        let err = from_text(&bad).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("1568"), "{err}");
        let bad = format!("{STORE_HEADER}\nx {}\n", "0".repeat(PIXELS * 2));
        assert!(from_text(&bad).unwrap_err().reason.contains("digit"));
    }
}
