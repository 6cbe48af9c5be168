//! How a drawing becomes the 28x28 image the model reads, following the recipe that made
//! MNIST: the ink's bounding box is scaled, keeping its aspect ratio, so that its longer side
//! is 20 pixels; it is drawn anti-aliased; and the image is shifted so that its centre of mass
//! sits at the centre of the 28x28 field.
//!
//! Two entry points share that recipe: [`strokes_to_digit`] for vector drawings (the web page,
//! tests) and [`raster_to_digit`] for grey images of any size and polarity (the CLI's
//! `predict`). This module knows nothing of the web or of files.
//!
//! The constants were measured on MNIST's 60,000 training images: the ink box is 20 pixels on
//! its longer side in 99.7% of them; their centre of mass averages 14.50 in continuous
//! coordinates (pixel index 14.0) on both axes; and a "1" carries about 3 pixels of ink per
//! pixel of length, which is the pen width below.

use crate::digit::{DigitImage, SIDE};
use crate::strokes::{Bounds, Point, Stroke};

/// Longer side of the ink's bounding box after normalization, in pixels.
pub const INK_BOX: f32 = 20.0;
/// Pen diameter in output pixels (at half intensity), whatever size the person drew.
pub const PEN_WIDTH: f32 = 3.0;
/// Where MNIST puts the centre of mass, in continuous coordinates (pixel index 14).
pub const MASS_CENTRE: f32 = 14.5;
/// Drawings whose longer side is below this fraction of the pad are treated as this size, so
/// that a tap or a tiny tick is not blown up into a full-height line.
pub const MIN_EXTENT: f32 = 0.02;
/// Raster pixels below this ink level (after background removal) count as background.
const RASTER_NOISE_FLOOR: f32 = 0.08;

/// Renders strokes (in pad units, see [`crate::strokes`]) as an MNIST-style image; `None` when
/// there is nothing drawn.
///
/// Cost is linear in the number of points: each segment touches only the pixels near it.
pub fn strokes_to_digit(strokes: &[Stroke]) -> Option<DigitImage> {
    strokes_to_placed_digit(strokes).map(|(image, _)| image)
}

/// Where a drawing landed in its 28x28 image: enough to map an image pixel back onto the pad
/// (the page draws the saliency of each pixel over the ink that made it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Placement {
    /// The centre of the drawing's bounding box, in pad units.
    pub centre: Point,
    /// Image pixels per pad unit.
    pub scale: f32,
    /// Where that centre went in the image (continuous pixel coordinates).
    pub at: Point,
}

impl Placement {
    /// The pad point that lands at image coordinates `(x, y)` (continuous: pixel `i` spans
    /// `i..i + 1`).
    pub fn to_pad(&self, x: f32, y: f32) -> Point {
        Point::new(
            (x - self.at.x) / self.scale + self.centre.x,
            (y - self.at.y) / self.scale + self.centre.y,
        )
    }
}

/// [`strokes_to_digit`], also saying where the drawing landed in the image.
pub fn strokes_to_placed_digit(strokes: &[Stroke]) -> Option<(DigitImage, Placement)> {
    let bounds = Bounds::of_strokes(strokes)?;
    let extent = bounds.width().max(bounds.height()).max(MIN_EXTENT);
    // The centre line is scaled so that the ink around it, pen width included, spans INK_BOX.
    let scale = (INK_BOX - PEN_WIDTH) / extent;
    let centre = bounds.centre();
    let (image, dx, dy) = centred_by_mass(|dx, dy| {
        let to_image =
            |p: &Point| Point::new((p.x - centre.x) * scale + dx, (p.y - centre.y) * scale + dy);
        let mut image = DigitImage::default();
        for stroke in strokes {
            let points: Vec<Point> = stroke.iter().map(to_image).collect();
            match points.as_slice() {
                [] => {}
                [single] => stamp_segment(&mut image, *single, *single),
                _ => {
                    for pair in points.windows(2) {
                        stamp_segment(&mut image, pair[0], pair[1]);
                    }
                }
            }
        }
        image
    })?;
    Some((
        image,
        Placement {
            centre,
            scale,
            at: Point::new(dx, dy),
        },
    ))
}

