//! Reading a whole number: the pieces of ink on the pad (strokes, or connected blobs of a
//! raster) grouped into digits, left to right.
//!
//! Geometry alone cannot group handwriting: a 4, 5 or crossed 7 takes several strokes,
//! neighbouring digits overlap horizontally or touch, a 1 squeezed between two wide digits
//! sits inside their span. So grouping asks the classifier. Pieces are put in reading order
//! (by the centre of their box); every run of up to [`MAX_PIECES`] neighbouring pieces whose
//! box could be one digit is a candidate; all candidates are rendered the MNIST way and
//! classified in one batch; and dynamic programming picks the split into runs with the best
//! total score: each digit's log-probability (calibrated), minus penalties for what people's
//! digits do not do: a wide empty gap inside a digit, two digits that overlap a lot,
//! touching strokes given to different digits, a dot on its own, a group the model calls
//! "not a digit", a digit much wider than tall ([`Weights`]). Every measure is relative to
//! the group's height, so moving or scaling the whole number changes nothing.

use crate::classifier::Prediction;
use crate::preprocess::{strokes_to_placed_digit, Placement};
use crate::strokes::{Bounds, Stroke};
use crate::trust::Verdict;
use crate::DigitImage;

mod candidates;
mod contact;
mod raster;
mod split;

pub use candidates::candidates;
use candidates::union;
pub use contact::{strokes_contact, strokes_touch, Contact};
pub use raster::{read_raster, RasterDigit, ReadError};

/// The most pieces one digit may have (a 4 in three strokes and a stray dot).
pub const MAX_PIECES: usize = 4;

/// How the reading weighs what people's digits do and do not do, in units of
/// log-probability. Fitted by `digitpad tune-grouping` (2,000 tries, `--letter-weight 0.2`)
/// on generated numbers made with other seeds than the committed ones
/// (`tests/fixtures/numbers/make_numbers.py --seed 2` to `8`, 420 numbers), 1,020 numbers
/// composed from the tuning writers' real digits (`--per-writer 60`) and their 2,440 real
/// letters, each refused letter worth 0.2 of a number read right
/// (docs/decisions/real-pen-data.md, "Letters read as numbers").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// A gap inside a digit up to this fraction of its height costs nothing (a 5's flag).
    pub free_gap: f32,
    /// Cost per unit of height of a wider gap inside a digit.
    pub gap_cost: f32,
    /// Horizontal overlap of two neighbouring digits, as a fraction of the narrower's
    /// width, that costs nothing.
    pub free_overlap: f32,
    /// Cost per unit of relative overlap beyond that.
    pub overlap_cost: f32,
    /// Cost of reading two touching strokes as parts of different digits: strokes of one
    /// digit usually touch or cross (a 4's stem, a 7's bar, a 9's stem, a slash through a
    /// 0); neighbouring digits usually do not.
    pub touch_cost: f32,
    /// Cost of reading two strokes that cross each other (a slash through a 0, a 7's bar)
    /// as parts of different digits. (Fitted low: in the tuning set, neighbouring digits
    /// written close cross about as often as the strokes of one digit do.)
    pub cross_cost: f32,
    /// Two neighbouring digits whose vertical centres differ by up to this fraction of the
    /// taller's height cost nothing: digits of a number share a line, while the pieces of
    /// one digit often do not (a 9's loop above its stem, a 5's flag above its body).
    pub free_offset: f32,
    /// Cost per unit of height of a larger vertical offset between neighbouring digits.
    pub offset_cost: f32,
    /// Cost of a dot on its own, or of a group the model calls "not a digit".
    pub stray_cost: f32,
    /// A group wider than this many times its height costs `wide_cost` per unit beyond.
    pub wide: f32,
    /// See `wide`.
    pub wide_cost: f32,
    /// Two neighbouring digits whose heights are at least this fraction of each other cost
    /// nothing: digits of a number are about as tall as each other, while a letter split into
    /// stroke-digits is not (an R's bowl is half its stem).
    pub free_ratio: f32,
    /// Cost per unit of height ratio below `free_ratio`.
    pub ratio_cost: f32,
    /// Two neighbouring digits whose horizontal overlap is at most this fraction of the
    /// wider's width (at least 0.4 of the taller's height) cost nothing: neighbours share a
    /// small part of their width (a 1 tucked under a 7's bar is narrow), while the strokes of
    /// one letter often span the same width (an X's two bars, read "11"). Set by a grid on
    /// the tuning writers' numbers and letters, the other weights held.
    pub free_cover: f32,
    /// Cost per unit of that overlap beyond `free_cover`.
    pub cover_cost: f32,
    /// What each digit of a reading is worth in itself: without it, two digits that the
    /// model also reads as one confident blob would tie with their split.
    pub digit_bonus: f32,
}

