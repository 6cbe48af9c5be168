//! Browser tests (`wasm-pack test --headless --chrome`): the same preprocessing bytes and
//! model answers as natively, and the real app mounted in the page, driven by pointer events
//! that draw the committed stroke fixtures. One file on purpose (~650 lines): each file under
//! `tests/` is its own wasm binary, linked and run by wasm-bindgen separately, so splitting
//! this one would add a link and a browser start to every run.
#![cfg(target_arch = "wasm32")]

mod common;

use std::rc::Rc;

use digitpad::app::{App, AppProps, ModelSource};
use digitpad::strokes::Stroke;
use digitpad::Classifier;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{
    Element, HtmlElement, KeyboardEvent, KeyboardEventInit, PointerEvent, PointerEventInit,
};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn preprocessing_gives_the_same_bytes_as_natively() {
    assert_eq!(common::preprocess_hash_lines(), common::PREPROCESS_HASHES);
}

#[wasm_bindgen_test]
fn shipped_model_gives_the_native_answers_on_the_mnist_fixture() {
    let set = common::mnist_fixture();
    let classifier = Classifier::from_onnx(common::MODEL, 50).expect("model loads in wasm");
    let digits: Vec<_> = (0..set.len()).map(|i| set.digit(i)).collect();
    let predictions = classifier.classify_batch(&digits).unwrap();
    let lines: String = predictions
        .iter()
        .map(|p| format!("{}\n", p.digit()))
        .collect();
    assert_eq!(
        lines,
        common::NATIVE_PREDICTIONS,
        "wasm answers differ from native ones"
    );
    let correct = predictions
        .iter()
        .zip(&set.labels)
        .filter(|(p, &l)| p.digit() == usize::from(l))
        .count();
    assert!(correct as f64 / set.len() as f64 >= 0.99);
}

/// The page's plan computes its convolutions itself (`digitpad::onnx::conv`); in the browser,
/// where neither sums with fused multiply-adds, it must give tract's own plan's bits.
#[wasm_bindgen_test]
fn direct_convolutions_give_the_bits_of_tracts_own_plan() {
    use digitpad::onnx::typed::{optimized_model_with, Convolutions};
    use prost::Message;
    use tract_onnx::prelude::*;
    let mut proto = tract_onnx::pb::ModelProto::decode(common::MODEL).unwrap();
    digitpad::onnx::inline_half_weights(&mut proto);
    let plan = |convolutions| {
        optimized_model_with(&proto, f32::fact([1, 1, 28, 28]), convolutions)
            .unwrap()
            .into_runnable()
            .unwrap()
    };
    let (direct, tract) = (plan(Convolutions::Direct), plan(Convolutions::Tract));
    let set = common::mnist_fixture();
    let bits = |values: &TValue| f32_bits(values.as_slice::<f32>().unwrap());
    for i in 0..set.len() {
        let input = || {
            let pixels = set.digit(i).pixels().to_vec();
            let image = tract_ndarray::Array4::from_shape_vec((1, 1, 28, 28), pixels).unwrap();
            tvec!(Tensor::from(image).into_tvalue())
        };
        let ours = direct.run(input()).unwrap();
        let theirs = tract.run(input()).unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(bits(a), bits(b), "image {i}");
        }
    }
}

/// The bits of f32 values, to compare two computations exactly (signed zeros included).
fn f32_bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Mounts a fresh app into its own element and returns that element.
/// A mounted app: its root element, and the app, destroyed (with its window listeners) and
/// taken out of the document when the test is done with it, so that one test's keys and
/// state never reach another's app.
struct Mounted {
    root: Element,
    app: Option<yew::AppHandle<App>>,
}

impl std::ops::Deref for Mounted {
    type Target = Element;
    fn deref(&self) -> &Element {
        &self.root
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        self.root.remove();
    }
}

fn mount(model: ModelSource) -> Mounted {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let app = yew::Renderer::<App>::with_root_and_props(root.clone(), AppProps { model }).render();
    Mounted {
        root,
        app: Some(app),
    }
}

fn find(root: &Element, id: &str) -> Option<Element> {
    root.query_selector(&format!("[data-testid=\"{id}\"]"))
        .ok()
        .flatten()
}

