//! The page's state: whether the model is ready, and the prediction on show. Strokes are not
//! here: they change on every pointer event and live in [`super::pad::Drawing`], outside
//! Yew's render cycle; this state changes at most once per animation frame.

use std::rc::Rc;

use yew::Reducible;

use crate::classifier::Prediction;
use crate::digit::DigitImage;

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

/// The answer on show, with what it was computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    /// The model's answer.
    pub prediction: Prediction,
    /// Exactly the image fed to the model.
    pub image: DigitImage,
    /// Number of strokes the answer was computed from.
    pub strokes: usize,
    /// Preprocessing plus inference, in milliseconds.
    pub latency_ms: f64,
}

/// Everything the page renders from.
#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    /// Model status.
    pub status: ModelStatus,
    /// The latest answer, `None` when the pad is empty or nothing was predicted yet.
    pub shown: Option<Shown>,
    /// Strokes on the pad (for the Undo/Clear buttons and the empty-pad hint).
    pub strokes: usize,
    /// Bumped whenever the drawing changes other than by the pointer (undo, clear), so the
    /// pad knows to redraw from its strokes.
    pub revision: u64,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            status: ModelStatus::Loading,
            shown: None,
            strokes: 0,
            revision: 0,
        }
    }
}

/// What can happen to the state.
pub enum Action {
    /// The model is ready.
    ModelReady(String),
    /// The model could not be loaded or run.
    ModelFailed(String),
    /// A new answer.
    Predicted(Box<Shown>),
    /// The pad holds this many strokes now, drawn by the pointer.
    StrokesDrawn(usize),
    /// Undo or clear changed the drawing to this many strokes; the answer is stale.
    Edited(usize),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::ModelReady(description) => next.status = ModelStatus::Ready(description),
            Action::ModelFailed(reason) => next.status = ModelStatus::Failed(reason),
            Action::Predicted(shown) => next.shown = Some(*shown),
            Action::StrokesDrawn(n) => next.strokes = n,
            Action::Edited(n) => {
                next.strokes = n;
                next.revision += 1;
                if n == 0 {
                    next.shown = None;
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
