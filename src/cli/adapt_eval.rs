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
    /// Count this pen-data contributor's writers as validation too, as a model trained with
    /// `digitpad train --hold-out CONTRIBUTOR` saw them: never (repeatable).
    #[arg(long, value_name = "CONTRIBUTOR", value_delimiter = ',')]
    hold_out: Vec<String>,
    /// Which of the pen data's writers (docs/trainer.md, "The writer-disjoint split").
    #[arg(long, value_enum, default_value = "tuning")]
    pen_role: PenRole,
    /// Corrections per corrected digit to simulate.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5")]
    k: Vec<usize>,
    /// Also simulate sessions over every window of this many drawings written and as many
    /// read (0: none).
    #[arg(long, value_delimiter = ',', default_value = "10,20,30")]
    windows: Vec<usize>,
    /// Which digits the person corrects.
    #[arg(long, value_enum, default_value = "misread-digits")]
    policy: AdaptPolicy,
    /// Also write every row of the page's way as JSON to this file (k per digit, sessions,
    /// and every window).
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
        load_writers, simulate, simulate_sessions, simulate_windows, summarize_sessions, table,
        target_failures, Adaptation, Policy,
    };
    let classifier = Classifier::from_onnx(&read_model(&args.model)?, 50)
        .with_context(|| format!("loading {}", args.model.display()))?;
    if classifier.trust().features.is_none() {
        bail!(
            "{} has no feature model (class centres): run `digitpad calibrate` on it first",
            args.model.display()
        );
    }
    if !args.hold_out.is_empty() && args.pen_data.is_none() {
        bail!("--hold-out names pen-data contributors: it needs --pen-data DIR");
    }
    let writers = match &args.pen_data {
        Some(dir) => {
            let role = match args.pen_role {
                PenRole::Tuning => Role::Tuning,
                PenRole::Validation => Role::Validation,
                PenRole::Train => Role::Train,
            };
            let pen = PenData::load(dir)?
                .holding_out(&args.hold_out)?
                .with_role(role);
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
    // head (λ) reaching everywhere or only near the examples (r²), vouching or not (v), both.
    let votes = |bandwidth, prior_weight| {
        Some(Votes {
            bandwidth,
            prior_weight,
        })
    };
    let head = |l2, reach, vouch| Params {
        votes: None,
        head_l2: Some(l2),
        head_reach: reach,
        vouch_within: vouch,
    };
    let others = [
        (head(0.01, None, None), true),
        (head(0.01, Some(80.0), None), true),
        (head(0.01, Some(40.0), Some(200.0)), true),
        (head(0.01, Some(160.0), Some(200.0)), true),
        (head(0.003, Some(80.0), Some(200.0)), true),
        (head(0.03, Some(80.0), Some(200.0)), true),
        (head(0.01, Some(80.0), Some(200.0)), false),
        (
            Params {
                votes: votes(10.0, 0.2),
                head_l2: None,
                head_reach: None,
                vouch_within: None,
            },
            true,
        ),
        (
            Params {
                votes: votes(10.0, 0.2),
                ..crate::personal::PARAMS
            },
            true,
        ),
    ];
    let candidates = std::iter::once(Adaptation::PAGE)
        .chain(others.map(|(params, variations)| Adaptation { params, variations }));
    let name = |a: &Adaptation| {
        format!(
            "{}{}{}{}{}",
            match a.params.votes {
                Some(v) => format!("votes h² {} κ {}", v.bandwidth, v.prior_weight),
                None => "no votes".into(),
            },
            match (a.params.head_l2, a.params.head_reach) {
                (Some(l2), Some(r2)) => format!(", head λ {l2} r² {r2}"),
                (Some(l2), None) => format!(", head λ {l2} everywhere"),
                (None, _) => String::new(),
            },
            match a.params.vouch_within {
                Some(v) => format!(", vouch d² {v}"),
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
    // The page's rows of each protocol, kept for the table and the JSON.
    let mut page_sessions = Vec::new();
    let mut page_windows = serde_json::Map::new();
    let mut page_k_rows = Vec::new();
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
        if adaptation == Adaptation::PAGE {
            println!(
                "  the page: the model alone missed {} of the drawings read; {} of them are of a digit the writer corrected while writing (a correction covers its own digit)",
                s.missed.0, s.missed.1
            );
            page_sessions = rows;
        }
    }
    for window in args.windows.iter().copied().filter(|&w| w > 0) {
        println!(
            "\nEvery window of {window}: each writer's drawings cut into sessions of {window} written (every miss corrected) and the next {window} read. Hardest = the 8 sessions read worst."
        );
        for adaptation in candidates.clone() {
            let rows = simulate_windows(&classifier, &writers, window, adaptation);
            let s = summarize_sessions(&rows, 8);
            println!(
                "{}: {} sessions {:.2}% -> {:.2}%; fixed {}, broke {}; hardest {}: {:.1}% -> {:.1}% ({:.0}% of the gap closed); sessions read >= 98% before: {}, {} lost something",
                name(&adaptation),
                s.writers,
                100.0 * s.mean.0,
                100.0 * s.mean.1,
                s.fixed_broken.0,
                s.fixed_broken.1,
                s.hardest_count,
                100.0 * s.hardest.0,
                100.0 * s.hardest.1,
                100.0 * s.gap_closed,
                s.well_read.0,
                s.well_read.2,
            );
            if adaptation == Adaptation::PAGE {
                page_windows.insert(window.to_string(), serde_json::to_value(rows)?);
            }
        }
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
        if adaptation == Adaptation::PAGE {
            page_k_rows = rows;
        }
    }
    println!("\n{}", table(&page_k_rows, &ks));
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
        // Every window's rows are keyed by the window's size.
        let json = serde_json::json!({
            "k_per_digit": page_k_rows,
            "sessions": page_sessions,
            "windows": page_windows,
        });
        write_atomically(path, &serde_json::to_vec_pretty(&json)?)?;
    }
    Ok(())
}
