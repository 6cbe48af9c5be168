//! Rewrites of tract's optimized graph that make single-image inference cheaper and leave
//! every output bit for bit as it was (the tests below compare against the plain plan).
//!
//! A Chrome CPU profile of the page's warm inference (tract 0.22.5, wasm SIMD) put 6.7% of the
//! time in tract's `MaxPool`, which derives its pooling geometry anew on every run (the
//! optimizer has no codegen step for it), and 5.7% in the ReLUs, which tract could do inside
//! the convolutions' matrix products if a reshape did not sit between the two.
//!
//! - [`MaxPool2x2`]: the 2x2, stride-2 max pooling our networks use, as an operator of its own
//!   that reads the input's shape and nothing else at run time. Same comparisons in the same
//!   order as tract's, so the same bits (signed zeros included).
//! - An element-wise operation with a constant scalar (the ReLU, lowered by tract to `max(x,
//!   0)`) that follows a matrix product through a reshape is moved before the reshape, where
//!   tract's own fusion folds it into the product's output stage. A reshape does not move
//!   values, so the operation sees the same numbers.
//! - [`SpatialSum`]: the sum of the global average pooling, as tract computes it, without
//!   tract's general reduction (compiled on the page's first answer).
//! - [`ZeroPad2d`]: the zero padding tract puts before a padded convolution, copying rows
//!   instead of tract's element-by-element `Pad` (4% of the profile).

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::tract_core::ops::array::{Pad, PadMode};
use tract_onnx::tract_hir::tract_core::ops::binary::OptBinByScalar;
use tract_onnx::tract_hir::tract_core::ops::change_axes::IntoShape;
use tract_onnx::tract_hir::tract_core::ops::cnn::{MaxPool, PaddingSpec};
use tract_onnx::tract_hir::tract_core::ops::matmul::optimized::OptMatMul;
use tract_onnx::tract_hir::tract_core::ops::nn::{DataFormat, Reduce, Reducer};

/// Applies the rewrites to an optimized model (see the module's documentation).
pub fn rewrite(model: &mut TypedModel) -> TractResult<()> {
    replace_ops(model)?;
    fuse_activations_across_reshapes(model)?;
    model.compact()?;
    Ok(())
}

/// The dimensions of an `[N, C, H, W]` input of the operator named `op`.
fn nchw(input: &Tensor, op: &str) -> TractResult<[usize; 4]> {
    match *input.shape() {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => bail!("{op} expects [N, C, H, W], got {:?}", input.shape()),
    }
}

/// An `[N, C, H, W]` f32 value from its dimensions and its values in row-major order.
fn nchw_value([n, c, h, w]: [usize; 4], values: Vec<f32>) -> TractResult<TVec<TValue>> {
    Ok(tvec!(tract_ndarray::Array4::from_shape_vec(
        (n, c, h, w),
        values
    )?
    .into_tvalue()))
}

/// The output of an operator named `op` that maps each `[H, W]` plane of an `[N, C, H, W]`
/// f32 `input` to an `[H', W']` plane, with `(H', W') = out_size(H, W)`: `fill` gets each
/// input plane, its output plane (zeroed) and `[H, W, H', W']`. Empty planes stay zeros.
fn map_planes(
    input: &Tensor,
    op: &str,
    out_size: impl FnOnce(usize, usize) -> (usize, usize),
    mut fill: impl FnMut(&[f32], &mut [f32], [usize; 4]),
) -> TractResult<TVec<TValue>> {
    let [n, c, h, w] = nchw(input, op)?;
    let values = input.as_slice::<f32>()?;
    let (out_h, out_w) = out_size(h, w);
    let mut output = vec![0f32; n * c * out_h * out_w];
    if h * w > 0 && out_h * out_w > 0 {
        for (plane, out) in values
            .chunks_exact(h * w)
            .zip(output.chunks_exact_mut(out_h * out_w))
        {
            fill(plane, out, [h, w, out_h, out_w]);
        }
    }
    nchw_value([n, c, out_h, out_w], output)
}

/// The output fact of an operator named `op` that maps an `[N, C, H, W]` f32 input to
/// `[N, C, H', W']`, with `(H', W') = spatial(H, W)`.
fn nchw_fact(
    op: &str,
    inputs: &[&TypedFact],
    spatial: impl FnOnce(&TDim, &TDim) -> (TDim, TDim),
) -> TractResult<TVec<TypedFact>> {
    let shape = &inputs[0].shape;
    if shape.rank() != 4 {
        bail!("{op} expects a rank-4 input, got {shape:?}");
    }
    let (h, w) = spatial(&shape[2], &shape[3]);
    Ok(tvec!(f32::fact([shape[0].clone(), shape[1].clone(), h, w])))
}

/// 2x2 max pooling with stride 2 and no padding over `[N, C, H, W]` f32 values: the output is
/// `[N, C, H / 2, W / 2]` (a last odd row or column is dropped, as tract's `Valid` padding
/// does).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct MaxPool2x2;

impl Op for MaxPool2x2 {
    fn name(&self) -> StaticName {
        "MaxPool2x2".into()
    }

