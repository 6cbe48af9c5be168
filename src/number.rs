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

/// The most pieces one digit may have (a 4 in three strokes and a stray dot).
pub const MAX_PIECES: usize = 4;

/// A candidate wider than this many times its height is not one digit.
const MAX_ASPECT: f32 = 1.6;
/// Two strokes touch when their ink comes closer than this fraction of the taller one's
/// height.
const TOUCH: f32 = 0.06;

/// How the reading weighs what people's digits do and do not do, in units of
/// log-probability. Fitted by `digitpad tune-grouping` on generated numbers made with another
/// seed than the committed ones (`tests/fixtures/numbers/make_numbers.py --seed 2`).
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
    /// What each digit of a reading is worth in itself: without it, two digits that the
    /// model also reads as one confident blob would tie with their split.
    pub digit_bonus: f32,
}

impl Weights {
    /// The weights the page and the CLI use.
    pub const DEFAULT: Weights = Weights {
        free_gap: 0.3,
        gap_cost: 1.1,
        free_overlap: 0.57,
        overlap_cost: 1.9,
        touch_cost: 0.09,
        cross_cost: 0.54,
        free_offset: 0.048,
        offset_cost: 5.8,
        stray_cost: 4.9,
        wide: 1.5,
        wide_cost: 5.1,
        digit_bonus: 1.05,
    };
}

/// A group smaller than this fraction of the tallest piece is a dot.
const DOT: f32 = 0.2;

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

fn union(a: Bounds, b: Bounds) -> Bounds {
    Bounds {
        min_x: a.min_x.min(b.min_x),
        min_y: a.min_y.min(b.min_y),
        max_x: a.max_x.max(b.max_x),
        max_y: a.max_y.max(b.max_y),
    }
}

/// The widest stretch of x that lies between pieces' boxes, inside their union.
fn widest_gap(boxes: &[Bounds]) -> f32 {
    let mut spans: Vec<(f32, f32)> = boxes.iter().map(|b| (b.min_x, b.max_x)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut reach = spans[0].1;
    let mut widest = 0.0f32;
    for &(start, end) in &spans[1..] {
        widest = widest.max(start - reach);
        reach = reach.max(end);
    }
    widest
}

/// Height used for relative measures: never below a small fraction of the width, so that a
/// flat bar is not infinitely thin.
fn height_of(b: &Bounds) -> f32 {
    b.height().max(0.25 * b.width()).max(1e-6)
}

/// How two pieces of ink meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contact {
    /// They do not come near each other.
    Apart,
    /// One comes within touching distance of the other.
    Touch,
    /// They cross.
    Cross,
}

/// The candidates for pieces with these boxes (one per piece: a stroke's or a blob's);
/// `touch(a, b)` says how pieces `a` and `b` meet (asked only of pieces close in reading
/// order).
pub fn candidates(boxes: &[Bounds], mut touch: impl FnMut(usize, usize) -> Contact) -> Candidates {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| {
        boxes[a]
            .centre()
            .x
            .total_cmp(&boxes[b].centre().x)
            .then(a.cmp(&b))
    });
    let tallest = boxes
        .iter()
        .map(|b| b.height().max(b.width()))
        .fold(0.0f32, f32::max);
    let mut list = Vec::new();
    let mut index = vec![[None; MAX_PIECES]; order.len()];
    for start in 0..order.len() {
        let mut bounds = boxes[order[start]];
        for len in 1..=MAX_PIECES.min(order.len() - start) {
            let members = &order[start..start + len];
            bounds = union(bounds, boxes[members[len - 1]]);
            if len > 1 && bounds.width() > MAX_ASPECT * bounds.height().max(1e-6) {
                break;
            }
            let member_boxes: Vec<Bounds> = members.iter().map(|&i| boxes[i]).collect();
            let mut pieces = members.to_vec();
            pieces.sort_unstable();
            index[start][len - 1] = Some(list.len());
            list.push(Candidate {
                pieces,
                bounds,
                gap: widest_gap(&member_boxes) / height_of(&bounds),
            });
        }
    }
    let mut touching = vec![vec![Contact::Apart; boxes.len()]; boxes.len()];
    for (k, &a) in order.iter().enumerate() {
        for &b in order.iter().skip(k + 1).take(2 * MAX_PIECES) {
            let t = touch(a, b);
            touching[a][b] = t;
            touching[b][a] = t;
        }
    }
    Candidates {
        list,
        order,
        index,
        tallest,
        touching,
    }
}

