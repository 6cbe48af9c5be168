//! The committed model: loads under tract, is accurate on committed MNIST images, reads the
//! committed drawings, and matches the predictions the browser test compares against.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{mnist_fixture, strokes, MODEL, NATIVE_PREDICTIONS, STROKE_FIXTURES};
use digitpad::preprocess::strokes_to_digit;
use digitpad::Classifier;

#[test]
fn shipped_model_is_at_least_99_percent_accurate_on_the_fixture() {
    let set = mnist_fixture();
    assert!(set.len() >= 500);
    let classifier = Classifier::from_onnx(MODEL, 50).expect("shipped model loads under tract");
    let digits: Vec<_> = (0..set.len()).map(|i| set.digit(i)).collect();
    let predictions = classifier.classify_batch(&digits).unwrap();
    let correct = predictions
        .iter()
        .zip(&set.labels)
        .filter(|(p, &l)| p.digit() == usize::from(l))
        .count();
    let accuracy = correct as f64 / set.len() as f64;
    eprintln!(
        "shipped model: {correct}/{} = {accuracy:.4} on the fixture",
        set.len()
    );
    assert!(accuracy >= 0.99, "accuracy {accuracy}");

    let lines: String = predictions
        .iter()
        .map(|p| format!("{}\n", p.digit()))
        .collect();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write("tests/fixtures/mnist-test-predictions.txt", &lines).unwrap();
        eprintln!("UPDATE_FIXTURES is set: wrote tests/fixtures/mnist-test-predictions.txt instead of comparing");
        return;
    }
    assert_eq!(
        lines, NATIVE_PREDICTIONS,
        "the model's answers changed: if the model was retrained, rerun with UPDATE_FIXTURES=1"
    );
}

/// Natively, more than one batch of images is read on several threads: each image gets the
/// answer it gets when the batches are read one after another.
#[test]
fn reading_many_batches_at_once_gives_each_image_its_own_answer() {
    let set = mnist_fixture();
    // Batches of 64 leave a smaller last one.
    let batch = 64;
    let classifier = Classifier::from_onnx(MODEL, batch).expect("shipped model loads under tract");
    let digits: Vec<_> = (0..set.len()).map(|i| set.digit(i)).collect();
    assert!(digits.len() > 4 * batch && digits.len() % batch != 0);
    let at_once = classifier.classify_batch(&digits).unwrap();
    let one_by_one: Vec<_> = digits
        .chunks(batch)
        .flat_map(|chunk| classifier.classify_batch(chunk).unwrap())
        .collect();
    assert_eq!(at_once.len(), digits.len());
    for (i, (a, b)) in at_once.iter().zip(&one_by_one).enumerate() {
        assert_eq!(a.logits, b.logits, "image {i}");
        assert_eq!(a.features, b.features, "image {i}");
        assert_eq!(a.verdict, b.verdict, "image {i}");
    }
}

