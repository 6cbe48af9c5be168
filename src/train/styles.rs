//! Writing styles that MNIST barely holds, drawn onto training images of their digit: a
//! slash through a 0 that reaches past the loop, a bar across a 7's stem, a flag (and often a
//! base) on a 1. MNIST was written by American census staff and students, who close their
//! zeros plainly and write sevens and ones without bars and flags; much of the world does
//! not, and a model trained on MNIST alone reads a slashed 0 as 8 or 9.
//!
//! Each variant is drawn with the page's pen ([`preprocess::stamp_capsule`]) onto a canvas
//! with room around the digit, and the result goes through the page's own MNIST recipe
//! ([`preprocess::raster_to_digit`]: 20-pixel box, aspect kept, centred by mass), so that the
//! restyled digit is sized and placed as the page would show it. Some slashed zeros, and
//! eights, are instead drawn from scratch as strokes and rendered by the page's
//! [`preprocess::strokes_to_digit`], because the page's pen keeps its width when a drawing
//! is scaled down and MNIST's scanned digits do not show what that does (a narrow slashed
//! zero becomes a nearly filled loop; a quick one-stroke eight keeps an open top loop
//! thick). The other styles people
//! write (open-top 4, straight-stemmed 9, looped 2, bare-stroke 1, 0 with a tail) are in
//! MNIST already: the committed style test set reads them right without any variant (see the
//! model card), so they have no variant here.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::digit::{PIXELS, SIDE};
use crate::preprocess::{self, GrayImage};
use crate::strokes::Point;

/// How often each style is drawn onto a training image of its digit: the share of that
/// digit's images restyled (0 = never).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleRates {
    /// Zeros given a slash through the loop.
    pub slashed_zero: f32,
    /// Share of the slashed zeros drawn from scratch as pen strokes (a loop of random width,
    /// slant and wobble, and a slash) and rendered by the page's own recipe, instead of a
    /// slash drawn onto an MNIST zero. The page draws with a 3-pixel pen *after* scaling the
    /// ink to its 20-pixel box, so a narrow zero whose slash stretches the box becomes a
    /// thick, nearly filled loop: a shape no MNIST zero has, which a model taught only
    /// slashed MNIST zeros reads as a 1. (0 in configurations saved before this existed.)
    #[serde(default)]
    pub drawn_slashed: f32,
    /// Whether a slash drawn onto an MNIST zero keeps the zero's lines as wide as they were
    /// through the renormalization (see the private `slash`). On in the shipped recipe;
    /// false in configurations saved before it existed.
    #[serde(default)]
    pub pen_matched_slash: bool,
    /// Eights replaced by an eight drawn from scratch as pen strokes and rendered by the
    /// page's own recipe (see the private `drawn_eight`): most eights on a pad are one stroke whose top
    /// loop is closed late, loosely or not at all, a shape MNIST's scanned eights rarely
    /// have; models taught slashed zeros drawn with the page's pen read such eights as 6 or
    /// 5 more often, and by how much varied from run to run. (0 in configurations saved
    /// before this existed.)
    #[serde(default)]
    pub drawn_eight: f32,
    /// Sevens given a bar across the stem.
    pub crossed_seven: f32,
    /// Ones given a long flag (half of them also a base).
    pub flagged_one: f32,
}

impl StyleRates {
    /// No restyling (MNIST's own shapes only; what older configurations meant).
    pub const NONE: StyleRates = StyleRates {
        slashed_zero: 0.0,
        drawn_slashed: 0.0,
        pen_matched_slash: false,
        drawn_eight: 0.0,
        crossed_seven: 0.0,
        flagged_one: 0.0,
    };

