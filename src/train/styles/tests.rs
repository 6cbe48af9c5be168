//! Tests of the writing styles.

use super::raster::*;
use super::*;
use crate::digit::DigitImage;
use crate::digit::SIDE;
use rand::SeedableRng;

/// A ring like an MNIST zero: 14 wide, 20 tall, centred.
fn zero() -> [f32; PIXELS] {
    let mut img = [0.0; PIXELS];
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (dx, dy) = (
                (x as f32 + 0.5 - 14.0) / 7.0,
                (y as f32 + 0.5 - 14.0) / 10.0,
            );
            let r = (dx * dx + dy * dy).sqrt();
            if (0.8..=1.0).contains(&r) {
                img[y * SIDE + x] = 1.0;
            }
        }
    }
    img
}

/// A vertical bar like an MNIST one.
fn one() -> [f32; PIXELS] {
    let mut img = [0.0; PIXELS];
    for y in 4..24 {
        for x in 13..16 {
            img[y * SIDE + x] = 1.0;
        }
    }
    img
}

fn ink_extent(img: &[f32; PIXELS]) -> (usize, usize) {
    let inked: Vec<usize> = (0..PIXELS).filter(|&i| img[i] > 0.3).collect();
    let xs = inked.iter().map(|i| i % SIDE);
    let ys = inked.iter().map(|i| i / SIDE);
    (
        xs.clone().max().unwrap_or(0) - xs.min().unwrap_or(0) + 1,
        ys.clone().max().unwrap_or(0) - ys.min().unwrap_or(0) + 1,
    )
}

#[test]
fn the_shipped_recipe_is_described_as_its_model_card_says() {
    // `calibrate` rewrites the card's training line from the file's own configuration;
    // the default recipe must be the one the shipped file was trained with.
    let card = include_str!("../../../model/README.md");
    let line = StyleRates::SHIPPED.describe();
    assert!(card.contains(&line), "the model card has no {line:?}");
}

#[test]
fn no_rates_never_restyle() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for digit in 0..10 {
        assert!(StyleRates::NONE.restyle(&zero(), digit, &mut rng).is_none());
    }
}

