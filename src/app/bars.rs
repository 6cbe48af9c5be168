//! Probability bars for the ten digits, the most probable one highlighted.
//!
//! Bars are SVG rectangles sized by attribute, not inline styles, so the page's
//! Content-Security-Policy can forbid inline styles.

use yew::prelude::*;

use crate::digit::CLASSES;

/// Properties of [`Bars`].
#[derive(Properties, PartialEq, Clone)]
pub struct BarsProps {
    /// One probability per digit, or `None` when nothing is drawn.
    pub probabilities: Option<[f32; CLASSES]>,
}

/// The ten bars.
#[function_component(Bars)]
pub fn bars(props: &BarsProps) -> Html {
    let top = props
        .probabilities
        .as_ref()
        .map(|p| crate::scores::argmax(p));
    html! {
        <ol class="bars" aria-label="Probability of each digit">
            { for (0..CLASSES).map(|digit| {
                let p = props.probabilities.map_or(0.0, |p| p[digit]);
                let percent = format!("{:.0}%", 100.0 * p);
                let class = classes!("bar", (top == Some(digit)).then_some("top"));
                html! {
                    <li class={class}
                        data-testid={format!("prob-{digit}")}
                        data-value={format!("{p:.4}")}
                        aria-label={format!("{digit}: {percent}")}>
                        <span class="bar-digit">{ digit }</span>
                        <svg class="bar-track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                            <rect class="bar-fill" x="0" y="0" height="10" width={format!("{:.2}", 100.0 * p)} />
                        </svg>
                        <span class="bar-value">{ percent }</span>
                    </li>
                }
            }) }
        </ol>
    }
}