#[test]
fn shipped_model_reads_the_committed_drawings() {
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    let mut wrong = Vec::new();
    for (stem, digit, text) in STROKE_FIXTURES {
        let image = strokes_to_digit(&strokes(text)).unwrap();
        let p = classifier.classify(&image).unwrap();
        eprintln!(
            "{stem}: read {} ({:.1}%)",
            p.digit(),
            100.0 * p.confidence()
        );
        if p.digit() != *digit {
            wrong.push(format!(
                "{stem} read as {} ({:.1}%)\n{image:?}",
                p.digit(),
                100.0 * p.confidence()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn shipped_model_declares_its_contract() {
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    for key in [
        "architecture",
        "dataset",
        "test_accuracy",
        "preprocessing",
        "input",
        "outputs",
    ] {
        assert!(
            classifier.metadata_value(key).is_some(),
            "metadata_props lacks {key}"
        );
    }
    let accuracy: f64 = classifier
        .metadata_value("test_accuracy")
        .unwrap()
        .parse()
        .unwrap();
    // The claim the page shows is the one the model folder's metrics measured for this very
    // file (CI measures it again on the full test set, which the tests do not have).
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("model/metrics.json").unwrap()).unwrap();
    let measured = metrics["report"]["accuracy"].as_f64().unwrap();
    assert!(
        (accuracy - measured).abs() < 1e-4,
        "the file claims {accuracy}, model/metrics.json measured {measured}"
    );
    let sha = digitpad::files::sha256_hex(MODEL);
    assert_eq!(
        metrics["sha256"].as_str(),
        Some(sha.as_str()),
        "model/metrics.json describes another file"
    );
}

#[test]
fn corrupt_model_bytes_are_an_error_not_a_panic() {
    let mut bytes = MODEL.to_vec();
    let mid = bytes.len() / 2;
    bytes.truncate(mid);
    assert!(Classifier::from_onnx(&bytes, 1).is_err());
    assert!(Classifier::from_onnx(b"", 1).is_err());
}

#[test]
fn the_build_fingerprints_the_shipped_model() {
    // The web app refuses a model whose fingerprint differs from this one.
    assert_eq!(
        digitpad::classifier::SHIPPED_MODEL_FINGERPRINT,
        digitpad::fingerprint::fnv1a_hex(MODEL)
    );
}

/// Reads every `.strokes` file of a fixtures folder as one image (file name, image).
fn drawings(dir: &str) -> Vec<(String, digitpad::DigitImage)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "strokes"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, strokes_to_digit(&strokes(&text)).unwrap())
        })
        .collect()
}

#[test]
fn shipped_model_carries_calibration_and_rejection_rules() {
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    let trust = classifier.trust();
    assert!(
        trust.temperature > 0.5 && trust.temperature < 3.0 && trust.temperature != 1.0,
        "temperature {}",
        trust.temperature
    );
    // The rules are the ones the model folder's calibration report says were chosen.
    let report: serde_json::Value = serde_json::from_str(include_str!("../model/calibration.json"))
        .expect("model/calibration.json parses");
    let names: Vec<&str> = trust.not_digit.iter().map(|r| r.0.name()).collect();
    assert!(
        !names.is_empty(),
        "the shipped model has a \"not a digit\" test"
    );
    assert_eq!(
        Some(names.join("+").as_str()),
        report["chosen_method"].as_str()
    );
    assert_eq!(
        report["unsure_margin"].as_f64().map(|m| m as f32),
        Some(trust.unsure_margin)
    );
    assert!(
        trust.features.is_some(),
        "class centres for the person's examples"
    );
    // Calibrated probabilities are softer than the plain softmax of the same logits.
    let image = strokes_to_digit(&strokes(STROKE_FIXTURES[0].2)).unwrap();
    let p = classifier.classify(&image).unwrap();
    assert_eq!(
        p.features.len(),
        common::shipped_feature_width(),
        "features: what the dense layer reads"
    );
    // Probabilities are the softmax of the logits at the file's temperature (sharper than
    // the plain softmax when T < 1, as for a model taught to be unsure of letters).
    let scaled = digitpad::scores::softmax(&p.logits.map(|l| l / trust.temperature));
    assert!((p.confidence() - scaled[p.digit()]).abs() < 1e-6, "{p:?}");
    let plain = digitpad::scores::softmax(&p.logits);
    assert!((p.confidence() - plain[p.digit()]).abs() > 1e-6, "{p:?}");
}

