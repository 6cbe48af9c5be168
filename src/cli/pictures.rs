//! `digitpad pictures`: redraw a model folder's pictures and rewrite its card's page form.

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
    let card_path = args.dir.join(crate::train::card_page::CARD_FILE);
    let card = std::fs::read_to_string(&card_path)
        .with_context(|| format!("reading the model card {}", card_path.display()))?;
    crate::train::card_page::write_card(&args.dir, &card)?;
    eprintln!(
        "redrew the pictures and wrote {} in {}",
        crate::train::card_page::CARD_PAGE,
        args.dir.display()
    );
    Ok(())
}
