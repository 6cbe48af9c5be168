//! The network's stages for one image, as the classifier's own plan computes them: the page's
//! layers view and its tests read the activations here.
//!
//! A stage is what a reader of the network calls a layer: a convolution with its ReLU, a
//! pooling, the features the last layer reads, the logits. tract's optimized plan has other
//! nodes (padding, patch extraction, packing, reshapes, fused activations; on the page our
//! [`crate::onnx::conv::DirectConv`]) but keeps the ONNX node's name as the first part of
//! each node's name. So the stages are found in the ONNX file ([`stage_specs`]), each plan
//! node is given to the stage whose ONNX nodes it came from, and a stage's value is the output
//! of its last node ([`StagePlan::bind`]). Those values are made outputs of the very plan the
//! answers come from ([`StagePlan::expose`]): tract computes them on every run anyway, and an
//! output only keeps a value to the end of the run instead of freeing it as soon as the next
//! node has read it. Reading the layers ([`crate::Classifier::read_layers`]) is a normal run
//! that also copies those outputs; a normal reading copies nothing.

use tract_onnx::pb::{ModelProto, NodeProto};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;

use crate::classifier::Prediction;

/// The name of the first stage, the image itself.
pub const INPUT_STAGE: &str = "input";
/// The name of the last stage, the calibrated probabilities (computed from the logits by the
/// model's temperature, outside the graph).
pub const PROBABILITIES_STAGE: &str = "probabilities";

/// A stage of the network as the ONNX file describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct StageSpec {
    /// The name of the ONNX node that begins the stage.
    pub name: String,
    /// What the stage does, in a few words ("conv 3x3, 32 channels, ReLU").
    pub caption: String,
    /// The ONNX value the stage computes (its last node's output).
    pub output: String,
    /// The ONNX nodes the stage is made of (the first is `name`).
    members: Vec<String>,
}

/// One stage's values for one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// The stage's name ([`INPUT_STAGE`], an ONNX node's name, or [`PROBABILITIES_STAGE`]).
    pub name: String,
    /// What the stage does ([`StageSpec::caption`]).
    pub caption: String,
    /// `[channels, height, width]` for feature maps, `[length]` for vectors.
    pub shape: Vec<usize>,
    /// The values in row-major order of `shape`.
    pub values: Vec<f32>,
}

impl Stage {
    /// The shape as a reader writes it: `28x28x32` (height, width, channels) for maps, `64`
    /// for vectors.
    pub fn shape_label(&self) -> String {
        match self.shape.as_slice() {
            [c, h, w] => format!("{h}x{w}x{c}"),
            dims => dims
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("x"),
        }
    }

    /// The stage's maps as (channels, height, width); a vector's values are 1x1 maps.
    pub fn maps(&self) -> (usize, usize, usize) {
        match self.shape.as_slice() {
            [c, h, w] => (*c, *h, *w),
            [f] => (*f, 1, 1),
            _ => (self.values.len(), 1, 1),
        }
    }

    /// How the page lays the stage's maps out as tiles.
    pub fn grid(&self) -> TileGrid {
        let (c, h, w) = self.maps();
        TileGrid::new(c, h, w)
    }

    /// The largest value (0 when every value is at most 0): the layer's scale on the page.
    pub fn max(&self) -> f32 {
        self.values
            .iter()
            .fold(0.0, |m, &v| if v > m { v } else { m })
    }
}

/// Every stage of one reading, and the reading itself (both from the same run).
#[derive(Clone, Debug, PartialEq)]
pub struct Layers {
    /// Input, the network's stages in order, then the probabilities.
    pub stages: Vec<Stage>,
    /// The answer the same run gave.
    pub prediction: Prediction,
    /// Milliseconds to compute the whole set once (the run, and the copies of its values).
    pub ms: f64,
}

