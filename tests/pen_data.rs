//! Real pen writing: the committed sample (training-side writers of UNIPEN) is read by the
//! trainer's reader, rendered by the page's recipe, and read by the shipped model as a person
//! would see it; numbers composed from one writer's digits are read whole.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;

use common::MODEL;
use digitpad::train::pen_data::{PenData, PenLabel, Role};
use digitpad::train::pen_eval::{compose_numbers, evaluate_pen, read_as_page, shown, Shown};
use digitpad::Classifier;

fn fixture() -> PenData {
    PenData::load(Path::new("tests/fixtures/pen")).expect("the committed pen sample loads")
}

#[test]
fn the_committed_sample_is_training_side_writing_only() {
    let pen = fixture();
    assert!(pen.digits.len() >= 50 && pen.letters.len() >= 20);
    for sample in pen.digits.iter().chain(&pen.letters) {
        assert_eq!(Role::of(&sample.writer), Role::Train, "{}", sample.writer);
    }
    let digits: std::collections::BTreeSet<_> = pen.digits.iter().map(|s| s.label).collect();
    assert_eq!(digits.len(), 10, "every digit is in the sample");
    assert!(pen
        .letters
        .iter()
        .all(|s| matches!(s.label, PenLabel::Letter(_))));
}

#[test]
fn the_shipped_model_shows_real_digits_right_and_refuses_most_letters() {
    let classifier = Classifier::from_onnx(MODEL, 50).unwrap();
    let pen = fixture();
    let report = evaluate_pen(&classifier, &pen, "committed sample", 4).unwrap();
    eprintln!("{}", report.to_table());
    assert_eq!(report.digits, pen.digits.len());
    assert!(
        report.shown_right >= 0.95,
        "real digits shown right: {:.1}%",
        100.0 * report.shown_right
    );
    assert!(report.split == 0.0, "a real digit was split: {report:?}");
    assert!(
        report.letters_rejected >= 0.6,
        "letters refused: {:.1}%",
        100.0 * report.letters_rejected
    );
    assert_eq!(report.numbers, 3 * 4);
    assert!(
        report.numbers_exact >= 0.75,
        "composed numbers read exactly: {:.1}%",
        100.0 * report.numbers_exact
    );
}

#[test]
fn a_real_digit_is_shown_as_one_digit_with_its_verdict() {
    let classifier = Classifier::from_onnx(MODEL, 50).unwrap();
    let pen = fixture();
    let seven = pen
        .digits
        .iter()
        .find(|s| s.label == PenLabel::Digit(7))
        .unwrap();
    let digits = read_as_page(&classifier, &seven.strokes).unwrap();
    assert_eq!(shown(&digits, 7), Shown::Right, "{digits:?}");
    assert_eq!(shown(&digits, 1), Shown::Misread);
    assert_eq!(shown(&[], 7), Shown::NotDigit);
    let two = [digits[0].clone(), digits[0].clone()];
    assert_eq!(shown(&two, 7), Shown::Split);
}

#[test]
fn composed_numbers_read_as_their_digits() {
    let pen = fixture();
    let numbers = compose_numbers(&pen.digits, 2, 9);
    assert_eq!(numbers.len(), 6);
    for (text, strokes) in &numbers {
        let digits: usize = strokes.len();
        assert!(digits >= text.len(), "{text}: {digits} strokes");
    }
}

#[test]
fn the_grouping_fit_refuses_letters_as_the_evaluation_does() {
    use digitpad::number::Weights;
    use digitpad::tuning::number_tuning::{letters_refused, read_real_letters};
    let classifier = Classifier::from_onnx(MODEL, 50).unwrap();
    let pen = fixture();
    let report = evaluate_pen(&classifier, &pen, "committed sample", 1).unwrap();
    let letters = read_real_letters(&pen.letters, &classifier).unwrap();
    assert_eq!(letters.len(), pen.letters.len());
    let refused = letters_refused(&letters, &Weights::DEFAULT);
    let share = refused as f64 / letters.len() as f64;
    assert!(
        (share - report.letters_rejected).abs() < 1e-9,
        "the fit refuses {refused} of {}, the evaluation {:.4}",
        letters.len(),
        report.letters_rejected
    );
}
