//! The 28x28 image the model reads, in MNIST's convention: row-major, 0.0 = background,
//! 1.0 = full ink (white ink on black).

/// Side of the model's input image in pixels.
pub const SIDE: usize = 28;
/// Pixels in the model's input image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes the model tells apart (the digits 0-9).
pub const CLASSES: usize = 10;

/// A 28x28 image in the model's input convention. Every producer (stroke rasterizer, raster
/// resampler, IDX reader) and every consumer (classifier, preview, tests) shares this type, so
/// "the tensor fed to the model" is one thing.
#[derive(Clone, PartialEq)]
pub struct DigitImage {
    pixels: [f32; PIXELS],
}

impl std::fmt::Debug for DigitImage {
    /// Draws the image as text, which is what a failing test wants to show.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "DigitImage:")?;
        for row in self.pixels.chunks(SIDE) {
            let line: String = row
                .iter()
                .map(|&v| match v {
                    v if v >= 0.75 => '#',
                    v if v >= 0.4 => '+',
                    v if v > 0.05 => '.',
                    _ => ' ',
                })
                .collect();
            writeln!(f, "|{line}|")?;
        }
        Ok(())
    }
}

impl Default for DigitImage {
    fn default() -> Self {
        Self {
            pixels: [0.0; PIXELS],
        }
    }
}

impl DigitImage {
    /// Wraps 784 values; each is clamped into 0..=1 (NaN becomes 0).
    pub fn from_pixels(mut pixels: [f32; PIXELS]) -> Self {
        for p in &mut pixels {
            *p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        }
        Self { pixels }
    }

    /// An image from 8-bit grey levels (as stored in IDX files), 255 = full ink.
    pub fn from_bytes(bytes: &[u8; PIXELS]) -> Self {
        let mut pixels = [0.0; PIXELS];
        for (p, &b) in pixels.iter_mut().zip(bytes) {
            *p = f32::from(b) / 255.0;
        }
        Self { pixels }
    }

    /// The 784 values, row-major.
    pub fn pixels(&self) -> &[f32; PIXELS] {
        &self.pixels
    }

    /// The value at column `x`, row `y`.
    pub fn get(&self, x: usize, y: usize) -> f32 {
        self.pixels[y * SIDE + x]
    }

    /// Mutable access for producers inside the crate.
    pub(crate) fn pixels_mut(&mut self) -> &mut [f32; PIXELS] {
        &mut self.pixels
    }

    /// 8-bit grey levels, rounded (for previews and for comparing images as bytes).
    pub fn to_bytes(&self) -> [u8; PIXELS] {
        let mut out = [0u8; PIXELS];
        for (o, &p) in out.iter_mut().zip(&self.pixels) {
            *o = (p * 255.0).round() as u8;
        }
        out
    }

