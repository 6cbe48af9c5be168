//! Random distortions of training images, so that the model learns digits as people draw
//! them (tilted, a little larger or smaller, off-centre, slanted) rather than MNIST's exact
//! pixels, and clothes as they vary (mirrored, shifted, partly hidden). Each image gets its
//! own random affine map about the centre, sampled bilinearly, optionally a smooth elastic
//! displacement (Simard et al., 2003), a mirror image and an erased rectangle (Zhong et al.,
//! "Random Erasing Data Augmentation", 2017). Before that, some digit images are redrawn in a
//! writing style MNIST lacks ([`super::styles`]); the training loop never restyles images of
//! other data sets.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::styles::StyleRates;
use crate::digit::{PIXELS, SIDE};
use crate::warp::{warp, Affine};

/// How strongly to distort.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Augmentation {
    /// Largest rotation either way, in degrees.
    pub max_rotation_deg: f32,
    /// Largest relative change of size either way (0.1 = 90%..110%).
    pub max_scale: f32,
    /// Largest horizontal shear either way (x += shear * y).
    pub max_shear: f32,
    /// Largest shift either way, in pixels.
    pub max_shift: f32,
    /// Elastic displacement strength in pixels (0 = off): the largest distance a pixel's
    /// sample point moves in a smooth random field. The digit recipe's 1.5 taught the model
    /// real writers' digits better than none (validation writers, classifier alone: 98.62% ->
    /// 98.99% in the shipped run, 99.12% in another) at the same MNIST accuracy
    /// (docs/decisions/real-pen-data.md).
    pub elastic_alpha: f32,
    /// Writing styles drawn onto images of their digit, and how often (none in
    /// configurations saved before styles existed).
    #[serde(default = "StyleRates::none")]
    pub styles: StyleRates,
    /// Mirror half of the images left to right (a mirrored shirt is a shirt; a mirrored 7 is
    /// not a 7).
    #[serde(default)]
    pub flip: bool,
    /// Share of images in which a random rectangle (2-20% of the image, aspect 0.3-3.3) is
    /// erased to background after the distortion (0 = never).
    #[serde(default)]
    pub erase: f32,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self {
            max_rotation_deg: 12.0,
            max_scale: 0.12,
            max_shear: 0.15,
            max_shift: 2.5,
            elastic_alpha: 1.5,
            styles: StyleRates::SHIPPED,
            flip: false,
            erase: 0.0,
        }
    }
}

impl Augmentation {
    /// Fashion-MNIST's: mirror images, small shifts and size changes; no rotation or shear
    /// (the photographs are upright and square-on), no writing styles, and no random erasing
    /// (on the validation images it cost 0.7 points: the network is small enough to
    /// underfit, docs/trainer.md).
    pub fn clothing() -> Augmentation {
        Augmentation {
            max_rotation_deg: 0.0,
            max_scale: 0.1,
            max_shear: 0.0,
            max_shift: 2.0,
            elastic_alpha: 0.0,
            styles: StyleRates::NONE,
            flip: true,
            erase: 0.0,
        }
    }

    /// A distorted copy of `image` (values 0..1), a training image of `digit`: first
    /// perhaps restyled, then distorted.
    pub fn apply(&self, image: &[f32; PIXELS], digit: u8, rng: &mut impl Rng) -> [f32; PIXELS] {
        match self.styles.restyle(image, digit, rng) {
            Some(restyled) => self.distort(&restyled, rng),
            None => self.distort(image, rng),
        }
    }

    /// `image` under a random affine map (and elastic field, when on; mirrored and partly
    /// erased, when on), without writing styles (for drawings that are already real writing,
    /// and for every image of a data set that is not digits).
    pub fn distort(&self, image: &[f32; PIXELS], rng: &mut impl Rng) -> [f32; PIXELS] {
        // (No random draw for a setting that is off: the digit recipe's stream stays as it was.)
        let mirrored = (self.flip && rng.random_bool(0.5)).then(|| mirror(image));
        let mut out = self.warped(mirrored.as_ref().unwrap_or(image), rng);
        if self.erase > 0.0 && rng.random::<f32>() < self.erase {
            erase_rectangle(&mut out, rng);
        }
        out
    }

