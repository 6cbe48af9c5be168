//! The page's clock and its named points on the timeline (`performance.mark`, for the
//! start-up breakdown of `.ci/bench`).

/// A named point on the page's timeline (`performance.mark`), for the start-up breakdown of
/// `.ci/bench`; costs nothing measurable.
pub(super) fn mark(name: &str) {
    if let Some(performance) = performance() {
        let _ = performance.mark(name);
    }
}

pub(super) fn now_ms() -> f64 {
    performance().map_or(0.0, |p| p.now())
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window().and_then(|w| w.performance())
}
