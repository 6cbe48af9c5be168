//! The variants drawn from scratch as strokes and rendered by the page's own recipe
//! ([`preprocess::strokes_to_digit`], its 3-pixel pen): slashed zeros and eights, whose look
//! on the page MNIST's scanned digits do not show.

use rand::Rng;

use crate::digit::PIXELS;
use crate::preprocess;
use crate::strokes::Point;

/// A slashed zero drawn from scratch as the page would receive it, and rendered by the
/// page's own recipe ([`preprocess::strokes_to_digit`], its 3-pixel pen): a loop (an ellipse
/// 30-95% as wide as tall, slanted, its radius wobbling, started anywhere near the top and
/// closed short of its start or past it) and a slash through it that reaches past the loop,
/// either way up, drawn from either end.
pub(super) fn drawn_slashed_zero(rng: &mut impl Rng) -> Option<[f32; PIXELS]> {
    use std::f32::consts::TAU;
    let aspect = rng.random_range(0.3f32..0.95);
    let (rx, ry) = (0.5 * aspect, 0.5);
    let slant = rng.random_range(-0.3f32..0.4);
    let wobble = [
        (rng.random_range(0.0f32..0.08), rng.random_range(0.0..TAU)),
        (rng.random_range(0.0f32..0.05), rng.random_range(0.0..TAU)),
    ];
    let start = rng.random_range(-0.4f32..0.15) * TAU / 2.0 - TAU / 4.0;
    let sweep =
        rng.random_range(0.93f32..1.12) * TAU * if rng.random_bool(0.8) { -1.0 } else { 1.0 };
    let place = |x: f32, y: f32| Point::new(0.5 + x + slant * (0.5 - (0.5 + y)), 0.5 + y);
    let ring: Vec<Point> = wobbly_arc((0.0, 0.0), (rx, ry), start, sweep, &wobble, 48)
        .into_iter()
        .map(|(x, y)| place(x, y))
        .collect();
    let lean =
        rng.random_range(0.05f32..0.6) * 2.0 * rx * if rng.random_bool(0.85) { 1.0 } else { -1.0 };
    let top = place(lean, -ry - rng.random_range(-0.05f32..0.35));
    let bottom = place(-lean, ry + rng.random_range(-0.05f32..0.35));
    let bow = rng.random_range(-0.04f32..0.04);
    let middle = Point::new((top.x + bottom.x) / 2.0 + bow, (top.y + bottom.y) / 2.0);
    let mut slash = vec![top, middle, bottom];
    if rng.random_bool(0.5) {
        slash.reverse();
    }
    let strokes = if rng.random_bool(0.9) {
        vec![ring, slash]
    } else {
        vec![slash, ring]
    };
    preprocess::strokes_to_digit(&strokes).map(|digit| *digit.pixels())
}

/// Points on an ellipse around `centre` (y grows downwards) from angle `start` through
/// `sweep` radians, in `steps` steps, its radius wobbling as a hand's does:
/// `1 + a sin(t + p) + b sin(2t + q)` for `wobble = [(a, p), (b, q)]`.
pub(super) fn wobbly_arc(
    centre: (f32, f32),
    radii: (f32, f32),
    start: f32,
    sweep: f32,
    wobble: &[(f32, f32); 2],
    steps: usize,
) -> Vec<(f32, f32)> {
    (0..=steps)
        .map(|i| {
            let t = start + sweep * i as f32 / steps as f32;
            let r = 1.0
                + wobble[0].0 * (t + wobble[0].1).sin()
                + wobble[1].0 * (2.0 * t + wobble[1].1).sin();
            (
                centre.0 + radii.0 * r * t.cos(),
                centre.1 + radii.1 * r * t.sin(),
            )
        })
        .collect()
}

/// An eight drawn from scratch as the page would receive it, and rendered by the page's own
/// recipe ([`preprocess::strokes_to_digit`], its 3-pixel pen). Four in five are one stroke:
/// from the top loop's right side, over its top and down its left to the waist, round the
/// bottom loop, and back up the top loop's right side, which it closes, overshoots, leaves
/// loose or leaves open (the top loop of a quick eight is often a hook); the rest are two
/// stacked loops, drawn one after the other. The top loop is 36-50% of the height and
/// 55-100% of the bottom loop's width, the whole 45-100% as wide as tall, slanted, wobbling,
/// its loops a little off each other's axis; a quarter are mirrored (drawn the other way
/// round).
pub(super) fn drawn_eight(rng: &mut impl Rng) -> Option<[f32; PIXELS]> {
    use std::f32::consts::{FRAC_PI_2, PI, TAU};
    let aspect = rng.random_range(0.45f32..1.0);
    let slant = rng.random_range(-0.3f32..0.4);
    let waist = rng.random_range(0.36f32..0.5);
    let bottom_radii = (0.5 * aspect, 0.5 * (1.0 - waist));
    let top_radii = (bottom_radii.0 * rng.random_range(0.55f32..1.0), 0.5 * waist);
    let shift = rng.random_range(-0.08f32..0.08);
    let top_centre = (shift, -0.5 + top_radii.1);
    let bottom_centre = (-shift, 0.5 - bottom_radii.1);
    let mut wobble = || {
        [
            (rng.random_range(0.0f32..0.08), rng.random_range(0.0..TAU)),
            (rng.random_range(0.0f32..0.05), rng.random_range(0.0..TAU)),
        ]
    };
    let (top_wobble, bottom_wobble) = (wobble(), wobble());
    let mirror = if rng.random_bool(0.25) { -1.0 } else { 1.0 };
    let place = |(x, y): (f32, f32)| Point::new(0.5 + mirror * x - slant * y, 0.5 + y);
    let arc = |centre: (f32, f32),
               radii: (f32, f32),
               start: f32,
               sweep: f32,
               wobble: &[(f32, f32); 2]|
     -> Vec<Point> {
        wobbly_arc(centre, radii, start, sweep, wobble, 40)
            .into_iter()
            .map(place)
            .collect()
    };
    // Angles with y downwards: 0 is a loop's right side, -PI/2 its top, PI/2 its bottom.
    let strokes = if rng.random_bool(0.8) {
        let start = rng.random_range(-0.25f32..0.06) * PI;
        // Over the top and down the left side of the top loop to the waist.
        let mut stroke = arc(
            top_centre,
            top_radii,
            start,
            -(start + 1.5 * PI),
            &top_wobble,
        );
        // Round the bottom loop, clockwise from its top.
        stroke.extend(arc(
            bottom_centre,
            bottom_radii,
            -FRAC_PI_2,
            TAU,
            &bottom_wobble,
        ));
        // Back up the top loop's right side: none of it, some, all, or past the start.
        let closing = rng.random_range(-0.1f32..1.25) * (FRAC_PI_2 - start);
        if closing > 0.0 {
            stroke.extend(arc(top_centre, top_radii, FRAC_PI_2, -closing, &top_wobble));
        }
        vec![stroke]
    } else {
        let (top_start, bottom_start) = (rng.random_range(-PI..PI), rng.random_range(-PI..PI));
        let top = arc(
            top_centre,
            top_radii,
            top_start,
            -rng.random_range(0.95f32..1.1) * TAU,
            &top_wobble,
        );
        let bottom = arc(
            bottom_centre,
            bottom_radii,
            bottom_start,
            -rng.random_range(0.95f32..1.1) * TAU,
            &bottom_wobble,
        );
        vec![top, bottom]
    };
    preprocess::strokes_to_digit(&strokes).map(|digit| *digit.pixels())
}
