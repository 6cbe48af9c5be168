//! The best split of a drawing into digits: each candidate's worth as one digit, the cost of
//! two neighbouring digits, and the dynamic programme that picks the best total.

use super::*;

/// A group smaller than this fraction of the tallest piece is a dot.
pub(super) const DOT: f32 = 0.2;

/// The width (a fraction of the taller's height) below which a neighbour counts as this wide
/// when their shared width is measured against the wider ([`Weights::free_cover`]): two
/// narrow 1s written overlapping share much of their little width, unlike an X's bars.
pub(super) const COVER_FLOOR: f32 = 0.4;

/// How much a candidate is worth as one digit, given the model's answer for it.
pub(super) fn worth(
    candidate: &Candidate,
    prediction: &Prediction,
    tallest: f32,
    w: &Weights,
) -> f32 {
    let mut score = w.digit_bonus + prediction.confidence().max(1e-6).ln();
    score -= w.gap_cost * (candidate.gap - w.free_gap).max(0.0);
    let aspect = candidate.bounds.width() / candidate.bounds.height().max(1e-6);
    score -= w.wide_cost * (aspect - w.wide).max(0.0);
    let size = candidate.bounds.width().max(candidate.bounds.height());
    if size < DOT * tallest || prediction.verdict == Verdict::NotDigit {
        score -= w.stray_cost;
    }
    score
}

/// The cost of reading `left` and `right` as two neighbouring digits.
pub(super) fn split_cost(
    left: &Candidate,
    right: &Candidate,
    touching: &[Vec<Contact>],
    w: &Weights,
) -> f32 {
    let contact = left
        .pieces
        .iter()
        .flat_map(|&a| right.pieces.iter().map(move |&b| touching[a][b]))
        .max()
        .unwrap_or(Contact::Apart);
    let (left, right) = (&left.bounds, &right.bounds);
    let touch_cost = match contact {
        Contact::Apart => 0.0,
        Contact::Touch => w.touch_cost,
        Contact::Cross => w.cross_cost,
    };
    let overlap = (left.max_x.min(right.max_x) - right.min_x.max(left.min_x)).max(0.0);
    let narrower = left.width().min(right.width());
    let taller = left.height().max(right.height());
    let floor = 0.05 * taller;
    let relative = (overlap / narrower.max(floor).max(1e-6)).min(1.0);
    let cover = (overlap / left.width().max(right.width()).max(COVER_FLOOR * taller)).min(1.0);
    let offset =
        ((left.min_y + left.max_y) - (right.min_y + right.max_y)).abs() / 2.0 / taller.max(1e-6);
    let ratio = left.height().min(right.height()) / taller.max(1e-6);
    touch_cost
        + w.overlap_cost * (relative - w.free_overlap).max(0.0)
        + w.offset_cost * (offset - w.free_offset).max(0.0)
        + w.ratio_cost * (w.free_ratio - ratio).max(0.0)
        + w.cover_cost * (cover - w.free_cover).max(0.0)
}

impl Candidates {
    /// The best split into digits, given the model's answer for each candidate (in the order
    /// of [`Candidates::list`]): the chosen candidates' indices, in reading order.
    pub fn best_split(&self, predictions: &[Prediction], weights: &Weights) -> Vec<usize> {
        let n = self.order.len();
        if n == 0 || predictions.len() != self.list.len() {
            return Vec::new();
        }
        let worths: Vec<f32> = self
            .list
            .iter()
            .zip(predictions)
            .map(|(c, p)| worth(c, p, self.tallest, weights))
            .collect();
        // best[end][len - 1]: the best score of reading order[..end] whose last group is
        // order[end - len..end], and the length of the group before it (0: none).
        let mut best = vec![[(f32::NEG_INFINITY, 0usize); MAX_PIECES]; n + 1];
        for end in 1..=n {
            for len in 1..=MAX_PIECES.min(end) {
                let start = end - len;
                let Some(c) = self.index[start][len - 1] else {
                    continue;
                };
                if start == 0 {
                    best[end][len - 1] = (worths[c], 0);
                    continue;
                }
                for before in 1..=MAX_PIECES.min(start) {
                    let (previous, _) = best[start][before - 1];
                    let Some(p) = self.index[start - before][before - 1] else {
                        continue;
                    };
                    if previous == f32::NEG_INFINITY {
                        continue;
                    }
                    let score = previous + worths[c]
                        - split_cost(&self.list[p], &self.list[c], &self.touching, weights);
                    if score > best[end][len - 1].0 {
                        best[end][len - 1] = (score, before);
                    }
                }
            }
        }
        let mut len = (1..=MAX_PIECES.min(n))
            .max_by(|&a, &b| best[n][a - 1].0.total_cmp(&best[n][b - 1].0))
            .unwrap_or(1);
        let mut end = n;
        let mut groups = Vec::new();
        while end > 0 && len > 0 {
            let Some(c) = self.index[end - len][len - 1] else {
                break;
            };
            groups.push(c);
            let before = best[end][len - 1].1;
            end -= len;
            len = before;
        }
        groups.reverse();
        groups
    }
}
