//! Where a training step's time goes (`digitpad profile`): the step of the real training
//! loop taken apart (batching and augmentation, upload, each forward operation, the loss,
//! the backward pass, the optimizer), the device waited for after each part, plus each
//! convolution's forward and backward timed on its own. Waiting after every operation
//! costs a little, so the parts add up to slightly more than an undisturbed step.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{anyhow, Result};
use burn::nn::conv::Conv2dConfig;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::PaddingConfig2d;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::config::TrainConfig;
use super::model::{Architecture, Layer, Network, Operation};
use super::ops::gemm_conv;
use super::training::{build_optimizer, images_tensor, labels_tensor};
use crate::digit::PIXELS;
use crate::idx::LabeledImages;

/// One row of the profile: a part of the step and its median time per step.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What was timed.
    pub name: String,
    /// Median milliseconds per step.
    pub ms: f64,
}

/// A training step taken apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The network profiled.
    pub architecture: Architecture,
    /// Images per step.
    pub batch: usize,
    /// Steps timed (after warm-up).
    pub steps: usize,
    /// The parts of a step, in order.
    pub step: Vec<Part>,
    /// Each convolution on its own: forward and backward (input gradient and weights').
    pub convolutions: Vec<Part>,
    /// An undisturbed step (no waiting between parts), median milliseconds.
    pub plain_step_ms: f64,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// Milliseconds per part, keyed by the part's place in the step and its name.
type Times = BTreeMap<(usize, String), Vec<f64>>;

fn add(times: &mut Times, record: bool, order: usize, name: &str, ms: f64) {
    if record {
        times.entry((order, name.to_string())).or_default().push(ms);
    }
}

fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn sync(device: &Device) -> Result<()> {
    device
        .sync()
        .map_err(|e| anyhow!("waiting for the device: {e:?}"))
}

/// Times `steps` training steps (after 3 warm-up steps) of `config`'s network on `images`.
pub fn profile_training_step(
    config: &TrainConfig,
    images: &LabeledImages,
    steps: usize,
) -> Result<Profile> {
    let device = config.device.device()?;
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let spec = config.architecture.spec();
    let mut network = Network::new(&spec, &train_device);
    network.own_operators = config.own_operators();
    let mut optimizer = build_optimizer(config);
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    let augmentation = config.augmentation.unwrap_or_default();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let batch = config.batch_size.min(images.len()).max(1);
    let pixels: Vec<[f32; PIXELS]> = (0..images.len())
        .map(|i| *images.digit(i).pixels())
        .collect();

    let mut times = Times::new();
    let mut plain = Vec::new();
    for step in 0..steps + 3 {
        let record = step >= 3;
        let indices: Vec<usize> = (0..batch)
            .map(|i| (step * batch + i) % images.len())
            .collect();

        let start = Instant::now();
        let mut batch_pixels = Vec::with_capacity(batch * PIXELS);
        for &i in &indices {
            batch_pixels.extend_from_slice(&augmentation.apply(
                &pixels[i],
                images.labels[i],
                &mut rng,
            ));
        }
        let labels: Vec<u8> = indices.iter().map(|&i| images.labels[i]).collect();
        add(
            &mut times,
            record,
            0,
            "batching and augmentation (host)",
            since(start),
        );

        let start = Instant::now();
        let input = images_tensor(batch_pixels.clone(), &train_device);
        let targets = labels_tensor(&labels, &train_device);
        sync(&train_device)?;
        add(&mut times, record, 1, "upload", since(start));

        // The forward pass, each operation waited for and added to its kind's total.
        let mut by_operation: BTreeMap<Operation, f64> = BTreeMap::new();
        let mut last = Instant::now();
        let logits = network.forward_observed(input, |operation| {
            let _ = train_device.sync();
            *by_operation.entry(operation).or_default() += last.elapsed().as_secs_f64() * 1e3;
            last = Instant::now();
        });
        for (operation, ms) in by_operation {
            let name = format!("forward: {}", operation.name());
            add(&mut times, record, 2, &name, ms);
        }

        let start = Instant::now();
        let loss = loss_fn.forward(logits, targets);
        sync(&train_device)?;
        add(
            &mut times,
            record,
            3,
            "forward: cross-entropy",
            since(start),
        );

        let start = Instant::now();
        let gradients = loss.backward();
        sync(&train_device)?;
        add(
            &mut times,
            record,
            4,
            "backward (all operations)",
            since(start),
        );

        let start = Instant::now();
        let grads = GradientsParams::from_grads(gradients, &network);
        network = optimizer.step(config.learning_rate, network, grads);
        sync(&train_device)?;
        add(&mut times, record, 5, "optimizer (Adam)", since(start));

        // The same step without waiting in between, for comparison.
        let start = Instant::now();
        let logits = network.forward(images_tensor(batch_pixels, &train_device));
        let loss = loss_fn.forward(logits, labels_tensor(&labels, &train_device));
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        network = optimizer.step(config.learning_rate, network, grads);
        sync(&train_device)?;
        if record {
            plain.push(since(start));
        }
    }
    let step = times
        .into_iter()
        .map(|((_, name), ms)| Part {
            name,
            ms: median(ms),
        })
        .collect();
    Ok(Profile {
        architecture: config.architecture,
        batch,
        steps,
        step,
        convolutions: profile_convolutions(config, batch, &device)?,
        plain_step_ms: median(plain),
    })
}

