//! What the page keeps outside Yew's render cycle to read the drawing, and what it does with
//! it: reading the strokes as a number, explaining the digit on show, finding the digit under
//! the pointer, and changing the person's examples.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::render::{request_animation_frame, AnimationFrame};
use yew::prelude::*;

use super::pad::SharedDrawing;
use super::personal_store::PersonalStore;
use super::reader::AnswerCache;
use super::state::{focus, Action, AppState, Explained, Shown};
use super::timing::now_ms;
use crate::classifier::Classifier;
use crate::number::select;
use crate::personal::{within_limits, Example, MAX_PER_DIGIT};
use crate::preprocess::strokes_to_placed_digit;
use crate::saliency::explain_answer;
use crate::strokes::{Bounds, Point};

/// The digits of the latest reading: each one's box and strokes.
pub(super) type Groups = Rc<RefCell<Vec<(Bounds, Vec<usize>)>>>;

/// What the page keeps outside Yew's render cycle to read the drawing: the model once
/// loaded, the person's examples, the answers already computed, and the pointer's digit.
#[derive(Clone)]
pub(super) struct Controller {
    pub(super) drawing: SharedDrawing,
    pub(super) classifier: Rc<RefCell<Option<Rc<Classifier>>>>,
    pub(super) store: Rc<RefCell<PersonalStore>>,
    pub(super) cache: Rc<RefCell<AnswerCache>>,
    /// The digits of the latest reading (box and strokes), for hovering and explaining.
    pub(super) groups: Groups,
    /// The digit under the pointer.
    pub(super) hover: Rc<RefCell<Option<usize>>>,
    /// Whether the layers view is open (mirrors the state for callbacks made once).
    pub(super) layers_on: Rc<RefCell<bool>>,
    pub(super) dispatch: UseReducerDispatcher<AppState>,
}

impl Controller {
    /// The strokes of the digit on show ([`focused`]).
    fn focused_pieces(&self) -> Option<Vec<usize>> {
        let groups = self.groups.borrow();
        let hover = *self.hover.borrow();
        let index = focus(groups.len(), hover, |i| groups[i].1.iter().max().copied())?;
        Some(groups[index].1.clone())
    }

    /// The model's input for the strokes `pieces` of the drawing (as the reading made it).
    fn image_of(&self, pieces: &[usize]) -> Option<crate::digit::DigitImage> {
        strokes_to_placed_digit(&select(&self.drawing.borrow().strokes, pieces)).map(|(i, _)| i)
    }

    /// Reads the drawing as a number and dispatches its digits (or clears the answer when
    /// the pad is empty, or reports a failure).
    pub(super) fn read(&self) {
        let Some(classifier) = self.classifier.borrow().clone() else {
            return;
        };
        let (strokes, complete) = {
            let drawing = self.drawing.borrow();
            (drawing.strokes.clone(), !drawing.in_progress())
        };
        if strokes.iter().all(Vec::is_empty) {
            self.groups.borrow_mut().clear();
            self.dispatch.dispatch(Action::Edited(0));
            return;
        }
        let digits = match self.cache.borrow_mut().read(&strokes, &classifier) {
            Ok(digits) => digits,
            Err(e) => {
                self.dispatch
                    .dispatch(Action::ModelFailed(format!("Inference failed: {e}")));
                return;
            }
        };
        let cache = self.cache.borrow();
        let store = self.store.borrow();
        let reading: Vec<Shown> = digits
            .into_iter()
            .map(|d| Shown {
                answer: store.personal.adapt(
                    classifier.trust(),
                    &d.prediction.logits,
                    &d.prediction.features,
                ),
                latency_ms: cache
                    .inference_ms(&strokes, &d.group.pieces)
                    .unwrap_or_default(),
                pieces: d.group.pieces,
                bounds: d.group.bounds,
                prediction: d.prediction,
                image: d.image,
                placement: d.placement,
                strokes: strokes.len(),
                complete,
            })
            .collect();
        drop(cache);
        *self.groups.borrow_mut() = reading
            .iter()
            .map(|s| (s.bounds, s.pieces.clone()))
            .collect();
        self.dispatch.dispatch(Action::Read(reading));
        if *self.layers_on.borrow() {
            self.show_layers();
        }
    }