impl Weights {
    /// The weights the page and the CLI use.
    pub const DEFAULT: Weights = Weights {
        free_gap: 0.061,
        gap_cost: 4.25,
        free_overlap: 0.785,
        overlap_cost: 5.28,
        touch_cost: 0.30,
        cross_cost: 0.28,
        free_offset: 0.127,
        offset_cost: 31.3,
        stray_cost: 1.96,
        wide: 0.973,
        wide_cost: 0.734,
        free_ratio: 0.586,
        ratio_cost: 2.67,
        free_cover: 0.5,
        cover_cost: 64.0,
        digit_bonus: 1.005,
    };
}

/// One digit of a reading: which pieces it is made of, where it is, and what it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Indices of its pieces (strokes), in drawing order.
    pub pieces: Vec<usize>,
    /// The box around its ink.
    pub bounds: Bounds,
}

/// A candidate digit: a run of neighbouring pieces in reading order.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Indices of its pieces, in drawing order.
    pub pieces: Vec<usize>,
    /// The box around them.
    pub bounds: Bounds,
    /// The widest horizontal gap between its pieces, as a fraction of its height.
    gap: f32,
}

/// The candidates of a drawing, to be classified together, and how to combine their answers.
#[derive(Clone, Debug)]
pub struct Candidates {
    /// Every candidate, in no particular order.
    pub list: Vec<Candidate>,
    /// Reading order: piece indices sorted by their box's centre.
    order: Vec<usize>,
    /// `index[start][len - 1]`: the candidate made of `order[start..start + len]`, if any.
    index: Vec<[Option<usize>; MAX_PIECES]>,
    /// Size of the tallest piece (for telling dots).
    tallest: f32,
    /// `touching[a][b]`: how pieces `a` and `b` meet.
    touching: Vec<Vec<Contact>>,
}

/// One digit of a number read from strokes: its group, the image the model saw, where the
/// group landed in it, and the model's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadDigit {
    /// Which strokes, and where.
    pub group: Group,
    /// The group through the MNIST recipe.
    pub image: DigitImage,
    /// Where the group landed in `image` (to draw its explanation back onto the pad).
    pub placement: Placement,
    /// The model's answer.
    pub prediction: Prediction,
}

/// The strokes `pieces` of `strokes`.
pub fn select(strokes: &[Stroke], pieces: &[usize]) -> Vec<Stroke> {
    pieces
        .iter()
        .filter_map(|&i| strokes.get(i).cloned())
        .collect()
}

/// A drawing's candidate digits: what must be classified before the split.
pub struct Prepared {
    /// The candidates.
    pub candidates: Candidates,
    /// Each candidate's strokes, as indices into the drawing.
    pub stroke_indices: Vec<Vec<usize>>,
}

/// Finds the candidate digits of a drawing (empty strokes ignored).
pub fn prepare_strokes(strokes: &[Stroke]) -> Prepared {
    prepare_strokes_with(strokes, |a, b| strokes_contact(&strokes[a], &strokes[b]))
}

