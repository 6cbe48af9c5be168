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
    /// What one real letter of the tuning writers refused is worth against one number read
    /// right, in the search (0: letters are only counted). Needs --pen-data.
    #[arg(long, value_name = "W", default_value_t = 0.0)]
    letter_weight: f64,
    /// Random weight settings to try (0: only score the current weights).
    #[arg(long, default_value_t = 0)]
    tries: usize,
}

pub(super) fn tune_grouping(args: TuneGroupingArgs) -> Result<()> {
    use crate::tuning::number_tuning::{
        letters_refused, load_numbers, read_real_letters, score, search, Objective,
    };
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 32)?;
    let mut letters = Vec::new();
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
        letters = read_real_letters(&tuning.letters, &classifier)?;
    }
    if args.letter_weight > 0.0 && letters.is_empty() {
        bail!("--letter-weight weighs the tuning writers' real letters: name them with --pen-data DIR");
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
    let report_letters = |weights| {
        if !letters.is_empty() {
            let refused = letters_refused(&letters, weights);
            println!(
                "  real letters of the tuning writers refused: {refused}/{} ({:.1}%)",
                letters.len(),
                100.0 * refused as f64 / letters.len() as f64
            );
        }
    };
    report_letters(&crate::number::Weights::DEFAULT);
    for (name, reading) in &wrong {
        println!("  {name}: read {reading}");
    }
    if args.tries > 0 {
        let objective = Objective {
            letters: &letters,
            letter_weight: args.letter_weight,
        };
        let (weights, _) = search(&numbers, objective, args.tries, 1);
        let (right, wrong) = score(&numbers, &weights);
        println!(
            "best of {} tries: {right}/{} ({:.1}%) with {weights:?}",
            args.tries,
            numbers.len(),
            100.0 * right as f64 / numbers.len() as f64
        );
        report_letters(&weights);
        for (name, reading) in wrong {
            println!("  {name}: read {reading}");
        }
    }
    Ok(())
}
