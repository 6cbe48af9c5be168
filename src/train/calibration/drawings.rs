//! Drawings the trainer reports the rules on: the repository's non-digit and digit drawings
//! (paths relative to the repository root).

use super::*;

/// Where the drawings the trainer reports on live in this repository (relative to its root):
/// drawings that are not digits (the committed rejection test set), and digit drawings (the
/// pad's fixtures, and digits made by the same generator as the non-digits).
pub const NON_DIGIT_DRAWINGS: &str = "tests/fixtures/nondigits";

/// See [`NON_DIGIT_DRAWINGS`].
pub const DIGIT_DRAWINGS: [&str; 2] = ["tests/fixtures/strokes", "tests/fixtures/digit-drawings"];

/// Drawings to measure rejection on, already rendered: names and images.
pub struct Drawings {
    /// What the set is, for the report.
    pub name: String,
    /// One image per drawing.
    pub images: Vec<DigitImage>,
    /// The digit each drawing shows, when the drawings are digits.
    pub labels: Option<Vec<u8>>,
}

/// Reads every `.strokes` file in `dir` (sorted by name) as one drawing. With `labelled`, each
/// file's name must end in the digit it shows (`digit-7.strokes`, `corner-4.strokes`).
pub fn load_drawings(dir: &Path, labelled: bool) -> Result<Drawings> {
    let paths = stroke_files(dir, "drawings")?;
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for path in &paths {
        let image = read_drawing(path)?;
        if labelled {
            let digit = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.chars().last())
                .and_then(|c| c.to_digit(10))
                .with_context(|| {
                    format!(
                        "{}: the name of a digit drawing must end in its digit",
                        path.display()
                    )
                })?;
            labels.push(digit as u8);
        }
        images.push(image);
    }
    if images.is_empty() {
        bail!("{}: no .strokes files", dir.display());
    }
    Ok(Drawings {
        name: if labelled {
            format!("digit drawings ({})", dir.display())
        } else {
            format!("non-digits ({})", dir.display())
        },
        images,
        labels: labelled.then_some(labels),
    })
}

/// The drawings the trainer reports on, from the repository's fixtures when it runs from the
/// repository's root; none otherwise (the report then covers MNIST only).
pub fn repository_drawings() -> Result<Vec<Drawings>> {
    let mut sets = Vec::new();
    let digits = DIGIT_DRAWINGS.iter().map(|&d| (d, true));
    for (dir, labelled) in std::iter::once((NON_DIGIT_DRAWINGS, false)).chain(digits) {
        if Path::new(dir).is_dir() {
            sets.push(load_drawings(Path::new(dir), labelled)?);
        }
    }
    Ok(sets)
}
