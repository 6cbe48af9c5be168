//! Where the training data comes from: a folder named on the command line, an environment
//! variable, a per-user cache, or a download from the public mirrors (checksummed, written
//! into the cache atomically, with a progress bar). Offline, the error says which flag or
//! variable to set.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::files::{sha256_hex, write_atomically};
use crate::idx::LabeledImages;

/// A data set in MNIST's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// Handwritten digits (LeCun, Cortes, Burges).
    Mnist,
    /// Zalando's clothing images, a drop-in replacement for MNIST.
    FashionMnist,
}

/// What a downloaded file's SHA-256 is checked against.
#[derive(Clone, Copy)]
enum Checksum {
    /// SHA-256 of the decompressed IDX bytes (MNIST: the mirrors recompress differently, the
    /// content is the same everywhere).
    Decompressed(&'static str),
    /// SHA-256 of the `.gz` file as published (Fashion-MNIST's one official set of files).
    Compressed(&'static str),
}

/// One of the four files of a data set.
struct FileSpec {
    /// Canonical base name, without `.gz`.
    stem: &'static str,
    /// The expected hash.
    checksum: Checksum,
}

/// Training or test split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// 60,000 training images.
    Train,
    /// 10,000 test images.
    Test,
}

impl Dataset {
    /// Whether its classes are digits: writing styles, real pen digits, the page's preprocessing
    /// contract and the "not a digit" rules belong to digit data sets only.
    pub fn is_digits(self) -> bool {
        matches!(self, Dataset::Mnist)
    }

    /// Its name in prose.
    pub fn title(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST",
            Dataset::FashionMnist => "Fashion-MNIST",
        }
    }

    /// Name used in paths and metadata.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::FashionMnist => "fashion-mnist",
        }
    }

    /// Human-readable names of the ten classes.
    pub fn class_names(self) -> [&'static str; 10] {
        match self {
            Dataset::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Dataset::FashionMnist => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// Environment variable that points at a folder holding this data set.
    pub fn env_var(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST_DIR",
            Dataset::FashionMnist => "FASHION_MNIST_DIR",
        }
    }

    /// Base URLs to download from, tried in order.
    fn mirrors(self) -> &'static [&'static str] {
        match self {
            Dataset::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
                "https://yann.lecun.com/exdb/mnist/",
            ],
            Dataset::FashionMnist => &[
                "https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            ],
        }
    }

    fn file(self, split: Split, labels: bool) -> FileSpec {
        let stem = match (split, labels) {
            (Split::Train, false) => "train-images-idx3-ubyte",
            (Split::Train, true) => "train-labels-idx1-ubyte",
            (Split::Test, false) => "t10k-images-idx3-ubyte",
            (Split::Test, true) => "t10k-labels-idx1-ubyte",
        };
        use Checksum::{Compressed, Decompressed};
        let checksum = match (self, split, labels) {
            (Dataset::Mnist, Split::Train, false) => {
                Decompressed("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db")
            }
            (Dataset::Mnist, Split::Train, true) => {
                Decompressed("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5")
            }
            (Dataset::Mnist, Split::Test, false) => {
                Decompressed("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7")
            }
            (Dataset::Mnist, Split::Test, true) => {
                Decompressed("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")
            }
            (Dataset::FashionMnist, Split::Train, false) => {
                Compressed("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84")
            }
            (Dataset::FashionMnist, Split::Train, true) => {
                Compressed("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845")
            }
            (Dataset::FashionMnist, Split::Test, false) => {
                Compressed("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073")
            }
            (Dataset::FashionMnist, Split::Test, true) => {
                Compressed("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5")
            }
        };
        FileSpec { stem, checksum }
    }
}

/// SHA-256 of `t10k-images-idx3-ubyte.gz` in the offline copy of Fashion-MNIST this project
/// shares (`../shared/fashion-mnist`: all 70,000 images in a fixed split of their own, not
/// the official one; its README says how it was made).
const FASHION_FIXED_SPLIT_TEST_IMAGES: &str =
    "1035b99b4a2ebf7dd0be535fd9bd74cf09297ad8b541a78eee2d40f5ee993cb3";