/// The parts `{label} forward` and `{label} backward`: medians of the forward and backward
/// times `run` measures, over 10 runs after 2 warm-up runs.
fn forward_and_backward(
    label: &str,
    mut run: impl FnMut() -> Result<(f64, f64)>,
) -> Result<[Part; 2]> {
    let (mut forward, mut backward) = (Vec::new(), Vec::new());
    for index in 0..12 {
        let (forward_ms, backward_ms) = run()?;
        if index >= 2 {
            forward.push(forward_ms);
            backward.push(backward_ms);
        }
    }
    Ok([
        Part {
            name: format!("{label} forward"),
            ms: median(forward),
        },
        Part {
            name: format!("{label} backward"),
            ms: median(backward),
        },
    ])
}

/// Each convolution of the network alone on a random batch: its forward, then its backward
/// (of the output's sum), medians of 10 runs after 2 warm-up runs.
fn profile_convolutions(config: &TrainConfig, batch: usize, device: &Device) -> Result<Vec<Part>> {
    let train_device = device.clone().autodiff();
    let geometry = config.architecture.spec().geometry();
    let mut side = crate::digit::SIDE;
    let mut parts = Vec::new();
    for shaped in &geometry.features {
        let Layer::Conv {
            out,
            kernel,
            padding,
            batch_norm,
        } = shaped.layer
        else {
            side = shaped.out_side;
            continue;
        };
        let conv = Conv2dConfig::new([shaped.in_channels, out], [kernel, kernel])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .with_bias(!batch_norm)
            .init(&train_device);
        let input: Tensor<4> = Tensor::random(
            [batch, shaped.in_channels, side, side],
            Distribution::Normal(0.0, 1.0),
            &train_device,
        )
        .require_grad();
        let name = format!(
            "conv {}x{} {}->{} on {side}x{side}",
            kernel, kernel, shaped.in_channels, out
        );
        parts.extend(forward_and_backward(&format!("{name}:"), || {
            let start = Instant::now();
            let output = conv.forward(input.clone());
            sync(&train_device)?;
            let forward_ms = since(start);
            let start = Instant::now();
            let _gradients = output.sum().backward();
            sync(&train_device)?;
            Ok((forward_ms, since(start)))
        })?);
        // The same convolution as im2col and matrix products of our own (what `--operators own`
        // trains with; see `gemm_conv`), on the same sizes.
        let shape = gemm_conv::ConvShape {
            batch,
            in_channels: shaped.in_channels,
            out_channels: out,
            side,
            kernel,
            padding,
        };
        let input: Vec<f32> = (0..batch * shaped.in_channels * side * side)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let weight: Vec<f32> = (0..out * shaped.in_channels * kernel * kernel)
            .map(|i| ((i * 13 % 29) as f32 - 14.0) / 140.0)
            .collect();
        parts.extend(forward_and_backward(
            &format!("{name}: im2col + gemm"),
            || {
                let start = Instant::now();
                let output = gemm_conv::forward(&shape, &input, &weight);
                let forward_ms = since(start);
                let start = Instant::now();
                let _gradients = gemm_conv::backward(&shape, &input, &weight, &output, true);
                Ok((forward_ms, since(start)))
            },
        )?);
        side = shaped.out_side;
    }
    Ok(parts)
}

impl Profile {
    /// A Markdown table of the step's parts (with shares) and of the convolutions alone.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let total: f64 = self.step.iter().map(|p| p.ms).sum();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} training step, batch {}, medians of {} steps: parts waited for one by one add \
             up to {:.1} ms; an undisturbed step takes {:.1} ms ({:.0} images/s)\n",
            self.architecture.name(),
            self.batch,
            self.steps,
            total,
            self.plain_step_ms,
            self.batch as f64 / (self.plain_step_ms / 1e3)
        );
        let _ = writeln!(s, "| part of the step | ms | share |");
        let _ = writeln!(s, "|---|---:|---:|");
        for p in &self.step {
            let _ = writeln!(
                s,
                "| {} | {:.2} | {:.1}% |",
                p.name,
                p.ms,
                100.0 * p.ms / total.max(1e-9)
            );
        }
        let _ = writeln!(s, "\n| each convolution alone | ms |");
        let _ = writeln!(s, "|---|---:|");
        for p in &self.convolutions {
            let _ = writeln!(s, "| {} | {:.2} |", p.name, p.ms);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_of_a_step_is_timed() {
        let images = LabeledImages {
            pixels: (0..16 * PIXELS).map(|i| ((i * 37) % 256) as u8).collect(),
            labels: (0..16).map(|i| (i % 10) as u8).collect(),
        };
        let config = TrainConfig {
            architecture: Architecture::Quick,
            batch_size: 8,
            ..TrainConfig::default()
        };
        let profile = profile_training_step(&config, &images, 2).expect("profiles");
        let names: Vec<&str> = profile.step.iter().map(|p| p.name.as_str()).collect();
        for part in [
            "batching and augmentation (host)",
            "forward: conv",
            "forward: max pool",
            "backward (all operations)",
            "optimizer (Adam)",
        ] {
            assert!(names.contains(&part), "{part} missing from {names:?}");
        }
        assert!(profile.step.iter().all(|p| p.ms >= 0.0));
        assert!(profile.plain_step_ms > 0.0);
        // The quick network has three convolutions: forward and backward of each, by flex
        // and as im2col + gemm.
        assert_eq!(profile.convolutions.len(), 12);
        assert!(profile.to_table().contains("| backward (all operations) |"));
    }
}
