//! The saliency overlays: which ink argued for the answer (warm) and which for the runner-up
//! (blue), drawn over the pad (each of the model's pixels mapped back onto the strokes that
//! made it) and over the 28x28 preview. See [`crate::saliency`] for how it is computed.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

use crate::digit::{PIXELS, SIDE};
use crate::preprocess::Placement;
use crate::saliency::Saliency;

/// Colour of ink that argued for the answer.
const FOR_ANSWER: [u8; 3] = [234, 88, 12];
/// Colour of ink that argued for the runner-up.
const FOR_RUNNER_UP: [u8; 3] = [37, 99, 235];
/// Values below this share of the peak are not drawn (noise).
const FLOOR: f32 = 0.06;
/// Height of the pad overlay's canvas in pixels (its width follows the pad's shape): CSS
/// stretches it over the pad, and the map is only 28 pixels across, so more resolution would
/// add nothing.
const PAD_OVERLAY_SIDE: u32 = 392;

/// Colour and opacity (0..1) of one saliency value, `None` when too faint to draw.
fn tint(value: f32, peak: f32) -> Option<([u8; 3], f32)> {
    let strength = (value.abs() / peak.max(1e-6)).min(1.0);
    (strength >= FLOOR).then(|| {
        let colour = if value > 0.0 {
            FOR_ANSWER
        } else {
            FOR_RUNNER_UP
        };
        (colour, 0.25 + 0.65 * strength)
    })
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Paints the map over the pad: each image pixel becomes the patch of pad it came from.
fn paint_pad(canvas: &HtmlCanvasElement, map: Option<(&Saliency, &Placement)>) -> Option<()> {
    // Pad units are the pad's height on both axes: give the canvas the pad's shape.
    let rect = canvas.get_bounding_client_rect();
    let aspect = if rect.height() > 0.0 {
        rect.width() / rect.height()
    } else {
        1.0
    };
    let width = (f64::from(PAD_OVERLAY_SIDE) * aspect).round().max(1.0) as u32;
    if canvas.width() != width {
        canvas.set_width(width);
    }
    let ctx = context(canvas)?;
    let side = f64::from(canvas.height());
    ctx.clear_rect(0.0, 0.0, f64::from(canvas.width()), side);
    let (saliency, placement) = map?;
    let peak = saliency.peak();
    for (index, &value) in saliency.values.iter().enumerate() {
        let Some(([r, g, b], alpha)) = tint(value, peak) else {
            continue;
        };
        let (x, y) = ((index % SIDE) as f32, (index / SIDE) as f32);
        let (top_left, bottom_right) = (placement.to_pad(x, y), placement.to_pad(x + 1.0, y + 1.0));
        ctx.set_fill_style_str(&format!("rgba({r},{g},{b},{alpha:.2})"));
        ctx.fill_rect(
            f64::from(top_left.x) * side,
            f64::from(top_left.y) * side,
            f64::from(bottom_right.x - top_left.x) * side,
            f64::from(bottom_right.y - top_left.y) * side,
        );
    }
    Some(())
}

/// Paints the map over the 28x28 preview, one canvas pixel per model pixel.
fn paint_preview(canvas: &HtmlCanvasElement, saliency: Option<&Saliency>) -> Option<()> {
    let ctx = context(canvas)?;
    let mut rgba = vec![0u8; PIXELS * 4];
    if let Some(saliency) = saliency {
        let peak = saliency.peak();
        for (pixel, &value) in rgba.chunks_mut(4).zip(&saliency.values) {
            if let Some(([r, g, b], alpha)) = tint(value, peak) {
                pixel.copy_from_slice(&[r, g, b, (alpha * 255.0) as u8]);
            }
        }
    }
    let data =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), SIDE as u32, SIDE as u32)
            .ok()?;
    ctx.put_image_data(&data, 0.0, 0.0).ok()
}

/// Properties of [`PadSaliency`] and [`PreviewSaliency`].
#[derive(Properties, PartialEq, Clone)]
pub struct SaliencyProps {
    /// Whether the person asked to see why.
    pub active: bool,
    /// The explanation of the answer on show, once computed.
    pub saliency: Option<Saliency>,
    /// Where the drawing landed in the model's image.
    pub placement: Option<Placement>,
    /// How long the explanation took, in milliseconds (shown as `data-ms`).
    #[prop_or_default]
    pub ms: Option<f64>,
}

/// The overlay over the pad (`data-testid="saliency"`). Its `data-state` is `off`,
/// `computing` (asked for, not ready yet) or `shown`.
#[function_component(PadSaliency)]
pub fn pad_saliency(props: &SaliencyProps) -> Html {
    let canvas_ref = use_node_ref();
    {
        let canvas_ref = canvas_ref.clone();
        use_effect_with(props.clone(), move |props| {
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
                let map = props.saliency.as_ref().zip(props.placement.as_ref());
                paint_pad(&canvas, map.filter(|_| props.active));
            }
        });
    }
    let state = match (props.active, &props.saliency) {
        (false, _) => "off",
        (true, None) => "computing",
        (true, Some(_)) => "shown",
    };
    let saliency = props.saliency.as_ref().filter(|_| props.active);
    html! {
        <canvas ref={canvas_ref} class={classes!("saliency-pad", props.active.then_some("on"))}
            data-testid="saliency" data-state={state}
            data-digit={saliency.map(|s| s.digit.to_string())}
            data-runner-up={saliency.map(|s| s.runner_up.to_string())}
            data-runs={saliency.map(|s| s.runs.to_string())}
            data-ms={props.ms.filter(|_| saliency.is_some()).map(|ms| format!("{ms:.1}"))}
            width={PAD_OVERLAY_SIDE.to_string()} height={PAD_OVERLAY_SIDE.to_string()}
            aria-hidden="true" />
    }
}

/// The overlay over the 28x28 preview.
#[function_component(PreviewSaliency)]
pub fn preview_saliency(props: &SaliencyProps) -> Html {
    let canvas_ref = use_node_ref();
    {
        let canvas_ref = canvas_ref.clone();
        use_effect_with(props.clone(), move |props| {
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
                paint_preview(&canvas, props.saliency.as_ref().filter(|_| props.active));
            }
        });
    }
    html! {
        <canvas ref={canvas_ref} class="saliency-preview" data-testid="saliency-preview"
            width={SIDE.to_string()} height={SIDE.to_string()} aria-hidden="true" />
    }
}