/// [`prepare_strokes`], asking `contact(a, b)` how strokes `a` and `b` meet (the page
/// remembers it: finished strokes do not change).
pub fn prepare_strokes_with(
    strokes: &[Stroke],
    mut contact: impl FnMut(usize, usize) -> Contact,
) -> Prepared {
    let inked: Vec<usize> = (0..strokes.len())
        .filter(|&i| !strokes[i].is_empty())
        .collect();
    let boxes: Vec<Bounds> = inked
        .iter()
        .filter_map(|&i| Bounds::of_points(&strokes[i]))
        .collect();
    let found = candidates(&boxes, |a, b| contact(inked[a], inked[b]));
    let keys = found
        .list
        .iter()
        .map(|c| c.pieces.iter().map(|&p| inked[p]).collect())
        .collect();
    Prepared {
        candidates: found,
        stroke_indices: keys,
    }
}

/// The strokes `pieces` of `strokes` through the MNIST recipe, and where they landed.
pub fn render(strokes: &[Stroke], pieces: &[usize]) -> (DigitImage, Placement) {
    // A candidate's strokes have points, so this always renders; a blank image otherwise.
    strokes_to_placed_digit(&select(strokes, pieces)).unwrap_or_default()
}

impl Prepared {
    /// The digits, left to right, given the model's answer for each candidate.
    pub fn read(
        &self,
        strokes: &[Stroke],
        predictions: &[Prediction],
        weights: &Weights,
    ) -> Vec<ReadDigit> {
        self.candidates
            .best_split(predictions, weights)
            .into_iter()
            .map(|c| {
                let (image, placement) = render(strokes, &self.stroke_indices[c]);
                ReadDigit {
                    group: Group {
                        pieces: self.stroke_indices[c].clone(),
                        bounds: self.candidates.list[c].bounds,
                    },
                    image,
                    placement,
                    prediction: predictions[c].clone(),
                }
            })
            .collect()
    }

    /// The digits as text, given the model's answer for each candidate (no rendering).
    pub fn text(&self, predictions: &[Prediction], weights: &Weights) -> String {
        self.candidates
            .best_split(predictions, weights)
            .into_iter()
            .map(|c| digit_char(&predictions[c]))
            .collect()
    }
}

/// Reads the strokes as a number, asking `contact` how two strokes meet and `answer` for the
/// model's answer to every candidate digit (given as its strokes; the page answers both
/// from caches and renders only what it has not seen), and returns the digits left to
/// right. No ink gives no digits.
pub fn read_strokes_with<E>(
    strokes: &[Stroke],
    contact: impl FnMut(usize, usize) -> Contact,
    answer: impl FnOnce(&[Vec<usize>]) -> Result<Vec<Prediction>, E>,
) -> Result<Vec<ReadDigit>, E> {
    let prepared = prepare_strokes_with(strokes, contact);
    let predictions = answer(&prepared.stroke_indices)?;
    Ok(prepared.read(strokes, &predictions, &Weights::DEFAULT))
}

/// Reads the strokes as a number: every candidate digit rendered and classified in one
/// batch by `classify`; the digits left to right.
pub fn read_strokes<E>(
    strokes: &[Stroke],
    classify: impl FnOnce(&[DigitImage]) -> Result<Vec<Prediction>, E>,
) -> Result<Vec<ReadDigit>, E> {
    let contact = |a: usize, b: usize| strokes_contact(&strokes[a], &strokes[b]);
    read_strokes_with(strokes, contact, |candidates| {
        let images: Vec<DigitImage> = candidates
            .iter()
            .map(|pieces| render(strokes, pieces).0)
            .collect();
        classify(&images)
    })
}

/// How a digit shows in a number's text: the digit, or `?` when it is not a digit.
pub fn digit_char(prediction: &Prediction) -> char {
    shown_char(prediction.digit(), prediction.verdict)
}

/// How `digit` with `verdict` shows in a number's text (also for an answer the person's
/// examples changed).
pub fn shown_char(digit: usize, verdict: Verdict) -> char {
    match verdict {
        Verdict::NotDigit => '?',
        _ => char::from(b'0' + digit as u8),
    }
}