/// Which test set the files in `dir` hold, as a figure measured on it must be labelled:
/// Fashion-MNIST's official test set, the fixed split of the shared copy, or unknown files.
pub fn test_set_label(dataset: Dataset, dir: &Path) -> String {
    if dataset == Dataset::Mnist {
        return "MNIST test set".into();
    }
    let spec = dataset.file(Split::Test, false);
    let hash = find_file(dir, spec.stem)
        .and_then(|path| fs::read(path).ok())
        .map(|bytes| sha256_hex(&bytes));
    match (hash.as_deref(), spec.checksum) {
        (Some(FASHION_FIXED_SPLIT_TEST_IMAGES), _) => {
            format!("{} (fixed split of the 70k)", dataset.title())
        }
        (Some(hash), Checksum::Compressed(official)) if hash == official => {
            format!("{} official test set", dataset.title())
        }
        _ => format!(
            "{} files in {} (neither the official test set nor the fixed split of the 70k)",
            dataset.title(),
            dir.display()
        ),
    }
}

/// The names a file may have on disk: `train-images-idx3-ubyte(.gz)` or
/// `train-images.idx3-ubyte(.gz)`.
fn candidate_names(stem: &str) -> Vec<String> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    [stem.to_string(), dotted]
        .into_iter()
        .flat_map(|name| [format!("{name}.gz"), name])
        .collect()
}

/// The file for `stem` in `dir`, under any of its usual names.
fn find_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    candidate_names(stem)
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Whether `dir` holds all four files of `dataset`.
fn has_all_files(dataset: Dataset, dir: &Path) -> bool {
    [Split::Train, Split::Test].iter().all(|&split| {
        [false, true]
            .iter()
            .all(|&labels| find_file(dir, dataset.file(split, labels).stem).is_some())
    })
}

/// The per-user cache folder for `dataset` (e.g. `~/.cache/digitpad/mnist`).
pub fn cache_dir(dataset: Dataset) -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("digitpad").join(dataset.name()))
}

