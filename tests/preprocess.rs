//! Properties of the MNIST-style preprocessing, on committed stroke fixtures and MNIST digits.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{mnist_fixture, preprocess_hash_lines, strokes, PREPROCESS_HASHES, STROKE_FIXTURES};
use digitpad::preprocess::{raster_to_digit, strokes_to_digit, GrayImage, MASS_CENTRE};
use digitpad::strokes::{Point, Stroke};
use digitpad::{Classifier, DigitImage, PIXELS, SIDE};

fn transform(strokes: &[Stroke], scale: f32, dx: f32, dy: f32) -> Vec<Stroke> {
    strokes
        .iter()
        .map(|s| {
            s.iter()
                .map(|p| Point::new(p.x * scale + dx, p.y * scale + dy))
                .collect()
        })
        .collect()
}

#[test]
fn moving_a_drawing_changes_the_image_little() {
    for (stem, _, text) in STROKE_FIXTURES {
        let original = strokes_to_digit(&strokes(text)).unwrap();
        for (dx, dy) in [(0.2, 0.0), (-0.15, 0.1), (0.013, -0.027)] {
            let moved = strokes_to_digit(&transform(&strokes(text), 1.0, dx, dy)).unwrap();
            let diff = original.mean_abs_diff(&moved);
            assert!(
                diff < 0.003,
                "{stem} moved by ({dx}, {dy}): mean |diff| {diff}"
            );
        }
    }
}

#[test]
fn scaling_a_drawing_changes_the_image_little() {
    for (stem, _, text) in STROKE_FIXTURES {
        let original = strokes_to_digit(&strokes(text)).unwrap();
        for scale in [0.3, 0.5, 1.6] {
            let scaled = strokes_to_digit(&transform(&strokes(text), scale, 0.1, 0.1)).unwrap();
            let diff = original.mean_abs_diff(&scaled);
            assert!(diff < 0.003, "{stem} scaled by {scale}: mean |diff| {diff}");
        }
    }
}

#[test]
fn centre_of_mass_is_at_the_mnist_centre() {
    for (stem, _, text) in STROKE_FIXTURES {
        let image = strokes_to_digit(&strokes(text)).unwrap();
        let (x, y) = image.centre_of_mass().unwrap();
        assert!(
            (x - MASS_CENTRE).abs() < 0.15 && (y - MASS_CENTRE).abs() < 0.15,
            "{stem}: centre of mass ({x}, {y})\n{image:?}"
        );
    }
}

#[test]
fn the_longer_side_of_the_ink_is_about_20_pixels() {
    for (stem, _, text) in STROKE_FIXTURES {
        let image = strokes_to_digit(&strokes(text)).unwrap();
        let (x0, y0, x1, y1) = image.ink_bounds(0.0).unwrap();
        let longer = (x1 + 1 - x0).max(y1 + 1 - y0);
        assert!(
            (19..=22).contains(&longer),
            "{stem}: ink box {longer} px\n{image:?}"
        );
    }
}

#[test]
fn aspect_ratio_is_kept() {
    // A wide, flat "-" stays wide and flat; a tall "|" stays tall and thin.
    let dash = vec![vec![Point::new(0.2, 0.5), Point::new(0.8, 0.52)]];
    let image = strokes_to_digit(&dash).unwrap();
    let (x0, y0, x1, y1) = image.ink_bounds(0.0).unwrap();
    assert!(x1 - x0 >= 18 && y1 - y0 <= 5, "{image:?}");

    let bar = vec![vec![Point::new(0.5, 0.1), Point::new(0.5, 0.9)]];
    let image = strokes_to_digit(&bar).unwrap();
    let (x0, y0, x1, y1) = image.ink_bounds(0.0).unwrap();
    assert!(
        y1 - y0 >= 18 && x1 - x0 <= 4,
        "thin vertical line stretched:\n{image:?}"
    );
}

#[test]
fn empty_pad_gives_no_image_and_a_dot_gives_a_dot() {
    assert!(strokes_to_digit(&[]).is_none());
    let dot = strokes_to_digit(&[vec![Point::new(0.9, 0.1)]]).unwrap();
    let ink = dot.ink();
    assert!(
        ink > 3.0 && ink < 15.0,
        "a tap is a small dot, ink {ink}\n{dot:?}"
    );
}

