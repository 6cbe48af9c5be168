//! Affine resampling of 28x28 images about their centre: the trainer's random distortions and
//! the page's variations of a person's corrections are both made with it.

use crate::digit::{PIXELS, SIDE};

/// A map of the image plane about its centre: shear (`x += shear * y`), then rotation and
/// scaling, then a shift.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// Rotation, degrees (positive turns clockwise on screen, y pointing down).
    pub angle_deg: f32,
    /// Size factor (1 = unchanged).
    pub scale: f32,
    /// Horizontal shear.
    pub shear: f32,
    /// Shift in pixels, `(x, y)`.
    pub shift: (f32, f32),
}

impl Affine {
    /// The map that changes nothing.
    pub const IDENTITY: Affine = Affine {
        angle_deg: 0.0,
        scale: 1.0,
        shear: 0.0,
        shift: (0.0, 0.0),
    };
}

/// Samples `source` at continuous coordinates `(x, y)` (pixel centres at `i + 0.5`),
/// bilinearly, with zeros outside.
fn sample(source: &[f32; PIXELS], x: f32, y: f32) -> f32 {
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - x0, fy - y0);
    let at = |xi: f32, yi: f32| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= SIDE as f32 || yi >= SIDE as f32 {
            0.0
        } else {
            source[yi as usize * SIDE + xi as usize]
        }
    };
    let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1.0, y0) * tx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - tx) + at(x0 + 1.0, y0 + 1.0) * tx;
    top * (1.0 - ty) + bottom * ty
}

/// `image` under `map`, each output pixel pulled from the source through the inverse map;
/// `displacement`, when given, moves every output pixel's source point further by
/// `(dx[i], dy[i])` (an elastic field).
pub fn warp(
    image: &[f32; PIXELS],
    map: &Affine,
    displacement: Option<(&[f32], &[f32])>,
) -> [f32; PIXELS] {
    let (sin, cos) = map.angle_deg.to_radians().sin_cos();
    // Forward matrix M = scale * R(angle) * [[1, shear], [0, 1]]; its inverse pulls pixels.
    let s = map.scale;
    let (a, b, c, d) = (
        s * cos,
        s * (cos * map.shear - sin),
        s * sin,
        s * (sin * map.shear + cos),
    );
    let det = a * d - b * c;
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    let centre = SIDE as f32 / 2.0;
    let mut out = [0.0; PIXELS];
    for (index, o) in out.iter_mut().enumerate() {
        let (mut u, mut v) = (
            (index % SIDE) as f32 + 0.5 - centre - map.shift.0,
            (index / SIDE) as f32 + 0.5 - centre - map.shift.1,
        );
        if let Some((dx, dy)) = displacement {
            u += dx[index];
            v += dy[index];
        }
        *o = sample(image, ia * u + ib * v + centre, ic * u + id * v + centre);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar() -> [f32; PIXELS] {
        let mut img = [0.0; PIXELS];
        for y in 6..22 {
            img[y * SIDE + 14] = 1.0;
        }
        img
    }

    #[test]
    fn the_identity_changes_nothing() {
        let img = bar();
        assert_eq!(warp(&img, &Affine::IDENTITY, None), img);
    }

    #[test]
    fn a_shift_moves_the_ink_and_a_quarter_turn_lays_a_bar_down() {
        let img = bar();
        let shifted = warp(
            &img,
            &Affine {
                shift: (2.0, 0.0),
                ..Affine::IDENTITY
            },
            None,
        );
        assert_eq!(shifted[10 * SIDE + 16], 1.0);
        assert_eq!(shifted[10 * SIDE + 14], 0.0);
        let turned = warp(
            &img,
            &Affine {
                angle_deg: 90.0,
                ..Affine::IDENTITY
            },
            None,
        );
        // The bar's centre line (x = 14.5) turns onto y = 14.5 or 13.5, row 14 or 13.
        let row: f32 = [13, 14]
            .map(|y| (0..SIDE).map(|x| turned[y * SIDE + x]).sum::<f32>())
            .into_iter()
            .fold(0.0, f32::max);
        let column: f32 = (0..SIDE).map(|y| turned[y * SIDE + 14]).sum();
        assert!(row > 12.0 && column < 3.0, "row {row} column {column}");
    }
}
