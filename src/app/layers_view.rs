//! The layers view: every stage of the network reading the digit on show, as the page's own
//! plan computed it ([`crate::layers`]). Feature maps are tiles on one canvas per stage (one
//! tile per channel, grey levels scaled to the stage's largest value); the features are one
//! cell each; the logits and probabilities are ten numbers. Hovering, tapping or moving with
//! the arrow keys over a stage's tiles shows one channel larger.
//!
//! Canvas pixels are set with `putImageData`, sized by attribute and scaled by the stylesheet:
//! the page's Content-Security-Policy forbids inline styles.

use std::rc::Rc;

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

use crate::digit::CLASSES;
use crate::layers::{tile_pixels, Layers, Stage, TileGrid};

/// Properties of [`LayersView`].
#[derive(Properties, PartialEq, Clone)]
pub struct LayersViewProps {
    /// The stages of the digit on show (`None` before anything is read).
    pub layers: Option<Rc<Layers>>,
    /// How many sets of stages the page has computed (for `.ci/bench`'s update rate).
    pub updates: u64,
    /// The digit the person's examples made the answer, when they changed the network's.
    pub personal_answer: Option<usize>,
}

/// The channel shown larger: a stage (by index) and one of its channels.
type Focus = Option<(usize, usize)>;

/// The stage's maps as (channels, height, width); a vector's values are 1x1 maps.
fn maps(stage: &Stage) -> (usize, usize, usize) {
    match stage.shape.as_slice() {
        [c, h, w] => (*c, *h, *w),
        [f] => (*f, 1, 1),
        _ => (stage.values.len(), 1, 1),
    }
}

/// Whether the stage is shown as ten numbers rather than tiles.
fn is_scores(stage: &Stage) -> bool {
    stage.shape == [CLASSES]
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Puts RGBA pixels of `width` x `height` on `canvas`, resizing it when needed.
fn put(canvas: &HtmlCanvasElement, rgba: &[u8], width: usize, height: usize) -> Option<()> {
    let (w, h) = (width as u32, height as u32);
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), w, h).ok()?;
    context(canvas)?.put_image_data(&data, 0.0, 0.0).ok()
}

/// Paints every stage's tiles onto its canvas (`canvas[data-stage=i]` under `root`).
fn paint_stages(root: &web_sys::Element, layers: &Layers) {
    for (i, stage) in layers.stages.iter().enumerate() {
        if is_scores(stage) {
            continue;
        }
        let Ok(Some(canvas)) = root.query_selector(&format!("canvas[data-stage=\"{i}\"]")) else {
            continue;
        };
        let Ok(canvas) = canvas.dyn_into::<HtmlCanvasElement>() else {
            continue;
        };
        let (grid, rgba) = tile_pixels(stage);
        let (width, height) = grid.size();
        put(&canvas, &rgba, width, height);
    }
}

/// Paints channel `channel` of `stage` alone onto the lens canvas, on the stage's scale.
fn paint_lens(canvas: &HtmlCanvasElement, stage: &Stage, channel: usize) -> Option<()> {
    let (_, h, w) = maps(stage);
    let max = stage.max();
    let values = stage.values.get(channel * h * w..(channel + 1) * h * w)?;
    let mut rgba = Vec::with_capacity(h * w * 4);
    for &v in values {
        let g = crate::layers::grey(v, max);
        rgba.extend_from_slice(&[g, g, g, 255]);
    }
    put(canvas, &rgba, w, h)
}

/// The channel under a pointer event on a stage's canvas.
fn channel_under(event: &PointerEvent, stage: &Stage) -> Option<usize> {
    let canvas: HtmlCanvasElement = event.target_dyn_into()?;
    let (client_w, client_h) = (canvas.client_width(), canvas.client_height());
    if client_w <= 0 || client_h <= 0 {
        return None;
    }
    let x = f64::from(event.offset_x()) * f64::from(canvas.width()) / f64::from(client_w);
    let y = f64::from(event.offset_y()) * f64::from(canvas.height()) / f64::from(client_h);
    if x < 0.0 || y < 0.0 {
        return None;
    }
    let (c, h, w) = maps(stage);
    TileGrid::new(c, h, w).channel_at(x as usize, y as usize, c)
}

