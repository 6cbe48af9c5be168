//! Real pen writing (UNIPEN's isolated digits and letters, as JSON lines): reading it, splitting
//! it by writer, and rendering it the way the page renders a drawing.
//!
//! Each line of a file is one character:
//! `{"label": 7, "writer": "syn/rcw-dig15", "strokes": [[[x, y], ...], ...]}`. The label is a
//! digit (a number) or a letter (a one-character string); the writer is
//! `<contributor>/<writer id>`, the contributor being the site that collected the writing with
//! its own tablets and instructions. Points are in the tablet's units with y growing downward;
//! units differ between contributors, so every drawing is normalized by its own box
//! ([`to_pad`]) before the page's recipe ([`crate::preprocess::strokes_to_digit`]) renders it.
//!
//! Every use of this data is writer-disjoint ([`Role`]): whole contributors are kept for
//! validation, and whole writers of the others for fitting the reading rules; the model learns
//! from the rest only.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::digit::DigitImage;
use crate::files::sha256_hex;
use crate::preprocess::strokes_to_digit;
use crate::strokes::{Bounds, Point, Stroke};

/// The file of isolated digits in a pen-data folder.
pub const DIGITS_FILE: &str = "digits.jsonl";
/// The file of isolated letters (shapes no reader takes for a digit) in a pen-data folder.
pub const LETTERS_FILE: &str = "letters.jsonl";
/// Environment variable naming a pen-data folder when `--pen-data` is not given.
pub const PEN_DATA_ENV: &str = "PEN_DATA_DIR";
/// Where the pen data lies beside a checkout of this repository.
pub const SHARED_PEN_DATA: &str = "../shared/unipen";

/// Contributors whose writers are kept for validation: nothing is trained or fitted on them.
/// Two sites of different kinds: `app` (14 writers, ~75 digits each) and `tos` (57 writers,
/// ~10 digits each).
pub const VALIDATION_CONTRIBUTORS: [&str; 2] = ["app", "tos"];
/// One writer in this many of the other contributors (chosen by a hash of the writer's id) is
/// kept out of training to fit the reading rules (trust thresholds, number grouping) on.
pub const TUNING_ONE_IN: u64 = 5;

/// What a pen sample shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PenLabel {
    /// A digit 0-9.
    Digit(u8),
    /// A letter that no reader takes for a digit.
    Letter(char),
}

/// One handwritten character.
#[derive(Clone, Debug, PartialEq)]
pub struct PenSample {
    /// What it shows.
    pub label: PenLabel,
    /// `<contributor>/<writer id>`.
    pub writer: String,
    /// Pen-down traces in writing order, in the tablet's units (y down).
    pub strokes: Vec<Stroke>,
}

/// What a writer's samples may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Learnt from.
    Train,
    /// Fitting the reading rules (never trained on).
    Tuning,
    /// Validation only (whole contributors; never trained or fitted on).
    Validation,
}

impl Role {
    /// The role of `writer` (`<contributor>/<writer id>`).
    pub fn of(writer: &str) -> Role {
        if VALIDATION_CONTRIBUTORS.contains(&contributor(writer)) {
            Role::Validation
        } else if writer_hash(writer).is_multiple_of(TUNING_ONE_IN) {
            Role::Tuning
        } else {
            Role::Train
        }
    }

    /// The role's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Role::Train => "train",
            Role::Tuning => "tuning",
            Role::Validation => "validation",
        }
    }
}

/// The contributor (collecting site) of `writer`: the part before the slash.
pub fn contributor(writer: &str) -> &str {
    writer.split('/').next().unwrap_or(writer)
}

