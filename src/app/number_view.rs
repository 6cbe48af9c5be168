//! The number read: its digits big under the pad (each marked when the model is not sure
//! of it), and a thin box around each digit's strokes on the pad, so the person sees how the
//! writing was split.

use yew::prelude::*;

use super::state::Shown;
use crate::number::shown_char;

/// Properties of [`Number`] and [`DigitBoxes`].
#[derive(Properties, PartialEq, Clone)]
pub struct NumberProps {
    /// The digits read, left to right.
    pub reading: Vec<Shown>,
    /// Which digit is on show in the answer panel.
    pub focus: Option<usize>,
}

/// Properties of [`Number`].
#[derive(Properties, PartialEq, Clone)]
pub struct NumberLineProps {
    /// The digits read, left to right.
    pub reading: Vec<Shown>,
    /// Which digit is on show in the answer panel.
    pub focus: Option<usize>,
    /// Strokes on the pad.
    pub strokes: usize,
}

/// The class naming how sure the answer is.
fn verdict_class(shown: &Shown) -> &'static str {
    shown.answer.verdict.as_str()
}

/// A digit's text and calibrated confidence as the page shows them.
fn digit_text(shown: &Shown) -> (char, String) {
    let answer = &shown.answer;
    (
        shown_char(answer.digit(), answer.verdict),
        format!("{:.4}", answer.probabilities[answer.digit()]),
    )
}

/// The number, big; shown when more than one digit was read (one digit is the answer panel's).
#[function_component(Number)]
pub fn number(props: &NumberLineProps) -> Html {
    let reading = &props.reading;
    html! {
        <div class={classes!("number", (reading.len() < 2).then_some("single"))}
            data-testid="number"
            data-strokes={reading.first().map_or(0, |s| s.strokes).to_string()}
            data-digits={reading.len().to_string()}
            aria-label="Number read"
            title="Point at a digit on the pad to see its answer below">
            { for reading.iter().enumerate().map(|(i, shown)| {
                let (c, _) = digit_text(shown);
                html! {
                    <span class={classes!("number-digit", verdict_class(shown),
                        (props.focus == Some(i) && reading.len() > 1).then_some("focus"))}>
                        { c }</span>
                }
            }) }
        </div>
    }
}

/// How far a box stands off its digit's ink, in pad units (the pad's height is 1).
const BOX_MARGIN: f32 = 0.02;

/// A box around each digit on the pad (an SVG whose unit is the pad's height).
#[function_component(DigitBoxes)]
pub fn digit_boxes(props: &NumberProps) -> Html {
    html! {
        <svg class="digit-boxes" viewBox="0 0 16 1" preserveAspectRatio="xMinYMin slice"
            aria-hidden="true">
            { for props.reading.iter().enumerate().map(|(i, shown)| {
                let (c, confidence) = digit_text(shown);
                let b = &shown.bounds;
                html! {
                    <rect data-testid="digit-box" data-digit={c.to_string()}
                        data-confidence={confidence}
                        data-verdict={verdict_class(shown)}
                        class={classes!("digit-box", verdict_class(shown),
                            (props.focus == Some(i)).then_some("focus"))}
                        x={(b.min_x - BOX_MARGIN).to_string()}
                        y={(b.min_y - BOX_MARGIN).to_string()}
                        width={(b.width() + 2.0 * BOX_MARGIN).to_string()}
                        height={(b.height() + 2.0 * BOX_MARGIN).to_string()}
                        rx="0.015" vector-effect="non-scaling-stroke" />
                }
            }) }
        </svg>
    }
}