/// The channel the arrow key `key` moves to from `current` on a grid of `columns` columns
/// and `channels` channels (the same one at an edge).
fn moved(key: &str, current: usize, columns: usize, channels: usize) -> Option<usize> {
    let next = match key {
        "ArrowRight" => current + 1,
        "ArrowLeft" => current.checked_sub(1)?,
        "ArrowDown" => current + columns,
        "ArrowUp" => current.checked_sub(columns)?,
        "Home" => 0,
        "End" => channels.checked_sub(1)?,
        _ => return None,
    };
    Some(if next < channels { next } else { current })
}

/// One stage of feature maps or features: its tiles, and its channel larger when in focus.
fn map_stage(index: usize, stage: &Stage, focus: &UseStateHandle<Focus>, lens: &NodeRef) -> Html {
    let (channels, h, w) = maps(stage);
    let columns = TileGrid::new(channels, h, w).columns;
    let in_focus = focus.filter(|&(s, _)| s == index).map(|(_, c)| c);
    let on_move = {
        let focus = focus.clone();
        let stage = stage.clone();
        Callback::from(move |e: PointerEvent| {
            if let Some(c) = channel_under(&e, &stage) {
                if *focus != Some((index, c)) {
                    focus.set(Some((index, c)));
                }
            }
        })
    };
    let on_key = {
        let focus = focus.clone();
        Callback::from(move |e: KeyboardEvent| {
            let current = focus.filter(|&(s, _)| s == index).map_or(0, |(_, c)| c);
            if let Some(next) = moved(&e.key(), current, columns, channels) {
                e.prevent_default();
                focus.set(Some((index, next)));
            }
        })
    };
    let on_focus = {
        let focus = focus.clone();
        Callback::from(move |_: FocusEvent| {
            if focus.is_none_or(|(s, _)| s != index) {
                focus.set(Some((index, 0)));
            }
        })
    };
    let unit = if h * w == 1 { "feature" } else { "channel" };
    let label = format!(
        "{}: {} {unit}s, brighter is stronger; arrow keys show one larger",
        stage.caption, channels
    );
    html! {
        <>
            <canvas class={classes!("tiles", (h * w == 1).then_some("cells"))}
                data-stage={index.to_string()} tabindex="0" role="img" aria-label={label}
                onpointermove={on_move.clone()} onpointerdown={on_move}
                onkeydown={on_key} onfocus={on_focus} />
            if let Some(c) = in_focus {
                <div class="lens" data-testid="layer-lens" aria-live="polite">
                    if h * w > 1 {
                        <canvas ref={lens.clone()} class="lens-canvas" aria-hidden="true" />
                    }
                    <span>
                        { format!("{unit} {} of {channels}", c + 1) }
                        if h * w == 1 {
                            { format!(": {:.3}", stage.values.get(c).copied().unwrap_or_default()) }
                        } else {
                            { format!(", strongest {:.2}", stage.values[c * h * w..(c + 1) * h * w]
                                .iter().fold(0f32, |m, &v| m.max(v))) }
                        }
                    </span>
                </div>
            }
        </>
    }
}

/// The logits or the probabilities: ten numbers with bars (the largest highlighted).
fn score_stage(stage: &Stage) -> Html {
    let top = crate::scores::argmax(&{
        let mut row = [0f32; CLASSES];
        row.copy_from_slice(&stage.values[..CLASSES]);
        row
    });
    let scale = stage.values.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let probabilities = stage.name == crate::layers::PROBABILITIES_STAGE;
    html! {
        <ol class="scores">
            { for stage.values.iter().enumerate().map(|(digit, &v)| {
                let text = if probabilities {
                    format!("{:.1}%", 100.0 * v)
                } else {
                    format!("{v:.2}")
                };
                html! {
                    <li class={classes!((digit == top).then_some("top"), (v < 0.0).then_some("negative"))}
                        data-value={format!("{v:.4}")}>
                        <span class="score-digit">{ digit }</span>
                        <svg class="score-track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                            <rect class="score-fill" x="0" y="0" height="10"
                                width={format!("{:.2}", 100.0 * v.abs() / scale)} />
                        </svg>
                        <span class="score-value">{ text }</span>
                    </li>
                }
            }) }
        </ol>
    }
}

