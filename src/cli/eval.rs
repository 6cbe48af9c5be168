//! `digitpad eval`: a model file's metrics on the test set (and, for digit models, on real pen
//! writing when found).

use super::*;

#[derive(Args, Debug)]
pub(super) struct EvalArgs {
    /// The ONNX model.
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Also write the report as JSON to this file ("-" for stdout only).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Evaluate on only the first N test images.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Also write the predicted digit of each test image to this file, one per line (to
    /// compare with another runtime, e.g. tests/onnxruntime_check.py).
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
    /// Read this folder of writing-style drawings (`<style>-<nn>-<digit>.strokes`) instead of
    /// the repository's style test set: e.g. a validation set made by
    /// `tests/fixtures/styles/make_styles.py --seed 2 --out DIR`, to choose style rates on.
    #[arg(long, value_name = "DIR")]
    styles: Option<PathBuf>,
}

pub(super) fn eval(args: EvalArgs) -> Result<()> {
    let bytes = read_model(&args.model)?;
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let mut test = data::load_split(args.data.dataset, &dir, Split::Test)?;
    if let Some(limit) = args.limit {
        let keep: Vec<usize> = (0..limit.min(test.len())).collect();
        test = test.select(&keep);
    }
    let name = args
        .model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let start = Instant::now();
    let (mut eval, predictions) = evaluate_onnx(
        &bytes,
        &name,
        args.data.dataset,
        &test,
        args.styles.as_deref(),
    )
    .with_context(|| format!("evaluating {}", args.model.display()))?;
    eval.test_set = Some(data::test_set_label(args.data.dataset, &dir));
    // Real pen writing is digits: only a digit model is read on it.
    let pen_dir = if args.data.dataset.is_digits() {
        pen_data::locate(args.pen.pen_data.as_deref())
    } else {
        None
    };
    if let Some(dir) = pen_dir {
        let pen = PenData::load(&dir)?.holding_out(&args.pen.hold_out)?;
        eval.pen = Some(run::validation_pen_report(&bytes, &pen)?);
    }
    eprintln!(
        "{} on {} {} test images in {:.2} s",
        args.model.display(),
        test.len(),
        args.data.dataset.name(),
        start.elapsed().as_secs_f64()
    );
    println!("{}", eval.report.to_table());
    if let Some(styles) = &eval.styles {
        println!("{}", styles.to_table());
    }
    let json = serde_json::to_string_pretty(&eval)?;
    match args.json.as_deref() {
        Some(p) if p == Path::new("-") => println!("{json}"),
        Some(p) => write_atomically(p, json.as_bytes())?,
        None => {}
    }
    if let Some(path) = &args.predictions {
        let lines: String = predictions.iter().map(|d| format!("{d}\n")).collect();
        write_atomically(path, lines.as_bytes())?;
    }
    Ok(())
}
