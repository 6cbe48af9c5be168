//! "Your handwriting": how many corrections this browser keeps, per digit, and the buttons to
//! forget, export and import them.

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::digit::CLASSES;

/// Properties of [`PersonalPanel`].
#[derive(Properties, PartialEq, Clone)]
pub struct PersonalPanelProps {
    /// Examples kept, per digit.
    pub counts: [usize; CLASSES],
    /// A line to show (what an import did, or why it failed).
    pub notice: Option<String>,
    /// Forget every example.
    pub on_forget: Callback<()>,
    /// Download the examples as a file.
    pub on_export: Callback<()>,
    /// The text of a file the person chose to import.
    pub on_import: Callback<Result<String, String>>,
}

/// The panel.
#[function_component(PersonalPanel)]
pub fn personal_panel(props: &PersonalPanelProps) -> Html {
    let total: usize = props.counts.iter().sum();
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
    let forget = props.on_forget.reform(|_: MouseEvent| ());
    let export = props.on_export.reform(|_: MouseEvent| ());
    let per_digit: Vec<String> = props
        .counts
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(d, n)| format!("{d} ×{n}"))
        .collect();
    html! {
        <details class="personal" data-testid="personal">
            <summary>
                { "Your handwriting: " }
                <span data-testid="personal-count" data-count={total.to_string()}>
                    { match total {
                        0 => "no examples yet".to_string(),
                        1 => "1 example".to_string(),
                        n => format!("{n} examples"),
                    } }
                </span>
            </summary>
            <p class="personal-help">
                { "When the answer is wrong, tap the right digit under it. The drawing is kept \
                   in this browser only (never sent) and drawings like it are read your way." }
            </p>
            if !per_digit.is_empty() {
                <p class="personal-counts">{ format!("Kept: {}", per_digit.join(" · ")) }</p>
            }
            if let Some(notice) = &props.notice {
                <p class="personal-notice" role="status">{ notice }</p>
            }
            <div class="personal-actions">
                <button type="button" data-testid="forget" onclick={forget}
                    disabled={total == 0}>{ "Forget all" }</button>
                <button type="button" data-testid="export" onclick={export}
                    disabled={total == 0}>{ "Export" }</button>
                <label class="import">
                    { "Import" }
                    <input type="file" accept=".txt,text/plain" data-testid="import"
                        onchange={on_change} />
                </label>
            </div>
        </details>
    }
}