    /// The image as a BMP file (8-bit, a grey palette, dark ink on white as the pad draws
    /// it): what the page shows for a kept example, as a data URL, without a canvas each.
    pub fn to_bmp(&self) -> Vec<u8> {
        const HEADERS: u32 = 14 + 40 + 256 * 4;
        let side = SIDE as u32; // 28: rows need no padding to 4 bytes
        let size = HEADERS + side * side;
        let mut out = Vec::with_capacity(size as usize);
        out.extend_from_slice(b"BM");
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&HEADERS.to_le_bytes());
        out.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
        out.extend_from_slice(&side.to_le_bytes());
        out.extend_from_slice(&side.to_le_bytes()); // positive: rows bottom-up
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&8u16.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]); // no compression
        out.extend_from_slice(&(side * side).to_le_bytes());
        out.extend_from_slice(&2835u32.to_le_bytes());
        out.extend_from_slice(&2835u32.to_le_bytes());
        out.extend_from_slice(&256u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for level in 0..=255u8 {
            let grey = 255 - level;
            out.extend_from_slice(&[grey, grey, grey, 0]);
        }
        let bytes = self.to_bytes();
        for row in bytes.chunks(SIDE).rev() {
            out.extend_from_slice(row);
        }
        out
    }

    /// Total ink: the sum of all values.
    pub fn ink(&self) -> f32 {
        self.pixels.iter().sum()
    }

    /// Centre of mass `(x, y)` in continuous image coordinates, where pixel `(i, j)` covers
    /// `[i, i+1) x [j, j+1)`; `None` for an empty image.
    pub fn centre_of_mass(&self) -> Option<(f32, f32)> {
        let (mut sum, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
        for (index, &v) in self.pixels.iter().enumerate() {
            let v = f64::from(v);
            sum += v;
            sx += v * ((index % SIDE) as f64 + 0.5);
            sy += v * ((index / SIDE) as f64 + 0.5);
        }
        (sum > 1e-6).then(|| ((sx / sum) as f32, (sy / sum) as f32))
    }

    /// The smallest rectangle `(x0, y0, x1, y1)` (inclusive pixel indices) holding every pixel
    /// above `threshold`; `None` when there is none.
    pub fn ink_bounds(&self, threshold: f32) -> Option<(usize, usize, usize, usize)> {
        let mut bounds: Option<(usize, usize, usize, usize)> = None;
        for (index, &v) in self.pixels.iter().enumerate() {
            if v > threshold {
                let (x, y) = (index % SIDE, index / SIDE);
                bounds = Some(match bounds {
                    None => (x, y, x, y),
                    Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                });
            }
        }
        bounds
    }

    /// Mean absolute difference per pixel between two images.
    pub fn mean_abs_diff(&self, other: &DigitImage) -> f32 {
        self.pixels
            .iter()
            .zip(&other.pixels)
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / PIXELS as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bmp_holds_the_pixels_bottom_row_first_inverted_by_its_palette() {
        let mut image = DigitImage::default();
        image.pixels_mut()[0] = 1.0; // top-left, full ink
        let bmp = image.to_bmp();
        assert_eq!(&bmp[..2], b"BM");
        assert_eq!(bmp.len(), 14 + 40 + 1024 + PIXELS);
        let size = u32::from_le_bytes([bmp[2], bmp[3], bmp[4], bmp[5]]);
        assert_eq!(size as usize, bmp.len());
        let data = 14 + 40 + 1024;
        // The top row is stored last; its first pixel is palette entry 255, drawn black.
        assert_eq!(bmp[data + (SIDE - 1) * SIDE], 255);
        assert_eq!(&bmp[14 + 40 + 255 * 4..14 + 40 + 255 * 4 + 3], &[0, 0, 0]);
        assert_eq!(bmp[data], 0);
    }

    #[test]
    fn centre_of_mass_of_one_pixel_is_its_centre() {
        let mut img = DigitImage::default();
        img.pixels_mut()[3 * SIDE + 5] = 1.0;
        assert_eq!(img.centre_of_mass(), Some((5.5, 3.5)));
        assert_eq!(img.ink_bounds(0.0), Some((5, 3, 5, 3)));
    }

    #[test]
    fn empty_image_has_no_centre() {
        assert_eq!(DigitImage::default().centre_of_mass(), None);
        assert_eq!(DigitImage::default().ink_bounds(0.0), None);
    }

    #[test]
    fn from_pixels_clamps() {
        let mut raw = [0.5; PIXELS];
        raw[0] = 2.0;
        raw[1] = -1.0;
        raw[2] = f32::NAN;
        let img = DigitImage::from_pixels(raw);
        assert_eq!(&img.pixels()[..4], &[1.0, 0.0, 0.0, 0.5]);
    }

    #[test]
    fn bytes_round_trip() {
        let mut bytes = [0u8; PIXELS];
        bytes[10] = 255;
        bytes[11] = 128;
        assert_eq!(DigitImage::from_bytes(&bytes).to_bytes(), bytes);
    }
}
