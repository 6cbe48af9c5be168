//! The IDX format that MNIST (and Fashion-MNIST) ship in: parse and validate from bytes,
//! gzipped or not.
//!
//! Every way a file can be wrong (truncated, wrong magic, wrong rank, images and labels that
//! disagree) is an [`IdxError`] naming the file, never a panic: these bytes come from disk or
//! the network.

use std::io::Read;

use crate::digit::{DigitImage, PIXELS, SIDE};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;
/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// No legitimate IDX file we read is larger than this once decompressed (60,000 x 784 bytes is
/// 47 MB); a bound keeps a corrupt or hostile gzip stream from exhausting memory.
const MAX_DECOMPRESSED: u64 = 256 << 20;

/// Why an IDX file could not be read. Each variant names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The file starts like gzip but does not decompress.
    #[error("{file}: looks gzipped but does not decompress: {reason}")]
    Gzip { file: String, reason: String },
    /// Fewer bytes than the header or the declared data need.
    #[error("{file}: truncated: {what} needs {needed} bytes but the file has {found}")]
    Truncated {
        file: String,
        what: &'static str,
        needed: usize,
        found: usize,
    },
    /// More bytes than the header declares (a sign of a wrong or concatenated file).
    #[error("{file}: {extra} bytes after the {declared} the header declares")]
    TrailingBytes {
        file: String,
        declared: usize,
        extra: usize,
    },
    /// The magic number is not the one expected for this kind of file.
    #[error("{file}: magic number {found:#010x}, expected {expected:#010x} ({kind})")]
    BadMagic {
        file: String,
        found: u32,
        expected: u32,
        kind: &'static str,
    },
    /// Images of a size other than 28x28.
    #[error("{file}: images are {rows}x{cols}, expected 28x28")]
    BadImageSize {
        file: String,
        rows: usize,
        cols: usize,
    },
    /// A label outside 0..=9.
    #[error("{file}: label {label} at index {index} is not a digit class 0-9")]
    BadLabel {
        file: String,
        index: usize,
        label: u8,
    },
    /// The images file and the labels file hold different numbers of items.
    #[error("{images} holds {image_count} images but {labels} holds {label_count} labels")]
    CountMismatch {
        images: String,
        image_count: usize,
        labels: String,
        label_count: usize,
    },
}

/// Decompresses `bytes` if they are a gzip stream, else returns them as they are.
fn maybe_gunzip<'a>(bytes: &'a [u8], file: &str) -> Result<std::borrow::Cow<'a, [u8]>, IdxError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED)
        .read_to_end(&mut out)
        .map_err(|e| IdxError::Gzip {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
    Ok(std::borrow::Cow::Owned(out))
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks the header of an IDX file and returns its dimensions and the data that follows.
fn parse_header<'a>(
    bytes: &'a [u8],
    file: &str,
    expected_magic: u32,
    kind: &'static str,
) -> Result<(Vec<usize>, &'a [u8]), IdxError> {
    if bytes.len() < 4 {
        return Err(IdxError::Truncated {
            file: file.to_string(),
            what: "the magic number",
            needed: 4,
            found: bytes.len(),
        });
    }
    let magic = read_u32(bytes, 0);
    if magic != expected_magic {
        return Err(IdxError::BadMagic {
            file: file.to_string(),
            found: magic,
            expected: expected_magic,
            kind,
        });
    }
    let rank = (expected_magic & 0xff) as usize;
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(IdxError::Truncated {
            file: file.to_string(),
            what: "the header",
            needed: header_len,
            found: bytes.len(),
        });
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| read_u32(bytes, 4 + 4 * i) as usize)
        .collect();
    let declared = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .unwrap_or(usize::MAX);
    let data = &bytes[header_len..];
    if data.len() < declared {
        return Err(IdxError::Truncated {
            file: file.to_string(),
            what: "the data its header declares",
            needed: declared.saturating_add(header_len),
            found: bytes.len(),
        });
    }
    if data.len() > declared {
        return Err(IdxError::TrailingBytes {
            file: file.to_string(),
            declared,
            extra: data.len() - declared,
        });
    }
    Ok((dims, data))
}

/// Parses an IDX images file (28x28 unsigned bytes), gzipped or not; returns the pixels of
/// all images, one after the other, row-major, 784 bytes each.
pub fn parse_images(bytes: &[u8], file: &str) -> Result<Vec<u8>, IdxError> {
    let bytes = maybe_gunzip(bytes, file)?;
    let (dims, data) = parse_header(&bytes, file, IMAGES_MAGIC, "images: unsigned bytes, rank 3")?;
    let (rows, cols) = (dims[1], dims[2]);
    if rows != SIDE || cols != SIDE {
        return Err(IdxError::BadImageSize {
            file: file.to_string(),
            rows,
            cols,
        });
    }
    Ok(data.to_vec())
}

/// Parses an IDX labels file (unsigned bytes, each a class 0-9), gzipped or not.
pub fn parse_labels(bytes: &[u8], file: &str) -> Result<Vec<u8>, IdxError> {
    let bytes = maybe_gunzip(bytes, file)?;
    let (_, data) = parse_header(&bytes, file, LABELS_MAGIC, "labels: unsigned bytes, rank 1")?;
    if let Some((index, &label)) = data.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(IdxError::BadLabel {
            file: file.to_string(),
            index,
            label,
        });
    }
    Ok(data.to_vec())
}