fn by_test_id(root: &Element, id: &str) -> Element {
    find(root, id).unwrap_or_else(|| panic!("no element with data-testid={id}"))
}

fn attr(root: &Element, id: &str, name: &str) -> String {
    by_test_id(root, id).get_attribute(name).unwrap_or_default()
}

/// The `data-state` of the status line, once the app has rendered it.
fn status_state(root: &Element) -> Option<String> {
    find(root, "status").and_then(|e| e.get_attribute("data-state"))
}

fn text(root: &Element, id: &str) -> String {
    by_test_id(root, id).text_content().unwrap_or_default()
}

/// Waits (up to ~10 s) until `done` holds.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        TimeoutFuture::new(20).await;
    }
    panic!("timed out waiting for {what}");
}

/// Strokes the answer on show was read from (0 when there is none).
fn strokes_read(root: &Element) -> usize {
    attr(root, "prediction", "data-strokes")
        .parse()
        .unwrap_or(0)
}

/// Waits until the answer on show was read from `n` strokes.
async fn wait_for_strokes(root: &Element, n: usize) {
    wait_until(&format!("an answer read from {n} strokes"), || {
        strokes_read(root) == n
    })
    .await;
}

/// Clicks Clear and waits for the answer to go.
async fn clear(root: &Element) {
    click(root, "clear");
    wait_for_strokes(root, 0).await;
}

fn pointer(canvas: &Element, kind: &str, x: f32, y: f32) {
    let rect = canvas.get_bounding_client_rect();
    let init = PointerEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_pointer_id(7);
    init.set_pointer_type("pen");
    init.set_is_primary(true);
    init.set_button(if kind == "pointermove" { -1 } else { 0 });
    init.set_buttons(if kind == "pointerup" { 0 } else { 1 });
    // Pad units: the pad's height is 1 on both axes.
    init.set_client_x((rect.left() + f64::from(x) * rect.height()) as i32);
    init.set_client_y((rect.top() + f64::from(y) * rect.height()) as i32);
    let event = PointerEvent::new_with_event_init_dict(kind, &init).unwrap();
    canvas.dispatch_event(&event).unwrap();
}

/// Draws `strokes` and waits for the answer that reads all of them (those already on the pad
/// and these).
async fn draw(root: &Element, strokes: &[Stroke]) {
    let expected = strokes_read(root) + strokes.len();
    draw_now(root, strokes);
    wait_for_strokes(root, expected).await;
}

/// The pointer events of `strokes`, dispatched at once (nothing awaited).
fn draw_now(root: &Element, strokes: &[Stroke]) {
    let canvas = by_test_id(root, "pad");
    for stroke in strokes {
        let (first, rest) = stroke.split_first().unwrap();
        pointer(&canvas, "pointerdown", first.x, first.y);
        for p in rest {
            pointer(&canvas, "pointermove", p.x, p.y);
        }
        let last = stroke.last().unwrap();
        pointer(&canvas, "pointerup", last.x, last.y);
    }
}

/// The strokes of the stroke fixture named `stem` (`digit-7`, ...).
fn fixture_strokes(stem: &str) -> Vec<Stroke> {
    let (_, _, text) = common::STROKE_FIXTURES
        .iter()
        .find(|f| f.0 == stem)
        .unwrap_or_else(|| panic!("no stroke fixture {stem}"));
    common::strokes(text)
}

fn click(root: &Element, id: &str) {
    by_test_id(root, id).unchecked_into::<HtmlElement>().click();
}

/// A pad large enough that pixel rounding of pointer positions does not matter, twice as
/// wide as tall like the page's.
fn enlarge_pad(root: &Element) {
    let pad = by_test_id(root, "pad");
    pad.set_attribute("width", "800").unwrap();
    pad.set_attribute("height", "400").unwrap();
}

fn clear_storage() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.clear().unwrap();
}

async fn ready_app() -> Mounted {
    // No corrections saved by an earlier test (a failed test leaves its own behind: panics
    // abort in wasm, nothing is dropped).
    clear_storage();
    ready_app_with_storage().await
}