    /// `image` under a random affine map (and elastic field, when on).
    fn warped(&self, image: &[f32; PIXELS], rng: &mut impl Rng) -> [f32; PIXELS] {
        let mut uniform = |max: f32| {
            if max > 0.0 {
                rng.random_range(-max..=max)
            } else {
                0.0
            }
        };
        let angle = uniform(self.max_rotation_deg);
        let scale = 1.0 + uniform(self.max_scale);
        let shear = uniform(self.max_shear);
        let (shift_x, shift_y) = (uniform(self.max_shift), uniform(self.max_shift));
        let displacement =
            (self.elastic_alpha > 0.0).then(|| elastic_field(self.elastic_alpha, rng));
        let map = Affine {
            angle_deg: angle,
            scale,
            shear,
            shift: (shift_x, shift_y),
        };
        warp(
            image,
            &map,
            displacement
                .as_ref()
                .map(|(dx, dy)| (dx.as_slice(), dy.as_slice())),
        )
    }
}

/// `image` mirrored left to right.
fn mirror(image: &[f32; PIXELS]) -> [f32; PIXELS] {
    let mut out = [0.0; PIXELS];
    for (row_out, row) in out.chunks_exact_mut(SIDE).zip(image.chunks_exact(SIDE)) {
        row_out
            .iter_mut()
            .zip(row.iter().rev())
            .for_each(|(o, &v)| *o = v);
    }
    out
}

/// Sets a random rectangle of `image` to background: its area 2-20% of the image, its
/// aspect 0.3-3.3, placed anywhere it fits (random erasing with the background value).
fn erase_rectangle(image: &mut [f32; PIXELS], rng: &mut impl Rng) {
    let area = rng.random_range(0.02f32..0.2) * PIXELS as f32;
    let aspect = rng.random_range(0.3f32.ln()..3.3f32.ln()).exp();
    let height = ((area * aspect).sqrt().round() as usize).clamp(1, SIDE);
    let width = ((area / aspect).sqrt().round() as usize).clamp(1, SIDE);
    let top = rng.random_range(0..=SIDE - height);
    let left = rng.random_range(0..=SIDE - width);
    for row in image.chunks_exact_mut(SIDE).skip(top).take(height) {
        row[left..left + width].fill(0.0);
    }
}

/// A smooth random displacement field: uniform noise blurred by a 5x5 box filter three times
/// (close to a Gaussian of sigma ~2.5), scaled to `alpha` pixels.
fn elastic_field(alpha: f32, rng: &mut impl Rng) -> (Vec<f32>, Vec<f32>) {
    let mut field = || {
        let mut f: Vec<f32> = (0..PIXELS).map(|_| rng.random_range(-1.0..=1.0)).collect();
        for _ in 0..3 {
            f = box_blur(&f, 2);
        }
        let peak = f.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        f.iter().map(|v| v / peak * alpha).collect::<Vec<f32>>()
    };
    let dx = field();
    let dy = field();
    (dx, dy)
}

/// The mean of each value's neighbours within `radius` (a square; cut off at the edges,
/// averaging only what is inside). Done as two passes, rows then columns: a clipped square's
/// mean is the mean of its rows' clipped means. Each pass slides a running sum along the
/// line (the elastic field blurs every training image six times).
fn box_blur(field: &[f32], radius: usize) -> Vec<f32> {
    let mut rows = vec![0.0f32; PIXELS];
    for (line, blurred) in field.chunks_exact(SIDE).zip(rows.chunks_exact_mut(SIDE)) {
        blur_line(radius, |i| line[i], |i, mean| blurred[i] = mean);
    }
    let mut out = vec![0.0f32; PIXELS];
    for x in 0..SIDE {
        blur_line(
            radius,
            |i| rows[i * SIDE + x],
            |i, mean| out[i * SIDE + x] = mean,
        );
    }
    out
}