/// The stages of a model's ONNX graph, in file order: a `Conv` with the `Relu` that reads it,
/// a `MaxPool`, a `GlobalAveragePool` with the `Flatten` after it, a `MatMul` with its bias
/// `Add` and `Relu`; any other node is a stage of its own.
pub fn stage_specs(proto: &ModelProto) -> Vec<StageSpec> {
    let Some(graph) = proto.graph.as_ref() else {
        return Vec::new();
    };
    let dims = |name: &str| {
        graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.dims.clone())
            .unwrap_or_default()
    };
    let mut specs: Vec<StageSpec> = Vec::new();
    let mut nodes = graph.node.iter().filter(|n| n.op_type != "Cast").peekable();
    while let Some(node) = nodes.next() {
        let mut members = vec![node.name.clone()];
        let mut output = node.output.first().cloned().unwrap_or_default();
        let mut absorb = |op: &str, nodes: &mut std::iter::Peekable<_>| -> bool {
            let next: Option<&&NodeProto> = nodes.peek();
            match next {
                Some(n) if n.op_type == op && n.input.first() == Some(&output) => {
                    members.push(n.name.clone());
                    output = n.output.first().cloned().unwrap_or_default();
                    nodes.next();
                    true
                }
                _ => false,
            }
        };
        let caption = match node.op_type.as_str() {
            "Conv" => {
                let w = node.input.get(1).map(|n| dims(n)).unwrap_or_default();
                let relu = absorb("Relu", &mut nodes);
                match w.as_slice() {
                    [out, _, kh, kw] => format!(
                        "conv {kh}x{kw}, {out} channels{}",
                        if relu { ", ReLU" } else { "" }
                    ),
                    _ => "conv".into(),
                }
            }
            "MaxPool" => {
                let k = attribute_ints(node, "kernel_shape");
                match k.as_slice() {
                    [h, w] => format!("max pool {h}x{w}"),
                    _ => "max pool".into(),
                }
            }
            "GlobalAveragePool" => {
                absorb("Flatten", &mut nodes);
                "global average pool: the features the last layer reads".into()
            }
            "Flatten" => "flatten".into(),
            "MatMul" => {
                let w = node.input.get(1).map(|n| dims(n)).unwrap_or_default();
                absorb("Add", &mut nodes);
                let relu = absorb("Relu", &mut nodes);
                match w.as_slice() {
                    [inputs, outputs] => format!(
                        "dense {inputs} to {outputs}{}",
                        if relu { ", ReLU" } else { "" }
                    ),
                    _ => "dense".into(),
                }
            }
            other => other.to_string(),
        };
        let caption = match output.as_str() {
            crate::trust::FEATURES_OUTPUT if node.op_type != "GlobalAveragePool" => {
                format!("{caption}: the features the last layer reads")
            }
            "logits" => format!("{caption}: the logits"),
            _ => caption,
        };
        specs.push(StageSpec {
            name: node.name.clone(),
            caption,
            output,
            members,
        });
    }
    specs
}

/// A node's list-of-integers attribute (empty when absent).
fn attribute_ints(node: &NodeProto, name: &str) -> Vec<i64> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.ints.clone())
        .unwrap_or_default()
}

/// The stages bound to an optimized model's nodes, and where the plan outputs their values.
#[derive(Clone, Debug)]
pub struct StagePlan {
    specs: Vec<StageSpec>,
    /// The node whose output is each stage's value.
    nodes: Vec<usize>,
    /// The index among the plan's outputs of each stage's value (set by [`StagePlan::expose`]).
    outputs: Vec<usize>,
}

impl StagePlan {
    /// Binds `specs` to an optimized `model`'s nodes: a node belongs to the stage that has an
    /// ONNX node named as its name's first part (`l0_conv` owns `l0_conv.pad` and
    /// `l0_conv.reshape_group`); a stage's value is the output of its last node (Consts left
    /// out) in evaluation order. `None` when a stage has no node there, or its value is not an
    /// `[N, C, H, W]` or `[N, F]` float tensor.
    pub fn bind(specs: Vec<StageSpec>, model: &TypedModel) -> Option<Self> {
        let mut nodes = vec![None; specs.len()];
        for id in model.eval_order().ok()? {
            let node = model.node(id);
            if node.op_is::<tract_onnx::tract_core::ops::konst::Const>() {
                continue;
            }
            let name = &node.name;
            let stage = specs.iter().position(|s| {
                s.members.iter().any(|m| {
                    name == m || (name.starts_with(m.as_str()) && name[m.len()..].starts_with('.'))
                })
            });
            if let Some(stage) = stage {
                nodes[stage] = Some(id);
            }
        }
        let nodes = nodes.into_iter().collect::<Option<Vec<_>>>()?;
        let shapes_fit = nodes.iter().all(|&id| {
            let fact = &model.node(id).outputs[0].fact;
            fact.datum_type == f32::datum_type()
                && matches!(fact.shape.as_concrete().map(<[usize]>::len), Some(2 | 4))
        });
        shapes_fit.then_some(Self {
            specs,
            nodes,
            outputs: Vec::new(),
        })
    }

    /// Makes every stage's value an output of `model` (after its own outputs, which keep their
    /// places; a stage that already is one, like the logits, is not added twice).
    pub fn expose(&mut self, model: &mut TypedModel) -> TractResult<()> {
        let mut outlets = model.output_outlets()?.to_vec();
        self.outputs = self
            .nodes
            .iter()
            .map(|&id| {
                let outlet = OutletId::new(id, 0);
                outlets
                    .iter()
                    .position(|&o| o == outlet)
                    .unwrap_or_else(|| {
                        outlets.push(outlet);
                        outlets.len() - 1
                    })
            })
            .collect();
        model.set_output_outlets(&outlets)?;
        Ok(())
    }

