//! The layers view: every stage of the network reading the digit on show, as the page's own
//! plan computed it ([`crate::layers`]). Feature maps are tiles on one canvas per stage (one
//! tile per channel, grey levels scaled to the stage's largest value); the features are one
//! cell each; the logits and probabilities are ten numbers. Hovering, tapping or moving with
//! the arrow keys over a stage's tiles shows one channel larger.
//!
//! DOM contract: each stage is a `[data-testid=layer]` with `data-name`, `data-shape`
//! (`14x14x32`), `data-ms` (the time to compute the whole set of stages once, as on the view
//! itself: the stages come from one run of the plan) and `data-max` (the scale of its grey
//! levels).
//!
//! Canvas pixels are set with `putImageData`, sized by attribute and scaled by the stylesheet:
//! the page's Content-Security-Policy forbids inline styles.

use std::rc::Rc;

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

use crate::digit::CLASSES;
use crate::layers::{tile_pixels, Layers, Stage};

/// Properties of [`LayersView`].
#[derive(Properties, PartialEq, Clone)]
pub struct LayersViewProps {
    /// The stages of the digit on show (`None` before anything is read).
    pub layers: Option<Rc<Layers>>,
    /// How many sets of stages the page has computed (for `.ci/bench`'s update rate).
    pub updates: u64,
    /// The digit the person's examples made the answer, when they changed the network's.
    pub personal_answer: Option<usize>,
    /// Why the stages could not be computed, if they could not (the answers go on).
    #[prop_or_default]
    pub error: Option<String>,
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
    let (_, h, w) = stage.maps();
    let max = stage.max();
    let values = stage.values.get(channel * h * w..(channel + 1) * h * w)?;
    let mut rgba = Vec::with_capacity(h * w * 4);
    for &v in values {
        let g = crate::layers::grey(v, max);
        rgba.extend_from_slice(&[g, g, g, 255]);
    }
    put(canvas, &rgba, w, h)
}

/// The stage index of the canvas an event happened on (`data-stage`), and that canvas.
fn stage_canvas(event: &Event) -> Option<(usize, HtmlCanvasElement)> {
    let canvas: HtmlCanvasElement = event.target()?.dyn_into().ok()?;
    let index = canvas.get_attribute("data-stage")?.parse().ok()?;
    Some((index, canvas))
}

/// [`stage_canvas`], with the stage it shows.
fn stage_under<'a>(
    event: &Event,
    layers: Option<&'a Layers>,
) -> Option<(usize, HtmlCanvasElement, &'a Stage)> {
    let (index, canvas) = stage_canvas(event)?;
    Some((index, canvas, layers?.stages.get(index)?))
}

