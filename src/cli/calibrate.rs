//! `digitpad calibrate`: fit a model file's calibration and trust rules again, and rewrite its folder.

use super::*;

#[derive(Args, Debug)]
pub(super) struct CalibrateArgs {
    /// The ONNX model, in its model folder.
    #[arg(default_value = "model/digitnet.onnx")]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Fraction of the training set held out for validation (its last part), as in training.
    #[arg(long, default_value_t = 0.1)]
    val_split: f64,
    /// Folders of drawings that are not digits to report rejection on [default: the
    /// repository's tests/fixtures/nondigits when present].
    #[arg(long, value_name = "DIR")]
    nondigits: Vec<PathBuf>,
    /// "Not sure" when the two best digits' probabilities are closer than this; the "not a
    /// digit" thresholds are fitted under it.
    #[arg(long, value_name = "P", default_value_t = crate::trust::DEFAULT_UNSURE_MARGIN)]
    unsure_margin: f32,
}

pub(super) fn calibrate(args: CalibrateArgs) -> Result<()> {
    use crate::train::calibration::{self, calibrate_model, load_drawings};
    if !(0.0..1.0).contains(&args.unsure_margin) {
        bail!(
            "--unsure-margin {} is not a probability margin: expected a number from 0 up to, not \
             including, 1",
            args.unsure_margin
        );
    }
    let bytes = read_model(&args.model)?;
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let all = data::load_split(args.data.dataset, &dir, Split::Train)?;
    let test = data::load_split(args.data.dataset, &dir, Split::Test)?;
    let (_, validation) = data::split_validation(&all, args.val_split);
    if validation.is_empty() {
        bail!("--val-split {} leaves no validation images", args.val_split);
    }
    let drawings = if args.nondigits.is_empty() {
        calibration::repository_drawings()?
    } else {
        let mut sets = args
            .nondigits
            .iter()
            .map(|d| load_drawings(d, false))
            .collect::<Result<Vec<_>>>()?;
        for dir in calibration::DIGIT_DRAWINGS.map(Path::new) {
            if dir.is_dir() {
                sets.push(load_drawings(dir, true)?);
            }
        }
        sets
    };
    let pen = match pen_data::locate(args.pen.pen_data.as_deref()) {
        Some(dir) => Some(PenData::load(&dir)?.holding_out(&args.pen.hold_out)?),
        None => None,
    };
    let tuning = pen.as_ref().map(|p| {
        let t = p.with_role(Role::Tuning);
        (
            run::render_samples(&t.digits),
            run::render_samples(&t.letters),
        )
    });
    let real = tuning
        .as_ref()
        .map(|(digits, letters)| calibration::RealWriting { digits, letters });
    let mut drawings = drawings;
    if let Some(pen) = &pen {
        drawings.extend(run::validation_drawings(pen));
    }
    let (calibrated, mut report) = calibrate_model(
        &bytes,
        &validation,
        real,
        &test,
        &drawings,
        args.unsure_margin,
    )
    .with_context(|| format!("calibrating {}", args.model.display()))?;
    let out = args.model.parent().unwrap_or(Path::new("."));
    if report.weights.converted == 0 {
        // The weights were float16 already: what the conversion changed was measured when it
        // was made, and the model folder's calibration.json still says it.
        let earlier: Option<crate::train::calibration::TrustReport> =
            read_json(&out.join("calibration.json"), "a calibration report").ok();
        if let Some(earlier) = earlier.filter(|e| e.weights.converted > 0) {
            report.weights = earlier.weights;
        }
    }
    println!("{}", report.to_table());
    let name = args
        .model
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut eval, _) = evaluate_onnx(&calibrated, &name, args.data.dataset, &test, None)?;
    if let Some(pen) = &pen {
        eval.pen = Some(run::validation_pen_report(&calibrated, pen)?);
    }
    write_atomically(&args.model, &calibrated)?;
    write_atomically(
        &out.join("metrics.json"),
        &serde_json::to_vec_pretty(&eval)?,
    )?;
    run::write_trust_files(out, &report)?;
    let card_path = out.join(crate::train::card_page::CARD_FILE);
    if let Ok(card) = std::fs::read_to_string(&card_path) {
        let card = crate::train::card::refresh_card(&card, &eval, &report);
        crate::train::card_page::write_card(out, &card)?;
    }
    eprintln!(
        "wrote {} ({} bytes, sha256 {}), metrics.json, calibration.json, reliability.svg and the card in {}",
        args.model.display(),
        calibrated.len(),
        eval.sha256,
        out.display()
    );
    Ok(())
}