/// A stable hash of a writer's id (the first 8 bytes of its SHA-256), so that the split does
/// not depend on file order or on the platform.
fn writer_hash(writer: &str) -> u64 {
    let hex = sha256_hex(writer.as_bytes());
    u64::from_str_radix(&hex[..16], 16).unwrap_or(0)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawLabel {
    Digit(u8),
    Letter(String),
}

#[derive(Deserialize)]
struct RawSample {
    label: RawLabel,
    writer: String,
    strokes: Vec<Vec<[f64; 2]>>,
}

/// Parses pen samples from JSON-lines text; `name` (the file) is named in errors with the line.
pub fn parse_jsonl(text: &str, name: &str) -> Result<Vec<PenSample>> {
    let mut samples = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = || format!("{name}, line {}", index + 1);
        let raw: RawSample = serde_json::from_str(line).with_context(|| {
            format!(
                "{}: expected {{\"label\": digit or letter, \"writer\": \"site/id\", \"strokes\": [[[x, y], ...], ...]}}",
                at()
            )
        })?;
        let label = match raw.label {
            RawLabel::Digit(d) if d <= 9 => PenLabel::Digit(d),
            RawLabel::Digit(d) => bail!("{}: label {d} is not a digit 0-9", at()),
            RawLabel::Letter(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_ascii_digit() => PenLabel::Letter(c),
                    _ => bail!("{}: label {s:?} is not one letter", at()),
                }
            }
        };
        let strokes: Vec<Stroke> = raw
            .strokes
            .iter()
            .map(|s| {
                s.iter()
                    .map(|p| Point::new(p[0] as f32, p[1] as f32))
                    .collect()
            })
            .filter(|s: &Stroke| !s.is_empty())
            .collect();
        if strokes.is_empty() {
            bail!("{}: no points in \"strokes\"", at());
        }
        samples.push(PenSample {
            label,
            writer: raw.writer,
            strokes,
        });
    }
    Ok(samples)
}

/// Reads one JSON-lines file of pen samples.
pub fn read_jsonl(path: &Path) -> Result<Vec<PenSample>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_jsonl(&text, &path.display().to_string())
}

/// The contributors whose writers are validation only when `held_out` are kept out too: the
/// fixed ones ([`VALIDATION_CONTRIBUTORS`]), then those.
pub fn validation_contributors(held_out: &[String]) -> Vec<String> {
    VALIDATION_CONTRIBUTORS
        .iter()
        .map(|c| c.to_string())
        .chain(held_out.iter().cloned())
        .collect()
}

/// A pen-data folder's digits and letters.
#[derive(Clone, Debug, Default)]
pub struct PenData {
    /// Isolated digits.
    pub digits: Vec<PenSample>,
    /// Isolated letters (may be empty when the folder has no letters file).
    pub letters: Vec<PenSample>,
    /// Contributors kept out of training and tuning beside [`VALIDATION_CONTRIBUTORS`]
    /// ([`PenData::holding_out`]).
    pub held_out: Vec<String>,
}

impl PenData {
    /// Reads [`DIGITS_FILE`] (required) and [`LETTERS_FILE`] (if present) from `dir`.
    pub fn load(dir: &Path) -> Result<PenData> {
        let digits_path = dir.join(DIGITS_FILE);
        if !digits_path.is_file() {
            bail!(
                "{}: expected {DIGITS_FILE} (and optionally {LETTERS_FILE}) in it, one JSON object a line",
                dir.display()
            );
        }
        let digits = read_jsonl(&digits_path)?;
        if let Some(bad) = digits
            .iter()
            .find(|s| !matches!(s.label, PenLabel::Digit(_)))
        {
            bail!(
                "{}: holds a letter ({:?} by {})",
                digits_path.display(),
                bad.label,
                bad.writer
            );
        }
        let letters_path = dir.join(LETTERS_FILE);
        let letters = if letters_path.is_file() {
            read_jsonl(&letters_path)?
        } else {
            Vec::new()
        };
        Ok(PenData {
            digits,
            letters,
            held_out: Vec::new(),
        })
    }

    /// The same data with `contributors` moved to validation as well: a model trained
    /// without a whole site, and measured on it, stands for how the product reads a site it
    /// has never seen (its writers' misses are what corrections on the page meet). A
    /// contributor with no sample here, or one that is validation already, is an error.
    pub fn holding_out(mut self, contributors: &[String]) -> Result<PenData> {
        if contributors.is_empty() {
            return Ok(self);
        }
        let known: std::collections::BTreeSet<&str> = self
            .digits
            .iter()
            .chain(&self.letters)
            .map(|s| contributor(&s.writer))
            .collect();
        for c in contributors {
            if VALIDATION_CONTRIBUTORS.contains(&c.as_str()) {
                bail!(
                    "--hold-out {c}: {c} is a validation contributor already ({})",
                    VALIDATION_CONTRIBUTORS.join(", ")
                );
            }
            if !known.contains(c.as_str()) {
                bail!(
                    "--hold-out {c}: no writer of contributor {c:?} in the pen data (its contributors: {})",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                );
            }
            if !self.held_out.contains(c) {
                self.held_out.push(c.clone());
            }
        }
        Ok(self)
    }

