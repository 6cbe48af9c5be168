//! A drawing as vectors: strokes of points in pad coordinates.
//!
//! The pad is the unit square: `(0, 0)` is its top-left corner and `(1, 1)` its bottom-right,
//! whatever size it has on screen. Keeping drawings in these units lets the page redraw them
//! at any size (window resize, device pixel ratio) and gives preprocessing a scale to judge
//! "tiny" by. A small text format stores drawings as fixtures for tests and the CLI.

/// A point on the pad, in pad units (the pad is `[0, 1] x [0, 1]`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    /// Rightwards from the left edge.
    pub x: f32,
    /// Downwards from the top edge.
    pub y: f32,
}

impl Point {
    /// A point at `(x, y)`.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }
}

/// One pen-down to pen-up line.
pub type Stroke = Vec<Point>;

/// The axis-aligned box around a set of points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Smallest x.
    pub min_x: f32,
    /// Smallest y.
    pub min_y: f32,
    /// Largest x.
    pub max_x: f32,
    /// Largest y.
    pub max_y: f32,
}

impl Bounds {
    /// The box around every point of every stroke; `None` when there are no points.
    pub fn of_strokes(strokes: &[Stroke]) -> Option<Self> {
        Self::of_points(strokes.iter().flatten())
    }

    /// The box around `points`; `None` when there are none.
    pub fn of_points<'a>(points: impl IntoIterator<Item = &'a Point>) -> Option<Self> {
        let mut points = points.into_iter();
        let first = points.next()?;
        let mut b = Bounds {
            min_x: first.x,
            min_y: first.y,
            max_x: first.x,
            max_y: first.y,
        };
        for p in points {
            b.min_x = b.min_x.min(p.x);
            b.min_y = b.min_y.min(p.y);
            b.max_x = b.max_x.max(p.x);
            b.max_y = b.max_y.max(p.y);
        }
        Some(b)
    }

    /// Width of the box.
    pub fn width(&self) -> f32 {
        self.max_x - self.min_x
    }

    /// Height of the box.
    pub fn height(&self) -> f32 {
        self.max_y - self.min_y
    }

    /// Centre of the box.
    pub fn centre(&self) -> Point {
        Point::new(
            (self.min_x + self.max_x) / 2.0,
            (self.min_y + self.max_y) / 2.0,
        )
    }
}

/// Why a stroke file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct StrokeParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong and what was expected.
    pub reason: String,
}

/// Parses the stroke text format: one stroke per line, points as `x,y` separated by spaces;
/// blank lines and lines starting with `#` are ignored.
///
/// ```text
/// # a "1"
/// 0.5,0.2 0.5,0.8
/// ```
pub fn parse_strokes(text: &str) -> Result<Vec<Stroke>, StrokeParseError> {
    let mut strokes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let stroke = line
            .split_whitespace()
            .map(parse_point)
            .collect::<Result<Stroke, String>>()
            .map_err(|reason| StrokeParseError {
                line: index + 1,
                reason,
            })?;
        strokes.push(stroke);
    }
    Ok(strokes)
}

fn parse_point(pair: &str) -> Result<Point, String> {
    let (x, y) = pair
        .split_once(',')
        .ok_or_else(|| format!("expected a point `x,y`, found `{pair}`"))?;
    let number = |s: &str| {
        s.parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("expected a finite number, found `{s}` in `{pair}`"))
    };
    Ok(Point::new(number(x)?, number(y)?))
}

/// Writes strokes in the format [`parse_strokes`] reads.
pub fn format_strokes(strokes: &[Stroke]) -> String {
    let mut out = String::new();
    for stroke in strokes {
        let points: Vec<String> = stroke
            .iter()
            .map(|p| format!("{:.4},{:.4}", p.x, p.y))
            .collect();
        out.push_str(&points.join(" "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let text = "# comment\n0.1,0.2 0.3,0.4\n\n0.5,0.5\n";
        let strokes = parse_strokes(text).unwrap();
        assert_eq!(
            strokes,
            vec![
                vec![Point::new(0.1, 0.2), Point::new(0.3, 0.4)],
                vec![Point::new(0.5, 0.5)]
            ]
        );
        assert_eq!(parse_strokes(&format_strokes(&strokes)).unwrap(), strokes);
    }

    #[test]
    fn bad_point_names_the_line() {
        let err = parse_strokes("0.1,0.2\n0.3;0.4").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("0.3;0.4"));
        assert!(parse_strokes("nan,1").is_err());
    }

    #[test]
    fn bounds_of_nothing_is_none() {
        assert_eq!(Bounds::of_strokes(&[]), None);
        assert_eq!(Bounds::of_strokes(&[vec![]]), None);
    }
}