#[test]
fn other_digits_are_never_restyled() {
    let always = StyleRates {
        slashed_zero: 1.0,
        drawn_slashed: 0.5,
        pen_matched_slash: true,
        drawn_eight: 0.0,
        crossed_seven: 1.0,
        flagged_one: 1.0,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for digit in [2, 3, 4, 5, 6, 8, 9] {
        assert!(always.restyle(&zero(), digit, &mut rng).is_none());
    }
}

#[test]
fn a_slashed_zero_is_renormalized_the_mnist_way() {
    let always = StyleRates {
        slashed_zero: 1.0,
        ..StyleRates::NONE
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for _ in 0..20 {
        let out = always
            .restyle(&zero(), 0, &mut rng)
            .expect("a zero is always slashed at rate 1");
        let (w, h) = ink_extent(&out);
        assert!(
            (19..=21).contains(&w.max(h)),
            "longer side {} not ~20",
            w.max(h)
        );
        let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
        assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
        // The slash adds ink inside the loop, where the ring has none.
        let inside: f32 = (12..16)
            .flat_map(|y| (12..16).map(move |x| out[y * SIDE + x]))
            .sum();
        assert!(inside > 1.0, "no ink through the loop: {inside}");
    }
}

#[test]
fn dilation_widens_a_line_by_its_radius_on_each_side() {
    // A vertical line 2 pixels wide: each row holds 2 of ink.
    let mut line = [0.0; PIXELS];
    for y in 4..24 {
        line[y * SIDE + 13] = 1.0;
        line[y * SIDE + 14] = 1.0;
    }
    let row_ink = |canvas: &Canvas| -> f32 {
        let y = MARGIN + 14;
        canvas.values[y * CANVAS..(y + 1) * CANVAS].iter().sum()
    };
    for radius in [0.0f32, 0.5, 1.0, 2.0] {
        let mut canvas = Canvas::around(&line);
        canvas.dilate(radius);
        let ink = row_ink(&canvas);
        assert!(
            (ink - (2.0 + 2.0 * radius)).abs() <= 0.25,
            "radius {radius}: {ink} of ink across the line"
        );
    }
}

#[test]
fn a_drawn_slashed_zero_is_drawn_with_the_pages_pen_and_recipe() {
    let drawn = StyleRates {
        slashed_zero: 1.0,
        drawn_slashed: 1.0,
        ..StyleRates::NONE
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut narrowest = SIDE;
    for _ in 0..40 {
        let out = drawn.restyle(&zero(), 0, &mut rng).expect("drawn");
        let (w, h) = ink_extent(&out);
        assert!((19..=21).contains(&w.max(h)), "{w}x{h}");
        let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
        assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
        narrowest = narrowest.min(w);
    }
    // Loops from 30% of their height wide: some drawings are narrow blobs, as the page
    // renders a narrow slashed zero.
    assert!(narrowest <= 9, "narrowest {narrowest} px");
}

#[test]
fn a_flagged_one_gains_ink_left_of_its_top() {
    let always = StyleRates {
        flagged_one: 1.0,
        ..StyleRates::NONE
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    for _ in 0..20 {
        let out = always.restyle(&one(), 1, &mut rng).expect("restyled");
        let (w, _) = ink_extent(&out);
        assert!(w >= 6, "flag did not widen the one: {w} px");
        let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
        assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
    }
}

#[test]
fn a_crossed_seven_has_a_bar_through_the_stem() {
    // A seven: a top bar and a diagonal stem.
    let mut seven = [0.0; PIXELS];
    for x in 8..21 {
        for y in 4..7 {
            seven[y * SIDE + x] = 1.0;
        }
    }
    for y in 6..24 {
        let x = 19 - (y - 6) * 8 / 18;
        for dx in 0..3 {
            seven[y * SIDE + x + dx] = 1.0;
        }
    }
    let always = StyleRates {
        crossed_seven: 1.0,
        ..StyleRates::NONE
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let out = always.restyle(&seven, 7, &mut rng).expect("restyled");
    // Some row in the middle third has ink over at least 6 pixels (the bar); the plain
    // seven's stem is 3 wide there.
    let widest = (10..19)
        .map(|y| (0..SIDE).filter(|&x| out[y * SIDE + x] > 0.3).count())
        .max()
        .unwrap_or(0);
    assert!(widest >= 6, "no bar: widest middle row {widest} px");
}

/// The enclosed background regions of an image (a closed 8 has two, an 8 whose top
/// loop is left open has one): background pixels not reachable from the border.
fn holes(img: &[f32; PIXELS]) -> usize {
    let background = |i: usize| img[i] < 0.3;
    let mut seen = [false; PIXELS];
    let fill = |start: usize, seen: &mut [bool; PIXELS]| {
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % SIDE, i / SIDE);
            let mut next = vec![];
            if x > 0 {
                next.push(i - 1);
            }
            if x + 1 < SIDE {
                next.push(i + 1);
            }
            if y > 0 {
                next.push(i - SIDE);
            }
            if y + 1 < SIDE {
                next.push(i + SIDE);
            }
            for j in next {
                if !seen[j] && background(j) {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
    };
    for i in 0..PIXELS {
        let (x, y) = (i % SIDE, i / SIDE);
        let border = x == 0 || y == 0 || x + 1 == SIDE || y + 1 == SIDE;
        if border && background(i) && !seen[i] {
            fill(i, &mut seen);
        }
    }
    let mut count = 0;
    for i in 0..PIXELS {
        if background(i) && !seen[i] {
            fill(i, &mut seen);
            count += 1;
        }
    }
    count
}

#[test]
fn drawn_eights_are_renormalized_and_some_leave_the_top_loop_open() {
    let drawn = StyleRates {
        drawn_eight: 1.0,
        ..StyleRates::NONE
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut by_holes = [0usize; 3];
    for _ in 0..60 {
        let out = drawn.restyle(&zero(), 8, &mut rng).expect("drawn");
        let (w, h) = ink_extent(&out);
        assert!((19..=21).contains(&w.max(h)), "{w}x{h}");
        let (mx, my) = DigitImage::from_pixels(out).centre_of_mass().expect("ink");
        assert!((mx - 14.5).abs() < 0.6 && (my - 14.5).abs() < 0.6);
        by_holes[holes(&out).min(2)] += 1;
    }
    // Both loops closed for most, one of them left open for some.
    assert!(by_holes[2] >= 30, "{by_holes:?}");
    assert!(by_holes[1] + by_holes[0] >= 5, "{by_holes:?}");
}

#[test]
fn holes_counts_closed_loops() {
    assert_eq!(holes(&zero()), 1);
    assert_eq!(holes(&one()), 0);
}
