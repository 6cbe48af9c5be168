//! `digitpad export`: a training checkpoint to an ONNX model folder.

use super::*;

#[derive(Args, Debug)]
pub(super) struct ExportArgs {
    /// Checkpoint folder (holding state.json).
    checkpoint: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    pen: PenArgs,
    /// Model folder to write.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub(super) fn export(args: ExportArgs) -> Result<()> {
    let state = checkpoint::load_state(&args.checkpoint)?.with_context(|| {
        format!(
            "{}: no state.json (not a checkpoint folder)",
            args.checkpoint.display()
        )
    })?;
    let device = state.config.device.device()?;
    let network = checkpoint::load_network(&args.checkpoint, &state, &device)?;
    if !args.pen.hold_out.is_empty() && args.pen.hold_out != state.config.pen_held_out {
        bail!(
            "--hold-out: the checkpoint's run held out {:?}; its recipe decides what was held out",
            state.config.pen_held_out
        );
    }
    let pen = run::load_pen_data(&state.config, args.pen.pen_data.as_deref())?;
    let data = run::load_data(&state.config, args.data.data_dir.as_deref(), pen.as_ref())?;
    run::finish_model(
        &network,
        &state.config,
        &state.history,
        &data,
        pen.as_ref(),
        &device,
        &RunOptions {
            data_dir: args.data.data_dir,
            pen_dir: args.pen.pen_data,
            out_dir: args.out,
            checkpoint_dir: args.checkpoint.clone(),
            resume: false,
            command: format!("{} (checkpoint of epoch {})", command_line(), state.epoch),
        },
    )
}
