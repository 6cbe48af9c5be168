//! The networks the trainer knows, described as data: a [`Spec`] is read by the burn model
//! builder, by the parameter / MAC counter and by the ONNX exporter, so that the three can
//! never disagree about what a network is.
//!
//! burn 0.22 models carry no backend type: the same `Network` runs on whatever device its
//! tensors live on (flex on CPU, wgpu, CUDA).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::digit::{CLASSES, SIDE};

/// Which network to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Architecture {
    /// The shipped network: five 3x3 conv layers with batch norm, two max poolings, global
    /// average pooling and one dense layer (70k parameters, 4.6M MACs per image). The last
    /// two convolutions are 64 wide (48 before zeros drawn with the page's pen were
    /// taught: with them, the 48-wide network ended at 99.54-99.58% on MNIST in five runs);
    /// the 7x7 stage is where widening is cheapest (16% more MACs in all).
    Digitnet,
    /// The clothes recipe's network: the shipped network's five convolutions, their last
    /// 5x5x64 maps flattened into the dense layer instead of averaged (86k parameters, the
    /// same 4.6M MACs): where a feature lies tells a shirt from a pullover or a coat, and the
    /// averaged network ended under its own training accuracy on Fashion-MNIST.
    Clothnet,
    /// A small CNN with batch norm (22k parameters, 0.6M MACs) that reaches 99% on MNIST in
    /// one epoch: for quick runs on a CPU (the 3x3 middle convolution trains ~12% faster on
    /// flex than the 5x5 it replaced, at the same one-epoch accuracy).
    Quick,
    /// The seed essay's Keras CNN: conv 32, pool, conv 64, pool, conv 64, dense 64, dense 10.
    /// (Called `seed` until 2026-12-07, next to `--seed`, the random seed: still read.)
    #[serde(alias = "seed")]
    #[value(alias = "seed")]
    Keras,
    /// The seed's fully connected network: 784-100-100-10.
    Mlp,
}

impl Architecture {
    /// The name used in file names, metadata and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Digitnet => "digitnet",
            Architecture::Clothnet => "clothnet",
            Architecture::Quick => "quick",
            Architecture::Keras => "keras",
            Architecture::Mlp => "mlp",
        }
    }

    /// The layer-by-layer description of this network.
    pub fn spec(self) -> Spec {
        use Layer::*;
        let conv = |out, kernel, padding, batch_norm| Conv {
            out,
            kernel,
            padding,
            batch_norm,
        };
        match self {
            Architecture::Digitnet => Spec {
                features: vec![
                    conv(16, 3, 1, true),
                    MaxPool,
                    conv(32, 3, 1, true),
                    conv(32, 3, 1, true),
                    MaxPool,
                    conv(64, 3, 1, true),
                    conv(64, 3, 0, true),
                ],
                head: Head::GlobalAvgPool,
                hidden: vec![],
            },
            Architecture::Clothnet => Spec {
                head: Head::Flatten,
                ..Architecture::Digitnet.spec()
            },
            Architecture::Quick => Spec {
                features: vec![
                    conv(8, 5, 2, true),
                    MaxPool,
                    conv(16, 3, 1, true),
                    MaxPool,
                    conv(32, 3, 1, true),
                ],
                head: Head::Flatten,
                hidden: vec![],
            },
            Architecture::Keras => Spec {
                features: vec![
                    conv(32, 3, 0, false),
                    MaxPool,
                    conv(64, 3, 0, false),
                    MaxPool,
                    conv(64, 3, 0, false),
                ],
                head: Head::Flatten,
                hidden: vec![64],
            },
            Architecture::Mlp => Spec {
                features: vec![],
                head: Head::Flatten,
                hidden: vec![100, 100],
            },
        }
    }
}

/// One feature-extraction layer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Layer {
    /// Square convolution, stride 1, `padding` pixels on each side, optional batch norm,
    /// then ReLU.
    Conv {
        out: usize,
        kernel: usize,
        padding: usize,
        batch_norm: bool,
    },
    /// 2x2 max pooling with stride 2.
    MaxPool,
}

/// How the feature maps become a vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Head {
    /// Every value of every map, in channel-major order.
    Flatten,
    /// The mean of each map.
    GlobalAvgPool,
}

/// A network as data: feature layers, head, hidden dense widths (ReLU after each), and a
/// final dense layer to the 10 classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// Convolutions and poolings, in order.
    pub features: Vec<Layer>,
    /// Maps to vector.
    pub head: Head,
    /// Widths of the hidden dense layers.
    pub hidden: Vec<usize>,
}

/// Size and cost of a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    /// Trainable parameters (batch-norm statistics excluded; they fold into the convolutions).
    pub parameters: usize,
    /// Multiply-accumulates for one image at inference.
    pub macs: usize,
}

/// One feature layer with the shapes it sees: what [`Spec::geometry`] walks out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShapedLayer {
    /// The layer.
    pub layer: Layer,
    /// Channels coming in.
    pub in_channels: usize,
    /// Channels going out.
    pub out_channels: usize,
    /// Side of the (square) maps going out.
    pub out_side: usize,
}