/// Whether segments `p1 p2` and `q1 q2` cross (properly: each one's ends on either side of
/// the other).
fn segments_cross(p1: crate::Point, p2: crate::Point, q1: crate::Point, q2: crate::Point) -> bool {
    let side = |a: crate::Point, b: crate::Point, c: crate::Point| {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    };
    let (d1, d2) = (side(q1, q2, p1), side(q1, q2, p2));
    let (d3, d4) = (side(p1, p2, q1), side(p1, p2, q2));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

/// How two strokes meet: they cross when a segment of one crosses a segment of the other;
/// they touch when some point of one comes within [`TOUCH`] of the taller's height of some
/// segment of the other.
pub fn strokes_contact(a: &[crate::Point], b: &[crate::Point]) -> Contact {
    if a.windows(2)
        .any(|s| b.windows(2).any(|t| segments_cross(s[0], s[1], t[0], t[1])))
    {
        return Contact::Cross;
    }
    if strokes_touch(a, b) {
        Contact::Touch
    } else {
        Contact::Apart
    }
}

/// Whether two strokes touch: some point of one comes within [`TOUCH`] of the taller's
/// height of some segment of the other.
pub fn strokes_touch(a: &[crate::Point], b: &[crate::Point]) -> bool {
    let (Some(ba), Some(bb)) = (Bounds::of_points(a), Bounds::of_points(b)) else {
        return false;
    };
    let reach = TOUCH
        * ba.height()
            .max(bb.height())
            .max(ba.width().max(bb.width()) * 0.25);
    // Boxes farther apart than the reach cannot touch.
    if ba.min_x - bb.max_x > reach
        || bb.min_x - ba.max_x > reach
        || ba.min_y - bb.max_y > reach
        || bb.min_y - ba.max_y > reach
    {
        return false;
    }
    let near = |p: &crate::Point, line: &[crate::Point]| {
        if line.len() == 1 {
            return (p.x - line[0].x).hypot(p.y - line[0].y) <= reach;
        }
        line.windows(2)
            .any(|s| crate::preprocess::distance_to_segment(*p, s[0], s[1]) <= reach)
    };
    a.iter().any(|p| near(p, b)) || b.iter().any(|p| near(p, a))
}

/// How much a candidate is worth as one digit, given the model's answer for it.
fn worth(candidate: &Candidate, prediction: &Prediction, tallest: f32, w: &Weights) -> f32 {
    let mut score = w.digit_bonus + prediction.confidence().max(1e-6).ln();
    score -= w.gap_cost * (candidate.gap - w.free_gap).max(0.0);
    let aspect = candidate.bounds.width() / candidate.bounds.height().max(1e-6);
    score -= w.wide_cost * (aspect - w.wide).max(0.0);
    let size = candidate.bounds.width().max(candidate.bounds.height());
    if size < DOT * tallest || prediction.verdict == Verdict::NotDigit {
        score -= w.stray_cost;
    }
    score
}

/// The cost of reading `left` and `right` as two neighbouring digits.
fn split_cost(left: &Candidate, right: &Candidate, touching: &[Vec<Contact>], w: &Weights) -> f32 {
    let contact = left
        .pieces
        .iter()
        .flat_map(|&a| right.pieces.iter().map(move |&b| touching[a][b]))
        .max()
        .unwrap_or(Contact::Apart);
    let (left, right) = (&left.bounds, &right.bounds);
    let touch_cost = match contact {
        Contact::Apart => 0.0,
        Contact::Touch => w.touch_cost,
        Contact::Cross => w.cross_cost,
    };
    let overlap = (left.max_x.min(right.max_x) - right.min_x.max(left.min_x)).max(0.0);
    let narrower = left.width().min(right.width());
    let floor = 0.05 * left.height().max(right.height());
    let relative = (overlap / narrower.max(floor).max(1e-6)).min(1.0);
    let offset = ((left.min_y + left.max_y) - (right.min_y + right.max_y)).abs()
        / 2.0
        / left.height().max(right.height()).max(1e-6);
    touch_cost
        + w.overlap_cost * (relative - w.free_overlap).max(0.0)
        + w.offset_cost * (offset - w.free_offset).max(0.0)
}

impl Candidates {
    /// The best split into digits, given the model's answer for each candidate (in the order
    /// of [`Candidates::list`]): the chosen candidates' indices, in reading order.
    pub fn best_split(&self, predictions: &[Prediction], weights: &Weights) -> Vec<usize> {
        let n = self.order.len();
        if n == 0 || predictions.len() != self.list.len() {
            return Vec::new();
        }
        let worths: Vec<f32> = self
            .list
            .iter()
            .zip(predictions)
            .map(|(c, p)| worth(c, p, self.tallest, weights))
            .collect();
        // best[end][len - 1]: the best score of reading order[..end] whose last group is
        // order[end - len..end], and the length of the group before it (0: none).
        let mut best = vec![[(f32::NEG_INFINITY, 0usize); MAX_PIECES]; n + 1];
        for end in 1..=n {
            for len in 1..=MAX_PIECES.min(end) {
                let start = end - len;
                let Some(c) = self.index[start][len - 1] else {
                    continue;
                };
                if start == 0 {
                    best[end][len - 1] = (worths[c], 0);
                    continue;
                }
                for before in 1..=MAX_PIECES.min(start) {
                    let (previous, _) = best[start][before - 1];
                    let Some(p) = self.index[start - before][before - 1] else {
                        continue;
                    };
                    if previous == f32::NEG_INFINITY {
                        continue;
                    }
                    let score = previous + worths[c]
                        - split_cost(&self.list[p], &self.list[c], &self.touching, weights);
                    if score > best[end][len - 1].0 {
                        best[end][len - 1] = (score, before);
                    }
                }
            }
        }
        let mut len = (1..=MAX_PIECES.min(n))
            .max_by(|&a, &b| best[n][a - 1].0.total_cmp(&best[n][b - 1].0))
            .unwrap_or(1);
        let mut end = n;
        let mut groups = Vec::new();
        while end > 0 && len > 0 {
            let Some(c) = self.index[end - len][len - 1] else {
                break;
            };
            groups.push(c);
            let before = best[end][len - 1].1;
            end -= len;
            len = before;
        }
        groups.reverse();
        groups
    }
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
    /// Each candidate's strokes (indices into the drawing).
    pub strokes: Vec<Vec<usize>>,
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
        strokes: keys,
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
                let (image, placement) = render(strokes, &self.strokes[c]);
                ReadDigit {
                    group: Group {
                        pieces: self.strokes[c].clone(),
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
    let predictions = answer(&prepared.strokes)?;
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

/// Blobs with fewer pixels than this are specks, not ink.
const SPECK: usize = 3;

/// A connected blob of ink in a raster: its pixels (indices) and box (pixel units).
struct Blob {
    pixels: Vec<usize>,
    bounds: Bounds,
}

/// Ink at least this strong links pixels into one blob; fainter ink (anti-aliased edges)
/// joins the blob it borders, so that the faint halo between two close digits does not
/// weld them together.
const BLOB_INK: f32 = 0.35;

/// The 8-connected blobs of `ink` (`width` columns; background is 0), specks left out.
fn blobs(ink: &[f32], width: usize) -> Vec<Blob> {
    let height = ink.len() / width.max(1);
    let neighbours = |i: usize| {
        let (x, y) = ((i % width) as isize, (i / width) as isize);
        (-1isize..=1)
            .flat_map(move |dy| (-1isize..=1).map(move |dx| (x + dx, y + dy)))
            .filter(move |&(nx, ny)| {
                (nx, ny) != (x, y)
                    && nx >= 0
                    && ny >= 0
                    && nx < width as isize
                    && ny < height as isize
            })
            .map(move |(nx, ny)| ny as usize * width + nx as usize)
    };
    let mut label = vec![usize::MAX; ink.len()];
    let mut members: Vec<Vec<usize>> = Vec::new();
    for start in 0..ink.len() {
        if label[start] != usize::MAX || ink[start] < BLOB_INK {
            continue;
        }
        let id = members.len();
        label[start] = id;
        let mut stack = vec![start];
        let mut pixels = Vec::new();
        while let Some(i) = stack.pop() {
            pixels.push(i);
            for j in neighbours(i) {
                if label[j] == usize::MAX && ink[j] >= BLOB_INK {
                    label[j] = id;
                    stack.push(j);
                }
            }
        }
        members.push(pixels);
    }
    // Faint ink joins the first strong blob it borders.
    for (i, &value) in ink.iter().enumerate() {
        if value > 0.0 && value < BLOB_INK {
            if let Some(id) = neighbours(i).map(|j| label[j]).find(|&l| l != usize::MAX) {
                members[id].push(i);
            }
        }
    }
    members
        .into_iter()
        .filter(|pixels| pixels.len() >= SPECK)
        .map(|pixels| {
            let xs = pixels.iter().map(|&i| (i % width) as f32);
            let ys = pixels.iter().map(|&i| (i / width) as f32);
            let bounds = Bounds {
                min_x: xs.clone().fold(f32::INFINITY, f32::min),
                max_x: xs.fold(f32::NEG_INFINITY, f32::max) + 1.0,
                min_y: ys.clone().fold(f32::INFINITY, f32::min),
                max_y: ys.fold(f32::NEG_INFINITY, f32::max) + 1.0,
            };
            Blob { pixels, bounds }
        })
        .collect()
}

/// The blobs `members` alone (all other ink removed), cropped with a blank border, through
/// the MNIST recipe.
fn render_blobs(ink: &[f32], width: usize, blobs: &[Blob], members: &[usize]) -> DigitImage {
    const BORDER: usize = 2;
    let bounds = members
        .iter()
        .map(|&m| blobs[m].bounds)
        .reduce(union)
        .unwrap_or(blobs[0].bounds);
    let (x0, y0) = (bounds.min_x as usize, bounds.min_y as usize);
    let (w, h) = (
        bounds.width() as usize + 2 * BORDER,
        bounds.height() as usize + 2 * BORDER,
    );
    let mut crop = vec![0.0f32; w * h];
    for &m in members {
        for &i in &blobs[m].pixels {
            let (x, y) = (i % width - x0 + BORDER, i / width - y0 + BORDER);
            crop[y * w + x] = ink[i];
        }
    }
    crate::preprocess::raster_to_digit(crate::preprocess::GrayImage {
        width: w,
        height: h,
        values: &crop,
    })
    .unwrap_or_default()
}

/// Why a raster could not be read as a number.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The image holds no ink, or its buffer is the wrong size.
    #[error(transparent)]
    Raster(#[from] crate::preprocess::RasterError),
    /// The model failed.
    #[error(transparent)]
    Classifier(#[from] crate::classifier::ClassifierError),
}

/// One digit read from a raster: its box (pixel units), the image the model saw, the answer.
#[derive(Clone, Debug)]
pub struct RasterDigit {
    /// The box around its ink, in the raster's pixels.
    pub bounds: Bounds,
    /// Its blobs through the MNIST recipe.
    pub image: DigitImage,
    /// The model's answer.
    pub prediction: Prediction,
}

/// Reads a grey image of a written number (any size, either polarity): its connected blobs
/// of ink are the pieces, grouped as strokes are. Returns the digits left to right.
pub fn read_raster(
    image: crate::preprocess::GrayImage<'_>,
    classifier: &crate::Classifier,
) -> Result<Vec<RasterDigit>, ReadError> {
    use crate::preprocess::RasterError;
    let expected = image.width * image.height;
    if image.values.len() != expected || expected == 0 {
        return Err(RasterError::SizeMismatch {
            width: image.width,
            height: image.height,
            expected,
            found: image.values.len(),
        }
        .into());
    }
    let ink = crate::preprocess::ink_levels(image.width, image.height, image.values)
        .ok_or(RasterError::Blank)?;
    let found_blobs = blobs(&ink, image.width);
    if found_blobs.is_empty() {
        return Err(RasterError::Blank.into());
    }
    let boxes: Vec<Bounds> = found_blobs.iter().map(|b| b.bounds).collect();
    // Blobs are connected ink: two blobs never touch.
    let found = candidates(&boxes, |_, _| Contact::Apart);
    let images: Vec<DigitImage> = found
        .list
        .iter()
        .map(|c| render_blobs(&ink, image.width, &found_blobs, &c.pieces))
        .collect();
    let predictions = classifier.classify_batch(&images)?;
    Ok(found
        .best_split(&predictions, &Weights::DEFAULT)
        .into_iter()
        .map(|c| RasterDigit {
            bounds: found.list[c].bounds,
            image: images[c].clone(),
            prediction: predictions[c].clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
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