/// Renders once with the shape's centre at the image centre, measures the centre of mass,
/// and renders again shifted so that the centre of mass lands on [`MASS_CENTRE`]. `render`
/// takes where to put the shape's centre; the result says where it was put.
fn centred_by_mass(render: impl Fn(f32, f32) -> DigitImage) -> Option<(DigitImage, f32, f32)> {
    let first = render(MASS_CENTRE, MASS_CENTRE);
    let (mx, my) = first.centre_of_mass()?;
    let (dx, dy) = (2.0 * MASS_CENTRE - mx, 2.0 * MASS_CENTRE - my);
    Some((render(dx, dy), dx, dy))
}

/// Draws one segment of the pen (a capsule of diameter [`PEN_WIDTH`]) into `image`, keeping
/// the brighter value where ink overlaps.
fn stamp_segment(image: &mut DigitImage, a: Point, b: Point) {
    stamp_capsule(image.pixels_mut(), SIDE, SIDE, a, b, PEN_WIDTH);
}

/// Draws a capsule of `diameter` from `a` to `b` (pixel units, pixel `i` spanning `i..i + 1`)
/// into a `width` x `height` image of ink levels, keeping the brighter value where ink
/// overlaps. Coverage falls off linearly over one pixel at the edge, which approximates the
/// area anti-aliasing that MNIST's downsampling produced. The pen of [`strokes_to_digit`];
/// the trainer's style variants draw extra strokes onto MNIST images with it too.
pub fn stamp_capsule(
    values: &mut [f32],
    width: usize,
    height: usize,
    a: Point,
    b: Point,
    diameter: f32,
) {
    let reach = diameter / 2.0 + 0.5;
    let x0 = (a.x.min(b.x) - reach).floor().max(0.0) as usize;
    let y0 = (a.y.min(b.y) - reach).floor().max(0.0) as usize;
    let x1 = ((a.x.max(b.x) + reach).ceil().max(0.0) as usize).min(width);
    let y1 = ((a.y.max(b.y) + reach).ceil().max(0.0) as usize).min(height);
    for y in y0..y1 {
        for x in x0..x1 {
            let centre = Point::new(x as f32 + 0.5, y as f32 + 0.5);
            let coverage = (reach - distance_to_segment(centre, a, b)).clamp(0.0, 1.0);
            let pixel = &mut values[y * width + x];
            *pixel = pixel.max(coverage);
        }
    }
}

/// The distance from `p` to the segment from `a` to `b`.
pub fn distance_to_segment(p: Point, a: Point, b: Point) -> f32 {
    let (abx, aby) = (b.x - a.x, b.y - a.y);
    let (apx, apy) = (p.x - a.x, p.y - a.y);
    let length_sq = abx * abx + aby * aby;
    let t = if length_sq > 0.0 {
        ((apx * abx + apy * aby) / length_sq).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (dx, dy) = (apx - t * abx, apy - t * aby);
    (dx * dx + dy * dy).sqrt()
}

/// A grey image of any size: `width * height` values in 0..=1, row-major, in either
/// polarity (dark ink on light paper, or light on dark).
#[derive(Clone, Copy, Debug)]
pub struct GrayImage<'a> {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `width * height` values in 0..=1.
    pub values: &'a [f32],
}

/// Why a raster could not be turned into a digit.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum RasterError {
    /// The buffer does not hold `width * height` values.
    #[error("image buffer holds {found} values but {width}x{height} needs {expected}")]
    SizeMismatch {
        width: usize,
        height: usize,
        expected: usize,
        found: usize,
    },
    /// The image is uniform: there is no ink to find.
    #[error("the image is blank (no ink found)")]
    Blank,
}

