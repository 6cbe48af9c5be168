//! The real `digitpad` binary, as a user runs it.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn digitpad() -> Command {
    Command::new(env!("CARGO_BIN_EXE_digitpad"))
}

/// Fails the test with the command's stderr when it did not succeed.
fn assert_succeeded(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `digitpad ARGS` run from the repository's root, as the docs write its commands.
fn in_repo(args: &[&str]) -> std::process::Output {
    digitpad()
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// Runs `args` in the repository and checks that it fails with every one of `needles` in its
/// error output.
fn fails_naming(args: &[&str], needles: &[&str]) {
    let output = in_repo(args);
    assert!(!output.status.success(), "{args:?} succeeded");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(needles.iter().all(|n| error.contains(n)), "{error}");
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A data folder that looks like MNIST but holds the 500-image fixture as both splits
/// (removed when the returned guard drops).
fn fixture_data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for split in ["train", "t10k"] {
        std::fs::write(
            dir.path().join(format!("{split}-images-idx3-ubyte.gz")),
            common::MNIST_IMAGES,
        )
        .unwrap();
        std::fs::write(
            dir.path().join(format!("{split}-labels-idx1-ubyte.gz")),
            common::MNIST_LABELS,
        )
        .unwrap();
    }
    dir
}

#[test]
fn adapt_eval_reports_each_writer_and_the_targets() {
    let output = in_repo(&["adapt-eval", "--k", "1,3"]);
    assert_succeeded(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("(the page's)") && text.contains("targets met"),
        "{text}"
    );
    assert!(text.contains("| w07 |") && text.contains("k=3"), "{text}");
    assert!(text.contains("one wrong correction"), "{text}");
    // Every window of 10, 20 and 30 drawings, with what the corrections fixed and broke.
    for window in [10, 20, 30] {
        assert!(
            text.contains(&format!("Every window of {window}:")),
            "{text}"
        );
    }
    assert!(text.contains("fixed") && text.contains("broke"), "{text}");
    // What the corrections could reach: the generated writers repeat their hand, so every
    // drawing the model missed in the read halves is of a digit they corrected.
    let missed = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("the page: the model alone missed "))
        .expect("the page's misses are counted");
    let counts: Vec<usize> = missed
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(counts.len() >= 2 && counts[0] > 0, "{missed}");
    assert_eq!(counts[0], counts[1], "{missed}");
}

#[test]
fn predict_says_not_a_digit_for_a_scribble() {
    let output = digitpad()
        .arg("predict")
        .arg(repo("model/digitnet.onnx"))
        .arg(repo("tests/fixtures/nondigits/scribble-loops-1.strokes"))
        .arg("--json")
        .output()
        .unwrap();
    assert_succeeded(&output);
    let line = String::from_utf8_lossy(&output.stdout);
    let json: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(json["verdict"], "not-digit", "{line}");
    assert_eq!(
        json["features"].as_array().map(Vec::len),
        Some(common::shipped_feature_width()),
        "{line}"
    );
}

#[test]
fn the_command_line_is_well_formed_and_every_command_has_help() {
    use clap::CommandFactory;
    // clap's own consistency check (conflicting names, bad defaults, ...).
    digitpad::cli::Cli::command().debug_assert();
    // Every subcommand clap knows, not a list kept by hand.
    let names: Vec<String> = digitpad::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    for command in std::iter::once(Vec::new()).chain(names.iter().map(|n| vec![n.as_str()])) {
        let output = digitpad().args(&command).arg("--help").output().unwrap();
        assert!(output.status.success(), "{command:?} --help failed");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("Usage:"), "{command:?}: {text}");
    }
}

