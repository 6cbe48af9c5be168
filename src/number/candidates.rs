//! The candidate digits of a drawing: every run of up to [`MAX_PIECES`] neighbouring pieces,
//! in reading order, whose box could be one digit.

use super::*;

/// A candidate wider than this many times its height is not one digit.
pub(super) const MAX_ASPECT: f32 = 1.6;

pub(super) fn union(a: Bounds, b: Bounds) -> Bounds {
    Bounds {
        min_x: a.min_x.min(b.min_x),
        min_y: a.min_y.min(b.min_y),
        max_x: a.max_x.max(b.max_x),
        max_y: a.max_y.max(b.max_y),
    }
}

/// The widest stretch of x that lies between pieces' boxes, inside their union.
pub(super) fn widest_gap(boxes: &[Bounds]) -> f32 {
    let mut spans: Vec<(f32, f32)> = boxes.iter().map(|b| (b.min_x, b.max_x)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut reach = spans[0].1;
    let mut widest = 0.0f32;
    for &(start, end) in &spans[1..] {
        widest = widest.max(start - reach);
        reach = reach.max(end);
    }
    widest
}

/// Height used for relative measures: never below a small fraction of the width, so that a
/// flat bar is not infinitely thin.
pub(super) fn height_of(b: &Bounds) -> f32 {
    b.height().max(0.25 * b.width()).max(1e-6)
}

/// The candidates for pieces with these boxes (one per piece: a stroke's or a blob's);
/// `touch(a, b)` says how pieces `a` and `b` meet (asked only of pieces close in reading
/// order).
pub fn candidates(boxes: &[Bounds], mut touch: impl FnMut(usize, usize) -> Contact) -> Candidates {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| {
        boxes[a]
            .centre()
            .x
            .total_cmp(&boxes[b].centre().x)
            .then(a.cmp(&b))
    });
    let tallest = boxes
        .iter()
        .map(|b| b.height().max(b.width()))
        .fold(0.0f32, f32::max);
    let mut list = Vec::new();
    let mut index = vec![[None; MAX_PIECES]; order.len()];
    for start in 0..order.len() {
        let mut bounds = boxes[order[start]];
        for len in 1..=MAX_PIECES.min(order.len() - start) {
            let members = &order[start..start + len];
            bounds = union(bounds, boxes[members[len - 1]]);
            if len > 1 && bounds.width() > MAX_ASPECT * bounds.height().max(1e-6) {
                break;
            }
            let member_boxes: Vec<Bounds> = members.iter().map(|&i| boxes[i]).collect();
            let mut pieces = members.to_vec();
            pieces.sort_unstable();
            index[start][len - 1] = Some(list.len());
            list.push(Candidate {
                pieces,
                bounds,
                gap: widest_gap(&member_boxes) / height_of(&bounds),
            });
        }
    }
    let mut touching = vec![vec![Contact::Apart; boxes.len()]; boxes.len()];
    for (k, &a) in order.iter().enumerate() {
        for &b in order.iter().skip(k + 1).take(2 * MAX_PIECES) {
            let t = touch(a, b);
            touching[a][b] = t;
            touching[b][a] = t;
        }
    }
    Candidates {
        list,
        order,
        index,
        tallest,
        touching,
    }
}
