//! Training pictures as standalone SVG files: loss and accuracy per epoch, the confusion
//! matrix and the reliability diagram. Drawn with plotters' SVG backend, which needs no font files or system
//! libraries (text stays text in the SVG; the viewer picks the font).

use anyhow::{anyhow, Result};
use plotters::coord::CoordTranslate;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::config::{EpochRecord, History};
use crate::metrics::CalibrationBin;

const SIZE: (u32, u32) = (640, 360);
const COLOURS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// One named series of `(epoch, value)` points.
struct Series {
    name: &'static str,
    points: Vec<(i32, f64)>,
}

/// plotters' drawing errors as this crate's errors.
fn drawing<T, E: std::fmt::Debug>(result: Result<T, E>) -> Result<T> {
    result.map_err(|e| anyhow!("drawing a chart: {e:?}"))
}

/// Draws the chart's legend at `position`, in the style every picture shares.
fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    drawing(
        chart
            .configure_series_labels()
            .position(position)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(170, 170, 170))
            .draw(),
    )
}

/// A line chart with dots of several series against the epoch.
fn line_chart(title: &str, y_label: &str, series: &[Series]) -> Result<String> {
    let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() {
        (low, high) = (0.0, 1.0);
    }
    if high - low < 1e-9 {
        high = low + 1.0;
    }
    let pad = (high - low) * 0.05;
    let last_epoch = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .max()
        .unwrap_or(1)
        .max(2);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        drawing(root.fill(&WHITE))?;
        let mut chart = drawing(
            ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 21))
                .margin(14)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d(1..last_epoch, (low - pad)..(high + pad)),
        )?;
        drawing(
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(y_label)
                .x_labels(last_epoch.min(12) as usize)
                .light_line_style(WHITE)
                .draw(),
        )?;
        // A series without points (real pen digits in a run without them) gets no legend.
        let drawn = series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.points.is_empty());
        for (i, s) in drawn {
            let colour = COLOURS[i % COLOURS.len()];
            drawing(chart.draw_series(LineSeries::new(
                s.points.iter().copied(),
                colour.stroke_width(2),
            )))?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
            drawing(
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, colour.filled()))),
            )?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        drawing(root.present())?;
    }
    Ok(svg)
}

/// The points of one optional metric, scaled.
fn series(
    history: &History,
    name: &'static str,
    scale: f64,
    metric: fn(&EpochRecord) -> Option<f64>,
) -> Series {
    Series {
        name,
        points: history
            .epochs
            .iter()
            .filter_map(|e| metric(e).map(|v| (e.epoch as i32, scale * v)))
            .collect(),
    }
}

/// Loss per epoch (training and validation).
pub fn loss_chart(history: &History) -> Result<String> {
    line_chart(
        "Loss per epoch",
        "cross-entropy",
        &[
            series(history, "train (augmented)", 1.0, |e| Some(e.train_loss)),
            series(history, "validation", 1.0, |e| e.val_loss),
        ],
    )
}

/// Accuracy per epoch (training, validation and test), in percent.
pub fn accuracy_chart(history: &History) -> Result<String> {
    line_chart(
        "Accuracy per epoch",
        "accuracy (%)",
        &[
            series(history, "train (augmented)", 100.0, |e| {
                Some(e.train_accuracy)
            }),
            series(history, "validation", 100.0, |e| e.val_accuracy),
            series(history, "test", 100.0, |e| e.test_accuracy),
            series(
                history,
                "real pen digits (validation writers)",
                100.0,
                |e| e.pen_val_accuracy,
            ),
        ],
    )
}

/// The confusion matrix as a heat map with counts (rows: true class, columns: predicted):
/// the diagonal in green, errors in red scaled by the largest error so that they stand out.
pub fn confusion_chart(confusion: &[Vec<usize>], class_names: &[&str]) -> Result<String> {
    const CELL: i32 = 40;
    const LEFT: i32 = 110;
    const TOP: i32 = 70;
    let n = confusion.len() as i32;
    let size = ((LEFT + CELL * n + 30) as u32, (TOP + CELL * n + 30) as u32);
    let off_diagonal_max = confusion
        .iter()
        .enumerate()
        .flat_map(|(t, row)| row.iter().enumerate().filter(move |(p, _)| *p != t))
        .map(|(_, &count)| count)
        .max()
        .unwrap_or(0)
        .max(1);
    let centred = |size: u32, colour: &'static RGBColor| {
        TextStyle::from(("sans-serif", size).into_font())
            .color(colour)
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        drawing(root.fill(&WHITE))?;
        drawing(root.draw(&Text::new(
            "Confusion matrix (rows: true, columns: predicted)",
            (size.0 as i32 / 2, 22),
            centred(20, &BLACK),
        )))?;
        let label = TextStyle::from(("sans-serif", 16).into_font());
        for (i, name) in class_names.iter().enumerate().take(n as usize) {
            let middle = CELL * i as i32 + CELL / 2;
            let short: String = name.chars().take(5).collect();
            drawing(root.draw(&Text::new(
                short,
                (LEFT + middle, TOP - 12),
                centred(16, &BLACK),
            )))?;
            drawing(root.draw(&Text::new(
                name.to_string(),
                (LEFT - 8, TOP + middle),
                label.pos(Pos::new(HPos::Right, VPos::Center)),
            )))?;
        }
        for (t, row) in confusion.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let (fill, ink) = if t == p {
                    (RGBColor(199, 233, 192).to_rgba(), &BLACK)
                } else if count == 0 {
                    (WHITE.to_rgba(), &RGBColor(187, 187, 187))
                } else {
                    let alpha = 0.15 + 0.85 * count as f64 / off_diagonal_max as f64;
                    (RGBColor(214, 39, 40).mix(alpha), &BLACK)
                };
                let (x, y) = (LEFT + CELL * p as i32, TOP + CELL * t as i32);
                let corners = [(x, y), (x + CELL, y + CELL)];
                drawing(root.draw(&Rectangle::new(corners, fill.filled())))?;
                drawing(root.draw(&Rectangle::new(corners, RGBColor(221, 221, 221))))?;
                drawing(root.draw(&Text::new(
                    count.to_string(),
                    (x + CELL / 2, y + CELL / 2),
                    centred(16, ink),
                )))?;
            }
        }
        drawing(root.present())?;
    }
    Ok(svg)
}