    /// The shipped recipe's rates, chosen by measurement on a validation style set (made by
    /// `tests/fixtures/styles/make_styles.py --seed 2` to `--seed 9`, never the committed
    /// test set): a model trained without styles read every style right except the slashed
    /// 0 (44%); all three raster variants at 25-30% cost 0.27 points on MNIST with new
    /// confusions where the styles overlap other digits (1 read as 7, 7 as 2, 0 as 6), so
    /// the bar and the flag stay options. Slashes drawn onto MNIST zeros alone left narrow
    /// slashed zeros, which the page's pen fills in, read as 1 (78%); two thirds of the
    /// slashed zeros are therefore drawn with the page's pen, and only 15% of the zeros are
    /// restyled (at 25-30% the plain MNIST zeros paid). Models taught those read the
    /// generated one-stroke eights, whose top loop is often open, as 6 or 5 in 2-19% of
    /// cases depending on the run, so a quarter of the eights are drawn too
    /// (docs/styles-and-fixtures.md).
    pub const SHIPPED: StyleRates = StyleRates {
        slashed_zero: 0.15,
        drawn_slashed: 0.67,
        pen_matched_slash: true,
        drawn_eight: 0.25,
        crossed_seven: 0.0,
        flagged_one: 0.0,
    };

    /// [`StyleRates::NONE`], for configurations saved before styles existed.
    pub fn none() -> StyleRates {
        StyleRates::NONE
    }

    /// The rate for images of `digit`.
    fn rate(&self, digit: u8) -> f32 {
        match digit {
            0 => self.slashed_zero,
            7 => self.crossed_seven,
            1 => self.flagged_one,
            8 => self.drawn_eight,
            _ => 0.0,
        }
    }

    /// Whether any style is ever drawn.
    pub fn any(&self) -> bool {
        [
            self.slashed_zero,
            self.crossed_seven,
            self.flagged_one,
            self.drawn_eight,
        ]
        .iter()
        .any(|&r| r > 0.0)
    }

    /// One line for the model card: each variant and its rate.
    pub fn describe(&self) -> String {
        if !self.any() {
            return "none".to_string();
        }
        let mut slash = String::from("slash past the loop, either way up");
        if self.pen_matched_slash {
            slash.push_str(", lines kept at their width as the page keeps its pen's");
        }
        if self.drawn_slashed > 0.0 {
            slash.push_str(&format!(
                "; {:.0}% of them drawn from scratch with the page's pen, loops 30-95% as wide \
                 as tall",
                100.0 * self.drawn_slashed
            ));
        }
        let mut line = format!(
            "slashed 0 ({slash}) {:.0}% of zeros; crossed 7 (bar across the stem) {:.0}% of \
             sevens; flagged 1 (long flag, half with a base) {:.0}% of ones",
            100.0 * self.slashed_zero,
            100.0 * self.crossed_seven,
            100.0 * self.flagged_one
        );
        if self.drawn_eight > 0.0 {
            line.push_str(&format!(
                "; drawn 8 (from scratch with the page's pen: one stroke, its top loop closed, \
                 loose or left open, or two stacked loops) {:.0}% of eights",
                100.0 * self.drawn_eight
            ));
        }
        line
    }

