//! How two strokes meet (apart, touching, crossing): what the split weighs between neighbouring
//! digits.

use super::*;

/// Two strokes touch when their ink comes closer than this fraction of the taller one's
/// height.
pub(super) const TOUCH: f32 = 0.06;

/// How two pieces of ink meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contact {
    /// They do not come near each other.
    Apart,
    /// One comes within touching distance of the other.
    Touch,
    /// They cross.
    Cross,
}

/// Whether segments `p1 p2` and `q1 q2` cross (properly: each one's ends on either side of
/// the other).
pub(super) fn segments_cross(
    p1: crate::Point,
    p2: crate::Point,
    q1: crate::Point,
    q2: crate::Point,
) -> bool {
    let side = |a: crate::Point, b: crate::Point, c: crate::Point| {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    };
    let (d1, d2) = (side(q1, q2, p1), side(q1, q2, p2));
    let (d3, d4) = (side(p1, p2, q1), side(p1, p2, q2));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

/// How two strokes meet: they cross when a segment of one crosses a segment of the other;
/// they touch when some point of one comes within [`TOUCH`] of the taller's height of some
/// segment of the other.
pub fn strokes_contact(a: &[crate::Point], b: &[crate::Point]) -> Contact {
    if a.windows(2)
        .any(|s| b.windows(2).any(|t| segments_cross(s[0], s[1], t[0], t[1])))
    {
        return Contact::Cross;
    }
    if strokes_touch(a, b) {
        Contact::Touch
    } else {
        Contact::Apart
    }
}

/// Whether two strokes touch: some point of one comes within [`TOUCH`] of the taller's
/// height of some segment of the other.
pub fn strokes_touch(a: &[crate::Point], b: &[crate::Point]) -> bool {
    let (Some(ba), Some(bb)) = (Bounds::of_points(a), Bounds::of_points(b)) else {
        return false;
    };
    let reach = TOUCH
        * ba.height()
            .max(bb.height())
            .max(ba.width().max(bb.width()) * 0.25);
    // Boxes farther apart than the reach cannot touch.
    if ba.min_x - bb.max_x > reach
        || bb.min_x - ba.max_x > reach
        || ba.min_y - bb.max_y > reach
        || bb.min_y - ba.max_y > reach
    {
        return false;
    }
    let near = |p: &crate::Point, line: &[crate::Point]| {
        if line.len() == 1 {
            return (p.x - line[0].x).hypot(p.y - line[0].y) <= reach;
        }
        line.windows(2)
            .any(|s| crate::preprocess::distance_to_segment(*p, s[0], s[1]) <= reach)
    };
    a.iter().any(|p| near(p, b)) || b.iter().any(|p| near(p, a))
}
