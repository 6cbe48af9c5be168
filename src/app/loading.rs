//! Getting the model into the page: the fetch (or the one `www/boot.js` began), the check
//! that it is the model this page was built with, and loading it into a classifier.

use wasm_bindgen::JsCast;
use web_sys::RequestCache;

use super::timing::mark;
use crate::classifier::Classifier;
use crate::fingerprint::fnv1a_hex;

/// Fetches the model at `url` and checks that it is the one this page was built with. A stale
/// copy (from the HTTP cache or an old service worker's cache) is fetched once more from the
/// network, past every cache, under a query naming the expected version (`?v=...`).
///
/// `started`: the bytes of a fetch of `url` begun earlier, if any (checked the same way).
pub(super) async fn fetch_model(url: &str, started: Option<Vec<u8>>) -> Result<Vec<u8>, String> {
    let expected = crate::classifier::SHIPPED_MODEL_FINGERPRINT;
    let bytes = match started {
        Some(bytes) => bytes,
        None => fetch_bytes(url, RequestCache::Default).await?,
    };
    if expected == "none" || fnv1a_hex(&bytes) == expected {
        return Ok(bytes);
    }
    let bytes = fetch_bytes(&format!("{url}?v={expected}"), RequestCache::NoStore).await?;
    let found = fnv1a_hex(&bytes);
    if found == expected {
        Ok(bytes)
    } else {
        Err(format!(
            "{url} is not the model this page was built with (fingerprint {found}, expected \
             {expected}): the site is being updated; reload the page in a minute"
        ))
    }
}

/// Resolves in a task of its own (a zero timeout). The model loads there, not in the task that
/// ran the effect: Yew's scheduler yields to the browser with a zero timeout when a run takes
/// over 16 ms (the first render does), and a render asked for while that timeout is pending
/// waits for it, behind whatever the browser runs in between (in traces, the "ready" render
/// came 20-70 ms after the model was ready). Yew's timeout, set before this one, fires first.
pub(super) async fn next_task() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// The bytes a fetch begun by `www/boot.js` resolved to; None where it failed (the app then
/// fetches the model itself and reports any error).
pub(super) async fn started_bytes(promise: &wasm_bindgen::JsValue) -> Option<Vec<u8>> {
    let promise = promise.clone().dyn_into::<js_sys::Promise>().ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let buffer = buffer.dyn_into::<js_sys::ArrayBuffer>().ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

pub(super) async fn fetch_bytes(url: &str, cache: RequestCache) -> Result<Vec<u8>, String> {
    let response = gloo::net::http::Request::get(url)
        .cache(cache)
        .send()
        .await
        .map_err(|e| format!("could not fetch {url}: {e}"))?;
    if !response.ok() {
        return Err(format!(
            "could not fetch {url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    response
        .binary()
        .await
        .map_err(|e| format!("could not read {url}: {e}"))
}

/// A one-line description of a loaded model, from its metadata.
pub(super) fn describe(classifier: &Classifier) -> String {
    let name = classifier
        .metadata_value("architecture")
        .and_then(|a| a.split(':').next())
        .unwrap_or("model");
    match classifier
        .metadata_value("test_accuracy")
        .and_then(|a| a.parse::<f64>().ok())
    {
        Some(acc) => format!(
            "Ready: {name}, {:.2}% on the MNIST test set, running in your browser",
            100.0 * acc
        ),
        None => format!("Ready: {name}, running in your browser"),
    }
}

/// The classifier of the model's `bytes`, optimized and run once.
///
/// A function of its own, never inlined into the page's loading task: the browser recompiles
/// (optimizes) a function that has run long, in the background but on the same cores, and
/// with this work inlined the whole (large) task was recompiled during start-up (docs/performance.md, "The
/// page").
#[inline(never)]
pub(super) fn load_classifier(bytes: &[u8]) -> Result<Classifier, String> {
    let model = Classifier::prepare(bytes, 1);
    mark("digitpad:model-optimized");
    let model = model.and_then(|m| m.warm_up().map(|()| m));
    mark("digitpad:first-inference");
    model.map_err(|e| format!("The model could not be loaded: {e}"))
}
