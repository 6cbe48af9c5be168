//! "How it was trained": the shipped model's card (data, augmentation, architecture,
//! optimiser and schedule, curves, confusion matrix, per-class metrics, calibration, what it
//! was taught beyond MNIST and what it still misses), as the trainer wrote it beside the model
//! (`card.html`, the page form of `README.md`; [`crate::MODEL_CARD_PAGE`]). Fetched when first
//! opened, so the page's first load carries none of it; a new model brings its own card.

use web_sys::RequestCache;
use yew::prelude::*;

use super::loading::fetch_bytes;

/// Properties of [`TrainingCard`].
#[derive(Properties, PartialEq, Clone)]
pub struct TrainingCardProps {
    /// The folder the model was fetched from, relative to the page, with its trailing slash
    /// (`model/`): the card and its pictures are there.
    pub folder: AttrValue,
}

/// The card, as fetched: its HTML with the pictures' paths made relative to the page.
async fn fetch_card(folder: &str) -> Result<String, String> {
    let url = format!("{folder}{}", crate::MODEL_CARD_PAGE);
    let bytes = fetch_bytes(&url, RequestCache::Default).await?;
    let html = String::from_utf8(bytes).map_err(|_| format!("{url} is not UTF-8 text"))?;
    Ok(html.replace("<img src=\"", &format!("<img src=\"{folder}")))
}

/// Where the card is in its life (`data-state`).
#[derive(Clone, Copy, PartialEq)]
enum CardState {
    Closed,
    Loading,
    Open,
    Error,
}

/// The section: a disclosure (`<details>`: the browser opens and closes it, by pointer or
/// keyboard), the card fetched the first time it opens and put in place as the HTML it is
/// (the trainer's own file, from this site).
#[function_component(TrainingCard)]
pub fn training_card(props: &TrainingCardProps) -> Html {
    let state = use_state(|| CardState::Closed);
    let loaded = use_mut_ref(|| false);
    let content = use_node_ref();
    let on_toggle = {
        let state = state.clone();
        let content = content.clone();
        let folder = props.folder.clone();
        Callback::from(move |e: Event| {
            let open = e
                .target_dyn_into::<web_sys::Element>()
                .is_some_and(|d| d.has_attribute("open"));
            if !open {
                state.set(CardState::Closed);
            } else if *loaded.borrow() {
                state.set(CardState::Open);
            } else {
                state.set(CardState::Loading);
                let (state, content, folder) = (state.clone(), content.clone(), folder.clone());
                let loaded = loaded.clone();
                yew::platform::spawn_local(async move {
                    let card = fetch_card(&folder).await;
                    let Some(element) = content.cast::<web_sys::Element>() else {
                        return;
                    };
                    match card {
                        Ok(html) => {
                            element.set_inner_html(&html);
                            *loaded.borrow_mut() = true;
                            state.set(CardState::Open);
                        }
                        Err(reason) => {
                            element.set_text_content(Some(&format!(
                                "The model card could not be loaded ({reason}). It is fetched \
                                 when opened: try again when online."
                            )));
                            state.set(CardState::Error);
                        }
                    }
                });
            }
        })
    };
    let name = match *state {
        CardState::Closed => "closed",
        CardState::Loading => "loading",
        CardState::Open => "open",
        CardState::Error => "error",
    };
    html! {
        <details class="training" data-testid="training" data-state={name} ontoggle={on_toggle}>
            <summary class="training-toggle" data-testid="training-toggle">
                { "How it was trained" }</summary>
            <div class="card-page" ref={content}>{ "Loading the model card…" }</div>
        </details>
    }
}