/// [`ready_app`] on whatever this browser's storage holds.
async fn ready_app_with_storage() -> Mounted {
    let root = mount(ModelSource::Bytes(Rc::new(common::MODEL.to_vec())));
    wait_until("the model to be ready", || {
        status_state(&root).as_deref() == Some("ready")
    })
    .await;
    enlarge_pad(&root);
    root
}

#[wasm_bindgen_test]
async fn drawn_digits_are_recognised_in_the_centre_in_a_corner_and_small() {
    let root = ready_app().await;
    assert_eq!(text(&root, "prediction"), "", "nothing drawn yet");
    for stem in [
        "digit-3", "corner-4", "small-7", "digit-0", "digit-2", "digit-8",
    ] {
        let (_, digit, fixture) = common::STROKE_FIXTURES
            .iter()
            .find(|f| f.0 == stem)
            .unwrap();
        clear(&root).await;
        let strokes = common::strokes(fixture);
        draw(&root, &strokes).await;
        assert_eq!(text(&root, "prediction"), digit.to_string(), "{stem}");
        assert_eq!(attr(&root, "prediction", "data-verdict"), "digit", "{stem}");
        assert_eq!(
            attr(&root, "prediction", "data-strokes"),
            strokes.len().to_string(),
            "{stem}"
        );
        let top: f64 = attr(&root, &format!("prob-{digit}"), "data-value")
            .parse()
            .unwrap();
        assert!(top > 0.5, "{stem}: p = {top}");
        // The latency shown is the one measured for this answer, rounded for display.
        let ms: f64 = attr(&root, "latency", "data-ms").parse().unwrap();
        let shown = text(&root, "latency");
        let shown_ms: f64 = shown
            .strip_suffix(" ms")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{stem}: latency shown as {shown:?}"));
        assert!(
            ms.is_finite() && (shown_ms - ms).abs() <= 0.051,
            "{stem}: shows {shown:?} for {ms} ms"
        );
    }
}

#[wasm_bindgen_test]
async fn undo_and_clear_work() {
    let root = ready_app().await;
    let four = fixture_strokes("digit-4");
    assert_eq!(four.len(), 2);
    draw(&root, &four).await;
    assert_eq!(text(&root, "prediction"), "4");
    assert_eq!(attr(&root, "prediction", "data-strokes"), "2");

    click(&root, "undo");
    wait_for_strokes(&root, 1).await;
    assert_eq!(
        attr(&root, "prediction", "data-strokes"),
        "1",
        "undo re-predicts one stroke"
    );

    clear(&root).await;
    assert_eq!(text(&root, "prediction"), "", "clear empties the answer");
    assert_eq!(attr(&root, "prob-4", "data-value"), "0.0000");

    // Keyboard: Ctrl+Z undoes, Escape clears.
    draw(&root, &four).await;
    let key = |k: &str, ctrl: bool| {
        let init = KeyboardEventInit::new();
        init.set_key(k);
        init.set_ctrl_key(ctrl);
        init.set_bubbles(true);
        init.set_cancelable(true);
        let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        web_sys::window().unwrap().dispatch_event(&event).unwrap();
    };
    key("z", true);
    wait_for_strokes(&root, 1).await;
    key("Escape", false);
    wait_for_strokes(&root, 0).await;
    assert_eq!(text(&root, "prediction"), "");
}

