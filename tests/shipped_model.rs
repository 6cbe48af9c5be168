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
    assert!(accuracy >= 0.996, "shipped model claims {accuracy}");
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
