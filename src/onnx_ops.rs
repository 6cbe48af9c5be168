//! The ONNX operators this project's models use, and only those.
//!
//! `tract_onnx::onnx()` registers every operator tract knows (recurrent nets, FFTs, tree
//! ensembles, quantization, random generators, ...), and because the registry holds a pointer
//! to each builder, all of that code is linked into the web app even though a small CNN
//! never calls it. Registering just the operators below keeps it out. The exporter writes only
//! these operators; a model that needs another one fails to load with a message naming it.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::{self, cnn, nn};

/// Builds one tract operator from one ONNX node.
type Built = TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// The operator names [`register`] handles, for error messages and documentation.
pub const SUPPORTED_OPS: &[&str] = &[
    "Add",
    "Conv",
    "Flatten",
    "GlobalAveragePool",
    "MatMul",
    "MaxPool",
    "Relu",
    "Reshape",
    "Softmax",
];

/// Registers the operators in [`SUPPORTED_OPS`].
pub fn register(reg: &mut OnnxOpRegister) {
    reg.insert("Add", |_, _| Ok((ops::math::Add.into_hir(), vec![])));
    reg.insert("Conv", conv);
    reg.insert("Flatten", flatten);
    reg.insert("GlobalAveragePool", |_, _| {
        Ok((expand(nn::GlobalAvgPool), vec![]))
    });
    reg.insert("MatMul", |_, _| {
        Ok((expand(ops::matmul::MatMulInference::default()), vec![]))
    });
    reg.insert("MaxPool", max_pool);
    reg.insert("Relu", |_, _| {
        Ok((expand(ops::activations::Clip::new(Some(0.0), None)), vec![]))
    });
    reg.insert("Reshape", |_, node| {
        let allow_zero = node.get_attr_opt::<i64>("allowzero")?.unwrap_or(0) != 0;
        Ok((expand(ops::array::Reshape::new(allow_zero)), vec![]))
    });
    reg.insert("Softmax", softmax);
}

/// ONNX explicit padding, `auto_pad` or none, for a convolution (`pool_rules = false`) or a
/// pooling (`pool_rules = true`, which honours `ceil_mode`).
fn padding(node: &NodeProto, pool_rules: bool) -> TractResult<cnn::PaddingSpec> {
    let rank = node.get_attr_tvec::<usize>("kernel_shape").map(|k| k.len());
    let ceil_mode = node.get_attr_opt::<isize>("ceil_mode")?.unwrap_or(0) == 1;
    if let Some(pads) = node.get_attr_opt_tvec::<usize>("pads")? {
        let half = pads.len() / 2;
        let (before, after) = (pads[..half].into(), pads[half..].into());
        return Ok(if pool_rules {
            cnn::PaddingSpec::ExplicitOnnxPool(before, after, ceil_mode)
        } else {
            cnn::PaddingSpec::Explicit(before, after)
        });
    }
    Ok(
        match node.get_attr_opt::<&str>("auto_pad")?.unwrap_or("NOTSET") {
            "VALID" => cnn::PaddingSpec::Valid,
            "SAME_UPPER" => cnn::PaddingSpec::SameUpper,
            "SAME_LOWER" => cnn::PaddingSpec::SameLower,
            "NOTSET" => match rank {
                Ok(rank) if pool_rules => {
                    cnn::PaddingSpec::ExplicitOnnxPool(tvec!(0; rank), tvec!(0; rank), ceil_mode)
                }
                Ok(rank) => cnn::PaddingSpec::Explicit(tvec!(0; rank), tvec!(0; rank)),
                Err(_) => cnn::PaddingSpec::Valid,
            },
            other => bail!(
                "{}: auto_pad {other:?} is not an ONNX padding mode",
                node.name
            ),
        },
    )
}

fn conv(_: &ParsingContext, node: &NodeProto) -> Built {
    let mut op = cnn::Conv::default().padding(padding(node, false)?);
    if let Some(kernel_shape) = node.get_attr_opt_tvec("kernel_shape")? {
        op = op.kernel_shape(kernel_shape);
    }
    if let Some(group) = node.get_attr_opt("group")? {
        op = op.group(group);
    }
    if let Some(dilations) = node.get_attr_opt_tvec("dilations")? {
        op = op.dilations(dilations);
    }
    if let Some(strides) = node.get_attr_opt_tvec("strides")? {
        op = op.strides(strides);
    }
    if node.input.len() == 3 {
        op = op.bias_input(2);
    }
    Ok((expand(op), vec![]))
}

fn max_pool(_: &ParsingContext, node: &NodeProto) -> Built {
    if node.output.len() > 1 {
        bail!(
            "{}: MaxPool with an Indices output is not supported",
            node.name
        );
    }
    let pool_spec = cnn::PoolSpec::new(
        nn::DataFormat::NCHW,
        node.get_attr_tvec("kernel_shape")?,
        padding(node, true)?,
        node.get_attr_opt_tvec("dilations")?,
        node.get_attr_opt_tvec("strides")?,
        0,
        0,
    );
    Ok((expand(cnn::HirMaxPool::new(pool_spec, None)), vec![]))
}

fn flatten(_: &ParsingContext, node: &NodeProto) -> Built {
    let axis: i64 = node.get_attr_opt("axis")?.unwrap_or(1);
    Ok((expand(ops::array::Flatten::new(axis)), vec![]))
}

fn softmax(ctx: &ParsingContext, node: &NodeProto) -> Built {
    let axis = node.get_attr_opt("axis")?;
    if ctx.onnx_operator_set_version < 13 {
        bail!(
            "{}: Softmax before opset 13 (this file: {}) is not supported",
            node.name,
            ctx.onnx_operator_set_version
        );
    }
    Ok((expand(nn::Softmax::new(axis.unwrap_or(-1))), vec![]))
}
