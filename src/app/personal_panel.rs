//! "Your handwriting": how many corrections this browser keeps, per digit, each one to look at
//! and forget, and the buttons to forget all (with undo), export and import them.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::digit::CLASSES;
use crate::personal::{Example, MAX_PER_DIGIT};

/// The largest file an import reads: the most examples kept (ten digits of
/// [`MAX_PER_DIGIT`]) take about 0.5 MB as text; a larger file is not one of ours, or is
/// far past what would be kept, and is refused before it is read.
const MAX_IMPORT_BYTES: f64 = 2_000_000.0;

/// Which examples to forget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forget {
    /// Every one.
    All,
    /// The one at this index (oldest first).
    One(usize),
}

/// Properties of [`PersonalPanel`].
#[derive(Properties, PartialEq, Clone)]
pub struct PersonalPanelProps {
    /// The examples kept, oldest first.
    pub kept: Rc<Vec<Example>>,
    /// A line to show (what an import or a forget did, or why it failed).
    pub notice: Option<String>,
    /// Why the examples this browser stored could not be read, if they could not.
    pub unreadable: Option<String>,
    /// Whether the last forget can still be undone.
    pub can_undo: bool,
    /// Forget examples.
    pub on_forget: Callback<Forget>,
    /// Undo the last forget.
    pub on_undo: Callback<()>,
    /// Download the examples as a file.
    pub on_export: Callback<()>,
    /// The text of a file the person chose to import.
    pub on_import: Callback<Result<String, String>>,
}

/// An image as a `data:` URL the browser shows (a BMP, see [`crate::DigitImage::to_bmp`]).
fn data_url(example: &Example) -> String {
    let binary: String = example.image.to_bmp().into_iter().map(char::from).collect();
    web_sys::window()
        .and_then(|w| w.btoa(&binary).ok())
        .map(|b64| format!("data:image/bmp;base64,{b64}"))
        .unwrap_or_default()
}

/// The panel.
#[function_component(PersonalPanel)]
pub fn personal_panel(props: &PersonalPanelProps) -> Html {
    let total = props.kept.len();
    let listing = use_state(|| false);
    let on_change = {
        let on_import = props.on_import.clone();
        Callback::from(move |event: Event| {
            let Some(input) = event
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            input.set_value("");
            if file.size() > MAX_IMPORT_BYTES {
                on_import.emit(Err(format!(
                    "{} is {:.1} MB: an examples file holds at most {} examples ({MAX_PER_DIGIT} \
                     of each digit, about 0.5 MB). Nothing was imported.",
                    file.name(),
                    file.size() / 1e6,
                    CLASSES * MAX_PER_DIGIT
                )));
                return;
            }
            let on_import = on_import.clone();
            yew::platform::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                    .ok_or_else(|| format!("{} could not be read", file.name()));
                on_import.emit(text);
            });
        })
    };
    let forget_all = props.on_forget.reform(|_: MouseEvent| Forget::All);
    let undo = props.on_undo.reform(|_: MouseEvent| ());
    let export = props.on_export.reform(|_: MouseEvent| ());
    let toggle_list = {
        let listing = listing.clone();
        Callback::from(move |_: MouseEvent| listing.set(!*listing))
    };
    let mut counts = [0usize; CLASSES];
    props
        .kept
        .iter()
        .for_each(|e| counts[usize::from(e.label).min(CLASSES - 1)] += 1);
    let per_digit: Vec<String> = counts
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(d, n)| format!("{d} ×{n}"))
        .collect();
    // Newest first: the one most likely to be a slip is the last correction.
    let list = (*listing && total > 0).then(|| {
        props
            .kept
            .iter()
            .enumerate()
            .rev()
            .map(|(index, example)| {
                let forget = props
                    .on_forget
                    .reform(move |_: MouseEvent| Forget::One(index));
                let label = example.label;
                html! {
                    <li key={index}>
                        <button type="button" class="kept-example" data-testid="kept-example"
                            data-digit={label.to_string()} onclick={forget}
                            title={format!("Forget this example of {label}")}
                            aria-label={format!("Forget this example of {label}")}>
                            <img src={data_url(example)} alt="" width="28" height="28" />
                            <span>{ label }</span>
                        </button>
                    </li>
                }
            })
            .collect::<Html>()
    });
    html! {
        <details class="personal" data-testid="personal" open={props.unreadable.is_some()}>
            <summary>
                { "Your handwriting: " }
                <span data-testid="personal-count" data-count={total.to_string()}>
                    { match total {
                        0 => "no examples yet".to_string(),
                        1 => "1 example".to_string(),
                        n => format!("{n} examples"),
                    } }
                </span>
                if props.unreadable.is_some() {
                    { " · saved examples unreadable" }
                }
            </summary>
            <p class="personal-help">
                { format!("When the answer is wrong, tap the right digit under it. The drawing is \
                   kept in this browser only (never sent) and drawings like it are read your \
                   way; the {MAX_PER_DIGIT} most recent of each digit are kept.") }
            </p>
            if let Some(reason) = &props.unreadable {
                <p class="personal-warning" role="alert" data-testid="personal-unreadable">
                    { reason }
                </p>
            }
            if !per_digit.is_empty() {
                <p class="personal-counts">{ format!("Kept: {}", per_digit.join(" · ")) }</p>
            }
            if let Some(notice) = &props.notice {
                <p class="personal-notice" role="status">
                    { notice }
                    if props.can_undo {
                        { " " }
                        <button type="button" class="link" data-testid="forget-undo"
                            onclick={undo}>{ "Undo" }</button>
                    }
                </p>
            }
            <div class="personal-actions">
                <button type="button" data-testid="forget" onclick={forget_all}
                    disabled={total == 0}>{ "Forget all" }</button>
                <button type="button" data-testid="show-examples" onclick={toggle_list}
                    aria-expanded={(*listing).to_string()} disabled={total == 0}>
                    { if *listing { "Hide examples" } else { "Show examples" } }
                </button>
                <button type="button" data-testid="export" onclick={export}
                    disabled={total == 0}>{ "Export" }</button>
                <label class="import">
                    { "Import" }
                    <input type="file" accept=".txt,text/plain" data-testid="import"
                        onchange={on_change} />
                </label>
            </div>
            if let Some(list) = list {
                <p class="personal-help">{ "Tap an example to forget it." }</p>
                <ul class="kept-examples" data-testid="kept-examples">{ list }</ul>
            }
        </details>
    }
}