/// The digits as text, left to right (`?` for a group that is not a digit).
pub fn as_text(digits: &[ReadDigit]) -> String {
    digits.iter().map(|d| digit_char(&d.prediction)).collect()
}

#[cfg(test)]
mod tests {
    use super::candidates::widest_gap;
    use super::*;
    use crate::digit::CLASSES;

    fn boxed(min_x: f32, max_x: f32, min_y: f32, max_y: f32) -> Bounds {
        Bounds {
            min_x,
            min_y,
            max_x,
            max_y,
        }
    }

    /// A prediction of `digit` with probability `p`.
    fn answer(digit: usize, p: f32, verdict: Verdict) -> Prediction {
        let mut probabilities = [(1.0 - p) / (CLASSES - 1) as f32; CLASSES];
        probabilities[digit] = p;
        Prediction {
            logits: probabilities.map(f32::ln),
            probabilities,
            features: Vec::new(),
            verdict,
        }
    }

    /// Splits with answers given by `answer_for(pieces)`.
    fn split(
        boxes: &[Bounds],
        touch: &[(usize, usize)],
        answer_for: impl Fn(&[usize]) -> Prediction,
    ) -> Vec<Vec<usize>> {
        let found = candidates(boxes, |a, b| {
            if touch.contains(&(a, b)) || touch.contains(&(b, a)) {
                Contact::Cross
            } else {
                Contact::Apart
            }
        });
        let predictions: Vec<Prediction> =
            found.list.iter().map(|c| answer_for(&c.pieces)).collect();
        found
            .best_split(&predictions, &Weights::DEFAULT)
            .into_iter()
            .map(|c| found.list[c].pieces.clone())
            .collect()
    }

    #[test]
    fn neighbours_of_very_different_heights_cost_more_than_a_number_s_digits() {
        let digit = |b: Bounds| Candidate {
            pieces: vec![0],
            bounds: b,
            gap: 0.0,
        };
        let apart = vec![vec![Contact::Apart; 2]; 2];
        let left = digit(boxed(0.0, 0.5, 0.0, 1.0));
        // The same vertical centre: only the heights differ.
        let cost = |top: f32, bottom: f32| {
            let right = Candidate {
                pieces: vec![1],
                ..digit(boxed(0.7, 1.2, top, bottom))
            };
            super::split::split_cost(&left, &right, &apart, &Weights::DEFAULT)
        };
        let as_tall = cost(0.0, 1.0);
        let nearly_as_tall = cost(0.05, 0.95);
        let half_as_tall = cost(0.25, 0.75);
        assert_eq!(as_tall, nearly_as_tall);
        assert!(half_as_tall > as_tall + 0.1, "{half_as_tall} vs {as_tall}");
    }

    #[test]
    fn strokes_spanning_the_same_width_are_not_two_digits_but_narrow_overlapping_ones_are() {
        // Each stroke alone reads as a sure 1; together as an unsure something.
        let ones_or_unsure = |pieces: &[usize]| {
            if pieces.len() == 1 {
                answer(1, 0.99, Verdict::Digit)
            } else {
                answer(4, 0.4, Verdict::Unsure)
            }
        };
        // An X: two bars across the same box, crossing.
        let x = [boxed(0.0, 0.8, 0.0, 1.0), boxed(0.05, 0.85, 0.0, 1.0)];
        assert_eq!(split(&x, &[(0, 1)], ones_or_unsure), vec![vec![0, 1]]);
        // "11" written with the second 1 overlapping the first: narrow, as 1s are.
        let ones = [boxed(0.0, 0.06, 0.0, 1.0), boxed(0.02, 0.08, 0.0, 1.0)];
        assert_eq!(split(&ones, &[], ones_or_unsure), vec![vec![0], vec![1]]);
    }