    /// Copies of the images of `set` in the styles these rates draw (every image of a
    /// restyled digit, each once, with a seeded random source; a drawn slashed zero, in the
    /// share training draws them, stands in for its image): what the trust rules are
    /// fitted on beside the plain validation digits, so that a taught style counts as a
    /// digit.
    pub fn restyled_copies(
        &self,
        set: &crate::idx::LabeledImages,
        seed: u64,
    ) -> crate::idx::LabeledImages {
        use rand::SeedableRng;
        let always = StyleRates {
            slashed_zero: if self.slashed_zero > 0.0 { 1.0 } else { 0.0 },
            drawn_slashed: self.drawn_slashed,
            pen_matched_slash: self.pen_matched_slash,
            drawn_eight: if self.drawn_eight > 0.0 { 1.0 } else { 0.0 },
            crossed_seven: if self.crossed_seven > 0.0 { 1.0 } else { 0.0 },
            flagged_one: if self.flagged_one > 0.0 { 1.0 } else { 0.0 },
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut out = crate::idx::LabeledImages {
            pixels: Vec::new(),
            labels: Vec::new(),
        };
        for i in 0..set.len() {
            let digit = set.labels[i];
            if let Some(image) = always.restyle(set.digit(i).pixels(), digit, &mut rng) {
                out.pixels.extend(
                    image
                        .iter()
                        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
                );
                out.labels.push(digit);
            }
        }
        out
    }

    /// With probability [`rate`](Self::rate) for `digit`, `image` in that digit's style
    /// (renormalized the MNIST way); `None` when the image stays as it is.
    pub fn restyle(
        &self,
        image: &[f32; PIXELS],
        digit: u8,
        rng: &mut impl Rng,
    ) -> Option<[f32; PIXELS]> {
        let rate = self.rate(digit);
        if rate <= 0.0 || rng.random::<f32>() >= rate {
            return None;
        }
        // (No random draw when the option is off: the shipped recipe's stream stays as it was.)
        if digit == 0 && self.drawn_slashed > 0.0 && rng.random::<f32>() < self.drawn_slashed {
            return drawn_slashed_zero(rng);
        }
        if digit == 8 {
            return drawn_eight(rng);
        }
        let mut canvas = Canvas::around(image);
        let ink = canvas.ink_box()?;
        let pen = rng.random_range(1.8..3.2);
        match digit {
            0 => slash(&mut canvas, &ink, pen, self.pen_matched_slash, rng),
            7 => bar(&mut canvas, &ink, pen, rng)?,
            1 => flag(&mut canvas, &ink, pen, rng)?,
            _ => return None,
        }
        canvas.normalized()
    }
}

/// Margin around the 28x28 image, so that added strokes may reach past the digit.
const MARGIN: usize = 14;
/// Side of the canvas.
const CANVAS: usize = SIDE + 2 * MARGIN;
/// Pixels above this level count as ink when measuring the digit.
const INK: f32 = 0.3;

/// A digit on a larger canvas, to draw strokes around it.
struct Canvas {
    values: Vec<f32>,
}

/// The extent of a digit's ink on the canvas (continuous coordinates).
struct InkBox {
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
}

impl InkBox {
    fn width(&self) -> f32 {
        self.right - self.left
    }
    fn height(&self) -> f32 {
        self.bottom - self.top
    }
}

impl Canvas {
    fn around(image: &[f32; PIXELS]) -> Canvas {
        let mut values = vec![0.0; CANVAS * CANVAS];
        for (y, row) in image.chunks_exact(SIDE).enumerate() {
            let start = (y + MARGIN) * CANVAS + MARGIN;
            values[start..start + SIDE].copy_from_slice(row);
        }
        Canvas { values }
    }

    fn ink_box(&self) -> Option<InkBox> {
        let mut bounds: Option<InkBox> = None;
        for (index, _) in self.values.iter().enumerate().filter(|(_, &v)| v > INK) {
            let (x, y) = ((index % CANVAS) as f32, (index / CANVAS) as f32);
            let b = bounds.get_or_insert(InkBox {
                left: x,
                top: y,
                right: x + 1.0,
                bottom: y + 1.0,
            });
            b.left = b.left.min(x);
            b.top = b.top.min(y);
            b.right = b.right.max(x + 1.0);
            b.bottom = b.bottom.max(y + 1.0);
        }
        bounds
    }

    /// The ink-weighted centre of row `y` (continuous x), if the row has ink.
    fn row_centre(&self, y: usize) -> Option<f32> {
        let row = self.values.get(y * CANVAS..(y + 1) * CANVAS)?;
        let (mut sum, mut weight) = (0.0, 0.0);
        for (x, &v) in row.iter().enumerate().filter(|(_, &v)| v > INK) {
            sum += (x as f32 + 0.5) * v;
            weight += v;
        }
        (weight > 0.0).then(|| sum / weight)
    }

    /// Thickens the ink by `radius` pixels on every side: each pixel takes the largest value
    /// around it within `radius` (a pixel `d` away from an inked one is covered `radius + 1 - d`,
    /// so that a line's edges move out by `radius`).
    fn dilate(&mut self, radius: f32) {
        if radius <= 0.0 {
            return;
        }
        let reach = radius.ceil() as isize + 1;
        let mut thick = self.values.clone();
        for y in 0..CANVAS as isize {
            for x in 0..CANVAS as isize {
                let mut best = 0.0f32;
                for dy in -reach..=reach {
                    for dx in -reach..=reach {
                        let (sx, sy) = (x + dx, y + dy);
                        if sx < 0 || sy < 0 || sx >= CANVAS as isize || sy >= CANVAS as isize {
                            continue;
                        }
                        let weight =
                            (radius + 1.0 - ((dx * dx + dy * dy) as f32).sqrt()).clamp(0.0, 1.0);
                        best = best.max(weight * self.values[(sy * CANVAS as isize + sx) as usize]);
                    }
                }
                thick[(y * CANVAS as isize + x) as usize] = best;
            }
        }
        self.values = thick;
    }