    /// Computes the network's stages for the digit on show ([`Classifier::read_layers`]: the
    /// same plan and run as an answer: the plan outputs every stage) and dispatches them. Called
    /// after each reading while the layers view is open, so it follows the drawing live;
    /// never while it is closed.
    pub(super) fn show_layers(&self) {
        let Some(classifier) = self.classifier.borrow().clone() else {
            return;
        };
        let Some(image) = self.focused_pieces().and_then(|p| self.image_of(&p)) else {
            return;
        };
        let layers = classifier.read_layers(&image, &now_ms);
        self.dispatch.dispatch(Action::Layers(
            layers
                .map(Rc::new)
                .map_err(|e| format!("The layers could not be shown: {e}")),
        ));
    }

    /// Reads the drawing ([`Controller::read`]) and, when the person asked to see why,
    /// schedules the explanation of the digit on show ([`Controller::schedule_explain`]): what
    /// every change to the drawing but a stroke in progress leads to.
    pub(super) fn read_and_explain(
        &self,
        explain_on: &RefCell<bool>,
        pending: &Rc<RefCell<Option<AnimationFrame>>>,
    ) {
        self.read();
        if *explain_on.borrow() {
            self.schedule_explain(pending);
        }
    }

    /// Computes the explanation of the digit on show in the next animation frame, after the
    /// answer itself has been painted (replacing any explanation still pending).
    pub(super) fn schedule_explain(&self, pending: &Rc<RefCell<Option<AnimationFrame>>>) {
        let Some(pieces) = self.focused_pieces() else {
            return;
        };
        let controller = self.clone();
        let slot = pending.clone();
        let frame = request_animation_frame(move |_| {
            slot.borrow_mut().take();
            let Some(classifier) = controller.classifier.borrow().clone() else {
                return;
            };
            let strokes = controller.drawing.borrow().strokes.len();
            let Some(image) = controller.image_of(&pieces) else {
                return;
            };
            let start = now_ms();
            match explain_answer(&classifier, &image) {
                Ok(saliency) => {
                    controller
                        .dispatch
                        .dispatch(Action::Explained(Box::new(Explained {
                            saliency,
                            strokes,
                            pieces,
                            ms: now_ms() - start,
                        })))
                }
                Err(e) => controller
                    .dispatch
                    .dispatch(Action::ModelFailed(format!("Explaining failed: {e}"))),
            }
        });
        *pending.borrow_mut() = Some(frame);
    }

    /// The digit whose box holds `point` (a little margin around each box), if any.
    pub(super) fn digit_at(&self, point: Point) -> Option<usize> {
        self.groups.borrow().iter().position(|(b, _)| {
            let margin = 0.1 * b.height().max(b.width());
            point.x >= b.min_x - margin
                && point.x <= b.max_x + margin
                && point.y >= b.min_y - margin
                && point.y <= b.max_y + margin
        })
    }

    /// The person's examples changed: keeps them within the limits, saves them, tells the
    /// page and reads the drawing again; false when nothing changed. What is used is always
    /// what is stored: when the browser refuses to save, the examples go back to what they
    /// were.
    pub(super) fn set_examples(&self, examples: Vec<Example>, notice: Option<String>) -> bool {
        let dispatch = &self.dispatch;
        let Some(model) = self.classifier.borrow().clone() else {
            dispatch.dispatch(Action::Notice(Some(
                "The model is still loading: try again in a moment.".into(),
            )));
            return false;
        };
        let before = self.store.borrow().examples.clone();
        let (examples, dropped) = within_limits(examples);
        let set = self.store.borrow_mut().set(examples, &model);
        let saved = set.and_then(|()| self.store.borrow().save());
        let (ok, notice) = match saved {
            Ok(()) if dropped > 0 => (
                true,
                Some(format!(
                    "{}Only the {MAX_PER_DIGIT} most recent examples of each digit are kept: \
                     {dropped} older ones were left out.",
                    notice.map(|n| format!("{n} ")).unwrap_or_default()
                )),
            ),
            Ok(()) => (true, notice),
            Err(reason) => {
                // Back to what was kept (and used) before; the model read it a moment ago.
                let _ = self.store.borrow_mut().set(before, &model);
                (false, Some(format!("Nothing changed: {reason}.")))
            }
        };
        dispatch.dispatch(Action::PersonalChanged(Rc::new(
            self.store.borrow().examples.clone(),
        )));
        dispatch.dispatch(Action::Notice(notice));
        self.read();
        ok
    }
}