/// A set of labelled 28x28 images: MNIST's training or test split, or a part of one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabeledImages {
    /// Pixels, 784 per image, row-major, 0 = background, 255 = full ink.
    pub pixels: Vec<u8>,
    /// One class 0-9 per image.
    pub labels: Vec<u8>,
}

impl LabeledImages {
    /// Parses a pair of IDX files and checks that they describe the same number of items.
    pub fn from_idx(
        images: &[u8],
        images_name: &str,
        labels: &[u8],
        labels_name: &str,
    ) -> Result<Self, IdxError> {
        let pixels = parse_images(images, images_name)?;
        let labels_vec = parse_labels(labels, labels_name)?;
        let image_count = pixels.len() / PIXELS;
        if image_count != labels_vec.len() {
            return Err(IdxError::CountMismatch {
                images: images_name.to_string(),
                image_count,
                labels: labels_name.to_string(),
                label_count: labels_vec.len(),
            });
        }
        Ok(Self {
            pixels,
            labels: labels_vec,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `index` (784 bytes).
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * PIXELS..(index + 1) * PIXELS]
    }

    /// Image `index` as the model sees it.
    pub fn digit(&self, index: usize) -> DigitImage {
        let mut bytes = [0u8; PIXELS];
        bytes.copy_from_slice(self.image(index));
        DigitImage::from_bytes(&bytes)
    }

    /// The images at `indices`, in that order, as a new set.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * PIXELS);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Self { pixels, labels }
    }

    /// Serializes the images as an uncompressed IDX images file (for fixtures).
    pub fn images_to_idx(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.pixels.len());
        out.extend_from_slice(&IMAGES_MAGIC.to_be_bytes());
        for d in [self.len(), SIDE, SIDE] {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.pixels);
        out
    }

    /// Serializes the labels as an uncompressed IDX labels file (for fixtures).
    pub fn labels_to_idx(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.labels.len());
        out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        out.extend_from_slice(&(self.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.labels);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> LabeledImages {
        let mut pixels = vec![0u8; 3 * PIXELS];
        pixels[5] = 200;
        pixels[PIXELS + 7] = 17;
        LabeledImages {
            pixels,
            labels: vec![3, 1, 4],
        }
    }

    #[test]
    fn round_trips_through_idx() {
        let set = tiny();
        let back = LabeledImages::from_idx(&set.images_to_idx(), "i", &set.labels_to_idx(), "l")
            .expect("valid files");
        assert_eq!(back, set);
    }

    #[test]
    fn reads_gzipped_files() {
        use std::io::Write;
        let set = tiny();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&set.images_to_idx()).unwrap();
        let images = gz.finish().unwrap();
        assert_eq!(parse_images(&images, "x.gz").unwrap(), set.pixels);
    }

    #[test]
    fn truncated_header_is_an_error() {
        let err = parse_images(&[0, 0, 8, 3, 0], "short").unwrap_err();
        assert!(matches!(err, IdxError::Truncated { .. }), "{err}");
        assert!(err.to_string().starts_with("short:"));
    }

    #[test]
    fn truncated_data_is_an_error() {
        let bytes = tiny().images_to_idx();
        let err = parse_images(&bytes[..bytes.len() - 1], "cut").unwrap_err();
        assert!(matches!(err, IdxError::Truncated { .. }), "{err}");
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = tiny().labels_to_idx();
        bytes.push(1);
        let err = parse_labels(&bytes, "long").unwrap_err();
        assert!(
            matches!(err, IdxError::TrailingBytes { extra: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn labels_file_given_as_images_is_a_magic_error() {
        let err = parse_images(&tiny().labels_to_idx(), "swapped").unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::BadMagic {
                    found: 0x801,
                    expected: 0x803,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn wrong_image_size_is_an_error() {
        let mut bytes = tiny().images_to_idx();
        bytes[8..12].copy_from_slice(&14u32.to_be_bytes());
        bytes[12..16].copy_from_slice(&56u32.to_be_bytes());
        let err = parse_images(&bytes, "odd").unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::BadImageSize {
                    rows: 14,
                    cols: 56,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn huge_declared_dimensions_do_not_overflow() {
        let mut bytes = IMAGES_MAGIC.to_be_bytes().to_vec();
        for _ in 0..3 {
            bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        assert!(matches!(
            parse_images(&bytes, "huge").unwrap_err(),
            IdxError::Truncated { .. }
        ));
    }

    #[test]
    fn labels_outside_0_to_9_are_an_error() {
        let mut set = tiny();
        set.labels[2] = 10;
        let err = parse_labels(&set.labels_to_idx(), "lab").unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::BadLabel {
                    index: 2,
                    label: 10,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn count_mismatch_is_an_error() {
        let set = tiny();
        let fewer = LabeledImages {
            pixels: vec![],
            labels: vec![1, 2],
        };
        let err = LabeledImages::from_idx(&set.images_to_idx(), "i", &fewer.labels_to_idx(), "l")
            .unwrap_err();
        assert!(matches!(
            err,
            IdxError::CountMismatch {
                image_count: 3,
                label_count: 2,
                ..
            }
        ));
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let err = parse_labels(&[0x1f, 0x8b, 8, 0, 1, 2, 3], "bad.gz").unwrap_err();
        assert!(matches!(err, IdxError::Gzip { .. }), "{err}");
    }
}