/// The reliability diagram: accuracy against confidence per bin, before and after
/// calibration, over the diagonal of perfect calibration; each dot's area grows with the
/// number of examples in its bin. The y axis starts where the data does, since a model this
/// accurate puts nearly every example in the top bins.
pub fn reliability_chart(
    before: &[CalibrationBin],
    after: &[CalibrationBin],
    temperature: f32,
) -> Result<String> {
    let used = |bins: &[CalibrationBin]| -> Vec<(f64, f64, usize)> {
        bins.iter()
            .filter(|b| b.count > 0)
            .map(|b| (b.confidence, b.accuracy, b.count))
            .collect()
    };
    let series = [
        ("before (softmax of the logits)".to_string(), used(before)),
        (format!("after (temperature {temperature:.3})"), used(after)),
    ];
    let low = series
        .iter()
        .flat_map(|(_, points)| points.iter().flat_map(|p| [p.0, p.1]))
        .fold(1.0f64, f64::min);
    let low = ((low * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let total = before.iter().map(|b| b.count).sum::<usize>().max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 480)).into_drawing_area();
        drawing(root.fill(&WHITE))?;
        let mut chart = drawing(
            ChartBuilder::on(&root)
                .caption(
                    "Reliability on the MNIST test set (dot area: images in the bin)",
                    ("sans-serif", 17),
                )
                .margin(14)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(low..1.0, low..1.0),
        )?;
        drawing(
            chart
                .configure_mesh()
                .x_desc("confidence (top probability)")
                .y_desc("accuracy")
                .light_line_style(WHITE)
                .draw(),
        )?;
        let grey = RGBColor(150, 150, 150);
        drawing(chart.draw_series(LineSeries::new([(low, low), (1.0, 1.0)], grey)))?
            .label("perfect calibration")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], grey));
        // Dots only: a bin of three images is no trend, and a line through it would say so.
        for (i, (name, points)) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            drawing(chart.draw_series(points.iter().map(|&(x, y, n)| {
                let radius = (3.0 + 12.0 * (n as f64 / total).sqrt()) as i32;
                Circle::new((x, y), radius, colour.mix(0.55).filled())
            })))?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, colour.mix(0.55).filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        drawing(root.present())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::config::EpochRecord;

    #[test]
    fn charts_are_svg_with_one_point_per_epoch() {
        let epoch = |e: usize, acc: f64| EpochRecord {
            epoch: e,
            train_loss: 1.0 / e as f64,
            train_accuracy: acc,
            val_loss: Some(0.5 / e as f64),
            val_accuracy: Some(acc),
            test_accuracy: Some(acc),
            pen_val_accuracy: None,
            images_per_second: 1.0,
            train_seconds: 1.0,
            elapsed_seconds: e as f64,
        };
        let history = History {
            epochs: vec![epoch(1, 0.9), epoch(2, 0.95), epoch(3, 0.99)],
        };
        let svg = accuracy_chart(&history).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // Three series (train, validation, test) of three epochs each.
        assert_eq!(svg.matches("<circle").count(), 9);
        assert!(svg.contains("Accuracy per epoch") && svg.contains("validation"));
        let loss = loss_chart(&history).unwrap();
        assert_eq!(loss.matches("<circle").count(), 6);
    }

    #[test]
    fn the_reliability_chart_has_a_dot_per_used_bin() {
        let bin = |low: f64, count: usize, confidence: f64, accuracy: f64| CalibrationBin {
            low,
            high: low + 0.1,
            count,
            confidence,
            accuracy,
        };
        let before = [
            bin(0.5, 0, 0.0, 0.0),
            bin(0.8, 10, 0.85, 0.7),
            bin(0.9, 90, 0.99, 0.97),
        ];
        let after = [bin(0.8, 12, 0.84, 0.8), bin(0.9, 88, 0.97, 0.97)];
        let svg = reliability_chart(&before, &after, 1.5).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // Four bins with images, and one dot per series in the legend.
        assert_eq!(svg.matches("<circle").count(), 6);
        assert!(svg.contains("temperature 1.500"));
    }

    #[test]
    fn the_confusion_chart_shows_every_count() {
        let cm = confusion_chart(&[vec![5, 1], vec![0, 7]], &["alpha", "beta"]).unwrap();
        assert!(cm.starts_with("<svg") && cm.trim_end().ends_with("</svg>"));
        let texts: Vec<&str> = cm
            .split("</text>")
            .filter_map(|chunk| chunk.rsplit_once('>').map(|(_, text)| text.trim()))
            .collect();
        for expected in ["5", "1", "0", "7", "alpha", "beta"] {
            assert!(
                texts.contains(&expected),
                "{expected} missing from {texts:?}"
            );
        }
    }
}
