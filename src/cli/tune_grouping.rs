//! `digitpad tune-grouping`: fit the number reader's weights on written numbers.

use super::*;

#[derive(Args, Debug)]
pub(super) struct TuneGroupingArgs {
    /// Folder of `<nn>-<number>.strokes` files (none: numbers composed from real pen digits
    /// only, see --pen-data).
    dir: Option<PathBuf>,
    /// Also compose numbers from the real pen digits of the tuning writers in this folder
    /// (UNIPEN JSON lines; `--per-writer` numbers of 2-5 digits per writer).
    #[arg(long, value_name = "DIR")]
    pen_data: Option<PathBuf>,
    /// Numbers composed from each tuning writer's digits: more than the evaluation's 12 give
    /// the search more contexts for each digit (each is used in several numbers).
    #[arg(long, value_name = "N", default_value_t = run::NUMBERS_PER_WRITER)]
    per_writer: usize,
    /// The ONNX model.
    #[arg(long, default_value = "model/digitnet.onnx")]
    model: PathBuf,
    /// Random weight settings to try (0: only score the current weights).
    #[arg(long, default_value_t = 0)]
    tries: usize,
}

pub(super) fn tune_grouping(args: TuneGroupingArgs) -> Result<()> {
    use crate::tuning::number_tuning::{load_numbers, score, search};
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 32)?;
    let mut numbers = match &args.dir {
        Some(dir) => load_numbers(dir, &classifier)?,
        None => Vec::new(),
    };
    if let Some(dir) = &args.pen_data {
        let tuning = PenData::load(dir)?.with_role(Role::Tuning);
        let composed = crate::tuning::number_tuning::compose_real_numbers(
            &tuning.digits,
            args.per_writer,
            0x7E57,
            &classifier,
        )?;
        if composed.is_empty() && args.per_writer > 0 {
            bail!(
                "{}: no tuning writer has two digits to compose a number from (tuning writers: one in {} of the contributors other than {})",
                dir.display(),
                crate::train::pen_data::TUNING_ONE_IN,
                crate::train::pen_data::VALIDATION_CONTRIBUTORS.join(", ")
            );
        }
        numbers.extend(composed);
    }
    if numbers.is_empty() {
        bail!("nothing to tune on: name a folder of numbers, --pen-data DIR, or both");
    }
    let (right, wrong) = score(&numbers, &crate::number::Weights::DEFAULT);
    println!(
        "current weights: {right}/{} numbers read right ({:.1}%)",
        numbers.len(),
        100.0 * right as f64 / numbers.len() as f64
    );
    for (name, reading) in &wrong {
        println!("  {name}: read {reading}");
    }
    if args.tries > 0 {
        let (weights, right) = search(&numbers, args.tries, 1);
        println!(
            "best of {} tries: {right}/{} ({:.1}%) with {weights:?}",
            args.tries,
            numbers.len(),
            100.0 * right as f64 / numbers.len() as f64
        );
        for (name, reading) in score(&numbers, &weights).1 {
            println!("  {name}: read {reading}");
        }
    }
    Ok(())
}
