//! The status line: loading, ready (with what model), or an error banner with the reason.

use yew::prelude::*;

use super::state::ModelStatus;

/// Properties of [`Status`].
#[derive(Properties, PartialEq, Clone)]
pub struct StatusProps {
    /// What to show.
    pub status: ModelStatus,
}

/// The status line.
#[function_component(Status)]
pub fn status(props: &StatusProps) -> Html {
    let state = props.status.as_data_state();
    let (role, text) = match &props.status {
        ModelStatus::Loading => ("status", "Loading the model…".to_string()),
        ModelStatus::Ready(description) => ("status", description.clone()),
        ModelStatus::Failed(reason) => ("alert", reason.clone()),
    };
    html! {
        <div class={classes!("status", state)} data-testid="status" data-state={state} role={role} aria-live="polite">
            { text }
        </div>
    }
}
