//! The trust rules in a model file's metadata: reading and writing them, with a quick
//! parser for the ~1,700 decimal numbers a file holds.

use super::*;

/// A model file's trust metadata is malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("model metadata `{key}`: {reason}")]
pub struct TrustError {
    /// The metadata key.
    pub key: &'static str,
    /// What was wrong and what was expected.
    pub reason: String,
}

fn number(key: &'static str, text: &str) -> Result<f32, TrustError> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| TrustError {
            key,
            reason: format!("expected a finite number, found `{text}`"),
        })
}

fn numbers(key: &'static str, text: &str, count: usize) -> Result<Vec<f32>, TrustError> {
    let mut values = Vec::with_capacity(count);
    for word in text.split_ascii_whitespace() {
        match quick_decimal(word) {
            Some(v) => values.push(v),
            None => values.push(number(key, word)?),
        }
    }
    if values.len() != count {
        return Err(TrustError {
            key,
            reason: format!("expected {count} numbers, found {}", values.len()),
        });
    }
    Ok(values)
}

/// Parses the short decimals this module writes (`-1.234e-5`: at most 9 significant digits,
/// a small exponent) without the general parser, which is slow the first time it runs in
/// the page (the model's rules hold about 1,700 numbers, read once per page load). Computed
/// in f64 and rounded once to f32; a test checks it against `str::parse` on a million values.
/// `None` for anything else, which the general parser then reads.
pub(super) fn quick_decimal(text: &str) -> Option<f32> {
    const POWERS: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let bytes = text.as_bytes();
    let negative = bytes.first() == Some(&b'-');
    let mut i = usize::from(negative);
    let (mut mantissa, mut digits, mut fraction) = (0u64, 0u32, 0i32);
    let mut seen_point = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
                fraction += i32::from(seen_point);
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 || digits > 9 {
        return None;
    }
    let mut exponent = 0i32;
    if i < bytes.len() {
        if bytes[i] != b'e' && bytes[i] != b'E' {
            return None;
        }
        i += 1;
        let negative_exponent = bytes.get(i) == Some(&b'-');
        i += usize::from(negative_exponent);
        let start = i;
        while let Some(&b) = bytes.get(i).filter(|b| b.is_ascii_digit() && i - start < 3) {
            exponent = exponent * 10 + i32::from(b - b'0');
            i += 1;
        }
        if i == start || i != bytes.len() {
            return None;
        }
        if negative_exponent {
            exponent = -exponent;
        }
    }
    let scale = exponent - fraction;
    let power = *POWERS.get(usize::try_from(scale.unsigned_abs()).ok()?)?;
    let value = if scale >= 0 {
        mantissa as f64 * power
    } else {
        mantissa as f64 / power
    } as f32;
    Some(if negative { -value } else { value })
}

/// Numbers as metadata text: shortest round-trip form in exponent notation, space-separated.
fn numbers_text(values: &[f32]) -> String {
    values
        .iter()
        .map(|v| format!("{v:e}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Trust {
    /// Reads the rules from a model's metadata (`get` looks a key up); a model without them
    /// gets [`Trust::default`]. `feature_width` is the width of the model's `features`
    /// output (0 when it has none).
    pub fn from_metadata<'a>(
        get: impl Fn(&str) -> Option<&'a str>,
        feature_width: usize,
    ) -> Result<Self, TrustError> {
        let mut trust = Trust::default();
        if let Some(t) = get(TEMPERATURE_KEY) {
            trust.temperature = number(TEMPERATURE_KEY, t)?;
            if trust.temperature <= 0.0 {
                return Err(TrustError {
                    key: TEMPERATURE_KEY,
                    reason: format!("expected a positive number, found `{t}`"),
                });
            }
        }
        if let Some(m) = get(UNSURE_MARGIN_KEY) {
            trust.unsure_margin = number(UNSURE_MARGIN_KEY, m)?;
        }
        if let (Some(centres), Some(precision)) =
            (get(CLASS_CENTRES_KEY), get(FEATURE_PRECISION_KEY))
        {
            let width = feature_width;
            if width == 0 {
                return Err(TrustError {
                    key: CLASS_CENTRES_KEY,
                    reason: "the model has no `features` output to measure distances in".into(),
                });
            }
            trust.features = Some(FeatureModel::new(
                width,
                numbers(CLASS_CENTRES_KEY, centres, CLASSES * width)?,
                numbers(FEATURE_PRECISION_KEY, precision, triangle_len(width))?,
            ));
        }
        if let Some(rule) = get(NOT_DIGIT_KEY) {
            let bad = |reason: String| TrustError {
                key: NOT_DIGIT_KEY,
                reason,
            };
            let words: Vec<&str> = rule.split_whitespace().collect();
            if words.is_empty() || !words.len().is_multiple_of(2) {
                return Err(bad(format!(
                    "expected `<method> <threshold>` pairs, found `{rule}`"
                )));
            }
            for pair in words.chunks(2) {
                let method = Method::from_name(pair[0]).ok_or_else(|| {
                    let names: Vec<_> = Method::ALL.iter().map(|m| m.name()).collect();
                    bad(format!(
                        "unknown method `{}` (expected one of {names:?})",
                        pair[0]
                    ))
                })?;
                if method == Method::ClassDistance && trust.features.is_none() {
                    return Err(bad(format!(
                        "`{}` needs `{CLASS_CENTRES_KEY}` and `{FEATURE_PRECISION_KEY}`",
                        pair[0]
                    )));
                }
                trust
                    .not_digit
                    .push((method, number(NOT_DIGIT_KEY, pair[1])?));
            }
        }
        Ok(trust)
    }

    /// The rules as metadata entries, the inverse of [`Trust::from_metadata`].
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (TEMPERATURE_KEY.into(), self.temperature.to_string()),
            (UNSURE_MARGIN_KEY.into(), self.unsure_margin.to_string()),
        ];
        if let Some(features) = &self.features {
            out.push((CLASS_CENTRES_KEY.into(), numbers_text(features.centres())));
            out.push((
                FEATURE_PRECISION_KEY.into(),
                numbers_text(features.factor()),
            ));
        }
        if !self.not_digit.is_empty() {
            let rules: Vec<String> = self
                .not_digit
                .iter()
                .map(|(method, threshold)| format!("{} {threshold}", method.name()))
                .collect();
            out.push((NOT_DIGIT_KEY.into(), rules.join(" ")));
        }
        out
    }
}
