//! Training pictures as standalone SVG files: loss and accuracy per epoch, and the
//! confusion matrix. Written by hand (a few dozen lines) rather than through a plotting
//! crate, so the trainer needs no font or image libraries.

use std::fmt::Write;

use super::training::History;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const MARGIN_LEFT: f64 = 64.0;
const MARGIN_RIGHT: f64 = 150.0;
const MARGIN_Y: f64 = 40.0;
const COLOURS: [&str; 4] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];

/// One named series of `(epoch, value)` points.
struct Series {
    name: &'static str,
    points: Vec<(f64, f64)>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A line chart of several series against the epoch.
fn line_chart(title: &str, y_label: &str, series: &[Series]) -> String {
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let (x_max, mut y_min, mut y_max) = all.iter().fold(
        (1.0f64, f64::INFINITY, f64::NEG_INFINITY),
        |(xm, lo, hi), &(x, y)| (xm.max(x), lo.min(y), hi.max(y)),
    );
    if !y_min.is_finite() {
        (y_min, y_max) = (0.0, 1.0);
    }
    if (y_max - y_min).abs() < 1e-9 {
        y_max = y_min + 1.0;
    }
    let pad = (y_max - y_min) * 0.05;
    let (y_min, y_max) = (y_min - pad, y_max + pad);
    let plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let plot_h = HEIGHT - 2.0 * MARGIN_Y;
    let sx = |x: f64| {
        MARGIN_LEFT
            + if x_max > 1.0 {
                (x - 1.0) / (x_max - 1.0)
            } else {
                0.5
            } * plot_w
    };
    let sy = |y: f64| MARGIN_Y + (1.0 - (y - y_min) / (y_max - y_min)) * plot_h;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>
<rect x="{MARGIN_LEFT}" y="{MARGIN_Y}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>
"##,
        MARGIN_LEFT + plot_w / 2.0,
        escape(title)
    );
    for i in 0..=4 {
        let y = y_min + (y_max - y_min) * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{MARGIN_LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            MARGIN_LEFT + plot_w,
            MARGIN_LEFT - 6.0,
            sy(y) + 4.0,
            format_tick(y),
            py = sy(y)
        );
    }
    let epochs = x_max as usize;
    let step = epochs.div_ceil(10).max(1);
    for e in (1..=epochs).step_by(step) {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{e}</text>"#,
            sx(e as f64),
            HEIGHT - MARGIN_Y + 16.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">epoch</text><text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        MARGIN_LEFT + plot_w / 2.0,
        HEIGHT - 6.0,
        MARGIN_Y + plot_h / 2.0,
        escape(y_label)
    );
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        for p in &s.points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#,
                sx(p.0),
                sy(p.1)
            );
        }
        let ly = MARGIN_Y + 10.0 + 20.0 * i as f64;
        let lx = WIDTH - MARGIN_RIGHT + 12.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            escape(s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn format_tick(v: f64) -> String {
    if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Loss per epoch (training and validation).
pub fn loss_chart(history: &History) -> String {
    let series = |name, f: fn(&super::training::EpochRecord) -> Option<f64>| Series {
        name,
        points: history
            .epochs
            .iter()
            .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
            .collect(),
    };
    line_chart(
        "Loss per epoch",
        "cross-entropy",
        &[
            series("train (augmented)", |e| Some(e.train_loss)),
            series("validation", |e| e.val_loss),
        ],
    )
}

/// Accuracy per epoch (training, validation and test), in percent.
pub fn accuracy_chart(history: &History) -> String {
    let series = |name, f: fn(&super::training::EpochRecord) -> Option<f64>| Series {
        name,
        points: history
            .epochs
            .iter()
            .filter_map(|e| f(e).map(|v| (e.epoch as f64, 100.0 * v)))
            .collect(),
    };
    line_chart(
        "Accuracy per epoch",
        "accuracy (%)",
        &[
            series("train (augmented)", |e| Some(e.train_accuracy)),
            series("validation", |e| e.val_accuracy),
            series("test", |e| e.test_accuracy),
        ],
    )
}

/// The confusion matrix as a heat map with counts (rows: true class, columns: predicted).
pub fn confusion_chart(confusion: &[Vec<usize>], class_names: &[&str]) -> String {
    let n = confusion.len();
    let cell = 40.0;
    let left = 110.0;
    let top = 70.0;
    let size = cell * n as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{cx}" y="22" font-size="15" text-anchor="middle">Confusion matrix (rows: true, columns: predicted)</text>"#,
        w = left + size + 30.0,
        h = top + size + 30.0,
        cx = (left + size + 30.0) / 2.0
    );
    let off_diagonal_max = (0..n)
        .flat_map(|t| (0..n).filter(move |&p| p != t).map(move |p| (t, p)))
        .map(|(t, p)| confusion[t][p])
        .max()
        .unwrap_or(0)
        .max(1);
    for (i, name) in class_names.iter().enumerate().take(n) {
        let c = left + cell * (i as f64 + 0.5);
        let _ = writeln!(
            svg,
            r#"<text x="{c:.1}" y="{}" text-anchor="middle">{}</text><text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            top - 8.0,
            escape(&short(name)),
            left - 8.0,
            top + cell * (i as f64 + 0.5) + 4.0,
            escape(name)
        );
    }
    for (t, row) in confusion.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            // Diagonal in green; errors in red, scaled by the largest error so they stand out.
            let (fill, text) = if t == p {
                ("#c7e9c0".to_string(), "#000")
            } else if count == 0 {
                ("#ffffff".to_string(), "#bbb")
            } else {
                let a = 0.15 + 0.85 * count as f64 / off_diagonal_max as f64;
                (format!("rgba(214,39,40,{a:.2})"), "#000")
            };
            let (x, y) = (left + cell * p as f64, top + cell * t as f64);
            let _ = writeln!(
                svg,
                r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{text}">{count}</text>"##,
                x + cell / 2.0,
                y + cell / 2.0 + 4.0
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn short(name: &str) -> String {
    name.chars().take(5).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::training::EpochRecord;

    #[test]
    fn charts_are_svg_with_one_point_per_epoch() {
        let epoch = |e: usize, acc: f64| EpochRecord {
            epoch: e,
            train_loss: 1.0 / e as f64,
            train_accuracy: acc,
            val_loss: Some(0.5 / e as f64),
            val_accuracy: Some(acc),
            test_accuracy: Some(acc),
            images_per_second: 1.0,
            train_seconds: 1.0,
            elapsed_seconds: e as f64,
        };
        let history = History {
            epochs: vec![epoch(1, 0.9), epoch(2, 0.95), epoch(3, 0.99)],
        };
        let svg = accuracy_chart(&history);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 9);
        let cm = confusion_chart(&[vec![5, 1], vec![0, 7]], &["a", "b"]);
        assert_eq!(cm.matches("<rect x=").count(), 4);
    }
}