    op_as_typed_op!();
}

impl EvalOp for MaxPool2x2 {
    fn is_stateless(&self) -> bool {
        true
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let halved = |h, w| (h / 2, w / 2);
        map_planes(
            &input,
            "MaxPool2x2",
            halved,
            |plane, out, [_, w, out_h, out_w]| {
                let row_pairs = plane.chunks_exact(2 * w).take(out_h);
                for (rows, out) in row_pairs.zip(out.chunks_exact_mut(out_w)) {
                    let (top, bottom) = rows.split_at(w);
                    let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
                    for ((top, bottom), out) in windows.zip(out.iter_mut()) {
                        *out = window_max(top[0], top[1], bottom[0], bottom[1]);
                    }
                }
            },
        )
    }
}

/// The maximum of a 2x2 window as tract's max pooling folds it: start below every value and
/// take a value only when it is strictly greater, in the window's row-major order (which
/// decides between a +0 and a -0). Written out: the page is built for size, where a fold
/// over an array stays a loop (4.7% of the warm inference profile; 2.3% written out).
#[inline(always)]
fn window_max(a: f32, b: f32, c: f32, d: f32) -> f32 {
    let take = |max: f32, v: f32| if max < v { v } else { max };
    take(take(take(take(f32::MIN, a), b), c), d)
}

impl TypedOp for MaxPool2x2 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        nchw_fact("MaxPool2x2", inputs, |h, w| (h.clone() / 2, w.clone() / 2))
    }

    as_op!();
}

/// Zero padding of the last two axes of `[N, C, H, W]` f32 values, which tract's
/// convolutions put before their patch extraction. tract's `Pad` is general (any axis, any
/// mode) and walks the values element by element; this one copies whole rows.
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct ZeroPad2d {
    /// Rows added above and below.
    pub rows: (usize, usize),
    /// Columns added left and right.
    pub columns: (usize, usize),
}

impl Op for ZeroPad2d {
    fn name(&self) -> StaticName {
        "ZeroPad2d".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ZeroPad2d {
    fn is_stateless(&self) -> bool {
        true
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let (top, bottom) = self.rows;
        let (left, right) = self.columns;
        let padded = |h, w| (top + h + bottom, left + w + right);
        map_planes(
            &input,
            "ZeroPad2d",
            padded,
            |plane, out, [_, w, _, out_w]| {
                let out_rows = out.chunks_exact_mut(out_w).skip(top);
                for (row, out) in plane.chunks_exact(w).zip(out_rows) {
                    out[left..left + w].copy_from_slice(row);
                }
            },
        )
    }
}

impl TypedOp for ZeroPad2d {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        nchw_fact("ZeroPad2d", inputs, |h, w| {
            (
                h.clone() + self.rows.0 + self.rows.1,
                w.clone() + self.columns.0 + self.columns.1,
            )
        })
    }

    as_op!();
}

/// The [`ZeroPad2d`] that does what `op` does to `input`, if there is one.
fn as_zero_pad_2d(op: &Pad, input: &TypedFact) -> Option<ZeroPad2d> {
    let PadMode::Constant(value) = &op.mode else {
        return None;
    };
    let zero = value.datum_type() == f32::datum_type()
        && value.len() == 1
        && value.as_slice::<f32>().ok()?[0].to_bits() == 0;
    match op.pads.as_slice() {
        [(0, 0), (0, 0), rows, columns]
            if zero && input.datum_type == f32::datum_type() && input.shape.rank() == 4 =>
        {
            Some(ZeroPad2d {
                rows: *rows,
                columns: *columns,
            })
        }
        _ => None,
    }
}

/// The sum over the last two axes of `[N, C, H, W]` f32 values, keeping them as 1s: the sum
/// of a global average pooling. Computed as tract's `Reduce<Sum>` computes it on such an
/// input (the two axes merged, then ndarray's `sum_axis`), so with the same rounding; but
/// for f32 alone, where tract's reduction is one 52 kB function for every type and reducer,
/// which the browser compiled on the first answer (8.8 ms in a start-up trace).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct SpatialSum;

impl Op for SpatialSum {
    fn name(&self) -> StaticName {
        "SpatialSum".into()
    }

    op_as_typed_op!();
}

impl EvalOp for SpatialSum {
    fn is_stateless(&self) -> bool {
        true
    }

    fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let [n, c, h, w] = nchw(&input, "SpatialSum")?;
        let sums = input
            .to_array_view::<f32>()?
            .into_shape_with_order(vec![n, c, h * w])?
            .sum_axis(tract_ndarray::Axis(2));
        Ok(tvec!(sums
            .into_shape_with_order(vec![n, c, 1, 1])?
            .into_tvalue()))
    }
}

impl TypedOp for SpatialSum {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        nchw_fact("SpatialSum", inputs, |_, _| (1.to_dim(), 1.to_dim()))
    }

    as_op!();
}

/// Whether `op` is a sum [`SpatialSum`] computes the same way, on `input`.
fn is_spatial_sum(op: &Reduce, input: &TypedFact) -> bool {
    matches!(op.reducer, Reducer::Sum)
        && op.axes.as_slice() == [2, 3]
        && input.datum_type == f32::datum_type()
        && input.shape.rank() == 4
}

