//! Which burn device trains the model. The network code is the same on all of them.

use anyhow::{bail, Result};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// Where to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceChoice {
    /// burn's flex backend: pure-Rust CPU kernels, multi-threaded (the fastest CPU backend
    /// measured on a 2-core machine; see docs/decisions/training-operators.md).
    Cpu,
    /// burn's wgpu backend: Vulkan, Metal or DX12, whichever the machine offers (build with
    /// `--features wgpu`). Mesa's software Vulkan (llvmpipe) counts.
    Gpu,
    /// burn's CUDA backend (build with `--features cuda`).
    Cuda,
    /// burn's ndarray backend (deprecated by burn; build with `--features ndarray`), kept to
    /// compare CPU backends.
    Ndarray,
}

impl DeviceChoice {
    /// The burn device, or an error naming the cargo feature this binary lacks.
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::flex()),
            DeviceChoice::Gpu => gpu(),
            DeviceChoice::Cuda => cuda(),
            DeviceChoice::Ndarray => ndarray(),
        }
    }
}

#[cfg(feature = "wgpu")]
fn gpu() -> Result<Device> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn gpu() -> Result<Device> {
    bail!("--device gpu needs a binary built with the `wgpu` feature: cargo build --release --features wgpu")
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<Device> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device> {
    bail!("--device cuda needs a binary built with the `cuda` feature: cargo build --release --features cuda")
}

#[cfg(feature = "ndarray")]
fn ndarray() -> Result<Device> {
    #[allow(deprecated)]
    Ok(Device::ndarray())
}

#[cfg(not(feature = "ndarray"))]
fn ndarray() -> Result<Device> {
    bail!("--device ndarray needs a binary built with the `ndarray` feature")
}
