//! `digitpad fixture`: write test images as a gzipped IDX fixture.

use super::*;

#[derive(Args, Debug)]
pub(super) struct FixtureArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Number of test images.
    #[arg(long, default_value_t = 500)]
    count: usize,
    /// Output folder.
    #[arg(long, default_value = "tests/fixtures")]
    out: PathBuf,
}

pub(super) fn fixture(args: FixtureArgs) -> Result<()> {
    use std::io::Write;
    let dir = data::locate(args.data.dataset, args.data.data_dir.as_deref())?;
    let test = data::load_split(args.data.dataset, &dir, Split::Test)?;
    let keep: Vec<usize> = (0..args.count.min(test.len())).collect();
    let subset = test.select(&keep);
    std::fs::create_dir_all(&args.out)?;
    for (name, bytes) in [
        ("mnist-test-images.idx.gz", subset.images_to_idx()),
        ("mnist-test-labels.idx.gz", subset.labels_to_idx()),
    ] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        write_atomically(&args.out.join(name), &gz.finish()?)?;
    }
    eprintln!(
        "wrote {} test images to {}",
        subset.len(),
        args.out.display()
    );
    Ok(())
}