/// Turns a grey image of any size and either polarity into an MNIST-style image: the
/// background (judged from the border) is removed, the ink's bounding box is scaled to a
/// 20-pixel longer side by area averaging, and the result is centred by mass.
pub fn raster_to_digit(image: GrayImage<'_>) -> Result<DigitImage, RasterError> {
    let GrayImage {
        width,
        height,
        values,
    } = image;
    let expected = width * height;
    if values.len() != expected || expected == 0 {
        return Err(RasterError::SizeMismatch {
            width,
            height,
            expected,
            found: values.len(),
        });
    }
    let ink = ink_levels(width, height, values).ok_or(RasterError::Blank)?;

    let (mut x0, mut y0, mut x1, mut y1) = (width, height, 0, 0);
    for (index, _) in ink.iter().enumerate().filter(|(_, &v)| v > 0.0) {
        let (x, y) = (index % width, index / width);
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    if x0 > x1 {
        return Err(RasterError::Blank);
    }
    let (box_w, box_h) = ((x1 + 1 - x0) as f32, (y1 + 1 - y0) as f32);
    let scale = INK_BOX / box_w.max(box_h);
    let (cx, cy) = (x0 as f32 + box_w / 2.0, y0 as f32 + box_h / 2.0);

    centred_by_mass(|dx, dy| {
        // Output coordinate u corresponds to source coordinate (u - dx) / scale + cx.
        let columns = area_weights(SIDE, width, scale, dx, cx);
        let rows = area_weights(SIDE, height, scale, dy, cy);
        let mut out = DigitImage::default();
        let pixels = out.pixels_mut();
        let mut row_sums = vec![0.0f32; width];
        for (oy, row_weights) in rows.iter().enumerate() {
            row_sums.iter_mut().for_each(|s| *s = 0.0);
            for &(sy, wy) in row_weights {
                let source_row = &ink[sy * width..(sy + 1) * width];
                for (sum, &v) in row_sums.iter_mut().zip(source_row) {
                    *sum += wy * v;
                }
            }
            for (ox, column_weights) in columns.iter().enumerate() {
                pixels[oy * SIDE + ox] = column_weights
                    .iter()
                    .map(|&(sx, wx)| wx * row_sums[sx])
                    .sum::<f32>()
                    .clamp(0.0, 1.0);
            }
        }
        out
    })
    .map(|(image, _, _)| image)
    .ok_or(RasterError::Blank)
}

/// Ink per pixel in 0..=1 with the background removed: the border's median level is the
/// paper; darker-than-paper or lighter-than-paper ink is detected from it; the strongest ink
/// becomes 1. `None` for a uniform image.
pub(crate) fn ink_levels(width: usize, height: usize, values: &[f32]) -> Option<Vec<f32>> {
    let mut border: Vec<f32> = (0..width)
        .flat_map(|x| [values[x], values[(height - 1) * width + x]])
        .chain((0..height).flat_map(|y| [values[y * width], values[y * width + width - 1]]))
        .map(|v| if v.is_nan() { 0.0 } else { v })
        .collect();
    border.sort_by(f32::total_cmp);
    let paper = border[border.len() / 2];
    let dark_ink = paper > 0.5;
    let mut ink: Vec<f32> = values
        .iter()
        .map(|&v| {
            let v = if v.is_nan() { paper } else { v };
            if dark_ink { paper - v } else { v - paper }.max(0.0)
        })
        .collect();
    let strongest = ink.iter().copied().fold(0.0f32, f32::max);
    if strongest < 0.1 {
        return None;
    }
    for v in &mut ink {
        *v /= strongest;
        if *v < RASTER_NOISE_FLOOR {
            *v = 0.0;
        }
    }
    Some(ink)
}

/// For each of `out_len` output pixels along one axis, the source pixels it covers and their
/// weights (overlap length over footprint length), for the mapping
/// `source = (output - offset) / scale + source_centre`. A box filter: exact area averaging
/// when shrinking, a blend of the nearest pixels when enlarging.
fn area_weights(
    out_len: usize,
    source_len: usize,
    scale: f32,
    offset: f32,
    source_centre: f32,
) -> Vec<Vec<(usize, f32)>> {
    (0..out_len)
        .map(|o| {
            let start = (o as f32 - offset) / scale + source_centre;
            let end = (o as f32 + 1.0 - offset) / scale + source_centre;
            let footprint = end - start;
            let first = start.floor().max(0.0) as usize;
            let last = (end.ceil().max(0.0) as usize).min(source_len);
            (first..last)
                .filter_map(|s| {
                    let overlap = (end.min(s as f32 + 1.0) - start.max(s as f32)).max(0.0);
                    (overlap > 0.0).then_some((s, overlap / footprint))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(from: (f32, f32), to: (f32, f32), steps: usize) -> Stroke {
        (0..=steps)
            .map(|i| {
                let t = i as f32 / steps as f32;
                Point::new(from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t)
            })
            .collect()
    }

    #[test]
    fn placement_maps_image_pixels_back_onto_the_drawing() {
        // A vertical line from (0.5, 0.2) to (0.5, 0.6): its ends land 17 px apart in the
        // image, and mapping the image back must find them on the pad.
        let line = vec![vec![Point::new(0.5, 0.2), Point::new(0.5, 0.6)]];
        let (image, placement) = strokes_to_placed_digit(&line).unwrap();
        assert_eq!(Some(image.clone()), strokes_to_digit(&line));
        let top = Point::new(
            placement.at.x + (0.5 - placement.centre.x) * placement.scale,
            placement.at.y + (0.2 - placement.centre.y) * placement.scale,
        );
        let back = placement.to_pad(top.x, top.y);
        assert!(
            (back.x - 0.5).abs() < 1e-5 && (back.y - 0.2).abs() < 1e-5,
            "{back:?}"
        );
        // The ink's column in the image maps back to x = 0.5 on the pad.
        let column = (0..SIDE)
            .max_by(|&a, &b| {
                let sum = |x: usize| (0..SIDE).map(|y| image.pixels()[y * SIDE + x]).sum::<f32>();
                sum(a).total_cmp(&sum(b))
            })
            .unwrap();
        let pad_x = placement.to_pad(column as f32 + 0.5, 14.0).x;
        assert!(
            (pad_x - 0.5).abs() < 0.5 / placement.scale + 1e-4,
            "{pad_x}"
        );
    }

    #[test]
    fn empty_drawing_gives_no_image() {
        assert!(strokes_to_digit(&[]).is_none());
        assert!(strokes_to_digit(&[vec![], vec![]]).is_none());
    }

    #[test]
    fn centre_of_mass_lands_on_mnist_centre() {
        let seven = vec![
            line((0.2, 0.2), (0.7, 0.2), 10),
            line((0.7, 0.2), (0.35, 0.9), 10),
        ];
        let image = strokes_to_digit(&seven).unwrap();
        let (mx, my) = image.centre_of_mass().unwrap();
        assert!((mx - MASS_CENTRE).abs() < 0.1, "{mx}");
        assert!((my - MASS_CENTRE).abs() < 0.1, "{my}");
    }

    #[test]
    fn longer_side_spans_the_ink_box() {
        let one = vec![line((0.5, 0.1), (0.5, 0.9), 20)];
        let image = strokes_to_digit(&one).unwrap();
        let (x0, y0, x1, y1) = image.ink_bounds(0.0).unwrap();
        let height = y1 + 1 - y0;
        let width = x1 + 1 - x0;
        assert!((20..=22).contains(&height), "height {height}\n{image:?}");
        // A thin vertical line keeps its aspect: never stretched wide.
        assert!(width <= 5, "width {width}\n{image:?}");
    }

    #[test]
    fn a_single_dot_is_a_small_centred_blob() {
        let image = strokes_to_digit(&[vec![Point::new(0.3, 0.6)]]).unwrap();
        let (x0, y0, x1, y1) = image.ink_bounds(0.0).unwrap();
        assert!(x1 - x0 <= 4 && y1 - y0 <= 4, "{image:?}");
        let (mx, my) = image.centre_of_mass().unwrap();
        assert!((mx - MASS_CENTRE).abs() < 0.05 && (my - MASS_CENTRE).abs() < 0.05);
    }

    #[test]
    fn raster_rejects_wrong_sizes_and_blank_images() {
        let values = vec![0.0; 10];
        assert!(matches!(
            raster_to_digit(GrayImage {
                width: 4,
                height: 4,
                values: &values
            }),
            Err(RasterError::SizeMismatch { .. })
        ));
        let blank = vec![0.7; 16];
        assert_eq!(
            raster_to_digit(GrayImage {
                width: 4,
                height: 4,
                values: &blank
            }),
            Err(RasterError::Blank)
        );
    }

    #[test]
    fn raster_handles_both_polarities_alike() {
        let (w, h) = (60, 90);
        let mut light_on_dark = vec![0.0f32; w * h];
        for y in 15..75 {
            for x in 25..33 {
                light_on_dark[y * w + x] = 1.0;
            }
        }
        let dark_on_light: Vec<f32> = light_on_dark.iter().map(|v| 1.0 - v).collect();
        let a = raster_to_digit(GrayImage {
            width: w,
            height: h,
            values: &light_on_dark,
        })
        .unwrap();
        let b = raster_to_digit(GrayImage {
            width: w,
            height: h,
            values: &dark_on_light,
        })
        .unwrap();
        assert!(a.mean_abs_diff(&b) < 1e-6);
        let (_, y0, _, y1) = a.ink_bounds(0.01).unwrap();
        assert!((20..=21).contains(&(y1 + 1 - y0)), "{a:?}");
    }
}
