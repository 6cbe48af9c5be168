//! The page: the pad and its buttons, the number read (a box around each digit on the pad),
//! the answer for the digit on show (digit or "not sure" or "not a digit", calibrated
//! confidence, bars, the model's view, latency), the explanation overlays on request, and the
//! status line, around one [`AppState`].

use std::cell::RefCell;
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::render::{request_animation_frame, AnimationFrame};
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

use super::bars::Bars;
use super::controller::{Controller, Groups};
use super::download::download;
use super::explain::{PadSaliency, PreviewSaliency};
use super::layers_view::LayersView;
use super::loading::{describe, fetch_model, load_classifier, next_task, started_bytes};
use super::number_view::{DigitBoxes, Number};
use super::pad::{Drawing, Pad, SharedDrawing};
use super::personal_panel::{Forget, PersonalPanel};
use super::personal_store::PersonalStore;
use super::preview::Preview;
use super::reader::AnswerCache;
use super::state::{focused, Action, AppState, Shown};
use super::status::Status;
use super::timing::mark;
use super::training_card::TrainingCard;
use crate::classifier::Classifier;
use crate::personal::{from_text, Example, Source};
use crate::strokes::Point;
use crate::trust::{top_two, Verdict};

/// Where the model comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelSource {
    /// Fetched from this URL (relative to the page, so the site works under any sub-path).
    Url(String),
    /// Fetched from this URL, the fetch already begun by `www/boot.js`: `bytes` is its promise
    /// of an `ArrayBuffer` (or of null where it failed). Its bytes are in memory by the time
    /// the app has rendered, where a fetch begun by the app would resolve only some tasks
    /// after its first render.
    Started {
        url: String,
        bytes: wasm_bindgen::JsValue,
    },
    /// Already in memory (tests).
    Bytes(Rc<Vec<u8>>),
}

/// Properties of [`App`].
#[derive(Properties, PartialEq, Clone)]
pub struct AppProps {
    /// The model to load.
    pub model: ModelSource,
}

/// The folder the model comes from, relative to the page, with its trailing slash (the
/// site's `model/` when the model came from memory).
fn model_folder(source: &ModelSource) -> AttrValue {
    let url = match source {
        ModelSource::Url(url) | ModelSource::Started { url, .. } => url.as_str(),
        ModelSource::Bytes(_) => super::MODEL_URL,
    };
    url.rfind('/')
        .map_or(AttrValue::Static(""), |end| url[..=end].to_string().into())
}

/// The big answer and the line under it, by verdict.
fn answer_text(shown: Option<&Shown>) -> (String, String) {
    let Some(s) = shown else {
        return (String::new(), "Write a digit or a number".into());
    };
    let p = &s.answer;
    let digit = p.digit();
    match p.verdict {
        Verdict::Digit => (
            digit.to_string(),
            format!("{:.1}% sure", 100.0 * p.probabilities[digit]),
        ),
        Verdict::Unsure => {
            let (_, runner_up) = top_two(&p.probabilities);
            (
                digit.to_string(),
                format!(
                    "Not sure: {digit} ({:.0}%) or {runner_up} ({:.0}%)",
                    100.0 * p.probabilities[digit],
                    100.0 * p.probabilities[runner_up]
                ),
            )
        }
        Verdict::NotDigit => (
            "?".into(),
            format!("That does not look like a digit (closest: {digit})"),
        ),
    }
}