    fn stroke(&mut self, a: Point, b: Point, pen: f32) {
        preprocess::stamp_capsule(&mut self.values, CANVAS, CANVAS, a, b, pen);
    }

    /// The canvas through the page's MNIST recipe.
    fn normalized(&self) -> Option<[f32; PIXELS]> {
        preprocess::raster_to_digit(GrayImage {
            width: CANVAS,
            height: CANVAS,
            values: &self.values,
        })
        .ok()
        .map(|digit| *digit.pixels())
    }
}

/// A slash through a zero, leaning either way, reaching up to a third of its height past
/// the loop at each end.
///
/// The page draws every stroke with a 3-pixel pen *after* scaling the ink to its 20-pixel
/// box, so a slash that stretches the box shrinks the loop but not its lines: a narrow
/// slashed zero on the page is a thick, nearly filled loop. Renormalizing a training image
/// instead thins its lines by the same factor as the loop. With `keep_width`, the loop is
/// first thickened by what the renormalization will take away (and the slash drawn as much
/// thicker), to leave the lines as wide as they were.
fn slash(canvas: &mut Canvas, ink: &InkBox, pen: f32, keep_width: bool, rng: &mut impl Rng) {
    let centre = (ink.left + ink.right) / 2.0;
    let lean =
        rng.random_range(0.05..0.6) * ink.width() * if rng.random_bool(0.85) { 1.0 } else { -1.0 };
    let top = Point::new(
        centre + lean,
        ink.top - rng.random_range(-0.05..0.35) * ink.height(),
    );
    let bottom = Point::new(
        centre - lean,
        ink.bottom + rng.random_range(-0.05..0.35) * ink.height(),
    );
    // How much the renormalization will shrink the digit: its longer side now, against the
    // longer side of the digit with the slash.
    let half_pen = pen / 2.0;
    let left = ink.left.min(top.x.min(bottom.x) - half_pen);
    let right = ink.right.max(top.x.max(bottom.x) + half_pen);
    let upper = ink.top.min(top.y - half_pen);
    let lower = ink.bottom.max(bottom.y + half_pen);
    let shrink = if keep_width {
        ink.width().max(ink.height()) / (right - left).max(lower - upper)
    } else {
        1.0
    };
    if shrink < 1.0 {
        // MNIST's lines are ~2.5 pixels wide: widen each side by half of what they lose.
        canvas.dilate((1.25 * (1.0 / shrink - 1.0)).min(3.0));
    }
    canvas.stroke(top, bottom, pen / shrink.min(1.0));
}

/// A slashed zero drawn from scratch as the page would receive it, and rendered by the
/// page's own recipe ([`preprocess::strokes_to_digit`], its 3-pixel pen): a loop (an ellipse
/// 30-95% as wide as tall, slanted, its radius wobbling, started anywhere near the top and
/// closed short of its start or past it) and a slash through it that reaches past the loop,
/// either way up, drawn from either end.
fn drawn_slashed_zero(rng: &mut impl Rng) -> Option<[f32; PIXELS]> {
    use std::f32::consts::TAU;
    let aspect = rng.random_range(0.3f32..0.95);
    let (rx, ry) = (0.5 * aspect, 0.5);
    let slant = rng.random_range(-0.3f32..0.4);
    let wobble = [
        (rng.random_range(0.0f32..0.08), rng.random_range(0.0..TAU)),
        (rng.random_range(0.0f32..0.05), rng.random_range(0.0..TAU)),
    ];
    let start = rng.random_range(-0.4f32..0.15) * TAU / 2.0 - TAU / 4.0;
    let sweep =
        rng.random_range(0.93f32..1.12) * TAU * if rng.random_bool(0.8) { -1.0 } else { 1.0 };
    let place = |x: f32, y: f32| Point::new(0.5 + x + slant * (0.5 - (0.5 + y)), 0.5 + y);
    let ring: Vec<Point> = wobbly_arc((0.0, 0.0), (rx, ry), start, sweep, &wobble, 48)
        .into_iter()
        .map(|(x, y)| place(x, y))
        .collect();
    let lean =
        rng.random_range(0.05f32..0.6) * 2.0 * rx * if rng.random_bool(0.85) { 1.0 } else { -1.0 };
    let top = place(lean, -ry - rng.random_range(-0.05f32..0.35));
    let bottom = place(-lean, ry + rng.random_range(-0.05f32..0.35));
    let bow = rng.random_range(-0.04f32..0.04);
    let middle = Point::new((top.x + bottom.x) / 2.0 + bow, (top.y + bottom.y) / 2.0);
    let mut slash = vec![top, middle, bottom];
    if rng.random_bool(0.5) {
        slash.reverse();
    }
    let strokes = if rng.random_bool(0.9) {
        vec![ring, slash]
    } else {
        vec![slash, ring]
    };
    preprocess::strokes_to_digit(&strokes).map(|digit| *digit.pixels())
}

/// Points on an ellipse around `centre` (y grows downwards) from angle `start` through
/// `sweep` radians, in `steps` steps, its radius wobbling as a hand's does:
/// `1 + a sin(t + p) + b sin(2t + q)` for `wobble = [(a, p), (b, q)]`.
fn wobbly_arc(
    centre: (f32, f32),
    radii: (f32, f32),
    start: f32,
    sweep: f32,
    wobble: &[(f32, f32); 2],
    steps: usize,
) -> Vec<(f32, f32)> {
    (0..=steps)
        .map(|i| {
            let t = start + sweep * i as f32 / steps as f32;
            let r = 1.0
                + wobble[0].0 * (t + wobble[0].1).sin()
                + wobble[1].0 * (2.0 * t + wobble[1].1).sin();
            (
                centre.0 + radii.0 * r * t.cos(),
                centre.1 + radii.1 * r * t.sin(),
            )
        })
        .collect()
}

/// An eight drawn from scratch as the page would receive it, and rendered by the page's own
/// recipe ([`preprocess::strokes_to_digit`], its 3-pixel pen). Four in five are one stroke:
/// from the top loop's right side, over its top and down its left to the waist, round the
/// bottom loop, and back up the top loop's right side, which it closes, overshoots, leaves
/// loose or leaves open (the top loop of a quick eight is often a hook); the rest are two
/// stacked loops, drawn one after the other. The top loop is 36-50% of the height and
/// 55-100% of the bottom loop's width, the whole 45-100% as wide as tall, slanted, wobbling,
/// its loops a little off each other's axis; a quarter are mirrored (drawn the other way
/// round).
fn drawn_eight(rng: &mut impl Rng) -> Option<[f32; PIXELS]> {
    use std::f32::consts::{FRAC_PI_2, PI, TAU};
    let aspect = rng.random_range(0.45f32..1.0);
    let slant = rng.random_range(-0.3f32..0.4);
    let waist = rng.random_range(0.36f32..0.5);
    let bottom_radii = (0.5 * aspect, 0.5 * (1.0 - waist));
    let top_radii = (bottom_radii.0 * rng.random_range(0.55f32..1.0), 0.5 * waist);
    let shift = rng.random_range(-0.08f32..0.08);
    let top_centre = (shift, -0.5 + top_radii.1);
    let bottom_centre = (-shift, 0.5 - bottom_radii.1);
    let mut wobble = || {
        [
            (rng.random_range(0.0f32..0.08), rng.random_range(0.0..TAU)),
            (rng.random_range(0.0f32..0.05), rng.random_range(0.0..TAU)),
        ]
    };
    let (top_wobble, bottom_wobble) = (wobble(), wobble());
    let mirror = if rng.random_bool(0.25) { -1.0 } else { 1.0 };
    let place = |(x, y): (f32, f32)| Point::new(0.5 + mirror * x - slant * y, 0.5 + y);
    let arc = |centre: (f32, f32),
               radii: (f32, f32),
               start: f32,
               sweep: f32,
               wobble: &[(f32, f32); 2]|
     -> Vec<Point> {
        wobbly_arc(centre, radii, start, sweep, wobble, 40)
            .into_iter()
            .map(place)
            .collect()
    };
    // Angles with y downwards: 0 is a loop's right side, -PI/2 its top, PI/2 its bottom.
    let strokes = if rng.random_bool(0.8) {
        let start = rng.random_range(-0.25f32..0.06) * PI;
        // Over the top and down the left side of the top loop to the waist.
        let mut stroke = arc(
            top_centre,
            top_radii,
            start,
            -(start + 1.5 * PI),
            &top_wobble,
        );
        // Round the bottom loop, clockwise from its top.
        stroke.extend(arc(
            bottom_centre,
            bottom_radii,
            -FRAC_PI_2,
            TAU,
            &bottom_wobble,
        ));
        // Back up the top loop's right side: none of it, some, all, or past the start.
        let closing = rng.random_range(-0.1f32..1.25) * (FRAC_PI_2 - start);
        if closing > 0.0 {
            stroke.extend(arc(top_centre, top_radii, FRAC_PI_2, -closing, &top_wobble));
        }
        vec![stroke]
    } else {
        let (top_start, bottom_start) = (rng.random_range(-PI..PI), rng.random_range(-PI..PI));
        let top = arc(
            top_centre,
            top_radii,
            top_start,
            -rng.random_range(0.95f32..1.1) * TAU,
            &top_wobble,
        );
        let bottom = arc(
            bottom_centre,
            bottom_radii,
            bottom_start,
            -rng.random_range(0.95f32..1.1) * TAU,
            &bottom_wobble,
        );
        vec![top, bottom]
    };
    preprocess::strokes_to_digit(&strokes).map(|digit| *digit.pixels())
}

/// A bar across a seven's stem, between 40% and 65% of its height.
fn bar(canvas: &mut Canvas, ink: &InkBox, pen: f32, rng: &mut impl Rng) -> Option<()> {
    let row = ink.top + rng.random_range(0.4..0.65) * ink.height();
    let stem = canvas.row_centre(row as usize)?;
    let half = rng.random_range(0.2..0.5) * ink.width().max(0.5 * ink.height());
    let tilt = rng.random_range(-0.08..0.08) * half;
    let y = row.floor() + 0.5;
    canvas.stroke(
        Point::new(stem - half, y + tilt),
        Point::new(stem + half, y - tilt),
        pen,
    );
    Some(())
}

/// A flag from a one's top, down to the left at 20-55°, 25-45% of its height long; half the time a
/// base across its foot too.
fn flag(canvas: &mut Canvas, ink: &InkBox, pen: f32, rng: &mut impl Rng) -> Option<()> {
    let (top_row, bottom_row) = (ink.top as usize, ink.bottom as usize - 1);
    let top = Point::new(canvas.row_centre(top_row)?, top_row as f32 + 0.5);
    let foot = Point::new(canvas.row_centre(bottom_row)?, bottom_row as f32 + 0.5);
    let length = rng.random_range(0.25..0.45) * ink.height();
    let angle = rng.random_range(20.0f32..55.0).to_radians();
    let end = Point::new(top.x - length * angle.cos(), top.y + length * angle.sin());
    canvas.stroke(top, end, pen);
    if rng.random_bool(0.5) {
        let half = rng.random_range(0.15..0.35) * ink.height();
        canvas.stroke(
            Point::new(foot.x - half, foot.y),
            Point::new(foot.x + half, foot.y),
            pen,
        );
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digit::DigitImage;
    use rand::SeedableRng;

    /// A ring like an MNIST zero: 14 wide, 20 tall, centred.
    fn zero() -> [f32; PIXELS] {
        let mut img = [0.0; PIXELS];
        for y in 0..SIDE {
            for x in 0..SIDE {
                let (dx, dy) = (
                    (x as f32 + 0.5 - 14.0) / 7.0,
                    (y as f32 + 0.5 - 14.0) / 10.0,
                );
                let r = (dx * dx + dy * dy).sqrt();
                if (0.8..=1.0).contains(&r) {
                    img[y * SIDE + x] = 1.0;
                }
            }
        }
        img
    }

    /// A vertical bar like an MNIST one.
    fn one() -> [f32; PIXELS] {
        let mut img = [0.0; PIXELS];
        for y in 4..24 {
            for x in 13..16 {
                img[y * SIDE + x] = 1.0;
            }
        }
        img
    }

    fn ink_extent(img: &[f32; PIXELS]) -> (usize, usize) {
        let inked: Vec<usize> = (0..PIXELS).filter(|&i| img[i] > 0.3).collect();
        let xs = inked.iter().map(|i| i % SIDE);
        let ys = inked.iter().map(|i| i / SIDE);
        (
            xs.clone().max().unwrap_or(0) - xs.min().unwrap_or(0) + 1,
            ys.clone().max().unwrap_or(0) - ys.min().unwrap_or(0) + 1,
        )
    }

    #[test]
    fn the_shipped_recipe_is_described_as_its_model_card_says() {
        // `calibrate` rewrites the card's training line from the file's own configuration;
        // the default recipe must be the one the shipped file was trained with.
        let card = include_str!("../../model/README.md");
        let line = StyleRates::SHIPPED.describe();
        assert!(card.contains(&line), "the model card has no {line:?}");
    }

    #[test]
    fn no_rates_never_restyle() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for digit in 0..10 {
            assert!(StyleRates::NONE.restyle(&zero(), digit, &mut rng).is_none());
        }
    }

    #[test]
    fn other_digits_are_never_restyled() {
        let always = StyleRates {
            slashed_zero: 1.0,
            drawn_slashed: 0.5,
            pen_matched_slash: true,
            drawn_eight: 0.0,
            crossed_seven: 1.0,
            flagged_one: 1.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for digit in [2, 3, 4, 5, 6, 8, 9] {
            assert!(always.restyle(&zero(), digit, &mut rng).is_none());
        }
    }

    #[test]
    fn a_slashed_zero_is_renormalized_the_mnist_way() {
        let always = StyleRates {
            slashed_zero: 1.0,
            ..StyleRates::NONE
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..20 {
            let out = always
                .restyle(&zero(), 0, &mut rng)
                .expect("a zero is always slashed at rate 1");
            let (w, h) = ink_extent(&out);
            assert!(
                (19..=21).contains(&w.max(h)),
                "longer side {} not ~20",
                w.max(h)
            );
            let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
            assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
            // The slash adds ink inside the loop, where the ring has none.
            let inside: f32 = (12..16)
                .flat_map(|y| (12..16).map(move |x| out[y * SIDE + x]))
                .sum();
            assert!(inside > 1.0, "no ink through the loop: {inside}");
        }
    }

    #[test]
    fn dilation_widens_a_line_by_its_radius_on_each_side() {
        // A vertical line 2 pixels wide: each row holds 2 of ink.
        let mut line = [0.0; PIXELS];
        for y in 4..24 {
            line[y * SIDE + 13] = 1.0;
            line[y * SIDE + 14] = 1.0;
        }
        let row_ink = |canvas: &Canvas| -> f32 {
            let y = MARGIN + 14;
            canvas.values[y * CANVAS..(y + 1) * CANVAS].iter().sum()
        };
        for radius in [0.0f32, 0.5, 1.0, 2.0] {
            let mut canvas = Canvas::around(&line);
            canvas.dilate(radius);
            let ink = row_ink(&canvas);
            assert!(
                (ink - (2.0 + 2.0 * radius)).abs() <= 0.25,
                "radius {radius}: {ink} of ink across the line"
            );
        }
    }

    #[test]
    fn a_drawn_slashed_zero_is_drawn_with_the_pages_pen_and_recipe() {
        let drawn = StyleRates {
            slashed_zero: 1.0,
            drawn_slashed: 1.0,
            ..StyleRates::NONE
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut narrowest = SIDE;
        for _ in 0..40 {
            let out = drawn.restyle(&zero(), 0, &mut rng).expect("drawn");
            let (w, h) = ink_extent(&out);
            assert!((19..=21).contains(&w.max(h)), "{w}x{h}");
            let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
            assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
            narrowest = narrowest.min(w);
        }
        // Loops from 30% of their height wide: some drawings are narrow blobs, as the page
        // renders a narrow slashed zero.
        assert!(narrowest <= 9, "narrowest {narrowest} px");
    }

    #[test]
    fn a_flagged_one_gains_ink_left_of_its_top() {
        let always = StyleRates {
            flagged_one: 1.0,
            ..StyleRates::NONE
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for _ in 0..20 {
            let out = always.restyle(&one(), 1, &mut rng).expect("restyled");
            let (w, _) = ink_extent(&out);
            assert!(w >= 6, "flag did not widen the one: {w} px");
            let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
            assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
        }
    }

    #[test]
    fn a_crossed_seven_has_a_bar_through_the_stem() {
        // A seven: a top bar and a diagonal stem.
        let mut seven = [0.0; PIXELS];
        for x in 8..21 {
            for y in 4..7 {
                seven[y * SIDE + x] = 1.0;
            }
        }
        for y in 6..24 {
            let x = 19 - (y - 6) * 8 / 18;
            for dx in 0..3 {
                seven[y * SIDE + x + dx] = 1.0;
            }
        }
        let always = StyleRates {
            crossed_seven: 1.0,
            ..StyleRates::NONE
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let out = always.restyle(&seven, 7, &mut rng).expect("restyled");
        // Some row in the middle third has ink over at least 6 pixels (the bar); the plain
        // seven's stem is 3 wide there.
        let widest = (10..19)
            .map(|y| (0..SIDE).filter(|&x| out[y * SIDE + x] > 0.3).count())
            .max()
            .unwrap_or(0);
        assert!(widest >= 6, "no bar: widest middle row {widest} px");
    }

    /// The enclosed background regions of an image (a closed 8 has two, an 8 whose top
    /// loop is left open has one): background pixels not reachable from the border.
    fn holes(img: &[f32; PIXELS]) -> usize {
        let background = |i: usize| img[i] < 0.3;
        let mut seen = [false; PIXELS];
        let fill = |start: usize, seen: &mut [bool; PIXELS]| {
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(i) = stack.pop() {
                let (x, y) = (i % SIDE, i / SIDE);
                let mut next = vec![];
                if x > 0 {
                    next.push(i - 1);
                }
                if x + 1 < SIDE {
                    next.push(i + 1);
                }
                if y > 0 {
                    next.push(i - SIDE);
                }
                if y + 1 < SIDE {
                    next.push(i + SIDE);
                }
                for j in next {
                    if !seen[j] && background(j) {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        };
        for i in 0..PIXELS {
            let (x, y) = (i % SIDE, i / SIDE);
            let border = x == 0 || y == 0 || x + 1 == SIDE || y + 1 == SIDE;
            if border && background(i) && !seen[i] {
                fill(i, &mut seen);
            }
        }
        let mut count = 0;
        for i in 0..PIXELS {
            if background(i) && !seen[i] {
                fill(i, &mut seen);
                count += 1;
            }
        }
        count
    }

    #[test]
    fn drawn_eights_are_renormalized_and_some_leave_the_top_loop_open() {
        let drawn = StyleRates {
            drawn_eight: 1.0,
            ..StyleRates::NONE
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut by_holes = [0usize; 3];
        for _ in 0..60 {
            let out = drawn.restyle(&zero(), 8, &mut rng).expect("drawn");
            let (w, h) = ink_extent(&out);
            assert!((19..=21).contains(&w.max(h)), "{w}x{h}");
            let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
            assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
            by_holes[holes(&out).min(2)] += 1;
        }
        // Both loops closed for most, one of them left open for some.
        assert!(by_holes[2] >= 30, "{by_holes:?}");
        assert!(by_holes[1] + by_holes[0] >= 5, "{by_holes:?}");
    }

    #[test]
    fn holes_counts_closed_loops() {
        assert_eq!(holes(&zero()), 1);
        assert_eq!(holes(&one()), 0);
    }
}