/// The operator of ours that computes what `node` computes, if there is one.
fn replacement(model: &TypedModel, node: &TypedNode) -> TractResult<Option<Box<dyn TypedOp>>> {
    let Some(&input) = node.inputs.first() else {
        return Ok(None);
    };
    let input = model.outlet_fact(input)?;
    Ok(if let Some(op) = node.op_as::<MaxPool>() {
        is_plain_2x2(op, input).then(|| Box::new(MaxPool2x2) as Box<dyn TypedOp>)
    } else if let Some(op) = node.op_as::<Pad>() {
        as_zero_pad_2d(op, input).map(|pad| Box::new(pad) as Box<dyn TypedOp>)
    } else if let Some(op) = node.op_as::<Reduce>() {
        is_spatial_sum(op, input).then(|| Box::new(SpatialSum) as Box<dyn TypedOp>)
    } else {
        None
    })
}

/// Replaces every max pooling, padding and spatial sum that [`MaxPool2x2`], [`ZeroPad2d`] and
/// [`SpatialSum`] compute the same way, in one pass over the graph.
fn replace_ops(model: &mut TypedModel) -> TractResult<()> {
    for id in model.eval_order()? {
        let node = model.node(id);
        if let Some(op) = replacement(model, node)? {
            TypedModelPatch::replace_single_op(model, node, &node.inputs, op)?.apply(model)?;
        }
    }
    Ok(())
}

/// Whether `op` is a max pooling [`MaxPool2x2`] computes the same way, on `input`.
fn is_plain_2x2(op: &MaxPool, input: &TypedFact) -> bool {
    let spec = &op.pool_spec;
    op.with_index_outputs.is_none()
        && input.datum_type == f32::datum_type()
        && input.shape.rank() == 4
        && spec.data_format == DataFormat::NCHW
        && spec.kernel_shape.as_slice() == [2, 2]
        && spec.strides().as_ref() == [2, 2]
        && spec.dilations().iter().all(|&d| d == 1)
        && matches!(spec.padding, PaddingSpec::Valid)
}

/// Moves each element-wise operation with a constant scalar that follows a matrix product
/// through a reshape to before the reshape, then lets tract fuse it into the product.
fn fuse_activations_across_reshapes(model: &mut TypedModel) -> TractResult<()> {
    for id in model.eval_order()? {
        let Some((product, reshape, activation)) = product_reshape_activation(model, id)? else {
            continue;
        };
        let mut patch = TypedModelPatch::new("activation before reshape");
        let product_out = patch.tap_model(model, OutletId::new(product, 0))?;
        let activation_node = model.node(activation);
        let mut inputs = tvec!();
        for input in &activation_node.inputs {
            inputs.push(if input.node == reshape {
                product_out
            } else {
                patch.tap_model(model, *input)?
            });
        }
        let activated = patch.wire_node(
            format!("{}.before-reshape", activation_node.name),
            activation_node.op.clone(),
            &inputs,
        )?[0];
        let reshape_node = model.node(reshape);
        let reshaped =
            patch.wire_node(&reshape_node.name, reshape_node.op.clone(), &[activated])?;
        patch.shunt_outside(model, OutletId::new(activation, 0), reshaped[0])?;
        patch.apply(model)?;
        let product_node = model.node(product);
        if let Some(fused) = product_node.op.fuse(model, product_node)? {
            fused.apply(model)?;
        }
    }
    Ok(())
}

/// For a matrix product `id` whose only consumer is a reshape whose only consumer is an
/// element-wise operation with a one-value constant of the same rank: the three node ids.
fn product_reshape_activation(
    model: &TypedModel,
    id: usize,
) -> TractResult<Option<(usize, usize, usize)>> {
    let node = model.node(id);
    if !node.op_is::<OptMatMul>() {
        return Ok(None);
    }
    let only_successor = |node: &TypedNode| match node.outputs.as_slice() {
        [output] if output.successors.len() == 1 => Some(output.successors[0].node),
        _ => None,
    };
    let outputs = model.output_outlets()?;
    let Some(reshape) = only_successor(node).filter(|&r| model.node(r).op_is::<IntoShape>()) else {
        return Ok(None);
    };
    if outputs.contains(&OutletId::new(id, 0)) || outputs.contains(&OutletId::new(reshape, 0)) {
        return Ok(None);
    }
    let Some(activation) =
        only_successor(model.node(reshape)).filter(|&a| model.node(a).op_is::<OptBinByScalar>())
    else {
        return Ok(None);
    };
    let rank = model.outlet_fact(OutletId::new(id, 0))?.rank();
    for input in &model.node(activation).inputs {
        if input.node == reshape {
            continue;
        }
        let fact = model.outlet_fact(*input)?;
        if fact.konst.is_none() || fact.shape.volume() != 1.to_dim() || fact.rank() != rank {
            return Ok(None);
        }
    }
    Ok(Some((id, reshape, activation)))
}

#[cfg(test)]
mod tests;
