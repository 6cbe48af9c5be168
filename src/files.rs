//! Writing files safely and fingerprinting them (native only): every file the trainer and
//! the CLI produce (models, metrics, checkpoints, downloads) goes through
//! [`write_atomically`], and every checksum through [`sha256_hex`]. Drawings saved as
//! `.strokes` files are read into the model's image by [`read_drawing`].

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::digit::DigitImage;
use sha2::{Digest, Sha256};

/// SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `bytes` to `path` so that readers see the old file or the whole new one, never a
/// part: a uniquely named temporary file in the same folder, flushed to disk, then renamed
/// over `path` (tempfile's `persist`). A crash at any point leaves the old file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    if path.file_name().is_none() {
        anyhow::bail!("{}: not a file path", path.display());
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".digitpad-").suffix(".tmp");
    // Temporary files are private (0600); what we write is an ordinary file, readable as any
    // new file would be (0666 less the umask).
    #[cfg(unix)]
    builder.permissions(<fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// Reads a `.strokes` file (the format of [`crate::strokes::parse_strokes`]) and renders it
/// the MNIST way ([`crate::preprocess::strokes_to_digit`]); errors name the file and what was
/// wrong (unreadable, malformed at a line, or empty).
pub fn read_drawing(path: &Path) -> Result<DigitImage> {
    crate::preprocess::strokes_to_digit(&read_stroke_file(path)?)
        .with_context(|| format!("{}: no points to draw", path.display()))
}

/// The `.strokes` files in `dir`, sorted by name (the drawing sets of the tests and reports);
/// an error naming `what` the folder holds when it cannot be read.
pub fn stroke_files(dir: &Path, what: &str) -> Result<Vec<std::path::PathBuf>> {
    let mut paths: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("reading the {what} folder {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "strokes"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Reads a `.strokes` file as strokes; errors name the file and the line.
pub fn read_stroke_file(path: &Path) -> Result<Vec<crate::strokes::Stroke>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    crate::strokes::parse_strokes(&text).with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("file.bin");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file.bin"]);
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_not_private_temporaries() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        write_atomically(&path, b"x").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_ne!(mode & 0o044, 0, "mode {mode:o}: others cannot read it");
    }

    #[test]
    fn a_folder_is_not_a_file_path() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomically(&dir.path().join(".."), b"x").is_err());
    }

    #[test]
    fn sha256_of_a_known_string() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
