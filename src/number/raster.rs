//! Reading a number from a raster: its connected blobs of ink are the pieces.

use super::*;

/// Blobs with fewer pixels than this are specks, not ink.
pub(super) const SPECK: usize = 3;

/// A connected blob of ink in a raster: its pixels (indices) and box (pixel units).
pub(super) struct Blob {
    pixels: Vec<usize>,
    bounds: Bounds,
}

/// Ink at least this strong links pixels into one blob; fainter ink (anti-aliased edges)
/// joins the blob it borders, so that the faint halo between two close digits does not
/// weld them together.
pub(super) const BLOB_INK: f32 = 0.35;

/// The 8-connected blobs of `ink` (`width` columns; background is 0), specks left out.
pub(super) fn blobs(ink: &[f32], width: usize) -> Vec<Blob> {
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
pub(super) fn render_blobs(
    ink: &[f32],
    width: usize,
    blobs: &[Blob],
    members: &[usize],
) -> DigitImage {
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
