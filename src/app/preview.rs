//! The 28x28 image exactly as the model received it, upscaled with crisp pixels.

use wasm_bindgen::Clamped;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

use crate::digit::{DigitImage, PIXELS, SIDE};

/// Properties of [`Preview`].
#[derive(Properties, PartialEq, Clone)]
pub struct PreviewProps {
    /// The model's input, or `None` when nothing is drawn.
    pub image: Option<DigitImage>,
}

fn paint(canvas: &HtmlCanvasElement, image: Option<&DigitImage>) -> Option<()> {
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    let bytes = image.map_or([0u8; PIXELS], DigitImage::to_bytes);
    let mut rgba = Vec::with_capacity(PIXELS * 4);
    for v in bytes {
        rgba.extend_from_slice(&[v, v, v, 255]);
    }
    let data =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), SIDE as u32, SIDE as u32)
            .ok()?;
    ctx.put_image_data(&data, 0.0, 0.0).ok()
}

/// The preview canvas.
#[function_component(Preview)]
pub fn preview(props: &PreviewProps) -> Html {
    let canvas_ref = use_node_ref();
    {
        let canvas_ref = canvas_ref.clone();
        use_effect_with(props.image.clone(), move |image| {
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
                paint(&canvas, image.as_ref());
            }
        });
    }
    html! {
        <canvas ref={canvas_ref} class="preview" data-testid="preview"
            width={SIDE.to_string()} height={SIDE.to_string()}
            role="img" aria-label="The 28 by 28 image the model reads" />
    }
}
