//! The drawing pad: a wide canvas (room for a number) that takes mouse, touch and pen input
//! through Pointer Events and keeps the drawing as vectors in pad units (see
//! [`crate::strokes`]): the pad's height is 1, so x runs from 0 to its width over its height.
//!
//! Pointer events never go through Yew's render cycle: each one appends points to the shared
//! [`Drawing`] and draws just the new segments. The full drawing is redrawn only when the
//! canvas changes size or the drawing is edited (undo, clear).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent, ResizeObserver};
use yew::prelude::*;

use crate::strokes::{Point, Stroke};

/// The strokes on the pad and the pointer drawing now, shared by the pad (which writes them)
/// and the app (which reads them to predict, and edits them on undo and clear).
#[derive(Debug, Default)]
pub struct Drawing {
    /// Completed strokes, and the one being drawn last.
    pub strokes: Vec<Stroke>,
    /// The pointer whose stroke is in progress; other pointers (a second finger) are ignored.
    active_pointer: Option<i32>,
}

impl Drawing {
    /// Whether a stroke is being drawn.
    pub fn in_progress(&self) -> bool {
        self.active_pointer.is_some()
    }

    /// Removes the last stroke (and ends any stroke in progress).
    pub fn undo(&mut self) {
        self.active_pointer = None;
        self.strokes.pop();
    }

    /// Removes every stroke.
    pub fn clear(&mut self) {
        self.active_pointer = None;
        self.strokes.clear();
    }
}

/// Shared handle to the drawing.
pub type SharedDrawing = Rc<RefCell<Drawing>>;

/// Properties of [`Pad`].
#[derive(Properties, Clone)]
pub struct PadProps {
    /// The drawing the pad shows and extends.
    pub drawing: SharedDrawing,
    /// Changes when the drawing was edited from outside; the pad then redraws it.
    pub revision: u64,
    /// Points were added to the stroke in progress.
    pub on_draw: Callback<()>,
    /// A stroke ended (pointer up, cancelled or lost).
    pub on_stroke_end: Callback<()>,
    /// A mouse or pen hovers over the pad (not drawing) at this point; `None` when it left.
    pub on_hover: Callback<Option<Point>>,
}

impl PartialEq for PadProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.drawing, &other.drawing)
            && self.revision == other.revision
            && self.on_draw == other.on_draw
            && self.on_stroke_end == other.on_stroke_end
            && self.on_hover == other.on_hover
    }
}

