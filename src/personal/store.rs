//! The person's examples as text (what `localStorage` and export files hold), and how many
//! are kept.

use super::*;

/// First line of the stored (and exported) examples: names the format and its version.
pub const STORE_HEADER: &str = "digitpad personal examples 1";

/// The most examples kept of one digit: the most recent ones (300 in all at most). A person
/// who corrects one digit thirty times has shown every way they write it; more would only
/// slow each reading and the page's start, and outgrow the browser's storage (an example
/// takes about 1.6 kB stored, as text).
pub const MAX_PER_DIGIT: usize = 30;

/// `examples` (oldest first) cut to the most recent [`MAX_PER_DIGIT`] of each digit, in their
/// order; with how many older ones were left out.
pub fn within_limits(examples: Vec<Example>) -> (Vec<Example>, usize) {
    let mut counts = [0usize; CLASSES];
    examples
        .iter()
        .for_each(|e| counts[usize::from(e.label).min(CLASSES - 1)] += 1);
    let mut skip: Vec<usize> = counts
        .iter()
        .map(|&n| n.saturating_sub(MAX_PER_DIGIT))
        .collect();
    let total = examples.len();
    let kept: Vec<Example> = examples
        .into_iter()
        .filter(|e| {
            let d = usize::from(e.label).min(CLASSES - 1);
            if skip[d] > 0 {
                skip[d] -= 1;
                false
            } else {
                true
            }
        })
        .collect();
    let dropped = total - kept.len();
    (kept, dropped)
}

/// One correction: what the person drew, and what it was.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The digit it shows.
    pub label: u8,
    /// The model's input for it.
    pub image: DigitImage,
}

/// Stored examples could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("personal examples, line {line}: {reason}")]
pub struct StoreError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong and what was expected.
    pub reason: String,
}

/// The examples as text: [`STORE_HEADER`], then one line per example, `<digit> <784 pixels as
/// two hex digits each>`.
pub fn to_text(examples: &[Example]) -> String {
    let mut out = String::with_capacity(examples.len() * (PIXELS * 2 + 3) + 40);
    out.push_str(STORE_HEADER);
    out.push('\n');
    for e in examples {
        out.push(char::from(b'0' + e.label));
        out.push(' ');
        for b in e.image.to_bytes() {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        out.push('\n');
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Reads what [`to_text`] writes.
pub fn from_text(text: &str) -> Result<Vec<Example>, StoreError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == STORE_HEADER => {}
        _ => {
            return Err(StoreError {
                line: 1,
                reason: format!("expected the header `{STORE_HEADER}`"),
            })
        }
    }
    let mut examples = Vec::new();
    for (index, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: String| StoreError {
            line: index + 1,
            reason,
        };
        let (label, hex) = line
            .split_once(' ')
            .ok_or_else(|| bad("expected `<digit> <pixels>`".into()))?;
        let label = match label.as_bytes() {
            [d @ b'0'..=b'9'] => d - b'0',
            _ => return Err(bad(format!("expected a digit 0-9, found `{label}`"))),
        };
        if hex.len() != PIXELS * 2 {
            return Err(bad(format!(
                "expected {} hex digits of pixels, found {}",
                PIXELS * 2,
                hex.len()
            )));
        }
        let mut bytes = [0u8; PIXELS];
        for (b, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let nibble = |c: u8| HEX.iter().position(|&h| h == c.to_ascii_lowercase());
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => *b = (hi * 16 + lo) as u8,
                _ => return Err(bad("pixels must be hex digits".into())),
            }
        }
        examples.push(Example {
            label,
            image: DigitImage::from_bytes(&bytes),
        });
    }
    Ok(examples)
}