    /// How many stages the network has (the input and the probabilities not counted).
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether the network has no stages.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The stages of the first image of a run of the exposed plan, from its `outputs`.
    pub fn stages(&self, outputs: &[TValue]) -> TractResult<Vec<Stage>> {
        let mut stages = Vec::with_capacity(self.specs.len());
        for (spec, &index) in self.specs.iter().zip(&self.outputs) {
            let value = outputs
                .get(index)
                .with_context(|| format!("stage {} is not among the outputs", spec.name))?;
            let view = value.to_array_view::<f32>()?;
            let (shape, per_image) = match *view.shape() {
                [_, c, h, w] => (vec![c, h, w], c * h * w),
                [_, f] => (vec![f], f),
                ref other => bail!("stage {} has shape {other:?}", spec.name),
            };
            stages.push(Stage {
                name: spec.name.clone(),
                caption: spec.caption.clone(),
                shape,
                values: view.iter().take(per_image).copied().collect(),
            });
        }
        Ok(stages)
    }
}

/// A stage's value shown as a grey level: 0 at or below 0, 255 at or above `max`, linear in
/// between (rounded to nearest). The page paints each layer's maps with it, scaled to the
/// layer's largest value ([`Stage::max`]).
pub fn grey(value: f32, max: f32) -> u8 {
    if max <= 0.0 || value.is_nan() || value <= 0.0 {
        return 0;
    }
    let level = (255.0 * value / max).round();
    if level >= 255.0 {
        255
    } else {
        level as u8
    }
}

/// How a stage's maps are laid out as tiles on one picture: `columns` tiles a row, `gap`
/// pixels between tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileGrid {
    /// Tiles per row.
    pub columns: usize,
    /// Rows of tiles.
    pub rows: usize,
    /// A tile's height and width in pixels.
    pub tile: (usize, usize),
    /// Pixels between tiles: one between maps, none between single values (the features).
    pub gap: usize,
}

impl TileGrid {
    /// The grid for `channels` maps of `height` x `width`: about twice as wide as tall in
    /// tiles (8 columns for 16 to 64 maps), so that every layer fits a phone's width.
    pub fn new(channels: usize, height: usize, width: usize) -> Self {
        let columns = match channels {
            0 | 1 => 1,
            2..=8 => channels,
            9..=16 => 8,
            _ => 8 * channels.div_ceil(64),
        };
        Self {
            columns,
            rows: channels.max(1).div_ceil(columns),
            tile: (height, width),
            gap: usize::from(height * width > 1),
        }
    }

    /// The picture's width and height in pixels.
    pub fn size(&self) -> (usize, usize) {
        (
            self.columns * (self.tile.1 + self.gap) - self.gap,
            self.rows * (self.tile.0 + self.gap) - self.gap,
        )
    }

    /// The top-left pixel (x, y) of channel `c`'s tile.
    pub fn origin(&self, c: usize) -> (usize, usize) {
        (
            (c % self.columns) * (self.tile.1 + self.gap),
            (c / self.columns) * (self.tile.0 + self.gap),
        )
    }

    /// The channel whose tile holds pixel (x, y), if any (`None` on a gap or past the last).
    pub fn channel_at(&self, x: usize, y: usize, channels: usize) -> Option<usize> {
        let (step_x, step_y) = (self.tile.1 + self.gap, self.tile.0 + self.gap);
        let (column, dx) = (x / step_x, x % step_x);
        let (row, dy) = (y / step_y, y % step_y);
        let c = row * self.columns + column;
        (column < self.columns && dx < self.tile.1 && dy < self.tile.0 && c < channels).then_some(c)
    }
}

/// A stage's maps as RGBA pixels on its [`TileGrid`] (a vector's values as 1x1 maps): each
/// value's [`grey`] level on the layer's scale, gaps transparent. The page puts these pixels on the layer's canvas.
pub fn tile_pixels(stage: &Stage) -> (TileGrid, Vec<u8>) {
    let (c, h, w) = stage.maps();
    let grid = stage.grid();
    let (width, height) = grid.size();
    let mut rgba = vec![0u8; width * height * 4];
    let max = stage.max();
    for (channel, map) in stage.values.chunks(h * w).enumerate().take(c) {
        let (x0, y0) = grid.origin(channel);
        for (i, &v) in map.iter().enumerate() {
            let at = ((y0 + i / w) * width + x0 + i % w) * 4;
            let g = grey(v, max);
            rgba[at..at + 4].copy_from_slice(&[g, g, g, 255]);
        }
    }
    (grid, rgba)
}

#[cfg(test)]
mod tests;
