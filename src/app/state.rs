//! The page's state: whether the model is ready, the number read (each digit's answer), which
//! digit is on show and its explanation. Strokes are not
//! here: they change on every pointer event and live in [`super::pad::Drawing`], outside
//! Yew's render cycle; this state changes at most once per animation frame.

use std::rc::Rc;

use yew::Reducible;

use crate::classifier::Prediction;
use crate::digit::DigitImage;
use crate::layers::Layers;
use crate::personal::{Adapted, Example};
use crate::preprocess::Placement;
use crate::saliency::Saliency;
use crate::strokes::Bounds;

/// Where the model is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelStatus {
    /// Being fetched and optimized.
    Loading,
    /// Ready to answer; the text describes the model (from its metadata).
    Ready(String),
    /// Could not be loaded (or inference failed); the reason, for the banner.
    Failed(String),
}

impl ModelStatus {
    /// The `data-state` value the page shows for this status.
    pub fn as_data_state(&self) -> &'static str {
        match self {
            ModelStatus::Loading => "loading",
            ModelStatus::Ready(_) => "ready",
            ModelStatus::Failed(_) => "error",
        }
    }
}

/// One digit of the number read, with what it was computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    /// The strokes it is made of (indices into the drawing).
    pub pieces: Vec<usize>,
    /// The box around them, in pad units.
    pub bounds: Bounds,
    /// The model's answer.
    pub prediction: Prediction,
    /// The answer shown: the model's, after the person's examples had their say.
    pub answer: Adapted,
    /// Exactly the image fed to the model.
    pub image: DigitImage,
    /// Where the drawing landed in that image (to map the explanation back onto the pad).
    pub placement: Placement,
    /// Number of strokes on the pad when the number was read.
    pub strokes: usize,
    /// Whether every stroke was finished then (false for a reading taken while drawing).
    pub complete: bool,
    /// The inference that produced this answer, in milliseconds (its share of its batch;
    /// answers are kept while a stroke grows, so this is not the time of the latest reading).
    pub latency_ms: f64,
}

/// Which digit of `reading` is on show: the one under the pointer (`hover`), else the one
/// holding the latest stroke.
pub fn focused(reading: &[Shown], hover: Option<usize>) -> Option<usize> {
    focus(reading.len(), hover, |i| {
        reading[i].pieces.iter().max().copied()
    })
}

/// The rule of [`focused`] for any list of `count` digits whose latest stroke (highest
/// index) `latest_stroke` gives: the hovered digit, else the one written last.
pub fn focus(
    count: usize,
    hover: Option<usize>,
    latest_stroke: impl Fn(usize) -> Option<usize>,
) -> Option<usize> {
    hover
        .filter(|&h| h < count)
        .or_else(|| (0..count).max_by_key(|&i| latest_stroke(i)))
}

/// Everything the page renders from.
#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    /// Model status.
    pub status: ModelStatus,
    /// The digits read, left to right; empty when the pad is empty or nothing was read yet.
    pub reading: Vec<Shown>,
    /// The digit under the pointer, if any.
    pub hover: Option<usize>,
    /// Strokes on the pad (for the Undo/Clear buttons and the empty-pad hint).
    pub strokes: usize,
    /// Bumped whenever the drawing changes other than by the pointer (undo, clear), so the
    /// pad knows to redraw from its strokes.
    pub revision: u64,
    /// Whether the person asked to see why (the saliency overlay).
    pub explain: bool,
    /// The explanation of the answer on show, once computed (it follows the answer).
    pub saliency: Option<Explained>,
    /// The person's examples kept in this browser (and used), oldest first.
    pub kept: Rc<Vec<Example>>,
    /// A line about the examples (an import, a failure to save).
    pub notice: Option<String>,
    /// The examples as they were before the last "forget", while it can be undone (until the
    /// examples change otherwise).
    pub undo: Option<Rc<Vec<Example>>>,
    /// Why the examples this browser stored could not be read (they are kept aside, untouched).
    pub unreadable: Option<String>,
    /// Whether the layers view is open.
    pub layers_open: bool,
    /// The network's stages for the digit on show, once computed (while the view is open).
    pub layers: Option<Rc<Layers>>,
    /// How many sets of stages have been computed (the view's update count).
    pub layer_updates: u64,
    /// Why the stages could not be computed (shown in the view; the answers go on).
    pub layers_error: Option<String>,
}