#[test]
fn predict_reads_stroke_files() {
    let output = digitpad()
        .arg("predict")
        .arg(repo("model/digitnet.onnx"))
        .arg(repo("tests/fixtures/strokes/digit-3.strokes"))
        .arg(repo("tests/fixtures/strokes/small-7.strokes"))
        .arg("--json")
        .output()
        .unwrap();
    assert_succeeded(&output);
    let digits: Vec<u64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["digit"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(digits, [3, 7]);
}

#[test]
fn predict_reads_images_of_any_size_and_polarity() {
    // A fixture digit drawn large, dark on light, off-centre, saved as PNG.
    let set = common::mnist_fixture();
    let digit = set.digit(0);
    let label = set.labels[0];
    let (w, h) = (200u32, 160u32);
    let page = image::GrayImage::from_fn(w, h, |x, y| {
        let (cx, cy) = (
            x.checked_sub(20).map(|v| v / 4),
            y.checked_sub(10).map(|v| v / 4),
        );
        let ink = match (cx, cy) {
            (Some(cx), Some(cy)) if cx < 28 && cy < 28 => digit.get(cx as usize, cy as usize),
            _ => 0.0,
        };
        image::Luma([(240.0 - 220.0 * ink) as u8])
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("written-digit.png");
    page.save(&path).unwrap();
    let output = digitpad()
        .args(["predict", "--json"])
        .arg(repo("model/digitnet.onnx"))
        .arg(&path)
        .output()
        .unwrap();
    assert_succeeded(&output);
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["digit"].as_u64(), Some(u64::from(label)));
}

#[test]
fn predict_reports_unreadable_inputs_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-an-image.png");
    std::fs::write(&path, b"not an image").unwrap();
    let output = digitpad()
        .arg("predict")
        .arg(repo("model/digitnet.onnx"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn eval_reports_metrics_as_table_and_json() {
    let dir = fixture_data_dir();
    let json_path = dir.path().join("report.json");
    let output = digitpad()
        .arg("eval")
        .arg(repo("model/digitnet.onnx"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--json")
        .arg(&json_path)
        .output()
        .unwrap();
    assert_succeeded(&output);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("macro F1") && table.contains("confusion"),
        "{table}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(report["report"]["count"], 500);
    assert!(report["report"]["accuracy"].as_f64().unwrap() >= 0.99);
    assert_eq!(report["report"]["per_class"].as_array().unwrap().len(), 10);
}

#[test]
fn missing_data_says_which_flag_to_set() {
    let empty = tempfile::tempdir().unwrap();
    let output = digitpad()
        .arg("eval")
        .arg(repo("model/digitnet.onnx"))
        .arg("--data-dir")
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--data-dir") && stderr.contains("t10k-images-idx3-ubyte.gz"),
        "{stderr}"
    );
}

/// Every architecture's model file stays under 1 MB on either data set, whatever its rules'
/// metadata (the quick network's file once held 11 MB of them). One epoch on 300 fixture
/// images each; for Fashion-MNIST the fixture's images stand in for clothes (the size does
/// not depend on what the images show). Clothing models get a card about clothes.
#[test]
fn every_architecture_writes_a_model_file_under_one_megabyte_on_either_data_set() {
    let data = fixture_data_dir();
    for dataset in ["mnist", "fashion-mnist"] {
        for arch in ["digitnet", "clothnet", "quick", "keras", "mlp"] {
            let out = tempfile::tempdir().unwrap();
            let checkpoints = tempfile::tempdir().unwrap();
            let mut command = digitpad();
            command
                .args(["train", "--dataset", dataset, "--arch", arch])
                .args(["--epochs", "1", "--limit", "300", "--val-split", "0.4"])
                .arg("--data-dir")
                .arg(data.path())
                .arg("--out")
                .arg(out.path())
                .arg("--checkpoint-dir")
                .arg(checkpoints.path());
            if dataset == "mnist" {
                command.arg("--no-pen-data");
            }
            let output = command.output().unwrap();
            assert_succeeded(&output);
            let onnx: Vec<_> = std::fs::read_dir(out.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
                .collect();
            assert_eq!(onnx.len(), 1, "{dataset} {arch}: {onnx:?}");
            let bytes = std::fs::metadata(&onnx[0]).unwrap().len();
            eprintln!("{dataset} {arch}: {} ({bytes} bytes)", onnx[0].display());
            assert!(bytes < 1_000_000, "{dataset} {arch}: {bytes} bytes");
            // (A clothing model of the shipped digit network carries that network's name in
            // its file name; the command line is quoted as typed.)
            if dataset == "fashion-mnist" && arch != "digitnet" {
                let card = std::fs::read_to_string(out.path().join("README.md")).unwrap();
                let prose: String = card
                    .lines()
                    .filter(|l| !l.starts_with("- Command"))
                    .collect();
                assert!(
                    card.contains("T-shirt/top") && !prose.contains("digit"),
                    "{card}"
                );
            }
        }
    }
}

/// Writing styles and pen data are refused for clothes, with the flag named.
#[test]
fn digit_only_flags_are_refused_for_clothes() {
    let data = fixture_data_dir();
    let output = digitpad()
        .args([
            "train",
            "--dataset",
            "fashion-mnist",
            "--slashed-zero",
            "0.2",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--slashed-zero"), "{stderr}");
}

#[test]
fn tune_grouping_scores_the_committed_numbers_and_names_pen_data_without_tuning_writers() {
    let output = in_repo(&["tune-grouping", "tests/fixtures/numbers"]);
    assert_succeeded(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("current weights: ") && text.contains("/60 numbers read right"),
        "{text}"
    );
    // The committed pen fixture holds training writers only: nothing to compose numbers from.
    fails_naming(
        &["tune-grouping", "--pen-data", "tests/fixtures/pen"],
        &["tests/fixtures/pen", "no tuning writer"],
    );
    // Letters can only be weighed when there are letters.
    fails_naming(
        &[
            "tune-grouping",
            "tests/fixtures/numbers",
            "--letter-weight",
            "0.2",
        ],
        &["--pen-data"],
    );
}

#[test]
fn a_held_out_contributor_s_writers_are_simulated_as_validation_writers() {
    let output = in_repo(&[
        "adapt-eval",
        "--pen-data",
        "tests/fixtures/pen",
        "--hold-out",
        "ced",
        "--pen-role",
        "validation",
        "--k",
        "1",
        "--windows",
        "0",
    ]);
    assert_succeeded(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    // The committed sample's writers are all training writers; held out, ced's is not.
    assert!(text.contains("ced/AAAA9018"), "{text}");
    assert!(!text.contains("syn/bek-dig2"), "{text}");
    fails_naming(
        &[
            "adapt-eval",
            "--pen-data",
            "tests/fixtures/pen",
            "--hold-out",
            "cef",
        ],
        &["\"cef\"", "ced, imp"],
    );
    fails_naming(&["adapt-eval", "--hold-out", "ced"], &["--pen-data"]);
}

/// `calibrate --unsure-margin` fits the rules under another "not sure" margin and stores it
/// with them (on a copy of the shipped model, with the fixture's images and pen writing); a
/// margin that is no probability margin is refused before anything is read.
#[test]
fn calibrate_stores_the_unsure_margin_it_was_given() {
    let data = fixture_data_dir();
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("digitnet.onnx");
    std::fs::copy(repo("model/digitnet.onnx"), &model).unwrap();
    let output = digitpad()
        .arg("calibrate")
        .arg(&model)
        .arg("--data-dir")
        .arg(data.path())
        .arg("--pen-data")
        .arg(repo("tests/fixtures/pen"))
        .args(["--unsure-margin", "0.25"])
        .output()
        .unwrap();
    assert_succeeded(&output);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("calibration.json")).unwrap())
            .unwrap();
    assert_eq!(report["unsure_margin"].as_f64(), Some(0.25));
    fails_naming(
        &["calibrate", "--unsure-margin", "1.5"],
        &["--unsure-margin 1.5", "from 0 up to"],
    );
}
