//! Reading whole numbers (`digitpad::number`) with the shipped model, on the committed
//! numbers of `tests/fixtures/numbers` (made by `make_numbers.py` there: 2-6 digits and a few
//! of 10-12, apart, touching, overlapping, a squeezed 1, mixed sizes, multi-stroke 4/5/7).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};

use common::{strokes, MODEL, STROKE_FIXTURES};
use digitpad::number::{as_text, read_raster, read_strokes, ReadDigit};
use digitpad::preprocess::{stamp_capsule, strokes_to_digit, GrayImage};
use digitpad::strokes::{Bounds, Point, Stroke};
use digitpad::Classifier;

fn classifier() -> Classifier {
    Classifier::from_onnx(MODEL, 32).expect("shipped model loads")
}

fn read(classifier: &Classifier, strokes: &[Stroke]) -> Vec<ReadDigit> {
    read_strokes(strokes, |images| classifier.classify_batch(images)).expect("inference")
}

/// The committed numbers: (file name, number written, strokes).
fn numbers() -> Vec<(String, String, Vec<Stroke>)> {
    let dir = Path::new("tests/fixtures/numbers");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("numbers folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "strokes"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let number = p
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .rsplit_once('-')
                .unwrap()
                .1
                .to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            (name, number, strokes(&text))
        })
        .collect()
}

fn transform(strokes: &[Stroke], f: impl Fn(Point) -> Point) -> Vec<Stroke> {
    strokes
        .iter()
        .map(|s| s.iter().map(|&p| f(p)).collect())
        .collect()
}

#[test]
fn most_written_numbers_are_read_right() {
    let classifier = classifier();
    let numbers = numbers();
    assert!(numbers.len() >= 50);
    let mut wrong = Vec::new();
    for (name, number, strokes) in &numbers {
        let reading = as_text(&read(&classifier, strokes));
        if &reading != number {
            wrong.push(format!("{name}: read {reading}"));
        }
    }
    let right = numbers.len() - wrong.len();
    eprintln!(
        "{right}/{} numbers read right\n{}",
        numbers.len(),
        wrong.join("\n")
    );
    assert!(
        right * 10 >= numbers.len() * 9,
        "only {right}/{} numbers read right",
        numbers.len()
    );
}

#[test]
fn one_digit_reads_as_it_did_before_numbers() {
    let classifier = classifier();
    for (stem, _, text) in STROKE_FIXTURES {
        let strokes = strokes(text);
        let digits = read(&classifier, &strokes);
        assert_eq!(digits.len(), 1, "{stem} read as {}", as_text(&digits));
        let alone = classifier
            .classify(&strokes_to_digit(&strokes).unwrap())
            .unwrap();
        assert_eq!(digits[0].prediction, alone, "{stem}");
    }
}

#[test]
fn moving_or_scaling_a_number_changes_nothing() {
    let classifier = classifier();
    for (name, _, strokes) in numbers().iter().step_by(3) {
        let reading = as_text(&read(&classifier, strokes));
        for (dx, dy, scale) in [(0.3, -0.05, 1.0), (-0.02, 0.1, 0.6), (0.0, 0.0, 1.3)] {
            let moved = transform(strokes, |p| Point::new(p.x * scale + dx, p.y * scale + dy));
            assert_eq!(
                as_text(&read(&classifier, &moved)),
                reading,
                "{name} moved by ({dx}, {dy}) and scaled by {scale}"
            );
        }
    }
}

#[test]
fn more_space_between_digits_never_changes_the_reading() {
    let classifier = classifier();
    for (name, number, strokes) in numbers() {
        let digits = read(&classifier, &strokes);
        if as_text(&digits) != number || digits.len() < 2 {
            continue;
        }
        let height = digits
            .iter()
            .map(|d| d.group.bounds.height())
            .fold(0.0f32, f32::max);
        // Push every digit right of each boundary in turn further right.
        for boundary in 1..digits.len() {
            let mut spaced = strokes.clone();
            for d in &digits[boundary..] {
                for &i in &d.group.pieces {
                    spaced[i] = spaced[i]
                        .iter()
                        .map(|p| Point::new(p.x + 0.4 * height, p.y))
                        .collect();
                }
            }
            assert_eq!(
                as_text(&read(&classifier, &spaced)),
                number,
                "{name} with space after digit {boundary}"
            );
        }
    }
}

/// Draws strokes into a grey image (dark ink on white paper), `scale` pixels per pad unit,
/// with a pen `pen` pixels wide.
fn rasterize(strokes: &[Stroke], scale: f32, pen: f32) -> (usize, usize, Vec<f32>) {
    let b = Bounds::of_strokes(strokes).unwrap();
    let margin = 12.0;
    let (w, h) = (
        (b.width() * scale + 2.0 * margin) as usize,
        (b.height() * scale + 2.0 * margin) as usize,
    );
    let mut ink = vec![0.0f32; w * h];
    let at = |p: &Point| {
        Point::new(
            (p.x - b.min_x) * scale + margin,
            (p.y - b.min_y) * scale + margin,
        )
    };
    for s in strokes {
        for pair in s.windows(2) {
            stamp_capsule(&mut ink, w, h, at(&pair[0]), at(&pair[1]), pen);
        }
    }
    (w, h, ink.iter().map(|v| 1.0 - v).collect())
}

#[test]
fn a_picture_of_a_number_is_read_like_its_strokes() {
    let classifier = classifier();
    let mut compared = 0;
    for (name, number, strokes) in numbers() {
        let digits = read(&classifier, &strokes);
        // Pictures cannot split digits whose ink touches: compare numbers written apart.
        let apart = digits.windows(2).all(|pair| {
            pair[1].group.bounds.min_x - pair[0].group.bounds.max_x
                > 0.15 * pair[0].group.bounds.height()
        });
        if as_text(&digits) != number || !apart {
            continue;
        }
        // A photo-like scale: digits about 40 pixels high, a pen of 5.
        let (width, height, values) = rasterize(&strokes, 120.0, 5.0);
        let from_picture = read_raster(
            GrayImage {
                width,
                height,
                values: &values,
            },
            &classifier,
        )
        .expect("the picture has ink");
        let reading: String = from_picture
            .iter()
            .map(|d| char::from(b'0' + d.prediction.digit() as u8))
            .collect();
        assert_eq!(reading, number, "{name} as a picture");
        compared += 1;
    }
    eprintln!("{compared} numbers read from pictures as from strokes");
    assert!(compared >= 10, "only {compared} numbers compared");
}
