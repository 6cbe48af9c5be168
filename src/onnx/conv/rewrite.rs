//! Putting [`DirectConv`] into a plan: each convolution tract would run (its weights and
//! bias constants, any padding, an optional ReLU after it) is replaced by the operator that
//! computes the same outputs.

use super::*;

/// The constant f32 values of `outlet`, if it is a constant, or a cast to f32 of one (tract
/// wires the bias of a convolution through such a cast, folded only when it optimizes).
fn constant(model: &TypedModel, outlet: OutletId) -> TractResult<Option<Arc<Tensor>>> {
    let fact = model.outlet_fact(outlet)?;
    if let Some(konst) = &fact.konst {
        return Ok((konst.datum_type() == f32::datum_type()).then(|| konst.clone()));
    }
    let node = model.node(outlet.node);
    match (node.op_as::<Cast>(), node.inputs.as_slice()) {
        (Some(cast), [input]) if cast.to == f32::datum_type() => constant(model, *input),
        _ => Ok(None),
    }
}

/// The [`DirectConv`] that computes what convolution `node` computes, if there is one.
fn as_direct_conv(
    model: &TypedModel,
    node: &TypedNode,
    op: &Conv,
) -> TractResult<Option<DirectConv>> {
    let spec = &op.pool_spec;
    let [input, weights, bias] = node.inputs.as_slice() else {
        return Ok(None);
    };
    let input = model.outlet_fact(*input)?;
    let plain = op.q_params.is_none()
        && op.group == 1
        && op.kernel_fmt == KernelFormat::OIHW
        && spec.data_format == DataFormat::NCHW
        && spec.kernel_shape.len() == 2
        && spec.strides().iter().all(|&s| s == 1)
        && spec.dilations().iter().all(|&d| d == 1)
        && input.datum_type == f32::datum_type()
        && input.shape.rank() == 4;
    let padding = match &spec.padding {
        PaddingSpec::Valid => ((0, 0), (0, 0)),
        PaddingSpec::Explicit(before, after) if before.len() == 2 && after.len() == 2 => {
            ((before[0], after[0]), (before[1], after[1]))
        }
        _ => return Ok(None),
    };
    let (Some(weights), Some(bias)) = (constant(model, *weights)?, constant(model, *bias)?) else {
        return Ok(None);
    };
    let [out, inc, kh, kw] = match *weights.shape() {
        [o, i, h, w] => [o, i, h, w],
        _ => return Ok(None),
    };
    if !plain || inc != spec.input_channels || out != spec.output_channels {
        return Ok(None);
    }
    let bias = bias.as_slice::<f32>()?;
    let bias = match bias.len() {
        n if n == out => bias.to_vec(),
        1 => vec![bias[0]; out],
        _ => return Ok(None),
    };
    Ok(Some(DirectConv::new(
        weights.as_slice::<f32>()?,
        &bias,
        [out, inc, kh, kw],
        padding,
    )))
}

/// Whether `node` is `max(x, 0)` with a constant zero (how tract wires ONNX's `Relu`).
fn is_relu(model: &TypedModel, node: &TypedNode) -> TractResult<bool> {
    let Some(op) = node.op_as::<TypedBinOp>() else {
        return Ok(false);
    };
    if !op.0.is::<Max>() || node.inputs.len() != 2 {
        return Ok(false);
    }
    let zero = constant(model, node.inputs[1])?;
    Ok(
        zero.is_some_and(|t| {
            t.len() == 1 && t.as_slice::<f32>().is_ok_and(|v| v[0].to_bits() == 0)
        }),
    )
}

/// Replaces every convolution of a typed (not yet optimized) model that [`DirectConv`]
/// computes, with the ReLU right after it when there is one, before tract's optimizer turns
/// them into patch extraction and matrix products.
pub fn replace_convolutions(model: &mut TypedModel) -> TractResult<()> {
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(conv) = node.op_as::<Conv>() else {
            continue;
        };
        let Some(mut direct) = as_direct_conv(model, node, conv)? else {
            continue;
        };
        let outputs = model.output_outlets()?;
        let relu = match node.outputs[0].successors.as_slice() {
            [only] if !outputs.contains(&OutletId::new(id, 0)) => {
                let next = model.node(only.node);
                is_relu(model, next)?.then_some(next.id)
            }
            _ => None,
        };
        let mut patch = TypedModelPatch::new("direct convolution");
        let input = patch.tap_model(model, node.inputs[0])?;
        direct.relu = relu.is_some();
        let wire = patch.wire_node(&node.name, direct, &[input])?[0];
        patch.shunt_outside(model, OutletId::new(relu.unwrap_or(id), 0), wire)?;
        patch.apply(model)?;
    }
    model.compact()?;
    Ok(())
}
