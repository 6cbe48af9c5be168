//! The web app (wasm32 only): a Yew page with a drawing pad that reads digits live with the
//! shipped ONNX model, run by tract in WebAssembly. Nothing leaves the page.

mod bars;
mod controller;
mod download;
mod explain;
mod layers_view;
mod loading;
mod number_view;
mod pad;
mod page;
mod personal_panel;
mod personal_store;
mod preview;
mod reader;
mod state;
mod status;
mod timing;
mod training_card;

pub use layers_view::{LayersView, LayersViewProps};
pub use pad::Drawing;
pub use page::{App, AppProps, ModelSource};
pub use state::ModelStatus;

use wasm_bindgen::JsCast;

/// Where the site serves the model, relative to the page.
pub const MODEL_URL: &str = "model/digitnet.onnx";

/// Shows a fatal error in the status banner. Used by the panic hook: after a panic the app
/// cannot go on, but the person should see why rather than a page that silently stops.
fn show_fatal_error(message: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(Some(status)) = document.query_selector("[data-testid=status]") {
        let _ = status.set_attribute("data-state", "error");
        let _ = status.set_attribute("role", "alert");
        status.set_text_content(Some(&format!(
            "Something went wrong: {message}. Reload the page to start again."
        )));
    }
}

/// Installs the panic hook: the panic goes to the console (with its location) and to the
/// status banner.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "internal error".into()),
        };
        show_fatal_error(&message);
    }));
}

/// The fetch of the model that `www/boot.js` began before the wasm was compiled
/// (`window.digitpadModel`: its URL as written in the page and a promise of its bytes), taken
/// once; None where there is none or it is for another file than [`MODEL_URL`].
fn started_model_fetch() -> Option<ModelSource> {
    let window = web_sys::window()?;
    let key = wasm_bindgen::JsValue::from_str("digitpadModel");
    let started = js_sys::Reflect::get(&window, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let field = |name: &str| js_sys::Reflect::get(&started, &name.into()).ok();
    let url = field("url")?.as_string()?;
    let bytes = field("bytes")?;
    (url == MODEL_URL && bytes.is_instance_of::<js_sys::Promise>())
        .then(|| ModelSource::Started { url, bytes })
}

/// Entry point of the page: mounts the app into `#app` (or the body).
pub fn start() {
    install_panic_hook();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let root = document
        .get_element_by_id("app")
        .or_else(|| document.body().map(|b| b.unchecked_into()));
    if let Some(root) = root {
        yew::Renderer::<App>::with_root_and_props(
            root,
            AppProps {
                model: started_model_fetch().unwrap_or_else(|| ModelSource::Url(MODEL_URL.into())),
            },
        )
        .render();
    }
}

/// Benchmark hook for `tests/e2e/bench.mjs`, only in builds with the `bench` feature (the
/// shipped site has none): a classifier loaded once, whose single-image inference the
/// benchmark times in this page in several calls (alternating with onnxruntime-web's), each
/// on the same classifier and run state, as the page's own answers are.
#[cfg(feature = "bench")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub struct InferenceBench {
    classifier: crate::Classifier,
    image: crate::DigitImage,
    performance: web_sys::Performance,
    /// The examples of the last [`InferenceBench::time_reading`], made once per count.
    personal: std::cell::RefCell<Option<(u32, crate::personal::Personal)>>,
}

#[cfg(feature = "bench")]
#[wasm_bindgen::prelude::wasm_bindgen]
impl InferenceBench {
    /// Loads `model` (and runs it once) and draws the image to classify, a seven.
    #[wasm_bindgen::prelude::wasm_bindgen(constructor)]
    pub fn new(model: &[u8]) -> Result<InferenceBench, wasm_bindgen::JsError> {
        let classifier = crate::Classifier::from_onnx(model, 1)?;
        let performance = web_sys::window()
            .and_then(|w| w.performance())
            .ok_or_else(|| wasm_bindgen::JsError::new("no performance timer"))?;
        let seven = crate::strokes::parse_strokes("0.3,0.2 0.7,0.2 0.45,0.8")
            .map_err(|e| wasm_bindgen::JsError::new(&e.to_string()))?;
        let image = crate::preprocess::strokes_to_digit(&seven).unwrap_or_default();
        Ok(Self {
            classifier,
            image,
            performance,
            personal: Default::default(),
        })
    }

    /// Times `batches` batches of `runs` runs (browsers round `performance.now()` to 0.1 ms,
    /// so single runs cannot be timed); the mean milliseconds per run of each batch.
    pub fn time(&self, batches: u32, runs: u32) -> Result<Vec<f64>, wasm_bindgen::JsError> {
        let runs = runs.max(1);
        (0..batches)
            .map(|_| {
                let start = self.performance.now();
                for _ in 0..runs {
                    self.classifier.classify(&self.image)?;
                }
                Ok((self.performance.now() - start) / f64::from(runs))
            })
            .collect()
    }

    /// Like [`InferenceBench::time`], for the page's whole answer to one digit: inference,
    /// then the person's `examples` examples (made from variations of the seven, labelled
    /// 0-9 in turn, each with its own variations as the page keeps them) have their say.
    pub fn time_reading(
        &self,
        batches: u32,
        runs: u32,
        examples: u32,
    ) -> Result<Vec<f64>, wasm_bindgen::JsError> {
        use crate::personal::{read_with_variations, reading, Personal, PARAMS};
        use crate::warp::{warp, Affine};
        let mut cache = self.personal.borrow_mut();
        if cache.as_ref().map(|(n, _)| *n) != Some(examples) {
            *cache = None;
        }
        if cache.is_none() {
            let images: Vec<crate::DigitImage> = (0..examples)
                .map(|i| {
                    let moved = Affine {
                        angle_deg: (i % 21) as f32 - 10.0,
                        shift: ((i % 3) as f32 - 1.0, 0.0),
                        ..Affine::IDENTITY
                    };
                    crate::DigitImage::from_pixels(warp(self.image.pixels(), &moved, None))
                })
                .collect();
            let kept = read_with_variations(&self.classifier, &images)?
                .iter()
                .enumerate()
                .map(|(i, predictions)| (i % 10, predictions.iter().map(reading).collect()))
                .collect();
            *cache = Some((
                examples,
                Personal::new(self.classifier.trust(), kept, PARAMS),
            ));
        }
        let Some((_, personal)) = cache.as_ref() else {
            return Ok(Vec::new());
        };
        let runs = runs.max(1);
        (0..batches)
            .map(|_| {
                let start = self.performance.now();
                for _ in 0..runs {
                    let p = self.classifier.classify(&self.image)?;
                    let answer = personal.adapt(self.classifier.trust(), &p.logits, &p.features);
                    std::hint::black_box(answer);
                }
                Ok((self.performance.now() - start) / f64::from(runs))
            })
            .collect()
    }
}