#[wasm_bindgen_test]
async fn a_scribble_is_not_a_digit_and_why_explains_a_digit() {
    let root = ready_app().await;
    let scribble = include_str!("fixtures/nondigits/scribble-loops-1.strokes");
    draw(&root, &common::strokes(scribble)).await;
    assert_eq!(attr(&root, "prediction", "data-verdict"), "not-digit");
    assert_eq!(text(&root, "prediction"), "?");

    clear(&root).await;
    let seven = fixture_strokes("digit-7");
    draw(&root, &seven).await;
    assert_eq!(attr(&root, "prediction", "data-verdict"), "digit");
    let confidence: f32 = attr(&root, "prediction", "data-confidence")
        .parse()
        .unwrap();
    let bar: f32 = attr(&root, "prob-7", "data-value").parse().unwrap();
    assert!(
        (confidence - bar).abs() < 1e-3,
        "{confidence} vs the bar's {bar}"
    );
    assert_eq!(attr(&root, "saliency", "data-state"), "off");
    click(&root, "explain");
    wait_until("the explanation", || {
        attr(&root, "saliency", "data-state") == "shown"
    })
    .await;
    assert_eq!(attr(&root, "saliency", "data-digit"), "7");
    let runs: usize = attr(&root, "saliency", "data-runs").parse().unwrap();
    assert!(runs > 10, "{runs} runs");
    click(&root, "explain");
    wait_until("the explanation to go", || {
        attr(&root, "saliency", "data-state") == "off"
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_correction_is_kept_and_forgotten() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.clear().unwrap();
    let root = ready_app().await;
    let seven = fixture_strokes("digit-7");
    draw(&root, &seven).await;
    assert_eq!(text(&root, "prediction"), "7");
    assert_eq!(attr(&root, "prediction", "data-source"), "model");
    assert_eq!(attr(&root, "personal-count", "data-count"), "0");
    // "It was a 1": the same drawing now reads 1, from the person's example, and is stored.
    click(&root, "correct-1");
    wait_until("the correction", || text(&root, "prediction") == "1").await;
    assert_eq!(attr(&root, "prediction", "data-source"), "personal");
    assert_eq!(attr(&root, "personal-count", "data-count"), "1");
    let stored = storage
        .get_item("digitpad-personal-examples")
        .unwrap()
        .unwrap();
    let examples = digitpad::personal::from_text(&stored).unwrap();
    assert_eq!(examples.len(), 1);
    assert_eq!(examples[0].label, 1);
    // Forget: the model's answer again, nothing stored.
    click(&root, "forget");
    wait_until("the model's answer", || text(&root, "prediction") == "7").await;
    assert_eq!(attr(&root, "prediction", "data-source"), "model");
    assert_eq!(attr(&root, "personal-count", "data-count"), "0");
    assert_eq!(
        storage.get_item("digitpad-personal-examples").unwrap(),
        None
    );
    // A slip: undo brings the example back, used and stored.
    click(&root, "forget-undo");
    wait_until("the example to come back", || {
        attr(&root, "personal-count", "data-count") == "1"
    })
    .await;
    assert_eq!(text(&root, "prediction"), "1");
    assert!(storage
        .get_item("digitpad-personal-examples")
        .unwrap()
        .is_some());
    // One example picked from the list is forgotten alone.
    click(&root, "show-examples");
    wait_until("the list of examples", || {
        find(&root, "kept-example").is_some()
    })
    .await;
    assert_eq!(attr(&root, "kept-example", "data-digit"), "1");
    click(&root, "kept-example");
    wait_until("the example to go", || {
        attr(&root, "personal-count", "data-count") == "0"
    })
    .await;
    assert_eq!(text(&root, "prediction"), "7");
    clear_storage();
}

#[wasm_bindgen_test]
async fn stored_examples_that_cannot_be_read_are_kept_aside_and_named() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.clear().unwrap();
    storage
        .set_item("digitpad-personal-examples", "not our format")
        .unwrap();
    let root = ready_app_with_storage().await;
    wait_until("the warning", || {
        find(&root, "personal-unreadable").is_some()
    })
    .await;
    assert!(text(&root, "personal-unreadable").contains("kept aside"));
    let set_aside = || {
        storage
            .get_item("digitpad-personal-examples-unreadable")
            .unwrap()
    };
    assert_eq!(set_aside().as_deref(), Some("not our format"));
    // A new correction is saved over the main key; what was set aside stays.
    draw(&root, &fixture_strokes("digit-7")).await;
    click(&root, "correct-1");
    wait_until("the correction", || {
        attr(&root, "personal-count", "data-count") == "1"
    })
    .await;
    assert_eq!(set_aside().as_deref(), Some("not our format"));
    clear_storage();
}

#[wasm_bindgen_test]
async fn saved_corrections_apply_on_the_next_visit_even_to_a_digit_drawn_before_they_loaded() {
    let seven = fixture_strokes("digit-7");
    // A first visit: the seven is corrected to a 1, which the page keeps.
    let first = ready_app().await;
    draw(&first, &seven).await;
    click(&first, "correct-1");
    wait_until("the correction", || {
        attr(&first, "personal-count", "data-count") == "1"
    })
    .await;
    drop(first);

    // The next visit: the seven is drawn before the model (and so the saved correction) has
    // loaded: the model's bytes arrive (as boot.js hands them over) only once it is drawn.
    // The page is ready before it reads the saved examples; once it has, the drawing is read
    // again with them.
    let mut hand_over = None;
    let pending = js_sys::Promise::new(&mut |resolve, _reject| hand_over = Some(resolve));
    let root = mount(ModelSource::Started {
        url: "no-such-folder/digitnet.onnx".into(),
        bytes: pending.into(),
    });
    wait_until("the pad", || find(&root, "pad").is_some()).await;
    enlarge_pad(&root);
    draw_now(&root, &seven);
    assert_ne!(status_state(&root).as_deref(), Some("ready"));
    let buffer = js_sys::Uint8Array::from(common::MODEL).buffer();
    hand_over
        .expect("the promise's executor ran")
        .call1(&wasm_bindgen::JsValue::NULL, &buffer)
        .unwrap();
    wait_until("the saved correction to be in use", || {
        attr(&root, "personal-count", "data-count") == "1"
    })
    .await;
    wait_until("the drawing read again with it", || {
        text(&root, "prediction") == "1"
    })
    .await;
    assert_eq!(attr(&root, "prediction", "data-source"), "personal");
    clear_storage();
}

#[wasm_bindgen_test]
async fn corrupt_model_bytes_show_an_error_and_do_not_panic() {
    let mut corrupt = common::MODEL.to_vec();
    corrupt.truncate(corrupt.len() / 3);
    let root = mount(ModelSource::Bytes(Rc::new(corrupt)));
    wait_until("the error state", || {
        status_state(&root).as_deref() == Some("error")
    })
    .await;
    let message = text(&root, "status");
    assert!(message.contains("could not be loaded"), "{message}");
    // The pad still takes input without a model, and nothing panics.
    enlarge_pad(&root);
    draw_now(&root, &common::strokes(common::STROKE_FIXTURES[1].2));
    wait_until("the pad to take the strokes (Undo enabled)", || {
        !by_test_id(&root, "undo").has_attribute("disabled")
    })
    .await;
    assert_eq!(text(&root, "prediction"), "");
    assert_eq!(status_state(&root).as_deref(), Some("error"));
}

/// A promise of an `ArrayBuffer` holding `bytes`, as `www/boot.js` hands the app its fetch.
fn promise_of(bytes: Option<&[u8]>) -> wasm_bindgen::JsValue {
    let value = match bytes {
        Some(bytes) => js_sys::Uint8Array::from(bytes).buffer().into(),
        None => wasm_bindgen::JsValue::NULL,
    };
    js_sys::Promise::resolve(&value).into()
}

#[wasm_bindgen_test]
async fn the_model_fetch_begun_by_boot_js_is_used() {
    // A URL that does not exist: the model can only come from the promise.
    let root = mount(ModelSource::Started {
        url: "no-such-folder/digitnet.onnx".into(),
        bytes: promise_of(Some(common::MODEL)),
    });
    wait_until("the model to be ready", || {
        status_state(&root).as_deref() == Some("ready")
    })
    .await;
    assert!(text(&root, "status").starts_with("Ready"));
}

#[wasm_bindgen_test]
async fn a_failed_or_stale_early_fetch_falls_back_to_the_apps_own() {
    for (case, bytes) in [
        ("failed", None),
        ("stale", Some(&common::MODEL[..common::MODEL.len() / 2])),
    ] {
        let root = mount(ModelSource::Started {
            url: "no-such-folder/digitnet.onnx".into(),
            bytes: promise_of(bytes),
        });
        wait_until("the error state", || {
            status_state(&root).as_deref() == Some("error")
        })
        .await;
        // The app fetched the URL itself (and found nothing there).
        let message = text(&root, "status");
        assert!(
            message.contains("could not fetch no-such-folder/digitnet.onnx"),
            "{case}: {message}"
        );
    }
}

/// A number made of the single-digit fixtures, side by side, each half the pad's height.
fn composed_number(digits: &str) -> Vec<Stroke> {
    let mut strokes = Vec::new();
    let mut x = 0.15;
    for c in digits.chars() {
        let digit = fixture_strokes(&format!("digit-{c}"));
        let b = digitpad::strokes::Bounds::of_strokes(&digit).unwrap();
        let scale = 0.5 / b.height();
        for stroke in &digit {
            strokes.push(
                stroke
                    .iter()
                    .map(|p| {
                        digitpad::Point::new(
                            x + (p.x - b.min_x) * scale,
                            0.25 + (p.y - b.min_y) * scale,
                        )
                    })
                    .collect(),
            );
        }
        x += b.width() * scale + 0.08;
    }
    strokes
}

#[wasm_bindgen_test]
async fn a_written_number_is_read_with_a_box_per_digit() {
    let root = ready_app().await;
    assert_eq!(text(&root, "number"), "", "nothing drawn yet");
    let strokes = composed_number("2026");
    draw(&root, &strokes).await;
    assert_eq!(text(&root, "number"), "2026");
    assert_eq!(attr(&root, "number", "data-digits"), "4");
    assert_eq!(
        attr(&root, "number", "data-strokes"),
        strokes.len().to_string()
    );
    let boxes = root
        .query_selector_all("[data-testid=\"digit-box\"]")
        .unwrap();
    let read: String = (0..boxes.length())
        .filter_map(|i| boxes.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .filter_map(|e| e.get_attribute("data-digit"))
        .collect();
    assert_eq!(read, "2026", "one box per digit, left to right");
    // The answer panel shows the last digit written; Undo takes its stroke away.
    assert_eq!(text(&root, "prediction"), "6");
    click(&root, "undo");
    wait_until("the number without its last stroke", || {
        text(&root, "number") == "202"
    })
    .await;
    clear(&root).await;
    assert_eq!(text(&root, "number"), "");
    assert_eq!(
        root.query_selector_all("[data-testid=\"digit-box\"]")
            .unwrap()
            .length(),
        0
    );
}

/// The layers view shows what the page's plan computed, and that is tract's own value: the
/// stages of a drawn 3 (read by the classifier as the page reads, its own convolutions
/// included) against tract-onnx's own route asked for the stage's ONNX value, bit for bit;
/// then the view mounted with those stages, every pixel of the stage's tiles against that
/// value's grey level on the layer's scale.
#[wasm_bindgen_test]
async fn the_layers_view_shows_tracts_own_activations() {
    use digitpad::app::{LayersView, LayersViewProps};
    use digitpad::layers::{grey, stage_specs, TileGrid};
    use prost::Message;
    use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

    const STAGE: &str = "l3_conv";
    let classifier = Classifier::from_onnx(common::MODEL, 1).unwrap();
    let image = digitpad::preprocess::strokes_to_digit(&fixture_strokes("digit-3")).unwrap();
    let layers = classifier.read_layers(&image, &|| 0.0).unwrap();
    let shown = layers
        .stages
        .iter()
        .find(|s| s.name == STAGE)
        .unwrap()
        .clone();

    let proto = tract_onnx::pb::ModelProto::decode(common::MODEL).unwrap();
    let spec = stage_specs(&proto)
        .into_iter()
        .find(|s| s.name == STAGE)
        .unwrap();
    let (_, theirs) = common::tract_own_value(&spec.output, &image);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&shown.values),
        bits(&theirs),
        "{STAGE}: not tract's own values"
    );
    let max = theirs.iter().fold(0f32, |m, &v| m.max(v));

    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let view = yew::Renderer::<LayersView>::with_root_and_props(
        root.clone(),
        LayersViewProps {
            layers: Some(Rc::new(layers)),
            updates: 1,
            personal_answer: None,
            error: None,
        },
    )
    .render();
    let figure = || {
        root.query_selector(&format!("[data-testid=layer][data-name={STAGE}]"))
            .unwrap()
    };
    let (grid, width, height) = {
        let grid = TileGrid::new(32, 14, 14);
        let (w, h) = grid.size();
        (grid, w, h)
    };
    wait_until("the stage's tiles to be painted", || {
        figure()
            .and_then(|f| f.query_selector("canvas").unwrap())
            .is_some_and(|c| c.unchecked_into::<HtmlCanvasElement>().width() as usize == width)
    })
    .await;
    let figure = figure().unwrap();
    assert_eq!(figure.get_attribute("data-shape").unwrap(), "14x14x32");
    assert_eq!(
        figure.get_attribute("data-max").unwrap(),
        format!("{max:.6}")
    );
    let canvas: HtmlCanvasElement = figure
        .query_selector("canvas")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let context: CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    let painted = context
        .get_image_data(0.0, 0.0, width as f64, height as f64)
        .unwrap()
        .data();
    for (c, map) in theirs.chunks(14 * 14).enumerate() {
        let (x0, y0) = grid.origin(c);
        for (i, &v) in map.iter().enumerate() {
            let at = ((y0 + i / 14) * width + x0 + i % 14) * 4;
            assert_eq!(
                (painted[at], painted[at + 3]),
                (grey(v, max), 255),
                "channel {c}, pixel {i}: value {v}"
            );
        }
    }
    view.destroy();
    root.remove();
}

