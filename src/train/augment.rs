//! Random distortions of training images, so that the model learns digits as people draw
//! them (tilted, a little larger or smaller, off-centre, slanted) rather than MNIST's exact
//! pixels. Each image gets its own random affine map about the centre, sampled bilinearly,
//! and optionally a smooth elastic displacement (Simard et al., 2003). Before that, some
//! images are redrawn in a writing style MNIST lacks ([`super::styles`]).

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
    /// Elastic displacement strength in pixels (0 = off).
    pub elastic_alpha: f32,
    /// Writing styles drawn onto images of their digit, and how often (none in
    /// configurations saved before styles existed).
    #[serde(default = "StyleRates::none")]
    pub styles: StyleRates,
}

impl Default for Augmentation {
    fn default() -> Self {
        Self {
            max_rotation_deg: 12.0,
            max_scale: 0.12,
            max_shear: 0.15,
            max_shift: 2.5,
            elastic_alpha: 0.0,
            styles: StyleRates::SHIPPED,
        }
    }
}

impl Augmentation {
    /// A distorted copy of `image` (values 0..1), a training image of `digit`: first
    /// perhaps restyled, then distorted.
    pub fn apply(&self, image: &[f32; PIXELS], digit: u8, rng: &mut impl Rng) -> [f32; PIXELS] {
        match self.styles.restyle(image, digit, rng) {
            Some(restyled) => self.distort(&restyled, rng),
            None => self.distort(image, rng),
        }
    }

    /// `image` under a random affine map (and elastic field, when on), without writing
    /// styles (for drawings that are already real writing).
    pub fn distort(&self, image: &[f32; PIXELS], rng: &mut impl Rng) -> [f32; PIXELS] {
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

fn box_blur(field: &[f32], radius: isize) -> Vec<f32> {
    let side = SIDE as isize;
    let mut out = vec![0.0; PIXELS];
    for y in 0..side {
        for x in 0..side {
            let (mut sum, mut n) = (0.0, 0.0);
            for dy in -radius..=radius {
                for dx in -radius..=radius {
                    let (xx, yy) = (x + dx, y + dy);
                    if (0..side).contains(&xx) && (0..side).contains(&yy) {
                        sum += field[(yy * side + xx) as usize];
                        n += 1.0;
                    }
                }
            }
            out[(y * side + x) as usize] = sum / n;
        }
    }
    out
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
}
