//! `digitpad bench`: native inference and number-reading timings, as JSON.

use super::*;

#[derive(Args, Debug)]
pub(super) struct BenchArgs {
    /// The ONNX model.
    model: PathBuf,
    /// Timed runs (after 20 warm-up runs).
    #[arg(long, default_value_t = 1000)]
    runs: usize,
    /// Also time reading this written number (`.strokes`): grouping plus classifying every
    /// candidate digit, one image at a time as the page does, from scratch each run.
    #[arg(long, value_name = "FILE")]
    number: Option<PathBuf>,
}

pub(super) fn bench(args: BenchArgs) -> Result<()> {
    let bytes = read_model(&args.model)?;
    let load_start = Instant::now();
    let classifier = Classifier::from_onnx(&bytes, 1)?;
    let load_ms = load_start.elapsed().as_secs_f64() * 1e3;
    let image = DigitImage::default();
    for _ in 0..20 {
        classifier.classify(&image)?;
    }
    let mut times: Vec<f64> = (0..args.runs.max(1))
        .map(|_| {
            let start = Instant::now();
            let _ = classifier.classify(&image);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let mut report = serde_json::json!({
        "model": args.model.display().to_string(),
        "runs": times.len(),
        "load_and_optimize_ms": load_ms,
        "p50_ms": pick(0.5),
        "p95_ms": pick(0.95),
        "min_ms": times[0],
    });
    if let Some(path) = &args.number {
        let strokes = crate::files::read_stroke_file(path)?;
        let read =
            || crate::number::read_strokes(&strokes, |images| classifier.classify_batch(images));
        let digits = read()?;
        let candidates = crate::number::prepare_strokes(&strokes)
            .stroke_indices
            .len();
        let runs = 20;
        let start = Instant::now();
        for _ in 0..runs {
            read()?;
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
        // Finding the candidates alone (boxes, contacts between strokes): what every frame
        // pays before the page's caches answer.
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(crate::number::prepare_strokes(&strokes));
        }
        let grouping_ms = start.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
        report["number"] = serde_json::json!({
            "grouping_ms": grouping_ms,
            "file": path.display().to_string(),
            "read": crate::number::as_text(&digits),
            "strokes": strokes.len(),
            "candidates": candidates,
            "ms_per_reading": ms,
            "digits_per_second": digits.len() as f64 / (ms / 1e3),
        });
    }
    println!("{report}");
    Ok(())
}