/// Every layer's shapes, from one walk over a [`Spec`]: the cost counter and the network
/// builder both read this, so they cannot disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    /// The feature layers in order.
    pub features: Vec<ShapedLayer>,
    /// `(inputs, outputs)` of each dense layer, the final 10-way one included.
    pub dense: Vec<(usize, usize)>,
}

impl Geometry {
    /// Width of the exported `features` output: what the final dense layer reads.
    pub fn feature_width(&self) -> usize {
        self.dense.last().map_or(0, |&(inputs, _)| inputs)
    }
}

impl Spec {
    /// Walks the layers from the 28x28 single-channel input and records each one's shapes.
    pub fn geometry(&self) -> Geometry {
        let (mut channels, mut side) = (1usize, SIDE);
        let features = self
            .features
            .iter()
            .map(|&layer| {
                let in_channels = channels;
                match layer {
                    Layer::Conv {
                        out,
                        kernel,
                        padding,
                        ..
                    } => {
                        side = side + 2 * padding + 1 - kernel;
                        channels = out;
                    }
                    Layer::MaxPool => side /= 2,
                }
                ShapedLayer {
                    layer,
                    in_channels,
                    out_channels: channels,
                    out_side: side,
                }
            })
            .collect();
        let mut width = match self.head {
            Head::Flatten => channels * side * side,
            Head::GlobalAvgPool => channels,
        };
        let dense = self
            .hidden
            .iter()
            .chain(&[CLASSES])
            .map(|&out| {
                let shape = (width, out);
                width = out;
                shape
            })
            .collect();
        Geometry { features, dense }
    }

    /// Parameters and MACs of one inference, computed from the shapes.
    pub fn cost(&self) -> Cost {
        let geometry = self.geometry();
        let (mut parameters, mut macs) = (0, 0);
        for shaped in &geometry.features {
            if let Layer::Conv {
                out,
                kernel,
                batch_norm,
                ..
            } = shaped.layer
            {
                let weights = out * shaped.in_channels * kernel * kernel;
                parameters += weights + out + if batch_norm { out } else { 0 };
                macs += weights * shaped.out_side * shaped.out_side;
            }
        }
        for &(inputs, outputs) in &geometry.dense {
            parameters += inputs * outputs + outputs;
            macs += inputs * outputs;
        }
        Cost { parameters, macs }
    }

    /// One line describing the layers, for logs, metadata and the model card.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .features
            .iter()
            .map(|layer| match *layer {
                Layer::Conv {
                    out,
                    kernel,
                    padding,
                    batch_norm,
                } => format!(
                    "conv{kernel}x{kernel}({out}{}{})-relu",
                    if padding > 0 { ", same" } else { "" },
                    if batch_norm { ", bn" } else { "" }
                ),
                Layer::MaxPool => "maxpool2".to_string(),
            })
            .collect();
        parts.push(match self.head {
            Head::Flatten => "flatten".into(),
            Head::GlobalAvgPool => "global-avg-pool".into(),
        });
        parts.extend(self.hidden.iter().map(|w| format!("dense({w})-relu")));
        parts.push(format!("dense({CLASSES})"));
        parts.join(" > ")
    }
}

/// A convolution, its optional batch norm, and the ReLU after them.
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// The convolution (no bias when a batch norm follows: the norm's shift replaces it).
    pub conv: Conv2d,
    /// Batch normalization over the convolution's output channels.
    pub norm: Option<BatchNorm>,
    /// Zero padding on each side.
    #[module(skip)]
    pub padding: usize,
}

/// One feature layer of a [`Network`].
// A network holds a handful of these, built once; boxing the convolution would only add an
// indirection to every forward pass and to burn's derived module code.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum FeatureLayer {
    /// Convolution block.
    Conv(ConvBlock),
    /// 2x2 max pooling.
    Pool(MaxPool2d),
}

/// A digit classifier built from a [`Spec`]: image `[N, 1, 28, 28]` in, logits `[N, 10]` out.
#[derive(Module, Debug)]
pub struct Network {
    /// Convolutions and poolings.
    pub features: Vec<FeatureLayer>,
    /// Dense layers; ReLU after all but the last.
    pub dense: Vec<Linear>,
    /// How maps become a vector.
    #[module(skip)]
    pub head: Head,
    /// Whether the convolutions run as [`super::ops::gemm_conv::conv2d`], the poolings as
    /// [`super::ops::max_pool::max_pool_2x2`] and batch norm with ReLU in training as
    /// [`super::ops::batch_norm::batch_norm_relu_train`] (flex only; see
    /// [`super::config::TrainConfig::own_operators`]) instead of burn's.
    #[module(skip)]
    pub own_operators: bool,
}