/// Finds (or downloads) the folder holding `dataset`: `--data-dir`, then the environment
/// variable, then the cache, then the mirrors into the cache.
pub fn locate(dataset: Dataset, data_dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = data_dir {
        if !has_all_files(dataset, dir) {
            bail!(
                "--data-dir {}: expected the four {} files ({}) in it",
                dir.display(),
                dataset.name(),
                expected_files(dataset)
            );
        }
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(dataset.env_var()) {
        let dir = PathBuf::from(dir);
        if !has_all_files(dataset, &dir) {
            bail!(
                "{}={}: expected the four {} files ({}) in it",
                dataset.env_var(),
                dir.display(),
                dataset.name(),
                expected_files(dataset)
            );
        }
        return Ok(dir);
    }
    let cache = cache_dir(dataset).context("no per-user cache directory on this system")?;
    if has_all_files(dataset, &cache) {
        return Ok(cache);
    }
    download(dataset, &cache).with_context(|| {
        format!(
            "{} is not available offline: pass --data-dir DIR or set {}=DIR to a folder holding {}",
            dataset.name(),
            dataset.env_var(),
            expected_files(dataset)
        )
    })?;
    Ok(cache)
}

fn expected_files(dataset: Dataset) -> String {
    [Split::Train, Split::Test]
        .iter()
        .flat_map(|&s| [false, true].map(|l| format!("{}.gz", dataset.file(s, l).stem)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Downloads every missing file of `dataset` into `cache`, verifying each.
fn download(dataset: Dataset, cache: &Path) -> Result<()> {
    fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    for split in [Split::Train, Split::Test] {
        for labels in [false, true] {
            let spec = dataset.file(split, labels);
            if find_file(cache, spec.stem).is_some() {
                continue;
            }
            let name = format!("{}.gz", spec.stem);
            let mut errors = Vec::new();
            let mut saved = false;
            for mirror in dataset.mirrors() {
                let url = format!("{mirror}{name}");
                match fetch(&url).and_then(|bytes| {
                    verify(&bytes, &spec, &url)?;
                    Ok(bytes)
                }) {
                    Ok(bytes) => {
                        write_atomically(&cache.join(&name), &bytes)?;
                        saved = true;
                        break;
                    }
                    Err(e) => errors.push(format!("  {url}: {e:#}")),
                }
            }
            if !saved {
                bail!(
                    "could not download {name} from any mirror:\n{}",
                    errors.join("\n")
                );
            }
        }
    }
    Ok(())
}

/// GETs `url` with a progress bar.
fn fetch(url: &str) -> Result<Vec<u8>> {
    let response = ureq::get(url).call()?;
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let bar = match length {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::no_length(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
    let mut body = Vec::new();
    let mut reader = bar.wrap_read(
        response
            .into_body()
            .into_with_config()
            .limit(64 << 20)
            .reader(),
    );
    reader.read_to_end(&mut body)?;
    bar.finish();
    Ok(body)
}

/// Checks a downloaded file: it must decompress, match its SHA-256, and parse as IDX.
fn verify(gz: &[u8], spec: &FileSpec, url: &str) -> Result<()> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .take(256 << 20)
        .read_to_end(&mut raw)
        .with_context(|| format!("{url}: not a gzip file"))?;
    let (what, hashed, expected) = match spec.checksum {
        Checksum::Decompressed(h) => ("decompressed file", raw.as_slice(), h),
        Checksum::Compressed(h) => ("file", gz, h),
    };
    let actual = sha256_hex(hashed);
    if actual != expected {
        bail!("{url}: SHA-256 of the {what} is {actual}, expected {expected}");
    }
    let structural = if spec.stem.contains("labels") {
        crate::idx::parse_labels(&raw, url).map(|_| ())
    } else {
        crate::idx::parse_images(&raw, url).map(|_| ())
    };
    structural.map_err(anyhow::Error::from)
}

/// Reads one split of `dataset` from `dir`.
pub fn load_split(dataset: Dataset, dir: &Path, split: Split) -> Result<LabeledImages> {
    let read = |labels: bool| -> Result<(Vec<u8>, String)> {
        let stem = dataset.file(split, labels).stem;
        let path = find_file(dir, stem).with_context(|| {
            format!(
                "{}: no {stem} file (looked for {})",
                dir.display(),
                candidate_names(stem).join(", ")
            )
        })?;
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok((bytes, path.display().to_string()))
    };
    let (images, images_name) = read(false)?;
    let (labels, labels_name) = read(true)?;
    Ok(LabeledImages::from_idx(
        &images,
        &images_name,
        &labels,
        &labels_name,
    )?)
}

/// Splits off the last `fraction` of a training set for validation, as Keras'
/// `validation_split` does (before any shuffling). Returns `(train, validation)`.
pub fn split_validation(all: &LabeledImages, fraction: f64) -> (LabeledImages, LabeledImages) {
    let n = all.len();
    let n_val = ((n as f64) * fraction.clamp(0.0, 0.5)).round() as usize;
    let cut = n - n_val;
    let train: Vec<usize> = (0..cut).collect();
    let val: Vec<usize> = (cut..n).collect();
    (all.select(&train), all.select(&val))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Figures are labelled with the split they were measured on: files that are neither
    /// Zalando's nor the shared fixed split say so (the checksums of both are checked).
    #[test]
    fn the_test_set_is_named_by_its_checksum() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("t10k-images-idx3-ubyte.gz"),
            b"other images",
        )
        .unwrap();
        let label = test_set_label(Dataset::FashionMnist, dir.path());
        assert!(
            label.contains("neither the official test set nor the fixed split"),
            "{label}"
        );
        assert!(!label.contains("MNIST test"), "{label}");
        assert_eq!(test_set_label(Dataset::Mnist, dir.path()), "MNIST test set");
    }

    #[test]
    fn both_common_file_names_are_accepted() {
        let names = candidate_names("train-images-idx3-ubyte");
        assert!(names.contains(&"train-images-idx3-ubyte.gz".to_string()));
        assert!(names.contains(&"train-images.idx3-ubyte".to_string()));
    }

    #[test]
    fn missing_data_dir_names_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(Dataset::Mnist, Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--data-dir") && err.contains("train-images-idx3-ubyte.gz"),
            "{err}"
        );
    }

    #[test]
    fn validation_split_takes_the_tail() {
        let all = LabeledImages {
            pixels: vec![0; 10 * crate::digit::PIXELS],
            labels: (0..10).collect(),
        };
        let (train, val) = split_validation(&all, 0.1);
        assert_eq!(train.labels, (0..9).collect::<Vec<u8>>());
        assert_eq!(val.labels, vec![9]);
    }

    #[test]
    fn the_mnist_checksum_accepts_the_real_file() {
        // The real MNIST test labels (4.5 kB) are committed as a fixture, so the checksum
        // table is checked against a canonical file on every run, without the network.
        let gz = include_bytes!("../../tests/fixtures/t10k-labels-idx1-ubyte.gz");
        verify(gz, &Dataset::Mnist.file(Split::Test, true), "t10k-labels").unwrap();
    }

    #[test]
    fn a_file_with_the_wrong_hash_is_rejected() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&[0, 0, 8, 1, 0, 0, 0, 1, 3]).unwrap();
        let err = verify(
            &gz.finish().unwrap(),
            &Dataset::Mnist.file(Split::Test, true),
            "x",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("SHA-256"), "{err}");
    }
}
