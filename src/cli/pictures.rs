//! `digitpad pictures`: redraw a model folder's pictures.

use super::*;

#[derive(Args, Debug)]
pub(super) struct PicturesArgs {
    /// The model folder.
    #[arg(default_value = "model")]
    dir: PathBuf,
}

pub(super) fn pictures(args: PicturesArgs) -> Result<()> {
    let history = read_json(&args.dir.join("history.json"), "a training history")?;
    let eval: EvalFile = read_json(&args.dir.join("metrics.json"), "a metrics file")?;
    run::write_pictures(&args.dir, &history, &eval.report, eval.dataset)?;
    eprintln!("redrew the pictures in {}", args.dir.display());
    Ok(())
}