/// Calls `put(i, mean)` with the mean of the values `get(j)` for `j` within `radius` of `i`,
/// inside `0..SIDE`, for each `i` of one line.
fn blur_line(radius: usize, get: impl Fn(usize) -> f32, mut put: impl FnMut(usize, f32)) {
    let mut sum: f32 = (0..=radius.min(SIDE - 1)).map(&get).sum();
    for i in 0..SIDE {
        let count = (i + radius).min(SIDE - 1) + 1 - i.saturating_sub(radius);
        put(i, sum / count as f32);
        if i + radius + 1 < SIDE {
            sum += get(i + radius + 1);
        }
        if i >= radius {
            sum -= get(i - radius);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn square() -> [f32; PIXELS] {
        let mut img = [0.0; PIXELS];
        for y in 10..18 {
            for x in 10..18 {
                img[y * SIDE + x] = 1.0;
            }
        }
        img
    }

    #[test]
    fn no_distortion_is_the_identity() {
        let none = Augmentation {
            max_rotation_deg: 0.0,
            max_scale: 0.0,
            max_shear: 0.0,
            max_shift: 0.0,
            elastic_alpha: 0.0,
            styles: StyleRates::NONE,
            flip: false,
            erase: 0.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let img = square();
        let out = none.apply(&img, 0, &mut rng);
        for (a, b) in img.iter().zip(&out) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn distortion_keeps_the_ink_roughly() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let img = square();
        let ink: f32 = img.iter().sum();
        for _ in 0..20 {
            let out = Augmentation {
                elastic_alpha: 1.5,
                styles: StyleRates::NONE,
                ..Augmentation::default()
            }
            .apply(&img, 3, &mut rng);
            let out_ink: f32 = out.iter().sum();
            // Scale changes area by at most (1.12)^2; nothing falls off the image.
            assert!(
                out_ink > ink * 0.7 && out_ink < ink * 1.35,
                "{out_ink} vs {ink}"
            );
        }
    }

    #[test]
    fn mirroring_twice_is_the_identity_and_erasing_only_clears() {
        let mut img = square();
        img[10 * SIDE + 10] = 0.5;
        let mirrored = mirror(&img);
        assert_eq!(mirrored[10 * SIDE + 17], 0.5);
        assert_eq!(mirror(&mirrored), img);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let full = [1.0f32; PIXELS];
        for _ in 0..50 {
            let mut erased = full;
            erase_rectangle(&mut erased, &mut rng);
            let cleared = erased.iter().filter(|&&v| v == 0.0).count();
            assert!(
                (10..=200).contains(&cleared),
                "{cleared} pixels erased, expected 2-20% of 784 (rounded)"
            );
            assert!(erased.iter().all(|&v| v == 0.0 || v == 1.0));
        }
    }

    #[test]
    fn the_blur_is_the_mean_of_each_clipped_square() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let field: Vec<f32> = (0..PIXELS).map(|_| rng.random_range(-1.0..=1.0)).collect();
        let blurred = box_blur(&field, 2);
        let side = SIDE as isize;
        for y in 0..side {
            for x in 0..side {
                let (mut sum, mut n) = (0.0, 0.0);
                for yy in (y - 2).max(0)..=(y + 2).min(side - 1) {
                    for xx in (x - 2).max(0)..=(x + 2).min(side - 1) {
                        sum += field[(yy * side + xx) as usize];
                        n += 1.0;
                    }
                }
                let got = blurred[(y * side + x) as usize];
                assert!(
                    (got - sum / n).abs() < 1e-5,
                    "({x}, {y}): {got} vs {}",
                    sum / n
                );
            }
        }
    }
}