#[test]
fn shipped_model_refuses_most_non_digits_and_keeps_digit_drawings() {
    use digitpad::trust::Verdict;
    let classifier = Classifier::from_onnx(MODEL, 50).unwrap();
    let verdicts = |dir: &str| -> Vec<(String, Verdict, usize)> {
        let set = drawings(dir);
        let images: Vec<_> = set.iter().map(|(_, i)| i.clone()).collect();
        let predictions = classifier.classify_batch(&images).unwrap();
        set.into_iter()
            .zip(predictions)
            .map(|((name, _), p)| (name, p.verdict, p.digit()))
            .collect()
    };
    let non_digits = verdicts("tests/fixtures/nondigits");
    assert!(non_digits.len() >= 300);
    // The rules are fitted on real pen writing: real digits keep their verdict, and what is
    // not a digit is refused, as "not a digit" or as "not sure" (never a confident digit).
    let share = |keep: fn(&Verdict) -> bool| {
        non_digits.iter().filter(|v| keep(&v.1)).count() as f64 / non_digits.len() as f64
    };
    let rejected = share(|v| *v == Verdict::NotDigit);
    let refused = share(|v| *v != Verdict::Digit);
    eprintln!(
        "non-digit drawings: {:.1}% not a digit, {:.1}% refused",
        100.0 * rejected,
        100.0 * refused
    );
    // Floors a little under the shipped model's own figures (58.1% refused, 31.7% "not a
    // digit", 2026-12-07; the model before the elastic distortion 67.1% / 32.0%, the 18-epoch
    // model before it 73.1% / 44.3%, the model before real pen writing 77.2% / 77.2%:
    // docs/decisions/real-pen-data.md says why they fell), so that a model that lets more
    // scribbles through fails here.
    assert!(refused >= 0.56, "only {:.1}% refused", 100.0 * refused);
    assert!(rejected >= 0.3, "only {:.1}% not a digit", 100.0 * rejected);
    // Digit drawings made the same way: read right, and nearly all with a digit verdict.
    let digits = verdicts("tests/fixtures/digit-drawings");
    let label = |name: &str| {
        name.trim_end_matches(".strokes")
            .chars()
            .last()
            .and_then(|c| c.to_digit(10))
    };
    let wrong: Vec<_> = digits
        .iter()
        .filter(|(name, _, d)| label(name) != Some(*d as u32))
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
    let kept = digits.iter().filter(|v| v.1 == Verdict::Digit).count();
    assert!(
        kept * 100 >= 95 * digits.len(),
        "{kept} of {} kept",
        digits.len()
    );
}

#[test]
fn occlusion_credits_the_ink_that_made_the_answer() {
    use digitpad::preprocess::strokes_to_placed_digit;
    use digitpad::saliency::occlusion;
    use digitpad::trust::top_two;
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    // A seven with a crossbar.
    let seven = strokes("0.3,0.2 0.7,0.2 0.45,0.8\n0.4,0.5 0.62,0.5");
    let (image, _) = strokes_to_placed_digit(&seven).unwrap();
    let p = classifier.classify(&image).unwrap();
    assert_eq!(p.digit(), 7);
    let (digit, runner_up) = top_two(&p.probabilities);
    let map = occlusion(&classifier, &image, digit, runner_up).unwrap();
    assert_eq!((map.digit, map.runner_up), (7, runner_up));
    // Blank pixels get no credit; the ink as a whole argues for the answer.
    for (v, &ink) in map.values.iter().zip(image.pixels()) {
        if ink == 0.0 {
            assert_eq!(*v, 0.0);
        }
    }
    let total: f32 = map.values.iter().sum();
    assert!(total > 0.0, "{total}");
    assert!(map.peak() > 0.0);
    // One run for the image and one per inked square, far fewer than every square.
    assert!(map.runs > 10 && map.runs <= 1 + 13 * 13, "{}", map.runs);
    // What the page calls: the same map, the answer read from the map's own unoccluded run.
    assert_eq!(
        digitpad::saliency::explain_answer(&classifier, &image).unwrap(),
        map
    );
}