#[test]
fn many_points_and_strokes_are_handled() {
    // 10,000 points in 500 strokes: a scribble. Linear cost keeps this quick even in debug.
    let scribble: Vec<Stroke> = (0..500)
        .map(|s| {
            (0..20)
                .map(|i| {
                    let t = (s * 20 + i) as f32 * 0.37;
                    Point::new(
                        0.5 + 0.4 * t.sin() * (t * 0.01).cos(),
                        0.5 + 0.4 * (t * 1.3).cos(),
                    )
                })
                .collect()
        })
        .collect();
    // Such a scribble is still placed as MNIST places a digit: inside the 20x20 box, its
    // centre of mass on the image's centre, the values within 0..1. (How fast is a
    // benchmark's business: `digitpad bench`.)
    let image = strokes_to_digit(&scribble).unwrap();
    let (x0, y0, x1, y1) = image.ink_bounds(0.0).unwrap();
    assert!(
        x1 - x0 < 22 && y1 - y0 < 22,
        "ink spans {x0}..{x1} x {y0}..{y1}"
    );
    let (cx, cy) = image.centre_of_mass().unwrap();
    assert!(
        (cx - 14.0).abs() < 1.0 && (cy - 14.0).abs() < 1.0,
        "centre of mass ({cx}, {cy})"
    );
    assert!(image.pixels().iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(image.ink() > 20.0, "a dense scribble inks much of the box");
}

#[test]
fn stroke_fixtures_preprocess_to_the_committed_bytes() {
    let actual = preprocess_hash_lines();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write("tests/fixtures/strokes/preprocessed.fnv", &actual).unwrap();
        eprintln!("UPDATE_FIXTURES is set: wrote tests/fixtures/strokes/preprocessed.fnv instead of comparing");
        return;
    }
    assert_eq!(
        actual, PREPROCESS_HASHES,
        "preprocessing changed: if on purpose, rerun with UPDATE_FIXTURES=1 to update the fixture \
         that the browser test compares against"
    );
}

fn to_gray(image: &DigitImage) -> Vec<f32> {
    image.pixels().to_vec()
}

#[test]
fn raster_path_leaves_mnist_digits_nearly_unchanged() {
    // MNIST centred its digits by whole pixels; the raster path centres by mass to a fraction
    // of a pixel, so a digit may move by up to half a pixel (and blur a little): small
    // differences, and the model's answers stay the same.
    let set = mnist_fixture();
    let classifier = Classifier::from_onnx(common::MODEL, 50).unwrap();
    let (mut total, mut worst) = (0.0, 0.0f32);
    let (mut originals, mut redone) = (Vec::new(), Vec::new());
    for i in 0..set.len() {
        let original = set.digit(i);
        let gray = to_gray(&original);
        let again = raster_to_digit(GrayImage {
            width: SIDE,
            height: SIDE,
            values: &gray,
        })
        .unwrap();
        let diff = original.mean_abs_diff(&again);
        assert!(
            diff < 0.08,
            "image {i}: mean |diff| {diff}\n{original:?}{again:?}"
        );
        total += diff;
        worst = worst.max(diff);
        originals.push(original);
        redone.push(again);
    }
    let mean = total / set.len() as f32;
    assert!(mean < 0.03, "mean |diff| over {} digits {mean}", set.len());
    let a = classifier.classify_batch(&originals).unwrap();
    let b = classifier.classify_batch(&redone).unwrap();
    let same = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.digit() == y.digit())
        .count();
    eprintln!("raster path on {} MNIST digits: mean |diff| {mean:.4}, worst {worst:.4}, same answer {same}", set.len());
    assert!(
        same as f64 >= 0.99 * set.len() as f64,
        "answers changed on {} digits",
        set.len() - same
    );
}

#[test]
fn raster_path_undoes_scale_position_and_polarity() {
    // An MNIST digit blown up 5x, moved to a corner of a large page, printed dark on light.
    let set = mnist_fixture();
    let original = set.digit(0);
    let (w, h, scale) = (300usize, 220usize, 5usize);
    let mut page = vec![0.95f32; w * h];
    for y in 0..SIDE * scale {
        for x in 0..SIDE * scale {
            let v = original.get(x / scale, y / scale);
            page[(y + 10) * w + x + 150] = 0.95 - 0.9 * v;
        }
    }
    let redone = raster_to_digit(GrayImage {
        width: w,
        height: h,
        values: &page,
    })
    .unwrap();
    let diff = original.mean_abs_diff(&redone);
    assert!(diff < 0.06, "mean |diff| {diff}\n{original:?}{redone:?}");
}

#[test]
fn drawn_digits_have_mnist_intensities() {
    // MNIST digits are anti-aliased ink whose strokes reach full intensity in their core,
    // on a background of exact zeros, with values in 0..=1 after scaling.
    for (stem, _, text) in STROKE_FIXTURES {
        let image = strokes_to_digit(&strokes(text)).unwrap();
        let pixels = image.pixels();
        assert!(
            pixels.iter().all(|v| (0.0..=1.0).contains(v)),
            "{stem}: a value outside 0..=1"
        );
        let max = pixels.iter().copied().fold(0.0f32, f32::max);
        assert!(
            max >= 0.95,
            "{stem}: the pen never reaches full ink ({max})"
        );
        let background = pixels.iter().filter(|&&v| v == 0.0).count();
        let inked = pixels.iter().filter(|&&v| v > 0.5).count();
        assert!(
            background > PIXELS / 2 && inked >= 40,
            "{stem}: {background} background and {inked} inked pixels\n{image:?}"
        );
    }
}