/// Pen width on screen, as a fraction of the pad's height.
const SCREEN_PEN: f64 = 0.045;

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Sets up the pen (colour from the canvas' CSS `color`, so it follows the theme).
fn prepare_pen(canvas: &HtmlCanvasElement, ctx: &CanvasRenderingContext2d) {
    let colour = web_sys::window()
        .and_then(|w| w.get_computed_style(canvas).ok().flatten())
        .and_then(|style| style.get_property_value("color").ok())
        .unwrap_or_else(|| "#111".into());
    ctx.set_stroke_style_str(&colour);
    ctx.set_fill_style_str(&colour);
    ctx.set_line_width(SCREEN_PEN * f64::from(canvas.height()));
    ctx.set_line_cap("round");
    ctx.set_line_join("round");
}

/// Draws `points` as one polyline (a dot when there is one point).
fn draw_polyline(canvas: &HtmlCanvasElement, ctx: &CanvasRenderingContext2d, points: &[Point]) {
    // Pad units are the pad's height on both axes.
    let unit = f64::from(canvas.height());
    match points {
        [] => {}
        [p] => {
            ctx.begin_path();
            let r = SCREEN_PEN * unit / 2.0;
            let _ = ctx.arc(
                f64::from(p.x) * unit,
                f64::from(p.y) * unit,
                r,
                0.0,
                std::f64::consts::TAU,
            );
            ctx.fill();
        }
        [first, rest @ ..] => {
            ctx.begin_path();
            ctx.move_to(f64::from(first.x) * unit, f64::from(first.y) * unit);
            for p in rest {
                ctx.line_to(f64::from(p.x) * unit, f64::from(p.y) * unit);
            }
            ctx.stroke();
        }
    }
}

/// Draws the points just added to a stroke, on top of what is already on the canvas: the
/// screen drawing grows by segments and is never redrawn whole while drawing.
fn draw_new_points(canvas: &HtmlCanvasElement, points: &[Point]) {
    if let Some(ctx) = context(canvas) {
        prepare_pen(canvas, &ctx);
        draw_polyline(canvas, &ctx, points);
    }
}

/// Clears the canvas and draws every stroke.
fn redraw(canvas: &HtmlCanvasElement, drawing: &Drawing) {
    let Some(ctx) = context(canvas) else { return };
    ctx.clear_rect(
        0.0,
        0.0,
        f64::from(canvas.width()),
        f64::from(canvas.height()),
    );
    prepare_pen(canvas, &ctx);
    for stroke in &drawing.strokes {
        draw_polyline(canvas, &ctx, stroke);
    }
}

/// Matches the canvas' backing store to its CSS size times the device pixel ratio, so lines
/// are crisp on high-DPI screens. Returns whether the size changed.
fn fit_backing_store(canvas: &HtmlCanvasElement) -> bool {
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    let rect = canvas.get_bounding_client_rect();
    let width = (rect.width() * ratio).round().max(1.0) as u32;
    let height = (rect.height() * ratio).round().max(1.0) as u32;
    if canvas.width() != width || canvas.height() != height {
        canvas.set_width(width);
        canvas.set_height(height);
        true
    } else {
        false
    }
}

/// The pointer position in pad units (the pad's height is 1), clamped to the pad.
fn pad_point(canvas: &HtmlCanvasElement, event: &PointerEvent) -> Point {
    let rect = canvas.get_bounding_client_rect();
    let unit = rect.height().max(1.0);
    let x = (f64::from(event.client_x()) - rect.left()) / unit;
    let y = (f64::from(event.client_y()) - rect.top()) / unit;
    Point::new(
        x.clamp(0.0, rect.width() / unit) as f32,
        y.clamp(0.0, 1.0) as f32,
    )
}

/// The drawing pad.
#[function_component(Pad)]
pub fn pad(props: &PadProps) -> Html {
    let canvas_ref = use_node_ref();

    // Redraw when the drawing is edited from outside, and keep the backing store matched to
    // the canvas size (window resize, rotation, zoom).
    {
        let canvas_ref = canvas_ref.clone();
        let drawing = props.drawing.clone();
        use_effect_with(props.revision, move |_| {
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
                fit_backing_store(&canvas);
                redraw(&canvas, &drawing.borrow());
            }
        });
    }
    {
        let canvas_ref = canvas_ref.clone();
        let drawing = props.drawing.clone();
        use_effect_with((), move |_| {
            let observer = canvas_ref.cast::<HtmlCanvasElement>().and_then(|canvas| {
                let target = canvas.clone();
                let on_resize = Closure::<dyn FnMut()>::new(move || {
                    if fit_backing_store(&target) {
                        redraw(&target, &drawing.borrow());
                    }
                });
                let observer = ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok()?;
                observer.observe(&canvas);
                Some((observer, on_resize))
            });
            move || {
                if let Some((observer, _closure)) = observer {
                    observer.disconnect();
                }
            }
        });
    }

    let on_pointer_down = {
        let canvas_ref = canvas_ref.clone();
        let drawing = props.drawing.clone();
        let on_draw = props.on_draw.clone();
        Callback::from(move |event: PointerEvent| {
            let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() else {
                return;
            };
            // Primary button (or any touch / pen contact), one pointer at a time.
            if event.button() != 0 {
                return;
            }
            let mut d = drawing.borrow_mut();
            if d.active_pointer.is_some() {
                return;
            }
            event.prevent_default();
            let _ = canvas.set_pointer_capture(event.pointer_id());
            d.active_pointer = Some(event.pointer_id());
            let point = pad_point(&canvas, &event);
            d.strokes.push(vec![point]);
            drop(d);
            draw_new_points(&canvas, &[point]);
            on_draw.emit(());
        })
    };

    let on_pointer_move = {
        let canvas_ref = canvas_ref.clone();
        let drawing = props.drawing.clone();
        let on_draw = props.on_draw.clone();
        let on_hover = props.on_hover.clone();
        Callback::from(move |event: PointerEvent| {
            let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() else {
                return;
            };
            let mut d = drawing.borrow_mut();
            if d.active_pointer.is_none() && event.pointer_type() != "touch" {
                drop(d);
                on_hover.emit(Some(pad_point(&canvas, &event)));
                return;
            }
            if d.active_pointer != Some(event.pointer_id()) {
                return;
            }
            event.prevent_default();
            // Coalesced events carry every position the browser sampled since the last
            // event: smooth lines on fast movements.
            let coalesced = event.get_coalesced_events();
            let mut new_points: Vec<Point> = coalesced
                .iter()
                .filter_map(|e| e.dyn_into::<PointerEvent>().ok())
                .map(|e| pad_point(&canvas, &e))
                .collect();
            if new_points.is_empty() {
                new_points.push(pad_point(&canvas, &event));
            }
            let Some(stroke) = d.strokes.last_mut() else {
                return;
            };
            let mut segment = Vec::with_capacity(new_points.len() + 1);
            if let Some(&last) = stroke.last() {
                segment.push(last);
            }
            segment.extend_from_slice(&new_points);
            stroke.extend(new_points);
            drop(d);
            draw_new_points(&canvas, &segment);
            on_draw.emit(());
        })
    };

    let on_pointer_end = {
        let canvas_ref = canvas_ref.clone();
        let drawing = props.drawing.clone();
        let on_stroke_end = props.on_stroke_end.clone();
        Callback::from(move |event: PointerEvent| {
            let mut d = drawing.borrow_mut();
            if d.active_pointer != Some(event.pointer_id()) {
                return;
            }
            d.active_pointer = None;
            drop(d);
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
                let _ = canvas.release_pointer_capture(event.pointer_id());
            }
            on_stroke_end.emit(());
        })
    };

    let on_pointer_leave = {
        let on_hover = props.on_hover.clone();
        Callback::from(move |_: PointerEvent| on_hover.emit(None))
    };

    html! {
        <canvas
            ref={canvas_ref}
            class="pad"
            data-testid="pad"
            role="img"
            aria-label="Drawing pad: write a digit or a number with the mouse, a finger or a pen"
            onpointerdown={on_pointer_down}
            onpointermove={on_pointer_move}
            onpointerup={on_pointer_end.clone()}
            onpointercancel={on_pointer_end.clone()}
            onlostpointercapture={on_pointer_end}
            onpointerleave={on_pointer_leave}
        />
    }
}