#[test]
fn three_corrections_lift_hard_writers_and_leave_easy_ones_alone() {
    use digitpad::tuning::adaptation::{
        load_writers, simulate, target_failures, Adaptation, Policy,
    };
    let classifier = Classifier::from_onnx(MODEL, 50).unwrap();
    let writers =
        load_writers(std::path::Path::new("tests/fixtures/writers"), &classifier).unwrap();
    assert!(writers.len() >= 6);
    let rows = simulate(
        &classifier,
        &writers,
        &[3],
        Policy::MisreadDigits,
        Adaptation::PAGE,
    );
    // The set must hold both kinds of writer, or the test proves nothing.
    assert!(
        rows.iter().filter(|r| r.before < 0.9).count() >= 2,
        "{rows:?}"
    );
    assert!(
        rows.iter().filter(|r| r.before > 0.98).count() >= 2,
        "{rows:?}"
    );
    let failures = target_failures(&rows, 3);
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn shipped_model_reads_the_writing_styles_people_use() {
    use digitpad::train::style_set::{evaluate_styles, load_style_set, STYLE_DRAWINGS};
    let classifier = Classifier::from_onnx(MODEL, 50).unwrap();
    let set = load_style_set(std::path::Path::new(STYLE_DRAWINGS)).unwrap();
    assert!(set.len() >= 400, "the style set has {} drawings", set.len());
    let report = evaluate_styles(&classifier, &set).unwrap();
    eprintln!("{}", report.to_table());
    assert!(
        report.all.accuracy() >= 0.98,
        "{:.1}% of the style set read right",
        100.0 * report.all.accuracy()
    );
    // The style set's bar: every style at 95% or more (docs/styles-and-fixtures.md).
    let (worst, accuracy) = report.worst_style().expect("styles");
    assert!(
        accuracy >= 0.95,
        "{worst}: {:.1}% read right",
        100.0 * accuracy
    );
}

/// `digitpad train --out model` with no other flag must make the shipped model: the recipe the
/// file records having been trained with is the trainer's default, field for field. Changing a
/// default without retraining and shipping fails here.
#[test]
fn the_default_training_recipe_is_the_one_the_shipped_model_was_trained_with() {
    use digitpad::train::config::TrainConfig;
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    let stored = classifier
        .metadata_value("training_config")
        .expect("the shipped model records its training configuration");
    let shipped: TrainConfig =
        serde_json::from_str(stored).expect("the stored configuration reads as a TrainConfig");
    assert_eq!(
        shipped,
        TrainConfig::default(),
        "the trainer's defaults no longer make the shipped model: retrain and ship it (docs/trainer.md), or restore the default"
    );
}

/// The layers view's stages are the values tract itself computes for those ONNX values: the
/// classifier's hooked run against tract-onnx's own route asked for each stage's ONNX value,
/// value for value (natively the plans differ in their convolutions' kernels; the browser test
/// compares the page's plan bit for bit).
#[test]
fn every_stage_of_the_layers_view_is_tracts_own_value() {
    use digitpad::layers::{stage_specs, INPUT_STAGE, PROBABILITIES_STAGE};
    use prost::Message;
    let (_, _, three) = STROKE_FIXTURES.iter().find(|f| f.0 == "digit-3").unwrap();
    let image = strokes_to_digit(&strokes(three)).unwrap();
    let classifier = Classifier::from_onnx(MODEL, 1).unwrap();
    let layers = classifier.read_layers(&image, &|| 0.0).unwrap();
    assert_eq!(layers.stages[0].name, INPUT_STAGE);
    assert_eq!(layers.stages[0].values, image.pixels().to_vec());
    assert_eq!(layers.stages.last().unwrap().name, PROBABILITIES_STAGE);
    let proto = tract_onnx::pb::ModelProto::decode(MODEL).unwrap();
    let specs = stage_specs(&proto);
    assert_eq!(specs.len(), layers.stages.len() - 2);
    for (spec, stage) in specs.iter().zip(&layers.stages[1..]) {
        assert_eq!(spec.name, stage.name);
        let (shape, theirs) = common::tract_own_value(&spec.output, &image);
        assert_eq!(stage.shape, shape, "{}", spec.name);
        assert_eq!(stage.values.len(), theirs.len(), "{}", spec.name);
        for (i, (a, b)) in stage.values.iter().zip(&theirs).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{} value {i}: {a} here, {b} from tract's own route",
                spec.name
            );
        }
    }
}
