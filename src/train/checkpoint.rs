//! Per-epoch checkpoints that survive Ctrl-C and crashes.
//!
//! Each epoch writes `model-eNNN.bpk` and `optimizer-eNNN.bpk` (burn's burnpack format), then
//! replaces `state.json` atomically; only then are older epochs' files removed. `state.json`
//! always names a complete pair, so whatever moment the process dies, `--resume` finds the
//! last good epoch.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use super::config::{History, TrainConfig};
use super::model::Network;
use crate::files::write_atomically;

const STATE_FILE: &str = "state.json";

/// What `state.json` records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Epochs completed.
    pub epoch: usize,
    /// The configuration the run was started with.
    pub config: TrainConfig,
    /// Metrics of every completed epoch.
    pub history: History,
    /// Model weights file, relative to the checkpoint folder.
    pub model_file: String,
    /// Optimizer state file, relative to the checkpoint folder.
    pub optimizer_file: String,
}

/// Writes the checkpoint of a completed epoch into `dir`.
pub fn save(
    dir: &Path,
    network: &Network,
    optimizer: &ModuleOptimizer,
    state: &CheckpointState,
) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let model_bytes = network
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serializing the model: {e}"))?;
    write_atomically(&dir.join(&state.model_file), &model_bytes)?;
    let optimizer_bytes = optimizer
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("serializing the optimizer: {e}"))?;
    write_atomically(&dir.join(&state.optimizer_file), &optimizer_bytes)?;
    write_atomically(&dir.join(STATE_FILE), &serde_json::to_vec_pretty(state)?)?;
    // The new state is in place: older epochs' files are no longer referenced.
    for entry in fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale =
            name.ends_with(".bpk") && name != state.model_file && name != state.optimizer_file;
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// File names for the checkpoint of `epoch`.
pub fn file_names(epoch: usize) -> (String, String) {
    (
        format!("model-e{epoch:03}.bpk"),
        format!("optimizer-e{epoch:03}.bpk"),
    )
}

/// Reads `state.json` from `dir`; `Ok(None)` when there is no checkpoint there.
pub fn load_state(dir: &Path) -> Result<Option<CheckpointState>> {
    let path = dir.join(STATE_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let state = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a checkpoint state file", path.display()))?;
    Ok(Some(state))
}

fn read_bytes(path: &PathBuf) -> Result<Bytes> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Bytes::from_bytes_vec(bytes))
}

/// Loads the network weights named by `state` into a network built from its config.
pub fn load_network(dir: &Path, state: &CheckpointState, device: &Device) -> Result<Network> {
    let path = dir.join(&state.model_file);
    let record = ModuleRecord::from_bytes(read_bytes(&path)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Network::new(&state.config.architecture.spec(), device)
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{}: does not fit the architecture: {e}", path.display()))
}

/// Loads the optimizer state named by `state` into `optimizer`.
pub fn load_optimizer(
    dir: &Path,
    state: &CheckpointState,
    optimizer: ModuleOptimizer,
) -> Result<ModuleOptimizer> {
    let path = dir.join(&state.optimizer_file);
    optimizer
        .from_bytes(read_bytes(&path)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