/// An explanation and the drawing it explains.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    /// The occlusion map.
    pub saliency: Saliency,
    /// Strokes of the drawing it was computed from.
    pub strokes: usize,
    /// The strokes of the digit it explains.
    pub pieces: Vec<usize>,
    /// How long it took, in milliseconds.
    pub ms: f64,
}

impl AppState {
    /// The digit on show ([`focused`]).
    pub fn shown(&self) -> Option<&Shown> {
        focused(&self.reading, self.hover).map(|i| &self.reading[i])
    }

    /// The explanation, when it belongs to the answer on show and the person asked for it.
    pub fn current_explanation(&self) -> Option<&Explained> {
        let shown = self.shown()?;
        self.saliency
            .as_ref()
            .filter(|e| self.explain && e.strokes == shown.strokes && e.pieces == shown.pieces)
            .filter(|e| e.saliency.digit == shown.prediction.digit())
    }

    /// The stages, when the view is open and they were computed from the image on show.
    pub fn current_layers(&self) -> Option<&Rc<Layers>> {
        let shown = self.shown()?;
        self.layers.as_ref().filter(|l| {
            self.layers_open
                && l.stages
                    .first()
                    .is_some_and(|input| input.values == shown.image.pixels())
        })
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            status: ModelStatus::Loading,
            reading: Vec::new(),
            hover: None,
            strokes: 0,
            revision: 0,
            explain: false,
            saliency: None,
            kept: Rc::default(),
            notice: None,
            undo: None,
            unreadable: None,
            layers_open: false,
            layers: None,
            layer_updates: 0,
            layers_error: None,
        }
    }
}

/// What can happen to the state.
pub enum Action {
    /// The model is ready.
    ModelReady(String),
    /// The model could not be loaded or run.
    ModelFailed(String),
    /// The number was read again: its digits, left to right.
    Read(Vec<Shown>),
    /// The pointer is over this digit's box (`None`: over none).
    Hover(Option<usize>),
    /// The pad holds this many strokes now, drawn by the pointer.
    StrokesDrawn(usize),
    /// Undo or clear changed the drawing to this many strokes; the answer is stale.
    Edited(usize),
    /// The explain toggle was pressed.
    ToggleExplain,
    /// An explanation was computed.
    Explained(Box<Explained>),
    /// The layers toggle was pressed.
    ToggleLayers,
    /// The stages of the digit on show were computed, or could not be (why).
    Layers(Result<Rc<Layers>, String>),
    /// The person's examples changed: those kept now (a "forget" that can be undone
    /// follows with [`Action::Forgot`]).
    PersonalChanged(Rc<Vec<Example>>),
    /// Examples were forgotten: those kept before, to offer undo with.
    Forgot(Rc<Vec<Example>>),
    /// The stored examples could not be read: why.
    StoredUnreadable(String),
    /// A line about the examples, or none.
    Notice(Option<String>),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::ModelReady(description) => next.status = ModelStatus::Ready(description),
            Action::ModelFailed(reason) => next.status = ModelStatus::Failed(reason),
            Action::Read(reading) => {
                next.reading = reading;
                // A new drawing makes the explanation stale (a repeat of the same answer for
                // the same strokes keeps it).
                let before = self.shown().map(|s| (s.strokes, &s.image));
                if next.shown().map(|s| (s.strokes, &s.image)) != before {
                    next.saliency = None;
                }
            }
            Action::Hover(hover) => next.hover = hover,
            Action::ToggleExplain => next.explain = !next.explain,
            Action::Explained(explained) => next.saliency = Some(*explained),
            Action::ToggleLayers => next.layers_open = !next.layers_open,
            Action::Layers(Ok(layers)) => {
                next.layers = Some(layers);
                next.layer_updates += 1;
                next.layers_error = None;
            }
            Action::Layers(Err(reason)) => next.layers_error = Some(reason),
            Action::PersonalChanged(kept) => {
                next.kept = kept;
                next.undo = None;
            }
            Action::Forgot(before) => next.undo = Some(before),
            Action::StoredUnreadable(reason) => next.unreadable = Some(reason),
            Action::Notice(notice) => next.notice = notice,
            Action::StrokesDrawn(n) => next.strokes = n,
            Action::Edited(n) => {
                next.strokes = n;
                next.revision += 1;
                next.saliency = None;
                if n == 0 {
                    next.layers = None;
                    next.reading.clear();
                    next.hover = None;
                }
            }
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}