/// The whole page.
#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let state = use_reducer(AppState::default);
    let drawing: SharedDrawing = use_mut_ref(Drawing::default);
    let classifier: Rc<RefCell<Option<Rc<Classifier>>>> = use_mut_ref(|| None);
    let store: Rc<RefCell<PersonalStore>> = use_mut_ref(PersonalStore::default);
    let cache: Rc<RefCell<AnswerCache>> = use_mut_ref(AnswerCache::default);
    let groups: Groups = use_mut_ref(Vec::new);
    let hover: Rc<RefCell<Option<usize>>> = use_mut_ref(|| None);
    let layers_on: Rc<RefCell<bool>> = use_mut_ref(|| false);
    let controller = Controller {
        drawing: drawing.clone(),
        classifier: classifier.clone(),
        store,
        cache,
        groups,
        hover,
        layers_on,
        dispatch: state.dispatcher(),
    };
    let pending_frame: Rc<RefCell<Option<AnimationFrame>>> = use_mut_ref(|| None);
    let pending_explain: Rc<RefCell<Option<AnimationFrame>>> = use_mut_ref(|| None);
    // Mirrors `state.explain` for the callbacks, which are created once.
    let explain_on: Rc<RefCell<bool>> = use_mut_ref(|| false);

    // Load the model once.
    {
        let controller = controller.clone();
        let explain_on = explain_on.clone();
        let pending_explain = pending_explain.clone();
        use_effect_with(props.model.clone(), move |source| {
            let source = source.clone();
            yew::platform::spawn_local(async move {
                next_task().await;
                let bytes = match source {
                    ModelSource::Url(url) => fetch_model(&url, None).await,
                    ModelSource::Started { url, bytes } => {
                        fetch_model(&url, started_bytes(&bytes).await).await
                    }
                    ModelSource::Bytes(bytes) => Ok((*bytes).clone()),
                };
                mark("digitpad:model-fetched");
                let loaded = bytes.and_then(|bytes| load_classifier(&bytes));
                let dispatch = &controller.dispatch;
                match loaded {
                    Ok(model) => {
                        let model = Rc::new(model);
                        *controller.classifier.borrow_mut() = Some(model.clone());
                        dispatch.dispatch(Action::ModelReady(describe(&model)));
                        // Anything drawn while the model loaded gets its answer now.
                        controller.read_and_explain(&explain_on, &pending_explain);
                        // Then the person's examples, in a task of their own: each is read by
                        // the model, so a returning writer with many would otherwise wait for
                        // them all before the first answer (measured in the README's page
                        // section). A reading made in between is made again with them.
                        next_task().await;
                        let kept = PersonalStore::load().and_then(|examples| {
                            controller.store.borrow_mut().set(examples, &model)
                        });
                        match kept {
                            Ok(()) => {
                                let examples = controller.store.borrow().examples.clone();
                                let any = !examples.is_empty();
                                dispatch.dispatch(Action::PersonalChanged(Rc::new(examples)));
                                if any {
                                    controller.read_and_explain(&explain_on, &pending_explain);
                                }
                            }
                            Err(reason) => dispatch.dispatch(Action::StoredUnreadable(reason)),
                        }
                    }
                    Err(reason) => dispatch.dispatch(Action::ModelFailed(reason)),
                }
            });
        });
    }

    // While drawing: at most one reading per animation frame, on the latest strokes.
    let on_draw = {
        let controller = controller.clone();
        let pending_frame = pending_frame.clone();
        let pending_explain = pending_explain.clone();
        use_callback((), move |_: (), _| {
            // The drawing is changing: an explanation still pending would be of the old one.
            pending_explain.borrow_mut().take();
            if pending_frame.borrow().is_some() {
                return;
            }
            let controller = controller.clone();
            let pending = pending_frame.clone();
            let frame = request_animation_frame(move |_| {
                pending.borrow_mut().take();
                controller.read();
            });
            *pending_frame.borrow_mut() = Some(frame);
        })
    };

    // At the end of each stroke: always one reading, right away.
    let on_stroke_end = {
        let controller = controller.clone();
        let pending_frame = pending_frame.clone();
        let explain_on = explain_on.clone();
        let pending_explain = pending_explain.clone();
        use_callback((), move |_: (), _| {
            pending_frame.borrow_mut().take();
            controller.dispatch.dispatch(Action::StrokesDrawn(
                controller.drawing.borrow().strokes.len(),
            ));
            controller.read_and_explain(&explain_on, &pending_explain);
        })
    };

    // The pointer over a digit's box shows that digit's answer (and explanation).
    let on_hover = {
        let controller = controller.clone();
        let explain_on = explain_on.clone();
        let pending_explain = pending_explain.clone();
        use_callback((), move |point: Option<Point>, _| {
            let digit = point.and_then(|p| controller.digit_at(p));
            if *controller.hover.borrow() == digit {
                return;
            }
            *controller.hover.borrow_mut() = digit;
            controller.dispatch.dispatch(Action::Hover(digit));
            if *explain_on.borrow() {
                controller.schedule_explain(&pending_explain);
            }
            if *controller.layers_on.borrow() {
                controller.show_layers();
            }
        })
    };

    let edit = {
        let controller = controller.clone();
        let pending_frame = pending_frame.clone();
        let explain_on = explain_on.clone();
        let pending_explain = pending_explain.clone();
        Rc::new(move |undo: bool| {
            pending_frame.borrow_mut().take();
            pending_explain.borrow_mut().take();
            {
                let mut d = controller.drawing.borrow_mut();
                if undo {
                    d.undo();
                } else {
                    d.clear();
                }
            }
            *controller.hover.borrow_mut() = None;
            let n = controller.drawing.borrow().strokes.len();
            controller.dispatch.dispatch(Action::Edited(n));
            if n > 0 {
                controller.read_and_explain(&explain_on, &pending_explain);
            } else {
                controller.groups.borrow_mut().clear();
            }
        })
    };
    let on_explain = {
        let controller = controller.clone();
        let explain_on = explain_on.clone();
        let pending_explain = pending_explain.clone();
        Callback::from(move |_: MouseEvent| {
            let on = !*explain_on.borrow();
            *explain_on.borrow_mut() = on;
            controller.dispatch.dispatch(Action::ToggleExplain);
            if on {
                controller.schedule_explain(&pending_explain);
            } else {
                pending_explain.borrow_mut().take();
            }
        })
    };
    let on_layers = {
        let controller = controller.clone();
        Callback::from(move |_: MouseEvent| {
            let on = !*controller.layers_on.borrow();
            *controller.layers_on.borrow_mut() = on;
            controller.dispatch.dispatch(Action::ToggleLayers);
            if on {
                controller.show_layers();
            }
        })
    };
    let on_correct = {
        let controller = controller.clone();
        let image = state.shown().map(|s| s.image.clone());
        Callback::from(move |digit: u8| {
            if let Some(image) = image.clone() {
                let mut examples = controller.store.borrow().examples.clone();
                examples.push(Example {
                    label: digit,
                    image,
                });
                controller.set_examples(examples, None);
            }
        })
    };
    // Forgetting (all, the last, or one picked from the list) can be undone until the
    // examples change otherwise.
    let on_forget = {
        let controller = controller.clone();
        let dispatch = state.dispatcher();
        Callback::from(move |which: Forget| {
            let before = controller.store.borrow().examples.clone();
            let mut examples = before.clone();
            let what = match which {
                Forget::All => {
                    examples.clear();
                    format!(
                        "Forgot {} example{}.",
                        before.len(),
                        if before.len() == 1 { "" } else { "s" }
                    )
                }
                Forget::One(index) if index < examples.len() => {
                    let gone = examples.remove(index);
                    format!("Forgot an example of {}.", gone.label)
                }
                Forget::One(_) => return,
            };
            if examples.len() != before.len() && controller.set_examples(examples, Some(what)) {
                dispatch.dispatch(Action::Forgot(Rc::new(before)));
            }
        })
    };
    let on_undo_forget = {
        let controller = controller.clone();
        let undo = state.undo.clone();
        Callback::from(move |()| {
            if let Some(before) = &undo {
                controller.set_examples(before.to_vec(), Some("Examples restored.".into()));
            }
        })
    };
    let on_export = {
        let controller = controller.clone();
        let dispatch = state.dispatcher();
        Callback::from(move |()| {
            let text = controller.store.borrow().export_text();
            if let Err(reason) = download("digitpad-examples.txt", &text) {
                dispatch.dispatch(Action::Notice(Some(reason)));
            }
        })
    };
    let on_import = {
        let controller = controller.clone();
        let dispatch = state.dispatcher();
        Callback::from(move |text: Result<String, String>| {
            match text.and_then(|t| from_text(&t).map_err(|e| format!("Not an examples file: {e}")))
            {
                Ok(imported) => {
                    let n = imported.len();
                    let mut examples = controller.store.borrow().examples.clone();
                    examples.extend(imported);
                    controller.set_examples(
                        examples,
                        Some(format!(
                            "Imported {n} example{}.",
                            if n == 1 { "" } else { "s" }
                        )),
                    );
                }
                Err(reason) => dispatch.dispatch(Action::Notice(Some(reason))),
            }
        })
    };
    let on_undo = {
        let edit = edit.clone();
        Callback::from(move |_: MouseEvent| edit(true))
    };
    let on_clear = {
        let edit = edit.clone();
        Callback::from(move |_: MouseEvent| edit(false))
    };

    // Keyboard: Escape or Delete clears, Ctrl/Cmd+Z undoes.
    {
        let edit = edit.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new_with_options(
                    &window,
                    "keydown",
                    EventListenerOptions::enable_prevent_default(),
                    move |event| {
                        let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                            return;
                        };
                        let key = event.key();
                        if key == "Escape" || key == "Delete" {
                            event.prevent_default();
                            edit(false);
                        } else if (event.ctrl_key() || event.meta_key())
                            && key.eq_ignore_ascii_case("z")
                            && !event.shift_key()
                        {
                            event.prevent_default();
                            edit(true);
                        }
                    },
                )
            });
            move || drop(listener)
        });
    }

    let shown = state.shown();
    let on_show = focused(&state.reading, state.hover);
    let empty = state.strokes == 0 && shown.is_none();
    let (answer, note) = answer_text(shown);
    let verdict = shown.map(|s| s.answer.verdict);
    let source = shown.map(|s| s.answer.source);
    let explained = state.current_explanation();
    let saliency = explained.map(|e| e.saliency.clone());
    let placement = shown.map(|s| s.placement);
    html! {
        <main class="layout">
            <section class="pad-area" aria-label="Drawing">
                <Status status={state.status.clone()} />
                <div class="pad-frame">
                    <Pad drawing={drawing.clone()} revision={state.revision}
                        on_draw={on_draw} on_stroke_end={on_stroke_end} on_hover={on_hover} />
                    <PadSaliency active={state.explain} saliency={saliency.clone()}
                        placement={placement} ms={explained.map(|e| e.ms)} />
                    <DigitBoxes reading={state.reading.clone()} focus={on_show} />
                    if empty {
                        <p class="hint" aria-hidden="true">{ "Write a digit or a number" }</p>
                    }
                </div>
                <Number reading={state.reading.clone()} focus={on_show} strokes={state.strokes} />
                <div class="controls">
                    <button type="button" data-testid="undo" onclick={on_undo}
                        disabled={state.strokes == 0} aria-keyshortcuts="Control+Z Meta+Z"
                        title="Undo the last stroke (Ctrl+Z)">{ "Undo" }</button>
                    <button type="button" data-testid="clear" onclick={on_clear}
                        disabled={state.strokes == 0} aria-keyshortcuts="Escape Delete"
                        title="Clear the pad (Esc)">{ "Clear" }</button>
                    <button type="button" data-testid="explain" onclick={on_explain}
                        class={classes!("toggle", state.explain.then_some("on"))}
                        aria-pressed={state.explain.to_string()}
                        title="Show which ink made the model choose its answer">
                        { "Why?" }</button>
                    <button type="button" data-testid="layers" onclick={on_layers}
                        class={classes!("toggle", state.layers_open.then_some("on"))}
                        aria-pressed={state.layers_open.to_string()}
                        aria-controls="layers-view"
                        title="Watch each layer of the network read the digit">
                        { "Layers" }</button>
                </div>
            </section>
            <section class="result" aria-label="What the model reads" aria-live="polite">
                <div class="answer">
                    <div class={classes!("digit", verdict.map(|v| v.as_str()))}
                        data-testid="prediction"
                        data-strokes={shown.map_or(0, |s| s.strokes).to_string()}
                        data-complete={shown.map(|s| s.complete.to_string())}
                        data-verdict={verdict.map(|v| v.as_str())}
                        data-source={source.map(|s| s.as_str())}
                        data-confidence={shown.map(|s| format!("{:.4}", s.answer.probabilities[s.answer.digit()]))}
                        aria-label="Predicted digit">
                        { answer }
                    </div>
                    <div class="confidence" data-testid="verdict-note">
                        { note }
                        if source == Some(Source::Personal) {
                            <span class="badge" data-testid="personal-badge"
                                title="Read with the examples you corrected">
                                { "from your examples" }</span>
                        }
                    </div>
                    <figure class="model-view">
                        <div class="preview-stack">
                            <Preview image={shown.map(|s| s.image.clone())} />
                            <PreviewSaliency active={state.explain} saliency={saliency.clone()}
                                placement={placement} />
                        </div>
                        <figcaption>
                            { "Model input · inference " }
                            <span data-testid="latency" title="The time the model took to \
                                read this digit (when it was drawn: the answer is kept)"
                                data-ms={shown.map_or(String::new(), |s| format!("{:.3}", s.latency_ms))}>
                                { shown.map_or("–".to_string(), |s| format!("{:.1} ms", s.latency_ms)) }
                            </span>
                        </figcaption>
                    </figure>
                </div>
                if let Some(e) = explained {
                    <p class="why-legend" data-testid="why-legend">
                        if shown.is_some_and(|s| s.answer.digit() != e.saliency.digit) {
                            { format!("The model alone reads {}: ", e.saliency.digit) }
                        }
                        <span class="for-answer">{ format!("ink for {}", e.saliency.digit) }</span>
                        { " · " }
                        <span class="for-runner-up">
                            { format!("ink for {}", e.saliency.runner_up) }</span>
                        { format!(" (blanking each square in turn: {} runs, {:.0} ms)",
                            e.saliency.runs, e.ms) }
                    </p>
                }
                if shown.is_some() {
                    <div class="correct" role="group" aria-label="Correct the answer">
                        <span class="correct-label">{ "Not right? It was" }</span>
                        { for (0..10u8).map(|d| {
                            let on_correct = on_correct.clone();
                            html! {
                                <button type="button" class="correct-digit"
                                    data-testid={format!("correct-{d}")}
                                    aria-label={format!("It was a {d}")}
                                    onclick={Callback::from(move |_: MouseEvent| on_correct.emit(d))}>
                                    { d }</button>
                            }
                        }) }
                    </div>
                }
                <Bars probabilities={shown.map(|s| s.answer.probabilities)} />
                <PersonalPanel kept={state.kept.clone()} notice={state.notice.clone()}
                    unreadable={state.unreadable.clone()} can_undo={state.undo.is_some()}
                    on_forget={on_forget} on_undo={on_undo_forget} on_export={on_export}
                    on_import={on_import} />
            </section>
            if state.layers_open {
                <LayersView layers={state.current_layers().cloned()} updates={state.layer_updates}
                    error={state.layers_error.clone()}
                    personal_answer={shown.filter(|s| s.answer.source == Source::Personal)
                        .map(|s| s.answer.digit())} />
            }
            <TrainingCard folder={model_folder(&props.model)} />
        </main>
    }
}