/// The layers view (shown while its toggle is on).
#[function_component(LayersView)]
pub fn layers_view(props: &LayersViewProps) -> Html {
    let root = use_node_ref();
    let lens = use_node_ref();
    let focus = use_state(|| None::<(usize, usize)>);
    {
        let root = root.clone();
        use_effect_with(props.layers.clone(), move |layers| {
            if let (Some(root), Some(layers)) = (root.cast::<web_sys::Element>(), layers) {
                paint_stages(&root, layers);
            }
        });
    }
    {
        let lens = lens.clone();
        use_effect_with((props.layers.clone(), *focus), move |(layers, focus)| {
            let stage = focus.and_then(|(s, c)| Some((layers.as_ref()?.stages.get(s)?, c)));
            if let (Some(canvas), Some((stage, channel))) = (lens.cast::<HtmlCanvasElement>(), stage)
            {
                paint_lens(&canvas, stage, channel);
            }
        });
    }
    let Some(layers) = props.layers.as_ref() else {
        return html! {
            <section id="layers-view" class="layers-view" data-testid="layers-view" aria-label="The network's layers"
                data-updates={props.updates.to_string()} ref={root}>
                <p class="layers-intro">{ "Write a digit to watch each layer of the network read it." }</p>
            </section>
        };
    };
    html! {
        <section id="layers-view" class="layers-view" data-testid="layers-view" aria-label="The network's layers"
            data-ms={format!("{:.3}", layers.ms)} data-updates={props.updates.to_string()} ref={root}>
            <p class="layers-intro">
                { format!("The network reading the digit on show, stage by stage ({} stages in {:.1} ms, \
                    as this page runs them). Each tile is one channel: brighter is stronger, each layer \
                    on its own scale. Point at a tile, tap it, or use the arrow keys to see it larger.",
                    layers.stages.len(), layers.ms) }
                if let Some(digit) = props.personal_answer {
                    { format!(" Your examples made the answer {digit}; these are the network's own \
                        numbers.") }
                }
            </p>
            <div class="layers-grid">
                { for layers.stages.iter().enumerate().map(|(i, stage)| html! {
                    <figure class={classes!("layer", is_scores(stage).then_some("scores-stage"))}
                        data-testid="layer" data-name={stage.name.clone()}
                        data-shape={stage.shape_label()} data-ms={format!("{:.3}", stage.ms)}
                        data-max={format!("{:.6}", stage.max())}>
                        <figcaption>
                            <span class="layer-what">{ stage.caption.clone() }</span>
                            { ": " }<span class="layer-shape">{ stage.shape_label() }</span>
                            <span class="layer-ms">{ format!(" · {:.2} ms", stage.ms) }</span>
                        </figcaption>
                        if is_scores(stage) {
                            { score_stage(stage) }
                        } else {
                            { map_stage(i, stage, &focus, &lens) }
                        }
                    </figure>
                }) }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::moved;

    #[test]
    fn arrow_keys_move_within_the_grid_and_stop_at_its_edges() {
        assert_eq!(moved("ArrowRight", 0, 8, 16), Some(1));
        assert_eq!(moved("ArrowDown", 3, 8, 16), Some(11));
        assert_eq!(moved("ArrowDown", 11, 8, 16), Some(11));
        assert_eq!(moved("ArrowLeft", 0, 8, 16), None);
        assert_eq!(moved("ArrowUp", 9, 8, 16), Some(1));
        assert_eq!(moved("End", 2, 8, 16), Some(15));
        assert_eq!(moved("x", 2, 8, 16), None);
    }
}
