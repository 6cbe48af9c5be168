//! `digitpad predict`: read image or stroke files as the page reads a drawing, as text or JSON.

use super::*;

#[derive(Args, Debug)]
pub(super) struct PredictArgs {
    /// The ONNX model.
    model: PathBuf,
    /// Images (PNG, JPEG) or stroke files (.strokes).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Print the 28x28 image the model saw.
    #[arg(long)]
    show: bool,
    /// Print one JSON object per input instead of text.
    #[arg(long)]
    json: bool,
}

/// An input file: a drawing (strokes) or a picture (grey levels).
enum Input {
    Strokes(Vec<crate::strokes::Stroke>),
    Picture {
        width: usize,
        height: usize,
        values: Vec<f32>,
    },
}

/// Reads an input file the way its kind asks.
fn load_input(path: &Path) -> Result<Input> {
    let is_strokes = path.extension().is_some_and(|e| e == "strokes");
    if is_strokes {
        return Ok(Input::Strokes(crate::files::read_stroke_file(path)?));
    }
    let img = image::ImageReader::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("reading {}", path.display()))?
        .decode()
        .with_context(|| {
            format!(
                "{}: not a PNG or JPEG image this build can decode",
                path.display()
            )
        })?;
    let gray = img.to_luma32f();
    let (width, height) = gray.dimensions();
    Ok(Input::Picture {
        width: width as usize,
        height: height as usize,
        values: gray.into_raw(),
    })
}

/// One digit read from an input, with where it is (pad units or pixels).
struct ReadOne {
    bounds: crate::strokes::Bounds,
    image: DigitImage,
    prediction: crate::Prediction,
}

/// Reads every digit of an input, left to right ([`crate::number`]).
fn read_input(classifier: &Classifier, input: &Input) -> Result<Vec<ReadOne>> {
    match input {
        Input::Strokes(strokes) => {
            let digits =
                crate::number::read_strokes(strokes, |images| classifier.classify_batch(images))?;
            if digits.is_empty() {
                bail!("the drawing has no ink");
            }
            Ok(digits
                .into_iter()
                .map(|d| ReadOne {
                    bounds: d.group.bounds,
                    image: d.image,
                    prediction: d.prediction,
                })
                .collect())
        }
        Input::Picture {
            width,
            height,
            values,
        } => {
            let gray = GrayImage {
                width: *width,
                height: *height,
                values,
            };
            Ok(crate::number::read_raster(gray, classifier)?
                .into_iter()
                .map(|d| ReadOne {
                    bounds: d.bounds,
                    image: d.image,
                    prediction: d.prediction,
                })
                .collect())
        }
    }
}

/// " - not sure" / " - not a digit" / nothing.
fn verdict_suffix(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Digit => "",
        Verdict::Unsure => " - not sure",
        Verdict::NotDigit => " - not a digit",
    }
}

pub(super) fn predict(args: PredictArgs) -> Result<()> {
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 8)
        .with_context(|| format!("loading {}", args.model.display()))?;
    let mut failures = 0;
    for path in &args.inputs {
        let read = load_input(path).and_then(|input| read_input(&classifier, &input));
        let digits = match read.with_context(|| format!("{}", path.display())) {
            Ok(digits) => digits,
            Err(e) => {
                eprintln!("error: {e:#}");
                failures += 1;
                continue;
            }
        };
        let number: String = digits
            .iter()
            .map(|d| crate::number::digit_char(&d.prediction))
            .collect();
        if args.json {
            let each: Vec<serde_json::Value> = digits
                .iter()
                .map(|d| {
                    let p = &d.prediction;
                    serde_json::json!({
                        "digit": p.digit(),
                        "confidence": p.confidence(),
                        "verdict": p.verdict.as_str(),
                        "box": [d.bounds.min_x, d.bounds.min_y, d.bounds.max_x, d.bounds.max_y],
                        "probabilities": p.probabilities,
                        "logits": p.logits,
                        "features": p.features,
                    })
                })
                .collect();
            let mut value = serde_json::json!({
                "input": path.display().to_string(),
                "number": number,
                "digits": each,
            });
            // One digit: its fields at the top level too, as before numbers were read.
            if let ([one], Some(object)) = (each.as_slice(), value.as_object_mut()) {
                if let Some(fields) = one.as_object() {
                    for (key, field) in fields {
                        if key != "box" {
                            object.insert(key.clone(), field.clone());
                        }
                    }
                }
            }
            println!("{value}");
        } else if let [one] = digits.as_slice() {
            let p = &one.prediction;
            let mut ranked: Vec<(usize, f32)> =
                p.probabilities.iter().copied().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let runners_up: Vec<String> = ranked[1..3]
                .iter()
                .map(|(d, p)| format!("{d} {:.1}%", 100.0 * p))
                .collect();
            println!(
                "{}: {} ({:.1}%; then {}){}",
                path.display(),
                p.digit(),
                100.0 * p.confidence(),
                runners_up.join(", "),
                verdict_suffix(p.verdict)
            );
        } else {
            let each: Vec<String> = digits
                .iter()
                .map(|d| {
                    let p = &d.prediction;
                    format!(
                        "{} {:.1}%{}",
                        p.digit(),
                        100.0 * p.confidence(),
                        verdict_suffix(p.verdict)
                    )
                })
                .collect();
            println!(
                "{}: number {number} ({} digits: {})",
                path.display(),
                digits.len(),
                each.join(", ")
            );
        }
        if args.show {
            for d in &digits {
                println!("{:?}", d.image);
            }
        }
    }
    if failures > 0 {
        bail!(
            "{failures} of {} inputs could not be read",
            args.inputs.len()
        );
    }
    Ok(())
}