    #[test]
    fn digits_apart_are_read_apart_even_when_their_blob_looks_like_a_digit() {
        let boxes = [boxed(0.0, 0.5, 0.0, 1.0), boxed(0.8, 1.3, 0.0, 1.0)];
        let groups = split(&boxes, &[], |_| answer(8, 0.99, Verdict::Digit));
        assert_eq!(groups, vec![vec![0], vec![1]]);
    }

    #[test]
    fn crossing_strokes_of_one_digit_stay_together() {
        // A 4: an angle and a stem that crosses its bar.
        let boxes = [boxed(0.0, 0.6, 0.0, 0.7), boxed(0.4, 0.5, 0.1, 1.0)];
        let groups = split(&boxes, &[(0, 1)], |pieces| {
            if pieces.len() == 2 {
                answer(4, 0.98, Verdict::Digit)
            } else {
                answer(1, 0.9, Verdict::Digit)
            }
        });
        assert_eq!(groups, vec![vec![0, 1]]);
    }

    #[test]
    fn reading_order_is_left_to_right_whatever_the_writing_order() {
        let boxes = [
            boxed(2.0, 2.5, 0.0, 1.0),
            boxed(0.0, 0.5, 0.0, 1.0),
            boxed(1.0, 1.5, 0.0, 1.0),
        ];
        let groups = split(&boxes, &[], |_| answer(3, 0.99, Verdict::Digit));
        assert_eq!(groups, vec![vec![1], vec![2], vec![0]]);
    }

    #[test]
    fn a_dot_joins_its_neighbour() {
        let boxes = [boxed(0.0, 0.5, 0.0, 1.0), boxed(0.45, 0.5, 0.05, 0.1)];
        let groups = split(&boxes, &[], |_| answer(5, 0.95, Verdict::Digit));
        assert_eq!(groups, vec![vec![0, 1]]);
    }

    #[test]
    fn nothing_drawn_reads_nothing() {
        assert!(split(&[], &[], |_| answer(0, 1.0, Verdict::Digit)).is_empty());
        assert!(read_strokes::<()>(&[], |images| {
            assert!(images.is_empty());
            Ok(Vec::new())
        })
        .unwrap()
        .is_empty());
    }

    #[test]
    fn widest_gap_is_the_space_no_piece_covers() {
        let boxes = [
            boxed(0.0, 0.4, 0.0, 1.0),
            boxed(0.3, 0.5, 0.0, 1.0),
            boxed(0.9, 1.0, 0.0, 1.0),
        ];
        assert!((widest_gap(&boxes) - 0.4).abs() < 1e-6);
        assert_eq!(widest_gap(&boxes[..2]), 0.0);
    }

    #[test]
    fn touching_is_measured_against_the_strokes_size() {
        let line = |x0: f32, y0: f32, x1: f32, y1: f32| {
            (0..=10)
                .map(|i| {
                    let t = i as f32 / 10.0;
                    crate::Point::new(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
                })
                .collect::<Vec<_>>()
        };
        let stem = line(0.5, 0.0, 0.5, 1.0);
        assert!(
            strokes_touch(&stem, &line(0.2, 0.5, 0.8, 0.5)),
            "a bar across"
        );
        assert!(
            strokes_touch(&stem, &line(0.53, 0.2, 0.9, 0.2)),
            "a flag from near it"
        );
        assert!(
            !strokes_touch(&stem, &line(0.7, 0.0, 0.7, 1.0)),
            "a stroke apart"
        );
        // The same, ten times smaller: touching does not depend on size.
        let small = |s: &[crate::Point]| -> Vec<crate::Point> {
            s.iter()
                .map(|p| crate::Point::new(p.x / 10.0, p.y / 10.0))
                .collect()
        };
        assert!(!strokes_touch(
            &small(&stem),
            &small(&line(0.7, 0.0, 0.7, 1.0))
        ));
        assert!(strokes_touch(
            &small(&stem),
            &small(&line(0.2, 0.5, 0.8, 0.5))
        ));
    }
}