/// The channel under a pointer at `(x, y)` CSS pixels from the top left of `canvas`, which
/// shows `stage`'s tiles.
fn channel_at(canvas: &HtmlCanvasElement, x: i32, y: i32, stage: &Stage) -> Option<usize> {
    let (client_w, client_h) = (canvas.client_width(), canvas.client_height());
    if client_w <= 0 || client_h <= 0 || x < 0 || y < 0 {
        return None;
    }
    let x = f64::from(x) * f64::from(canvas.width()) / f64::from(client_w);
    let y = f64::from(y) * f64::from(canvas.height()) / f64::from(client_h);
    stage
        .grid()
        .channel_at(x as usize, y as usize, stage.maps().0)
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

/// What the lens says of channel `c` of `stage`.
fn lens_text(stage: &Stage, c: usize) -> String {
    let (channels, h, w) = stage.maps();
    let values = stage
        .values
        .get(c * h * w..(c + 1) * h * w)
        .unwrap_or_default();
    let strongest = values.iter().fold(0f32, |m, &v| m.max(v));
    if h * w == 1 {
        format!("feature {} of {channels}: {strongest:.3}", c + 1)
    } else {
        format!("channel {} of {channels}, strongest {strongest:.2}", c + 1)
    }
}

/// The logits or the probabilities: ten numbers, the largest highlighted.
fn score_stage(stage: &Stage) -> Html {
    let top = crate::scores::argmax(&stage.values);
    let percent = stage.name == crate::layers::PROBABILITIES_STAGE;
    html! {
        <ol class="scores">
            { for stage.values.iter().enumerate().map(|(digit, &v)| html! {
                <li class={(digit == top).then_some("top")} data-value={format!("{v:.4}")}>
                    <b>{ digit }</b>
                    { if percent { format!("{:.1}%", 100.0 * v) } else { format!("{v:.2}") } }
                </li>
            }) }
        </ol>
    }
}

/// The layers view (shown while its toggle is on). The pointer, keyboard and focus listeners
/// sit on the grid, for all its canvases at once.
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
            if let (Some(canvas), Some((stage, channel))) =
                (lens.cast::<HtmlCanvasElement>(), stage)
            {
                paint_lens(&canvas, stage, channel);
            }
        });
    }
    let stages: &[Stage] = props.layers.as_deref().map_or(&[], |l| &l.stages);
    let total_ms = props.layers.as_ref().map_or(0.0, |l| l.ms);
    let on_pointer = {
        let (focus, layers) = (focus.clone(), props.layers.clone());
        Callback::from(move |e: PointerEvent| {
            let Some((index, canvas, stage)) = stage_under(&e, layers.as_deref()) else {
                return;
            };
            if let Some(c) = channel_at(&canvas, e.offset_x(), e.offset_y(), stage) {
                if *focus != Some((index, c)) {
                    focus.set(Some((index, c)));
                }
            }
        })
    };
    let on_key = {
        let (focus, layers) = (focus.clone(), props.layers.clone());
        Callback::from(move |e: KeyboardEvent| {
            let Some((index, _, stage)) = stage_under(&e, layers.as_deref()) else {
                return;
            };
            let (channels, columns) = (stage.maps().0, stage.grid().columns);
            let current = focus.filter(|&(s, _)| s == index).map_or(0, |(_, c)| c);
            if let Some(next) = moved(&e.key(), current, columns, channels) {
                e.prevent_default();
                focus.set(Some((index, next)));
            }
        })
    };
    let on_focus = {
        let focus = focus.clone();
        Callback::from(move |e: FocusEvent| {
            if let Some((index, _)) = stage_canvas(&e) {
                if focus.is_none_or(|(s, _)| s != index) {
                    focus.set(Some((index, 0)));
                }
            }
        })
    };
    html! {
        <section id="layers-view" class="layers-view" data-testid="layers-view"
            data-ms={format!("{total_ms:.3}")} data-updates={props.updates.to_string()} ref={root}>
            <p class="layers-intro">
                if let Some(reason) = &props.error {
                    <span class="error">{ reason }</span>
                } else if stages.is_empty() {
                    { "Write a digit to watch each layer of the network read it." }
                } else {
                    { format!("The network reading the digit on show, stage by stage ({} stages \
                        in {:.1} ms, as this page runs them). Each tile is one channel: brighter \
                        is stronger, each layer on its own scale. Point at a tile, tap it, or use \
                        the arrow keys to see it larger.", stages.len(), total_ms) }
                }
                if let Some(digit) = props.personal_answer {
                    { format!(" Your examples made the answer {digit}; these are the network's \
                        own numbers.") }
                }
            </p>
            <div class="layers-grid" onpointermove={on_pointer.clone()} onpointerdown={on_pointer}
                onkeydown={on_key} onfocusin={on_focus}>
                { for stages.iter().enumerate().map(|(i, stage)| {
                    let (channels, h, w) = stage.maps();
                    let in_focus = focus.filter(|&(s, _)| s == i).map(|(_, c)| c);
                    html! {
                        <figure class="layer" data-testid="layer" data-name={stage.name.clone()}
                            data-shape={stage.shape_label()} data-ms={format!("{total_ms:.3}")}
                            data-max={format!("{:.6}", stage.max())}>
                            <figcaption>{ format!("{}: {}", stage.caption, stage.shape_label()) }
                            </figcaption>
                            if is_scores(stage) {
                                { score_stage(stage) }
                            } else {
                                <canvas class={match (channels, h * w) {
                                        (_, 1) => "tiles cells",
                                        (1, _) => "tiles single",
                                        _ => "tiles",
                                    }}
                                    data-stage={i.to_string()} tabindex="0" role="img"
                                    aria-label={format!("{}: {channels} maps, brighter is \
                                        stronger; arrow keys show one larger", stage.caption)} />
                            }
                            if let Some(c) = in_focus {
                                <p class="lens" data-testid="layer-lens" aria-live="polite">
                                    if h * w > 1 {
                                        <canvas ref={lens.clone()} class="preview lens-canvas" />
                                    }
                                    { lens_text(stage, c) }
                                </p>
                            }
                        </figure>
                    }
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