/// The Layers toggle opens the view for the digit on show; it follows the drawing (a new set
/// of stages for each reading), its probabilities are the answer's, and it closes again.
#[wasm_bindgen_test]
async fn the_layers_view_follows_the_drawing() {
    let root = ready_app().await;
    assert_eq!(attr(&root, "layers", "aria-pressed"), "false");
    assert!(find(&root, "layers-view").is_none(), "closed by default");
    click(&root, "layers");
    wait_until("the layers view", || find(&root, "layers-view").is_some()).await;
    assert_eq!(attr(&root, "layers", "aria-pressed"), "true");
    draw(&root, &fixture_strokes("digit-7")).await;
    let stages = || {
        root.query_selector_all("[data-testid=layer]")
            .unwrap()
            .length()
    };
    wait_until("the stages of the 7", || stages() == 11).await;
    let updates = || -> u64 { attr(&root, "layers-view", "data-updates").parse().unwrap() };
    let after_one = updates();
    assert!(after_one >= 1);
    let shapes: Vec<String> = (0..stages())
        .map(|i| {
            let e = root.query_selector_all("[data-testid=layer]").unwrap();
            let e: Element = e.item(i).unwrap().unchecked_into();
            e.get_attribute("data-shape").unwrap()
        })
        .collect();
    assert_eq!(shapes[0], "28x28x1");
    assert_eq!(shapes[1], "28x28x16");
    assert_eq!(shapes.last().unwrap(), "10");
    // The probabilities shown are the answer's (no examples kept: the model's own).
    let shown: Vec<String> = {
        let list = root
            .query_selector_all("[data-name=probabilities] li")
            .unwrap();
        (0..list.length())
            .map(|i| {
                let e: Element = list.item(i).unwrap().unchecked_into();
                e.get_attribute("data-value").unwrap()
            })
            .collect()
    };
    let bars: Vec<String> = (0..10)
        .map(|d| attr(&root, &format!("prob-{d}"), "data-value"))
        .collect();
    assert_eq!(shown, bars);
    // Another stroke: another set of stages.
    draw(&root, &fixture_strokes("digit-1")).await;
    wait_until("a new set of stages", || updates() > after_one).await;
    click(&root, "layers");
    wait_until("the layers view to close", || {
        find(&root, "layers-view").is_none()
    })
    .await;
    assert_eq!(attr(&root, "layers", "aria-pressed"), "false");
}

/// When the stages cannot be computed the view says why, in itself: the page's status and
/// answers are not touched.
#[wasm_bindgen_test]
async fn the_layers_view_names_what_went_wrong() {
    use digitpad::app::{LayersView, LayersViewProps};
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let view = yew::Renderer::<LayersView>::with_root_and_props(
        root.clone(),
        LayersViewProps {
            layers: None,
            updates: 0,
            personal_answer: None,
            error: Some("The layers could not be shown: no such stage".into()),
        },
    )
    .render();
    wait_until("the view", || find(&root, "layers-view").is_some()).await;
    assert!(text(&root, "layers-view").contains("no such stage"));
    assert!(root
        .query_selector("[data-testid=layer]")
        .unwrap()
        .is_none());
    view.destroy();
    root.remove();
}