impl Network {
    /// A freshly initialized network (burn's default initializers) on `device`.
    pub fn new(spec: &Spec, device: &Device) -> Self {
        let geometry = spec.geometry();
        let features = geometry
            .features
            .iter()
            .map(|shaped| match shaped.layer {
                Layer::Conv {
                    out,
                    kernel,
                    padding,
                    batch_norm,
                } => {
                    let conv = Conv2dConfig::new([shaped.in_channels, out], [kernel, kernel])
                        .with_padding(PaddingConfig2d::Explicit(
                            padding, padding, padding, padding,
                        ))
                        .with_bias(!batch_norm)
                        .init(device);
                    FeatureLayer::Conv(ConvBlock {
                        conv,
                        norm: batch_norm.then(|| BatchNormConfig::new(out).init(device)),
                        padding,
                    })
                }
                Layer::MaxPool => {
                    FeatureLayer::Pool(MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init())
                }
            })
            .collect();
        let dense = geometry
            .dense
            .iter()
            .map(|&(inputs, outputs)| LinearConfig::new(inputs, outputs).init(device))
            .collect();
        Self {
            features,
            dense,
            head: spec.head,
            own_operators: false,
        }
    }

    /// Logits `[N, 10]` for images `[N, 1, 28, 28]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_observed(images, |_| {})
    }

    /// [`Network::forward`], calling `observe` with the name of each operation once it has
    /// been issued (the profiler waits for the device there and times it; a no-op costs
    /// nothing).
    pub fn forward_observed(
        &self,
        images: Tensor<4>,
        mut observe: impl FnMut(Operation),
    ) -> Tensor<2> {
        let mut x = images;
        for layer in &self.features {
            x = match layer {
                FeatureLayer::Conv(block) => {
                    let y = if self.own_operators && block.conv.bias.is_none() {
                        super::ops::gemm_conv::conv2d(x, block.conv.weight.val(), block.padding)
                    } else {
                        block.conv.forward(x)
                    };
                    observe(Operation::Conv);
                    match &block.norm {
                        Some(norm) if self.own_operators && trains(norm, &y) => {
                            let y = batch_norm_relu(norm, y);
                            observe(Operation::BatchNorm);
                            y
                        }
                        norm => {
                            let y = match norm {
                                Some(norm) => {
                                    let y = norm.forward(y);
                                    observe(Operation::BatchNorm);
                                    y
                                }
                                None => y,
                            };
                            let y = relu(y);
                            observe(Operation::Relu);
                            y
                        }
                    }
                }
                FeatureLayer::Pool(pool) => {
                    let y = if self.own_operators {
                        super::ops::max_pool::max_pool_2x2(x)
                    } else {
                        pool.forward(x)
                    };
                    observe(Operation::MaxPool);
                    y
                }
            };
        }
        let mut x: Tensor<2> = match self.head {
            Head::Flatten => x.flatten(1, 3),
            Head::GlobalAvgPool => x.mean_dim(3).mean_dim(2).flatten(1, 3),
        };
        observe(Operation::Head);
        let last = self.dense.len().saturating_sub(1);
        for (i, linear) in self.dense.iter().enumerate() {
            x = linear.forward(x);
            observe(Operation::Dense);
            if i < last {
                x = relu(x);
                observe(Operation::Relu);
            }
        }
        x
    }
}

/// Whether `norm` normalizes `input` with the batch's statistics (and updates its running
/// ones), as burn's [`BatchNorm::forward`] decides.
fn trains(norm: &BatchNorm, input: &Tensor<4>) -> bool {
    input.device().is_autodiff() && norm.training.is_enabled()
}

/// `relu(norm.forward(input))` in training mode through [`super::ops::batch_norm`]'s operator,
/// with the running statistics updated as burn's [`BatchNorm`] updates them.
fn batch_norm_relu(norm: &BatchNorm, input: Tensor<4>) -> Tensor<4> {
    let device = input.device();
    let step = super::ops::batch_norm::batch_norm_relu_train(
        input,
        norm.gamma.val(),
        norm.beta.val(),
        norm.epsilon,
    );
    let blend = |running: Tensor<1>, batch: Tensor<1>| {
        running
            .to_device(&device)
            .mul_scalar(1.0 - norm.momentum)
            .add(batch.mul_scalar(norm.momentum))
            .detach()
    };
    norm.running_mean
        .update(blend(norm.running_mean.value_sync(), step.mean));
    norm.running_var
        .update(blend(norm.running_var.value_sync(), step.variance));
    step.output
}

/// The kinds of operation a [`Network`]'s forward pass is made of (what the profiler times).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// A convolution.
    Conv,
    /// A batch normalization.
    BatchNorm,
    /// A ReLU.
    Relu,
    /// A 2x2 max pooling.
    MaxPool,
    /// Flattening or global average pooling.
    Head,
    /// A dense layer.
    Dense,
}

impl Operation {
    /// A name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Conv => "conv",
            Operation::BatchNorm => "batch norm",
            Operation::Relu => "relu",
            Operation::MaxPool => "max pool",
            Operation::Head => "global average pool / flatten",
            Operation::Dense => "dense",
        }
    }
}

#[cfg(test)]
mod tests;
