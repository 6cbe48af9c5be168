//! `digitpad adapt-eval`: how the page's learning of a hand does on simulated writers (sessions and
//! k corrections per digit), beside the alternatives.

use super::*;

#[derive(Args, Debug)]
pub(super) struct AdaptEvalArgs {
    /// The ONNX model.
    #[arg(default_value = "model/digitnet.onnx")]
    model: PathBuf,
    /// Folder of writers: one folder per writer, drawings named `<n>-<digit>.strokes`.
    #[arg(long, value_name = "DIR", default_value = "tests/fixtures/writers")]
    writers: PathBuf,
    /// Simulate the real writers of this pen-data folder (UNIPEN JSON lines) instead.
    #[arg(long, value_name = "DIR")]
    pen_data: Option<PathBuf>,
    /// Which of the pen data's writers (docs/trainer.md, "The writer-disjoint split").
    #[arg(long, value_enum, default_value = "tuning")]
    pen_role: PenRole,
    /// Corrections per corrected digit to simulate.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5")]
    k: Vec<usize>,
    /// Which digits the person corrects.
    #[arg(long, value_enum, default_value = "misread-digits")]
    policy: AdaptPolicy,
    /// Also write every row as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(super) enum PenRole {
    /// Writers kept out of training for fitting the reading rules.
    Tuning,
    /// The validation contributors' writers.
    Validation,
    /// The training writers (the model learnt from their digits).
    Train,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(super) enum AdaptPolicy {
    /// The digits the model misreads at least once for the writer.
    MisreadDigits,
    /// Every digit.
    EveryDigit,
}

pub(super) fn adapt_eval(args: AdaptEvalArgs) -> Result<()> {
    use crate::personal::{Params, Votes};
    use crate::tuning::adaptation::{
        load_writers, simulate, simulate_sessions, summarize_sessions, table, target_failures,
        Adaptation, Policy,
    };
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 50)
        .with_context(|| format!("loading {}", args.model.display()))?;
    if classifier.trust().features.is_none() {
        bail!(
            "{} has no feature model (class centres): run `digitpad calibrate` on it first",
            args.model.display()
        );
    }
    let writers = match &args.pen_data {
        Some(dir) => {
            let role = match args.pen_role {
                PenRole::Tuning => Role::Tuning,
                PenRole::Validation => Role::Validation,
                PenRole::Train => Role::Train,
            };
            let pen = PenData::load(dir)?.with_role(role);
            crate::tuning::adaptation::pen_writers(&pen.digits, &classifier)?
        }
        None => load_writers(&args.writers, &classifier)?,
    };
    let policy = match args.policy {
        AdaptPolicy::MisreadDigits => Policy::MisreadDigits,
        AdaptPolicy::EveryDigit => Policy::EveryDigit,
    };
    let ks: Vec<usize> = args.k.clone();
    // The page's way, and others for comparison: the examples' votes (h², κ), the personal
    // head (λ), or both.
    let votes = |bandwidth, prior_weight| {
        Some(Votes {
            bandwidth,
            prior_weight,
        })
    };
    let others = [
        (votes(10.0, 0.2), None, true),
        (votes(10.0, 0.2), None, false),
        (votes(5.0, 0.2), None, true),
        (None, Some(0.003), true),
        (None, Some(0.01), false),
        (None, Some(0.03), true),
        (votes(10.0, 0.2), Some(0.01), true),
    ];
    let candidates =
        std::iter::once(Adaptation::PAGE).chain(others.map(|(votes, head_l2, variations)| {
            Adaptation {
                params: Params { votes, head_l2 },
                variations,
            }
        }));
    let name = |a: &Adaptation| {
        format!(
            "{}{}{}{}",
            match a.params.votes {
                Some(v) => format!("votes h² {} κ {}", v.bandwidth, v.prior_weight),
                None => "no votes".into(),
            },
            match a.params.head_l2 {
                Some(l2) => format!(", head λ {l2}"),
                None => String::new(),
            },
            if a.variations {
                ", with variations"
            } else {
                ", drawing only"
            },
            if *a == Adaptation::PAGE {
                " (the page's)"
            } else {
                ""
            },
        )
    };
    let sessions = (10, 30);
    println!(
        "Sessions: each writer's first half (at most {}) written, every miss corrected; their next drawings read (shown right). Hardest = the 8 writers read worst.",
        sessions.1
    );
    for adaptation in candidates.clone() {
        let rows = simulate_sessions(&classifier, &writers, sessions, adaptation);
        let s = summarize_sessions(&rows, 8);
        println!(
            "{}: {} writers {:.1}% -> {:.1}%; hardest {}: {:.1}% -> {:.1}% ({:.0}% of the gap closed); worst after: {} {:.1}% -> {:.1}%; read >= 98% before: {} writers, {:.1}% after, {} lost something",
            name(&adaptation),
            s.writers,
            100.0 * s.mean.0,
            100.0 * s.mean.1,
            s.hardest_count,
            100.0 * s.hardest.0,
            100.0 * s.hardest.1,
            100.0 * s.gap_closed,
            s.worst_after.0,
            100.0 * s.worst_after.1,
            100.0 * s.worst_after.2,
            s.well_read.0,
            100.0 * s.well_read.1,
            s.well_read.2,
        );
    }
    println!("\nk corrections per misread digit (classifier's digit):");
    for adaptation in candidates {
        let rows = simulate(&classifier, &writers, &ks, policy, adaptation);
        let failures = target_failures(&rows, 3);
        let hard: Vec<_> = rows.iter().filter(|r| r.k == 3 && r.before < 0.9).collect();
        let easy: Vec<_> = rows
            .iter()
            .filter(|r| r.k == 3 && r.before > 0.98)
            .collect();
        let mean = |v: &[&crate::tuning::adaptation::AdaptRow],
                    f: fn(&crate::tuning::adaptation::AdaptRow) -> f64| {
            v.iter().map(|r| f(r)).sum::<f64>() / v.len().max(1) as f64
        };
        println!(
            "{}: k=3, writers below 90%: {:.1}% -> {:.1}% ({} writers); above 98%: {:.1}% -> {:.1}% ({}); targets {}",
            name(&adaptation),
            100.0 * mean(&hard, |r| r.before),
            100.0 * mean(&hard, |r| r.after),
            hard.len(),
            100.0 * mean(&easy, |r| r.before),
            100.0 * mean(&easy, |r| r.after),
            easy.len(),
            if failures.is_empty() { "met".to_string() } else { format!("missed: {}", failures.join("; ")) }
        );
    }
    let rows = simulate(&classifier, &writers, &ks, policy, Adaptation::PAGE);
    println!("\n{}", table(&rows, &ks));
    let session_rows = simulate_sessions(&classifier, &writers, sessions, Adaptation::PAGE);
    let wrong =
        crate::tuning::adaptation::wrong_correction(&classifier, &writers, Adaptation::PAGE);
    let worst = wrong
        .iter()
        .map(|(_, before, after)| after - before)
        .fold(0.0f64, f64::min);
    let changes: Vec<String> = wrong
        .iter()
        .map(|(w, before, after)| format!("{w} {:+.1}", 100.0 * (after - before)))
        .collect();
    println!(
        "one wrong correction (a writer's 3 stored as an 8), change in accuracy on their other digits, points: {} (worst {:+.1})",
        changes.join(", "),
        100.0 * worst
    );
    if let Some(path) = &args.json {
        let json = serde_json::json!({ "k_per_digit": rows, "sessions": session_rows });
        write_atomically(path, &serde_json::to_vec_pretty(&json)?)?;
    }
    Ok(())
}