    /// The role of `writer` in this data: [`Role::of`], or validation for a held-out
    /// contributor.
    pub fn role_of(&self, writer: &str) -> Role {
        if self.held_out.iter().any(|c| c == contributor(writer)) {
            Role::Validation
        } else {
            Role::of(writer)
        }
    }

    /// The contributors whose writers are validation only: the fixed ones, then any held out.
    pub fn validation_contributors(&self) -> Vec<String> {
        validation_contributors(&self.held_out)
    }

    /// The samples of writers in `role`.
    pub fn with_role(&self, role: Role) -> PenData {
        let keep = |set: &[PenSample]| -> Vec<PenSample> {
            set.iter()
                .filter(|s| self.role_of(&s.writer) == role)
                .cloned()
                .collect()
        };
        PenData {
            digits: keep(&self.digits),
            letters: keep(&self.letters),
            held_out: self.held_out.clone(),
        }
    }

    /// One line for logs: samples and writers by role.
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<Role, (usize, usize, std::collections::BTreeSet<&str>)> =
            BTreeMap::new();
        for s in &self.digits {
            let e = counts.entry(self.role_of(&s.writer)).or_default();
            e.0 += 1;
            e.2.insert(&s.writer);
        }
        for s in &self.letters {
            let e = counts.entry(self.role_of(&s.writer)).or_default();
            e.1 += 1;
            e.2.insert(&s.writer);
        }
        counts
            .iter()
            .map(|(role, (d, l, w))| {
                format!(
                    "{}: {d} digits, {l} letters, {} writers",
                    role.name(),
                    w.len()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Finds the pen-data folder: `--pen-data`, then `$PEN_DATA_DIR`, then [`SHARED_PEN_DATA`]
/// when it exists. `None` when none is found.
pub fn locate(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = flag {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(PEN_DATA_ENV) {
        return Some(PathBuf::from(dir));
    }
    let shared = Path::new(SHARED_PEN_DATA);
    shared
        .join(DIGITS_FILE)
        .is_file()
        .then(|| shared.to_path_buf())
}

/// The strokes moved and scaled into pad units: the drawing's box centred on the pad, its
/// longer side `extent` of the pad's, aspect kept. A writer's digits are of many sizes on
/// the tablet; the page renders any size the same way, so the size chosen here only has to
/// be one a person draws at.
pub fn to_pad(strokes: &[Stroke], extent: f32) -> Vec<Stroke> {
    let Some(b) = Bounds::of_strokes(strokes) else {
        return Vec::new();
    };
    let side = b.width().max(b.height()).max(f32::EPSILON);
    let scale = extent / side;
    let c = b.centre();
    strokes
        .iter()
        .map(|s| {
            s.iter()
                .map(|p| Point::new(0.5 + (p.x - c.x) * scale, 0.5 + (p.y - c.y) * scale))
                .collect()
        })
        .collect()
}

/// How a pen sample is varied before it is rendered for training: a random linear map of its
/// strokes about their centre (slant, tilt, width), so that a writer's one drawing stands for
/// the ways they and others write it. Unlike distorting the 28x28 image, the page's pen keeps
/// its width through this, as it does for a person's drawing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrokeJitter {
    /// Largest rotation either way, in degrees.
    pub max_rotation_deg: f32,
    /// Largest horizontal shear either way (x += shear * y).
    pub max_shear: f32,
    /// Largest relative change of width against height either way.
    pub max_aspect: f32,
    /// Largest shift of each stroke on its own, either way along each axis, as a share of the
    /// drawing's longer side: the parts of a many-stroke digit (a 4's two strokes, a 5's bar, a
    /// 7's cross) meet a little differently each time a person writes it. 0 in recipes saved
    /// before it existed.
    #[serde(default)]
    pub max_stroke_shift: f32,
}

impl StrokeJitter {
    /// The variations the shipped recipe draws from.
    pub const SHIPPED: StrokeJitter = StrokeJitter {
        max_rotation_deg: 10.0,
        max_shear: 0.25,
        max_aspect: 0.2,
        max_stroke_shift: 0.0,
    };

    /// `strokes` (in pad units) under one random map of this jitter.
    pub fn apply(&self, strokes: &[Stroke], rng: &mut impl Rng) -> Vec<Stroke> {
        let mut uniform = |max: f32| {
            if max > 0.0 {
                rng.random_range(-max..=max)
            } else {
                0.0
            }
        };
        let (sin, cos) = uniform(self.max_rotation_deg).to_radians().sin_cos();
        let shear = uniform(self.max_shear);
        let aspect = 1.0 + uniform(self.max_aspect);
        let Some(b) = Bounds::of_strokes(strokes) else {
            return Vec::new();
        };
        let c = b.centre();
        let reach = self.max_stroke_shift * b.width().max(b.height());
        strokes
            .iter()
            .map(|s| {
                // One draw per stroke only when the setting is on: the random stream of a
                // jitter without it stays as it was.
                let (sx, sy) = if reach > 0.0 {
                    (
                        rng.random_range(-reach..=reach),
                        rng.random_range(-reach..=reach),
                    )
                } else {
                    (0.0, 0.0)
                };
                s.iter()
                    .map(|p| {
                        let (x, y) = ((p.x + sx - c.x) * aspect, p.y + sy - c.y);
                        let x = x + shear * y;
                        Point::new(c.x + cos * x - sin * y, c.y + sin * x + cos * y)
                    })
                    .collect()
            })
            .collect()
    }
}

/// The size (share of the pad's side) at which pen samples are placed on the pad.
pub const PAD_EXTENT: f32 = 0.5;

/// `sample` as the page would render it, unvaried.
pub fn render(sample: &PenSample) -> Option<DigitImage> {
    strokes_to_digit(&to_pad(&sample.strokes, PAD_EXTENT))
}

/// `sample` rendered `copies` times: once as written, then varied by `jitter`.
pub fn render_copies(
    sample: &PenSample,
    copies: usize,
    jitter: &StrokeJitter,
    rng: &mut impl Rng,
) -> Vec<DigitImage> {
    let on_pad = to_pad(&sample.strokes, PAD_EXTENT);
    (0..copies)
        .filter_map(|k| {
            if k == 0 {
                strokes_to_digit(&on_pad)
            } else {
                strokes_to_digit(&jitter.apply(&on_pad, rng))
            }
        })
        .collect()
}

/// Training images that are varied renderings of pen drawings, drawn anew at the start of
/// every epoch ([`super::config::PenRecipe::redraw_each_epoch`]).
#[derive(Clone, Debug)]
pub struct PenRedraw {
    /// The drawings, in pad units.
    pub drawings: Vec<Vec<Stroke>>,
    /// For each varied rendering: its index among the training images and its drawing's
    /// index in `drawings`.
    pub slots: Vec<(usize, usize)>,
    /// How each rendering is varied.
    pub jitter: StrokeJitter,
}

impl PenRedraw {
    /// Replaces every slot's image in `images` with a new varied rendering of its drawing.
    /// Each slot has its own random stream from `seed`, so the result does not depend on how
    /// many threads render.
    pub fn redraw(&self, images: &mut [[f32; crate::digit::PIXELS]], seed: u64) {
        use rand::SeedableRng;
        use rayon::prelude::*;
        let rendered: Vec<Option<DigitImage>> = self
            .slots
            .par_iter()
            .enumerate()
            .map(|(k, &(_, drawing))| {
                let mut rng = rand::rngs::StdRng::seed_from_u64(
                    seed ^ (k as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93),
                );
                strokes_to_digit(&self.jitter.apply(&self.drawings[drawing], &mut rng))
            })
            .collect();
        for (&(slot, _), image) in self.slots.iter().zip(rendered) {
            // A variation that renders to nothing keeps the slot's previous image.
            if let (Some(image), Some(target)) = (image, images.get_mut(slot)) {
                *target = *image.pixels();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const TWO_LINES: &str = r#"{"label":7,"writer":"syn/a1","strokes":[[[0,0],[100,0],[40,200]]]}
{"label":"x","writer":"app/b2","strokes":[[[0,0],[50,50]],[[50,0],[0,50]]]}
"#;

    #[test]
    fn digits_and_letters_are_read_with_their_writers() {
        let samples = parse_jsonl(TWO_LINES, "t.jsonl").unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].label, PenLabel::Digit(7));
        assert_eq!(samples[0].writer, "syn/a1");
        assert_eq!(samples[0].strokes[0][2], Point::new(40.0, 200.0));
        assert_eq!(samples[1].label, PenLabel::Letter('x'));
        assert_eq!(samples[1].strokes.len(), 2);
    }

    #[test]
    fn a_held_out_contributor_is_validation_and_nothing_else() {
        let digits = parse_jsonl(
            &format!(
                "{TWO_LINES}{}",
                r#"{"label":3,"writer":"ced/c3","strokes":[[[0,0],[9,9]]]}"#
            ),
            "t.jsonl",
        )
        .unwrap();
        let data = PenData {
            digits,
            ..PenData::default()
        };
        assert_ne!(data.role_of("ced/c3"), Role::Validation);
        let held = data.clone().holding_out(&["ced".to_string()]).unwrap();
        assert_eq!(held.role_of("ced/c3"), Role::Validation);
        assert_eq!(held.role_of("syn/a1"), Role::of("syn/a1"));
        let validation = held.with_role(Role::Validation);
        let writers: Vec<&str> = validation
            .digits
            .iter()
            .map(|s| s.writer.as_str())
            .collect();
        assert_eq!(writers, ["app/b2", "ced/c3"]);
        assert!(held
            .with_role(Role::Train)
            .digits
            .iter()
            .all(|s| !s.writer.starts_with("ced/")));
        assert_eq!(held.validation_contributors(), ["app", "tos", "ced"]);
        // Named wrongly: said so, with what there is.
        let err = format!(
            "{:#}",
            data.clone().holding_out(&["cef".into()]).unwrap_err()
        );
        assert!(
            err.contains("\"cef\"") && err.contains("app, ced, syn"),
            "{err}"
        );
        let err = format!("{:#}", data.holding_out(&["tos".into()]).unwrap_err());
        assert!(err.contains("validation contributor already"), "{err}");
    }

    #[test]
    fn a_bad_line_is_named_with_what_was_expected() {
        let text =
            format!("{TWO_LINES}{{\"label\":12,\"writer\":\"a/b\",\"strokes\":[[[0,0]]]}}\n");
        let err = format!("{:#}", parse_jsonl(&text, "d.jsonl").unwrap_err());
        assert!(
            err.contains("d.jsonl, line 3") && err.contains("not a digit"),
            "{err}"
        );
        let err = format!("{:#}", parse_jsonl("{\"label\":1}", "d.jsonl").unwrap_err());
        assert!(
            err.contains("line 1") && err.contains("\"writer\""),
            "{err}"
        );
        let err = format!(
            "{:#}",
            parse_jsonl(r#"{"label":1,"writer":"a/b","strokes":[]}"#, "d.jsonl").unwrap_err()
        );
        assert!(err.contains("no points"), "{err}");
    }

    #[test]
    fn validation_contributors_are_held_out_whole() {
        assert_eq!(Role::of("app/anyone"), Role::Validation);
        assert_eq!(Role::of("tos/x7"), Role::Validation);
        assert_eq!(contributor("syn/rcw-dig15"), "syn");
        // Of many writers of a training contributor, about one in TUNING_ONE_IN is kept for
        // tuning, and a writer's role never depends on anything but their id.
        let writers: Vec<String> = (0..1000).map(|i| format!("ced/w{i}")).collect();
        let tuning = writers
            .iter()
            .filter(|w| Role::of(w) == Role::Tuning)
            .count();
        assert!((150..250).contains(&tuning), "{tuning} of 1000");
        assert!(writers
            .iter()
            .all(|w| Role::of(w) != Role::Validation && Role::of(w) == Role::of(w)));
    }

    #[test]
    fn drawings_in_any_tablet_units_render_alike() {
        let small = parse_jsonl(TWO_LINES, "t").unwrap().remove(0);
        let mut large = small.clone();
        for p in large.strokes.iter_mut().flatten() {
            *p = Point::new(p.x * 37.0 + 5000.0, p.y * 37.0 - 900.0);
        }
        let (a, b) = (render(&small).unwrap(), render(&large).unwrap());
        assert!(a.mean_abs_diff(&b) < 1e-4);
        let on_pad = to_pad(&large.strokes, PAD_EXTENT);
        let bounds = Bounds::of_strokes(&on_pad).unwrap();
        assert!((bounds.height() - PAD_EXTENT).abs() < 1e-5);
        assert!((bounds.centre().y - 0.5).abs() < 1e-5);
    }

    #[test]
    fn copies_are_the_drawing_then_varied_versions_of_it() {
        let seven = parse_jsonl(TWO_LINES, "t").unwrap().remove(0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let copies = render_copies(&seven, 4, &StrokeJitter::SHIPPED, &mut rng);
        assert_eq!(copies.len(), 4);
        assert_eq!(copies[0], render(&seven).unwrap());
        for varied in &copies[1..] {
            let d = varied.mean_abs_diff(&copies[0]);
            assert!(d > 1e-3 && d < 0.2, "{d}");
        }
    }

    #[test]
    fn a_stroke_shift_moves_each_stroke_by_itself() {
        let cross = vec![
            vec![Point::new(0.3, 0.5), Point::new(0.7, 0.5)],
            vec![Point::new(0.5, 0.3), Point::new(0.5, 0.7)],
        ];
        let jitter = StrokeJitter {
            max_rotation_deg: 0.0,
            max_shear: 0.0,
            max_aspect: 0.0,
            max_stroke_shift: 0.1,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let moved = jitter.apply(&cross, &mut rng);
        let offset = |k: usize| {
            let (a, b) = (cross[k][0], moved[k][0]);
            (b.x - a.x, b.y - a.y)
        };
        // Each stroke keeps its shape and moves by at most 10% of the 0.4-wide drawing...
        for k in 0..2 {
            let (dx, dy) = offset(k);
            assert!(
                dx.abs() <= 0.04 + 1e-6 && dy.abs() <= 0.04 + 1e-6,
                "{dx} {dy}"
            );
            let (ex, ey) = (moved[k][1].x - cross[k][1].x, moved[k][1].y - cross[k][1].y);
            assert!((ex - dx).abs() < 1e-6 && (ey - dy).abs() < 1e-6);
        }
        // ...and not by the same amount as the other stroke.
        let (a, b) = (offset(0), offset(1));
        assert!((a.0 - b.0).abs() + (a.1 - b.1).abs() > 1e-3, "{a:?} {b:?}");
        // Without it, the strokes are left where they were.
        let still = StrokeJitter {
            max_stroke_shift: 0.0,
            ..jitter
        };
        assert_eq!(still.apply(&cross, &mut rng), cross);
    }

    #[test]
    fn redrawing_replaces_only_the_varied_slots_and_repeats_for_a_seed() {
        let seven = parse_jsonl(TWO_LINES, "t").unwrap().remove(0);
        let redraw = PenRedraw {
            drawings: vec![to_pad(&seven.strokes, PAD_EXTENT)],
            slots: vec![(1, 0), (2, 0)],
            jitter: StrokeJitter::SHIPPED,
        };
        let blank = [[0.0f32; crate::digit::PIXELS]; 4];
        let mut first = blank;
        redraw.redraw(&mut first, 7);
        assert_eq!(first[0], blank[0]);
        assert_eq!(first[3], blank[3]);
        assert!(first[1].iter().sum::<f32>() > 10.0 && first[2].iter().sum::<f32>() > 10.0);
        // The two slots get different variations; the same seed gives the same images, another
        // seed others.
        assert_ne!(first[1], first[2]);
        let mut again = blank;
        redraw.redraw(&mut again, 7);
        assert_eq!(again, first);
        let mut other = blank;
        redraw.redraw(&mut other, 8);
        assert_ne!(other[1], first[1]);
    }
}
