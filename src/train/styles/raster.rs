//! The raster variants: a digit image on a larger canvas, strokes drawn onto it with the
//! page's pen ([`preprocess::stamp_capsule`]), and the result renormalized by the page's
//! MNIST recipe ([`preprocess::raster_to_digit`]): a slash through a 0, a bar across a 7, a
//! flag (and base) on a 1.

use rand::Rng;

use crate::digit::{PIXELS, SIDE};
use crate::preprocess::{self, GrayImage};
use crate::strokes::Point;

/// Margin around the 28x28 image, so that added strokes may reach past the digit.
pub(super) const MARGIN: usize = 14;
/// Side of the canvas.
pub(super) const CANVAS: usize = SIDE + 2 * MARGIN;
/// Pixels above this level count as ink when measuring the digit.
pub(super) const INK: f32 = 0.3;

/// A digit on a larger canvas, to draw strokes around it.
pub(super) struct Canvas {
    pub(super) values: Vec<f32>,
}

/// The extent of a digit's ink on the canvas (continuous coordinates).
pub(super) struct InkBox {
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
}

impl InkBox {
    pub(super) fn width(&self) -> f32 {
        self.right - self.left
    }
    pub(super) fn height(&self) -> f32 {
        self.bottom - self.top
    }
}

impl Canvas {
    pub(super) fn around(image: &[f32; PIXELS]) -> Canvas {
        let mut values = vec![0.0; CANVAS * CANVAS];
        for (y, row) in image.chunks_exact(SIDE).enumerate() {
            let start = (y + MARGIN) * CANVAS + MARGIN;
            values[start..start + SIDE].copy_from_slice(row);
        }
        Canvas { values }
    }

    pub(super) fn ink_box(&self) -> Option<InkBox> {
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
    pub(super) fn row_centre(&self, y: usize) -> Option<f32> {
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
    pub(super) fn dilate(&mut self, radius: f32) {
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

    pub(super) fn stroke(&mut self, a: Point, b: Point, pen: f32) {
        preprocess::stamp_capsule(&mut self.values, CANVAS, CANVAS, a, b, pen);
    }

    /// The canvas through the page's MNIST recipe.
    pub(super) fn normalized(&self) -> Option<[f32; PIXELS]> {
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
pub(super) fn slash(
    canvas: &mut Canvas,
    ink: &InkBox,
    pen: f32,
    keep_width: bool,
    rng: &mut impl Rng,
) {
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

/// A bar across a seven's stem, between 40% and 65% of its height.
pub(super) fn bar(canvas: &mut Canvas, ink: &InkBox, pen: f32, rng: &mut impl Rng) -> Option<()> {
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
pub(super) fn flag(canvas: &mut Canvas, ink: &InkBox, pen: f32, rng: &mut impl Rng) -> Option<()> {
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
